"""ground_tracker in process: the track message conversion (heading, speed, climb, covariance), the node
fed synthetic 3-satellite dwells as DetectionArray messages (confirmed tracks near the truth, stable
ids), and bad rows rejected and counted while the rest of their dwell is used."""

import itertools
import math

import numpy as np
import pytest
from rclpy.parameter import Parameter
from sbamti_msgs.msg import Track, TrackArray
from sbamti_nodes.ground_tracker import GroundTrackerNode

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import enu_rotation, geodetic_to_ecef
from sbamti.radar.scenario import Scenario
from sbamti.ros.track_messages import (
    dwell_input_from_message,
    synthetic_dwell_to_message,
    track_geodetic,
    track_states_from_message,
    tracks_to_message,
)
from sbamti.timeutil import stamp_ns
from sbamti.tracking.synthetic import TruthSampler, crossing_pair, generate

START_NS = 1_830_297_600 * 10**9           # 2028-01-01T00:00:00Z
LAT, LON = 54.0, 15.0
AREA_RADIUS_M = 150e3
one_mm_per_s = 1e-3
one_micro_rad = 1e-6
one_cm = 0.01
# Onboard geolocation errors are ~6 km along the range circle; a track of a few satellites' dwells
# is well inside this after a minute.
track_error_m = 1500.0


def _node(context, **params):
    base = {"use_sim_time": False, "publish_period_s": 0.0}
    base.update(params)
    node = GroundTrackerNode(context=context, parameter_overrides=[Parameter(k, value=v) for k, v in base.items()])
    published = []
    node._pub.publish = published.append        # record instead of publishing (no subscriber needed)
    return node, published


def _enu_to_ecef(lat_deg, lon_deg, enu):
    return enu_rotation(math.radians(lat_deg), math.radians(lon_deg)).T @ np.asarray(enu, dtype=np.float64)


# --- conversion ------------------------------------------------------------------------------------

def test_heading_speed_and_climb_of_known_enu_velocities():
    lat, lon, alt = 45.0, 10.0, 9000.0
    p = geodetic_to_ecef(math.radians(lat), math.radians(lon), alt)
    cases = [  # (east, north, up) m/s -> heading rad, speed m/s, climb m/s
        ((200.0, 0.0, 0.0), math.pi / 2, 200.0, 0.0),
        ((0.0, 150.0, 5.0), 0.0, 150.0, 5.0),
        ((0.0, -100.0, -3.0), math.pi, 100.0, -3.0),
        ((-100.0, 100.0, 0.0), 1.75 * math.pi, math.sqrt(2) * 100.0, 0.0),
        ((-1e-9, 250.0, 0.0), 0.0, 250.0, 0.0),     # just west of north: heading near 2 pi wraps, stays < 2 pi
    ]
    v = np.array([_enu_to_ecef(lat, lon, enu) for enu, *_ in cases])
    geo = track_geodetic(np.tile(p, (len(cases), 1)), v)
    for i, (_, heading, speed, climb) in enumerate(cases):
        assert 0.0 <= geo.heading_rad[i] < 2 * math.pi
        assert min(abs(geo.heading_rad[i] - heading), 2 * math.pi - abs(geo.heading_rad[i] - heading)) < one_micro_rad
        assert geo.speed_mps[i] == pytest.approx(speed, abs=one_mm_per_s)
        assert geo.climb_rate_mps[i] == pytest.approx(climb, abs=one_mm_per_s)
    assert np.allclose(np.degrees(geo.latitude_rad), lat, atol=1e-9)
    assert np.allclose(np.degrees(geo.longitude_rad), lon, atol=1e-9)
    assert np.allclose(geo.altitude_m, alt, atol=one_cm)


