"""Earth orientation parameters (UT1-UTC, polar motion, LOD) from IERS finals2000A tables.

Pure: numpy only; the bundled table is located on disk without importing astropy.

File format (IERS/USNO ``finals2000A.all``, ``.data``, ``.daily``; fixed-width, one row per UTC
day, columns 1-based and inclusive, per the ``ReadMe.finals2000A`` that ships with it):

=======  ======  ======  ===========================================================
columns  format  unit    field
=======  ======  ======  ===========================================================
1-2      I2              year (1900 + yy for MJD <= 51543, else 2000 + yy)
3-4      I2              month
5-6      I2              day
8-15     F8.2    d       MJD (UTC), always a whole day
17       A1              polar-motion flag, Bulletin A: I (IERS) or P (prediction)
19-27    F9.6    arcsec  PM-x, Bulletin A
38-46    F9.6    arcsec  PM-y, Bulletin A
58       A1              UT1-UTC flag, Bulletin A: I or P
59-68    F10.7   s       UT1-UTC, Bulletin A
80-86    F7.4    ms      LOD, Bulletin A (not always filled)
135-144  F10.6   arcsec  PM-x, Bulletin B
145-154  F10.6   arcsec  PM-y, Bulletin B
155-165  F11.7   s       UT1-UTC, Bulletin B
=======  ======  ======  ===========================================================

Choice of columns: the Bulletin B (final, IERS EOP C04-based) values where the row has them,
else Bulletin A (rapid service, then predictions). B is the better estimate where both exist
(they differ by ~0.1 mas, i.e. < 1 cm at LEO), and it is also what astropy's ``IERS_A`` table
uses, which keeps the two comparable. LOD exists only in Bulletin A; rows without it get 0 (the
LOD only scales Earth's rotation rate for velocities: 1 ms of LOD is 6 micrometres/s at LEO).

Rows that hold only the date and MJD (the file's unfilled future days) end the table; they may
only follow the filled rows. Interpolation is linear in MJD(UTC) between daily rows, like
astropy and TEMPO. Across a leap second UT1-UTC jumps by +1 s between two rows: the jump is
removed before interpolating and the later row's value applies from its midnight on (POSIX sim
time cannot name the leap second itself).
"""

from __future__ import annotations

import datetime
import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sbamti.errors import ConfigurationError
from sbamti.geo.timescales import _as_integer_ns
from sbamti.timeutil import format_utc_epoch_ns

ARCSEC_TO_RAD = np.pi / (180.0 * 3600.0)
MJD_UNIX_EPOCH = 40587
"""MJD of 1970-01-01 (UTC)."""
_NS_PER_DAY = 86_400 * 1_000_000_000
_MJD_ZERO = datetime.date(1858, 11, 17)

# (label, first column, last column), 1-based inclusive as in the ReadMe.
_YEAR, _MONTH, _DAY = ("year", 1, 2), ("month", 3, 4), ("day", 5, 6)
_MJD = ("MJD", 8, 15)
_PMX_A, _PMY_A, _UT1_A, _LOD_A = ("PM_x_A", 19, 27), ("PM_y_A", 38, 46), ("UT1_UTC_A", 59, 68), ("LOD_A", 80, 86)
_PMX_B, _PMY_B, _UT1_B = ("PM_X_B", 135, 144), ("PM_Y_B", 145, 154), ("UT1_UTC_B", 155, 165)


@dataclass(frozen=True, eq=False)
class EarthOrientation:
    """Earth orientation parameters at some UTC times (arrays of one shape).

    Attributes
    ----------
    ut1_minus_utc_s : UT1 - UTC, s.
    xp_rad, yp_rad : pole coordinates x_p, y_p of the CIP in the ITRS, rad (IERS sign convention:
        y_p is positive towards 90 deg W).
    lod_s : excess length of day, s (0 where unknown).
    """

    ut1_minus_utc_s: np.ndarray
    xp_rad: np.ndarray
    yp_rad: np.ndarray
    lod_s: np.ndarray

    @classmethod
    def zeros(cls, shape=()) -> "EarthOrientation":
        """All parameters zero: UT1 = UTC, no polar motion, nominal day length."""
        return cls(np.zeros(shape), np.zeros(shape), np.zeros(shape), np.zeros(shape))


ZERO = EarthOrientation.zeros()
"""Scalar all-zero EarthOrientation (broadcasts with any times); same result as ``eop=None``."""


