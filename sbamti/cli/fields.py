"""Messages as YAML-like text, field paths, and message classes from type names. No rclpy import.

``message_to_data`` turns a generated ROS 2 message into plain Python data (dicts in field order,
lists, scalars). Sequences longer than ``array_limit`` keep their first ``array_limit`` elements and
end with the marker string ``'...'``; numeric arrays (``array.array`` for ``T[]``, ``numpy.ndarray``
for ``T[N]``) are sliced before conversion, so a 2 MB data cube costs a slice, not a Python loop.
``to_yaml`` prints that data the way ``ros2 topic echo`` does (block mappings, sequences of messages
as ``- `` items at the key's indentation), except that sequences of scalars are written inline
(``[1.0, 2.0, 3.0]``). ``resolve_field`` follows a dotted path (``header.stamp.sec``,
``tracks.0.position_ecef`` or ``tracks[0]``) and ``check_field_path`` validates one against a
message class before any message arrives; both raise ``FieldPathError`` naming the bad segment and
the fields that exist.
"""

from __future__ import annotations

import array
import json
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from rosidl_parser import definition as idl

from sbamti.errors import SbamtiError
from sbamti.ros.msgtypes import MessageTypeError, import_message_class  # noqa: F401 (re-exported)

DEFAULT_ARRAY_LIMIT = 64
TRUNCATION_MARKER = "..."


class FieldPathError(SbamtiError, ValueError):
    """A field path that does not fit the message (unknown field, bad index, path into a scalar)."""



# -- message classes ------------------------------------------------------------------------------
def is_message(value: Any) -> bool:
    """True for an instance of a rosidl-generated message class."""
    return hasattr(type(value), "get_fields_and_field_types") and hasattr(type(value), "SLOT_TYPES")


def type_name(message_or_class: Any) -> str:
    """``pkg/msg/Type`` of a message instance or class (``rosgraph_msgs/msg/Clock``)."""
    cls = message_or_class if isinstance(message_or_class, type) else type(message_or_class)
    parts = cls.__module__.split(".")
    return f"{parts[0]}/{parts[1] if len(parts) > 2 else 'msg'}/{cls.__name__}"


def field_names(message_or_class: Any) -> list[str]:
    """Field names of a message instance or class, in definition order."""
    return list(message_or_class.get_fields_and_field_types())


# -- message -> plain data ------------------------------------------------------------------------
def message_to_data(msg: Any, array_limit: int | None = DEFAULT_ARRAY_LIMIT) -> Any:
    """Plain Python data for ``msg`` (a message, sequence or scalar) with sequences truncated.

    ``array_limit=None`` keeps every element.
    """
    if is_message(msg):
        return {name: message_to_data(getattr(msg, name), array_limit) for name in field_names(msg)}
    if isinstance(msg, (array.array, np.ndarray, list, tuple)):
        return _sequence_to_data(msg, array_limit)
    if isinstance(msg, (bytes, bytearray)):  # rosidl 'byte' / 'octet': one bytes object per value
        return int.from_bytes(msg, "little") if len(msg) == 1 else list(msg)
    if isinstance(msg, np.generic):
        return msg.item()
    return msg


def _sequence_to_data(values: Any, array_limit: int | None) -> list:
    truncated = array_limit is not None and len(values) > array_limit
    head = values[:array_limit] if truncated else values
    if isinstance(head, (array.array, np.ndarray)):
        items = head.tolist()  # one C-level conversion of the (already sliced) buffer
    else:
        items = [message_to_data(item, array_limit) for item in head]
    if truncated:
        items.append(TRUNCATION_MARKER)
    return items


