"""Synthetic multi-satellite detections for the tracker: truth, geometry, statistics, delivery order.

References: the library's own reference functions (``Scenario.truth_at`` for the compiled truth,
``geolocate`` for the compiled geolocation), closed forms (coordinated-turn acceleration ``n g``, the
range circle's long axis ``sigma_h / cos(grazing)``), and binomial, Poisson and chi-square bounds.

Benchmark (not run here): 10,000 targets x 3 satellites x 1 h of 10 s scans::

    .venv/bin/python -c "import time; from sbamti.tracking.synthetic import *; \\
    s = 1_830_297_600 * 10**9; t = time.perf_counter(); \\
    sc = random_population(10000, 54.0, 15.0, 200e3, start_ns=s, duration_s=3600, seed=1); \\
    t1 = time.perf_counter(); n = sum(len(d) for d in iter_dwells(sc, s, 3600.0, seed=3)); \\
    print(f'population {t1 - t:.2f} s, {n} detections {time.perf_counter() - t1:.2f} s')"
"""

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sbamti.detection.geolocation import geolocate
from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from sbamti.orbit.elements import load_element_sets, select
from sbamti.radar.beam import antenna_axes
from sbamti.radar.scenario import MEAN_EARTH_RADIUS_M
from sbamti.radar.target_classes import STANDARD_GRAVITY_MPS2
from sbamti.tracking.synthetic import (
    OrbitSatellite,
    SensorModel,
    TruthSampler,
    combine,
    crossing_pair,
    delayed,
    generate,
    geolocate_rows,
    random_population,
    satellites_around,
    turning_target,
)
from sbamti.tracking.synthetic_targets import destination

REPO_ROOT = Path(__file__).resolve().parents[1]
START_NS = 1_830_297_600 * 10**9           # 2028-01-01T00:00:00Z
TLE = REPO_ROOT / "config" / "constellations" / "small_4sat.tle"
LAT, LON = 54.0, 15.0                        # area centre, deg (Baltic)
RADIUS_M = 200e3

# Tolerances, named in physical units.
one_micrometre = 1e-6
ten_micrometres = 1e-5
one_millimetre = 1e-3
five_metres = 5.0
one_percent = 0.01
two_percent = 0.02


def _chi2_mean_bounds(samples, dof, confidence=0.99):
    """Bounds of the mean of ``samples`` independent chi2(dof) values (their sum is chi2(samples dof))."""
    tail = 0.5 * (1.0 - confidence)
    return (stats.chi2.ppf(tail, samples * dof) / samples, stats.chi2.ppf(1.0 - tail, samples * dof) / samples)


def _nees_mean_bounds(nees, dof=3, confidence=0.99):
    """Bounds of the mean NEES: ``dof`` +- z s / sqrt(n) with the sample standard deviation s.

    Not the chi-square bounds: with kilometres of altitude uncertainty the error along the range circle
    is quadratic in the altitude error, not Gaussian, so the NEES has mean 3 (the covariance is the
    mean-square error) but a larger variance (measured ~9 at 3 km, ~16 at 5 km, against 6 for chi2(3)).
    """
    half = stats.norm.ppf(0.5 + 0.5 * confidence) * nees.std(ddof=1) / math.sqrt(nees.size)
    return dof - half, dof + half


def _population(n, duration_s=120.0, seed=7, **kwargs):
    return random_population(n, LAT, LON, RADIUS_M, start_ns=START_NS, duration_s=duration_s, seed=seed, **kwargs)


def _errors(dwells, scenario):
    """Position errors (k, 3), covariances (k, 3, 3), range-rate residuals and stds of target detections."""
    sampler = TruthSampler(scenario)
    stamps = np.array([d.stamp_ns for d in dwells])
    _, pos, vel = sampler(stamps)
    errs, covs, rate_res, rate_std = [], [], [], []
    for row, d in enumerate(dwells):
        real = d.truth_id >= 0
        col = np.searchsorted(sampler.target_id, d.truth_id[real])
        errs.append(d.position_ecef[real] - pos[row, col])
        covs.append(d.position_covariance_ecef[real])
        los = pos[row, col] - d.satellite_position_ecef
        rng = np.linalg.norm(los, axis=1)
        true_rate = np.einsum("ij,ij->i", los, vel[row, col] - d.satellite_velocity_ecef) / rng
        rate_res.append(d.range_rate_mps[real] - true_rate)
        rate_std.append(d.range_rate_std_mps[real])
    return np.concatenate(errs), np.concatenate(covs), np.concatenate(rate_res), np.concatenate(rate_std)


