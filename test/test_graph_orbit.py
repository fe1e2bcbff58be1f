"""Graph test: orbit_state for a small constellation, one process per satellite namespace, on sim time."""

from pathlib import Path

import numpy as np
import pytest

from sbamti.orbit.elements import load_element_sets, select
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.timeutil import parse_utc_epoch_ns

REPO = Path(__file__).resolve().parents[1]
GRAPH = REPO / "launch" / "constellation_small.launch.yaml"
TLE = REPO / "config" / "constellations" / "small_4sat.tle"
SATELLITES = [f"sbamti_00{k}" for k in range(1, 5)]
START_NS = parse_utc_epoch_ns("2028-01-01T00:00:00Z")
PERIOD_NS = 500_000_000          # publish_rate_hz 2.0
ONE_MILLIMETRE = 1e-3

pytestmark = pytest.mark.timeout(120)


def _stamp_ns(msg) -> int:
    return msg.header.stamp.sec * 1_000_000_000 + msg.header.stamp.nanosec


def test_states_per_namespace_on_sim_time_match_the_library(launch_graph):
    graph = launch_graph(GRAPH, rate=10.0, publish_rate_hz=2.0)
    topics = [f"/{sat}/orbit/state" for sat in SATELLITES]
    graph.wait_ready(nodes=[f"/{sat}/orbit_state" for sat in SATELLITES] + ["/sim_clock"], topics=topics, timeout=30)
    received = {t: graph.wait_for_messages(t, "sbamti_msgs/msg/OrbitState", count=6, timeout=30) for t in topics}

    propagator = {e.satellite_id: Propagator([e]) for e in select(load_element_sets(TLE).element_sets, SATELLITES)}
    for sat, topic in zip(SATELLITES, topics):
        msgs = received[topic]
        stamps = np.array([_stamp_ns(m) for m in msgs])
        # sim-time cadence: exact multiples of the period, consecutive, from the start epoch on
        assert np.all(stamps % PERIOD_NS == 0) and np.all(np.diff(stamps) == PERIOD_NS), stamps
        assert stamps[0] >= START_NS and stamps[-1] < START_NS + 600 * 10**9
        assert all(m.satellite_id == sat and m.sgp4_error_code == 0 for m in msgs)
        # the node's positions are the library's, at the message's own stamp
        expected = compute_states(propagator[sat], stamps)  # the launch file's default: no EOP
        got_position = np.array([m.position_ecef for m in msgs])
        got_velocity = np.array([m.velocity_ecef for m in msgs])
        assert np.max(np.abs(got_position - expected.position_ecef_m[0])) < ONE_MILLIMETRE
        assert np.max(np.abs(got_velocity - expected.velocity_ecef_mps[0])) < ONE_MILLIMETRE
        assert np.allclose([m.altitude_m for m in msgs], expected.altitude_m[0], atol=ONE_MILLIMETRE)
        # 800 km orbit: altitude within the Walker generator's tolerance
        assert all(780e3 < m.altitude_m < 830e3 for m in msgs)

    # contacts are predicted and latched for the downlink
    contacts = graph.wait_for_messages("/sbamti_001/orbit/contacts", "sbamti_msgs/msg/ContactWindowArray",
                                       timeout=30)[0]
    assert contacts.satellite_id == "sbamti_001"
    horizon = contacts.horizon_end.sec * 10**9 + contacts.horizon_end.nanosec - _stamp_ns(contacts)
    assert horizon == 86400 * 10**9
    aos = [w.aos.sec * 10**9 + w.aos.nanosec for w in contacts.windows]
    assert aos == sorted(aos) and len(aos) > 3  # several passes a day over 7 stations
    assert graph.shutdown() == 0


def test_constellation_mode_composed_in_a_container(launch_graph, tmp_path):
    """sim_clock and a 48-satellite orbit_state (flat array layout) as composable nodes of one process."""
    import yaml

    walker = REPO / "config" / "constellations" / "walker_48_6_1_700km_53deg.tle"
    doc = {"launch": [{"node_container": {
        "pkg": "sbamti", "exec": "component_container", "name": "constellation", "namespace": "/",
        "composable_node": [
            {"pkg": "sbamti", "plugin": "sbamti::SimClock", "name": "sim_clock",
             "param": [{"name": "rate", "value": 20.0}, {"name": "wait_for_subscribers", "value": 2}]},
            {"pkg": "sbamti", "plugin": "sbamti::OrbitState", "name": "orbit_state", "namespace": "/ground_truth",
             "param": [{"name": "tle_file", "value": str(walker)}, {"name": "layout", "value": "array"},
                       {"name": "publish_rate_hz", "value": 1.0}]},
        ]}}]}
    launch_file = tmp_path / "composed.launch.yaml"
    launch_file.write_text(yaml.safe_dump(doc, sort_keys=False))

    graph = launch_graph(launch_file)
    graph.subscribe("/ground_truth/orbit/states", "sbamti_msgs/msg/OrbitStateArray")
    graph.wait_ready(nodes=["/constellation", "/sim_clock", "/ground_truth/orbit_state"], timeout=30)
    graph.wait_matched(["/ground_truth/orbit/states"])
    graph.subscribe("/clock", "rosgraph_msgs/msg/Clock")  # the second /clock listener: time runs
    msgs = graph.wait_for_messages("/ground_truth/orbit/states", count=5, timeout=30)
    assert len(graph.process.started) == 1  # one process hosts both nodes
    stamps = [_stamp_ns(m) for m in msgs]
    assert stamps == [START_NS + k * 10**9 for k in range(5)]  # from the first sim second, 1 Hz
    from sbamti.ros.arrays import from_field
    walker_sets = load_element_sets(walker).element_sets
    expected = compute_states(Propagator(walker_sets), np.array(stamps[-1:], dtype=np.int64))
    last = msgs[-1]
    assert list(last.satellite_ids) == [e.satellite_id for e in walker_sets]
    positions = from_field(last.position_ecef, np.float64, (48, 3))
    assert np.max(np.abs(positions - expected.position_ecef_m[:, 0])) < ONE_MILLIMETRE
    assert graph.shutdown() == 0
