"""Two-part Julian dates, IAU-82 GMST, TEME -> ITRS and LVLH quaternions.

References: ERFA (pyerfa) ``gmst82`` and astropy's TEME -> ITRS transformation, both test-only;
Vallado, *Fundamentals of Astrodynamics and Applications*, Example 3-5; sgp4's ``jday``.
"""

import datetime
import importlib.resources
import subprocess
import sys

import numpy as np
import pytest
from sgp4.api import Satrec, SatrecArray, jday

from sbamti.errors import ConfigurationError
from sbamti.geo import frames
from sbamti.geo.earth_orientation import EarthOrientation, EarthOrientationTable
from sbamti.geo.frames import (gmst82_rad, lvlh_to_ecef_quaternion, matrix_to_quaternion,
                               quaternion_to_matrix, teme_to_itrs, teme_to_itrs_matrix)
from sbamti.geo.timescales import JD_UNIX_EPOCH, jd_split_add_seconds, utc_ns_to_jd_split
from sbamti.geo.wgs84 import OMEGA_EARTH_TEME_RAD_S
from sbamti.timeutil import parse_utc_epoch_ns

NS_PER_DAY = 86_400 * 10**9
ONE_NS_IN_DAYS = 1.0 / 86_400e9
ARCSEC = np.pi / (180 * 3600)
GEO_RADIUS_M = 42_164e3

# Tolerances, named in physical units.
gmst_erfa_rad = 1e-12                 # brief: agreement with eraGmst82 over 2000-2040
vallado_book_rounding_deg = 1e-7      # the book prints 9 decimals; ERFA gives 152.5787878517 deg
one_centimetre = 0.01                 # ours vs astropy with the same IERS data (observed ~1 micrometre)
# Velocity: Vallado's omega (7.29211514670698e-5 rad/s) and the IAU-82 rate of GMST that astropy
# differentiates (7.2921158553e-5 rad/s) differ by 7.1e-12 rad/s: 0.30 mm/s at GEO radius.
# Astropy's 1 s centred finite difference adds < 1e-6 m/s.
one_millimetre_per_second = 1e-3
twenty_five_metres = 25.0
one_metre = 1.0
rotation_roundoff = 1e-14             # orthonormality of rotation matrices (dimensionless)


# --- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def astropy_frames():
    """astropy configured offline, with the same finals2000A table the library bundles."""
    pytest.importorskip("astropy")
    from astropy import units
    from astropy.coordinates import ITRS, TEME, CartesianDifferential, CartesianRepresentation
    from astropy.time import Time
    from astropy.utils import iers

    from sbamti.geo.earth_orientation import _bundled_path

    iers.conf.auto_download = False
    iers.earth_orientation_table.set(iers.IERS_A.open(str(_bundled_path())))

    def to_itrs(r_m, v_mps, jd, fr):
        t = Time(jd, fr, format="jd", scale="utc")
        rep = CartesianRepresentation(r_m.T * units.m,
                                      differentials=CartesianDifferential(v_mps.T * units.m / units.s))
        itrs = TEME(rep, obstime=t).transform_to(ITRS(obstime=t))
        return (itrs.cartesian.xyz.to_value(units.m).T,
                itrs.velocity.d_xyz.to_value(units.m / units.s).T)

    return to_itrs


@pytest.fixture(scope="module")
def verification_satellites():
    """A LEO, a Molniya, a GPS, a GEO and others from Vallado's SGP4-VER.TLE (shipped with sgp4)."""
    text = (importlib.resources.files("sgp4") / "SGP4-VER.TLE").read_text()
    lines = text.splitlines()
    wanted = {5, 6251, 8195, 22312, 25954, 28057, 28129}
    sats = []
    for first, second in zip(lines, lines[1:]):
        if first.startswith("1 ") and second.startswith("2 "):
            sat = Satrec.twoline2rv(first, second[:69])
            if sat.satnum in wanted:
                sats.append(sat)
    assert len(sats) == len(wanted)
    return sats


