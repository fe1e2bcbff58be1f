"""TLE / 3LE text: the fixed-column reader and writer of NORAD two-line element sets.

TLE layout
----------
Fixed columns (1-based, inclusive), from the NORAD two-line element format as documented by
CelesTrak ("FAQs: Two-Line Element Set Format", T.S. Kelso) and Space-Track. One table,
``_LINE1``/``_LINE2`` below, drives both the parser and :func:`format_tle`.

====  ========  ==================================================================  ============
line  columns   field                                                               example
====  ========  ==================================================================  ============
1     1         line number                                                         ``1``
1     3-7       catalog number (5 digits, or Alpha-5: a letter without I/O + 4 digits) ``25544``
1     8         classification (U, C or S)                                          ``U``
1     10-17     international designator (yy, launch number, piece)                 ``98067A``
1     19-32     epoch: 2-digit year (57-99 → 19yy, 00-56 → 20yy), day of year        ``08264.51782528``
1     34-43     ndot: first derivative of mean motion / 2 (rev/day²)                ``-.00002182``
1     45-52     nddot: second derivative / 6 (rev/day³), implied point + exponent   `` 00000-0``
1     54-61     bstar drag term (1/earth radii), implied point + exponent           ``-11606-4``
1     63        ephemeris type (0 or blank)                                         ``0``
1     65-68     element set number                                                  ``292``
1     69        checksum: sum of the digits of columns 1-68, '-' counts 1, mod 10   ``7``
2     1         line number                                                         ``2``
2     3-7       catalog number (same as line 1)                                     ``25544``
2     9-16      inclination (deg)                                                   ``51.6416``
2     18-25     right ascension of the ascending node (deg)                         ``247.4627``
2     27-33     eccentricity, implied leading decimal point                         ``0006703``
2     35-42     argument of perigee (deg)                                           ``130.5360``
2     44-51     mean anomaly (deg)                                                  ``325.0288``
2     53-63     mean motion (rev/day, Kozai mean motion as SGP4 expects)            ``15.72125391``
2     64-68     revolution number at epoch                                          ``56353``
2     69        checksum                                                            ``7``
====  ========  ==================================================================  ============

The other columns are blanks. A 3LE adds a title line (the name, up to 24 characters by
convention; Space-Track's ``0 NAME`` form is accepted) before line 1.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from numbers import Integral, Real
from typing import Any

from sgp4.api import Satrec

from sbamti.errors import ConfigurationError

from sbamti.orbit.element_set import (_ALPHA5_LETTERS, _UNIX_EPOCH, MAX_CATALOG_NUMBER, NS_PER_DAY, NS_PER_SECOND,
                                       TLE_LINE_LENGTH, ElementError, ElementSet, LoadResult, _FieldProblem)

# == TLE column table ==============================================================================
@dataclass(frozen=True)
class _Column:
    field: str
    line: int
    first: int   # 1-based, inclusive
    last: int

    def text(self, line: str) -> str:
        return line[self.first - 1:self.last]

    @property
    def where(self) -> str:
        span = f"column {self.first}" if self.first == self.last else f"columns {self.first}-{self.last}"
        return f"TLE line {self.line}, {span}"


_LINE1 = {c.field: c for c in (
    _Column("line_number", 1, 1, 1), _Column("catalog_number", 1, 3, 7), _Column("classification", 1, 8, 8),
    _Column("intl_designator", 1, 10, 17), _Column("epoch", 1, 19, 32), _Column("ndot", 1, 34, 43),
    _Column("nddot", 1, 45, 52), _Column("bstar", 1, 54, 61), _Column("ephemeris_type", 1, 63, 63),
    _Column("element_set_number", 1, 65, 68), _Column("checksum", 1, 69, 69))}
_LINE2 = {c.field: c for c in (
    _Column("line_number", 2, 1, 1), _Column("catalog_number", 2, 3, 7), _Column("inclination", 2, 9, 16),
    _Column("raan", 2, 18, 25), _Column("eccentricity", 2, 27, 33), _Column("argp", 2, 35, 42),
    _Column("mean_anomaly", 2, 44, 51), _Column("mean_motion", 2, 53, 63), _Column("rev_number", 2, 64, 68),
    _Column("checksum", 2, 69, 69))}


def _blank_columns(table: dict[str, _Column]) -> list[tuple[int, str, str]]:
    """(column, field before, field after) for every column the table leaves blank."""
    columns = sorted(table.values(), key=lambda c: c.first)
    blanks = []
    for before, after in zip(columns, columns[1:]):
        blanks.extend((col, before.field, after.field) for col in range(before.last + 1, after.first))
    return blanks


_BLANKS = {1: _blank_columns(_LINE1), 2: _blank_columns(_LINE2)}

_CATALOG = re.compile(r"^(?: *\d+|[A-HJ-NP-Z]\d{4})$")
_DECIMAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)$")             # no exponent: TLE angle fields
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")  # OMM values
_EPOCH = re.compile(r"^(\d{2})( {0,2}\d{1,3}\.\d{8})$")
_NDOT = re.compile(r"^[ +-]?0?\.\d{8}$")
_EXPONENTIAL = re.compile(r"^([ +-])(\d{5})([+-])(\d)$")
_COUNT = re.compile(r"^ *\d*$")
_ECCENTRICITY = re.compile(r"^\d{7}$")
_ELEMENT_LIKE = re.compile(r"^[1-9] ")


def tle_checksum(line: str) -> int:
    """Mod-10 checksum of columns 1-68: the sum of the digits, each '-' counting 1, modulo 10."""
    return sum(int(c) if c.isdigit() else 1 if c == "-" else 0 for c in line[:68]) % 10


def _catalog_from_text(text: str) -> int:
    text = text.strip()
    if text[:1].isalpha():
        return (_ALPHA5_LETTERS.index(text[0]) + 10) * 10_000 + int(text[1:])
    return int(text)


def _catalog_to_text(number: int) -> str:
    if number < 100_000:
        return f"{number:05d}"
    letter, rest = divmod(number, 10_000)
    return f"{_ALPHA5_LETTERS[letter - 10]}{rest:04d}"


def _full_year(two_digit: int) -> int:
    return 1900 + two_digit if two_digit >= 57 else 2000 + two_digit


def _days_in_year(year: int) -> int:
    return 366 if (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 else 365


# -- field readers: return the value or raise _FieldProblem(found, expected) ------------------------
def _read_angle(text: str, low: float, high: float, what: str) -> float:
    if not _DECIMAL.match(text.strip()):
        raise _FieldProblem(text, f"{what} as a decimal number such as '51.6416'")
    value = float(text)
    if not low <= value <= high:
        raise _FieldProblem(text, f"{what} in {low:g}..{high:g}")
    return value


def _read_epoch(text: str) -> tuple[int, float]:
    match = _EPOCH.match(text)
    if match is None:
        raise _FieldProblem(text, "yyddd.dddddddd (2-digit year, day of year with 8 decimals), e.g. '08264.51782528'")
    year = _full_year(int(match[1]))
    day = float(match[2])
    last = _days_in_year(year)
    if not 1.0 <= day < last + 1.0:
        raise _FieldProblem(text, f"a day of year in 1..{last}.99999999 ({year} has {last} days)")
    return year, day


def _read_ndot(text: str) -> float:
    if not _NDOT.match(text):
        raise _FieldProblem(text, "a sign (blank, + or -), a point and 8 digits, e.g. '-.00002182'")
    return float(text)


def _read_exponential(text: str) -> float:
    match = _EXPONENTIAL.match(text)
    if match is None:
        raise _FieldProblem(text, "sign, 5 digits with an implied leading point, exponent sign and digit, "
                                  "e.g. '-11606-4' (= -0.11606e-4) or ' 00000-0'")
    sign = -1.0 if match[1] == "-" else 1.0
    exponent = int(match[4]) * (-1 if match[3] == "-" else 1)
    return sign * int(match[2]) * 1e-5 * 10.0 ** exponent


def _read_count(text: str, what: str) -> int:
    if not _COUNT.match(text):
        raise _FieldProblem(text, f"{what}: digits, right-aligned")
    return int(text) if text.strip() else 0


# == TLE reading ===================================================================================
def _title_name(title: str) -> str:
    name = title.strip()
    if name.startswith("0 "):  # Space-Track's 3LE form: '0 ISS (ZARYA)'
        name = name[2:].strip()
    return name


def _is_element_line(text: str) -> bool:
    """An element line, possibly malformed: starts with a digit 1-9 and a blank, or is line-length long.

    Anything else is a 3LE title (titles starting '1 '/'2 ' are therefore not supported).
    """
    return bool(_ELEMENT_LIKE.match(text)) or (len(text) >= 60 and not text.startswith("0 "))


class _TleGroup:
    """One satellite's lines: optional title, line 1 and line 2 as (source line number, text)."""

    def __init__(self, source: str, title: tuple[int, str] | None, first: tuple[int, str],
                 second: tuple[int, str] | None) -> None:
        self.source = source
        self.name = _title_name(title[1]) if title else None
        self.first = first
        self.second = second
        catalog = first[1][2:7].strip()
        self.label = self.name or catalog or None

    def fail(self, line_no: int, field_name: str, found: str | None, expected: str, where: str | None = None):
        raise ElementError(self.source, self.label, line_no, field_name, found, expected, where)

    def read(self, column: _Column, reader, *args):
        line_no, text = self.first if column.line == 1 else self.second
        try:
            return reader(column.text(text), *args)
        except _FieldProblem as problem:
            self.fail(line_no, column.field, problem.found, problem.expected, column.where)

    def check_shape(self, number: int) -> None:
        line_no, text = self.first if number == 1 else self.second
        if not text.isascii():
            bad = next(c for c in text if not c.isascii())
            self.fail(line_no, "characters", text, f"ASCII only (found {bad!r})", f"TLE line {number}")
        if len(text) != TLE_LINE_LENGTH:
            self.fail(line_no, "line_length", text,
                      f"{TLE_LINE_LENGTH} characters (found {len(text)}; trailing blanks are ignored)",
                      f"TLE line {number}")
        if text[0] != str(number):
            self.fail(line_no, "line_number", text[0], f"'{number}'", f"TLE line {number}, column 1")
        for column, before, after in _BLANKS[number]:
            if text[column - 1] != " ":
                self.fail(line_no, "layout", text[column - 1],
                          f"a blank between {before} and {after} (is a value shifted?)",
                          f"TLE line {number}, column {column}")

    def check_checksum(self, number: int) -> None:
        line_no, text = self.first if number == 1 else self.second
        found = text[68]
        expected = tle_checksum(text)
        if found != str(expected):
            self.fail(line_no, "checksum", found, f"{expected} (mod-10 sum of columns 1-68)",
                      f"TLE line {number}, column 69")