def _nees(err, cov):
    return np.einsum("ni,ni->n", err, np.linalg.solve(cov, err[:, :, None])[:, :, 0])


# --- truth ----------------------------------------------------------------------------------------

def test_truth_sampler_matches_the_scenarios_own_truth_in_any_time_order():
    scenario = _population(40, duration_s=600.0)
    times = START_NS + np.array([590, 3, 250, 250, 0, 417], dtype=np.int64) * 10**9 + 123_456_789
    present, pos, vel = TruthSampler(scenario)(times)
    for row, t in enumerate(times):
        ref = scenario.truth_at(int(t))
        assert present[row].all()
        assert np.abs(pos[row] - ref.position_ecef).max() < one_micrometre
        assert np.abs(vel[row] - ref.velocity_ecef).max() < one_micrometre
    # outside a target's life: absent and NaN (the scenario ends at 600 s)
    present, pos, _ = TruthSampler(scenario)([START_NS + 700 * 10**9])
    assert not present.any() and np.isnan(pos).all()


def test_random_population_flies_inside_the_area_at_its_speeds_and_heights():
    scenario = _population(200, duration_s=600.0, speed_mps=(150.0, 250.0), altitude_m=(2000.0, 9000.0))
    _, pos, vel = TruthSampler(scenario)(START_NS + np.arange(0, 600, 60) * 10**9)
    lat, lon, alt = ecef_to_geodetic(pos)
    dist = 2 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.sin(0.5 * (lat - np.radians(LAT))) ** 2 + np.cos(lat)
                                                         * np.cos(np.radians(LAT))
                                                         * np.sin(0.5 * (lon - np.radians(LON))) ** 2))
    two_turn_radii_m = 2 * 250.0**2 / STANDARD_GRAVITY_MPS2
    assert dist.max() < RADIUS_M + two_turn_radii_m
    speed = np.linalg.norm(vel, axis=-1)
    assert 150.0 - 0.5 < speed.min() and speed.max() < 250.0 + 0.5
    assert 2000.0 - 1.0 < alt.min() and alt.max() < 9000.0 + 1.0
    assert np.ptp(alt, axis=0).max() < 1.0          # one height per target


def test_turning_target_turns_at_three_g_and_flies_straight_otherwise():
    g, speed, turn_deg = 3.0, 250.0, 90.0
    scenario = turning_target(g, centre_lat_deg=LAT, centre_lon_deg=LON, start_ns=START_NS, duration_s=120.0,
                              turn_after_s=40.0, turn_deg=turn_deg, speed_mps=speed)
    step_s = 0.05
    t = np.arange(0.0, 120.0, step_s)
    _, _, vel = TruthSampler(scenario)(START_NS + np.round(t * 1e9).astype(np.int64))
    vel = vel[:, 0]
    accel = np.linalg.norm(np.diff(vel, axis=0), axis=1) / step_s
    mid = 0.5 * (t[1:] + t[:-1])
    turn_s = math.radians(turn_deg) * speed / (g * STANDARD_GRAVITY_MPS2)      # 13.3 s
    inside = (mid > 40.0 + 0.5) & (mid < 40.0 + turn_s - 0.5)
    outside = (mid < 40.0 - 0.5) | (mid > 40.0 + turn_s + 0.5)
    assert inside.sum() > 100
    assert np.abs(accel[inside] / (g * STANDARD_GRAVITY_MPS2) - 1.0).max() < one_percent
    assert accel[outside].max() < 0.05                 # straight legs: only the Earth's curvature, ~0.01 m/s^2
    # heading change: horizontal velocities before and after, in the local frame at the turn point
    rot = enu_rotation(np.radians(LAT), np.radians(LON))
    before, after = rot @ vel[int(20.0 / step_s)], rot @ vel[int(100.0 / step_s)]
    change = math.degrees(math.atan2(after[0], after[1]) - math.atan2(before[0], before[1]))
    assert change == pytest.approx(turn_deg, abs=0.5)


