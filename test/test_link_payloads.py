"""Payload codecs: byte-annotated literals, round trips, splitting, and malformed input (only LinkError)."""

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO_ROOT
from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.link.errors import LinkError
from sbamti.link.payloads import (DETECTION_FIELDS, RAW_BYTES_PER_DETECTION, WIRE_BYTES_PER_DETECTION, Command,
                                  CommandAck, CommandKind, CommandStatus, DwellDetections, Housekeeping, RadarMode,
                                  decode_ack, decode_command, decode_command_ack, decode_detections,
                                  decode_housekeeping, decode_nak, dwell_header_bytes, encode_ack, encode_command,
                                  encode_command_ack, encode_detections, encode_housekeeping, encode_nak, join_parts)

one_millimetre = 1e-3
geodetic_rad = 1e-9
MAX_PAYLOAD = 65_507 - 46   # one UDP datagram minus the frame overhead

FLOAT64_FIELDS = ["range_m", "position_ecef"]
FLOAT32_FIELDS = ["range_rate_mps", "azimuth_rad", "elevation_rad", "range_std_m", "range_rate_std_mps",
                  "azimuth_std_rad", "elevation_std_rad", "snr_db", "range_rate_blind_speed_mps"]


def _dwell(detections, **overrides) -> DwellDetections:
    fields = dict(satellite_id="sat01", dwell_id=12, look_id=4,
                  satellite_position_ecef=np.array([7.0e6, 1.0e5, -2.0e5]),
                  satellite_velocity_ecef=np.array([10.0, 7500.0, -3.0]),
                  beam_centre_ecef=np.array([6.3e6, 2.0e5, 1.0e5]), processing_time_s=0.0123,
                  cells_tested=96_000, threshold_db=13.8, threshold_crossings=40, clusters=len(detections),
                  detections=detections)
    fields.update(overrides)
    return DwellDetections(**fields)


def _random_detections(n: int, rng: np.random.Generator) -> np.ndarray:
    d = np.zeros(n, DETECTION_FIELDS)
    d["detection_id"] = rng.integers(0, 2**32, n, dtype=np.uint64)
    for name in ["range_m", *FLOAT32_FIELDS]:
        d[name] = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 7, n)
    d["range_rate_resolved"] = rng.random(n) < 0.5
    direction = rng.standard_normal((n, 3))
    d["position_ecef"] = direction / np.linalg.norm(direction, axis=1, keepdims=True) * rng.uniform(6.3e6, 7.5e6, (n, 1))
    a = rng.standard_normal((n, 3, 3)) * 10.0 ** rng.uniform(-3, 6, (n, 1, 1))
    d["position_covariance_ecef"] = (a @ a.transpose(0, 2, 1)).reshape(n, 9)   # symmetric
    d["latitude_rad"] = d["longitude_rad"] = d["altitude_m"] = np.nan            # not sent: recomputed
    return d


def _assert_decoded(original: DwellDetections, decoded: DwellDetections) -> None:
    """f8 fields exact, f4 fields equal to float32(x), lat/lon/alt the geodetic of the position."""
    for name in ["satellite_id", "dwell_id", "look_id", "cells_tested", "threshold_crossings", "clusters"]:
        assert getattr(decoded, name) == getattr(original, name), name
    for name in ["satellite_position_ecef", "satellite_velocity_ecef", "beam_centre_ecef"]:
        np.testing.assert_array_equal(getattr(decoded, name), getattr(original, name))
    np.testing.assert_equal(decoded.processing_time_s, float(np.float32(original.processing_time_s)))
    np.testing.assert_equal(decoded.threshold_db, float(np.float32(original.threshold_db)))
    a, b = original.detections, decoded.detections
    assert b.dtype == DETECTION_FIELDS and b.shape == a.shape
    np.testing.assert_array_equal(b["detection_id"], a["detection_id"])
    np.testing.assert_array_equal(b["range_rate_resolved"], a["range_rate_resolved"])
    for name in FLOAT64_FIELDS + ["position_covariance_ecef"]:
        np.testing.assert_array_equal(b[name], a[name], err_msg=name)
    for name in FLOAT32_FIELDS:
        np.testing.assert_array_equal(b[name], a[name].astype(np.float32).astype(np.float64), err_msg=name)
    back = geodetic_to_ecef(b["latitude_rad"], b["longitude_rad"], b["altitude_m"])
    np.testing.assert_allclose(back, a["position_ecef"], rtol=0, atol=one_millimetre)