def _element_set_from_group(group: _TleGroup, *, verify_checksum: bool = True) -> ElementSet:
    line1_no, line1 = group.first
    if group.second is None:
        group.fail(line1_no, "line_2", None, "a line 2 (starting '2 ') right after line 1")
    line2_no, line2 = group.second
    group.check_shape(1)
    group.check_shape(2)

    catalog1 = group.read(_LINE1["catalog_number"], _read_catalog)
    catalog2 = group.read(_LINE2["catalog_number"], _read_catalog)
    if catalog1 != catalog2:
        group.fail(line2_no, "catalog_number", _LINE2["catalog_number"].text(line2),
                   f"{_LINE1['catalog_number'].text(line1)!r}, the catalog number of line 1 (line {line1_no})",
                   _LINE2["catalog_number"].where)

    classification = _LINE1["classification"].text(line1)
    if classification not in "UCS":
        group.fail(line1_no, "classification", classification, "'U', 'C' or 'S'", _LINE1["classification"].where)
    group.read(_LINE1["epoch"], _read_epoch)
    group.read(_LINE1["ndot"], _read_ndot)
    group.read(_LINE1["nddot"], _read_exponential)
    group.read(_LINE1["bstar"], _read_exponential)
    ephemeris_type = _LINE1["ephemeris_type"].text(line1)
    if ephemeris_type not in " 0123456789":
        group.fail(line1_no, "ephemeris_type", ephemeris_type, "a digit (normally 0) or a blank",
                   _LINE1["ephemeris_type"].where)
    group.read(_LINE1["element_set_number"], _read_count, "element set number")

    group.read(_LINE2["inclination"], _read_angle, 0.0, 180.0, "degrees")
    group.read(_LINE2["raan"], _read_angle, 0.0, 360.0, "degrees")
    group.read(_LINE2["eccentricity"], _read_eccentricity)
    group.read(_LINE2["argp"], _read_angle, 0.0, 360.0, "degrees")
    group.read(_LINE2["mean_anomaly"], _read_angle, 0.0, 360.0, "degrees")
    group.read(_LINE2["mean_motion"], _read_mean_motion)
    group.read(_LINE2["rev_number"], _read_count, "revolution number")

    if verify_checksum:
        group.check_checksum(1)
        group.check_checksum(2)
    try:
        satrec = Satrec.twoline2rv(line1, line2)
    except Exception as exc:  # noqa: BLE001 - sgp4's pure-Python parser raises ValueError with a template
        group.fail(line2_no, "sgp4", f"{type(exc).__name__}: {exc}", "lines sgp4's twoline2rv accepts")
    name = group.name or _LINE1["catalog_number"].text(line1).strip()
    return ElementSet(name=name, catalog_number=catalog1, satrec=satrec, line1=line1, line2=line2,
                      source=group.source)


