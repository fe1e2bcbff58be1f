"""Message-rate statistics for ``sbamti topic hz``, from arrival times. No rclpy import.

The rate is the number of periods in the window over the time they span (so jitter between
consecutive arrivals does not bias it); min, max and the population standard deviation describe the
individual periods.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RateStatistics:
    """Statistics of the arrival periods in one window.

    rate_hz: messages per second (1 / mean period); min_s, max_s, std_s: period extremes and
    population standard deviation (s); window: number of messages the statistics cover.
    """

    rate_hz: float
    min_s: float
    max_s: float
    std_s: float
    window: int

    def format(self) -> str:
        """The report printed once per second (the layout ``ros2 topic hz`` users know)."""
        return (f"average rate: {self.rate_hz:.3f}\n"
                f"\tmin: {self.min_s:.3f}s max: {self.max_s:.3f}s std dev: {self.std_s:.5f}s window: {self.window}")


def rate_statistics(stamps_s: Iterable[float]) -> RateStatistics | None:
    """Statistics of arrival times ``stamps_s`` (seconds, non-decreasing); None with fewer than two,
    or when they span no time (a burst delivered at once has no measurable rate)."""
    stamps = np.fromiter(stamps_s, dtype=np.float64)
    if stamps.size < 2:
        return None
    periods = np.diff(stamps)
    span = float(stamps[-1] - stamps[0])
    if span <= 0.0:
        return None
    return RateStatistics(rate_hz=periods.size / span, min_s=float(periods.min()), max_s=float(periods.max()),
                          std_s=float(periods.std()), window=int(stamps.size))


class RateWindow:
    """A sliding window of the last ``size`` arrival times, and whether any arrived since the last report."""

    def __init__(self, size: int) -> None:
        if size < 2:
            raise ValueError(f"window must hold at least 2 messages, got {size}")
        self._stamps: deque[float] = deque(maxlen=size)
        self.received = 0
        self._reported = 0

    def add(self, stamp_s: float) -> None:
        self._stamps.append(stamp_s)
        self.received += 1

    @property
    def has_new(self) -> bool:
        """True when messages arrived since the last ``report``."""
        return self.received != self._reported

    def report(self) -> RateStatistics | None:
        """Statistics of the window (None until it spans two arrivals); marks the arrivals as reported."""
        self._reported = self.received
        return rate_statistics(self._stamps)
