"""When the link is up: predicted ground-station contact windows, and a token-bucket rate limit.

Both run on the node's clock (sim time, UTC ns), so a SIL run at any speed sends the same bytes in
the same windows. Pure: no ROS imports.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from sbamti.link.errors import LinkError


@dataclass(frozen=True)
class ContactWindow:
    """One predicted pass: acquisition and loss of signal (UTC ns) over ``station``."""

    aos_ns: int
    los_ns: int
    station: str


@dataclass(frozen=True)
class LinkAvailability:
    """The link at one instant: in contact (with which station) and the next acquisition."""

    in_contact: bool
    station: str
    next_aos_ns: int  # 0 when unknown or in contact


class ContactSchedule:
    """Predicted contact windows of one satellite; the latest prediction replaces earlier ones.

    A prediction covers ``[made_ns, horizon_end_ns]``; times past the horizon count as no contact
    (the onboard store keeps the data) until a newer prediction arrives.
    """

    def __init__(self) -> None:
        self._windows: list[ContactWindow] = []
        self._aos: list[int] = []

    def update(self, windows: list[ContactWindow]) -> None:
        """Replace the schedule with ``windows`` (any order; each must have ``los_ns >= aos_ns``)."""
        for w in windows:
            if w.los_ns < w.aos_ns:
                raise LinkError(f"contact window over {w.station!r}: los {w.los_ns} ns is before aos {w.aos_ns} ns")
        self._windows = sorted(windows, key=lambda w: w.aos_ns)
        self._aos = [w.aos_ns for w in self._windows]

    @property
    def windows(self) -> list[ContactWindow]:
        return list(self._windows)

    def at(self, now_ns: int) -> LinkAvailability:
        """Whether ``now_ns`` lies in a window (aos <= now <= los) and when the next one starts."""
        i = bisect.bisect_right(self._aos, now_ns)
        # Windows of different stations may overlap: look back over every window that started already.
        for w in reversed(self._windows[:i]):
            if w.los_ns >= now_ns:
                return LinkAvailability(True, w.station, 0)
            if now_ns - w.aos_ns > 86_400 * 10**9:   # passes last minutes; a day back is far enough
                break
        next_aos = self._aos[i] if i < len(self._aos) else 0
        return LinkAvailability(False, "", next_aos)


class TokenBucket:
    """A rate limit of ``rate_bps`` bits per second of the node's clock, with a burst of ``burst_bytes``.

    ``rate_bps == 0`` means unlimited. Tokens accrue with clock time (sim time in a SIL run), so the
    limit is the link's, whatever the replay speed.
    """

    def __init__(self, rate_bps: float, burst_bytes: int) -> None:
        if rate_bps < 0:
            raise LinkError(f"link_rate_bps: {rate_bps} must be >= 0 (0 = unlimited)")
        if burst_bytes <= 0:
            raise LinkError(f"burst_bytes: {burst_bytes} must be > 0")
        self.rate_bps = float(rate_bps)
        self.burst_bytes = int(burst_bytes)
        self._tokens = float(burst_bytes)
        self._last_ns: int | None = None

    def available(self, now_ns: int) -> int:
        """Bytes that may be sent at ``now_ns`` (refills from the last call; time going back refills nothing)."""
        if self.rate_bps == 0:
            return 1 << 62
        if self._last_ns is not None and now_ns > self._last_ns:
            self._tokens = min(self.burst_bytes, self._tokens + (now_ns - self._last_ns) * 1e-9 * self.rate_bps / 8.0)
        if self._last_ns is None or now_ns > self._last_ns:
            self._last_ns = now_ns
        return max(0, int(self._tokens))

    def consume(self, nbytes: int) -> None:
        """Spend ``nbytes`` (may go negative by one packet: a frame is never split for the limit)."""
        if self.rate_bps:
            self._tokens -= nbytes
