"""CelesTrak OMM (XML, CSV, JSON) records to sgp4 satellites, with errors naming object and key."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import xml.parsers.expat
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sgp4 import omm
from sgp4.api import Satrec


from sbamti.orbit.element_set import (MAX_CATALOG_NUMBER, ElementError, ElementSet,
                                       LoadResult)
from sbamti.orbit.tle import _NUMBER, _days_in_year

# == OMM reading ===================================================================================
# Keys SGP4 cannot do without; the others have defaults (below).
_OMM_REQUIRED = ("NORAD_CAT_ID", "EPOCH", "MEAN_MOTION", "ECCENTRICITY", "INCLINATION", "RA_OF_ASC_NODE",
                 "ARG_OF_PERICENTER", "MEAN_ANOMALY", "BSTAR", "MEAN_MOTION_DOT", "MEAN_MOTION_DDOT")
_OMM_DEFAULTS = {"OBJECT_ID": "", "CLASSIFICATION_TYPE": "U", "EPHEMERIS_TYPE": "0", "ELEMENT_SET_NO": "999",
                 "REV_AT_EPOCH": "0"}
# Metadata that, when present, must say the elements are SGP4 mean elements in TEME/UTC.
_OMM_METADATA = {"MEAN_ELEMENT_THEORY": ("SGP4", "SGP/SGP4"), "REF_FRAME": ("TEME",), "TIME_SYSTEM": ("UTC",),
                 "CENTER_NAME": ("EARTH",)}
_OMM_RANGES = {  # key: (low, high, high inclusive, unit text)
    "INCLINATION": (0.0, 180.0, True, "degrees in 0..180"),
    "RA_OF_ASC_NODE": (0.0, 360.0, True, "degrees in 0..360"),
    "ARG_OF_PERICENTER": (0.0, 360.0, True, "degrees in 0..360"),
    "MEAN_ANOMALY": (0.0, 360.0, True, "degrees in 0..360"),
    "ECCENTRICITY": (0.0, 1.0, False, "a number in 0..<1"),
}
_OMM_EPOCH = re.compile(
    r"^(\d{4})-(?:(\d{2})-(\d{2})|(\d{3}))T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$")


def _omm_text(value: Any) -> str | None:
    """A field value as text (JSON gives numbers); None when missing or empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    text = str(value).strip()
    return text or None


def _omm_epoch(text: str) -> datetime:
    match = _OMM_EPOCH.match(text)
    if match is None:
        raise ValueError("not of the form")
    year = int(match[1])
    if match[4] is not None:  # day-of-year form, CCSDS 'YYYY-DDDThh:mm:ss'
        day = int(match[4])
        if not 1 <= day <= _days_in_year(year):
            raise ValueError("day of year out of range")
        date = datetime(year, 1, 1) + timedelta(days=day - 1)
    else:
        date = datetime(year, int(match[2]), int(match[3]))
    hours, minutes, seconds = int(match[5]), int(match[6]), int(match[7])
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError("time of day out of range")
    microseconds = round(int((match[8] or "0")[:9].ljust(9, "0")) / 1000)
    return date + timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=microseconds)


def _omm_element_set(fields: dict[str, Any], lines: dict[str, int], default_line: int | None,
                     source: str) -> ElementSet:
    name = _omm_text(fields.get("OBJECT_NAME"))
    catalog_text = _omm_text(fields.get("NORAD_CAT_ID"))
    label = name or catalog_text

    def fail(key: str, found: str | None, expected: str):
        raise ElementError(source, label, lines.get(key, default_line), key, found, expected)

    values: dict[str, str] = {}
    for key in _OMM_REQUIRED:
        text = _omm_text(fields.get(key))
        if text is None:
            fail(key, None, f"a value for {key} (SGP4 needs it)")
        values[key] = text
    for key, allowed in _OMM_METADATA.items():
        text = _omm_text(fields.get(key))
        if text is not None and text.upper() not in allowed:
            fail(key, text, " or ".join(repr(a) for a in allowed) + " (elements SGP4 can propagate)")

    if not re.fullmatch(r"\d+", values["NORAD_CAT_ID"]) or not 0 < int(values["NORAD_CAT_ID"]) <= MAX_CATALOG_NUMBER:
        fail("NORAD_CAT_ID", values["NORAD_CAT_ID"], f"an integer in 1..{MAX_CATALOG_NUMBER}")
    try:
        epoch = _omm_epoch(values["EPOCH"])
    except (ValueError, OverflowError):
        fail("EPOCH", values["EPOCH"], "an ISO-8601 UTC time such as '2023-04-25T10:45:30.642912'")
    if not 1957 <= epoch.year <= 2056:
        fail("EPOCH", values["EPOCH"], "a year in 1957..2056 (the range SGP4's epoch convention covers)")
    numbers = {}
    for key in _OMM_REQUIRED[2:]:
        text = values[key]
        if not _NUMBER.match(text) or not math.isfinite(float(text)):
            fail(key, text, "a decimal number")
        numbers[key] = float(text)
    for key, (low, high, inclusive, what) in _OMM_RANGES.items():
        value = numbers[key]
        if not (low <= value <= high if inclusive else low <= value < high):
            fail(key, values[key], what)
    if not numbers["MEAN_MOTION"] > 0.0:
        fail("MEAN_MOTION", values["MEAN_MOTION"], "revolutions per day > 0")

    normalized = dict(values)
    for key, default in _OMM_DEFAULTS.items():
        text = _omm_text(fields.get(key))
        normalized[key] = default if text is None else text
    for key in ("EPHEMERIS_TYPE", "ELEMENT_SET_NO", "REV_AT_EPOCH"):
        if not re.fullmatch(r"\d+", normalized[key]):
            fail(key, normalized[key], "a non-negative integer")
    if normalized["CLASSIFICATION_TYPE"] not in ("U", "C", "S"):
        fail("CLASSIFICATION_TYPE", normalized["CLASSIFICATION_TYPE"], "'U', 'C' or 'S'")
    normalized["EPOCH"] = epoch.strftime("%Y-%m-%dT%H:%M:%S.%f")  # the one form sgp4.omm reads
    satrec = Satrec()
    try:
        omm.initialize(satrec, normalized)
    except Exception as exc:  # noqa: BLE001 - report whatever sgp4 refuses, with the object named
        fail("sgp4", f"{type(exc).__name__}: {exc}", "elements sgp4's sgp4init accepts")
    return ElementSet(name=name or catalog_text, catalog_number=int(values["NORAD_CAT_ID"]), satrec=satrec,
                      line1=None, line2=None, source=source)


