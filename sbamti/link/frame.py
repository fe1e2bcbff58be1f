"""Frames on the wire: encode (build, authenticate, checksum) and deframe (find, check, verify).

A frame is the attached sync marker (CCSDS 131.0-B) followed by one CCSDS space packet
(CCSDS 133.0-B) whose data field holds a CUC time (CCSDS 301.0-B), the link sequence number, an
SDLS-style security header (CCSDS 355.0-B), the payload, a truncated HMAC-SHA-256 and a
CRC-16-CCITT. The byte table is in docs/link_protocol.md.

Receiving is two stages. :func:`deframe` is pure and structural: it finds the sync marker, rejects
headers that cannot start a frame, waits for the rest of a frame, and verifies the CRC.
:class:`Deframer` keeps the stream state and applies, in this order, the direction/APID checks,
the SPI lookup, the MAC and the anti-replay window; it never raises on any input bytes, it counts.
"""

from __future__ import annotations

import hmac
import struct
from binascii import crc_hqx
from collections import defaultdict
from typing import NamedTuple

from spacepackets.ccsds.spacepacket import PacketType, SpacePacketHeader
from spacepackets.ccsds.spacepacket import SequenceFlags as _SpSequenceFlags

from sbamti.link.errors import LinkError
from sbamti.link.packets import PACKET_KINDS, Direction, Packet, SequenceFlags
from sbamti.link.security import Keyring, ReplayWindow
from sbamti.link.timecode import encode_cuc, fine_to_nanosec

__all__ = ["ASM", "COUNTER_NAMES", "FRAME_OVERHEAD", "MAC_LENGTH", "MAX_FRAME_BYTES", "Deframer",
           "FrameEncoder", "RawFrame", "deframe"]

ASM = b"\x1a\xcf\xfc\x1d"
PRIMARY_HEADER_LENGTH = 6
MAC_LENGTH = 16
CRC_LENGTH = 2
# Octets 10..28 of a frame: CUC coarse u32, CUC fine u32, link sequence u32, SPI u16, security sequence u32.
_FIXED = struct.Struct(">IIIHI")
_LINK_SECURITY = struct.Struct(">IHI")  # the last three of those, as the encoder packs them after the CUC
_CRC = struct.Struct(">H")
PAYLOAD_OFFSET = len(ASM) + PRIMARY_HEADER_LENGTH + _FIXED.size          # 28
FRAME_OVERHEAD = PAYLOAD_OFFSET + MAC_LENGTH + CRC_LENGTH                # 46
MAX_FRAME_BYTES = 65_507              # the largest UDP payload over IPv4
_LARGEST_FRAME = len(ASM) + PRIMARY_HEADER_LENGTH + 65_536  # the 16-bit length field's limit
_PACKET_TAIL = MAC_LENGTH + CRC_LENGTH
_PAYLOAD_IN_PACKET = PAYLOAD_OFFSET - len(ASM)                          # 24
_U32_MAX = 0xFFFF_FFFF
_SEQUENCE_COUNT_MODULUS = 1 << 14

COUNTER_NAMES = ("garbage_bytes", "crc_failures", "bad_headers", "unknown_apid", "wrong_direction",
                 "unknown_spi", "auth_failures", "replays", "accepted")


class RawFrame(NamedTuple):
    """A frame whose structure and CRC are sound, not yet authenticated.

    ``packet`` is the space packet: primary header through CRC, without the sync marker.
    """

    packet_type: int
    apid: int
    sequence_flags: int
    sequence_count: int
    packet: bytes


def _check_max_frame_bytes(max_frame_bytes: int) -> None:
    if not isinstance(max_frame_bytes, int) or not FRAME_OVERHEAD <= max_frame_bytes <= _LARGEST_FRAME:
        raise LinkError(f"max_frame_bytes: {max_frame_bytes!r} is outside {FRAME_OVERHEAD}..{_LARGEST_FRAME}")


