"""Message classes by their graph type names (``pkg/msg/Type``), without importing rclpy."""

from __future__ import annotations

import importlib

from sbamti.errors import SbamtiError


class MessageTypeError(SbamtiError, ValueError):
    """A type name that is malformed or names a message class that cannot be imported."""


def import_message_class(name: str) -> type:
    """The Python class of ``pkg/msg/Type`` (or ``pkg/Type``), as reported by the graph.

    Raises ``MessageTypeError`` with the module that failed when the package is not importable.
    """
    parts = name.split("/")
    if len(parts) == 2:
        parts = [parts[0], "msg", parts[1]]
    if len(parts) != 3 or not all(parts):
        raise MessageTypeError(f"malformed message type {name!r}: expected 'pkg/msg/Type'")
    package, kind, cls_name = parts
    module_name = f"{package}.{kind}"
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MessageTypeError(f"cannot import message type {name}: module {module_name} is not installed "
                               f"in this Python environment ({exc})") from None
    cls = getattr(module, cls_name, None)
    if cls is None or not hasattr(cls, "get_fields_and_field_types"):
        raise MessageTypeError(f"cannot import message type {name}: {module_name} has no message {cls_name}")
    return cls