def test_crossing_pair_crosses_over_the_centre_at_the_crossing_time():
    scenario = crossing_pair(LAT, LON, start_ns=START_NS, duration_s=600.0, crossing_time_s=300.0,
                             crossing_angle_deg=60.0)
    t = np.arange(0.0, 600.0, 0.1)
    present, pos, vel = TruthSampler(scenario)(START_NS + np.round(t * 1e9).astype(np.int64))
    assert present.all()                                           # both exist for the whole scenario
    gap = np.linalg.norm(pos[:, 1] - pos[:, 0], axis=1)
    closest = int(np.argmin(gap))
    assert gap[closest] < five_metres and t[closest] == pytest.approx(300.0, abs=0.1)
    centre = geodetic_to_ecef(np.radians(LAT), np.radians(LON), 5000.0)
    assert np.linalg.norm(pos[closest, 0] - centre) < five_metres
    # they cross: target 2 is on opposite sides of target 1's track a minute before and after
    side = [np.dot(np.cross(vel[i, 0], pos[i, 1] - pos[i, 0]), centre) for i in (closest - 600, closest + 600)]
    assert side[0] * side[1] < 0.0
    # straight, at 250 m/s, crossing at 60 deg
    assert np.abs(np.linalg.norm(vel, axis=-1) - 250.0).max() < 0.01
    cos_angle = np.dot(vel[closest, 0], vel[closest, 1]) / 250.0**2
    assert math.degrees(math.acos(cos_angle)) == pytest.approx(60.0, abs=0.1)


def test_combined_scenario_renumbers_targets_and_detections_carry_those_ids():
    pair = crossing_pair(LAT, LON, start_ns=START_NS, duration_s=60.0)
    turn = turning_target(3.0, centre_lat_deg=LAT, centre_lon_deg=LON, start_ns=START_NS, duration_s=60.0)
    scenario = combine(pair, turn, _population(5, duration_s=60.0))
    assert [tg.target_id for tg in scenario.targets] == list(range(1, 9))
    assert scenario.areas[0].name == "crossing_pair"
    np.testing.assert_array_equal(scenario.truth_at(START_NS).position_ecef[2],
                                  turn.truth_at(START_NS).position_ecef[0])
    dwells = generate(scenario, START_NS, 60.0, pd=1.0, false_alarms_per_dwell=0.0)
    assert all(sorted(d.truth_id.tolist()) == list(range(1, 9)) for d in dwells)


# --- geolocation twin -----------------------------------------------------------------------------

def test_compiled_geolocation_agrees_with_geolocate_including_invalid_rows():
    rng = np.random.default_rng(11)
    centre = geodetic_to_ecef(np.radians(LAT), np.radians(LON), 0.0)
    sats = satellites_around(LAT, LON)
    n = 400
    for k, sat in enumerate(sats):
        s, v = sat.position_ecef_m, sat.velocity_ecef_mps
        axes = antenna_axes(s, v, centre)
        lat = np.radians(LAT + rng.uniform(-2.0, 2.0, n))
        lon = np.radians(LON + rng.uniform(-3.0, 3.0, n))
        los = geodetic_to_ecef(lat, lon, rng.uniform(0.0, 12000.0, n)) - s
        slant = np.linalg.norm(los, axis=1)
        cone = los @ axes[0] / slant
        slant[:3] = [np.nan, 500e3, 4000e3]          # invalid: NaN, shorter than the altitude, beyond the horizon
        kwargs = {"assumed_altitude_m": rng.uniform(0.0, 10000.0, n), "range_std_m": 15.0,
                  "cone_sine_std": 2e-4, "altitude_std_m": rng.uniform(100.0, 5000.0, n)}
        ref = geolocate(s, axes, slant, cone, **kwargs)
        pos, cov, geo, valid = geolocate_rows(np.zeros(n, dtype=int), s[None], axes[None], slant, cone, **kwargs)
        assert valid.tolist() == ref.valid.tolist() and not valid[:3].any() and valid[3:].all()
        ok = ref.valid
        assert np.abs(pos[ok] - ref.position_ecef_m[ok]).max() < ten_micrometres
        scale = np.linalg.norm(ref.covariance_ecef_m2[ok], axis=(1, 2))
        assert (np.linalg.norm(cov[ok] - ref.covariance_ecef_m2[ok], axis=(1, 2)) / scale).max() < 1e-6
        assert np.abs(geo[0, ok] - ref.latitude_rad[ok]).max() < 1e-12          # ~6 um
        assert np.abs(geo[2, ok] - ref.altitude_m[ok]).max() < ten_micrometres
        assert np.isnan(pos[~ok]).all() and np.isnan(cov[~ok]).all()


# --- detections -----------------------------------------------------------------------------------