# -- plain data -> YAML-like text -----------------------------------------------------------------
_PLAIN_UNSAFE_START = set("-?:,[]{}#&*!|>'\"%@` ")
_YAML_SPECIAL_WORDS = {"", "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "...", "---"}
_NUMBER_LIKE = re.compile(r"^[-+]?(\.?[0-9]|\.(inf|nan)$)", re.IGNORECASE)  # would read back as a number


def format_scalar(value: Any) -> str:
    """One scalar as YAML: ``true``, ``42``, ``1.5``, ``1.0e-06``, ``.nan``, ``plain`` or ``'quoted'``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text:  # YAML 1.1 floats need a dot in the mantissa
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if value is None:
        return "null"
    return _format_string(str(value))


def _format_string(text: str) -> str:
    if any(not ch.isprintable() for ch in text):
        return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar
    needs_quotes = (text.lower() in _YAML_SPECIAL_WORDS or text[0] in _PLAIN_UNSAFE_START or text[-1] == " "
                    or _NUMBER_LIKE.match(text) is not None or ": " in text or " #" in text or text.endswith(":")
                    or any(ch in text for ch in ",[]{}"))
    return "'" + text.replace("'", "''") + "'" if needs_quotes else text


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(item) for item in value) + "]"
    return format_scalar(value)


def _is_block_sequence(value: Any) -> bool:
    return isinstance(value, list) and any(isinstance(item, dict) for item in value)


def _mapping_lines(mapping: dict, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            lines.append(f"{pad}{key}:")
            lines.extend(_mapping_lines(value, indent + 2))
        elif _is_block_sequence(value):
            lines.append(f"{pad}{key}:")
            lines.extend(_sequence_lines(value, indent))
        else:
            lines.append(f"{pad}{key}: {_flow(value)}")
    return lines


def _sequence_lines(items: list, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for item in items:
        if isinstance(item, dict) and item:
            sub = _mapping_lines(item, indent + 2)
            sub[0] = f"{pad}- {sub[0][indent + 2:]}"
            lines.extend(sub)
        else:
            lines.append(f"{pad}- {_flow(item)}")
    return lines


def to_yaml(data: Any, flow_style: bool = False) -> str:
    """YAML-like text of ``message_to_data`` output (no trailing newline).

    Block style nests mappings by two spaces and writes sequences of messages as ``- `` items;
    sequences of scalars stay on one line. ``flow_style`` writes everything on one line.
    """
    if flow_style:
        return _flow(data)
    if isinstance(data, dict) and data:
        return "\n".join(_mapping_lines(data, 0))
    if _is_block_sequence(data):
        return "\n".join(_sequence_lines(data, 0))
    return _flow(data)


def format_message(msg: Any, array_limit: int | None = DEFAULT_ARRAY_LIMIT, flow_style: bool = False) -> str:
    """``msg`` (message, sequence or scalar) as YAML-like text, long sequences truncated."""
    return to_yaml(message_to_data(msg, array_limit), flow_style=flow_style)


# -- field paths ----------------------------------------------------------------------------------
def split_field_path(path: str) -> list[str]:
    """``'tracks[0].position_ecef'`` -> ``['tracks', '0', 'position_ecef']``; rejects empty segments."""
    normalised = re.sub(r"\[(-?\d+)\]", r".\1", path.strip())
    segments = normalised.split(".")
    if not path.strip() or any(not s for s in segments):
        raise FieldPathError(f"malformed field path {path!r}: expected names separated by dots, e.g. header.stamp.sec")
    return segments


def _is_index(segment: str) -> bool:
    return re.fullmatch(r"-?\d+", segment) is not None


def _where(segments: Sequence[str], i: int) -> str:
    return ".".join(segments[:i]) or "the message"


def _unknown_field(segments: Sequence[str], i: int, cls: Any) -> FieldPathError:
    return FieldPathError(
        f"unknown field {segments[i]!r} in field path '{'.'.join(segments)}': {_where(segments, i)} "
        f"({type_name(cls)}) has fields: {', '.join(field_names(cls))}")


def resolve_field(msg: Any, path: str | Sequence[str]) -> Any:
    """The value at ``path`` in ``msg``: message fields by name, sequence elements by integer index."""
    segments = split_field_path(path) if isinstance(path, str) else list(path)
    value = msg
    for i, segment in enumerate(segments):
        if is_message(value):
            if segment not in value.get_fields_and_field_types():
                raise _unknown_field(segments, i, value)
            value = getattr(value, segment)
        elif isinstance(value, (array.array, np.ndarray, list, tuple)):
            if not _is_index(segment):
                raise FieldPathError(f"{_where(segments, i)} is a sequence in field path '{'.'.join(segments)}': "
                                     f"expected an element index, got {segment!r}")
            index = int(segment)
            if not -len(value) <= index < len(value):
                raise FieldPathError(f"index {index} out of range for {_where(segments, i)} (length {len(value)})")
            value = value[index]
        else:
            raise FieldPathError(f"{_where(segments, i)} is a {type(value).__name__} with no fields; "
                                 f"cannot look up {segment!r} in field path '{'.'.join(segments)}'")
    return value


def check_field_path(msg_class: type, path: str) -> list[str]:
    """Validate ``path`` against the definition of ``msg_class``; return its segments.

    Element indices are checked for form only (lengths are known only per message).
    """
    segments = split_field_path(path)
    current: Any = msg_class
    for i, segment in enumerate(segments):
        if isinstance(current, idl.AbstractNestedType):  # Array, bounded or unbounded sequence
            if not _is_index(segment):
                raise FieldPathError(f"{_where(segments, i)} is a sequence in field path '{path}': "
                                     f"expected an element index, got {segment!r}")
            if isinstance(current, idl.Array) and not -current.size <= int(segment) < current.size:
                raise FieldPathError(f"index {segment} out of range for {_where(segments, i)} (length {current.size})")
            current = current.value_type
        elif isinstance(current, idl.NamespacedType) or isinstance(current, type):
            cls = current if isinstance(current, type) else import_message_class("/".join(
                [*current.namespaces, current.name]))
            fields = cls.get_fields_and_field_types()
            if segment not in fields:
                raise _unknown_field(segments, i, cls)
            current = cls.SLOT_TYPES[list(fields).index(segment)]
        else:
            kind = getattr(current, "typename", type(current).__name__)
            raise FieldPathError(f"{_where(segments, i)} is a {kind} with no fields; "
                                 f"cannot look up {segment!r} in field path '{path}'")
    return segments