class EarthOrientationTable:
    """Daily Earth orientation parameters from an IERS finals2000A file, linearly interpolated.

    Build with :meth:`from_finals` or :meth:`bundled`, then call :meth:`at` with sim times.
    """

    ZERO = ZERO

    def __init__(self, mjd: np.ndarray, ut1_minus_utc_s: np.ndarray, xp_rad: np.ndarray,
                 yp_rad: np.ndarray, lod_s: np.ndarray, source: str = "<arrays>"):
        """Table from daily rows: ``mjd`` strictly increasing whole days (UTC); angles in rad."""
        arrays = [np.array(a, dtype=np.float64) for a in (mjd, ut1_minus_utc_s, xp_rad, yp_rad, lod_s)]
        if arrays[0].ndim != 1 or arrays[0].size < 2 or any(a.shape != arrays[0].shape for a in arrays):
            raise ConfigurationError(
                f"{source}: Earth orientation table needs at least 2 rows of equal-length 1-D arrays, "
                f"received shapes {[a.shape for a in arrays]}")
        if not np.all(np.diff(arrays[0]) > 0) or not np.all(arrays[0] == np.floor(arrays[0])):
            raise ConfigurationError(
                f"{source}: MJD values must be whole days (UTC midnights) increasing from row to row")
        for a in arrays:
            a.setflags(write=False)
        self.mjd, self.ut1_minus_utc_s, self.xp_rad, self.yp_rad, self.lod_s = arrays
        self.source = source
        # UT1-UTC without leap-second steps: subtract the whole seconds accumulated so far.
        steps = np.round(np.diff(self.ut1_minus_utc_s))
        self._leap_offset = np.concatenate(([0.0], np.cumsum(steps)))
        self._ut1_continuous = self.ut1_minus_utc_s - self._leap_offset

    @property
    def mjd_range(self) -> tuple[float, float]:
        """(first, last) MJD(UTC) covered."""
        return float(self.mjd[0]), float(self.mjd[-1])

    @classmethod
    def from_finals(cls, path: str | os.PathLike) -> "EarthOrientationTable":
        """Read an IERS ``finals2000A`` file (format and column choice: module docstring).

        Raises ConfigurationError naming the path, line and field of the first malformed row
        (unparseable number, date that disagrees with the MJD, MJD not one day after the
        previous row, data after unfilled rows), or when the file has fewer than 2 filled rows.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{path}: cannot read Earth orientation file ({exc})") from None
        rows = []
        end_line = None          # first unfilled row
        previous_mjd = None
        for line_no, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            mjd = _field(line, _MJD, where, required=True)
            if mjd != np.floor(mjd):
                raise ConfigurationError(f"{where}: field MJD (columns 8-15) is {mjd}, expected a whole day")
            if previous_mjd is not None and mjd != previous_mjd + 1.0:
                raise ConfigurationError(
                    f"{where}: field MJD (columns 8-15) is {mjd:.2f}, expected {previous_mjd + 1.0:.2f} "
                    "(one row per day, increasing)")
            previous_mjd = mjd
            _check_date(line, mjd, where)
            ut1_a = _field(line, _UT1_A, where)
            if ut1_a is None:
                if end_line is None:
                    end_line = line_no
                continue
            if end_line is not None:
                raise ConfigurationError(
                    f"{where}: field UT1_UTC_A (columns 59-68) has a value, but line {end_line} had none; "
                    "unfilled rows may only come at the end of the table")
            pmx = _field(line, _PMX_A, where, required=True)
            pmy = _field(line, _PMY_A, where, required=True)
            lod_ms = _field(line, _LOD_A, where)
            pmx_b = _field(line, _PMX_B, where)
            pmy_b = _field(line, _PMY_B, where)
            ut1_b = _field(line, _UT1_B, where)
            if pmx_b is not None and pmy_b is not None:
                pmx, pmy = pmx_b, pmy_b
            ut1 = ut1_b if ut1_b is not None else ut1_a
            rows.append((mjd, ut1, pmx, pmy, 0.0 if lod_ms is None else lod_ms * 1e-3))
        if len(rows) < 2:
            raise ConfigurationError(f"{path}: fewer than 2 rows with Earth orientation values")
        data = np.array(rows, dtype=np.float64)
        return cls(data[:, 0], data[:, 1], data[:, 2] * ARCSEC_TO_RAD, data[:, 3] * ARCSEC_TO_RAD,
                   data[:, 4], source=str(path))

    @classmethod
    def bundled(cls) -> "EarthOrientationTable":
        """The ``finals2000A.all`` shipped by the astropy-iers-data package (read once, cached).

        The file is found through the package's location on disk; astropy is not imported.
        """
        return _bundled_table()

    def at(self, utc_ns: int | np.ndarray) -> EarthOrientation:
        """Parameters at UTC nanoseconds since 1970 (int or integer array), linearly interpolated.

        Raises ConfigurationError naming the first time outside the table and the table's range;
        a caller that accepts the reduced accuracy can fall back to ``EarthOrientation.zeros``.
        """
        ns = _as_integer_ns(utc_ns)
        days, rem = np.divmod(ns, _NS_PER_DAY)
        mjd_day = (days + MJD_UNIX_EPOCH).astype(np.float64)
        day_fraction = rem.astype(np.float64) / _NS_PER_DAY
        mjd = mjd_day + day_fraction
        first, last = self.mjd_range
        outside = (mjd < first) | (mjd > last)
        if np.any(outside):
            bad_ns = int(ns[outside].flat[0]) if ns.ndim else int(ns)
            bad_mjd = float(mjd[outside].flat[0]) if ns.ndim else float(mjd)
            count = int(np.count_nonzero(outside))
            raise ConfigurationError(
                f"Earth orientation for {_format_ns(bad_ns, format_utc_epoch_ns)} (MJD {bad_mjd:.5f}) "
                f"requested, but {self.source} covers MJD {first:.0f} to {last:.0f} "
                f"({_format_mjd(first, format_utc_epoch_ns)} to {_format_mjd(last, format_utc_epoch_ns)})"
                + (f"; {count} of {outside.size} times are outside" if count > 1 else "")
                + ". Use EarthOrientation.zeros(shape) to proceed without Earth orientation data.")
        # Row i with mjd[i] <= t < mjd[i+1]; t == last uses the final interval's end point.
        i = np.clip(np.searchsorted(self.mjd, mjd_day, side="right") - 1, 0, self.mjd.size - 2)
        weight = ((mjd_day - self.mjd[i]) + day_fraction) / (self.mjd[i + 1] - self.mjd[i])

        def lerp(col):
            return col[i] + weight * (col[i + 1] - col[i])

        ut1 = lerp(self._ut1_continuous) + self._leap_offset[i]
        at_next = weight >= 1.0        # exactly on row i+1 (only at the table's last day)
        ut1 = np.where(at_next, self.ut1_minus_utc_s[i + 1], ut1)
        return EarthOrientation(np.asarray(ut1), np.asarray(lerp(self.xp_rad)),
                                np.asarray(lerp(self.yp_rad)), np.asarray(lerp(self.lod_s)))


# --- helpers ----------------------------------------------------------------------------------

def _field(line: str, spec, where: str, required: bool = False):
    label, first, last = spec
    text = line[first - 1:last]
    if not text.strip():
        if required:
            raise ConfigurationError(
                f"{where}: field {label} (columns {first}-{last}) is empty, expected a number")
        return None
    try:
        value = float(text)
    except ValueError:
        raise ConfigurationError(
            f"{where}: field {label} (columns {first}-{last}) is {text!r}, expected a number") from None
    if not np.isfinite(value):
        raise ConfigurationError(
            f"{where}: field {label} (columns {first}-{last}) is {text!r}, expected a finite number")
    return value


def _check_date(line: str, mjd: float, where: str) -> None:
    """The row's yymmdd (columns 1-6) must name the day of its MJD."""
    parts = []
    for label, first, last in (_YEAR, _MONTH, _DAY):
        text = line[first - 1:last]
        try:
            parts.append(int(text))
        except ValueError:
            raise ConfigurationError(
                f"{where}: field {label} (columns {first}-{last}) is {text!r}, expected an integer") from None
    yy, month, day = parts
    year = yy + (1900 if mjd <= 51543 else 2000)
    try:
        expected = (datetime.date(year, month, day) - _MJD_ZERO).days
    except ValueError:
        raise ConfigurationError(
            f"{where}: date {year:04d}-{month:02d}-{day:02d} (columns 1-6) does not exist") from None
    if expected != mjd:
        raise ConfigurationError(
            f"{where}: date {year:04d}-{month:02d}-{day:02d} (columns 1-6) is MJD {expected}, "
            f"but field MJD (columns 8-15) is {mjd:.2f}")


def _format_ns(ns: int, fmt) -> str:
    try:
        return fmt(ns)
    except (OverflowError, OSError, ValueError):
        return f"{ns} ns since 1970"


def _format_mjd(mjd: float, fmt) -> str:
    return _format_ns(int(round((mjd - MJD_UNIX_EPOCH) * 86400)) * 1_000_000_000, fmt)[:10]


def _bundled_path() -> Path:
    spec = importlib.util.find_spec("astropy_iers_data")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigurationError(
            "the bundled Earth orientation table needs the 'astropy-iers-data' package "
            "(pip install astropy-iers-data), or pass a finals2000A file to EarthOrientationTable.from_finals")
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / "finals2000A.all"
        if path.is_file():
            return path
    raise ConfigurationError(
        f"astropy-iers-data at {list(spec.submodule_search_locations)} has no data/finals2000A.all")


@functools.lru_cache(maxsize=1)
def _bundled_table() -> EarthOrientationTable:
    return EarthOrientationTable.from_finals(_bundled_path())
