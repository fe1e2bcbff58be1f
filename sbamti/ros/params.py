"""One declaration per node parameter: name, default, units, bounds, and validation.

A node lists its parameters once as ``ParamSpec`` rows; ``declare_and_read`` declares them on the
rclpy node (description, range, read-only) and returns the validated values. A value out of range or
of the wrong type raises ``ConfigurationError`` naming the parameter, the value and the valid range.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node

from sbamti.errors import ConfigurationError


@dataclass(frozen=True)
class ParamSpec:
    """A node parameter. ``description`` states the unit; bounds are inclusive."""

    name: str
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    read_only: bool = False
    check: Callable[[Any], Any] | None = None  # returns the parsed value or raises ConfigurationError

    def descriptor(self) -> ParameterDescriptor:
        desc = ParameterDescriptor(name=self.name, description=self.description, read_only=self.read_only)
        # Let `rate: 0` in a YAML file mean 0.0: integers are accepted for float parameters and
        # converted (and range-checked) in declare_and_read.
        # Likewise a list parameter may arrive as integers (catalog numbers): ``check`` converts it.
        desc.dynamic_typing = isinstance(self.default, (float, list))
        if self.minimum is not None or self.maximum is not None:
            lo = self.minimum if self.minimum is not None else -1e300
            hi = self.maximum if self.maximum is not None else 1e300
            if isinstance(self.default, bool):
                pass
            elif isinstance(self.default, int):
                desc.integer_range = [IntegerRange(from_value=int(max(lo, -2**63)), to_value=int(min(hi, 2**63 - 1)), step=0)]
            elif isinstance(self.default, float):
                desc.floating_point_range = [FloatingPointRange(from_value=float(lo), to_value=float(hi), step=0.0)]
        return desc


def _bounds_text(spec: ParamSpec) -> str:
    lo = "-inf" if spec.minimum is None else repr(spec.minimum)
    hi = "inf" if spec.maximum is None else repr(spec.maximum)
    return f"[{lo}, {hi}]"


def declare_and_read(node: Node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare ``specs`` on ``node`` and return {name: validated value}.

    Raises ``ConfigurationError`` for the first invalid value, naming parameter, value and range.
    """
    values: dict[str, Any] = {}
    for spec in specs:
        try:
            param = node.declare_parameter(spec.name, spec.default, spec.descriptor())
        except InvalidParameterValueException as exc:
            raise ConfigurationError(
                f"parameter '{spec.name}': value out of range {_bounds_text(spec)} ({exc})") from None
        except InvalidParameterTypeException as exc:
            raise ConfigurationError(
                f"parameter '{spec.name}': expected {type(spec.default).__name__} like {spec.default!r} ({exc})") from None
        value = param.value
        if isinstance(spec.default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
                raise ConfigurationError(
                    f"parameter '{spec.name}': {value!r} is outside the valid range {_bounds_text(spec)}")
        if spec.check is not None:
            value = spec.check(value)
        values[spec.name] = value
    return values
