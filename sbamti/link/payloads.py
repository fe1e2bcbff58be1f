"""Compact binary payloads of the link's packet types (one codec per APID), big-endian.

- DETECTIONS: a dwell header and its detections as one numpy record array, split into parts
  that fit a packet (:mod:`sbamti.link.payloads_detections`, which also documents the float32
  fields and why their rounding is harmless).
- HOUSEKEEPING, LINK_ACK, LINK_NAK, COMMAND, COMMAND_ACK: small structs
  (:mod:`sbamti.link.payloads_control`).

Every decoder raises only :class:`~sbamti.link.errors.LinkError` on malformed input, naming the
field and the value. docs/link_payloads.md has the byte tables. Import from here.
"""

from sbamti.link.payloads_common import MAX_COUNT, MAX_MESSAGE_OCTETS, MAX_NAME_OCTETS
from sbamti.link.payloads_control import (HOUSEKEEPING_FORMAT_VERSION, MAX_AREAS, Command, CommandAck,
                                          CommandKind, CommandStatus, Housekeeping, RadarMode, decode_ack,
                                          decode_command, decode_command_ack, decode_housekeeping, decode_nak,
                                          encode_ack, encode_command, encode_command_ack, encode_housekeeping,
                                          encode_nak)
from sbamti.link.payloads_detections import (DETECTION_FIELDS, DETECTION_WIRE, DWELL_HEADER_BYTES, FORMAT_VERSION,
                                             MAX_PARTS, RAW_BYTES_PER_DETECTION, WIRE_BYTES_PER_DETECTION,
                                             DwellDetections, decode_detections, dwell_header_bytes,
                                             encode_detections, join_parts)

__all__ = [
    "MAX_COUNT", "MAX_MESSAGE_OCTETS", "MAX_NAME_OCTETS",
    "HOUSEKEEPING_FORMAT_VERSION", "MAX_AREAS", "Command", "CommandAck", "CommandKind", "CommandStatus",
    "Housekeeping", "RadarMode", "decode_ack", "decode_command", "decode_command_ack", "decode_housekeeping",
    "decode_nak", "encode_ack", "encode_command", "encode_command_ack", "encode_housekeeping", "encode_nak",
    "DETECTION_FIELDS", "DETECTION_WIRE", "DWELL_HEADER_BYTES", "FORMAT_VERSION", "MAX_PARTS",
    "RAW_BYTES_PER_DETECTION", "WIRE_BYTES_PER_DETECTION", "DwellDetections", "decode_detections",
    "dwell_header_bytes", "encode_detections", "join_parts",
]