# ---------------------------------------------------------------- sizes


def test_raw_bytes_per_detection_is_the_sum_of_detection_msg_field_sizes():
    sizes = {"uint32": 4, "float64": 8, "bool": 1}
    names, total = [], 0
    for line in (REPO_ROOT / "msg" / "Detection.msg").read_text().splitlines():
        match = re.match(r"\s*(\w+)(?:\[(\d+)\])?\s+(\w+)", line.split("#")[0])
        if match:
            kind, count, name = match.groups()
            total += sizes[kind] * int(count or 1)
            names.append(name)
    assert total == 205 == RAW_BYTES_PER_DETECTION      # u32 + 13 f8 + bool + f8[3] + f8[9]
    assert list(DETECTION_FIELDS.names) == names          # the in-memory record mirrors the message
    # u32 + f8 + 8 f4 + u8 + f4 + 3 f8 + 6 f8
    assert WIRE_BYTES_PER_DETECTION == 4 + 8 + 8 * 4 + 1 + 4 + 3 * 8 + 6 * 8 == 121


# ---------------------------------------------------------------- byte-annotated literals


def test_command_literals():
    mode = bytes.fromhex(
        "01020304"       # command_id u32 = 0x01020304
        "01"             # kind u8 = SET_RADAR_MODE
        "00")            # mode u8 = STANDBY
    assert encode_command(Command(0x01020304, CommandKind.SET_RADAR_MODE, radar_mode=RadarMode.STANDBY)) == mode
    assert decode_command(mode) == Command(0x01020304, CommandKind.SET_RADAR_MODE, radar_mode=RadarMode.STANDBY)
    areas = bytes.fromhex(
        "00000007"       # command_id = 7
        "02"             # kind = SET_AREAS_OF_INTEREST
        "02"             # count u8 = 2
        "02" "6e73"      # name 0: length 2, "ns"
        "03" "c3a97a")   # name 1: length 3, "éz" (é is 2 UTF-8 octets)
    assert encode_command(Command(7, CommandKind.SET_AREAS_OF_INTEREST, area_names=("ns", "éz"))) == areas
    assert decode_command(areas).area_names == ("ns", "éz")
    priority = bytes.fromhex(
        "ffffffff"       # command_id = 2^32 - 1
        "03"             # kind = SET_DOWNLINK_PRIORITY
        "0101"           # apid u16 = 0x101 (HOUSEKEEPING)
        "c8")            # priority u8 = 200
    assert encode_command(Command(2**32 - 1, CommandKind.SET_DOWNLINK_PRIORITY, apid=0x101, priority=200)) == priority
    assert decode_command(priority) == Command(2**32 - 1, CommandKind.SET_DOWNLINK_PRIORITY, apid=0x101, priority=200)


def test_ack_nak_and_command_ack_literals():
    ack = bytes.fromhex(
        "0000000a"              # cumulative u32 = 10: every link sequence <= 10 received
        "0002"                  # range count u16 = 2
        "0000000c" "0000000d"   # range 0: 12..13 (inclusive)
        "00000014" "00000014")  # range 1: 20..20
    assert encode_ack(10, [(12, 13), (20, 20)]) == ack
    assert decode_ack(ack) == (10, [(12, 13), (20, 20)])
    nak = bytes.fromhex("0001" "0000000b" "0000000b")   # count 1, range 11..11
    assert encode_nak([(11, 11)]) == nak and decode_nak(nak) == [(11, 11)]
    command_ack = bytes.fromhex(
        "00000007"       # command_id = 7
        "01"             # status u8 = REJECTED
        "0002" "6e6f")   # message: u16 length 2, "no"
    assert encode_command_ack(CommandAck(7, CommandStatus.REJECTED, "no")) == command_ack
    assert decode_command_ack(command_ack) == CommandAck(7, CommandStatus.REJECTED, "no")