def test_dwells_are_staggered_scans_of_every_satellite_sorted_by_stamp():
    dwells = generate(_population(10), START_NS, 60.0, scan_period_s=10.0, false_alarms_per_dwell=0.0)
    assert len(dwells) == 18
    stamps = [d.stamp_ns for d in dwells]
    assert stamps == sorted(stamps) and all(isinstance(s, int) for s in stamps)
    ids = [d.satellite_id for d in dwells]
    assert ids[:3] == ["sbamti_001", "sbamti_002", "sbamti_003"]
    assert np.diff(stamps[:4]).tolist() == [3_333_333_333, 3_333_333_334, 3_333_333_333]
    for sid in set(ids):
        mine = [d for d in dwells if d.satellite_id == sid]
        assert np.diff([d.stamp_ns for d in mine]).tolist() == [10**10] * 5
        assert [d.dwell_id for d in mine] == list(range(6))
    d = dwells[0]
    assert d.position_ecef.shape == (len(d), 3) and d.position_covariance_ecef.shape == (len(d), 3, 3)
    altitude_m = ecef_to_geodetic(d.satellite_position_ecef)[2]
    assert altitude_m == pytest.approx(800e3, abs=1.0)


def test_detections_per_dwell_follow_the_binomial_law():
    n, pd, dwell_count = 400, 0.9, 30
    dwells = generate(_population(n), START_NS, 100.0, pd=pd, false_alarms_per_dwell=0.0, seed=5)
    assert len(dwells) == dwell_count
    counts = np.array([len(d) for d in dwells])
    low, high = stats.binom.interval(0.99, n * dwell_count, pd)
    assert low <= counts.sum() <= high
    # every dwell on its own at 99.9 %, and no target twice in a dwell
    low, high = stats.binom.interval(0.999, n, pd)
    assert np.all((low <= counts) & (counts <= high))
    assert all(np.unique(d.truth_id).size == len(d) and d.truth_id.min() >= 1 for d in dwells)
    # rows are shuffled: not in target order
    assert not np.all(np.diff(dwells[0].truth_id) > 0)


def test_false_alarm_counts_are_poisson_and_lie_in_the_area():
    rate, dwell_count = 12.0, 300
    sensor = SensorModel(assumed_altitude_m=3000.0)
    dwells = generate(_population(0, duration_s=1000.0), START_NS, 1000.0, false_alarms_per_dwell=rate,
                      seed=9, sensor=sensor)
    assert len(dwells) == dwell_count
    counts = np.array([len(d) for d in dwells])
    low, high = stats.poisson.interval(0.99, rate * dwell_count)
    assert low <= counts.sum() <= high
    # index of dispersion: (D - 1) s^2 / mean ~ chi2(D - 1)
    dispersion = (dwell_count - 1) * counts.var(ddof=1) / counts.mean()
    assert stats.chi2.ppf(0.005, dwell_count - 1) < dispersion < stats.chi2.ppf(0.995, dwell_count - 1)
    pos = np.concatenate([d.position_ecef for d in dwells])
    lat, lon, alt = ecef_to_geodetic(pos)
    assert np.abs(alt - 3000.0).max() < one_millimetre
    dist = 2 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.sin(0.5 * (lat - np.radians(LAT))) ** 2 + np.cos(lat)
                                                         * np.cos(np.radians(LAT))
                                                         * np.sin(0.5 * (lon - np.radians(LON))) ** 2))
    assert dist.max() < RADIUS_M + 1.0
    # uniform in area: the fraction inside half the radius is ~1/4
    inner = np.mean(dist < 0.5 * RADIUS_M)
    assert abs(inner - 0.25) < 3 * math.sqrt(0.25 * 0.75 / dist.size)
    assert all((d.truth_id == -1).all() for d in dwells)


@pytest.mark.parametrize("sigma_h", [300.0, 3000.0])
def test_white_altitude_errors_are_consistent_with_the_covariance(sigma_h):
    scenario = _population(300, altitude_m=(0.0, 12000.0))
    dwells = generate(scenario, START_NS, 40.0, false_alarms_per_dwell=0.0, seed=3,
                      sensor=SensorModel(altitude_errors="white", altitude_std_m=sigma_h))
    err, cov, rate_res, rate_std = _errors(dwells, scenario)
    nees = _nees(err, cov)
    low, high = _nees_mean_bounds(nees)
    assert nees.size > 3000 and low < nees.mean() < high
    if sigma_h < 1000.0:     # nearly linear: chi2(3) itself
        low, high = _chi2_mean_bounds(nees.size, 3)
        assert low < nees.mean() < high
        assert nees.var() == pytest.approx(6.0, rel=0.15)
    rate_nees = (rate_res / rate_std) ** 2
    low, high = _chi2_mean_bounds(rate_nees.size, 1)
    assert low < rate_nees.mean() < high


