"""WGS 84 ellipsoid: constants, geodetic <-> ECEF, ENU axes.

References: NIMA TR8350.2 (3rd ed.) Tables 3.1 and 3.3 for the constants; astropy's
``EarthLocation.to_geodetic('WGS84')`` (ERFA ``gc2gde``, test-only) for the inverse.
"""

import numpy as np
import pytest

from sbamti.geo import wgs84
from sbamti.geo.wgs84 import A_M, B_M, E2, F, ecef_to_geodetic, enu_rotation, geodetic_to_ecef

# Tolerances, named in physical units.
one_millimetre = 1e-3
one_micrometre = 1e-6
round_trip_rad = 1e-11            # brief: geodetic -> ECEF -> geodetic
astropy_rad = 1e-9                # brief: vs astropy/ERFA


def _angle_diff(a, b):
    return np.angle(np.exp(1j * (np.asarray(a) - np.asarray(b))))


def test_derived_constants_match_tr8350():
    # TR8350.2 Table 3.3: b = 6356752.3142 m, e^2 = 6.69437999014e-3.
    assert B_M == pytest.approx(6356752.3142, abs=1e-4)
    assert E2 == pytest.approx(6.69437999014e-3, abs=1e-14)
    assert F == 1 / 298.257223563 and A_M == 6378137.0
    assert wgs84.OMEGA_EARTH_RAD_S == 7.292115e-5


@pytest.mark.parametrize("lat_deg, lon_deg, alt_m, expected", [
    (0.0, 0.0, 0.0, (A_M, 0.0, 0.0)),
    (0.0, 90.0, 0.0, (0.0, A_M, 0.0)),
    (0.0, 180.0, 1000.0, (-(A_M + 1000.0), 0.0, 0.0)),
    (90.0, 0.0, 0.0, (0.0, 0.0, B_M)),
    (-90.0, 37.0, 500.0, (0.0, 0.0, -(B_M + 500.0))),
])
def test_known_points(lat_deg, lon_deg, alt_m, expected):
    r = geodetic_to_ecef(np.radians(lat_deg), np.radians(lon_deg), alt_m)
    assert r == pytest.approx(expected, abs=one_micrometre)
    lat, lon, alt = ecef_to_geodetic(np.array(expected))
    assert float(lat) == pytest.approx(np.radians(lat_deg), abs=round_trip_rad)
    assert float(alt) == pytest.approx(alt_m, abs=one_micrometre)
    if abs(lat_deg) < 90:
        assert abs(_angle_diff(lon, np.radians(lon_deg))) < round_trip_rad


def test_latitude_45_degrees_by_hand():
    # N = a / sqrt(1 - e^2/2); x = N cos45, z = N (1 - e^2) sin45 (TR8350.2 eq. 4-14).
    n = A_M / np.sqrt(1 - E2 / 2)
    r = geodetic_to_ecef(np.radians(45.0), 0.0, 0.0)
    assert r == pytest.approx([n / np.sqrt(2), 0.0, n * (1 - E2) / np.sqrt(2)], abs=one_micrometre)


