"""downlink_tx and downlink_rx in process: configuration errors, bad inputs rejected and counted,
a round trip through the nodes' own conversion of messages to link records and back."""

from pathlib import Path

import numpy as np
import pytest
from rclpy.parameter import Parameter

from sbamti.errors import ConfigurationError
from sbamti.link.packets import Apid
from sbamti.link.payloads import decode_detections, encode_detections
from sbamti.ros.link_messages import dwell_from_message, dwell_to_message
from sbamti.testing.session import free_udp_port
from sbamti_msgs.msg import ContactWindow, ContactWindowArray, Detection, DetectionArray, UplinkCommand
from sbamti_nodes.downlink_rx import DownlinkRxNode
from sbamti_nodes.downlink_tx import DownlinkTxNode

KEYS = Path(__file__).resolve().parents[1] / "config" / "link" / "demo.keys"


def _tx(context, tmp_path, **params):
    base = {"satellite_id": "sbamti_001", "key_file": str(KEYS), "store_dir": str(tmp_path / "store"),
            "ground_port": free_udp_port(), "use_sim_time": False}
    base.update(params)
    return DownlinkTxNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in base.items()])


def _rx(context, tmp_path, **params):
    base = {"key_file": str(KEYS), "state_dir": str(tmp_path / "ground"), "bind_port": free_udp_port(),
            "use_sim_time": False}
    base.update(params)
    return DownlinkRxNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in base.items()])


def _dwell_message(n: int) -> DetectionArray:
    rng = np.random.default_rng(n)
    msg = DetectionArray()
    msg.header.stamp.sec, msg.header.stamp.nanosec = 1_830_297_601, 123_456_789
    msg.satellite_id, msg.dwell_id, msg.look_id = "sbamti_001", 17, 5
    msg.satellite_position_ecef = rng.normal(size=3) * 7e6
    msg.satellite_velocity_ecef = rng.normal(size=3) * 7e3
    msg.beam_centre_ecef = rng.normal(size=3) * 6.4e6
    msg.processing_time_s, msg.cells_tested, msg.threshold_db = 0.0031, 64_000, 13.2
    msg.threshold_crossings, msg.clusters = 9, n
    dets = []
    for i in range(n):
        d = Detection(detection_id=i, range_m=float(1.2e6 + 1000 * i), range_rate_mps=float(rng.normal() * 200),
                      azimuth_rad=float(rng.normal() * 0.01), elevation_rad=0.0, range_std_m=15.0,
                      range_rate_std_mps=1.1, azimuth_std_rad=2e-4, elevation_std_rad=0.02,
                      snr_db=float(14 + i), range_rate_resolved=bool(i % 2),
                      range_rate_blind_speed_mps=112.4)
        d.position_ecef = rng.normal(size=3) * 6.4e6
        a = rng.normal(size=(3, 3)) * 100
        d.position_covariance_ecef = (a @ a.T).ravel()
        dets.append(d)
    msg.detections = dets
    return msg


def test_configuration_errors_name_the_parameter(ros_context, tmp_path):
    with pytest.raises(ConfigurationError, match="parameter 'key_file': required"):
        _tx(ros_context, tmp_path, key_file="")
    with pytest.raises(ConfigurationError, match=r"parameter 'outages'\[0\]: 'yesterday' is not an interval"):
        _tx(ros_context, tmp_path, outages=["yesterday"])
    with pytest.raises(ConfigurationError, match="parameter 'mode': 'laser'"):
        _tx(ros_context, tmp_path, mode="laser")
    with pytest.raises(ConfigurationError, match=r"address 'ground\.example' is not a numeric IP"):
        _tx(ros_context, tmp_path, ground_host="ground.example")
    with pytest.raises(ConfigurationError, match="parameter 'state_dir': required"):
        _rx(ros_context, tmp_path, state_dir="")


def test_detection_array_survives_the_nodes_conversion_and_the_wire(ros_context):
    msg = _dwell_message(7)
    (payload,) = encode_detections(dwell_from_message(msg), max_payload_bytes=8000)
    back = dwell_to_message(decode_detections(payload), msg.header.stamp.sec, msg.header.stamp.nanosec)
    assert (back.header.stamp.sec, back.header.stamp.nanosec) == (1_830_297_601, 123_456_789)
    assert (back.satellite_id, back.dwell_id, back.look_id, back.clusters) == ("sbamti_001", 17, 5, 7)
    for a, b in zip(back.detections, msg.detections):
        assert (a.detection_id, a.range_m, a.range_rate_resolved) == (b.detection_id, b.range_m, b.range_rate_resolved)
        assert a.range_rate_mps == pytest.approx(b.range_rate_mps, rel=2**-23)      # float32 on the wire
        assert list(a.position_ecef) == list(b.position_ecef)
        assert np.allclose(a.position_covariance_ecef, b.position_covariance_ecef, rtol=1e-15, atol=0)


