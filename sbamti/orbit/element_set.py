"""Element sets (an sgp4 satellite with its name and source) and the errors of reading them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sgp4.api import Satrec

from sbamti.errors import ConfigurationError

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
JD_UNIX_EPOCH = 2440587.5                  # Julian date of 1970-01-01T00:00:00Z
TLE_LINE_LENGTH = 69
MAX_CATALOG_NUMBER = 339_999               # Alpha-5 'Z9999', the largest number sgp4 accepts
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ALPHA5_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A=10 ... Z=33; I and O are skipped (they look like 1 and 0)


# == errors ========================================================================================
class ElementError(ConfigurationError):
    """A malformed element set (or an unreadable element file).

    Attributes: ``source`` (file path or ``'<string>'``), ``satellite`` (name or catalog number text,
    or None when unknown), ``line`` (1-based line in the source, or None), ``field`` (e.g.
    ``'inclination'``, ``'checksum'``, ``'epoch'``, an OMM key such as ``'MEAN_MOTION'``), ``found``
    (the offending text, None when the field is missing), ``expected`` and ``where`` (e.g.
    ``'TLE line 2, columns 9-16'``). The message names all of them.
    """

    def __init__(self, source: str, satellite: str | None, line: int | None, field: str,
                 found: str | None, expected: str, where: str | None = None) -> None:
        self.source = source
        self.satellite = satellite
        self.line = line
        self.field = field
        self.found = found
        self.expected = expected
        self.where = where
        place = source if line is None else f"{source}, line {line}"
        who = "" if satellite is None else f" satellite {satellite!r}:"
        what = field if where is None else f"{field} ({where})"
        got = "missing" if found is None else f"found {found!r}"
        super().__init__(f"{place}:{who} {what}: {got}, expected {expected}")

    def __reduce__(self):  # keep the attributes through pickling (multiprocessing, pytest-xdist)
        return (type(self), (self.source, self.satellite, self.line, self.field, self.found, self.expected,
                             self.where))


class _FieldProblem(Exception):
    """Internal: a field's text is wrong; the caller adds source, satellite and line."""

    def __init__(self, found: str | None, expected: str) -> None:
        super().__init__(found, expected)
        self.found = found
        self.expected = expected


# == element sets ==================================================================================
@dataclass(frozen=True)
class ElementSet:
    """One satellite's mean elements, ready to propagate.

    ``name`` is the 3LE title or OMM ``OBJECT_NAME``; for a bare TLE, the catalog number as written
    in columns 3-7 (e.g. ``'25544'``, ``'00005'``). ``line1``/``line2`` are the TLE lines when the
    source was TLE text or a generator, None for OMM. ``source`` is the file path, ``'<string>'``
    or ``'walker'``.
    """

    name: str
    catalog_number: int
    satrec: Satrec = field(compare=False, repr=False)
    line1: str | None
    line2: str | None
    source: str

    @property
    def satellite_id(self) -> str:
        """Namespace-safe id: lowercase, runs of characters outside ``[a-z0-9_]`` become one ``_``,
        no leading/trailing ``_``, and a leading digit gets the prefix ``n``.

        ``'ISS (ZARYA)'`` → ``'iss_zarya'``, ``'SBAMTI-001'`` → ``'sbamti_001'``, ``'25544'`` → ``'n25544'``.
        A name with no usable character gives ``n<catalog number>``.
        """
        return satellite_id_of(self.name, self.catalog_number)

    @property
    def epoch_ns(self) -> int:
        """Epoch of the elements as UTC nanoseconds since 1970 (sim-time convention)."""
        return _satrec_epoch_ns(self.satrec)


@dataclass
class LoadResult:
    """Accepted element sets in file order, and one error per rejected satellite."""

    element_sets: list[ElementSet] = field(default_factory=list)
    errors: list[ElementError] = field(default_factory=list)

    def extend(self, other: LoadResult) -> None:
        self.element_sets.extend(other.element_sets)
        self.errors.extend(other.errors)


def satellite_id_of(name: str, catalog_number: int) -> str:
    """The :attr:`ElementSet.satellite_id` rule applied to a name (exposed for generators and nodes)."""
    text = re.sub(r"[^a-z0-9_]+", "_", name.lower())
    text = re.sub(r"_+", "_", text).strip("_")
    if not text:
        text = str(catalog_number)
    return "n" + text if text[0].isdigit() else text


def _satrec_epoch_ns(satrec: Satrec) -> int:
    # jdsatepoch + jdsatepochF: keep the whole days exact and round only the fraction.
    offset = satrec.jdsatepoch - JD_UNIX_EPOCH
    whole = math.floor(offset)
    return whole * NS_PER_DAY + round(((offset - whole) + satrec.jdsatepochF) * NS_PER_DAY)


