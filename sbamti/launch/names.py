"""ROS naming rules for node names and namespaces, and how pushed namespaces combine."""

from __future__ import annotations

import re

from sbamti.launch.model import LaunchFileError

_SEGMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RULE = "letters, digits and '_', not starting with a digit"


def check_node_name(name: str) -> str:
    """A node name is one segment."""
    if not _SEGMENT.match(name):
        raise LaunchFileError(f"invalid node name {name!r}: a node name is one segment of {RULE}")
    return name


def _check_segments(namespace: str, what: str) -> None:
    body = namespace.strip("/")
    if not body:
        return
    if "//" in namespace:
        raise LaunchFileError(f"invalid {what} {namespace!r}: empty segment ('//')")
    for segment in body.split("/"):
        if not _SEGMENT.match(segment):
            raise LaunchFileError(f"invalid {what} {namespace!r}: segment {segment!r} must be {RULE}")


def push_namespace(base: str, namespace: str, what: str = "namespace") -> str:
    """``base`` with ``namespace`` pushed: an absolute one replaces it, a relative one is appended."""
    namespace = namespace.strip()
    _check_segments(namespace, what)
    if namespace.startswith("/"):
        result = namespace
    elif not namespace:
        result = base
    else:
        result = f"{base.rstrip('/')}/{namespace}"
    result = "/" + result.strip("/")
    return result