def test_one_detection_dwell_literal():
    literal = bytes.fromhex(
        # --- dwell header
        "01"                      # format version u8 = 1
        "02" "7331"               # satellite_id: length 2, "s1"
        "0102030405060708"        # dwell_id u64
        "0000000000000009"        # look_id u64 = 9
        "0000" "0001"             # part u16 = 0, parts u16 = 1
        "415ab3f000000000" "bff0000000000000" "3fe0000000000000"   # satellite position f8: 7e6, -1, 0.5
        "0000000000000000" "40bd4c0000000000" "3ff0000000000000"   # satellite velocity f8: 0, 7500, 1
        "415854a640000000" "0000000000000000" "0000000000000000"   # beam centre f8: 6378137, 0, 0
        "3e800000"                # processing_time_s f4 = 0.25
        "0000000000007d00"        # cells_tested u64 = 32000
        "41580000"                # threshold_db f4 = 13.5
        "00000028"                # threshold_crossings u32 = 40
        "00000003"                # clusters u32 = 3
        "0001"                    # detection count u16 = 1
        # --- detection record (121 octets)
        "00000007"                # detection_id u32 = 7
        "4136e36000000000"        # range_m f8 = 1.5e6
        "c4162000"                # range_rate_mps f4 = -600.5
        "3d800000"                # azimuth_rad f4 = 0.0625
        "be000000"                # elevation_rad f4 = -0.125
        "40000000"                # range_std_m f4 = 2
        "3f800000"                # range_rate_std_mps f4 = 1
        "3a800000"                # azimuth_std_rad f4 = 2^-10
        "3c800000"                # elevation_std_rad f4 = 2^-6
        "41700000"                # snr_db f4 = 15
        "01"                      # flags u8: bit 0 range_rate_resolved = 1
        "44000000"                # range_rate_blind_speed_mps f4 = 512
        "415854a640000000" "0000000000000000" "0000000000000000"   # position_ecef f8: (a, 0, 0)
        "4010000000000000" "3ff0000000000000" "0000000000000000"   # covariance xx = 4, xy = 1, xz = 0
        "4022000000000000" "c000000000000000" "4030000000000000")  # covariance yy = 9, yz = -2, zz = 16
    d = np.zeros(1, DETECTION_FIELDS)
    d[0] = (7, 1.5e6, -600.5, 0.0625, -0.125, 2.0, 1.0, 2**-10, 2**-6, 15.0, True, 512.0, (6378137.0, 0, 0),
            (4, 1, 0, 1, 9, -2, 0, -2, 16), 0, 0, 0)
    dwell = DwellDetections("s1", 0x0102030405060708, 9, np.array([7e6, -1, 0.5]), np.array([0, 7500.0, 1]),
                            np.array([6378137.0, 0, 0]), 0.25, 32000, 13.5, 40, 3, d)
    assert len(literal) == dwell_header_bytes("s1") + WIRE_BYTES_PER_DETECTION == 122 + 121
    assert encode_detections(dwell, max_payload_bytes=MAX_PAYLOAD) == [literal]
    decoded = decode_detections(literal)
    _assert_decoded(dwell, decoded)
    lat, lon, alt = decoded.detections[0][["latitude_rad", "longitude_rad", "altitude_m"]].tolist()
    assert abs(lat) < geodetic_rad and abs(lon) < geodetic_rad and abs(alt) < one_millimetre   # on the equator


# ---------------------------------------------------------------- detections


def test_detection_round_trip_and_byte_stable_reencoding():
    dwell = _dwell(_random_detections(20, np.random.default_rng(1)))
    [payload] = encode_detections(dwell, max_payload_bytes=MAX_PAYLOAD)
    assert len(payload) == dwell_header_bytes("sat01") + 20 * WIRE_BYTES_PER_DETECTION
    buffer = bytearray(payload)
    decoded = decode_detections(memoryview(buffer))
    buffer[:] = bytes(len(buffer))                 # the decoded dwell does not alias the receive buffer
    _assert_decoded(dwell, decoded)
    assert (decoded.part, decoded.parts) == (0, 1)
    assert encode_detections(decoded, max_payload_bytes=MAX_PAYLOAD) == [payload]