def _states_over_a_day(sat, step_s=3600):
    """(ns, jd, fr, r_m, v_mps) of one satellite over the day after its epoch (valid states only)."""
    epoch_ns = int(round((sat.jdsatepoch - JD_UNIX_EPOCH + sat.jdsatepochF) * 86_400)) * 10**9
    ns = epoch_ns + np.arange(0, 86_400, step_s, dtype=np.int64) * 10**9
    jd, fr = utc_ns_to_jd_split(ns)
    error, r_km, v_kmps = sat.sgp4_array(jd, fr)
    ok = error == 0
    return ns[ok], jd[ok], fr[ok], r_km[ok] * 1e3, v_kmps[ok] * 1e3


def _leo_states_2024(n_t=24):
    """Three LEO satellites (400-800 km) from sgp4init, on 2024-01-01 (|UT1-UTC| < 0.02 s then)."""
    epoch_ns = parse_utc_epoch_ns("2024-01-01T00:00:00Z")
    epoch_days_since_1949_12_31 = (epoch_ns / NS_PER_DAY) + JD_UNIX_EPOCH - 2433281.5
    sats = []
    for i, (mean_motion_rev_day, incl_deg) in enumerate([(15.5, 51.6), (14.8, 97.4), (14.2, 53.0)]):
        sat = Satrec()
        sat.sgp4init(2, "i", 90000 + i, epoch_days_since_1949_12_31, 1e-5, 0.0, 0.0, 0.0005,
                     np.radians(40.0 * i), np.radians(incl_deg), np.radians(100.0 * i),
                     mean_motion_rev_day * 2 * np.pi / 1440.0, np.radians(70.0 * i))
        sats.append(sat)
    ns = epoch_ns + np.arange(n_t, dtype=np.int64) * 3_600 * 10**9
    jd, fr = utc_ns_to_jd_split(ns)
    error, r_km, v_kmps = SatrecArray(sats).sgp4(jd, fr)
    assert np.all(error == 0)
    return ns, jd, fr, r_km * 1e3, v_kmps * 1e3


# --- two-part Julian dates --------------------------------------------------------------------

def test_j2000_noon_splits_at_the_preceding_midnight():
    # The contract's split keeps jd at a UTC midnight: J2000.0 = 2451545.0 = 2451544.5 + 0.5.
    jd, fr = utc_ns_to_jd_split(parse_utc_epoch_ns("2000-01-01T12:00:00Z"))
    assert (float(jd), float(fr)) == (2451544.5, 0.5)
    assert jd + fr == 2451545.0


@pytest.mark.parametrize("text, expected", [
    ("1970-01-01T00:00:00Z", (2440587.5, 0.0)),
    ("2027-01-01T00:00:00Z", (2461406.5, 0.0)),
    ("2028-01-01T00:00:00Z", (2461771.5, 0.0)),     # = sgp4.api.jday(2028, 1, 1, 0, 0, 0)
    ("2028-01-01T18:00:00Z", (2461771.5, 0.75)),
])
def test_known_julian_dates(text, expected):
    jd, fr = utc_ns_to_jd_split(parse_utc_epoch_ns(text))
    assert (float(jd), float(fr)) == expected


