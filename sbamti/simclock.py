"""Sim-time schedule of the sim_clock node (pure: no ROS imports).

Sim time is UTC nanoseconds. At ``rate`` > 0 it is ``start + rate * wall_elapsed``, computed from the
elapsed wall time (not accumulated per tick, so it never drifts however the ticks jitter). At
``rate`` == 0 it advances by a fixed ``step_ns`` per tick, as fast as the ticks come.
"""

from __future__ import annotations

from dataclasses import dataclass

from sbamti.errors import ConfigurationError
from sbamti.timeutil import NANOSECONDS_PER_SECOND


@dataclass
class SimClockSchedule:
    """Maps wall-clock progress to sim time.

    Parameters
    ----------
    start_ns : sim time of the first tick, UTC ns since 1970.
    rate : multiple of real time; 0 means step-per-tick (as fast as possible).
    step_ns : sim-time advance per tick when ``rate`` == 0.
    duration_ns : sim time after which the clock stops (0 = never). The last tick is exactly
        ``start_ns + duration_ns``.
    """

    start_ns: int
    rate: float
    step_ns: int
    duration_ns: int = 0

    def __post_init__(self) -> None:
        if self.rate < 0 or self.rate != self.rate:
            raise ConfigurationError(f"rate: {self.rate!r} must be >= 0 (0 = as fast as possible)")
        if self.rate == 0 and self.step_ns <= 0:
            raise ConfigurationError(f"step_s: {self.step_ns / 1e9!r} must be > 0 when rate is 0")
        if self.duration_ns < 0:
            raise ConfigurationError(f"duration_s: {self.duration_ns / 1e9!r} must be >= 0 (0 = run forever)")
        self._ticks = 0

    @property
    def end_ns(self) -> int | None:
        return self.start_ns + self.duration_ns if self.duration_ns else None

    def time_at(self, wall_elapsed_s: float) -> tuple[int, bool]:
        """Sim time for the next tick and whether it is the last one.

        ``wall_elapsed_s`` is wall time since the first tick (used when ``rate`` > 0).
        """
        if self.rate > 0:
            now = self.start_ns + int(round(self.rate * wall_elapsed_s * NANOSECONDS_PER_SECOND))
        else:
            now = self.start_ns + self._ticks * self.step_ns
        self._ticks += 1
        end = self.end_ns
        if end is not None and now >= end:
            return end, True
        return now, False
