"""Target trajectories: distances, coordinated turns, climbs, velocity consistency, accuracy."""

import math

import numpy as np
import pytest

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, E2, enu_rotation, geodetic_to_ecef
from sbamti.radar import trajectory as traj
from sbamti.radar.target_classes import STANDARD_GRAVITY_MPS2, TARGET_CLASSES
from sbamti.radar.trajectory import waypoint_trajectory

NS = 1_000_000_000
START_NS = 1_830_297_600 * NS      # 2028-01-01T00:00:00Z
one_tenth_percent = 1e-3
one_percent = 0.01
ten_cm_per_s = 0.1
one_metre = 1.0
fifty_metres = 50.0
five_metres = 5.0

AIRLINER = TARGET_CLASSES["airliner"]


def _fly(waypoints, cls=AIRLINER, **kwargs):
    return waypoint_trajectory(START_NS, waypoints, max_turn_rate_rad_s=cls.max_turn_rate_rad_s,
                               max_climb_rate_mps=cls.max_climb_rate_mps, max_bank_rad=cls.max_bank_rad,
                               max_accel_mps2=cls.max_accel_mps2,
                               max_vertical_accel_mps2=cls.max_vertical_accel_mps2, **kwargs)


def _times(tr, step_s):
    return np.arange(tr.start_ns, tr.end_ns, int(step_s * NS), dtype=np.int64)


# A route with turns both ways, a climb, a descent and speed changes.
ROUTE = [(45.0, 7.0, 10000.0, 230.0), (45.6, 7.8, 10000.0, 230.0), (45.7, 9.0, 11000.0, 250.0),
         (45.1, 9.4, 9000.0, 200.0), (44.8, 8.5, 9000.0, 210.0)]


def test_straight_leg_covers_speed_times_time():
    # one leg: the first heading is the rhumb bearing, so no turn; constant speed and height
    v = 230.0
    tr = _fly([(45.0, 7.0, 10000.0, v), (45.8, 9.0, 10000.0, v)])
    t = _times(tr, 5.0)
    s = tr.state_at(t)
    # second method: the length of the ECEF polyline through 5 s samples (chord error ~ s^3/24R^2 ~ 1e-6 m)
    length = np.sum(np.linalg.norm(np.diff(s.position_ecef, axis=0), axis=1))
    elapsed = (t[-1] - t[0]) / NS
    assert abs(length - v * elapsed) / (v * elapsed) < one_tenth_percent
    np.testing.assert_allclose(s.speed_mps, v, rtol=1e-9)
    assert np.ptp(s.heading_rad) < 1e-9          # rhumb line: constant heading
    np.testing.assert_allclose(s.alt_m, 10000.0, atol=1e-3)
    # ends at the waypoint
    end = tr.state_at([tr.end_ns])
    assert np.linalg.norm(end.position_ecef[0] - geodetic_to_ecef(math.radians(45.8), math.radians(9.0), 10000.0)) \
        < fifty_metres


