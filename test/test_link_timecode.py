"""CCSDS unsegmented time code (4 + 4 octets, epoch 1970 UTC) of the packet secondary header."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sbamti.link.errors import LinkError
from sbamti.link.timecode import CUC_LENGTH, decode_cuc, encode_cuc

# 2028-01-01T00:00:00Z = (58 * 365 + 14) * 86400 s = 1_830_297_600 s = 0x6D182000.
EPOCH_2028_S = 1_830_297_600


@pytest.mark.parametrize("sec, nanosec, octets", [
    (0, 0, (b"\x00\x00\x00\x00" b"\x00\x00\x00\x00")),
    # Half a second is exactly 2**31 fine units.
    (EPOCH_2028_S, 500_000_000, (b"\x6d\x18\x20\x00" b"\x80\x00\x00\x00")),
    # 1 ns = 4.294967296 units, rounded up to 5.
    (1, 1, (b"\x00\x00\x00\x01" b"\x00\x00\x00\x05")),
    # 999,999,999 ns = 4294967291.7... units, rounded up to 0xFFFFFFFC.
    (0xFFFFFFFF, 999_999_999, (b"\xff\xff\xff\xff" b"\xff\xff\xff\xfc")),
    # 0.25 s = 2**30 units.
    (1_000_000, 250_000_000, (b"\x00\x0f\x42\x40" b"\x40\x00\x00\x00")),
])
def test_known_encodings(sec, nanosec, octets):
    assert CUC_LENGTH == 8
    assert encode_cuc(sec, nanosec) == octets
    assert decode_cuc(octets) == (sec, nanosec)
    assert decode_cuc(memoryview(b"xx" + octets)[2:]) == (sec, nanosec)


@settings(max_examples=500, deadline=None, database=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 10**9 - 1))
def test_every_time_round_trips_and_fine_is_within_one_unit(sec, nanosec):
    octets = encode_cuc(sec, nanosec)
    assert decode_cuc(octets) == (sec, nanosec)
    fine = int.from_bytes(octets[4:], "big")
    exact = nanosec * 2**32 / 1e9
    assert exact - 1e-6 <= fine < exact + 1 + 1e-6


def test_round_trip_at_the_edges_of_each_nanosecond_region():
    for nanosec in list(range(2000)) + list(range(10**9 - 2000, 10**9)) + [2**k for k in range(30)]:
        assert decode_cuc(encode_cuc(7, nanosec)) == (7, nanosec), nanosec


def test_any_fine_value_decodes_below_one_second():
    assert decode_cuc(b"\x00\x00\x00\x00\xff\xff\xff\xff") == (0, 999_999_999)
    assert decode_cuc(b"\x00\x00\x00\x00\x00\x00\x00\x04") == (0, 0)  # 4 units = 0.93 ns


@pytest.mark.parametrize("sec, nanosec, match", [
    (-1, 0, r"time_sec: -1 "),
    (2**32, 0, r"time_sec: 4294967296 "),
    (0, 10**9, r"time_nanosec: 1000000000 "),
    (0, -1, r"time_nanosec: -1 "),
])
def test_out_of_range_fields_are_rejected(sec, nanosec, match):
    with pytest.raises(LinkError, match=match):
        encode_cuc(sec, nanosec)


@pytest.mark.parametrize("length", [0, 7, 9])
def test_wrong_length_is_rejected(length):
    with pytest.raises(LinkError, match=f"length {length} octets, expected 8"):
        decode_cuc(bytes(length))