def _read_catalog(text: str) -> int:
    if not _CATALOG.match(text):
        raise _FieldProblem(text, "5 digits (e.g. '25544') or Alpha-5 (a letter other than I/O and 4 digits, "
                                  "e.g. 'A0001')")
    return _catalog_from_text(text)


def _read_eccentricity(text: str) -> float:
    if not _ECCENTRICITY.match(text):
        raise _FieldProblem(text, "7 digits with an implied leading decimal point, e.g. '0006703' for 0.0006703")
    return int(text) * 1e-7  # 0 <= e < 1 by construction


def _read_mean_motion(text: str) -> float:
    if not _DECIMAL.match(text.strip()):
        raise _FieldProblem(text, "revolutions per day as a decimal number such as '15.72125391'")
    value = float(text)
    if not value > 0.0:
        raise _FieldProblem(text, "revolutions per day > 0")
    return value


def parse_tle_text(text: str, source: str = "<string>", *, verify_checksum: bool = True) -> LoadResult:
    """Read TLE (two lines per satellite) and 3LE (title + two lines) text; both may be mixed.

    Blank lines are ignored; trailing blanks and CRs are stripped. A line is taken as an element line
    if it starts with a digit 1-9 and a blank, or is at least 60 characters long (and does not start
    with ``'0 '``); anything else is a title. Each satellite is validated on its own (see the module
    docstring for the layout): line length 69, line numbers, blank separator columns, catalog
    numbers equal on both lines, field formats and ranges, leap-aware day of year, the checksums
    (unless ``verify_checksum`` is False, e.g. for test sets with deliberately wrong checksums), and
    finally ``Satrec.twoline2rv``. A title without element lines, a line 2 without a line 1 and a
    line 1 without a line 2 are errors of their own.
    """
    lines = [(number, raw.rstrip()) for number, raw in enumerate(text.lstrip("\ufeff").split("\n"), 1)]
    lines = [(number, line) for number, line in lines if line]
    result = LoadResult()
    i = 0
    while i < len(lines):
        title = None
        if not _is_element_line(lines[i][1]):
            title = lines[i]
            i += 1
            if i == len(lines) or not _is_element_line(lines[i][1]):
                result.errors.append(ElementError(
                    source, _title_name(title[1]), title[0], "element_lines", title[1],
                    "two element lines (starting '1 ' and '2 ') after this title line"))
                continue
        number, line = lines[i]
        i += 1
        if line.startswith("2 "):
            satellite = _title_name(title[1]) if title else (line[2:7].strip() or None)
            result.errors.append(ElementError(source, satellite, number, "line_1", None,
                                              f"a line 1 (starting '1 ') before this line 2: {line!r}"))
            continue
        second = None
        if i < len(lines) and _is_element_line(lines[i][1]) and not lines[i][1].startswith("1 "):
            second = lines[i]
            i += 1
        try:
            result.element_sets.append(
                _element_set_from_group(_TleGroup(source, title, (number, line), second),
                                        verify_checksum=verify_checksum))
        except ElementError as error:
            result.errors.append(error)
    return result


