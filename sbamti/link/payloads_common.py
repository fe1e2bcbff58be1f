"""Bounded big-endian readers and writers shared by the payload codecs.

Every decoding failure (too few octets, trailing octets, a length or count above its bound, bad
UTF-8, an unknown enum value) raises :class:`~sbamti.link.errors.LinkError` naming the field and
the value, so a decoder lets nothing else escape. Encoders check the same bounds before packing.
"""

from __future__ import annotations

import operator
import struct
from enum import IntEnum

from sbamti.link.errors import LinkError

MAX_NAME_OCTETS = 64        # satellite ids, node names, counter names, area names (UTF-8 octets)
MAX_MESSAGE_OCTETS = 1024   # free-text messages (housekeeping, command acknowledgements)
MAX_COUNT = 256             # list lengths: housekeeping counters, ACK/NAK ranges

U8 = struct.Struct(">B")
U16 = struct.Struct(">H")
U32 = struct.Struct(">I")
U64 = struct.Struct(">Q")
_LENGTHS = {1: U8, 2: U16}


def as_bytes(payload: object, what: str) -> bytes:
    """``payload`` as ``bytes`` (a bytearray or memoryview is copied: decoders never keep a view)."""
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    raise LinkError(f"{what}: expected bytes, bytearray or memoryview, received {type(payload).__name__}")


def check_uint(field: str, value: object, bits: int) -> int:
    """``value`` as an int in [0, 2**bits), else LinkError naming ``field`` and the value."""
    try:
        number = operator.index(value)
    except TypeError:
        raise LinkError(f"{field}: expected an integer, received {value!r}") from None
    if not 0 <= number < (1 << bits):
        raise LinkError(f"{field}: {number} outside the u{bits} range [0, {(1 << bits) - 1}]")
    return number


def check_count(field: str, count: int, limit: int = MAX_COUNT) -> None:
    """LinkError if a list length exceeds ``limit``."""
    if count > limit:
        raise LinkError(f"{field}: {count} entries, at most {limit} allowed")


def pack_string(field: str, text: object, max_octets: int, length_octets: int = 1) -> bytes:
    """Length prefix (u8 or u16) + UTF-8 of ``text``; LinkError if not a str, not encodable or too long."""
    if not isinstance(text, str):
        raise LinkError(f"{field}: expected a str, received {type(text).__name__}")
    try:
        raw = text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LinkError(f"{field}: not encodable as UTF-8 ({exc.reason} at character {exc.start})") from None
    if len(raw) > max_octets:
        raise LinkError(f"{field}: {len(raw)} UTF-8 octets, at most {max_octets} allowed")
    return _LENGTHS[length_octets].pack(len(raw)) + raw


def enum_value(field: str, enum: type[IntEnum], value: object) -> IntEnum:
    """``enum(value)``, or LinkError naming the field, the value and the members."""
    try:
        return enum(value)
    except ValueError:
        members = ", ".join(f"{m.value} ({m.name})" for m in enum)
        raise LinkError(f"{field}: unknown value {value!r}, expected one of {members}") from None


class Reader:
    """Cursor over one payload: reads fixed fields and bounded strings, then :meth:`finish`."""

    __slots__ = ("data", "pos", "what")

    def __init__(self, payload: object, what: str):
        self.data = as_bytes(payload, what)
        self.pos = 0
        self.what = what

    def unpack(self, layout: struct.Struct, field: str) -> tuple:
        """The values of ``layout`` at the cursor; LinkError if the payload ends first."""
        end = self.pos + layout.size
        if end > len(self.data):
            raise LinkError(f"{self.what}.{field}: truncated, needs {layout.size} octets at offset {self.pos}, "
                            f"{len(self.data) - self.pos} left")
        values = layout.unpack_from(self.data, self.pos)
        self.pos = end
        return values

    def uint(self, layout: struct.Struct, field: str) -> int:
        """One unsigned integer of ``layout`` (U8, U16, U32 or U64)."""
        return self.unpack(layout, field)[0]

    def take(self, size: int, field: str) -> bytes:
        """The next ``size`` octets."""
        end = self.pos + size
        if end > len(self.data):
            raise LinkError(f"{self.what}.{field}: truncated, needs {size} octets at offset {self.pos}, "
                            f"{len(self.data) - self.pos} left")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def string(self, field: str, max_octets: int, length_octets: int = 1) -> str:
        """A length-prefixed UTF-8 string of at most ``max_octets`` octets."""
        size = self.uint(_LENGTHS[length_octets], field + " length")
        if size > max_octets:
            raise LinkError(f"{self.what}.{field}: length {size} octets, at most {max_octets} allowed")
        raw = self.take(size, field)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise LinkError(f"{self.what}.{field}: invalid UTF-8 ({exc.reason} at octet {exc.start}): "
                            f"{raw[:32]!r}") from None

    def finish(self) -> None:
        """LinkError unless every octet was read."""
        if self.pos != len(self.data):
            raise LinkError(f"{self.what}: {len(self.data) - self.pos} trailing octets after offset {self.pos}")
