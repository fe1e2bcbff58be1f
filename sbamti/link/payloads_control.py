"""Small payloads: housekeeping (a NodeStatus), link ACK/NAK, uplink commands and their acknowledgements.

All big-endian, strings as a length prefix + UTF-8 (names at most 64 octets with a u8 length,
messages at most 1024 octets with a u16 length), lists at most 256 entries. The APID says which
payload a packet holds; housekeeping also starts with a format version. Ranges of link sequence
numbers are inclusive (first, last) u32 pairs, sorted and disjoint (checked on encode and decode).
docs/link_payloads.md has the byte tables.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from enum import IntEnum

from sbamti.link.errors import LinkError
from sbamti.link.payloads_common import (MAX_COUNT, MAX_MESSAGE_OCTETS, MAX_NAME_OCTETS, U8, U16, U32, U64, Reader,
                                         check_count, check_uint, enum_value, pack_string)

HOUSEKEEPING_FORMAT_VERSION = 1
LEVELS = (0, 1, 2)          # NodeStatus LEVEL_OK, LEVEL_WARN, LEVEL_ERROR
MAX_AREAS = 255             # u8 count

# version, stamp_sec (i32, as builtin_interfaces/Time), stamp_nanosec, level, heartbeat_count,
# uptime_s, messages_in, messages_out, rejected_total
_HK_FIXED = struct.Struct(">BiIBQdQQQ")
_ACK_FIXED = struct.Struct(">IH")
_RANGE = struct.Struct(">II")
_COMMAND_FIXED = struct.Struct(">IB")
_PRIORITY = struct.Struct(">HB")
_COMMAND_ACK_FIXED = struct.Struct(">IB")


class CommandKind(IntEnum):
    SET_RADAR_MODE = 1
    SET_AREAS_OF_INTEREST = 2
    SET_DOWNLINK_PRIORITY = 3


class RadarMode(IntEnum):
    STANDBY = 0
    SEARCH = 1


class CommandStatus(IntEnum):
    EXECUTED = 0
    REJECTED = 1


@dataclass
class Housekeeping:
    """One NodeStatus (its stamp included: the packet time is the send time, not the status time)."""

    node_name: str
    level: int
    message: str
    heartbeat_count: int
    uptime_s: float
    messages_in: int
    messages_out: int
    rejected_total: int
    counter_names: list[str] = field(default_factory=list)
    counter_values: list[int] = field(default_factory=list)
    stamp_sec: int = 0
    stamp_nanosec: int = 0


@dataclass
class Command:
    """An uplink command; only the fields of its ``kind`` are sent (the others decode to defaults)."""

    command_id: int
    kind: CommandKind
    radar_mode: int = RadarMode.SEARCH
    area_names: tuple[str, ...] = ()
    apid: int = 0
    priority: int = 0


@dataclass
class CommandAck:
    """The satellite's answer to command ``command_id``."""

    command_id: int
    status: CommandStatus
    message: str = ""


def encode_housekeeping(status: Housekeeping) -> bytes:
    """Payload of one housekeeping record; LinkError if a field is out of range or too long."""
    if status.level not in LEVELS:
        raise LinkError(f"housekeeping.level: {status.level!r}, expected one of {LEVELS}")
    if not -(1 << 31) <= status.stamp_sec < (1 << 31):
        raise LinkError(f"housekeeping.stamp_sec: {status.stamp_sec!r} outside the i32 range")
    if check_uint("housekeeping.stamp_nanosec", status.stamp_nanosec, 32) >= 1_000_000_000:
        raise LinkError(f"housekeeping.stamp_nanosec: {status.stamp_nanosec} not below 1e9")
    names, values = list(status.counter_names), list(status.counter_values)
    if len(names) != len(values):
        raise LinkError(f"housekeeping: {len(names)} counter_names but {len(values)} counter_values")
    check_count("housekeeping.counter_names", len(names))
    parts = [_HK_FIXED.pack(
        HOUSEKEEPING_FORMAT_VERSION, status.stamp_sec, status.stamp_nanosec, status.level,
        check_uint("housekeeping.heartbeat_count", status.heartbeat_count, 64), float(status.uptime_s),
        check_uint("housekeeping.messages_in", status.messages_in, 64),
        check_uint("housekeeping.messages_out", status.messages_out, 64),
        check_uint("housekeeping.rejected_total", status.rejected_total, 64)),
        pack_string("housekeeping.node_name", status.node_name, MAX_NAME_OCTETS),
        pack_string("housekeeping.message", status.message, MAX_MESSAGE_OCTETS, 2),
        U16.pack(len(names))]
    for i, (name, value) in enumerate(zip(names, values)):
        parts.append(pack_string(f"housekeeping.counter_names[{i}]", name, MAX_NAME_OCTETS))
        parts.append(U64.pack(check_uint(f"housekeeping.counter_values[{i}]", value, 64)))
    return b"".join(parts)


