"""Walker-delta generation (sbamti.orbit.walker): layout, TLE round trip, SGP4 altitude, validation."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest
from sgp4.api import Satrec, SatrecArray

from sbamti.errors import ConfigurationError
from sbamti.orbit.elements import parse_tle_text
from sbamti.orbit.walker import (EARTH_EQUATORIAL_RADIUS_KM, MU_WGS72_KM3_S2, WalkerParameterError,
                                 kepler_mean_motion_rev_per_day, walker_delta)
from sbamti.timeutil import parse_utc_epoch_ns

EPOCH_NS = parse_utc_epoch_ns("2028-01-01T00:00:00Z")
JD_UNIX_EPOCH = 2440587.5
NS_PER_DAY = 86_400 * 10**9

# Half a unit of the last printed digit of each TLE field: what a round trip may lose.
HALF_ANGLE_DEG = 0.5e-4
HALF_ECCENTRICITY = 0.5e-7
HALF_MEAN_MOTION_REV_PER_DAY = 0.5e-8
HALF_EPOCH_DAY = 0.5e-8
TEN_KILOMETRES = 10.0


def mod10(line: str) -> int:
    """The TLE checksum, written independently of the library: digits count their value, '-' 1, mod 10."""
    return sum((ord(c) - ord("0")) if "0" <= c <= "9" else (1 if c == "-" else 0) for c in line[:68]) % 10


def angle_difference_deg(a: float, b: float) -> float:
    return (a - b + 180.0) % 360.0 - 180.0


def wrapped(a: float) -> float:
    return a % 360.0


@pytest.fixture(scope="module")
def walker48():
    return walker_delta(48, 6, 1, altitude_m=700e3, inclination_deg=53.0, epoch_ns=EPOCH_NS)


def test_names_ids_catalog_numbers_and_source(walker48):
    assert [s.name for s in walker48] == [f"SBAMTI-{k:03d}" for k in range(1, 49)]
    assert [s.satellite_id for s in walker48][:2] == ["sbamti_001", "sbamti_002"]
    assert [s.catalog_number for s in walker48] == list(range(90001, 90049))
    assert {s.source for s in walker48} == {"walker"}
    assert all(s.epoch_ns == EPOCH_NS for s in walker48)


def test_lines_round_trip_through_sgp4_within_the_printed_precision(walker48):
    n_expected = kepler_mean_motion_rev_per_day(700e3)
    per_plane = 8
    for k, sat in enumerate(walker48):
        plane, slot = divmod(k, per_plane)
        line1, line2 = sat.line1, sat.line2
        assert (len(line1), len(line2)) == (69, 69)
        assert (int(line1[68]), int(line2[68])) == (mod10(line1), mod10(line2))  # independent checksum
        rec = Satrec.twoline2rv(line1, line2)  # sgp4's own reader, not ours
        assert rec.satnum == sat.catalog_number
        assert abs(math.degrees(rec.inclo) - 53.0) <= HALF_ANGLE_DEG
        assert abs(angle_difference_deg(math.degrees(rec.nodeo), plane * 60.0)) <= HALF_ANGLE_DEG
        assert abs(rec.ecco - 0.0001) <= HALF_ECCENTRICITY
        assert abs(angle_difference_deg(math.degrees(rec.argpo), 0.0)) <= HALF_ANGLE_DEG
        expected_u = slot * 45.0 + plane * 1 * 360.0 / 48
        assert abs(angle_difference_deg(math.degrees(rec.mo), expected_u)) <= HALF_ANGLE_DEG
        assert abs(rec.no_kozai * 1440.0 / (2 * math.pi) - n_expected) <= HALF_MEAN_MOTION_REV_PER_DAY
        epoch_day = (rec.jdsatepoch - JD_UNIX_EPOCH) + rec.jdsatepochF
        assert abs(epoch_day - EPOCH_NS / NS_PER_DAY) <= HALF_EPOCH_DAY
        # and the satrec the library built is the same satellite
        assert (sat.satrec.inclo, sat.satrec.nodeo, sat.satrec.mo, sat.satrec.no_kozai) == (
            rec.inclo, rec.nodeo, rec.mo, rec.no_kozai)


def test_plane_layout_and_phasing_from_the_generated_elements():
    total, planes, phasing = 48, 6, 1
    sats = walker_delta(total, planes, phasing, altitude_m=700e3, inclination_deg=53.0, epoch_ns=EPOCH_NS,
                        raan_offset_deg=10.0)
    by_plane = defaultdict(list)
    for sat in sats:
        by_plane[round(math.degrees(sat.satrec.nodeo), 3)].append(
            wrapped(math.degrees(sat.satrec.argpo + sat.satrec.mo)))  # argument of latitude
    raans = sorted(by_plane)
    assert len(raans) == planes
    assert np.allclose(np.diff(raans), 360.0 / planes, atol=2 * HALF_ANGLE_DEG)
    assert raans[0] == pytest.approx(10.0, abs=HALF_ANGLE_DEG)
    per_plane = total // planes
    phase_step = phasing * 360.0 / total
    for index, raan in enumerate(raans):
        slots = sorted(by_plane[raan])
        assert len(slots) == per_plane
        assert np.allclose(np.diff(slots), 360.0 / per_plane, atol=2 * HALF_ANGLE_DEG)
        # F-phasing: the plane's slots are shifted by index * F * 360/T against plane 0's
        shift = (slots[0] - sorted(by_plane[raans[0]])[0]) % (360.0 / per_plane)
        assert shift == pytest.approx((index * phase_step) % (360.0 / per_plane), abs=2 * HALF_ANGLE_DEG)


def test_zero_phasing_aligns_the_planes():
    sats = walker_delta(6, 3, 0, altitude_m=550e3, inclination_deg=97.6, epoch_ns=EPOCH_NS)
    assert {round(math.degrees(s.satrec.mo), 4) for s in sats} == {0.0, 180.0}


@pytest.mark.parametrize("altitude_km, inclination_deg", [(700.0, 53.0), (800.0, 53.0), (550.0, 0.0),
                                                         (700.0, 97.8), (1200.0, 87.0), (400.0, 51.6)])
def test_mean_propagated_altitude_over_one_revolution_is_within_10_km(altitude_km, inclination_deg):
    sats = walker_delta(6, 3, 1, altitude_m=altitude_km * 1000.0, inclination_deg=inclination_deg,
                        epoch_ns=EPOCH_NS)
    n_rad_per_s = math.sqrt(MU_WGS72_KM3_S2 / (EARTH_EQUATORIAL_RADIUS_KM + altitude_km) ** 3)
    period_days = 2 * math.pi / n_rad_per_s / 86400.0
    samples = np.arange(720) / 720.0 * period_days
    jd = np.full(samples.shape, sats[0].satrec.jdsatepoch)
    fr = sats[0].satrec.jdsatepochF + samples
    errors, positions, _velocities = SatrecArray([s.satrec for s in sats]).sgp4(jd, fr)
    assert not errors.any()
    mean_altitude = np.linalg.norm(positions, axis=-1).mean(axis=1) - EARTH_EQUATORIAL_RADIUS_KM
    assert np.all(np.abs(mean_altitude - altitude_km) < TEN_KILOMETRES), mean_altitude


def test_kepler_mean_motion():
    # a = 7078.137 km: n = sqrt(mu/a^3) = 1.0603e-3 rad/s = 14.5789 rev/day
    assert kepler_mean_motion_rev_per_day(700e3) == pytest.approx(14.578891, abs=1e-6)


def test_alpha5_catalog_numbers_above_99999():
    sats = walker_delta(4, 2, 1, altitude_m=800e3, inclination_deg=53.0, epoch_ns=EPOCH_NS,
                        first_catalog_number=99999)
    assert [s.line1[2:7] for s in sats] == ["99999", "A0000", "A0001", "A0002"]
    assert [s.catalog_number for s in sats] == [s.satrec.satnum for s in sats] == list(range(99999, 100003))
    reparsed = parse_tle_text("".join(f"{s.name}\n{s.line1}\n{s.line2}\n" for s in sats))
    assert [s.catalog_number for s in reparsed.element_sets] == list(range(99999, 100003))


def test_drag_and_eccentricity_are_written():
    (sat,) = walker_delta(1, 1, 0, altitude_m=500e3, inclination_deg=45.0, epoch_ns=EPOCH_NS,
                          eccentricity=0.001, bstar=2.5e-4, name_prefix="X")
    assert sat.line1[53:61] == " 25000-3" and sat.line2[26:33] == "0010000"
    assert (sat.name, sat.satellite_id) == ("X-001", "x_001")


@pytest.mark.parametrize("arguments, parameter, value", [
    ({"total": 48, "planes": 5}, "planes", "5"),
    ({"total": 0}, "total", "0"),
    ({"planes": 0}, "planes", "0"),
    ({"phasing": 6}, "phasing", "6"),
    ({"phasing": -1}, "phasing", "-1"),
    ({"altitude_m": 0.0}, "altitude_m", "0.0"),
    ({"altitude_m": float("nan")}, "altitude_m", "nan"),
    ({"inclination_deg": 180.5}, "inclination_deg", "180.5"),
    ({"inclination_deg": -1.0}, "inclination_deg", "-1.0"),
    ({"eccentricity": 1.0}, "eccentricity", "1.0"),
    ({"eccentricity": 0.2}, "eccentricity", "0.2"),  # perigee below ground at 700 km
    ({"first_catalog_number": 339990}, "first_catalog_number", "339990"),
    ({"first_catalog_number": 0}, "first_catalog_number", "0"),
    ({"name_prefix": "sat 1"}, "name_prefix", "'sat 1'"),
    ({"name_prefix": ""}, "name_prefix", "''"),
    ({"epoch_ns": parse_utc_epoch_ns("2060-01-01T00:00:00Z")}, "epoch_ns", "epoch"),
    ({"epoch_ns": 1.5e18}, "epoch_ns", "1.5e+18"),
    ({"total": 4.0}, "total", "4.0"),
    ({"bstar": 1e10}, "bstar", "10000000000.0"),
])
def test_invalid_parameters_raise_configuration_errors_naming_them(arguments, parameter, value):
    call = {"total": 48, "planes": 6, "phasing": 1, "altitude_m": 700e3, "inclination_deg": 53.0,
            "epoch_ns": EPOCH_NS}
    call.update(arguments)
    positional = [call.pop(name) for name in ("total", "planes", "phasing")]
    with pytest.raises(ConfigurationError) as info:
        walker_delta(*positional, **call)
    assert isinstance(info.value, WalkerParameterError) and info.value.parameter == parameter
    assert str(info.value).startswith(f"walker_delta: {parameter}: ")
    assert value in str(info.value)


def test_polar_and_retrograde_inclinations_are_allowed():
    for inclination in (0.0, 90.0, 180.0):
        (sat,) = walker_delta(1, 1, 0, altitude_m=600e3, inclination_deg=inclination, epoch_ns=EPOCH_NS)
        assert math.degrees(sat.satrec.inclo) == pytest.approx(inclination, abs=HALF_ANGLE_DEG)