def test_split_matches_sgp4_jday_for_random_times():
    rng = np.random.default_rng(7)
    seconds = rng.integers(parse_utc_epoch_ns("2000-01-01T00:00:00Z") // 10**9,
                           parse_utc_epoch_ns("2040-01-01T00:00:00Z") // 10**9, size=50)
    jd, fr = utc_ns_to_jd_split(seconds * 10**9)
    for s, j, f in zip(seconds, jd, fr):
        t = datetime.datetime.fromtimestamp(int(s), tz=datetime.timezone.utc)
        ref_jd, ref_fr = jday(t.year, t.month, t.day, t.hour, t.minute, t.second)
        assert j == ref_jd
        assert f == pytest.approx(ref_fr, abs=1e-15)


def test_one_nanosecond_is_resolved_exactly():
    ns = parse_utc_epoch_ns("2028-06-30T23:59:59.999999990Z")
    jd0, fr0 = utc_ns_to_jd_split(ns)
    jd1, fr1 = utc_ns_to_jd_split(ns + 1)
    assert jd1 == jd0
    assert abs((fr1 - fr0) - ONE_NS_IN_DAYS) <= np.spacing(fr1)
    # The day fraction maps back to the exact nanosecond count.
    assert int(np.rint(fr1 * 86_400e9)) == (ns + 1) % NS_PER_DAY
    # Crossing midnight carries into jd and restarts fr at 0.
    jd2, fr2 = utc_ns_to_jd_split(ns + 10)
    assert (float(jd2), float(fr2)) == (float(jd0) + 1.0, 0.0)


def test_array_int_and_negative_inputs():
    base = parse_utc_epoch_ns("2028-01-01T00:00:00Z")
    ns = base + np.array([[0, 1], [NS_PER_DAY // 2, 3 * NS_PER_DAY - 1]], dtype=np.int64)
    jd, fr = utc_ns_to_jd_split(ns)
    assert jd.shape == fr.shape == (2, 2)
    assert jd[1, 1] == 2461771.5 + 2 and fr[1, 0] == 0.5
    assert np.all((fr >= 0.0) & (fr < 1.0))
    jd, fr = utc_ns_to_jd_split(-1)            # one nanosecond before 1970
    assert float(jd) == JD_UNIX_EPOCH - 1.0 and float(fr) == pytest.approx(1.0 - ONE_NS_IN_DAYS, abs=1e-16)
    assert float(fr) < 1.0


@pytest.mark.parametrize("bad", [1.8e18, np.array([1.0, 2.0]), True])
def test_float_nanoseconds_are_refused(bad):
    with pytest.raises(ConfigurationError, match="integer nanoseconds"):
        utc_ns_to_jd_split(bad)


def test_adding_seconds_renormalises():
    jd, fr = jd_split_add_seconds(2461771.5, 0.25, 86_400.0 * 0.8)
    assert (float(jd), float(fr)) == (2461772.5, pytest.approx(0.05, abs=1e-15))
    jd, fr = jd_split_add_seconds(np.array([2461771.5, 2461771.5]), np.array([0.0, 0.5]), -0.5)
    assert np.array_equal(jd, [2461770.5, 2461771.5])
    assert fr[0] == pytest.approx(1.0 - 0.5 / 86_400, abs=1e-15) and fr[1] < 0.5
    # A tiny negative fraction must not leave fr == 1.0.
    jd, fr = jd_split_add_seconds(2461771.5, 0.0, -1e-13)
    assert 0.0 <= float(fr) < 1.0 and float(jd) + float(fr) == pytest.approx(2461771.5, abs=1e-9)


# --- GMST ---------------------------------------------------------------------------------------

def test_gmst_vallado_example_3_5():
    # Vallado, Fundamentals of Astrodynamics and Applications, Example 3-5 (2nd ed. p. 192,
    # 4th ed. p. 189): 1992 August 20, 12:14 UT1 -> GMST = 152.578787886 deg.
    jd, fr = utc_ns_to_jd_split(parse_utc_epoch_ns("1992-08-20T12:14:00Z"))   # read as UT1
    assert np.degrees(gmst82_rad(jd, fr)) == pytest.approx(152.578787886, abs=vallado_book_rounding_deg)


def test_gmst_agrees_with_erfa_2000_to_2040():
    erfa = pytest.importorskip("erfa")
    rng = np.random.default_rng(2040)
    ns = rng.integers(parse_utc_epoch_ns("2000-01-01T00:00:00Z"), parse_utc_epoch_ns("2040-01-01T00:00:00Z"),
                      size=2000, dtype=np.int64)
    jd, fr = utc_ns_to_jd_split(ns)
    ours = gmst82_rad(jd, fr)
    theirs = erfa.gmst82(jd, fr)
    diff = np.angle(np.exp(1j * (ours - theirs)))
    assert np.max(np.abs(diff)) < gmst_erfa_rad
    assert np.all((ours >= 0.0) & (ours < 2 * np.pi))
    # A one-number JD gives the same angle to its resolution: ulp(2.46e6 d) = 40 us = 2.9e-9 rad.
    assert np.allclose(gmst82_rad(jd + fr, 0.0), ours, atol=3e-9, rtol=0)


def test_sidereal_day_returns_gmst():
    # One sidereal day (86164.0905 s of UT1) later the angle is the same to ~1e-9 rad.
    jd, fr = utc_ns_to_jd_split(parse_utc_epoch_ns("2028-01-01T00:00:00Z"))
    later = jd_split_add_seconds(jd, fr, 86_164.0905)
    assert abs(np.angle(np.exp(1j * (gmst82_rad(*later) - gmst82_rad(jd, fr))))) < 1e-7


# --- TEME -> ITRS ---------------------------------------------------------------------------------

def test_matches_astropy_with_the_same_iers_data(astropy_frames, verification_satellites):
    table = EarthOrientationTable.bundled()
    worst_r = worst_v = 0.0
    for sat in verification_satellites:
        ns, jd, fr, r, v = _states_over_a_day(sat)
        ours_r, ours_v = teme_to_itrs(r, v, jd, fr, table.at(ns))
        ref_r, ref_v = astropy_frames(r, v, jd, fr)
        worst_r = max(worst_r, np.max(np.linalg.norm(ours_r - ref_r, axis=-1)))
        worst_v = max(worst_v, np.max(np.linalg.norm(ours_v - ref_v, axis=-1)))
    assert worst_r < one_centimetre, worst_r
    assert worst_v < one_millimetre_per_second, worst_v


def test_without_eop_leo_is_within_25_m_of_astropy_when_ut1_utc_is_small(astropy_frames):
    """eop=None ignores UT1-UTC and polar motion, which astropy applies from its IERS table.

    The difference is ~ |r| (omega |UT1-UTC| + |(xp, yp)|): at LEO (|r| <= 7,200 km) about
    525 m per second of UT1-UTC plus 35 m per arcsecond of polar motion. On 2024-01-01,
    |UT1-UTC| < 0.02 s and |(xp, yp)| < 0.4", so it stays under 25 m. It is NOT under 25 m in
    general: |UT1-UTC| reaches 0.9 s (e.g. ~0.2 s in 2000-2006, i.e. ~100 m at LEO), so
    simulations should pass an EarthOrientation whenever the table covers the dates.
    """
    ns, jd, fr, r, v = _leo_states_2024()
    eop = EarthOrientationTable.bundled().at(ns)
    assert np.max(np.abs(eop.ut1_minus_utc_s)) < 0.02
    ours_r, _ = teme_to_itrs(r, v, jd, fr)
    for k in range(r.shape[0]):
        ref_r, _ = astropy_frames(r[k], v[k], jd, fr)
        assert np.max(np.linalg.norm(ours_r[k] - ref_r, axis=-1)) < twenty_five_metres


def test_without_polar_motion_leo_is_within_25_m_of_astropy(astropy_frames, verification_satellites):
    """UT1-UTC applied, polar motion left out: at LEO the rest is the pole's offset (< 0.5", ~15 m)."""
    table = EarthOrientationTable.bundled()
    checked = 0
    for sat in verification_satellites:
        ns, jd, fr, r, v = _states_over_a_day(sat, step_s=1800)
        leo = np.linalg.norm(r, axis=-1) < 8_000e3
        if not leo.any():
            continue
        full = table.at(ns[leo])
        no_pole = EarthOrientation(full.ut1_minus_utc_s, np.zeros_like(full.xp_rad), np.zeros_like(full.yp_rad),
                                   full.lod_s)
        ours_r, _ = teme_to_itrs(r[leo], v[leo], jd[leo], fr[leo], no_pole)
        ref_r, _ = astropy_frames(r[leo], v[leo], jd[leo], fr[leo])
        assert np.max(np.linalg.norm(ours_r - ref_r, axis=-1)) < twenty_five_metres
        checked += int(leo.sum())
    assert checked > 50


def test_without_eop_difference_is_explained_by_ut1_and_polar_motion(astropy_frames, verification_satellites):
    table = EarthOrientationTable.bundled()
    for sat in verification_satellites:
        ns, jd, fr, r, v = _states_over_a_day(sat, step_s=4 * 3600)
        eop = table.at(ns)
        ours_r, _ = teme_to_itrs(r, v, jd, fr)
        ref_r, _ = astropy_frames(r, v, jd, fr)
        radius = np.linalg.norm(r, axis=-1)
        bound = radius * (OMEGA_EARTH_TEME_RAD_S * np.abs(eop.ut1_minus_utc_s) + np.hypot(eop.xp_rad, eop.yp_rad))
        assert np.all(np.linalg.norm(ours_r - ref_r, axis=-1) <= bound + one_metre)


def test_polar_motion_moves_the_pole_to_xp_minus_yp():
    # IERS convention: the CIP (z of PEF) has ITRS coordinates (xp, -yp, 1) to first order.
    xp, yp = 0.3 * ARCSEC, 0.4 * ARCSEC
    eop = EarthOrientation(np.asarray(0.0), np.asarray(xp), np.asarray(yp), np.asarray(0.0))
    m = teme_to_itrs_matrix(2461771.5, 0.0, eop)
    pole = m @ np.array([0.0, 0.0, 1.0])            # TEME z = PEF z
    second_order = (xp**2 + yp**2)          # 3e-12: the neglected terms
    assert pole == pytest.approx([xp, -yp, 1.0], abs=second_order)
    assert pole[0] == pytest.approx(xp, rel=1e-6) and pole[1] == pytest.approx(-yp, rel=1e-6)


def test_ut1_offset_rotates_by_earth_rate():
    # 0.5 s of UT1-UTC turns the Earth by ~omega * 0.5 s about z.
    jd, fr = 2461771.5, 0.3
    eop = EarthOrientation(np.asarray(0.5), np.asarray(0.0), np.asarray(0.0), np.asarray(0.0))
    m0 = teme_to_itrs_matrix(jd, fr)
    m1 = teme_to_itrs_matrix(jd, fr, eop)
    angle = np.arctan2((m1 @ m0.T)[0, 1], (m1 @ m0.T)[0, 0])
    assert angle == pytest.approx(0.5 * 7.2921158553e-5, rel=1e-6)


def test_matrix_is_a_rotation_and_matches_teme_to_itrs():
    rng = np.random.default_rng(3)
    ns = parse_utc_epoch_ns("2025-03-01T00:00:00Z") + rng.integers(0, 30 * NS_PER_DAY, size=8)
    jd, fr = utc_ns_to_jd_split(ns)
    eop = EarthOrientationTable.bundled().at(ns)
    m = teme_to_itrs_matrix(jd, fr, eop)
    assert m.shape == (8, 3, 3)
    assert np.allclose(m @ np.swapaxes(m, -1, -2), np.eye(3), atol=rotation_roundoff, rtol=0)
    assert np.allclose(np.linalg.det(m), 1.0, atol=rotation_roundoff, rtol=0)
    r = rng.normal(size=(5, 8, 3)) * 7e6
    v = rng.normal(size=(5, 8, 3)) * 7e3
    r_itrs, v_itrs = teme_to_itrs(r, v, jd, fr, eop)
    assert np.allclose(r_itrs, np.einsum("tij,atj->ati", m, r), atol=1e-6, rtol=0)
    # Velocity without polar motion (then M = R3 commutes with omega z x):
    # v_itrs = M v_teme - omega z x r_itrs, with omega scaled by the LOD.
    no_pm = EarthOrientation(eop.ut1_minus_utc_s, np.zeros(8), np.zeros(8), eop.lod_s)
    r_itrs, v_itrs = teme_to_itrs(r, v, jd, fr, no_pm)
    omega = OMEGA_EARTH_TEME_RAD_S * (1.0 - eop.lod_s / 86_400)
    m = teme_to_itrs_matrix(jd, fr, no_pm)
    expected_v = np.einsum("tij,atj->ati", m, v) - np.cross(omega[:, None] * np.array([0, 0, 1.0]), r_itrs)
    assert np.allclose(v_itrs, expected_v, atol=1e-9, rtol=0)


def test_broadcasting_satellites_by_times_equals_one_satellite_at_a_time():
    rng = np.random.default_rng(4)
    n_sat, n_t = 6, 5
    jd, fr = utc_ns_to_jd_split(parse_utc_epoch_ns("2028-01-01T00:00:00Z") + np.arange(n_t) * 10**12)
    eop = EarthOrientation(*(rng.normal(size=n_t) * s for s in (0.3, 1e-6, 1e-6, 1e-3)))
    r = rng.normal(size=(n_sat, n_t, 3)) * 7e6
    v = rng.normal(size=(n_sat, n_t, 3)) * 7e3
    r_all, v_all = teme_to_itrs(r, v, jd, fr, eop)
    assert r_all.shape == v_all.shape == (n_sat, n_t, 3)
    for k in range(n_sat):
        for t in range(n_t):
            one = EarthOrientation(*(np.asarray(a[t]) for a in
                                     (eop.ut1_minus_utc_s, eop.xp_rad, eop.yp_rad, eop.lod_s)))
            r1, v1 = teme_to_itrs(r[k, t], v[k, t], jd[t], fr[t], one)
            assert r1.shape == (3,)
            assert np.allclose(r1, r_all[k, t], atol=1e-8, rtol=0)      # metres
            assert np.allclose(v1, v_all[k, t], atol=1e-11, rtol=0)     # m/s
    # Times per satellite (n_sat, 1) against states (n_sat, n_t, 3): the general (slower) path.
    r_s, _ = teme_to_itrs(r, v, jd[:1, None].repeat(n_sat, 0), fr[:1, None].repeat(n_sat, 0))
    r_ref, _ = teme_to_itrs(r, v, jd[0], fr[0])
    assert np.allclose(r_s, r_ref, atol=1e-8, rtol=0)
    with pytest.raises(ValueError, match="shape"):
        teme_to_itrs(r, v[..., :2], jd, fr)


def test_teme_kernel_twins_agree():
    rng = np.random.default_rng(5)
    r = rng.normal(size=(7, 4, 3)) * 7e6
    v = rng.normal(size=(7, 4, 3)) * 7e3
    m = np.linalg.qr(rng.normal(size=(4, 3, 3)))[0]
    omega = OMEGA_EARTH_TEME_RAD_S * (1.0 - rng.normal(size=4) * 1e-3 / 86_400)
    r_nb, v_nb = frames._teme_to_itrs_kernel_numba(r, v, m, omega)
    r_np, v_np = frames._teme_to_itrs_kernel_numpy(r, v, m, omega)
    assert np.allclose(r_nb, r_np, atol=1e-8, rtol=0)        # metres
    assert np.allclose(v_nb, v_np, atol=1e-11, rtol=0)       # m/s


# --- LVLH and quaternions -----------------------------------------------------------------------

def test_lvlh_quaternion_axes():
    ns, jd, fr, r, v = _leo_states_2024()
    eop = EarthOrientationTable.bundled().at(ns)
    rot = teme_to_itrs_matrix(jd, fr, eop)                      # (n_t, 3, 3)
    q = lvlh_to_ecef_quaternion(r, v, rot)                     # (n_sat, n_t, 4)
    assert q.shape == r.shape[:-1] + (4,)
    assert np.allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-15, rtol=0)
    assert np.all(q[..., 0] >= 0.0)
    c = quaternion_to_matrix(q)
    assert np.allclose(c @ np.swapaxes(c, -1, -2), np.eye(3), atol=rotation_roundoff, rtol=0)
    assert np.allclose(np.linalg.det(c), 1.0, atol=rotation_roundoff, rtol=0)
    x_ecef, y_ecef, z_ecef = c[..., :, 0], c[..., :, 1], c[..., :, 2]
    r_ecef, _ = teme_to_itrs(r, v, jd, fr, eop)
    r_hat = r_ecef / np.linalg.norm(r_ecef, axis=-1, keepdims=True)
    assert np.allclose(z_ecef, -r_hat, atol=1e-14, rtol=0)                 # nadir
    v_inertial_ecef = np.einsum("tij,atj->ati", rot, v)                    # inertial velocity, ECEF axes
    assert np.allclose(np.sum(y_ecef * r_ecef, axis=-1) / np.linalg.norm(r_ecef, axis=-1), 0.0, atol=1e-14)
    assert np.allclose(np.sum(y_ecef * v_inertial_ecef, axis=-1) / np.linalg.norm(v, axis=-1), 0.0, atol=1e-14)
    # Near-circular orbits: x is the direction of motion, within the flight-path angle (e ~ 1e-3
    # osculating, so < 0.5 deg).
    cos_x_v = np.sum(x_ecef * v_inertial_ecef, axis=-1) / np.linalg.norm(v, axis=-1)
    assert np.all(cos_x_v > np.cos(np.radians(0.5)))
    # y is minus the orbit normal, i.e. opposite to r x v.
    assert np.all(np.sum(y_ecef * np.cross(r_ecef, v_inertial_ecef), axis=-1) < 0.0)


def test_quaternion_of_a_quarter_turn_about_z():
    q = np.array([np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)])
    m = quaternion_to_matrix(q)
    assert m @ np.array([1.0, 0.0, 0.0]) == pytest.approx([0.0, 1.0, 0.0], abs=1e-15)
    assert matrix_to_quaternion(m) == pytest.approx(q, abs=1e-15)


def test_quaternion_matrix_round_trip_including_half_turns():
    rng = np.random.default_rng(6)
    q = rng.normal(size=(1000, 4))
    q /= np.linalg.norm(q, axis=-1, keepdims=True)
    q[:4] = [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0.6, 0.8, 0]]     # half turns: trace = -1
    q[4] = [1, 0, 0, 0]
    q = np.where(q[:, :1] < 0, -q, q)
    m = quaternion_to_matrix(q)
    back = matrix_to_quaternion(m)
    assert np.all(back[:, 0] >= 0)
    # For half turns w = 0, where q and -q are both valid; compare the rotations there.
    assert np.allclose(back[5:], q[5:], atol=1e-14, rtol=0)
    assert np.allclose(quaternion_to_matrix(back), m, atol=1e-14, rtol=0)
    assert matrix_to_quaternion(m.reshape(10, 100, 3, 3)).shape == (10, 100, 4)


# --- purity -------------------------------------------------------------------------------------

def test_geo_modules_import_neither_astropy_nor_rclpy():
    code = ("import sys\n"
            "from sbamti.geo import frames, wgs84, earth_orientation, timescales\n"
            "earth_orientation.EarthOrientationTable.bundled()\n"
            "bad = [m for m in ('astropy', 'erfa', 'rclpy') if m in sys.modules]\n"
            "print('imported:', bad)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported: []"
