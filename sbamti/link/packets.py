"""The table of packet types (APIDs) shared by the frame encoder and the deframer, and the Packet record.

One table decides, for each application process identifier, which way the packet travels and how
the store-and-forward layer treats it, so sender and receiver cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum

__all__ = ["PACKET_KINDS", "Apid", "Direction", "Packet", "PacketKind", "SequenceFlags"]


class Apid(IntEnum):
    """Application process identifiers of the sbamti link (11-bit CCSDS APIDs)."""

    DETECTIONS = 0x100
    HOUSEKEEPING = 0x101
    COMMAND_ACK = 0x102
    LINK_ACK = 0x110
    LINK_NAK = 0x111
    COMMAND = 0x120


class Direction(str, Enum):
    """Which way a packet travels: DOWN is satellite -> ground (CCSDS TM, packet type bit 0),
    UP is ground -> satellite (CCSDS TC, packet type bit 1)."""

    DOWN = "down"
    UP = "up"

    @property
    def packet_type(self) -> int:
        """The CCSDS packet type bit of this direction (0 telemetry, 1 telecommand)."""
        return 0 if self is Direction.DOWN else 1


@dataclass(frozen=True)
class PacketKind:
    """One row of the APID table: direction, whether ARQ delivers it reliably, default downlink priority."""

    apid: Apid
    name: str
    direction: Direction
    reliable: bool
    default_priority: int


PACKET_KINDS: dict[int, PacketKind] = {kind.apid: kind for kind in (
    PacketKind(Apid.DETECTIONS, "detections", Direction.DOWN, True, 200),
    PacketKind(Apid.HOUSEKEEPING, "housekeeping", Direction.DOWN, True, 50),
    PacketKind(Apid.COMMAND_ACK, "command_ack", Direction.DOWN, True, 250),
    PacketKind(Apid.LINK_ACK, "link_ack", Direction.UP, False, 0),
    PacketKind(Apid.LINK_NAK, "link_nak", Direction.UP, False, 0),
    # Ground retransmits a command until its COMMAND_ACK arrives.
    PacketKind(Apid.COMMAND, "command", Direction.UP, True, 0),
)}


class SequenceFlags(IntEnum):
    """CCSDS sequence flags: position of a packet in a segmented group (UNSEGMENTED: stands alone)."""

    CONTINUATION = 0
    FIRST = 1
    LAST = 2
    UNSEGMENTED = 3


@dataclass(frozen=True, slots=True)
class Packet:
    """One authenticated packet as the deframer delivers it (and as the encoder's inputs describe it).

    ``time_sec``/``time_nanosec`` are the secondary-header time of the content (for detections the
    dwell stamp). ``link_sequence`` is the ARQ identity, the same on every retransmission (0: not
    ARQ-tracked); ``security_sequence`` is the anti-replay counter, fresh on every transmission.
    """

    apid: int
    direction: Direction
    sequence_flags: int
    sequence_count: int
    time_sec: int
    time_nanosec: int
    link_sequence: int
    spi: int
    security_sequence: int
    payload: bytes