def decode_housekeeping(payload: bytes | bytearray | memoryview) -> Housekeeping:
    """The housekeeping record in ``payload``; LinkError naming the field on any malformed input."""
    r = Reader(payload, "housekeeping")
    (version, sec, nanosec, level, heartbeats, uptime_s, messages_in, messages_out,
     rejected) = r.unpack(_HK_FIXED, "header")
    if version != HOUSEKEEPING_FORMAT_VERSION:
        raise LinkError(f"housekeeping.version: {version}, expected {HOUSEKEEPING_FORMAT_VERSION}")
    if nanosec >= 1_000_000_000:
        raise LinkError(f"housekeeping.stamp_nanosec: {nanosec} not below 1e9")
    if level not in LEVELS:
        raise LinkError(f"housekeeping.level: {level}, expected one of {LEVELS}")
    node_name = r.string("node_name", MAX_NAME_OCTETS)
    message = r.string("message", MAX_MESSAGE_OCTETS, 2)
    count = r.uint(U16, "counter count")
    if count > MAX_COUNT:
        raise LinkError(f"housekeeping.counter count: {count}, at most {MAX_COUNT} allowed")
    names, values = [], []
    for i in range(count):
        names.append(r.string(f"counter_names[{i}]", MAX_NAME_OCTETS))
        values.append(r.uint(U64, f"counter_values[{i}]"))
    r.finish()
    return Housekeeping(node_name=node_name, level=level, message=message, heartbeat_count=heartbeats,
                        uptime_s=uptime_s, messages_in=messages_in, messages_out=messages_out,
                        rejected_total=rejected, counter_names=names, counter_values=values,
                        stamp_sec=sec, stamp_nanosec=nanosec)


def _check_ranges(what: str, ranges: list[tuple[int, int]], above: int) -> None:
    """Inclusive ranges with first <= last, sorted, disjoint, every first > ``above``."""
    check_count(what, len(ranges))
    previous = above
    for i, (first, last) in enumerate(ranges):
        if not previous < first <= last:
            raise LinkError(f"{what}[{i}]: ({first}, {last}) must satisfy {previous} < first <= last "
                            f"(sorted, disjoint{', above cumulative' if i == 0 and above >= 0 else ''})")
        previous = last


def _pack_ranges(what: str, ranges: list[tuple[int, int]], above: int) -> bytes:
    pairs = [(check_uint(f"{what}[{i}].first", a, 32), check_uint(f"{what}[{i}].last", b, 32))
             for i, (a, b) in enumerate(ranges)]
    _check_ranges(what, pairs, above)
    return U16.pack(len(pairs)) + struct.pack(f">{2 * len(pairs)}I", *(v for pair in pairs for v in pair))


def _read_ranges(r: Reader, what: str, above: int) -> list[tuple[int, int]]:
    count = r.uint(U16, "range count")
    if count > MAX_COUNT:
        raise LinkError(f"{what}.range count: {count}, at most {MAX_COUNT} allowed")
    flat = r.unpack(struct.Struct(f">{2 * count}I"), "ranges")
    ranges = list(zip(flat[0::2], flat[1::2]))
    _check_ranges(f"{what}.ranges", ranges, above)
    r.finish()
    return ranges


