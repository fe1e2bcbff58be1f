"""CCSDS Unsegmented Time Code (CUC, CCSDS 301.0-B) as carried in the packet secondary header.

Agency-defined epoch 1970-01-01T00:00:00 UTC, implicit P-field: 4 octets of coarse time (whole
seconds, u32) then 4 octets of fine time (u32, units of 2**-32 s), big-endian. Nanoseconds map to
fine time rounding up and back rounding down, so every (sec, nanosec) round-trips exactly
(one fine unit, ~0.23 ns, is finer than one nanosecond).
"""

from __future__ import annotations

import struct

from sbamti.link.errors import LinkError

__all__ = ["CUC_LENGTH", "decode_cuc", "encode_cuc", "fine_to_nanosec", "nanosec_to_fine"]

CUC_LENGTH = 8
_CUC = struct.Struct(">II")
_NS_PER_S = 1_000_000_000
_U32_MAX = 0xFFFF_FFFF


def nanosec_to_fine(nanosec: int) -> int:
    """Fine time (units of 2**-32 s) for ``nanosec`` in [0, 1e9): ceil(nanosec * 2**32 / 1e9)."""
    return -((-nanosec << 32) // _NS_PER_S)


def fine_to_nanosec(fine: int) -> int:
    """Nanoseconds for a fine time ``fine`` in [0, 2**32): floor(fine * 1e9 / 2**32), always < 1e9."""
    return (fine * _NS_PER_S) >> 32


def encode_cuc(sec: int, nanosec: int) -> bytes:
    """The 8-octet CUC T-field of the time ``sec`` s + ``nanosec`` ns after 1970-01-01 UTC."""
    if not 0 <= sec <= _U32_MAX:
        raise LinkError(f"time_sec: {sec} does not fit the 4-octet CUC coarse time (0..{_U32_MAX})")
    if not 0 <= nanosec < _NS_PER_S:
        raise LinkError(f"time_nanosec: {nanosec} is outside 0..999999999")
    return _CUC.pack(sec, nanosec_to_fine(nanosec))


def decode_cuc(data: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(sec, nanosec) of an 8-octet CUC T-field; LinkError for any other length."""
    if len(data) != CUC_LENGTH:
        raise LinkError(f"CUC time code: length {len(data)} octets, expected {CUC_LENGTH}")
    sec, fine = _CUC.unpack(data)
    return sec, fine_to_nanosec(fine)