def test_covariance_is_symmetrised_before_sending():
    d = _random_detections(3, np.random.default_rng(2))
    d["position_covariance_ecef"] = np.arange(27.0).reshape(3, 9)
    decoded = decode_detections(encode_detections(_dwell(d), max_payload_bytes=MAX_PAYLOAD)[0]).detections
    c = np.arange(27.0).reshape(3, 3, 3)
    np.testing.assert_array_equal(decoded["position_covariance_ecef"].reshape(3, 3, 3),
                                  (c + c.transpose(0, 2, 1)) / 2)


def test_zero_detection_dwell_is_one_part():
    dwell = _dwell(np.zeros(0, DETECTION_FIELDS))
    [payload] = encode_detections(dwell, max_payload_bytes=dwell_header_bytes("sat01"))
    decoded = decode_detections(payload)
    assert decoded.detections.shape == (0,) and decoded.detections.dtype == DETECTION_FIELDS
    assert join_parts([decoded]).detections.shape == (0,)


def test_split_into_parts_and_join_in_any_order():
    dwell = _dwell(_random_detections(25, np.random.default_rng(3)))
    limit = dwell_header_bytes("sat01") + 7 * WIRE_BYTES_PER_DETECTION + 120   # room for 7 per part
    payloads = encode_detections(dwell, max_payload_bytes=limit)
    parts = [decode_detections(p) for p in payloads]
    assert [(p.part, p.parts, len(p.detections)) for p in parts] == [(0, 4, 7), (1, 4, 7), (2, 4, 7), (3, 4, 4)]
    assert all(len(p) <= limit for p in payloads)
    joined = join_parts(parts[::-1])
    _assert_decoded(dwell, joined)
    assert (joined.part, joined.parts) == (0, 1)
    assert encode_detections(parts[2], max_payload_bytes=limit) == [payloads[2]]   # one part re-encodes as itself
    assert encode_detections(joined, max_payload_bytes=limit) == payloads


def test_join_parts_rejects_missing_repeated_and_inconsistent_parts():
    payloads = encode_detections(_dwell(_random_detections(10, np.random.default_rng(4))),
                                 max_payload_bytes=dwell_header_bytes("sat01") + 4 * WIRE_BYTES_PER_DETECTION)
    parts = [decode_detections(p) for p in payloads]
    assert len(parts) == 3
    with pytest.raises(LinkError, match=r"missing \[1\]"):
        join_parts([parts[0], parts[2]])
    with pytest.raises(LinkError, match="needs parts 0..2"):
        join_parts([parts[0], parts[1], parts[1]])
    parts[1].look_id = 99
    with pytest.raises(LinkError, match="part 1 look_id 99 differs"):
        join_parts(parts)
    with pytest.raises(LinkError, match="no parts"):
        join_parts([])


def test_encode_limits():
    header = dwell_header_bytes("sat01")
    with pytest.raises(LinkError, match="cannot hold the 125-octet dwell header and one detection"):
        encode_detections(_dwell(np.zeros(1, DETECTION_FIELDS)), max_payload_bytes=header + 120)
    with pytest.raises(LinkError, match="cannot hold the 125-octet dwell header"):
        encode_detections(_dwell(np.zeros(0, DETECTION_FIELDS)), max_payload_bytes=header - 1)
    one_part = encode_detections(_dwell(np.zeros(65536, DETECTION_FIELDS)), max_payload_bytes=10**8)
    assert [decode_detections(p).detections.size for p in one_part] == [65535, 1]   # count is a u16
    with pytest.raises(LinkError, match="need 65536 parts"):
        encode_detections(_dwell(np.zeros(65536, DETECTION_FIELDS)), max_payload_bytes=header + 121)
    with pytest.raises(LinkError, match="satellite_id: 65 UTF-8 octets"):
        encode_detections(_dwell(np.zeros(0, DETECTION_FIELDS), satellite_id="x" * 65), max_payload_bytes=MAX_PAYLOAD)
    with pytest.raises(LinkError, match="threshold_crossings: -1 outside the u32 range"):
        encode_detections(_dwell(np.zeros(0, DETECTION_FIELDS), threshold_crossings=-1), max_payload_bytes=999)
    with pytest.raises(LinkError, match="expected a 1-D array of DETECTION_FIELDS"):
        encode_detections(_dwell(np.zeros(2)), max_payload_bytes=MAX_PAYLOAD)
    big = np.zeros(3, DETECTION_FIELDS)
    big["snr_db"][2] = 1e39
    with pytest.raises(LinkError, match=r"detections\[2\].snr_db: 1e\+39 outside the float32 range"):
        encode_detections(_dwell(big), max_payload_bytes=MAX_PAYLOAD)


