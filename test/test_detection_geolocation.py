"""Geolocation of detections from slant range, cone sine and an assumed altitude.

References: the exact geometry itself (round trips through ``look_geometry``), the spherical-Earth
law of cosines of RADAR_PARAMETERS.md Sec. 4, its Sec. 3.3 grazing angles, and chi-square bounds
for the Monte Carlo NEES.
"""

import warnings

import numpy as np
import pytest
from scipy import stats

from sbamti.detection.geolocation import Geolocation, geolocate, position_jacobian
from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from sbamti.radar.beam import antenna_axes
from sbamti.radar.geometry import grazing_angle_rad, look_geometry, range_ring_points

# Tolerances, named in physical units.
one_millimetre = 1e-3
three_percent = 0.03
orbit_altitude_m = 800e3

# Sheet Sec. 3.8 errors: cone-sine CRLB at 15 dB (130 urad); a range error of a third of a 30 m cell;
# an unknown aircraft altitude.
sigma_range_m = 10.0
sigma_cone = 130e-6
sigma_altitude_m = 3000.0


def _scene(sat_lat_deg=40.0, sat_lon_deg=10.0, boresight_range_m=1400e3):
    """Satellite 800 km up flying north, antenna boresight broadside right (east) at the given range."""
    sat = geodetic_to_ecef(np.radians(sat_lat_deg), np.radians(sat_lon_deg), orbit_altitude_m)
    north = np.cross(sat, np.cross([0.0, 0.0, 1.0], sat))
    vel = 7452.0 * north / np.linalg.norm(north)
    centre = range_ring_points(sat, vel, boresight_range_m, 0.5 * np.pi)
    return sat, vel, antenna_axes(sat, vel, centre)


def _targets(sat, vel, ranges_m, azimuths_rad, altitudes_m):
    """Points at the given altitudes above the ground points of range ring (R, azimuth)."""
    ground = range_ring_points(sat, vel, ranges_m, azimuths_rad)
    lat, lon, _ = ecef_to_geodetic(ground)
    return geodetic_to_ecef(lat, lon, altitudes_m)


def _measure(sat, axes, points):
    look = look_geometry(sat, points)
    return look.slant_range_m, look.los_unit @ axes[0]


@pytest.mark.parametrize("side", [+1, -1])
def test_round_trip_recovers_random_targets_to_a_millimetre(side):
    rng = np.random.default_rng(20261125)
    sat, vel, axes = _scene()
    n = 500
    # Right of track (azimuth pi/2) for the boresight's side, left (3 pi/2) for its mirror.
    # The sheet's 600 km lower limit is below the 800 km orbit height: the nearest visible
    # ground is ~790 km away, so ranges start at 900 km (near nadir the two roots merge).
    azimuth = (0.5 * np.pi if side > 0 else 1.5 * np.pi) + rng.uniform(-0.5, 0.5, n)
    truth = _targets(sat, vel, rng.uniform(900e3, 2000e3, n), azimuth, rng.uniform(0.0, 12e3, n))
    slant, cone = _measure(sat, axes, truth)
    assert slant.min() > 850e3 and slant.max() < 2050e3
    _, _, alt = ecef_to_geodetic(truth)

    fix = geolocate(sat, axes, slant, cone, assumed_altitude_m=alt, boresight_side=side)

    assert isinstance(fix, Geolocation)
    assert fix.valid.all()
    assert np.linalg.norm(fix.position_ecef_m - truth, axis=1).max() < one_millimetre
    assert np.abs(fix.altitude_m - alt).max() < one_millimetre
    lat, lon, _ = ecef_to_geodetic(truth)
    assert np.allclose(fix.latitude_rad, lat, atol=1e-9) and np.allclose(fix.longitude_rad, lon, atol=1e-9)
    # Zero standard deviations (the defaults) give a zero covariance.
    assert fix.covariance_ecef_m2.shape == (n, 3, 3) and np.all(fix.covariance_ecef_m2 == 0.0)


def test_other_side_of_nadir_is_the_mirror_solution():
    sat, vel, axes = _scene()
    right = _targets(sat, vel, np.array([1500e3]), np.array([0.5 * np.pi]), 0.0)
    slant, cone = _measure(sat, axes, right)
    near = geolocate(sat, axes, slant, cone, boresight_side=+1)
    mirror = geolocate(sat, axes, slant, cone, boresight_side=-1)
    assert np.linalg.norm(near.position_ecef_m - right) < one_millimetre
    # The mirror lies left of the track, ~2 x 1198 km (sheet Sec. 3.3 ground range) away.
    assert np.linalg.norm(mirror.position_ecef_m - right) > 2000e3
    assert (mirror.position_ecef_m - sat) @ axes[2] < (near.position_ecef_m - sat) @ axes[2]