def test_track_message_round_trips_state_and_covariance():
    rng = np.random.default_rng(3)
    p = geodetic_to_ecef(math.radians(45.0), math.radians(10.0), 9000.0)
    x = np.zeros((2, 7))
    x[:, :3] = p
    x[0, 3:6] = _enu_to_ecef(45.0, 10.0, (200.0, 0.0, 0.0))
    x[1, 3:6] = _enu_to_ecef(45.0, 10.0, (0.0, 150.0, 5.0))
    a = rng.normal(size=(2, 7, 7))
    P = a @ a.transpose(0, 2, 1)
    msg = tracks_to_message(START_NS + 1_500_000_000, track_id=[4, 9], status=[1, 2], state=x, covariance=P,
                            quality=[1.0, 0.6], num_updates=[7, 3], created_ns=[START_NS, START_NS + 10**9],
                            last_update_ns=[START_NS + 10**9, START_NS + 1_500_000_000],
                            satellites=[{"sbamti_002", "sbamti_001"}, {"sbamti_003"}])
    assert isinstance(msg, TrackArray) and stamp_ns(msg.header.stamp) == START_NS + 1_500_000_000
    ids, x6, P6 = track_states_from_message(msg)
    assert ids.tolist() == [4, 9]
    assert np.array_equal(x6, x[:, :6]) and np.array_equal(P6, P[:, :6, :6])      # float64 on the wire: exact
    first, second = msg.tracks
    assert (first.status, second.status) == (Track.STATUS_CONFIRMED, Track.STATUS_COASTING)
    assert first.heading_rad == pytest.approx(math.pi / 2, abs=one_micro_rad)
    assert second.climb_rate_mps == pytest.approx(5.0, abs=one_mm_per_s)
    assert list(first.contributing_satellites) == ["sbamti_001", "sbamti_002"]
    assert (first.num_updates, second.quality) == (7, 0.6)
    assert stamp_ns(second.created) == START_NS + 10**9 and stamp_ns(second.last_update) == START_NS + 1_500_000_000
    empty = tracks_to_message(START_NS, track_id=[], status=[], state=np.empty((0, 7)), covariance=np.empty((0, 7, 7)),
                              quality=[], num_updates=[], created_ns=[], last_update_ns=[], satellites=[])
    assert list(empty.tracks) == []


def test_detection_array_to_tracker_input():
    dwells = generate(_one_target(120.0), START_NS, 30.0, pd=1.0, false_alarms_per_dwell=2.0, seed=4)
    d = next(d for d in dwells if len(d.position_ecef) > 1)
    inp = dwell_input_from_message(synthetic_dwell_to_message(d), 100e3)
    assert inp.stamp_ns == d.stamp_ns and inp.satellite_id == d.satellite_id
    assert np.array_equal(inp.position_ecef, d.position_ecef)
    assert np.array_equal(inp.covariance_ecef, d.position_covariance_ecef)
    assert np.array_equal(inp.coverage_centre_ecef, d.beam_centre_ecef) and inp.coverage_radius_m == 100e3


# --- the node --------------------------------------------------------------------------------------

def _crossing(duration_s):
    return crossing_pair(LAT, LON, start_ns=START_NS, duration_s=duration_s, crossing_time_s=0.5 * duration_s,
                         area_radius_m=AREA_RADIUS_M)


def _one_target(duration_s):
    pair = _crossing(duration_s)
    return Scenario("one", pair.start_epoch_ns, duration_s, 0, pair.areas, pair.targets[:1])


def test_node_tracks_a_crossing_pair_near_the_truth_with_stable_ids(ros_context):
    duration_s = 180.0
    scenario = _crossing(duration_s)
    dwells = generate(scenario, START_NS, duration_s, pd=0.9, false_alarms_per_dwell=1.0, seed=2)
    node, published = _node(ros_context)
    try:
        for d in dwells:
            node._on_detections(synthetic_dwell_to_message(d))
        assert len(published) == len(dwells) and node.messages_in == len(dwells)      # period 0: every dwell
        assert node.rejections == {}
        truth = TruthSampler(scenario)
        ids_late = []
        for msg in published:
            t = stamp_ns(msg.header.stamp)
            if t - START_NS < 60e9:
                continue                                              # a minute to confirm and converge
            confirmed = [tr for tr in msg.tracks if tr.status in (Track.STATUS_CONFIRMED, Track.STATUS_COASTING)]
            assert len(confirmed) == 2, f"{len(confirmed)} confirmed tracks at {(t - START_NS) / 1e9:.0f} s"
            _, position, _ = truth(np.array([t]))
            for tr in confirmed:
                error = np.linalg.norm(position[0] - np.asarray(tr.position_ecef), axis=1).min()
                assert error < track_error_m, f"track {tr.track_id}: {error:.0f} m from the nearest target"
                assert set(tr.contributing_satellites) == {"sbamti_001", "sbamti_002", "sbamti_003"}
                assert tr.created.sec > 0 and tr.num_updates >= 3
            ids_late.append(tuple(sorted(tr.track_id for tr in confirmed)))
        assert ids_late and len(set(ids_late)) == 1                   # the same two ids throughout
        last = published[-1]
        assert stamp_ns(last.header.stamp) == dwells[-1].stamp_ns
        assert all(t.speed_mps == pytest.approx(250.0, rel=0.1) for t in last.tracks)
        assert all(abs(t.climb_rate_mps) < 20.0 and 3000.0 < t.altitude_m < 7000.0 for t in last.tracks)
    finally:
        node.destroy_node()


