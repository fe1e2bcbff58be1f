"""Antenna axes and the beam schedule."""

import numpy as np
import pytest

from sbamti.geo.wgs84 import OMEGA_EARTH_RAD_S, geodetic_to_ecef
from sbamti.radar.beam import BeamScheduler, antenna_axes, area_cells, inertial_velocity_ecef
from sbamti.radar.scenario import Area

R_SAT = 6_378_137.0 + 800e3
V_SAT = 7451.8


def _satellite_over(lat_deg, lon_deg):
    """Satellite 800 km above (lat, lon) heading north-east-ish (ECEF velocity)."""
    pos = geodetic_to_ecef(np.radians(lat_deg), np.radians(lon_deg), 800e3)
    north = np.array([-np.sin(np.radians(lat_deg)) * np.cos(np.radians(lon_deg)),
                      -np.sin(np.radians(lat_deg)) * np.sin(np.radians(lon_deg)), np.cos(np.radians(lat_deg))])
    return pos, V_SAT * north


def test_antenna_axes_are_orthonormal_with_boresight_on_the_beam_centre():
    pos, vel = _satellite_over(10.0, 20.0)
    centre = geodetic_to_ecef(np.radians(10.0), np.radians(30.0), 0.0)
    axes = antenna_axes(pos, vel, centre)
    assert np.allclose(axes @ axes.T, np.eye(3), atol=1e-12) and np.linalg.det(axes) == pytest.approx(1.0)
    boresight = (centre - pos) / np.linalg.norm(centre - pos)
    assert np.allclose(axes[2], boresight, atol=1e-12)
    # the long axis follows the inertial velocity, not the Earth-relative one
    inertial = inertial_velocity_ecef(pos, vel)
    assert np.dot(axes[0], inertial) > 0.99 * np.linalg.norm(inertial - np.dot(inertial, axes[2]) * axes[2])
    assert np.linalg.norm(inertial - vel) == pytest.approx(OMEGA_EARTH_RAD_S * np.hypot(pos[0], pos[1]))


def test_area_cells_cover_the_area_at_the_spacing():
    circle = Area(name="c", kind="circle", centre=(np.radians(30.0), np.radians(40.0)), radius_m=100e3)
    lat, lon = area_cells(circle, 20e3)
    assert np.all(circle.contains(lat, lon))
    # about area / spacing² cells: π·100² / 20² ≈ 78.5
    assert 60 <= lat.size <= 95
    tiny = Area(name="t", kind="circle", centre=(0.1, 0.2), radius_m=1e3)
    assert area_cells(tiny, 20e3)[0].size == 1


def test_scheduler_visits_visible_cells_in_turn_and_only_them():
    lat = np.radians([0.0, 0.0, 0.0, 50.0])
    lon = np.radians([8.0, 9.0, 10.0, 100.0])   # the last one is on the far side of the Earth
    scheduler = BeamScheduler(lat, lon, np.radians(10.0), np.radians(60.0))
    pos, _ = _satellite_over(0.0, 0.0)           # 8-10 deg of arc away: grazing ~ 35-45 deg
    assert list(scheduler.visible(pos)) == [True, True, True, False]
    visits = [scheduler.next_cell(pos, t) for t in range(7)]
    assert visits == [0, 1, 2, 0, 1, 2, 0]
    far, _ = _satellite_over(-60.0, -120.0)
    assert scheduler.next_cell(far, 8) is None


def test_scheduler_grazing_matches_the_look_geometry():
    from sbamti.radar.geometry import look_geometry
    rng = np.random.default_rng(4)
    lat, lon = np.radians(rng.uniform(-60, 60, 50)), np.radians(rng.uniform(-20, 20, 50))
    scheduler = BeamScheduler(lat, lon, 0.0, np.pi / 2)
    pos, _ = _satellite_over(5.0, 3.0)
    expected = look_geometry(pos, scheduler.cells_ecef_m).grazing_angle_rad
    assert np.allclose(scheduler.grazing_rad(pos), expected, atol=1e-12)


def test_scan_limit_excludes_squinted_cells():
    # satellite over the equator heading north; cells due east (broadside) and far to the north-east
    lat = np.radians([0.0, 8.0])
    lon = np.radians([10.0, 6.0])
    scheduler = BeamScheduler(lat, lon, np.radians(10.0), np.radians(60.0), np.radians(20.0))
    pos, vel = _satellite_over(0.0, 0.0)
    assert list(scheduler.visible(pos)) == [True, True]            # without the velocity: grazing only
    assert list(scheduler.visible(pos, vel)) == [True, False]      # ~53 deg squint is beyond 20 deg