def test_coordinated_turn_rate_and_radius():
    v = 230.0
    tr = _fly([(45.0, 7.0, 10000.0, v), (45.6, 7.0, 10000.0, v), (45.6, 8.5, 10000.0, v)])
    omega = min(AIRLINER.max_turn_rate_rad_s, STANDARD_GRAVITY_MPS2 * math.tan(AIRLINER.max_bank_rad) / v)
    t = _times(tr, 0.5)
    s = tr.state_at(t)
    rate = np.diff(np.unwrap(s.heading_rad)) / 0.5
    turning = np.abs(rate) > 0.5 * omega
    assert turning.sum() * 0.5 > 0.9 * (math.pi / 2) / omega   # about a 90° right turn
    np.testing.assert_allclose(rate[turning][1:-1], omega, rtol=one_percent)
    # radius: least-squares circle (Kasa fit) through the turn in the local East-North plane
    idx = np.flatnonzero(turning)[1:-1]
    p = s.position_ecef[idx]
    ref = p[len(p) // 2]
    rot = enu_rotation(s.lat_rad[idx[len(idx) // 2]], s.lon_rad[idx[len(idx) // 2]])
    enu = (p - ref) @ rot.T
    x, y = enu[:, 0], enu[:, 1]
    a = np.column_stack([x, y, np.ones_like(x)])
    (d, e, f), *_ = np.linalg.lstsq(a, -(x * x + y * y), rcond=None)
    radius = math.sqrt(d * d / 4 + e * e / 4 - f)
    assert abs(radius - v / omega) / (v / omega) < one_percent


def test_climb_rate_respected_and_height_reached():
    cls = TARGET_CLASSES["business_jet"]
    # 8 km to climb over a ~110 km leg at ~200 m/s (550 s): needs 14.5 m/s, allowed 20
    tr = _fly([(45.0, 7.0, 2000.0, 200.0), (46.0, 7.0, 10000.0, 200.0)], cls)
    s = tr.state_at(_times(tr, 1.0))
    assert np.all(s.climb_rate_mps <= cls.max_climb_rate_mps + 1e-6)
    assert np.all(np.diff(s.alt_m) >= -1e-6)
    assert abs(tr.state_at([tr.end_ns]).alt_m[0] - 10000.0) < one_metre
    # 8 km over a 55 km leg would need 29 m/s: the climb is flown at the limit and ends early
    tr = _fly([(45.0, 7.0, 2000.0, 200.0), (45.5, 7.0, 10000.0, 200.0), (46.0, 7.0, 10000.0, 200.0)], cls)
    s = tr.state_at(_times(tr, 1.0))
    assert np.max(np.abs(s.climb_rate_mps)) == pytest.approx(cls.max_climb_rate_mps, rel=1e-6)
    assert np.all(s.alt_m <= 10000.0 + 1e-3)


def test_velocity_is_the_time_derivative_of_position():
    tr = _fly(ROUTE)
    rng = np.random.default_rng(3)
    h_ns = 10_000_000  # 10 ms
    t = np.sort(rng.integers(tr.start_ns + h_ns, tr.end_ns - h_ns, 2000))
    mid = tr.state_at(t)
    fd = (tr.state_at(t + h_ns).position_ecef - tr.state_at(t - h_ns).position_ecef) / (2 * h_ns / NS)
    assert np.max(np.linalg.norm(fd - mid.velocity_ecef, axis=1)) < ten_cm_per_s


def test_speed_heading_climb_agree_with_geodetic_rates():
    tr = _fly(ROUTE)
    h_ns = 10_000_000
    t = _times(tr, 7.0)[1:]
    s = tr.state_at(t)
    after, before = tr.state_at(t + h_ns), tr.state_at(t - h_ns)
    dt = 2 * h_ns / NS
    sl = np.sin(s.lat_rad)
    n = A_M / np.sqrt(1 - E2 * sl * sl)
    m = n * (1 - E2) / (1 - E2 * sl * sl)
    north = (after.lat_rad - before.lat_rad) / dt * (m + s.alt_m)
    east = (after.lon_rad - before.lon_rad) / dt * (n + s.alt_m) * np.cos(s.lat_rad)
    up = (after.alt_m - before.alt_m) / dt
    np.testing.assert_allclose(north, s.speed_mps * np.cos(s.heading_rad), atol=ten_cm_per_s)
    np.testing.assert_allclose(east, s.speed_mps * np.sin(s.heading_rad), atol=ten_cm_per_s)
    np.testing.assert_allclose(up, s.climb_rate_mps, atol=ten_cm_per_s)
    np.testing.assert_allclose(np.linalg.norm(s.velocity_ecef, axis=1) ** 2,
                               s.speed_mps ** 2 + s.climb_rate_mps ** 2, rtol=1e-9)


def test_velocity_continuous_and_acceleration_bounded():
    tr = _fly(ROUTE)
    assert np.all(np.diff(tr.knot_t_s) > 0.0)      # no velocity jump needs a repeated knot
    v = tr.state_at(_times(tr, 0.1)).velocity_ecef
    accel = np.linalg.norm(np.diff(v, axis=0), axis=1) / 0.1
    lateral = STANDARD_GRAVITY_MPS2 * math.tan(AIRLINER.max_bank_rad)
    bound = math.sqrt(lateral ** 2 + AIRLINER.max_accel_mps2 ** 2 + AIRLINER.max_vertical_accel_mps2 ** 2)
    assert np.max(accel) <= 1.01 * bound


def test_passes_near_every_waypoint():
    tr = _fly(ROUTE)
    p = tr.state_at(_times(tr, 0.02)).position_ecef     # samples <= 5 m apart
    for lat, lon, alt, _ in ROUTE:
        target = geodetic_to_ecef(math.radians(lat), math.radians(lon), alt)
        assert np.min(np.linalg.norm(p - target, axis=1)) < five_metres


def test_integration_converged_against_finer_steps(monkeypatch):
    coarse = _fly(ROUTE, use_numba=False)
    monkeypatch.setattr(traj, "STRAIGHT_STEP_S", 3.0)
    monkeypatch.setattr(traj, "TURN_STEP_RAD", 0.01)
    monkeypatch.setattr(traj, "TURN_STEP_MAX_S", 0.2)
    fine = _fly(ROUTE, use_numba=False)
    assert fine.knot_t_s.size > 5 * coarse.knot_t_s.size
    t = _times(coarse, 3.0)
    t = t[t <= fine.end_ns]
    diff = np.linalg.norm(coarse.state_at(t).position_ecef - fine.state_at(t).position_ecef, axis=1)
    assert np.max(diff) < one_metre


def test_numba_kernel_agrees_with_python_twin():
    a = _fly(ROUTE)
    b = _fly(ROUTE, use_numba=False)
    np.testing.assert_allclose(a.knot_t_s, b.knot_t_s, atol=1e-9)
    np.testing.assert_allclose(a.knot_position_ecef, b.knot_position_ecef, atol=1e-6)
    np.testing.assert_allclose(a.knot_velocity_ecef, b.knot_velocity_ecef, atol=1e-9)


def test_outside_the_trajectory_is_nan_and_end_options():
    tr = _fly(ROUTE[:2])
    s = tr.state_at([tr.start_ns - 1, tr.start_ns, tr.end_ns, tr.end_ns + 1])
    assert np.all(np.isnan(s.position_ecef[[0, 3]])) and np.all(np.isnan(s.lat_rad[[0, 3]]))
    assert np.all(np.isfinite(s.position_ecef[[1, 2]]))
    end_ns = tr.end_ns + 600 * NS
    on = _fly(ROUTE[:2], end_ns=end_ns, continue_after_last=True)
    assert on.end_ns == end_ns
    s = on.state_at(np.array([tr.end_ns + 10 * NS, end_ns]))
    np.testing.assert_allclose(s.speed_mps, 230.0, rtol=1e-9)
    cut = _fly(ROUTE, end_ns=START_NS + 100 * NS)
    assert cut.end_ns == START_NS + 100 * NS


def test_unreachable_waypoint_does_not_hang():
    # 2nd waypoint 1 km abeam: inside the ~8 km turn circle of an airliner
    tr = _fly([(45.0, 7.0, 10000.0, 230.0), (45.1, 7.0, 10000.0, 230.0), (45.1, 7.013, 10000.0, 230.0),
               (45.5, 7.5, 10000.0, 230.0)])
    assert tr.duration_s > 0 and np.all(np.isfinite(tr.knot_position_ecef))


@pytest.mark.parametrize("waypoints, match", [
    ([(45.0, 7.0, 1000.0, 200.0)], "waypoints"),
    ([(45.0, 7.0, 1000.0, 200.0), (89.5, 7.0, 1000.0, 200.0)], "latitude"),
    ([(45.0, 7.0, 1000.0, 200.0), (46.0, 7.0, 1000.0, 0.0)], "speeds"),
])
def test_bad_waypoints_rejected(waypoints, match):
    with pytest.raises(ConfigurationError, match=match):
        _fly(waypoints)