def test_malformed_detection_payloads_name_the_field():
    [payload] = encode_detections(_dwell(_random_detections(2, np.random.default_rng(5))), max_payload_bytes=MAX_PAYLOAD)
    flags_at = dwell_header_bytes("sat01") + WIRE_BYTES_PER_DETECTION + 4 + 8 + 8 * 4
    cases = {
        b"\x02" + payload[1:]: r"version: 2, expected 1",
        payload[:1] + b"\x41" + payload[2:]: r"satellite_id length: 65 octets",
        payload[:2] + b"\xff" + payload[3:]: r"satellite_id: invalid UTF-8",
        payload[:60]: r"truncated header, 60 octets, needs 125",
        payload[:-1]: r"count: 2 detections need 242 octets after the 125-octet header, received 241",
        payload + b"\x00": r"received 243",
        payload[:flags_at] + b"\x03" + payload[flags_at + 1:]: r"detections\[1\].flags: 0x03 has reserved bits",
        payload[:2 + 5 + 16] + b"\x00\x01\x00\x01" + payload[2 + 5 + 20:]: r"part: 1 not in \[0, parts=1\)",
        b"": "truncated",
    }
    for data, message in cases.items():
        with pytest.raises(LinkError, match=message):
            decode_detections(data)


# ---------------------------------------------------------------- housekeeping, ack, nak, commands


def _housekeeping() -> Housekeeping:
    return Housekeeping(node_name="/sat01/onboard_detector", level=1, message="rejecting stale dwells — 3 so far",
                        heartbeat_count=41, uptime_s=12.5, messages_in=1000, messages_out=998, rejected_total=3,
                        counter_names=["radar/dwell:stale", "orbit/state:invalid"], counter_values=[2, 1],
                        stamp_sec=1_700_000_000, stamp_nanosec=999_999_999)


def test_housekeeping_round_trip_and_errors():
    status = _housekeeping()
    payload = encode_housekeeping(status)
    assert decode_housekeeping(payload) == status
    assert payload[0] == 1                                                # format version
    assert payload[1:9] == (1_700_000_000).to_bytes(4, "big") + (999_999_999).to_bytes(4, "big")
    with pytest.raises(LinkError, match="housekeeping.level: 3"):
        encode_housekeeping(Housekeeping(**{**vars(status), "level": 3}))
    with pytest.raises(LinkError, match="housekeeping.level: 3"):
        decode_housekeeping(payload[:9] + b"\x03" + payload[10:])
    with pytest.raises(LinkError, match="housekeeping.version: 0"):
        decode_housekeeping(b"\x00" + payload[1:])
    with pytest.raises(LinkError, match="stamp_nanosec: 1000000000"):
        encode_housekeeping(Housekeeping(**{**vars(status), "stamp_nanosec": 10**9}))
    with pytest.raises(LinkError, match="2 counter_names but 1 counter_values"):
        encode_housekeeping(Housekeeping(**{**vars(status), "counter_values": [1]}))
    with pytest.raises(LinkError, match="message: 1025 UTF-8 octets, at most 1024"):
        encode_housekeeping(Housekeeping(**{**vars(status), "message": "m" * 1025}))
    with pytest.raises(LinkError, match="counter_names: 257 entries, at most 256"):
        encode_housekeeping(Housekeeping(**{**vars(status), "counter_names": ["c"] * 257,
                                            "counter_values": [0] * 257}))
    with pytest.raises(LinkError, match="1 trailing octets"):
        decode_housekeeping(payload + b"\x00")