def test_publish_period_limits_the_rate_in_sim_time(ros_context):
    dwells = generate(_one_target(60.0), START_NS, 60.0, pd=1.0, false_alarms_per_dwell=0.0, seed=1)
    node, published = _node(ros_context, publish_period_s=9.0)
    try:
        for d in dwells:
            node._on_detections(synthetic_dwell_to_message(d))
        stamps = [stamp_ns(m.header.stamp) for m in published]
        assert stamps[0] == dwells[0].stamp_ns
        assert all(b - a >= 9e9 for a, b in itertools.pairwise(stamps))
        assert 5 <= len(stamps) <= 7                                  # 18 dwells over 60 s, every ~10 s
        assert all(t.status != Track.STATUS_TENTATIVE for m in published for t in m.tracks)
    finally:
        node.destroy_node()


def test_bad_rows_are_rejected_and_counted_and_the_rest_used(ros_context):
    dwells = generate(_one_target(120.0), START_NS, 120.0, pd=1.0, false_alarms_per_dwell=0.0, seed=3)
    node, published = _node(ros_context, publish_tentative=True)
    try:
        for d in dwells[:9]:
            node._on_detections(synthetic_dwell_to_message(d))
        (track,) = published[-1].tracks
        assert track.status == Track.STATUS_CONFIRMED
        updates = track.num_updates
        # Two dwells with the target's row plus a broken row each: a NaN position, a covariance that is
        # not positive definite.
        for d, breakage in zip(dwells[9:11], ("nan", "covariance")):
            msg = synthetic_dwell_to_message(d)
            assert len(msg.detections) == 1
            bad = synthetic_dwell_to_message(d).detections[0]
            if breakage == "nan":
                bad.position_ecef[1] = float("nan")
            else:
                bad.position_covariance_ecef = -np.eye(3).ravel()
            msg.detections = [bad, msg.detections[0]]
            node._on_detections(msg)
        assert node.rejections == {"detections:non_finite_position": 1, "detections:covariance_not_positive_definite": 1}
        (track,) = published[-1].tracks
        assert track.num_updates == updates + 2                       # the good rows updated the track
        assert node.tracker.rejections["non_finite_position"] == 1
        # A dwell with a non-finite beam centre cannot be placed at all.
        msg = synthetic_dwell_to_message(dwells[11])
        msg.beam_centre_ecef[0] = float("inf")
        node._on_detections(msg)
        assert node.rejections["detections:invalid_dwell"] == 1
    finally:
        node.destroy_node()


def test_late_dwells_are_counted_not_rejected(ros_context):
    dwells = generate(_one_target(60.0), START_NS, 60.0, pd=1.0, false_alarms_per_dwell=0.0, seed=1)
    node, _ = _node(ros_context)
    try:
        for d in dwells[:6] + [dwells[3]]:                            # an old dwell again, after newer ones
            node._on_detections(synthetic_dwell_to_message(d))
        assert node.late_track_skips == 1 and node.rejections == {}
        assert "late track skips 1" in node._last_message
    finally:
        node.destroy_node()


def test_inconsistent_parameters_are_refused(ros_context):
    with pytest.raises(ConfigurationError, match="parameter 'confirm_m': 4 must be <= confirm_n = 3"):
        _node(ros_context, confirm_m=4, confirm_n=3)
    with pytest.raises(ConfigurationError, match="parameter 'pd'"):
        _node(ros_context, pd=1.5)