# == TLE writing ===================================================================================
def _require(condition: bool, parameter: str, value: Any, expected: str) -> None:
    if not condition:
        raise ConfigurationError(f"format_tle: {parameter}: got {value!r}, expected {expected}")


def _finite(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _integer(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _tle_epoch_text(epoch: int | tuple[int, float]) -> str:
    """yyddd.dddddddd, rounded to the nearest 1e-8 day (0.864 ms), carrying into the next day/year."""
    units_per_day = 10**8
    if _integer(epoch):
        seconds = int(epoch) // NS_PER_SECOND
        year = (_UNIX_EPOCH + timedelta(seconds=seconds)).year
        year_start_s = (datetime(year, 1, 1, tzinfo=timezone.utc) - _UNIX_EPOCH) // timedelta(seconds=1)
        year_start_ns = year_start_s * NS_PER_SECOND
        offset = int(epoch) - year_start_ns
        units = (2 * offset * units_per_day + NS_PER_DAY) // (2 * NS_PER_DAY)  # round half up
    else:
        _require(isinstance(epoch, tuple) and len(epoch) == 2 and _integer(epoch[0]) and _finite(epoch[1]),
                 "epoch", epoch, "UTC nanoseconds since 1970 (int) or (year, day-of-year fraction)")
        year, day = int(epoch[0]), float(epoch[1])
        _require(1957 <= year <= 2056, "epoch", epoch, "a year in 1957..2056 (2-digit TLE years)")
        _require(1.0 <= day < _days_in_year(year) + 1.0, "epoch", epoch,
                 f"a day of year in 1..{_days_in_year(year)}.99999999 ({year} has {_days_in_year(year)} days)")
        units = round((day - 1.0) * units_per_day)
    if units >= _days_in_year(year) * units_per_day:
        units -= _days_in_year(year) * units_per_day
        year += 1
    _require(1957 <= year <= 2056, "epoch", epoch, "an epoch in 1957..2056 (2-digit TLE years)")
    day, fraction = divmod(units, units_per_day)
    return f"{year % 100:02d}{day + 1:03d}.{fraction:08d}"


def _ndot_text(value: float) -> str:
    _require(_finite(value), "ndot", value, "a finite number (rev/day², first derivative / 2)")
    text = f"{abs(value):.8f}"
    _require(text.startswith("0."), "ndot", value, "|ndot| < 1 rev/day² after rounding to 8 decimals")
    return ("-" if value < 0 and text != "0.00000000" else " ") + text[1:]


def _exponential_text(value: float, parameter: str) -> str:
    """±ddddd±e: the mantissa 0.ddddd and a one-digit power of ten, as in nddot and bstar."""
    _require(_finite(value), parameter, value, "a finite number")
    if value == 0.0:
        return " 00000-0"
    mantissa_text, exponent_text = f"{abs(value):.4e}".split("e")  # d.dddd × 10^k = 0.ddddd × 10^(k+1)
    digits = int(mantissa_text.replace(".", ""))
    exponent = int(exponent_text) + 1
    if exponent < -9:  # below the format's range: denormalise, possibly to zero
        digits = round(abs(value) / 1e-9 * 1e5)
        exponent = -9
        if digits == 0:
            return " 00000-0"
    _require(exponent <= 9, parameter, value, "|value| < 1e9 (one exponent digit)")
    sign = "-" if value < 0 else " "
    return f"{sign}{digits:05d}{'-' if exponent < 0 else '+'}{abs(exponent)}"


def _angle_text(value: float, parameter: str, wrap: bool) -> str:
    _require(_finite(value), parameter, value, "a finite angle in degrees")
    if wrap:
        text = f"{value % 360.0:8.4f}"
        return "  0.0000" if text == "360.0000" else text
    _require(0.0 <= value <= 180.0, parameter, value, "degrees in 0..180")
    return f"{value:8.4f}"


def format_tle(catalog_number: int, *, epoch: int | tuple[int, float], inclination_deg: float, raan_deg: float,
               eccentricity: float, argp_deg: float, mean_anomaly_deg: float, mean_motion_rev_per_day: float,
               ndot: float = 0.0, nddot: float = 0.0, bstar: float = 0.0, classification: str = "U",
               intl_designator: str = "", element_set_number: int = 999, rev_number: int = 0,
               ephemeris_type: int = 0) -> tuple[str, str]:
    """TLE lines 1 and 2 (69 columns each, checksums included) for the given mean elements.

    Parameters
    ----------
    catalog_number : int
        0..339999; 100000 and above are written in Alpha-5 (``A0000``..``Z9999``).
    epoch : int or (int, float)
        UTC nanoseconds since 1970, or (4-digit year, day of year with fraction, 1.0 = Jan 1 00:00).
        Written to 1e-8 day (0.864 ms), the format's resolution; years 1957..2056.
    inclination_deg : float
        0..180.
    raan_deg, argp_deg, mean_anomaly_deg : float
        Degrees; wrapped into [0, 360).
    eccentricity : float
        0 <= e < 1, written to 1e-7.
    mean_motion_rev_per_day : float
        Kozai mean motion (what SGP4 reads), > 0 and < 100, written to 1e-8 rev/day.
    ndot : float
        First derivative of mean motion divided by 2 (rev/day²), |ndot| < 1, as printed in the TLE.
    nddot : float
        Second derivative divided by 6 (rev/day³), as printed in the TLE.
    bstar : float
        B* drag term (1/earth radii).
    classification, intl_designator, element_set_number, rev_number, ephemeris_type
        'U'/'C'/'S'; up to 8 characters (e.g. '98067A'); 0..9999; 0..99999; 0..9.

    Every argument after ``catalog_number`` is keyword-only. Raises ConfigurationError naming the
    argument, the value and the valid range.
    """
    _require(_integer(catalog_number) and 0 <= catalog_number <= MAX_CATALOG_NUMBER, "catalog_number",
             catalog_number, f"an integer in 0..{MAX_CATALOG_NUMBER} (Alpha-5 above 99999)")
    _require(classification in ("U", "C", "S"), "classification", classification, "'U', 'C' or 'S'")
    _require(isinstance(intl_designator, str) and len(intl_designator) <= 8 and intl_designator.isascii()
             and intl_designator.isprintable(), "intl_designator", intl_designator,
             "up to 8 printable ASCII characters, e.g. '98067A'")
    _require(_finite(eccentricity) and 0.0 <= eccentricity < 1.0, "eccentricity", eccentricity, "0 <= e < 1")
    eccentricity_digits = round(eccentricity * 1e7)
    _require(eccentricity_digits < 10**7, "eccentricity", eccentricity, "e < 0.99999995 (7 digits)")
    _require(_finite(mean_motion_rev_per_day) and mean_motion_rev_per_day > 0.0, "mean_motion_rev_per_day",
             mean_motion_rev_per_day, "revolutions per day > 0")
    mean_motion = f"{mean_motion_rev_per_day:11.8f}"
    _require(len(mean_motion) == 11 and float(mean_motion) > 0.0, "mean_motion_rev_per_day",
             mean_motion_rev_per_day, "0.00000001 <= n < 100 rev/day (11 columns)")
    _require(_integer(element_set_number) and 0 <= element_set_number <= 9999, "element_set_number",
             element_set_number, "an integer in 0..9999")
    _require(_integer(rev_number) and 0 <= rev_number <= 99999, "rev_number", rev_number, "an integer in 0..99999")
    _require(_integer(ephemeris_type) and 0 <= ephemeris_type <= 9, "ephemeris_type", ephemeris_type,
             "a digit (0 for SGP4)")

    catalog = _catalog_to_text(int(catalog_number))
    body1 = (f"1 {catalog}{classification} {intl_designator:<8} {_tle_epoch_text(epoch)} {_ndot_text(ndot)} "
             f"{_exponential_text(nddot, 'nddot')} {_exponential_text(bstar, 'bstar')} {ephemeris_type} "
             f"{element_set_number:4d}")
    body2 = (f"2 {catalog} {_angle_text(inclination_deg, 'inclination_deg', wrap=False)} "
             f"{_angle_text(raan_deg, 'raan_deg', wrap=True)} {eccentricity_digits:07d} "
             f"{_angle_text(argp_deg, 'argp_deg', wrap=True)} "
             f"{_angle_text(mean_anomaly_deg, 'mean_anomaly_deg', wrap=True)} "
             f"{mean_motion}{rev_number:5d}")
    assert len(body1) == len(body2) == 68, (body1, body2)
    return body1 + str(tle_checksum(body1)), body2 + str(tle_checksum(body2))


def element_set_from_lines(name: str | None, line1: str, line2: str, source: str = "<string>") -> ElementSet:
    """One element set from its two TLE lines (and optional title), with the full validation of
    :func:`parse_tle_text`; raises ElementError. Line numbers in errors are 1 (title), 2 and 3."""
    title = (1, name) if name else None
    group = _TleGroup(source, title, (2, line1.rstrip()), (3, line2.rstrip()))
    return _element_set_from_group(group)


def format_3le(element_sets: Iterable[ElementSet]) -> str:
    """3LE text (title line, line 1, line 2 per satellite, newline-terminated) of element sets that
    carry TLE lines; raises ValueError for one read from OMM (it has no lines)."""
    out = []
    for element_set in element_sets:
        if element_set.line1 is None or element_set.line2 is None:
            raise ValueError(f"{element_set.name!r} (from {element_set.source}) has no TLE lines to write")
        out.extend((element_set.name, element_set.line1, element_set.line2))
    return "".join(line + "\n" for line in out)