class FrameEncoder:
    """Builds authenticated frames for one security association (SPI) in one direction.

    Keeps a 14-bit CCSDS sequence count per APID (wrapping) and the security sequence number, which
    grows by one per frame and must never repeat under one key: persist
    :attr:`next_security_sequence` and pass it back after a restart.
    """

    __slots__ = ("_counts", "_direction", "_key", "_max_payload", "_next_security", "_packet_type", "_spi")

    def __init__(self, keyring: Keyring, spi: int, direction: Direction, *, next_security_sequence: int = 1,
                 max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        direction = Direction(direction)
        _check_max_frame_bytes(max_frame_bytes)
        if not isinstance(next_security_sequence, int) or not 1 <= next_security_sequence <= _U32_MAX + 1:
            raise LinkError(f"next_security_sequence: {next_security_sequence!r} is outside 1..{_U32_MAX + 1}")
        self._key = keyring.key(spi, direction)
        self._spi = spi
        self._direction = direction
        self._packet_type = PacketType.TM if direction is Direction.DOWN else PacketType.TC
        self._next_security = next_security_sequence
        self._max_payload = max_frame_bytes - FRAME_OVERHEAD
        self._counts: dict[int, int] = {}

    @property
    def next_security_sequence(self) -> int:
        """The security sequence number the next frame will carry (2**32: exhausted, re-key)."""
        return self._next_security

    @property
    def max_payload_bytes(self) -> int:
        """The largest payload one frame can carry under this encoder's frame size limit."""
        return self._max_payload

    @property
    def spi(self) -> int:
        """The security parameter index this encoder authenticates with."""
        return self._spi

    @property
    def direction(self) -> Direction:
        """The direction of every frame this encoder builds."""
        return self._direction

    def encode(self, apid: int, payload: bytes | bytearray | memoryview, *, time_sec: int, time_nanosec: int,
               link_sequence: int = 0, sequence_flags: int = SequenceFlags.UNSEGMENTED) -> bytes:
        """One frame carrying ``payload`` as packet ``apid``, stamped with the content time.

        LinkError (and no sequence number used) for an unknown APID, an APID of the other
        direction, a payload over :attr:`max_payload_bytes`, out-of-range fields, or an exhausted
        security sequence.
        """
        kind = PACKET_KINDS.get(apid)
        if kind is None:
            raise LinkError(f"apid: {apid!r} is not in the APID table ({', '.join(hex(a) for a in PACKET_KINDS)})")
        if kind.direction is not self._direction:
            raise LinkError(f"apid: {apid:#x} ({kind.name}) travels {kind.direction.value}, "
                            f"this encoder sends {self._direction.value}")
        size = len(payload)
        if size > self._max_payload:
            raise LinkError(f"payload: {size} octets exceed the limit of {self._max_payload} "
                            f"(max_frame_bytes {self._max_payload + FRAME_OVERHEAD} - {FRAME_OVERHEAD})")
        if not isinstance(link_sequence, int) or not 0 <= link_sequence <= _U32_MAX:
            raise LinkError(f"link_sequence: {link_sequence!r} is outside 0..{_U32_MAX}")
        if sequence_flags not in (0, 1, 2, 3):
            raise LinkError(f"sequence_flags: {sequence_flags!r} is not one of 0..3")
        security_sequence = self._next_security
        if security_sequence > _U32_MAX:
            raise LinkError(f"security sequence: exhausted at {_U32_MAX} for spi {self._spi}; re-key the SA")
        time_field = encode_cuc(time_sec, time_nanosec)
        count = self._counts.get(apid, 0)
        header = SpacePacketHeader(packet_type=self._packet_type, apid=apid, seq_count=count,
                                   data_len=size + FRAME_OVERHEAD - len(ASM) - PRIMARY_HEADER_LENGTH - 1,
                                   sec_header_flag=True, seq_flags=_SpSequenceFlags(sequence_flags)).pack()
        body = b"".join((header, time_field, _LINK_SECURITY.pack(link_sequence, self._spi, security_sequence),
                         payload))
        mac = hmac.digest(self._key, body, "sha256")[:MAC_LENGTH]
        crc = crc_hqx(mac, crc_hqx(body, 0xFFFF))
        self._counts[apid] = (count + 1) % _SEQUENCE_COUNT_MODULUS
        self._next_security = security_sequence + 1
        return b"".join((ASM, body, mac, _CRC.pack(crc)))


def _asm_prefix_at_end(buf: bytes | bytearray, lowest: int) -> int:
    """Length of the longest proper prefix of the ASM that ``buf`` ends with, starting at or after ``lowest``."""
    end = len(buf)
    for length in (3, 2, 1):
        if end - length >= lowest and buf.endswith(ASM[:length]):
            return length
    return 0


def _scan(buf: bytes | bytearray, pos: int, max_frame_bytes: int, final: bool,
          counters: dict[str, int]) -> tuple[RawFrame | None, int, int]:
    """The next CRC-valid frame in ``buf[pos:]``: (frame or None, position after it, octets discarded).

    Counts rejected candidates in ``counters`` ("bad_headers", "crc_failures"). With None, the
    position is where more bytes are needed (start of an incomplete frame or of a possible ASM
    at the end); with ``final`` nothing is waited for and the whole rest is consumed.
    """
    end = len(buf)
    start = pos
    while True:
        at = buf.find(ASM, pos)
        if at < 0:
            stop = end if final else end - _asm_prefix_at_end(buf, pos)
            return None, stop, stop - start
        header_end = at + len(ASM) + PRIMARY_HEADER_LENGTH
        if header_end > end:
            if final:
                counters["bad_headers"] += 1
                pos = at + 1
                continue
            return None, at, at - start
        header = SpacePacketHeader.unpack(buf[at + len(ASM):header_end])
        frame_end = header_end + header.data_len + 1
        if (header.ccsds_version != 0 or not header.sec_header_flag
                or not FRAME_OVERHEAD <= frame_end - at <= max_frame_bytes):
            counters["bad_headers"] += 1
            pos = at + 1
            continue
        if frame_end > end:
            if final:
                counters["bad_headers"] += 1
                pos = at + 1
                continue
            return None, at, at - start
        packet = bytes(buf[at + len(ASM):frame_end])
        if crc_hqx(packet, 0xFFFF):  # the CRC over data + its own CRC is zero
            counters["crc_failures"] += 1
            pos = at + 1
            continue
        frame = RawFrame(header.packet_type.value, header.apid, header.seq_flags.value, header.seq_count, packet)
        return frame, frame_end, at - start


def deframe(buffer: bytes | bytearray | memoryview, *,
            max_frame_bytes: int = MAX_FRAME_BYTES) -> tuple[RawFrame | None, int, int]:
    """Find the first frame in ``buffer`` whose structure and CRC are sound (pure; no authentication).

    Returns (frame or None, octets consumed, octets discarded). Candidates whose version,
    secondary-header flag or length is impossible, or whose CRC fails, are skipped one octet past
    their sync marker and the search goes on. With a frame, ``consumed`` ends after it and
    ``discarded`` is what lay before it; with None, ``consumed == discarded`` is what can be
    dropped: the rest may be the start of a frame still incomplete.
    """
    _check_max_frame_bytes(max_frame_bytes)
    buf = buffer if isinstance(buffer, (bytes, bytearray)) else bytes(buffer)
    return _scan(buf, 0, max_frame_bytes, False, dict.fromkeys(COUNTER_NAMES, 0))


class Deframer:
    """Stream receiver: joins feeds, finds frames and delivers only packets that pass every check.

    Checks, in order: CRC (in :func:`deframe`), packet type bit and APID against this direction,
    known SPI, MAC (constant-time compare), anti-replay window. The window is updated only after
    the MAC verified, so forged frames cannot move it. :meth:`feed` never raises on any bytes: each
    rejection increments one of :attr:`counters`.
    """

    def __init__(self, keyring: Keyring, direction: Direction, *, max_frame_bytes: int = MAX_FRAME_BYTES,
                 replay_window: int = 1024) -> None:
        _check_max_frame_bytes(max_frame_bytes)
        ReplayWindow(replay_window)  # validates the size now rather than at the first frame
        self.keyring = keyring
        self.direction = Direction(direction)
        self.max_frame_bytes = max_frame_bytes
        self.counters: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.replay_windows: defaultdict[int, ReplayWindow] = defaultdict(lambda: ReplayWindow(replay_window))
        self._packet_type = self.direction.packet_type
        self._pending = bytearray()

    def reset(self) -> None:
        """Drop a partial frame kept from earlier feeds (its octets count as garbage)."""
        self.counters["garbage_bytes"] += len(self._pending)
        self._pending = bytearray()

    def replay_window(self, spi: int) -> ReplayWindow:
        """The anti-replay window of ``spi`` (created empty on first use; restore persisted state into it)."""
        return self.replay_windows[spi]

    @property
    def pending_bytes(self) -> int:
        """Octets kept for a frame (or sync marker) that is not complete yet."""
        return len(self._pending)

    def feed(self, data: bytes | bytearray | memoryview, *, final: bool = False) -> list[Packet]:
        """Append ``data`` to the stream; return the packets it completed that pass every check.

        ``final=True`` says no more bytes follow (e.g. ``data`` is a whole UDP datagram): a frame
        that is incomplete is not waited for, and nothing is kept.
        """
        pending = self._pending
        if pending:
            pending += data
            buf = pending
        else:
            buf = data if type(data) is bytes else bytes(data)
        counters = self.counters
        accepted: list[Packet] = []
        pos = 0
        while True:
            frame, pos, discarded = _scan(buf, pos, self.max_frame_bytes, final, counters)
            counters["garbage_bytes"] += discarded
            if frame is None:
                break
            packet = self._check(frame)
            if packet is not None:
                accepted.append(packet)
        if buf is pending:
            del pending[:pos]
        else:
            self._pending = bytearray(buf[pos:])
        return accepted

    def _check(self, frame: RawFrame) -> Packet | None:
        """The packet of a CRC-valid frame if it passes direction, APID, SPI, MAC and replay checks."""
        counters = self.counters
        kind = PACKET_KINDS.get(frame.apid)
        if frame.packet_type != self._packet_type:
            counters["wrong_direction"] += 1
            return None
        if kind is None:
            counters["unknown_apid"] += 1
            return None
        if kind.direction is not self.direction:
            counters["wrong_direction"] += 1
            return None
        packet = frame.packet
        coarse, fine, link_sequence, spi, security_sequence = _FIXED.unpack_from(packet, PRIMARY_HEADER_LENGTH)
        key = self.keyring.lookup(spi, self.direction)
        if key is None:
            counters["unknown_spi"] += 1
            return None
        mac_at = len(packet) - _PACKET_TAIL
        expected = hmac.digest(key, memoryview(packet)[:mac_at], "sha256")[:MAC_LENGTH]
        if not hmac.compare_digest(expected, packet[mac_at:mac_at + MAC_LENGTH]):
            counters["auth_failures"] += 1
            return None
        if not self.replay_windows[spi].accept(security_sequence):
            counters["replays"] += 1
            return None
        counters["accepted"] += 1
        return Packet(frame.apid, self.direction, frame.sequence_flags, frame.sequence_count, coarse,
                      fine_to_nanosec(fine), link_sequence, spi, security_sequence,
                      packet[_PAYLOAD_IN_PACKET:mac_at])