def test_ack_and_nak_ranges_are_validated_both_ways():
    assert decode_ack(encode_ack(0, [])) == (0, [])
    assert decode_nak(encode_nak([])) == []
    bad = {"below cumulative": (5, [(5, 6)]), "unsorted": (0, [(8, 9), (3, 4)]),
           "overlapping": (0, [(3, 5), (5, 6)]), "first > last": (0, [(4, 3)])}
    for cumulative, ranges in bad.values():
        with pytest.raises(LinkError, match=r"ack.ranges\[\d\]"):
            encode_ack(cumulative, ranges)
        flat = b"".join(a.to_bytes(4, "big") + b.to_bytes(4, "big") for a, b in ranges)
        with pytest.raises(LinkError, match=r"ack.ranges\[\d\]"):
            decode_ack(cumulative.to_bytes(4, "big") + len(ranges).to_bytes(2, "big") + flat)
    with pytest.raises(LinkError, match=r"nak.ranges\[1\]: \(3, 4\)"):
        decode_nak(bytes.fromhex("0002" "00000008" "00000009" "00000003" "00000004"))
    with pytest.raises(LinkError, match="range count: 257"):
        decode_nak(bytes.fromhex("0101") + b"\x00" * 257 * 8)
    with pytest.raises(LinkError, match=r"ack.ranges\[0\].last: 4294967296 outside the u32 range"):
        encode_ack(0, [(1, 2**32)])
    with pytest.raises(LinkError, match="ranges: truncated"):
        decode_ack(bytes.fromhex("00000000" "0001" "00000001"))


def test_command_and_command_ack_errors():
    with pytest.raises(LinkError, match="command.kind: unknown value 4"):
        decode_command(bytes.fromhex("00000001" "04"))
    with pytest.raises(LinkError, match="command.radar_mode: unknown value 2"):
        decode_command(bytes.fromhex("00000001" "01" "02"))
    with pytest.raises(LinkError, match="command.radar_mode: unknown value 7"):
        encode_command(Command(1, CommandKind.SET_RADAR_MODE, radar_mode=7))
    with pytest.raises(LinkError, match=r"command.area_names\[0\]: invalid UTF-8"):
        decode_command(bytes.fromhex("00000001" "02" "01" "01" "ff"))
    with pytest.raises(LinkError, match="1 trailing octets"):
        decode_command(bytes.fromhex("00000001" "03" "0100" "01" "00"))
    with pytest.raises(LinkError, match="command.priority: 256"):
        encode_command(Command(1, CommandKind.SET_DOWNLINK_PRIORITY, apid=0x100, priority=256))
    with pytest.raises(LinkError, match="command_ack.status: unknown value 2"):
        decode_command_ack(bytes.fromhex("00000001" "02" "0000"))
    with pytest.raises(LinkError, match="command_ack.message: length 1025 octets"):
        decode_command_ack(bytes.fromhex("00000001" "00" "0401") + b"x" * 1025)
    with pytest.raises(LinkError, match="command_ack.message: not encodable"):
        encode_command_ack(CommandAck(1, CommandStatus.EXECUTED, "\ud800"))


# ---------------------------------------------------------------- properties

names = st.text(st.characters(blacklist_categories=("Cs",)), max_size=16)   # <= 64 UTF-8 octets
u32, u64 = st.integers(0, 2**32 - 1), st.integers(0, 2**64 - 1)
float32_range = st.floats(-3e38, 3e38) | st.sampled_from([np.nan, np.inf, -np.inf])   # float64 values


@st.composite
def inclusive_ranges(draw, above: int = -1):
    cuts = sorted(set(draw(st.lists(st.integers(above + 1, 2**32 - 1), max_size=40))))
    return list(zip(cuts[0::2], cuts[1::2]))


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), satellite_id=names, ids=st.tuples(u64, u64, u64),
       counts=st.tuples(u32, u32), header_f4=st.tuples(float32_range, float32_range),
       max_per_part=st.integers(1, 50))