def test_onboard_altitude_errors_are_consistent_over_a_population_spread_like_the_assumption():
    h_a, sigma_h, n = 8000.0, 2500.0, 1000
    heights = np.random.default_rng(21).normal(h_a, sigma_h, n)
    scenario = _population(n, altitudes_m=heights)
    sensor = SensorModel(assumed_altitude_m=h_a, altitude_std_m=sigma_h)
    dwells = generate(scenario, START_NS, 10.0, false_alarms_per_dwell=0.0, seed=4, sensor=sensor)
    assert len(dwells) == 3
    for dwell in dwells:                 # one dwell per satellite: independent targets, independent heights
        assert np.abs(dwell.altitude_m - h_a).max() < one_millimetre
        err, cov, _, _ = _errors([dwell], scenario)
        nees = _nees(err, cov)
        low, high = _nees_mean_bounds(nees)
        assert low < nees.mean() < high


def test_covariance_is_long_along_each_satellites_range_circle():
    scenario = _population(50, altitude_m=(3000.0, 3000.0))
    sigma_h = 5000.0
    dwells = generate(scenario, START_NS, 10.0, false_alarms_per_dwell=0.0, seed=2,
                      sensor=SensorModel(altitude_std_m=sigma_h))
    horizontal_axes = []
    for d in dwells:
        values, vectors = np.linalg.eigh(d.position_covariance_ecef)
        std = np.sqrt(values)
        assert (std[:, 2] / std[:, 0]).min() > 100.0
        long_axis = vectors[:, :, 2]
        # the range circle's tangent: perpendicular to the line of sight and to the cone axis
        los = d.position_ecef - d.satellite_position_ecef
        los /= np.linalg.norm(los, axis=1)[:, None]
        x_hat = antenna_axes(d.satellite_position_ecef, d.satellite_velocity_ecef, d.beam_centre_ecef)[0]
        tangent = np.cross(x_hat, los)
        tangent /= np.linalg.norm(tangent, axis=1)[:, None]
        assert np.abs(np.einsum("ij,ij->i", long_axis, tangent)).min() > 0.999
        # length sigma_h / cos(grazing) (geolocation's closed form; second order adds ~20 m)
        lat, lon, _ = ecef_to_geodetic(d.position_ecef)
        up = enu_rotation(lat, lon)[:, 2]
        grazing = np.arcsin(-np.einsum("ij,ij->i", up, los))
        assert std[:, 2] == pytest.approx(sigma_h / np.cos(grazing), rel=two_percent)
        east_north = np.einsum("nij,nj->ni", enu_rotation(lat, lon), long_axis)[:, :2]
        horizontal_axes.append(east_north[0] / np.linalg.norm(east_north[0]))
    # three satellites, three directions 120 deg apart: the long axes cross
    for a in range(3):
        for b in range(a + 1, 3):
            assert abs(np.dot(horizontal_axes[a], horizontal_axes[b])) < 0.9


