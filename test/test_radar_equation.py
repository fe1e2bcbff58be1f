"""Radar equation and look geometry against RADAR_PARAMETERS.md Sec. 3.3, plus geometric properties.

The sheet's Sec. 3.3 numbers (PRF 7.5 kHz, M = 64, N = 16, h = 800 km) were computed independently
of this code from its Sec. 4 equations.
"""

import dataclasses
import math

import numpy as np
import pytest

from sbamti.geo.wgs84 import A_M, ecef_to_geodetic, geodetic_to_ecef
from sbamti.radar.config import RadarConfig
from sbamti.radar.equation import (
    BOLTZMANN,
    clutter_cell_area_m2,
    clutter_rcs_constant_gamma,
    cnr_cell,
    db,
    from_db,
    snr_cpi,
    snr_per_channel_per_pulse,
)
from sbamti.radar.geometry import (
    grazing_angle_rad,
    ground_range_m,
    horizon_slant_range_m,
    look_geometry,
    off_nadir_angle_rad,
    orbit_frame,
    range_ring_points,
    slant_range_for_grazing,
    slant_range_for_off_nadir,
)

ALTITUDE_M = 800e3
ORBIT_RADIUS_M = A_M + ALTITUDE_M
PRF_HZ = 7500.0
M_BUDGET = 64  # the sheet's SNR budget uses 64 pulses
RANGES_M = np.array([1000e3, 1500e3, 2000e3])

# Sheet Sec. 3.3
GRAZING_DEG = [50.5, 26.7, 15.6]
OFF_NADIR_DEG = [34.4, 52.5, 58.9]
GROUND_RANGE_KM = [566.0, 1198.0, 1733.0]
SNR_FULL_DB = {10.0: [25.4, 18.3, 13.3], 1.0: [15.4, 8.3, 3.3], 0.1: [5.4, -1.7, -6.7]}
CNR_FULL_DB = {-10.0: [51.8, 42.7, 36.3], -15.0: [46.8, 37.7, 31.3], -20.0: [41.8, 32.7, 26.3]}
CNR_CH_P_DB = {-10.0: [21.7, 12.6, 6.2], -20.0: [11.7, 2.6, -3.8]}

ONE_TENTH_DB = 0.1          # sheet values are rounded to 0.1 dB
TWO_TENTHS_DB = 0.2
ROUNDING_DEG = 0.05
ROUNDING_KM = 0.5
ONE_MM = 1e-3
ONE_UM = 1e-6


@pytest.fixture(scope="module")
def budget_config():
    return dataclasses.replace(RadarConfig(), pulses_per_cpi=M_BUDGET)


# --- decibels -------------------------------------------------------------------------------

def test_db_round_trip():
    x = np.array([1e-3, 1.0, 2.0, 1e6])
    np.testing.assert_allclose(from_db(db(x)), x, rtol=1e-14)
    assert db(100.0) == pytest.approx(20.0) and from_db(-3.0) == pytest.approx(0.501187, rel=1e-5)
    assert isinstance(db(2.0), float)


# --- spherical geometry ---------------------------------------------------------------------

def test_spherical_geometry_matches_sheet_3_3():
    np.testing.assert_allclose(np.degrees(grazing_angle_rad(RANGES_M, ORBIT_RADIUS_M)), GRAZING_DEG,
                               atol=ROUNDING_DEG)
    np.testing.assert_allclose(np.degrees(off_nadir_angle_rad(RANGES_M, ORBIT_RADIUS_M)), OFF_NADIR_DEG,
                               atol=ROUNDING_DEG)
    np.testing.assert_allclose(ground_range_m(RANGES_M, ORBIT_RADIUS_M) / 1e3, GROUND_RANGE_KM, atol=ROUNDING_KM)
    # Sec. 3.1: horizon slant range 3290 km.
    assert horizon_slant_range_m(ORBIT_RADIUS_M) / 1e3 == pytest.approx(3290.0, abs=5.0)