@pytest.mark.parametrize("slant_range_m, sheet_grazing_deg", [(1000e3, 50.5), (1500e3, 26.7), (2000e3, 15.6)])
def test_altitude_error_moves_the_fix_by_tan_grazing_along_ground_range(slant_range_m, sheet_grazing_deg):
    """Horizontal shift of the fix per metre of altitude error, side-looking at cone sine 0.

    At fixed range and cone the point moves along the range circle, whose tangent is perpendicular
    to the line of sight: a rise dh moves it dh tan(psi) away from the satellite (psi = grazing).
    Independent reference: spherical Earth (radius a, the orbit over it at r = a + 800 km),
    cos alpha = (rho^2 + r^2 - R^2) / (2 rho r) with rho = a + h, shift = a d(alpha)/dh.

    RADAR_PARAMETERS.md Sec. 3.8 states the shift as dh / tan(psi) (0.82, 1.99, 3.59 km per km);
    those figures are 1 / tan of its own Sec. 3.3 grazing angles, i.e. the inverse of the geometric
    result (1.21, 0.50, 0.28 km per km here): the sheet's figures are not used as the reference.
    """
    sat, _, axes = _scene(sat_lat_deg=0.0, sat_lon_deg=0.0, boresight_range_m=slant_range_m)
    jac = position_jacobian(sat, axes, np.array([slant_range_m]), np.array([0.0]))[0]
    fix = geolocate(sat, axes, np.array([slant_range_m]), np.array([0.0]))
    enu = enu_rotation(fix.latitude_rad[0], fix.longitude_rad[0]) @ jac[:, 2]
    horizontal_per_vertical = np.hypot(enu[0], enu[1]) / enu[2]

    r, a, rho = A_M + orbit_altitude_m, A_M, A_M + np.array([-1.0, 1.0])
    alpha = np.arccos((rho ** 2 + r ** 2 - slant_range_m ** 2) / (2.0 * rho * r))
    spherical = a * (alpha[1] - alpha[0]) / 2.0
    psi = grazing_angle_rad(slant_range_m, r, a)
    assert spherical == pytest.approx(np.tan(psi), rel=1e-6)       # the closed form is tan(psi)
    assert horizontal_per_vertical == pytest.approx(spherical, rel=three_percent)
    assert horizontal_per_vertical == pytest.approx(np.tan(np.radians(sheet_grazing_deg)), rel=three_percent)
    # The WGS 84 grazing angle at the fix itself agrees more closely still.
    wgs84_psi = look_geometry(sat, fix.position_ecef_m).grazing_angle_rad[0]
    assert horizontal_per_vertical == pytest.approx(np.tan(wgs84_psi), rel=0.01)
    # The shift is away from the satellite (a higher target at the same range is farther out).
    assert (enu[:2] @ (enu_rotation(fix.latitude_rad[0], fix.longitude_rad[0]) @ (fix.position_ecef_m[0] - sat))[:2]) > 0


def _monte_carlo_nees(slant_range_m, *, second_order_altitude=True, trials=2000):
    rng = np.random.default_rng(int(slant_range_m))
    sat, vel, axes = _scene(boresight_range_m=slant_range_m)
    true_altitude_m = 5000.0
    truth = _targets(sat, vel, np.array([slant_range_m]), np.array([0.5 * np.pi]), true_altitude_m)[0]
    slant, cone = _measure(sat, axes, truth)
    sigmas = np.array([sigma_range_m, sigma_cone, sigma_altitude_m])
    err = rng.standard_normal((trials, 3)) * sigmas
    fix = geolocate(sat, axes, slant + err[:, 0], cone + err[:, 1], assumed_altitude_m=true_altitude_m + err[:, 2],
                    range_std_m=sigmas[0], cone_sine_std=sigmas[1], altitude_std_m=sigmas[2],
                    second_order_altitude=second_order_altitude)
    assert fix.valid.all()
    e = fix.position_ecef_m - truth
    nees = np.einsum("ni,ni->n", e, np.linalg.solve(fix.covariance_ecef_m2, e[:, :, None])[:, :, 0])
    return nees.mean(), trials


def _chi2_mean_bounds(trials, dof=3, confidence=0.99):
    # The sum of `trials` chi2(dof) samples is chi2(trials * dof).
    tail = 0.5 * (1.0 - confidence)
    return (stats.chi2.ppf(tail, trials * dof) / trials, stats.chi2.ppf(1.0 - tail, trials * dof) / trials)


