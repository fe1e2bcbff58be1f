"""Link payload records to and from ROS 2 messages (DetectionArray, NodeStatus, UplinkCommand).

The link library (``sbamti.link``) works on numpy records and dataclasses; the downlink nodes use
these functions at their edges. Reading a ``DetectionArray`` touches each nested ``Detection``
once (rosidl gives no bulk access to nested messages); the column-wise build of the structured
array and the ``tolist`` conversions keep the per-detection work to attribute reads and writes.
"""

from __future__ import annotations

import numpy as np

from sbamti.link.payloads import (DETECTION_FIELDS, Command, CommandAck, CommandKind, DwellDetections,
                                  Housekeeping)
from sbamti.ros.arrays import to_field
from sbamti_msgs.msg import (Detection, DetectionArray, NodeStatus, UplinkCommand, UplinkCommandAck)

_SCALAR_FIELDS = ("detection_id", "range_m", "range_rate_mps", "azimuth_rad", "elevation_rad", "range_std_m",
                  "range_rate_std_mps", "azimuth_std_rad", "elevation_std_rad", "snr_db", "range_rate_resolved",
                  "range_rate_blind_speed_mps", "latitude_rad", "longitude_rad", "altitude_m")


def dwell_from_message(msg: DetectionArray) -> DwellDetections:
    """The link record of one dwell's detections (the stamp travels in the packet's time field)."""
    dets = msg.detections
    records = np.empty(len(dets), dtype=DETECTION_FIELDS)
    if dets:
        for name in _SCALAR_FIELDS:
            records[name] = [getattr(d, name) for d in dets]
        records["position_ecef"] = [d.position_ecef for d in dets]
        records["position_covariance_ecef"] = [d.position_covariance_ecef for d in dets]
    return DwellDetections(
        satellite_id=msg.satellite_id, dwell_id=int(msg.dwell_id), look_id=int(msg.look_id),
        satellite_position_ecef=np.asarray(msg.satellite_position_ecef, dtype=np.float64),
        satellite_velocity_ecef=np.asarray(msg.satellite_velocity_ecef, dtype=np.float64),
        beam_centre_ecef=np.asarray(msg.beam_centre_ecef, dtype=np.float64),
        processing_time_s=float(msg.processing_time_s), cells_tested=int(msg.cells_tested),
        threshold_db=float(msg.threshold_db), threshold_crossings=int(msg.threshold_crossings),
        clusters=int(msg.clusters), detections=records)


def dwell_to_message(dwell: DwellDetections, stamp_sec: int, stamp_nanosec: int, frame_id: str = "ecef") -> DetectionArray:
    """A ``DetectionArray`` stamped with the dwell time received in the packet's secondary header."""
    msg = DetectionArray()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp_sec), int(stamp_nanosec)
    msg.header.frame_id = frame_id
    msg.satellite_id = dwell.satellite_id
    msg.dwell_id = int(dwell.dwell_id)
    msg.look_id = int(dwell.look_id)
    msg.satellite_position_ecef = to_field(dwell.satellite_position_ecef, np.float64)
    msg.satellite_velocity_ecef = to_field(dwell.satellite_velocity_ecef, np.float64)
    msg.beam_centre_ecef = to_field(dwell.beam_centre_ecef, np.float64)
    msg.processing_time_s = float(dwell.processing_time_s)
    msg.cells_tested = int(dwell.cells_tested)
    msg.threshold_db = float(dwell.threshold_db)
    msg.threshold_crossings = int(dwell.threshold_crossings)
    msg.clusters = int(dwell.clusters)
    rec = dwell.detections
    n = len(rec)
    if n:
        columns = {name: rec[name].tolist() for name in _SCALAR_FIELDS}
        positions = np.ascontiguousarray(rec["position_ecef"], dtype=np.float64)
        covariances = np.ascontiguousarray(rec["position_covariance_ecef"], dtype=np.float64)
        out = []
        for i in range(n):
            d = Detection()
            for name, values in columns.items():
                setattr(d, name, values[i])
            d.position_ecef = positions[i]
            d.position_covariance_ecef = covariances[i]
            out.append(d)
        msg.detections = out
    return msg


def housekeeping_from_message(msg: NodeStatus) -> Housekeeping:
    """The link record of one node's status."""
    return Housekeeping(
        node_name=msg.node_name, level=int(msg.level), message=msg.message, heartbeat_count=int(msg.heartbeat_count),
        uptime_s=float(msg.uptime_s), messages_in=int(msg.messages_in), messages_out=int(msg.messages_out),
        rejected_total=int(msg.rejected_total), counter_names=list(msg.counter_names),
        counter_values=[int(v) for v in msg.counter_values],
        stamp_sec=int(msg.header.stamp.sec), stamp_nanosec=int(msg.header.stamp.nanosec))


def housekeeping_to_message(record: Housekeeping) -> NodeStatus:
    """The ``NodeStatus`` a ground operator sees for an onboard node."""
    msg = NodeStatus()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(record.stamp_sec), int(record.stamp_nanosec)
    msg.node_name = record.node_name
    msg.level = int(record.level)
    msg.message = record.message
    msg.heartbeat_count = int(record.heartbeat_count)
    msg.uptime_s = float(record.uptime_s)
    msg.messages_in = int(record.messages_in)
    msg.messages_out = int(record.messages_out)
    msg.rejected_total = int(record.rejected_total)
    msg.counter_names = list(record.counter_names)
    msg.counter_values = [int(v) for v in record.counter_values]
    return msg


def command_from_message(msg: UplinkCommand, command_id: int) -> Command:
    """The link record of an operator's command (``command_id`` already assigned)."""
    return Command(command_id=int(command_id), kind=CommandKind(int(msg.kind)), radar_mode=int(msg.radar_mode),
                   area_names=tuple(msg.area_names), apid=int(msg.apid), priority=int(msg.priority))


def command_to_message(command: Command, satellite_id: str, stamp_sec: int, stamp_nanosec: int) -> UplinkCommand:
    """The ``UplinkCommand`` an onboard consumer (radar_sim) receives after the satellite accepted it."""
    msg = UplinkCommand()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp_sec), int(stamp_nanosec)
    msg.satellite_id = satellite_id
    msg.command_id = int(command.command_id)
    msg.kind = int(command.kind)
    msg.radar_mode = int(command.radar_mode)
    msg.area_names = list(command.area_names)
    msg.apid = int(command.apid)
    msg.priority = int(command.priority)
    return msg


def command_ack_to_message(ack: CommandAck, satellite_id: str, stamp_sec: int, stamp_nanosec: int) -> UplinkCommandAck:
    """A satellite's answer as published on the ground."""
    msg = UplinkCommandAck()
    msg.header.stamp.sec, msg.header.stamp.nanosec = int(stamp_sec), int(stamp_nanosec)
    msg.satellite_id = satellite_id
    msg.command_id = int(ack.command_id)
    msg.status = int(ack.status)
    msg.message = ack.message
    return msg
