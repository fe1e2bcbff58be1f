"""Two-part Julian dates from the sim clock's UTC nanoseconds (pure: numpy only).

A single float64 Julian date near 2.46e6 days resolves only ~40 microseconds; the Earth turns
~2 cm at the equator in that time, and a LEO satellite moves ~30 cm. Julian dates here are
therefore always a pair ``(jd, fr)``: ``jd`` holds the whole days (a value ending in .5, i.e. a
UTC midnight, exactly representable) and ``fr`` the fraction of the day in ``[0, 1)``, resolved
to ~1e-16 day (~10 ps). This is the convention of sgp4's ``Satrec.sgp4(jd, fr)`` and ERFA's
two-part dates, so the pair can be handed to either unchanged.

Sim time is POSIX UTC (every day has 86,400 s; leap seconds are not counted), so the JD(UTC)
of a sim time is ``2440587.5 + ns / 86400e9`` exactly (the convention of IERS/SOFA "quasi-JD"
UTC on days without a leap second).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from sbamti.errors import ConfigurationError

JD_UNIX_EPOCH = 2440587.5
"""Julian date of 1970-01-01T00:00:00Z."""

NANOSECONDS_PER_DAY = 86_400 * 1_000_000_000
SECONDS_PER_DAY = 86_400.0


def utc_ns_to_jd_split(utc_ns: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-part Julian date ``(jd, fr)`` of UTC nanoseconds since 1970, without a float64 JD.

    Parameters
    ----------
    utc_ns : int or integer array, any shape
        UTC (POSIX) nanoseconds since 1970-01-01T00:00:00Z, as on the sim clock. Python ints and
        numpy integer arrays are accepted; floats are refused because a float64 near 1.8e18 ns
        has a spacing of 256 ns.

    Returns
    -------
    jd : ndarray, float64, same shape
        ``2440587.5 + whole days``: the Julian date of the preceding UTC midnight (exact).
    fr : ndarray, float64, same shape
        Remaining nanoseconds / 86400e9, in ``[0, 1)``; correctly rounded, so one nanosecond
        changes it by 1/86400e9 to within float64 spacing (~1.1e-16).

    Examples
    --------
    >>> utc_ns_to_jd_split(946_728_000 * 10**9)        # 2000-01-01T12:00:00Z
    (array(2451544.5), array(0.5))
    """
    ns = _as_integer_ns(utc_ns)
    days, rem = np.divmod(ns, NANOSECONDS_PER_DAY)        # floor division: rem in [0, 86400e9)
    jd = JD_UNIX_EPOCH + days.astype(np.float64)           # |days| < 2**53: exact
    fr = rem.astype(np.float64) / float(NANOSECONDS_PER_DAY)   # rem < 2**47: exact before dividing
    return np.asarray(jd), np.asarray(fr)


def jd_split_add_seconds(jd: ArrayLike, fr: ArrayLike, seconds: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(jd, fr)`` moved by ``seconds`` (any sign), renormalised so ``fr`` stays in ``[0, 1)``.

    Whole days are carried into ``jd``; inputs broadcast together. Used to turn JD(UTC) into
    JD(UT1) with ``seconds = UT1 - UTC``.
    """
    jd = np.asarray(jd, dtype=np.float64)
    fr = np.asarray(fr, dtype=np.float64) + np.asarray(seconds, dtype=np.float64) / SECONDS_PER_DAY
    carry = np.floor(fr)
    jd = jd + carry
    fr = fr - carry
    # fr - floor(fr) can round up to exactly 1.0 when fr is a tiny negative number.
    wrap = fr >= 1.0
    if np.any(wrap):
        jd = np.where(wrap, jd + 1.0, jd)
        fr = np.where(wrap, 0.0, fr)
    return jd, fr


def _as_integer_ns(utc_ns) -> np.ndarray:
    if isinstance(utc_ns, (bool, np.bool_)):
        raise ConfigurationError(f"utc_ns: expected integer nanoseconds, received {utc_ns!r}")
    if isinstance(utc_ns, int):
        if not -2**63 <= utc_ns < 2**63:
            raise ConfigurationError(f"utc_ns: {utc_ns} does not fit int64 nanoseconds")
        return np.asarray(utc_ns, dtype=np.int64)
    arr = np.asarray(utc_ns)
    if arr.dtype.kind not in "iu":
        raise ConfigurationError(
            f"utc_ns: expected integer nanoseconds (int or int64 array), received dtype {arr.dtype}; "
            "a float64 nanosecond count near 2028 has a spacing of 256 ns")
    if arr.dtype.kind == "u" and arr.size and arr.max() >= 2**63:
        raise ConfigurationError("utc_ns: value does not fit int64 nanoseconds")
    return arr.astype(np.int64, copy=False)
