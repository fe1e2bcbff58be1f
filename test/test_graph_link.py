"""Graph tests of the space-to-ground link: one satellite's onboard graph, downlink_tx, UDP, downlink_rx.

Every detection the satellite's detector publishes must reach /ground/detections exactly once,
through loss, corruption, duplication and reordering, an outage of minutes, a ``kill -9`` of
downlink_tx, and nothing unauthenticated may be accepted on either end.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import yaml
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

from sbamti.link.frame import FrameEncoder
from sbamti.link.packets import Apid, Direction
from sbamti.link.payloads import Command, CommandKind, RadarMode, encode_command
from sbamti.link.security import Keyring
from sbamti.link.store import RecordStore
from sbamti.testing.session import free_udp_port
from sbamti.timeutil import parse_utc_epoch_ns, stamp_ns

REPO = Path(__file__).resolve().parents[1]
SCENARIO = Path(__file__).parent / "radar_data" / "scripted_target.yaml"
TLE = REPO / "config" / "constellations" / "small_4sat.tle"
KEYS = REPO / "config" / "link" / "demo.keys"
STATIONS = REPO / "config" / "ground_stations.yaml"
SAT = "sbamti_001"
START = "2028-01-01T00:00:00Z"
RECORD_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, depth=1000, reliability=ReliabilityPolicy.RELIABLE)
LATCHED_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, depth=1000, reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)
ONBOARD = f"/{SAT}/detections"
GROUND = "/ground/detections"

pytestmark = pytest.mark.timeout(240)


class Link:
    """Ports and directories of one test graph."""

    def __init__(self, tmp_path: Path) -> None:
        self.ground_port = free_udp_port()
        self.tx_port = free_udp_port()
        self.store_dir = tmp_path / "stores"
        self.ground_dir = tmp_path / "ground"
        self.store_path = self.store_dir / f"{SAT}.sqlite"


def _launch_file(path: Path, link: Link, *, rate: float, tx: dict, rx: dict, tx_respawn: bool = False,
                 dwell_rate_hz: float = 5.0, stations: bool = False) -> Path:
    """sim_clock → orbit_state → radar_sim → onboard_detector → downlink_tx ⇒ UDP ⇒ downlink_rx."""
    def node(exe, params, namespace=f"/{SAT}", **extra):
        return {"node": {"pkg": "sbamti", "exec": exe, "name": exe, "namespace": namespace, **extra,
                         "param": [{"name": k, "value": v} for k, v in params.items()]}}
    tx_params = {"spi": 1, "key_file": str(KEYS), "store_dir": str(link.store_dir), "mode": "relay",
                 "ground_port": link.ground_port, "bind_port": link.tx_port, "retransmit_timeout_s": 1.0,
                 "link_status_period_s": 0.25, **tx}
    rx_params = {"key_file": str(KEYS), "state_dir": str(link.ground_dir), "bind_port": link.ground_port,
                 "link_status_period_s": 0.25, **rx}
    doc = {"launch": [
        {"node": {"pkg": "sbamti", "exec": "sim_clock", "name": "sim_clock", "on_exit": "shutdown",
                  "param": [{"name": "rate", "value": rate}, {"name": "start_epoch", "value": START},
                            {"name": "wait_for_subscribers", "value": 6}]}},
        node("orbit_state", {"tle_file": str(TLE), "satellites": [SAT], "layout": "namespace",
                             "ground_stations_file": str(STATIONS) if stations else ""}),
        node("radar_sim", {"scenario_file": str(SCENARIO), "dwell_rate_hz": dwell_rate_hz, "cell_spacing_m": 2000.0,
                           "num_range_bins": 200}),
        node("onboard_detector", {"assumed_altitude_m": 10000.0, "altitude_std_m": 300.0}),
        node("downlink_tx", tx_params, **({"respawn": True, "respawn_delay": 0.5} if tx_respawn else {})),
        node("downlink_rx", rx_params, namespace="/ground"),
    ]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _start(launch_graph, tmp_path: Path, *, rate: float = 10.0, tx: dict | None = None, rx: dict | None = None,
           tx_respawn: bool = False, dwell_rate_hz: float = 5.0, stations: bool = False):
    link = Link(tmp_path)
    graph = launch_graph(_launch_file(tmp_path / "link.launch.yaml", link, rate=rate, tx=tx or {}, rx=rx or {},
                                      tx_respawn=tx_respawn, dwell_rate_hz=dwell_rate_hz,
                                      stations=stations))
    graph.subscribe(ONBOARD, "sbamti_msgs/msg/DetectionArray", qos=LATCHED_ALL)
    graph.subscribe(GROUND, "sbamti_msgs/msg/DetectionArray", qos=RECORD_ALL)
    graph.subscribe(f"/{SAT}/downlink/status", "sbamti_msgs/msg/LinkStatus", qos=RECORD_ALL)
    graph.subscribe("/ground/downlink/status", "sbamti_msgs/msg/LinkStatus", qos=RECORD_ALL)
    graph.wait_ready(nodes=[f"/{SAT}/orbit_state", f"/{SAT}/radar_sim", f"/{SAT}/onboard_detector",
                            f"/{SAT}/downlink_tx", "/ground/downlink_rx"], timeout=60)
    graph.wait_matched([ONBOARD, GROUND])
    graph.subscribe("/clock", "rosgraph_msgs/msg/Clock")        # the sixth /clock listener: time runs
    return graph, link


def _key(msg) -> tuple[int, int]:
    return msg.dwell_id, stamp_ns(msg.header.stamp)


def _wait_delivered(graph, count: int, timeout: float) -> list:
    """Wait until the first ``count`` onboard dwells are all on the ground; return those onboard dwells."""
    onboard = graph.wait_for_messages(ONBOARD, count=count, timeout=timeout)
    wanted = {_key(m) for m in onboard}
    deadline = time.monotonic() + timeout
    while not wanted <= {_key(m) for m in graph.messages(GROUND)}:
        if time.monotonic() > deadline:
            missing = sorted(wanted - {_key(m) for m in graph.messages(GROUND)})
            raise AssertionError(f"{len(missing)} of {count} dwells not delivered within {timeout} s: {missing[:10]}")
        time.sleep(0.2)
    return onboard


def _assert_exactly_once(graph, onboard: list) -> list:
    """Every ground dwell is unique and was sent; the first ``onboard`` dwells arrived intact."""
    ground = graph.messages(GROUND)
    keys = [_key(m) for m in ground]
    assert len(keys) == len(set(keys)), "a dwell was delivered twice"
    sent = {_key(m) for m in graph.messages(ONBOARD)}
    assert set(keys) <= sent, "the ground delivered a dwell the satellite never published"
    by_key = {_key(m): m for m in ground}
    for msg in onboard:
        got = by_key[_key(msg)]
        assert got.satellite_id == SAT and got.look_id == msg.look_id
        assert list(got.satellite_position_ecef) == list(msg.satellite_position_ecef)
        assert [d.detection_id for d in got.detections] == [d.detection_id for d in msg.detections]
        assert [d.range_m for d in got.detections] == [d.range_m for d in msg.detections]   # float64 on the wire
        assert [tuple(d.position_ecef) for d in got.detections] == [tuple(d.position_ecef) for d in msg.detections]
    return ground


def _counters(status) -> dict[str, int]:
    return dict(zip(status.counter_names, status.counter_values))


def _last_status(graph, topic: str, endpoint: str):
    msgs = [m for m in graph.messages(topic) if m.endpoint_id == endpoint]
    assert msgs, f"no LinkStatus of {endpoint} on {topic}"
    return msgs[-1]


def test_impaired_link_delivers_every_detection_exactly_once(launch_graph, tmp_path):
    impairments = {"loss": 0.10, "corruption": 0.01, "duplication": 0.02, "reorder": 0.10, "reorder_delay_s": 1.0,
                   "fault_seed": 7}
    graph, _ = _start(launch_graph, tmp_path, tx=impairments, rx={**impairments, "fault_seed": 8})
    onboard = _wait_delivered(graph, 150, timeout=150)
    _assert_exactly_once(graph, onboard)
    time.sleep(0.6)                                                  # one more status period
    tx = _last_status(graph, f"/{SAT}/downlink/status", SAT)
    rx = _last_status(graph, "/ground/downlink/status", "ground")
    tx_channel, rx_counts = _counters(tx), _counters(rx)
    # The impairments happened, and the link repaired them.
    assert tx_channel["channel:lost"] > 0 and tx_channel["channel:corrupted"] > 0
    assert tx_channel["channel:duplicated"] > 0 and tx_channel["channel:reordered"] > 0
    assert tx.packets_retransmitted > 0
    assert rx_counts["crc_failures"] > 0                             # corrupted frames refused, not delivered
    assert rx_counts["replays"] > 0                                  # duplicated frames: same security sequence
    assert rx_counts["auth_failures"] == 0
    assert graph.shutdown() == 0
    assert graph.exit_codes["downlink_tx"] == 0 and graph.exit_codes["downlink_rx"] == 0


def test_outage_of_minutes_buffers_everything_then_delivers_in_order(launch_graph, tmp_path):
    start_s = parse_utc_epoch_ns(START) * 1e-9
    outage = "2028-01-01T00:00:20Z/2028-01-01T00:03:20Z"         # 3 minutes of sim time, both directions
    # A hold long enough for a retransmission round trip even on a loaded machine (the default 1 s
    # trades order for latency).
    graph, _ = _start(launch_graph, tmp_path, rate=20.0, tx={"outages": [outage]},
                      rx={"outages": [outage], "in_order_hold_s": 5.0}, dwell_rate_hz=2.0)
    # The scenario's area is in view for the first ~90 s: most of its dwells fall in the outage.
    graph.wait_for_messages("/clock", count=1, timeout=90, predicate=lambda c: stamp_ns(c.clock) * 1e-9 > start_s + 230)
    onboard = graph.messages(ONBOARD)
    in_outage_dwells = [m for m in onboard if stamp_ns(m.header.stamp) * 1e-9 > start_s + 20]
    assert len(onboard) > 100 and len(in_outage_dwells) > 80
    _wait_delivered(graph, len(onboard), timeout=60)
    ground = _assert_exactly_once(graph, onboard)
    stamps = [stamp_ns(m.header.stamp) for m in ground]
    assert stamps == sorted(stamps), "dwells were delivered out of order"
    sim_s = lambda m: stamp_ns(m.header.stamp) * 1e-9 - start_s   # noqa: E731
    tx = [m for m in graph.messages(f"/{SAT}/downlink/status") if m.endpoint_id == SAT]
    assert max(m.queue_depth_records for m in tx if 25 < sim_s(m) < 195) > 80        # buffered onboard
    assert _counters(tx[-1])["channel:outage_dropped"] > 0 and tx[-1].records_evicted == 0
    # Nothing reached the ground during the outage.
    rx = [m for m in graph.messages("/ground/downlink/status") if m.endpoint_id == "ground" and 25 < sim_s(m) < 195]
    assert len(rx) > 5 and len({m.packets_received for m in rx}) == 1
    assert graph.shutdown() == 0


def test_contacts_mode_holds_everything_until_the_first_pass_then_delivers_it(launch_graph, tmp_path):
    graph, _ = _start(launch_graph, tmp_path, rate=60.0, tx={"mode": "contacts"}, dwell_rate_hz=2.0, stations=True)
    contacts = graph.wait_for_messages(f"/{SAT}/orbit/contacts", "sbamti_msgs/msg/ContactWindowArray", count=1,
                                       timeout=30)[0]
    first = contacts.windows[0]
    aos_ns, los_ns = stamp_ns(first.aos), stamp_ns(first.los)
    assert 300e9 < aos_ns - parse_utc_epoch_ns(START) < 900e9              # minutes after the start: an outage
    graph.wait_for_messages("/clock", count=1, timeout=90, predicate=lambda c: stamp_ns(c.clock) > aos_ns + 30e9)
    onboard = graph.messages(ONBOARD)
    assert onboard and all(stamp_ns(m.header.stamp) < aos_ns for m in onboard)  # the area was in view earlier
    _wait_delivered(graph, len(onboard), timeout=60)
    _assert_exactly_once(graph, onboard)
    tx = [m for m in graph.messages(f"/{SAT}/downlink/status") if m.endpoint_id == SAT]
    before = [m for m in tx if stamp_ns(m.header.stamp) < aos_ns - 1e9]
    during = [m for m in tx if aos_ns + 1e9 < stamp_ns(m.header.stamp) < los_ns]
    assert before and all(m.state == m.STATE_NO_CONTACT and m.packets_sent == 0 for m in before)
    assert stamp_ns(before[-1].next_contact_aos) == aos_ns and before[-1].queue_depth_records >= len(onboard)
    assert during and all(m.state == m.STATE_DIRECT and m.station_name == first.station_name for m in during)
    assert graph.shutdown() == 0


def test_kill_9_of_downlink_tx_loses_and_duplicates_nothing(launch_graph, tmp_path):
    graph, link = _start(launch_graph, tmp_path, tx_respawn=True)
    graph.wait_for_messages(GROUND, count=40, timeout=90)
    victim = graph.process.wait_for_start_of("downlink_tx")[0]
    os.kill(victim, signal.SIGKILL)                                  # mid-pass: records in flight and queued
    graph.process.wait_for_start_of("downlink_tx", count=2, timeout=30)
    onboard = graph.wait_for_messages(ONBOARD, count=1, timeout=60)   # any, to know time runs
    # Everything published up to well after the restart must arrive exactly once.
    count = len(graph.messages(ONBOARD)) + 100
    onboard = _wait_delivered(graph, count, timeout=120)
    _assert_exactly_once(graph, onboard)
    restarted = [m for m in graph.messages(f"/{SAT}/downlink/status") if m.endpoint_id == SAT]
    assert restarted[-1].records_stored >= count                     # the store's counters survived the kill
    assert graph.shutdown() == 0


def test_full_store_drops_lowest_priority_first_and_counts_it(launch_graph, tmp_path):
    capacity = 40
    # Contacts mode with no contact prediction: the link never comes up, everything stays onboard.
    graph, link = _start(launch_graph, tmp_path, tx={"mode": "contacts", "store_capacity_records": capacity})
    onboard = graph.wait_for_messages(ONBOARD, count=capacity + 60, timeout=90)
    status = graph.wait_for_messages(f"/{SAT}/downlink/status", count=1, timeout=30,
                                     predicate=lambda m: _counters(m).get("dropped:detections", 0) > 10)[0]
    assert status.queue_depth_records == capacity and status.state == status.STATE_NO_CONTACT
    # Housekeeping (priority 50) went before any detection (priority 200) was dropped.
    for m in graph.messages(f"/{SAT}/downlink/status"):
        counts = _counters(m)
        if counts.get("dropped:detections", 0):
            assert counts.get("dropped:housekeeping", 0) > 0
    assert graph.shutdown() == 0
    assert not graph.messages(GROUND)
    # The store holds the newest detections only, no housekeeping.
    with RecordStore(str(link.store_path), capacity_bytes=1 << 30, capacity_records=capacity) as store:
        records = store.records()
        assert {r.apid for r in records} == {int(Apid.DETECTIONS)}
        stamps = sorted(r.stamp_sec * 1_000_000_000 + r.stamp_nanosec for r in records)
        published = sorted(stamp_ns(m.header.stamp) for m in graph.messages(ONBOARD))
        assert stamps == published[-len(stamps):]
        assert store.dropped_by_apid[int(Apid.DETECTIONS)] == len(published) - len(stamps)
    assert onboard


def _command_frame(keyring: Keyring, security_sequence: int, command: Command) -> bytes:
    encoder = FrameEncoder(keyring, 1, Direction.UP, next_security_sequence=security_sequence)
    return encoder.encode(Apid.COMMAND, encode_command(command), time_sec=1830297600, time_nanosec=0)


def test_commands_are_executed_once_and_forgeries_and_replays_are_refused(launch_graph, tmp_path):
    graph, link = _start(launch_graph, tmp_path)
    graph.wait_for_messages(GROUND, count=5, timeout=90)             # the ground has heard the satellite
    from sbamti_msgs.msg import UplinkCommand
    acks = "/ground/uplink/acks"
    graph.subscribe(acks, "sbamti_msgs/msg/UplinkCommandAck", qos=LATCHED_ALL)
    graph.subscribe(f"/{SAT}/uplink/commands", "sbamti_msgs/msg/UplinkCommand", qos=LATCHED_ALL)
    publisher = graph.observer.node.create_publisher(
        UplinkCommand, "/ground/uplink/commands",
        QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    command = UplinkCommand(satellite_id=SAT, command_id=41, kind=UplinkCommand.KIND_SET_DOWNLINK_PRIORITY,
                            apid=int(Apid.HOUSEKEEPING), priority=220)
    publisher.publish(command)
    ack = graph.wait_for_messages(acks, count=1, timeout=30, predicate=lambda a: a.command_id == 41)[0]
    assert ack.satellite_id == SAT and ack.status == ack.STATUS_EXECUTED and "HOUSEKEEPING priority 220" in ack.message

    # A command crafted with the right key executes once; its replay and a forgery are refused.
    keyring = Keyring.from_file(KEYS)
    genuine = _command_frame(keyring, 1_000_000, Command(command_id=900, kind=CommandKind.SET_RADAR_MODE,
                                                         radar_mode=RadarMode.STANDBY))
    forged_keys = Keyring.from_masters({None: bytes(range(32))})
    forged = _command_frame(forged_keys, 2_000_000, Command(command_id=901, kind=CommandKind.SET_RADAR_MODE,
                                                            radar_mode=RadarMode.STANDBY))
    forged_downlink = FrameEncoder(forged_keys, 1, Direction.DOWN).encode(
        Apid.DETECTIONS, b"\x01" * 200, time_sec=1830297600, time_nanosec=0, link_sequence=10**6)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for frame in (genuine, genuine, forged, genuine):
            sock.sendto(frame, ("127.0.0.1", link.tx_port))
            time.sleep(0.05)
        for _ in range(3):
            sock.sendto(forged_downlink, ("127.0.0.1", link.ground_port))
    executed = graph.wait_for_messages(f"/{SAT}/uplink/commands", count=1, timeout=30,
                                       predicate=lambda c: c.command_id == 900)
    assert executed[0].kind == UplinkCommand.KIND_SET_RADAR_MODE and executed[0].radar_mode == 0
    standby_ack = graph.wait_for_messages(acks, count=1, timeout=30, predicate=lambda a: a.command_id == 900)[0]

    def refused(m):
        c = _counters(m)
        return c.get("uplink:replays", 0) >= 2 and c.get("uplink:auth_failures", 0) >= 1
    graph.wait_for_messages(f"/{SAT}/downlink/status", count=1, timeout=30, predicate=refused)
    graph.wait_for_messages("/ground/downlink/status", count=1, timeout=30,
                            predicate=lambda m: m.endpoint_id == "ground" and _counters(m).get("auth_failures", 0) >= 3)
    time.sleep(1.0)
    assert [c.command_id for c in graph.messages(f"/{SAT}/uplink/commands")].count(900) == 1   # executed once
    assert 901 not in [c.command_id for c in graph.messages(f"/{SAT}/uplink/commands")]
    assert all(_key(m)[0] < 10**6 for m in graph.messages(GROUND))
    # radar_sim obeyed the standby command: no dwell later than its execution onboard (+ 3 s of sim time).
    executed_ns = stamp_ns(standby_ack.header.stamp)
    assert not [m for m in graph.messages(ONBOARD) if stamp_ns(m.header.stamp) > executed_ns + 3 * 10**9]
    assert graph.shutdown() == 0