def test_spherical_forms_equal_the_law_of_cosines_of_sheet_4():
    r, re = ORBIT_RADIUS_M, A_M
    rs = np.linspace(ALTITUDE_M + 1.0, math.sqrt(r * r - re * re) - 1.0, 200)
    eta = np.arccos((r * r + rs * rs - re * re) / (2 * r * rs))
    alpha = np.arccos((re * re + r * r - rs * rs) / (2 * re * r))
    np.testing.assert_allclose(off_nadir_angle_rad(rs, r), eta, atol=1e-6)
    np.testing.assert_allclose(grazing_angle_rad(rs, r), 0.5 * np.pi - eta - alpha, atol=1e-6)
    np.testing.assert_allclose(ground_range_m(rs, r), re * alpha, atol=1.0)


def test_spherical_round_trips():
    psi = np.radians(np.linspace(0.0, 90.0, 181))
    rs = slant_range_for_grazing(psi, ORBIT_RADIUS_M)
    np.testing.assert_allclose(grazing_angle_rad(rs, ORBIT_RADIUS_M), psi, atol=1e-7)
    assert slant_range_for_grazing(0.5 * np.pi, ORBIT_RADIUS_M) == pytest.approx(ALTITUDE_M, abs=ONE_MM)
    assert slant_range_for_grazing(0.0, ORBIT_RADIUS_M) == pytest.approx(horizon_slant_range_m(ORBIT_RADIUS_M))
    ranges = np.linspace(ALTITUDE_M, 3200e3, 50)
    np.testing.assert_allclose(slant_range_for_grazing(grazing_angle_rad(ranges, ORBIT_RADIUS_M), ORBIT_RADIUS_M),
                               ranges, atol=ONE_MM)
    np.testing.assert_allclose(
        slant_range_for_off_nadir(off_nadir_angle_rad(ranges, ORBIT_RADIUS_M), ORBIT_RADIUS_M), ranges, atol=ONE_MM)


def test_spherical_geometry_is_nan_without_a_visible_ground_point():
    assert math.isnan(grazing_angle_rad(700e3, ORBIT_RADIUS_M))          # shorter than the altitude
    assert math.isnan(grazing_angle_rad(3400e3, ORBIT_RADIUS_M))         # beyond the horizon
    assert math.isnan(slant_range_for_grazing(-0.1, ORBIT_RADIUS_M))
    assert math.isnan(slant_range_for_off_nadir(math.radians(70.0), ORBIT_RADIUS_M))  # misses the Earth


# --- radar equation -------------------------------------------------------------------------

@pytest.mark.parametrize("rcs_m2", sorted(SNR_FULL_DB))
def test_snr_full_cpi_matches_sheet_3_3(budget_config, rcs_m2):
    snr = snr_cpi(budget_config, rcs_m2, RANGES_M, PRF_HZ)
    np.testing.assert_allclose(db(snr), SNR_FULL_DB[rcs_m2], atol=ONE_TENTH_DB)


def test_snr_matches_the_sheet_equation_term_by_term(budget_config):
    c = budget_config
    # P_avg T_CPI = 2 kW x 8.53 ms = 17.1 J (sheet Sec. 3.3 header)
    energy = c.average_power_w * c.cpi_duration_s(PRF_HZ)
    assert energy == pytest.approx(17.1, abs=0.05)
    expected = energy * c.gain * c.effective_aperture_m2 * 1.0 / (
        (4 * math.pi) ** 2 * 1500e3 ** 4 * BOLTZMANN * 290.0 * 10 ** 0.3 * 10 ** 0.5)
    assert snr_cpi(c, 1.0, 1500e3, PRF_HZ) == pytest.approx(expected, rel=1e-12)


