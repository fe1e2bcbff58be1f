"""Detection payload (APID DETECTIONS): one dwell's header and its detections as one numpy record array.

Layout (big-endian): a dwell header — format version u8, satellite id (u8 length + UTF-8, at most
64 octets), dwell id u64, look id u64, part u16, parts u16, satellite position, satellite velocity
and beam centre (ECEF, 9 × f8), processing time f4, cells tested u64, threshold f4, threshold
crossings u32, clusters u32, detection count u16 — then ``count`` packed 121-octet records
(:data:`DETECTION_WIRE`), written with one ``tobytes`` and read with one ``np.frombuffer``: no
Python work per detection. A dwell too large for one packet is split into parts, each carrying
the full header with its part index (0-based) and the number of parts; :func:`join_parts`
reassembles them. docs/link_payloads.md has the byte tables.

What is not sent, and what is rounded:

- latitude, longitude and altitude are recomputed on decode from ``position_ecef`` with
  :func:`sbamti.geo.wgs84.ecef_to_geodetic` (< 1e-11 rad, < 1 mm), so they always agree with the
  position. The covariance goes as its upper triangle (xx, xy, xz, yy, yz, zz) after
  symmetrising (C + Cᵀ)/2; decode rebuilds the symmetric 3 × 3. ``range_rate_resolved`` is bit 0
  of a flags octet whose other bits must be zero.
- float32 on the wire: range rate, azimuth, elevation, the four standard deviations, SNR, the
  blind speed, and the header's processing time and threshold. Rounding to float32 moves a value
  by at most 2⁻²⁴ of itself (6e-8 relative), orders of magnitude below each quantity's own
  1-sigma for this radar (CRLB at 13–30 dB SNR): range rate ≤ 2.4e-4 m/s at 7.6 km/s (3e-5 m/s at
  600 m/s) against σ 0.04–0.3 m/s; angles ≤ 1.5e-8 rad at the 20° scan limit against σ ≥ 2.3e-5
  rad; SNR ≤ 2e-6 dB at 60 dB; the 112 m/s blind speed ≤ 4e-6 m/s (≤ 3e-4 m/s after unfolding by
  70 blind speeds); a standard deviation by 6e-8 of itself. Range stays float64: float32 would
  round by up to 0.06 m at 2,000 km, a sixth of its σ at 30 dB (0.37 m). Positions, covariances
  and the header's vectors are float64 and exact.

Size: :data:`WIRE_BYTES_PER_DETECTION` (121) octets per detection against
:data:`RAW_BYTES_PER_DETECTION` (205), the sum of the sizes of msg/Detection.msg's fields.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field

import numpy as np

from sbamti.geo.wgs84 import ecef_to_geodetic
from sbamti.link.errors import LinkError
from sbamti.link.payloads_common import MAX_NAME_OCTETS, as_bytes, check_uint, pack_string

FORMAT_VERSION = 1

# In-memory record: msg/Detection.msg field for field (native byte order, packed).
DETECTION_FIELDS = np.dtype([
    ("detection_id", "u4"), ("range_m", "f8"), ("range_rate_mps", "f8"), ("azimuth_rad", "f8"),
    ("elevation_rad", "f8"), ("range_std_m", "f8"), ("range_rate_std_mps", "f8"), ("azimuth_std_rad", "f8"),
    ("elevation_std_rad", "f8"), ("snr_db", "f8"), ("range_rate_resolved", "?"),
    ("range_rate_blind_speed_mps", "f8"), ("position_ecef", "f8", (3,)), ("position_covariance_ecef", "f8", (9,)),
    ("latitude_rad", "f8"), ("longitude_rad", "f8"), ("altitude_m", "f8")])

# Wire record (big-endian, packed, 121 octets).
DETECTION_WIRE = np.dtype([
    ("detection_id", ">u4"), ("range_m", ">f8"), ("range_rate_mps", ">f4"), ("azimuth_rad", ">f4"),
    ("elevation_rad", ">f4"), ("range_std_m", ">f4"), ("range_rate_std_mps", ">f4"), ("azimuth_std_rad", ">f4"),
    ("elevation_std_rad", ">f4"), ("snr_db", ">f4"), ("flags", "u1"), ("range_rate_blind_speed_mps", ">f4"),
    ("position_ecef", ">f8", (3,)), ("covariance_upper", ">f8", (6,))])

WIRE_BYTES_PER_DETECTION = DETECTION_WIRE.itemsize        # 121
RAW_BYTES_PER_DETECTION = DETECTION_FIELDS.itemsize       # 205 = u32 + 13 f8 + bool + f8[3] + f8[9]
FLAG_RANGE_RATE_RESOLVED = 0x01

# Header after the satellite id: dwell_id, look_id, part, parts, 9 vectors, processing_time_s,
# cells_tested, threshold_db, threshold_crossings, clusters, count.
_FIXED = struct.Struct(">QQHH9dfQfIIH")
DWELL_HEADER_BYTES = 2 + _FIXED.size                      # 120, plus the satellite id's octets
MAX_PARTS = 0xFFFF
MAX_COUNT_PER_PART = 0xFFFF

# (in-memory name, wire name) of the fields both records hold: one whole-column assignment each
# (byte swap, float64 <-> float32, bool <-> flags), measured faster than one structured cast.
_SHARED = [(n, "flags" if n == "range_rate_resolved" else n) for n in DETECTION_FIELDS.names
           if n not in ("position_covariance_ecef", "latitude_rad", "longitude_rad", "altitude_m")]
_FLOAT32_FIELDS = [n for n, wire_name in _SHARED if DETECTION_WIRE.fields[wire_name][0] == np.dtype(">f4")]
_UPPER = np.array([0, 1, 2, 4, 5, 8])             # xx xy xz yy yz zz in the row-major 3 x 3
_LOWER = np.array([0, 3, 6, 4, 7, 8])             # the same entries of the transpose
_FULL_FROM_UPPER = np.array([0, 1, 2, 1, 3, 4, 2, 4, 5])
_VECTORS = ("satellite_position_ecef", "satellite_velocity_ecef", "beam_centre_ecef")


@dataclass(eq=False)
class DwellDetections:
    """The content of one DetectionArray (its stamp travels in the packet's secondary header).

    ``detections`` is a 1-D array of :data:`DETECTION_FIELDS`. ``part``/``parts``: 0-based index
    and number of parts when the dwell was split over several packets (0 and 1 for a whole dwell).
    """

    satellite_id: str
    dwell_id: int
    look_id: int
    satellite_position_ecef: np.ndarray
    satellite_velocity_ecef: np.ndarray
    beam_centre_ecef: np.ndarray
    processing_time_s: float
    cells_tested: int
    threshold_db: float
    threshold_crossings: int
    clusters: int
    detections: np.ndarray = field(default_factory=lambda: np.zeros(0, DETECTION_FIELDS))
    part: int = 0
    parts: int = 1


def dwell_header_bytes(satellite_id: str) -> int:
    """Octets of the dwell header for ``satellite_id`` (120 + its UTF-8 length)."""
    return DWELL_HEADER_BYTES + len(satellite_id.encode("utf-8"))


def encode_detections(dwell: DwellDetections, *, max_payload_bytes: int) -> list[bytes]:
    """Payloads of ``dwell``, split into as few parts as fit ``max_payload_bytes`` each.

    A dwell with no detections is one part. A ``dwell`` that is itself one part of a split dwell
    (``parts > 1``, as :func:`decode_detections` returns it) is encoded unchanged as that one part.
    LinkError if a field is out of range, if the header plus one detection does not fit, or if more
    than 65,535 parts would be needed.
    """
    max_payload_bytes = check_uint("max_payload_bytes", max_payload_bytes, 64)
    prefix, header = _header_parts(dwell)
    body = _wire_records(dwell.detections)
    count = body.size // WIRE_BYTES_PER_DETECTION
    header_size = len(prefix) + _FIXED.size
    room = max_payload_bytes - header_size
    if dwell.parts != 1 or dwell.part != 0:
        if header_size + body.size > max_payload_bytes or count > MAX_COUNT_PER_PART:
            raise LinkError(f"detections: part {dwell.part} of {dwell.parts} needs {header_size + body.size} octets, "
                            f"max_payload_bytes is {max_payload_bytes}")
        return [prefix + _FIXED.pack(header[0], header[1], dwell.part, dwell.parts, *header[2:], count)
                + body.tobytes()]
    if room < (WIRE_BYTES_PER_DETECTION if count else 0):
        raise LinkError(f"detections: max_payload_bytes {max_payload_bytes} cannot hold the {header_size}-octet "
                        f"dwell header{' and one detection' if count else ''}")
    per_part = min(MAX_COUNT_PER_PART, max(1, room // WIRE_BYTES_PER_DETECTION))   # >= 1 even for no detections
    parts = max(1, -(-count // per_part))
    if parts > MAX_PARTS:
        raise LinkError(f"detections: {count} detections need {parts} parts of {per_part}, at most {MAX_PARTS}")
    view = memoryview(body)
    payloads = []
    for part in range(parts):
        start = part * per_part
        n = min(per_part, count - start)
        payloads.append(prefix + _FIXED.pack(header[0], header[1], part, parts, *header[2:], n)
                        + view[start * WIRE_BYTES_PER_DETECTION:(start + n) * WIRE_BYTES_PER_DETECTION])
    return payloads


def _header_parts(dwell: DwellDetections) -> tuple[bytes, tuple]:
    """Checked header: (version + satellite id octets, fixed-field values without part/parts/count)."""
    prefix = bytes((FORMAT_VERSION,)) + pack_string("satellite_id", dwell.satellite_id, MAX_NAME_OCTETS)
    check_uint("part", dwell.part, 16)
    if not 0 <= dwell.part < check_uint("parts", dwell.parts, 16):
        raise LinkError(f"part: {dwell.part} not in [0, parts={dwell.parts})")
    vectors = []
    for name in _VECTORS:
        value = np.asarray(getattr(dwell, name), dtype=np.float64)
        if value.shape != (3,):
            raise LinkError(f"{name}: expected shape (3,), received {value.shape}")
        vectors.extend(value.tolist())
    values = (check_uint("dwell_id", dwell.dwell_id, 64), check_uint("look_id", dwell.look_id, 64), *vectors,
              _float32("processing_time_s", dwell.processing_time_s), check_uint("cells_tested", dwell.cells_tested, 64),
              _float32("threshold_db", dwell.threshold_db),
              check_uint("threshold_crossings", dwell.threshold_crossings, 32),
              check_uint("clusters", dwell.clusters, 32))
    return prefix, values


def _float32(name: str, value: object) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise LinkError(f"{name}: expected a number, received {value!r}") from None
    if math.isfinite(number) and abs(number) > float(np.finfo(np.float32).max):
        raise LinkError(f"{name}: {number!r} outside the float32 range")
    return number


def _wire_records(detections: object) -> np.ndarray:
    """The wire bytes of ``detections`` as a uint8 array (one cast, one covariance fold)."""
    if not isinstance(detections, np.ndarray) or detections.dtype != DETECTION_FIELDS or detections.ndim != 1:
        got = detections.dtype if isinstance(detections, np.ndarray) else type(detections).__name__
        raise LinkError(f"detections: expected a 1-D array of DETECTION_FIELDS, received {got}")
    wire = np.empty(detections.shape[0], DETECTION_WIRE)
    try:
        with np.errstate(over="raise"):
            for name, wire_name in _SHARED:
                wire[wire_name] = detections[name]
    except FloatingPointError:
        _raise_float32_overflow(detections)
    cov = detections["position_covariance_ecef"]
    wire["covariance_upper"] = 0.5 * (cov[:, _UPPER] + cov[:, _LOWER])
    return wire.view(np.uint8)


def _raise_float32_overflow(detections: np.ndarray) -> None:
    limit = float(np.finfo(np.float32).max)
    for name in _FLOAT32_FIELDS:
        values = detections[name]
        bad = np.flatnonzero(np.isfinite(values) & (np.abs(values) > limit))
        if bad.size:
            raise LinkError(f"detections[{bad[0]}].{name}: {float(values[bad[0]])!r} outside the float32 range")
    raise LinkError("detections: a float32 field overflows")


def decode_detections(payload: bytes | bytearray | memoryview) -> DwellDetections:
    """The dwell (or dwell part) in ``payload``; LinkError naming the field on any malformed input."""
    data = as_bytes(payload, "detections")
    size = len(data)
    if size < 2:
        raise LinkError(f"detections: truncated, {size} octets, the header needs at least {DWELL_HEADER_BYTES}")
    if data[0] != FORMAT_VERSION:
        raise LinkError(f"detections.version: {data[0]}, expected {FORMAT_VERSION}")
    id_size = data[1]
    if id_size > MAX_NAME_OCTETS:
        raise LinkError(f"detections.satellite_id length: {id_size} octets, at most {MAX_NAME_OCTETS} allowed")
    start = DWELL_HEADER_BYTES + id_size
    if size < start:
        raise LinkError(f"detections: truncated header, {size} octets, needs {start}")
    try:
        satellite_id = data[2:2 + id_size].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LinkError(f"detections.satellite_id: invalid UTF-8 ({exc.reason} at octet {exc.start})") from None
    h = _FIXED.unpack_from(data, 2 + id_size)
    part, parts, count = h[2], h[3], h[-1]
    if not part < parts:
        raise LinkError(f"detections.part: {part} not in [0, parts={parts})")
    if size != start + count * WIRE_BYTES_PER_DETECTION:
        raise LinkError(f"detections.count: {count} detections need {count * WIRE_BYTES_PER_DETECTION} octets "
                        f"after the {start}-octet header, received {size - start}")
    return DwellDetections(
        satellite_id=satellite_id, dwell_id=h[0], look_id=h[1],
        satellite_position_ecef=np.array(h[4:7]), satellite_velocity_ecef=np.array(h[7:10]),
        beam_centre_ecef=np.array(h[10:13]), processing_time_s=h[13], cells_tested=h[14], threshold_db=h[15],
        threshold_crossings=h[16], clusters=h[17], detections=_native_records(data, start, count),
        part=part, parts=parts)


def _native_records(data: bytes, offset: int, count: int) -> np.ndarray:
    out = np.empty(count, DETECTION_FIELDS)
    if count == 0:
        return out
    wire = np.frombuffer(data, DETECTION_WIRE, count, offset)
    flags = wire["flags"]
    if flags.max() > FLAG_RANGE_RATE_RESOLVED:
        bad = int(np.flatnonzero(flags > FLAG_RANGE_RATE_RESOLVED)[0])
        raise LinkError(f"detections[{bad}].flags: 0x{int(flags[bad]):02x} has reserved bits set (only bit 0 is defined)")
    for name, wire_name in _SHARED:
        out[name] = wire[wire_name]
    out["position_covariance_ecef"] = wire["covariance_upper"][:, _FULL_FROM_UPPER]
    if count > 256:
        with np.errstate(all="ignore"):   # garbage positions (near the centre, NaN) give NaN, quietly
            lat, lon, alt = ecef_to_geodetic(out["position_ecef"])
    else:   # the compiled path for few points raises no floating-point warnings (and errstate costs ~3 us)
        lat, lon, alt = ecef_to_geodetic(out["position_ecef"])
    out["latitude_rad"] = lat
    out["longitude_rad"] = lon
    out["altitude_m"] = alt
    return out


def join_parts(parts: list[DwellDetections]) -> DwellDetections:
    """One whole dwell from all its parts (any order); LinkError if one is missing, repeated or inconsistent."""
    if not parts:
        raise LinkError("join_parts: no parts")
    total = parts[0].parts
    ordered = sorted(parts, key=lambda p: p.part)
    indices = [p.part for p in ordered]
    if indices != list(range(total)) or any(p.parts != total for p in parts):
        missing = sorted(set(range(total)) - set(indices))
        raise LinkError(f"join_parts: dwell {parts[0].dwell_id} needs parts 0..{total - 1}, received {indices} "
                        f"(parts fields {sorted({p.parts for p in parts})}, missing {missing[:10]})")
    reference = _comparable_header(ordered[0])
    for p in ordered[1:]:
        for name, value in _comparable_header(p).items():
            if value != reference[name]:
                raise LinkError(f"join_parts: part {p.part} {name} {getattr(p, name)!r} differs from part 0's "
                                f"{getattr(ordered[0], name)!r}")
    first = ordered[0]
    detections = (first.detections if total == 1
                  else np.concatenate([p.detections for p in ordered]))
    return DwellDetections(
        satellite_id=first.satellite_id, dwell_id=first.dwell_id, look_id=first.look_id,
        satellite_position_ecef=first.satellite_position_ecef, satellite_velocity_ecef=first.satellite_velocity_ecef,
        beam_centre_ecef=first.beam_centre_ecef, processing_time_s=first.processing_time_s,
        cells_tested=first.cells_tested, threshold_db=first.threshold_db,
        threshold_crossings=first.threshold_crossings, clusters=first.clusters, detections=detections)


def _comparable_header(dwell: DwellDetections) -> dict[str, object]:
    """Header fields as exactly comparable values (floats as their bytes, so NaN equals NaN)."""
    values: dict[str, object] = {name: getattr(dwell, name) for name in
                                 ("satellite_id", "dwell_id", "look_id", "cells_tested", "threshold_crossings",
                                  "clusters")}
    for name in (*_VECTORS, "processing_time_s", "threshold_db"):
        values[name] = np.asarray(getattr(dwell, name), dtype=np.float64).tobytes()
    return values