def test_property_detections_round_trip(seed, n, satellite_id, ids, counts, header_f4, max_per_part):
    rng = np.random.default_rng(seed)
    dwell = _dwell(_random_detections(n, rng), satellite_id=satellite_id, dwell_id=ids[0], look_id=ids[1],
                   cells_tested=ids[2], threshold_crossings=counts[0], clusters=counts[1],
                   processing_time_s=header_f4[0], threshold_db=header_f4[1],
                   satellite_position_ecef=rng.standard_normal(3) * 1e7)
    limit = dwell_header_bytes(satellite_id) + max_per_part * WIRE_BYTES_PER_DETECTION
    payloads = encode_detections(dwell, max_payload_bytes=limit)
    assert len(payloads) == max(1, -(-n // max_per_part)) and all(len(p) <= limit for p in payloads)
    joined = join_parts([decode_detections(p) for p in payloads])
    _assert_decoded(dwell, joined)
    assert encode_detections(joined, max_payload_bytes=limit) == payloads


@settings(max_examples=60, deadline=None)
@given(node=names, level=st.sampled_from([0, 1, 2]), message=st.text(st.characters(blacklist_categories=("Cs",)), max_size=100), values=st.tuples(u64, u64, u64, u64),
       uptime=st.floats(allow_nan=False), counters=st.lists(st.tuples(names, u64), max_size=10),
       stamp=st.tuples(st.integers(-(2**31), 2**31 - 1), st.integers(0, 999_999_999)))
def test_property_housekeeping_round_trip(node, level, message, values, uptime, counters, stamp):
    status = Housekeeping(node_name=node, level=level, message=message, heartbeat_count=values[0], uptime_s=uptime,
                          messages_in=values[1], messages_out=values[2], rejected_total=values[3],
                          counter_names=[c[0] for c in counters], counter_values=[c[1] for c in counters],
                          stamp_sec=stamp[0], stamp_nanosec=stamp[1])
    assert decode_housekeeping(encode_housekeeping(status)) == status


@settings(max_examples=60, deadline=None)
@given(cumulative=u32, data=st.data())
def test_property_ack_nak_round_trip(cumulative, data):
    received = data.draw(inclusive_ranges(cumulative)) if cumulative < 2**32 - 1 else []
    assert decode_ack(encode_ack(cumulative, received)) == (cumulative, received)
    missing = data.draw(inclusive_ranges())
    assert decode_nak(encode_nak(missing)) == missing


commands = st.one_of(
    st.builds(Command, u32, st.just(CommandKind.SET_RADAR_MODE), radar_mode=st.sampled_from(RadarMode)),
    st.builds(Command, u32, st.just(CommandKind.SET_AREAS_OF_INTEREST),
              area_names=st.lists(names, max_size=10).map(tuple)),
    st.builds(Command, u32, st.just(CommandKind.SET_DOWNLINK_PRIORITY), apid=st.integers(0, 0xFFFF),
              priority=st.integers(0, 255)))


@settings(max_examples=80, deadline=None)
@given(command=commands, ack=st.builds(CommandAck, u32, st.sampled_from(CommandStatus),
                                      st.text(st.characters(blacklist_categories=("Cs",)), max_size=200)))
def test_property_command_round_trip(command, ack):
    assert decode_command(encode_command(command)) == command
    assert decode_command_ack(encode_command_ack(ack)) == ack


DECODERS = [decode_detections, decode_housekeeping, decode_ack, decode_nak, decode_command, decode_command_ack]


def _valid_payloads() -> list[bytes]:
    rng = np.random.default_rng(6)
    return [encode_detections(_dwell(_random_detections(2, rng)), max_payload_bytes=MAX_PAYLOAD)[0],
            encode_housekeeping(_housekeeping()), encode_ack(3, [(5, 9), (12, 12)]), encode_nak([(1, 2), (7, 7)]),
            encode_command(Command(1, CommandKind.SET_AREAS_OF_INTEREST, area_names=("a", "bc"))),
            encode_command_ack(CommandAck(1, CommandStatus.REJECTED, "unknown area"))]


VALID = _valid_payloads()


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(which=st.integers(0, len(DECODERS) - 1), data=st.data())
def test_property_malformed_input_raises_only_link_error(which, data):
    valid = VALID[which]
    mode = data.draw(st.sampled_from(["random", "truncate", "extend", "flip"]))
    if mode == "random":
        blob = data.draw(st.binary(max_size=300))
    elif mode == "truncate":
        blob = valid[:data.draw(st.integers(0, len(valid)))]
    elif mode == "extend":
        blob = valid + data.draw(st.binary(min_size=1, max_size=20))
    else:
        blob = bytearray(valid)
        for _ in range(data.draw(st.integers(1, 4))):
            blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        blob = bytes(blob)
    for decoder in (DECODERS[which], *DECODERS):
        try:
            decoder(blob)
        except LinkError:
            pass