def _omm_records(records: Iterable[tuple[dict[str, Any], dict[str, int], int | None]], source: str) -> LoadResult:
    result = LoadResult()
    for fields, lines, line in records:
        try:
            result.element_sets.append(_omm_element_set(fields, lines, line, source))
        except ElementError as error:
            result.errors.append(error)
    return result


_OMM_XML_BLOCKS = {"metadata", "meanElements", "tleParameters"}


def parse_omm_xml(text: str, source: str = "<string>") -> LoadResult:
    """Read CelesTrak/CCSDS OMM XML (``<ndm><omm>...<segment>`` or a lone ``<omm>``).

    Each ``<segment>`` is one satellite; its keys are the children of ``metadata``, ``meanElements``
    and ``tleParameters`` (namespace prefixes ignored). Errors carry the line of the offending key,
    or of the ``<segment>`` when the key is missing. XML that is not well-formed raises ElementError.
    """
    parser = xml.parsers.expat.ParserCreate()
    stack: list[str] = []
    segments: list[tuple[dict[str, Any], dict[str, int], int | None]] = []
    chunks: list[str] = []

    def start(name: str, _attributes) -> None:
        tag = name.rpartition(":")[2]
        if tag == "segment":
            segments.append(({}, {}, parser.CurrentLineNumber))
        stack.append(tag)
        chunks.clear()
        if segments and len(stack) >= 2 and stack[-2] in _OMM_XML_BLOCKS and "segment" in stack:
            segments[-1][1][tag] = parser.CurrentLineNumber

    def end(_name: str) -> None:
        tag = stack.pop()
        if segments and stack and stack[-1] in _OMM_XML_BLOCKS and "segment" in stack:
            segments[-1][0][tag] = "".join(chunks)
        chunks.clear()

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chunks.append
    try:
        parser.Parse(text.lstrip("\ufeff"), True)  # str input: expat is told it is UTF-8
    except xml.parsers.expat.ExpatError as exc:
        raise ElementError(source, None, exc.lineno, "xml", xml.parsers.expat.ErrorString(exc.code),
                           "well-formed OMM XML") from None
    return _omm_records(segments, source)


def parse_omm_csv(text: str, source: str = "<string>") -> LoadResult:
    """Read CelesTrak OMM CSV: a header row of OMM keys, then one row per satellite.

    Errors carry the row's line number. A row with more values than the header has columns is
    rejected (field ``'columns'``); a missing or empty value is a missing key.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    if reader.fieldnames is None:
        return LoadResult()
    reader.fieldnames = [name.strip() for name in reader.fieldnames]
    records = []
    result = LoadResult()
    for row in reader:
        line = reader.line_num
        if None in row:  # more values than header columns
            label = _omm_text(row.get("OBJECT_NAME")) or _omm_text(row.get("NORAD_CAT_ID"))
            result.errors.append(ElementError(
                source, label, line, "columns", ",".join(str(v) for v in row[None]),
                f"{len(reader.fieldnames)} values as in the header"))
            continue
        records.append((row, {}, line))
    # keep file order between the column errors and the record outcomes
    ordered = _omm_records(records, source)
    if not result.errors:
        return ordered
    ordered.errors = sorted(ordered.errors + result.errors, key=lambda e: e.line or 0)
    return ordered


def parse_omm_json(text: str, source: str = "<string>") -> LoadResult:
    """Read CelesTrak OMM JSON: a list of objects with the OMM keys (one object alone is accepted).

    JSON has no line numbers here: errors carry ``line=None``. Text that is not JSON, or not a list
    of objects, raises ElementError.
    """
    try:
        data = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as exc:
        raise ElementError(source, None, exc.lineno, "json", exc.msg, "a JSON list of OMM objects") from None
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise ElementError(source, None, None, "json", type(data).__name__, "a JSON list of OMM objects")
    result = LoadResult()
    records = []
    for index, item in enumerate(data):
        if not isinstance(item, dict):
            result.errors.append(ElementError(source, None, None, f"object {index}", repr(item)[:60],
                                              "a JSON object of OMM keys"))
            continue
        records.append((item, {}, None))
    result.extend(_omm_records(records, source))
    return result


