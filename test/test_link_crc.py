"""CRC-16-CCITT of the link frame trailer against published values and a bitwise reference."""

import random

import pytest

from sbamti.link.crc import crc16_ccitt


def crc16_bitwise(data: bytes, crc: int = 0xFFFF) -> int:
    """Reference: shift each bit through polynomial 0x1021 (MSB first), no reflection, no final xor."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


@pytest.mark.parametrize("data, expected", [
    (b"123456789", 0x29B1),  # the catalogued check value of CRC-16/CCITT-FALSE
    (b"", 0xFFFF),           # nothing processed: the preset
    (b"A", 0xB915),          # widely published CRC-CCITT (0xFFFF) value of one "A"
])
def test_published_values(data, expected):
    assert crc16_ccitt(data) == expected
    assert crc16_bitwise(data) == expected


def test_agrees_with_bitwise_reference_on_random_data():
    rng = random.Random(1)
    for length in list(range(40)) + [255, 256, 1000, 2048]:
        data = rng.randbytes(length)
        assert crc16_ccitt(data) == crc16_bitwise(data), length
        assert crc16_ccitt(memoryview(data)) == crc16_ccitt(bytearray(data))


def test_initial_value_continues_a_crc_over_pieces():
    data = bytes(range(200))
    assert crc16_ccitt(data[80:], crc16_ccitt(data[:80])) == crc16_ccitt(data)
    assert crc16_ccitt(b"123456789", 0) == crc16_bitwise(b"123456789", 0) != 0x29B1


def test_appending_the_crc_big_endian_leaves_zero():
    # The deframer checks a frame with one CRC over data + trailer; that relies on this residue.
    rng = random.Random(2)
    for length in (0, 1, 17, 500):
        data = rng.randbytes(length)
        assert crc16_ccitt(data + crc16_ccitt(data).to_bytes(2, "big")) == 0
        assert crc16_ccitt(data + crc16_ccitt(data).to_bytes(2, "little")) != 0 or length == 0
