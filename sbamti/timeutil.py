"""UTC epochs as used on sbamti's sim clock (pure: no ROS imports).

Sim time is UTC: a ROS time of (sec, nanosec) is that many seconds since 1970-01-01T00:00:00Z,
so SGP4 and Earth rotation can use real dates. Integer nanoseconds avoid float rounding.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from sbamti.errors import ConfigurationError

NANOSECONDS_PER_SECOND = 1_000_000_000

_ISO_UTC = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<hms>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]00:?00)$"
)


def parse_utc_epoch_ns(text: str, field: str = "start_epoch") -> int:
    """Nanoseconds since the Unix epoch for an ISO-8601 UTC time such as ``2028-01-01T00:00:00Z``.

    Only UTC is accepted (suffix ``Z`` or ``+00:00``): sim time is UTC by convention, and a local
    offset here is almost always a mistake. Fractions keep up to nanosecond precision.
    Raises ``ConfigurationError`` naming ``field`` and the value when the text is not such a time.
    """
    match = _ISO_UTC.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise ConfigurationError(
            f"{field}: {text!r} is not an ISO-8601 UTC time; expected e.g. '2028-01-01T00:00:00Z'")
    try:
        whole = datetime.strptime(f"{match['date']}T{match['hms']}", "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError as exc:
        raise ConfigurationError(f"{field}: {text!r} is not a valid date/time ({exc})") from None
    seconds = int(whole.timestamp())
    if seconds < 0:
        raise ConfigurationError(f"{field}: {text!r} is before 1970-01-01T00:00:00Z, which ROS time cannot hold")
    frac_ns = int((match["frac"] or "0").ljust(9, "0"))
    return seconds * NANOSECONDS_PER_SECOND + frac_ns


def format_utc_epoch_ns(epoch_ns: int) -> str:
    """ISO-8601 UTC text (nanosecond fraction trimmed of trailing zeros) for ``epoch_ns``."""
    seconds, nanos = divmod(int(epoch_ns), NANOSECONDS_PER_SECOND)
    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    return text + "Z"


def stamp_ns(stamp) -> int:
    """UTC ns of a ROS time (anything with ``sec`` and ``nanosec``), the inverse of ``split_ns``."""
    return stamp.sec * NANOSECONDS_PER_SECOND + stamp.nanosec


def split_ns(epoch_ns: int) -> tuple[int, int]:
    """(sec, nanosec) of a ROS time for ``epoch_ns``."""
    return divmod(int(epoch_ns), NANOSECONDS_PER_SECOND)
