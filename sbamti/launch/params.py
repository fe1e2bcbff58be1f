"""Node parameters in launch files: typed values, nested groups, and user parameter files.

A value written as a YAML scalar keeps its YAML type. A string with substitutions is evaluated and
then read as YAML, so ``value: $(var rate)`` with ``rate:=2`` becomes the float 2.0, as ROS 2
launch does. Lists must be homogeneous (a ROS parameter array has one element type).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from sbamti.launch.model import LaunchFileError
from sbamti.launch.substitutions import has_substitutions

_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
Scalar = (bool, int, float, str)


def check_param_name(name: str) -> str:
    if not _PARAM_NAME.match(name):
        raise LaunchFileError(f"invalid parameter name {name!r} (dot-separated segments of letters, digits and '_')")
    return name


def typed_value(raw: Any, evaluate: Callable[[str], str], name: str) -> Any:
    """The parameter value of a YAML value (see the module docstring)."""
    if isinstance(raw, list):
        return _homogeneous([typed_value(element, evaluate, name) for element in raw], name)
    if isinstance(raw, str):
        if not has_substitutions(raw):
            return raw
        text = evaluate(raw)
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError:
            return text
        if isinstance(loaded, Scalar):
            return loaded
        if isinstance(loaded, list) and loaded and all(isinstance(v, Scalar) for v in loaded):
            return _homogeneous(loaded, name)
        return text
    if isinstance(raw, Scalar):
        return raw
    raise LaunchFileError(f"parameter {name!r}: unsupported value {raw!r}")


def _kind(value: Any) -> type:
    return bool if isinstance(value, bool) else type(value)


def _homogeneous(values: list[Any], name: str) -> list[Any]:
    kinds = {_kind(v) for v in values}
    if kinds == {int, float}:
        return [float(v) for v in values]
    if len(kinds) > 1:
        names = ", ".join(sorted(k.__name__ for k in kinds))
        raise LaunchFileError(f"parameter {name!r}: a list must hold one type, got {names} in {values!r}")
    return values


def check_param_file(path: Path) -> Path:
    """``path`` must exist and be a ROS parameter file: ``<node>: ros__parameters: {...}``."""
    if not path.is_file():
        raise LaunchFileError(f"parameter file not found: {path}")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.MarkedYAMLError as exc:
        line = f" at line {exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise LaunchFileError(f"parameter file {path}: YAML syntax error{line}: {exc.problem}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise LaunchFileError(f"parameter file {path}: cannot read it ({exc})") from None
    expected = "expected '<node name or /**>:' then 'ros__parameters:' holding the values"
    if not isinstance(document, dict) or not document:
        raise LaunchFileError(f"parameter file {path} is not a ROS parameter file: {expected}")
    for key, value in document.items():
        if not _has_ros_parameters(value):
            raise LaunchFileError(f"parameter file {path} is not a ROS parameter file: top-level key {key!r} "
                                  f"has no 'ros__parameters' mapping ({expected})")
    return path


def _has_ros_parameters(value: Any, depth: int = 0) -> bool:
    """A node entry, possibly under namespace keys (``ns: node: ros__parameters: ...``)."""
    if not isinstance(value, dict) or depth > 16:
        return False
    if "ros__parameters" in value:
        return isinstance(value["ros__parameters"], dict)
    return bool(value) and all(_has_ros_parameters(v, depth + 1) for v in value.values())