def test_tx_rejects_bad_inputs_counts_them_and_keeps_what_it_accepted(ros_context, tmp_path):
    node = _tx(ros_context, tmp_path)
    node._on_detections(_dwell_message(3))
    bad = _dwell_message(1)
    bad.dwell_id = 18
    bad.satellite_id = "x" * 100                                       # longer than the 64-octet limit
    node._on_detections(bad)
    windows = ContactWindowArray()
    w = ContactWindow(station_name="wallops")
    w.aos.sec, w.los.sec = 100, 50
    windows.windows = [w]
    node._on_contacts(windows)
    assert node.rejections == {"detections:unencodable": 1, "orbit/contacts:invalid_window": 1}
    node._on_detections(_dwell_message(3))                             # the same dwell again: stored once
    records = node.store.records()
    assert [r.apid for r in records] == [int(Apid.DETECTIONS)]
    node.destroy_node()


def test_rx_rejects_unknown_and_invalid_commands(ros_context, tmp_path):
    node = _rx(ros_context, tmp_path)
    node._on_command(UplinkCommand(satellite_id="sbamti_001", kind=9))
    node._on_command(UplinkCommand(satellite_id="sbamti_001", kind=UplinkCommand.KIND_SET_AREAS_OF_INTEREST,
                                   area_names=["a" * 80]))
    node._on_command(UplinkCommand(satellite_id="sbamti_001", command_id=3,
                                   kind=UplinkCommand.KIND_SET_RADAR_MODE, radar_mode=1))
    node._on_command(UplinkCommand(satellite_id="sbamti_001", command_id=3,
                                   kind=UplinkCommand.KIND_SET_RADAR_MODE, radar_mode=0))
    assert node.rejections == {"uplink/commands:unknown_kind": 1, "uplink/commands:invalid": 1,
                               "uplink/commands:not_queued": 1}
    assert len(node.commands) == 1 and node._next_command_id == 4
    node.destroy_node()


def test_a_dwell_too_big_for_one_packet_crosses_the_link_in_parts_and_arrives_whole(ros_context, tmp_path):
    """downlink_tx and downlink_rx in one process over real UDP: the dwell is split into 512-octet
    payloads onboard and joined on the ground before it is republished."""
    import time

    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node

    from sbamti.ros.qos import ONBOARD_DETECTIONS_QOS

    port = free_udp_port()
    rx = DownlinkRxNode(
        context=ros_context, namespace="ground", parameter_overrides=[
            Parameter("key_file", value=str(KEYS)), Parameter("state_dir", value=str(tmp_path / "ground")),
            Parameter("bind_port", value=port), Parameter("use_sim_time", value=False)])
    tx = DownlinkTxNode(context=ros_context, namespace="sbamti_001", parameter_overrides=[
        Parameter("key_file", value=str(KEYS)), Parameter("store_dir", value=str(tmp_path / "store")),
        Parameter("mode", value="relay"), Parameter("ground_port", value=port),
        Parameter("max_payload_bytes", value=512), Parameter("use_sim_time", value=False)])
    peer = Node("peer", context=ros_context)
    received = []
    peer.create_subscription(DetectionArray, "/ground/detections", received.append, 10)
    publisher = peer.create_publisher(DetectionArray, "/sbamti_001/detections", ONBOARD_DETECTIONS_QOS)
    executor = SingleThreadedExecutor(context=ros_context)
    for node in (rx, tx, peer):
        executor.add_node(node)
    sent = _dwell_message(12)                      # 12 x 121 octets: 4 parts of at most 3 detections
    publisher.publish(sent)
    deadline = time.monotonic() + 20
    while not received and time.monotonic() < deadline:
        executor.spin_once(timeout_sec=0.05)
    assert len(received) == 1
    got = received[0]
    assert got.dwell_id == 17 and len(got.detections) == 12
    assert [d.detection_id for d in got.detections] == list(range(12))
    assert [d.range_m for d in got.detections] == [d.range_m for d in sent.detections]
    assert tx.counts["packets_sent"] >= 4 and rx.links[1].counts["packets_received"] >= 4
    executor.shutdown()
    for node in (rx, tx, peer):
        node.destroy_node()