def test_round_trip_from_minus_1_km_to_40000_km_poles_included():
    rng = np.random.default_rng(84)
    n = 50_000
    lat = np.arcsin(rng.uniform(-1.0, 1.0, n))
    lon = rng.uniform(-np.pi, np.pi, n)
    alt = np.concatenate([rng.uniform(-1e3, 2e4, n // 2), rng.uniform(-1e3, 4e7, n - n // 2)])
    lat[:6] = [np.pi / 2, -np.pi / 2, np.pi / 2, -np.pi / 2, 0.0, 1e-9]       # poles, equator
    alt[:6] = [-1e3, -1e3, 4e7, 4e7, -1e3, 4e7]
    lat[6:10] = np.pi / 2 - np.array([1e-9, 1e-7, 1e-5, 1e-3])             # near the pole
    r = geodetic_to_ecef(lat, lon, alt)
    lat2, lon2, alt2 = ecef_to_geodetic(r)
    assert np.max(np.abs(lat2 - lat)) < round_trip_rad
    assert np.max(np.abs(alt2 - alt)) < one_millimetre
    # Longitude is undefined at the poles; elsewhere compare the horizontal position it sets.
    off_pole = np.abs(np.abs(lat) - np.pi / 2) > 1e-12
    assert np.max(np.abs(_angle_diff(lon2, lon)[off_pole])) < round_trip_rad
    assert np.all((lon2 > -np.pi) & (lon2 <= np.pi))


def test_matches_astropy_geodetic():
    coordinates = pytest.importorskip("astropy.coordinates")
    units = pytest.importorskip("astropy.units")
    rng = np.random.default_rng(1984)
    direction = rng.normal(size=(2000, 3))
    direction /= np.linalg.norm(direction, axis=-1, keepdims=True)
    r = direction * rng.uniform(6.35e6, 4.3e7, size=(2000, 1))
    lat, lon, alt = ecef_to_geodetic(r)
    loc = coordinates.EarthLocation.from_geocentric(r[:, 0], r[:, 1], r[:, 2], unit=units.m)
    ref_lon, ref_lat, ref_alt = loc.to_geodetic("WGS84")
    assert np.max(np.abs(lat - ref_lat.to_value(units.rad))) < astropy_rad
    assert np.max(np.abs(_angle_diff(lon, ref_lon.to_value(units.rad)))) < astropy_rad
    assert np.max(np.abs(alt - ref_alt.to_value(units.m))) < one_millimetre


def test_shapes_and_chunking():
    # More points than one chunk, in a (sat, time) layout: the result keeps the layout.
    rng = np.random.default_rng(3)
    lat = rng.uniform(-1.5, 1.5, size=(3, wgs84._CHUNK))
    lon = rng.uniform(-3, 3, size=(3, wgs84._CHUNK))
    alt = rng.uniform(0, 1e6, size=(3, wgs84._CHUNK))
    r = geodetic_to_ecef(lat, lon, alt)
    assert r.shape == (3, wgs84._CHUNK, 3)
    lat2, lon2, alt2 = ecef_to_geodetic(r)
    assert lat2.shape == lon2.shape == alt2.shape == (3, wgs84._CHUNK)
    assert np.max(np.abs(alt2 - alt)) < one_millimetre
    # Broadcasting of the forward transform: one latitude against many longitudes.
    assert geodetic_to_ecef(0.5, np.zeros(4), 0.0).shape == (4, 3)
    with pytest.raises(ValueError, match="shape"):
        ecef_to_geodetic(np.zeros((4, 2)))


def test_enu_axes():
    m = enu_rotation(0.0, 0.0)
    assert m == pytest.approx(np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]), abs=1e-15)
    rng = np.random.default_rng(5)
    lat = rng.uniform(-np.pi / 2, np.pi / 2, 100)
    lon = rng.uniform(-np.pi, np.pi, 100)
    m = enu_rotation(lat, lon)
    assert m.shape == (100, 3, 3)
    assert np.allclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=1e-15)
    assert np.allclose(np.linalg.det(m), 1.0, atol=1e-15)
    # E, N, U are the directions in which the point moves when lon, lat, h increase.
    step = 1e-7
    r0 = geodetic_to_ecef(lat, lon, 1000.0)
    for row, moved in ((0, geodetic_to_ecef(lat, lon + step, 1000.0)),
                       (1, geodetic_to_ecef(lat + step, lon, 1000.0)),
                       (2, geodetic_to_ecef(lat, lon, 1001.0))):
        d = moved - r0
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        assert np.allclose(d, m[:, row, :], atol=1e-6)


def test_geodetic_kernel_matches_its_numpy_twin():
    from sbamti.geo.wgs84 import _geodetic_kernel, _geodetic_numpy
    rng = np.random.default_rng(7)
    directions = rng.normal(size=(5000, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    r = directions * rng.uniform(6.3e6, 4.2e7, size=(5000, 1))
    r[:3] = [[A_M, 0.0, 0.0], [0.0, 0.0, B_M], [0.0, 0.0, -B_M - 1000.0]]   # equator, both poles
    fast = _geodetic_kernel(r)
    slow = _geodetic_numpy(r)
    for a, b in zip(fast, slow):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-9)   # rad and m: far below the mm round-trip bound
