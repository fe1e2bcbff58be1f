"""CRC-16-CCITT of the frame trailer (the CCSDS frame error control polynomial)."""

from binascii import crc_hqx

__all__ = ["crc16_ccitt"]


def crc16_ccitt(data: bytes | bytearray | memoryview, initial: int = 0xFFFF) -> int:
    """CRC-16-CCITT of ``data``: polynomial 0x1021, preset ``initial``, no reflection, no final xor.

    This is the variant often called CRC-16/CCITT-FALSE (check value of b"123456789" is 0x29B1).
    ``binascii.crc_hqx`` computes exactly it in C; ``initial`` lets a caller continue a CRC over
    several pieces. Appending the result big-endian to ``data`` makes the CRC of the whole zero,
    which is how the deframer checks a frame in one call.
    """
    return crc_hqx(data, initial)