def test_generation_is_deterministic_and_each_dwell_independent_of_the_run_length():
    scenario = _population(100)
    first = generate(scenario, START_NS, 60.0, false_alarms_per_dwell=4.0, seed=13)
    again = generate(scenario, START_NS, 60.0, false_alarms_per_dwell=4.0, seed=13)
    shorter = generate(scenario, START_NS, 30.0, false_alarms_per_dwell=4.0, seed=13)
    other = generate(scenario, START_NS, 60.0, false_alarms_per_dwell=4.0, seed=14)
    for a, b in zip(first, again):
        for field in ("position_ecef", "position_covariance_ecef", "range_rate_mps", "truth_id"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    for a, b in zip(first, shorter):
        np.testing.assert_array_equal(a.position_ecef, b.position_ecef)
    assert not np.array_equal(first[0].truth_id, other[0].truth_id)
    assert random_population(5, LAT, LON, RADIUS_M, start_ns=START_NS, duration_s=60.0, seed=1) \
        .truth_at(START_NS).position_ecef.tolist() == \
        random_population(5, LAT, LON, RADIUS_M, start_ns=START_NS, duration_s=60.0, seed=1) \
        .truth_at(START_NS).position_ecef.tolist()


def test_an_sgp4_satellite_plugs_in_and_its_moving_geometry_stays_consistent():
    """A real pass: the area 900 km abeam of sbamti_001's ground track at mid-window."""
    satellite = OrbitSatellite(select(load_element_sets(TLE).element_sets, ["sbamti_001"])[0])
    mid_ns = START_NS + 600 * 10**9
    position, velocity = satellite.states([mid_ns])
    lat, lon, _ = ecef_to_geodetic(position[0])
    east, north, _ = enu_rotation(lat, lon) @ velocity[0]
    c_lat, c_lon = destination(lat, lon, math.atan2(east, north) + 0.5 * math.pi, 900e3)
    scenario = random_population(200, math.degrees(c_lat), math.degrees(c_lon), 150e3, start_ns=mid_ns - 200 * 10**9,
                                 duration_s=400.0, seed=1)
    dwells = generate(scenario, mid_ns - 100 * 10**9, 200.0, satellites=[satellite], false_alarms_per_dwell=0.0,
                      sensor=SensorModel(altitude_errors="white"))
    assert len(dwells) == 20 and all(d.satellite_id == "sbamti_001" for d in dwells)
    travelled_m = np.linalg.norm(dwells[-1].satellite_position_ecef - dwells[0].satellite_position_ecef)
    assert travelled_m == pytest.approx(190.0 * 7.3e3, rel=0.05)            # ~7.3 km/s ground-relative
    low, high = stats.binom.interval(0.999, 200 * 20, 0.9)
    assert low <= sum(len(d) for d in dwells) <= high                      # every target visible all pass
    err, cov, rate_res, rate_std = _errors(dwells, scenario)
    nees = _nees(err, cov)
    low, high = _nees_mean_bounds(nees)
    assert low < nees.mean() < high
    rate_nees = (rate_res / rate_std) ** 2
    low, high = _chi2_mean_bounds(rate_nees.size, 1)
    assert low < rate_nees.mean() < high


# --- delivery order -------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["store_and_forward", "uniform"])
def test_delayed_is_a_permutation_with_bounded_delays_arriving_out_of_order(model):
    dwells = generate(_population(5, duration_s=900.0), START_NS, 900.0, false_alarms_per_dwell=1.0)
    max_delay_s = 180.0
    out = delayed(dwells, max_delay_s, seed=1, model=model)
    assert sorted(id(o.dwell) for o in out) == sorted(id(d) for d in dwells)
    delays = np.array([o.delay_s for o in out])
    assert delays.min() >= 0.0 and delays.max() <= max_delay_s and delays.max() > 0.5 * max_delay_s
    arrivals = [o.arrival_ns for o in out]
    assert arrivals == sorted(arrivals)
    stamps = np.array([o.dwell.stamp_ns for o in out])
    assert np.sum(np.diff(stamps) < 0) > 10                  # out of order, many times
    assert [o.dwell for o in delayed(dwells, max_delay_s, seed=1, model=model)] == [o.dwell for o in out]


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda sc: generate(sc, START_NS, 10.0, pd=1.5), "pd"),
    (lambda sc: generate(sc, START_NS, -1.0), "duration_s"),
    (lambda sc: generate(sc, float(START_NS), 10.0), "start_ns"),
    (lambda sc: generate(sc, START_NS, 10.0, false_alarms_per_dwell=-1.0), "false_alarms_per_dwell"),
    (lambda sc: SensorModel(altitude_errors="gaussian"), "altitude_errors"),
    (lambda sc: SensorModel(range_std_m=-1.0), "range_std_m"),
    (lambda sc: delayed([], -5.0, seed=0), "max_delay_s"),
    (lambda sc: turning_target(3.0, centre_lat_deg=LAT, centre_lon_deg=LON, start_ns=START_NS, turn_deg=200.0),
     "turn_deg"),
    (lambda sc: random_population(3, LAT, LON, RADIUS_M, start_ns=START_NS, duration_s=10.0, seed=0,
                                  altitudes_m=np.zeros(2)), "altitudes_m"),
])
def test_bad_configuration_is_rejected_with_the_offending_field(call, match):
    scenario = _population(2, duration_s=20.0)
    with pytest.raises(ConfigurationError, match=match):
        call(scenario)