def encode_ack(cumulative: int, received_ranges: list[tuple[int, int]]) -> bytes:
    """Link ACK: every sequence <= ``cumulative`` received, plus ``received_ranges`` above it."""
    cumulative = check_uint("ack.cumulative", cumulative, 32)
    return U32.pack(cumulative) + _pack_ranges("ack.ranges", list(received_ranges), cumulative)


def decode_ack(payload: bytes | bytearray | memoryview) -> tuple[int, list[tuple[int, int]]]:
    """(cumulative, received ranges) of a link ACK."""
    r = Reader(payload, "ack")
    cumulative = r.uint(U32, "cumulative")
    return cumulative, _read_ranges(r, "ack", cumulative)


def encode_nak(missing_ranges: list[tuple[int, int]]) -> bytes:
    """Link NAK: the inclusive ranges of link sequences to send again."""
    return _pack_ranges("nak.ranges", list(missing_ranges), -1)


def decode_nak(payload: bytes | bytearray | memoryview) -> list[tuple[int, int]]:
    """The missing ranges of a link NAK."""
    return _read_ranges(Reader(payload, "nak"), "nak", -1)


def encode_command(command: Command) -> bytes:
    """Payload of one uplink command (only the fields of its kind)."""
    kind = enum_value("command.kind", CommandKind, command.kind)
    head = _COMMAND_FIXED.pack(check_uint("command.command_id", command.command_id, 32), kind)
    if kind == CommandKind.SET_RADAR_MODE:
        return head + U8.pack(enum_value("command.radar_mode", RadarMode, command.radar_mode))
    if kind == CommandKind.SET_AREAS_OF_INTEREST:
        names = list(command.area_names)
        check_count("command.area_names", len(names), MAX_AREAS)
        return head + U8.pack(len(names)) + b"".join(
            pack_string(f"command.area_names[{i}]", name, MAX_NAME_OCTETS) for i, name in enumerate(names))
    return head + _PRIORITY.pack(check_uint("command.apid", command.apid, 16),
                                 check_uint("command.priority", command.priority, 8))


def decode_command(payload: bytes | bytearray | memoryview) -> Command:
    """The uplink command in ``payload``; LinkError naming the field on any malformed input."""
    r = Reader(payload, "command")
    command_id, kind_value = r.unpack(_COMMAND_FIXED, "header")
    kind = enum_value("command.kind", CommandKind, kind_value)
    command = Command(command_id=command_id, kind=kind)
    if kind == CommandKind.SET_RADAR_MODE:
        command.radar_mode = enum_value("command.radar_mode", RadarMode, r.uint(U8, "radar_mode"))
    elif kind == CommandKind.SET_AREAS_OF_INTEREST:
        count = r.uint(U8, "area count")
        command.area_names = tuple(r.string(f"area_names[{i}]", MAX_NAME_OCTETS) for i in range(count))
    else:
        command.apid, command.priority = r.unpack(_PRIORITY, "apid, priority")
    r.finish()
    return command


def encode_command_ack(ack: CommandAck) -> bytes:
    """Payload of one command acknowledgement."""
    return (_COMMAND_ACK_FIXED.pack(check_uint("command_ack.command_id", ack.command_id, 32),
                                    enum_value("command_ack.status", CommandStatus, ack.status))
            + pack_string("command_ack.message", ack.message, MAX_MESSAGE_OCTETS, 2))


def decode_command_ack(payload: bytes | bytearray | memoryview) -> CommandAck:
    """The command acknowledgement in ``payload``; LinkError naming the field on any malformed input."""
    r = Reader(payload, "command_ack")
    command_id, status = r.unpack(_COMMAND_ACK_FIXED, "header")
    ack = CommandAck(command_id=command_id, status=enum_value("command_ack.status", CommandStatus, status),
                     message=r.string("message", MAX_MESSAGE_OCTETS, 2))
    r.finish()
    return ack
