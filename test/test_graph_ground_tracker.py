"""Graph test of the ground tracker: sim_clock and ground_tracker (in /ground) as processes; the test
publishes synthetic 3-satellite dwells of a crossing pair on /ground/detections, stamped in sim time,
and the confirmed tracks on /ground/tracks must follow both targets with stable ids; the process
exits cleanly."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy

from sbamti.ros.qos import GROUND_DETECTIONS_QOS
from sbamti.ros.track_messages import synthetic_dwell_to_message
from sbamti.timeutil import parse_utc_epoch_ns, stamp_ns
from sbamti.tracking.synthetic import TruthSampler, crossing_pair, generate

START = "2028-01-01T00:00:00Z"
START_NS = parse_utc_epoch_ns(START)
LAT, LON = 54.0, 15.0
DURATION_S = 180.0
DETECTIONS = "/ground/detections"
TRACKS = "/ground/tracks"
RECORD_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, depth=1000, reliability=ReliabilityPolicy.RELIABLE)
# Onboard geolocation errors are ~6 km along each range circle; a track of three satellites' dwells
# is well inside this after a minute.
track_error_m = 1500.0
convergence_s = 60.0

pytestmark = pytest.mark.timeout(60)


def _launch_file(path: Path) -> Path:
    doc = {"launch": [
        {"node": {"pkg": "sbamti", "exec": "sim_clock", "name": "sim_clock", "on_exit": "shutdown",
                  "param": [{"name": "rate", "value": 10.0}, {"name": "start_epoch", "value": START},
                            {"name": "wait_for_subscribers", "value": 2}]}},
        {"node": {"pkg": "sbamti", "exec": "ground_tracker", "name": "ground_tracker", "namespace": "/ground",
                  "param": [{"name": "publish_period_s", "value": 1.0}]}},
    ]}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_ground_tracker_follows_a_crossing_pair_with_stable_ids(launch_graph, tmp_path):
    scenario = crossing_pair(LAT, LON, start_ns=START_NS, duration_s=DURATION_S, crossing_time_s=0.5 * DURATION_S,
                             area_radius_m=150e3)
    dwells = generate(scenario, START_NS, DURATION_S, pd=0.9, false_alarms_per_dwell=1.0, seed=2)
    graph = launch_graph(_launch_file(tmp_path / "tracker.launch.yaml"))
    graph.subscribe(TRACKS, "sbamti_msgs/msg/TrackArray", qos=RECORD_ALL)
    graph.wait_ready(nodes=["/ground/ground_tracker"], timeout=30)
    graph.wait_matched([TRACKS])
    from sbamti_msgs.msg import DetectionArray
    publisher = graph.observer.node.create_publisher(DetectionArray, DETECTIONS, GROUND_DETECTIONS_QOS)
    deadline = time.monotonic() + 15.0
    while publisher.get_subscription_count() == 0:
        assert time.monotonic() < deadline, f"ground_tracker never subscribed to {DETECTIONS}"
        time.sleep(0.02)
    graph.subscribe("/clock", "rosgraph_msgs/msg/Clock")          # the second /clock listener: time runs
    for d in dwells:                                               # in stamp order, with their own stamps
        publisher.publish(synthetic_dwell_to_message(d))
        time.sleep(0.005)
    last = dwells[-1].stamp_ns
    graph.wait_for_messages(TRACKS, count=1, timeout=30, predicate=lambda m: stamp_ns(m.header.stamp) == last)

    truth = TruthSampler(scenario)
    held = set()
    pictures = [m for m in graph.messages(TRACKS) if stamp_ns(m.header.stamp) - START_NS > convergence_s * 1e9]
    assert len(pictures) > 20
    for msg in pictures:
        t = stamp_ns(msg.header.stamp)
        assert len(msg.tracks) == 2, f"{len(msg.tracks)} tracks at {(t - START_NS) / 1e9:.0f} s"
        _, position, _ = truth(np.array([t]))
        for track in msg.tracks:
            assert track.status in (track.STATUS_CONFIRMED, track.STATUS_COASTING)
            error = np.linalg.norm(position[0] - np.asarray(track.position_ecef), axis=1).min()
            assert error < track_error_m, f"track {track.track_id}: {error:.0f} m from the nearest target"
        held.add(tuple(sorted(track.track_id for track in msg.tracks)))
    assert len(held) == 1, f"track ids changed: {sorted(held)}"
    stamps = [stamp_ns(m.header.stamp) for m in graph.messages(TRACKS)]
    assert stamps == sorted(stamps)
    assert graph.shutdown() == 0
    assert graph.exit_codes["ground_tracker"] == 0
