"""Orbital element sets: TLE/3LE text and CelesTrak OMM (XML, CSV, JSON) to ``sgp4`` satellites.

Every reader returns a :class:`LoadResult`: the accepted element sets in file order and one
:class:`ElementError` per rejected satellite, so one bad satellite never costs the others. An
error names the source, the 1-based line, the satellite, the field, the offending text and what
was expected, e.g.::

    orbits.tle, line 5: satellite 'ISS (ZARYA)': inclination (TLE line 2, columns 9-16): found '181.0000',
    expected degrees in 0..180

Only a document that cannot be read at all (unreadable file, XML that is not well-formed, JSON that
is not a list of objects) raises ``ElementError`` instead.

SGP4 error codes (decay, eccentricity out of range) are not reasons to reject an element set: they
depend on the propagation time and are reported per epoch by whoever propagates (the satrec's
``error`` after initialisation is left for them to read). Rejected here is text that is malformed.

The readers live in :mod:`sbamti.orbit.tle` (fixed-column TLE/3LE) and :mod:`sbamti.orbit.omm`;
this module picks one by file and selects satellites.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path


from sbamti.errors import ConfigurationError

from sbamti.orbit.element_set import ElementError, ElementSet, LoadResult, satellite_id_of  # noqa: F401
from sbamti.orbit.omm import parse_omm_csv, parse_omm_json, parse_omm_xml  # noqa: F401
from sbamti.orbit.tle import (_CATALOG, _catalog_from_text, element_set_from_lines, format_3le,  # noqa: F401
                              format_tle, parse_tle_text, tle_checksum)

__all__ = [
    "ElementError", "ElementSet", "LoadResult", "parse_tle_text", "parse_omm_xml", "parse_omm_csv",
    "parse_omm_json", "load_element_sets", "select", "tle_checksum", "format_tle", "format_3le",
]

# == files =========================================================================================
_READERS = {
    ".tle": parse_tle_text, ".txt": parse_tle_text, ".3le": parse_tle_text, ".2le": parse_tle_text,
    ".xml": parse_omm_xml, ".csv": parse_omm_csv, ".json": parse_omm_json,
}


def _sniff(text: str):
    head = text.lstrip("\ufeff \t\r\n")[:4096]
    if head.startswith("<"):
        return parse_omm_xml
    if head.startswith(("[", "{")):
        return parse_omm_json
    first = head.split("\n", 1)[0]
    if "," in first and ("NORAD_CAT_ID" in first or "OBJECT_NAME" in first):
        return parse_omm_csv
    return parse_tle_text


def load_element_sets(path: str | os.PathLike) -> LoadResult:
    """Read an element file, choosing the reader by extension: ``.tle``/``.txt``/``.3le``/``.2le`` TLE,
    ``.xml`` OMM XML, ``.csv`` OMM CSV, ``.json`` OMM JSON; other names by content.

    An unreadable file (missing, a directory, not UTF-8) raises ElementError naming the path.
    """
    source = os.fspath(path)
    try:
        text = Path(source).read_bytes().decode("utf-8")
    except OSError as exc:
        raise ElementError(source, None, None, "file", exc.strerror or str(exc), "a readable element file") from None
    except UnicodeDecodeError as exc:
        line = Path(source).read_bytes()[:exc.start].count(b"\n") + 1
        raise ElementError(source, None, line, "encoding", f"byte 0x{exc.object[exc.start]:02x}",
                           "UTF-8 (ASCII for TLE) text") from None
    reader = _READERS.get(Path(source).suffix.lower()) or _sniff(text)
    return reader(text, source)


# == selection =====================================================================================
def _matches(element_set: ElementSet, entry: str) -> bool:
    if entry in (element_set.name, element_set.satellite_id):
        return True
    if _CATALOG.match(entry) or entry.isdigit():
        try:
            return _catalog_from_text(entry) == element_set.catalog_number
        except (ValueError, IndexError):
            return False
    return False


def select(element_sets: Iterable[ElementSet], wanted: Sequence[str]) -> list[ElementSet]:
    """The element sets named in ``wanted``, in their original order; all of them when ``wanted`` is empty.

    An entry matches a catalog number (as text: ``'25544'``, ``'5'``, ``'00005'``, Alpha-5 ``'A0001'``),
    a name (exact) or a satellite_id. Blank entries are ignored (a ROS string-array parameter cannot be
    empty). Entries matching nothing raise ConfigurationError naming them and listing up to 10
    available ids.
    """
    element_sets = list(element_sets)
    if isinstance(wanted, str):
        wanted = [wanted]
    entries = [str(entry).strip() for entry in wanted if str(entry).strip()]
    if not entries:
        return element_sets
    chosen: set[int] = set()
    unknown = []
    for entry in entries:
        matches = [index for index, element_set in enumerate(element_sets) if _matches(element_set, entry)]
        if not matches:
            unknown.append(entry)
        chosen.update(matches)
    if unknown:
        ids = [element_set.satellite_id for element_set in element_sets]
        listed = ", ".join(ids[:10]) + (f", ... ({len(ids) - 10} more)" if len(ids) > 10 else "")
        raise ConfigurationError(
            f"satellites: {', '.join(repr(u) for u in unknown)} not found among the {len(ids)} element sets; "
            f"expected catalog numbers, names or ids such as: {listed or '(none loaded)'}")
    return [element_sets[index] for index in sorted(chosen)]