def test_snr_scaling_and_defaults(budget_config):
    c = budget_config
    full = snr_cpi(c, 1.0, 1500e3, PRF_HZ)
    # Per channel per pulse = full - 10 log10(16 x 64) = full - 30.1 dB, independent of M.
    assert db(full) - db(snr_per_channel_per_pulse(c, 1.0, 1500e3, PRF_HZ)) == pytest.approx(30.1, abs=0.005)
    assert snr_per_channel_per_pulse(RadarConfig(), 1.0, 1500e3, PRF_HZ) == pytest.approx(
        snr_per_channel_per_pulse(c, 1.0, 1500e3, PRF_HZ), rel=1e-12)
    # Defaults: M = config.pulses_per_cpi and all N channels; half the pulses or channels -> half the SNR.
    assert snr_cpi(RadarConfig(), 1.0, 1500e3, PRF_HZ) == pytest.approx(full / 2, rel=1e-12)
    assert snr_cpi(c, 1.0, 1500e3, PRF_HZ, num_pulses=32) == pytest.approx(full / 2, rel=1e-12)
    assert snr_cpi(c, 1.0, 1500e3, PRF_HZ, channels=8) == pytest.approx(full / 2, rel=1e-12)
    # R^-4 and linear in sigma; broadcasting.
    assert snr_cpi(c, 1.0, 3000e3, PRF_HZ) == pytest.approx(full / 16, rel=1e-12)
    grid = snr_cpi(c, np.array([[1.0], [10.0]]), RANGES_M, PRF_HZ)
    assert grid.shape == (2, 3)
    np.testing.assert_allclose(grid[1], 10 * grid[0])
    with pytest.raises(ValueError, match="channels"):
        snr_cpi(c, 1.0, 1500e3, PRF_HZ, channels=17)


def test_clutter_cell_pieces():
    psi = math.radians(30.0)
    area = clutter_cell_area_m2(1500e3, psi, 1e-3, 30.0)
    assert area == pytest.approx(1500.0 * 30.0 / math.cos(psi))
    assert clutter_rcs_constant_gamma(0.1, psi, area) == pytest.approx(0.1 * 0.5 * area)


@pytest.mark.parametrize("gamma_db", sorted(CNR_FULL_DB))
def test_cnr_full_cpi_matches_sheet_3_3(budget_config, gamma_db):
    psi = grazing_angle_rad(RANGES_M, ORBIT_RADIUS_M)
    cnr = cnr_cell(budget_config, RANGES_M, psi, PRF_HZ, gamma_db=gamma_db)
    np.testing.assert_allclose(db(cnr), CNR_FULL_DB[gamma_db], atol=TWO_TENTHS_DB)


@pytest.mark.parametrize("gamma_db", sorted(CNR_CH_P_DB))
def test_cnr_per_channel_per_pulse_matches_sheet_3_3(budget_config, gamma_db):
    psi = grazing_angle_rad(RANGES_M, ORBIT_RADIUS_M)
    cnr = cnr_cell(budget_config, RANGES_M, psi, PRF_HZ, gamma_db=gamma_db) / (16 * M_BUDGET)
    np.testing.assert_allclose(db(cnr), CNR_CH_P_DB[gamma_db], atol=TWO_TENTHS_DB)


def test_cnr_uses_config_gamma_and_two_way_beamwidth_by_default(budget_config):
    psi = math.radians(26.7)
    default = cnr_cell(budget_config, 1500e3, psi, PRF_HZ)
    assert default == pytest.approx(cnr_cell(budget_config, 1500e3, psi, PRF_HZ, gamma_db=-10.0))
    one_way = cnr_cell(budget_config, 1500e3, psi, PRF_HZ, azimuth_width_rad=budget_config.azimuth_beamwidth_rad)
    assert db(one_way) - db(default) == pytest.approx(db(0.8858929 / 0.6378334), abs=1e-6)


# --- WGS 84 geometry ------------------------------------------------------------------------

def _satellite(lat_deg=37.0, lon_deg=-20.0, inclination_like_heading_deg=30.0):
    """A satellite 800 km above a geodetic point with a horizontal velocity along a heading."""
    lat, lon = math.radians(lat_deg), math.radians(lon_deg)
    sat = geodetic_to_ecef(lat, lon, ALTITUDE_M)
    east = np.array([-math.sin(lon), math.cos(lon), 0.0])
    north = np.array([-math.sin(lat) * math.cos(lon), -math.sin(lat) * math.sin(lon), math.cos(lat)])
    heading = math.radians(inclination_like_heading_deg)
    vel = 7451.8 * (math.sin(heading) * east + math.cos(heading) * north)
    return sat, vel