@pytest.mark.parametrize("slant_range_m", [1000e3, 1800e3])
def test_covariance_is_consistent_monte_carlo_nees(slant_range_m):
    mean_nees, trials = _monte_carlo_nees(slant_range_m)
    low, high = _chi2_mean_bounds(trials)
    assert low < mean_nees < high, (mean_nees, low, high)


def test_first_order_covariance_alone_is_overconfident_for_kilometre_altitude_errors():
    """Why the second-order altitude term is on by default: the range circle bends ~a^2/(2R)."""
    mean_nees, trials = _monte_carlo_nees(1000e3, second_order_altitude=False)
    assert mean_nees > _chi2_mean_bounds(trials)[1]


def test_covariance_spreads_the_altitude_error_along_ground_range():
    sat, vel, axes = _scene(boresight_range_m=1500e3)
    truth = _targets(sat, vel, np.array([1500e3]), np.array([0.5 * np.pi]), 0.0)
    slant, cone = _measure(sat, axes, truth)
    fix = geolocate(sat, axes, slant, cone, range_std_m=sigma_range_m, cone_sine_std=sigma_cone,
                    altitude_std_m=sigma_altitude_m)
    cov = fix.covariance_ecef_m2[0]
    assert np.allclose(cov, cov.T) and np.all(np.linalg.eigvalsh(cov) > 0.0)
    # Largest axis ~ sigma_h / sin(psi) along the circle (the vertical plus tan(psi) horizontal).
    psi = look_geometry(sat, fix.position_ecef_m).grazing_angle_rad[0]
    assert np.sqrt(np.linalg.eigvalsh(cov)[-1]) == pytest.approx(sigma_altitude_m / np.cos(psi), rel=0.02)


def test_invalid_geometry_is_flagged_without_exceptions():
    sat, vel, axes = _scene()
    good = _targets(sat, vel, np.array([1500e3]), np.array([0.5 * np.pi]), 0.0)
    slant_good, cone_good = _measure(sat, axes, good)
    horizon_m = np.sqrt((A_M + orbit_altitude_m) ** 2 - A_M ** 2)   # ~3290 km
    slant = np.array([slant_good[0], 500e3, 1500e3, 1500e3, horizon_m + 200e3, np.nan, 1500e3])
    cone = np.array([cone_good[0], 0.0, 0.95, 1.2, 0.0, 0.0, -1.0])
    # rows: valid; range shorter than the altitude; cone missing the Earth (72 deg from nadir, the
    # Earth spans 62.7 deg); |cone sine| > 1; beyond the horizon; NaN range; cone sine -1.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fix = geolocate(sat, axes, slant, cone, range_std_m=sigma_range_m, cone_sine_std=sigma_cone,
                        altitude_std_m=sigma_altitude_m)
    assert fix.valid.tolist() == [True] + [False] * 6
    assert np.linalg.norm(fix.position_ecef_m[0] - good[0]) < one_millimetre
    assert np.all(np.isfinite(fix.covariance_ecef_m2[0]))
    for field in (fix.position_ecef_m, fix.covariance_ecef_m2, fix.latitude_rad, fix.longitude_rad, fix.altitude_m):
        assert np.all(np.isnan(field[1:]))


def test_empty_input_gives_empty_output():
    sat, _, axes = _scene()
    fix = geolocate(sat, axes, np.zeros(0), np.zeros(0))
    assert fix.position_ecef_m.shape == (0, 3) and fix.covariance_ecef_m2.shape == (0, 3, 3)
    assert fix.valid.shape == (0,)


@pytest.mark.parametrize("kwargs, match", [
    ({"sat_pos_ecef_m": np.zeros(2)}, "sat_pos_ecef_m"),
    ({"antenna_axes": np.eye(2)}, "antenna_axes"),
    ({"antenna_axes": 2.0 * np.eye(3)}, "antenna_axes"),
    ({"slant_range_m": np.ones((2, 2))}, "slant_range_m"),
    ({"cone_sine": np.zeros(3)}, "cone_sine"),
    ({"assumed_altitude_m": np.zeros(5)}, "assumed_altitude_m"),
    ({"range_std_m": -1.0}, "range_std_m"),
    ({"cone_sine_std": np.array([1e-4, -1e-4])}, "cone_sine_std"),
    ({"altitude_std_m": np.nan}, "altitude_std_m"),
    ({"boresight_side": 0}, "boresight_side"),
])
def test_input_errors_name_the_parameter(kwargs, match):
    sat, _, axes = _scene()
    args = {"sat_pos_ecef_m": sat, "antenna_axes": axes, "slant_range_m": np.array([1.5e6, 1.6e6]),
            "cone_sine": np.zeros(2)}
    args.update(kwargs)
    with pytest.raises(ConfigurationError, match=match):
        geolocate(**args)
    assert issubclass(ConfigurationError, ValueError)