def test_look_geometry_at_nadir_grazes_at_90_degrees():
    for lat in (0.0, 37.0, 89.0, -60.0):
        sat, _ = _satellite(lat_deg=lat)
        lat_s, lon_s, _ = ecef_to_geodetic(sat)
        point = geodetic_to_ecef(lat_s, lon_s, 0.0)
        geo = look_geometry(sat, point)
        assert float(geo.grazing_angle_rad) == pytest.approx(0.5 * math.pi, abs=1e-9)
        assert float(geo.slant_range_m) == pytest.approx(ALTITUDE_M, abs=ONE_MM)
        # Geodetic and geocentric nadir differ by at most ~0.19 deg x (a / r) at mid latitudes.
        assert math.degrees(float(geo.off_nadir_angle_rad)) < 0.2


def test_look_geometry_is_vectorised_and_consistent():
    sat, vel = _satellite()
    points = range_ring_points(sat, vel, 1500e3, np.radians(np.arange(0.0, 360.0, 30.0)))
    geo = look_geometry(sat, points)
    assert geo.slant_range_m.shape == (12,) and geo.los_unit.shape == (12, 3)
    np.testing.assert_allclose(np.linalg.norm(geo.los_unit, axis=-1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(sat + geo.slant_range_m[:, None] * geo.los_unit, points, atol=ONE_UM)
    # On the ellipsoid the angles stay within ~0.2 deg of the spherical-Earth values.
    np.testing.assert_allclose(np.degrees(geo.grazing_angle_rad), 26.7, atol=0.3)
    np.testing.assert_allclose(np.degrees(geo.off_nadir_angle_rad), 52.5, atol=0.3)


@pytest.mark.parametrize("lat_deg, heading_deg", [(0.0, 37.0), (37.0, 30.0), (-52.0, 150.0), (80.0, 90.0)])
def test_range_ring_points_are_on_the_ellipsoid_at_the_slant_range(lat_deg, heading_deg):
    sat, vel = _satellite(lat_deg=lat_deg, inclination_like_heading_deg=heading_deg)
    phi = np.radians(np.arange(0.0, 360.0, 5.0))
    for slant_range in (850e3, 1000e3, 1500e3, 2000e3, 3000e3):
        points = range_ring_points(sat, vel, slant_range, phi)
        assert points.shape == (phi.size, 3)
        assert np.all(np.isfinite(points))
        _, _, alt = ecef_to_geodetic(points)
        assert np.max(np.abs(alt)) < ONE_MM
        np.testing.assert_allclose(np.linalg.norm(points - sat, axis=-1), slant_range, atol=ONE_MM)
        # The near (visible) intersection: the satellite is above each point's horizon.
        assert np.all(look_geometry(sat, points).grazing_angle_rad > 0.0)


def test_range_ring_azimuth_convention():
    sat, vel = _satellite(lat_deg=0.0, lon_deg=0.0, inclination_like_heading_deg=0.0)  # over (0, 0) heading north
    along, right, nadir = orbit_frame(sat, vel)
    np.testing.assert_allclose(along, [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(right, [0.0, 1.0, 0.0], atol=1e-12)   # heading north, right is east (+y)
    np.testing.assert_allclose(nadir, [-1.0, 0.0, 0.0], atol=1e-12)
    ahead, starboard, behind, port = range_ring_points(sat, vel, 1500e3, np.radians([0.0, 90.0, 180.0, 270.0]))
    assert ahead[2] > 1e6 and behind[2] < -1e6          # north / south of the satellite
    assert starboard[1] > 1e6 and port[1] < -1e6        # east / west


def test_range_ring_broadcasting_and_unreachable_ranges():
    sat, vel = _satellite()
    grid = range_ring_points(sat, vel, np.array([[1000e3], [2000e3]]), np.radians([0.0, 90.0, 180.0]))
    assert grid.shape == (2, 3, 3) and np.all(np.isfinite(grid))
    too_short = range_ring_points(sat, vel, 500e3, np.radians([0.0, 90.0]))
    too_long = range_ring_points(sat, vel, 4000e3, np.radians([0.0, 90.0]))
    assert np.all(np.isnan(too_short)) and np.all(np.isnan(too_long))
    with pytest.raises(ValueError, match="along-track"):
        range_ring_points(sat, sat, 1500e3, 0.0)
