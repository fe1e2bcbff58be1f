"""Ground-station look angles, contact windows and station files (sbamti.orbit.contacts).

Satellite states come from SGP4 (the sgp4 wheel) rotated TEME -> ECEF with GMST (IAU-82) in this
file: the contact search only needs a consistent, smooth ECEF state function. Brute force is plain
sampling of ``look_angles`` elevation with no root finding.
"""

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from sgp4.api import WGS72, Satrec

from sbamti.errors import ConfigurationError
from sbamti.orbit.contacts import (ContactWindow, GroundStation, load_ground_stations, look_angles,
                                   predict_contacts, predict_contacts_many)
from sbamti.timeutil import parse_utc_epoch_ns

REPO_ROOT = Path(__file__).resolve().parents[1]
STATIONS_FILE = REPO_ROOT / "config" / "ground_stations.yaml"
POLAR_STATIONS_FILE = REPO_ROOT / "config" / "ground_stations_polar.yaml"
TLE_FILE = Path(__import__("sgp4").__file__).with_name("SGP4-VER.TLE")

NS = 1_000_000_000
DAY_NS = 86_400 * NS
START_2028_NS = parse_utc_epoch_ns("2028-01-01T00:00:00Z")

WGS84_A_M = 6378137.0
WGS84_B_M = 6356752.314245          # semi-minor axis, NIMA TR8350.2 Table 3.3
OMEGA_EARTH_RAD_S = 7.292115146706979e-5   # Vallado (2013) Sec. 3.7, TEME -> PEF velocity

one_millimetre = 1e-3
one_nanoradian = 1e-9
two_milliseconds = 2e-3
one_hundredth_degree = math.radians(0.01)


# --- helpers: SGP4 -> ECEF --------------------------------------------------------------------

def _jd_split(times_ns):
    days, rem = np.divmod(np.asarray(times_ns, dtype=np.int64), DAY_NS)
    return 2440587.5 + days.astype(float), rem / DAY_NS


def _gmst_rad(jd, fr):
    """GMST, IAU-82 (Vallado 2013 eq. 3-47, as in his gstime), UT1 taken as UTC."""
    tut1 = ((jd - 2451545.0) + fr) / 36525.0
    seconds = (-6.2e-6 * tut1**3 + 0.093104 * tut1**2 + (876600.0 * 3600.0 + 8640184.812866) * tut1
               + 67310.54841)
    return np.mod(np.radians(seconds / 240.0), 2.0 * np.pi)


def _sgp4_state_fn(satrec):
    """ECEF (PEF, no polar motion) position m and rotating-frame velocity m/s from SGP4 TEME."""
    def state_fn(times_ns):
        jd, fr = _jd_split(times_ns)
        error, r_km, v_kmps = satrec.sgp4_array(jd, fr)
        assert not np.any(error), f"SGP4 error codes {set(error.tolist())}"
        theta = _gmst_rad(jd, fr)
        c, s = np.cos(theta), np.sin(theta)
        r_teme, v_teme = r_km * 1e3, v_kmps * 1e3
        pos = np.stack([c * r_teme[:, 0] + s * r_teme[:, 1], -s * r_teme[:, 0] + c * r_teme[:, 1], r_teme[:, 2]], -1)
        vel = np.stack([c * v_teme[:, 0] + s * v_teme[:, 1], -s * v_teme[:, 0] + c * v_teme[:, 1], v_teme[:, 2]], -1)
        vel -= np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], pos)
        return pos, vel
    return state_fn


def _many_state_fn(satrecs):
    fns = [_sgp4_state_fn(sat) for sat in satrecs]

    def state_fn_many(times_ns):
        states = [fn(times_ns) for fn in fns]
        return np.stack([p for p, _ in states]), np.stack([v for _, v in states])
    return state_fn_many


def _walker_satrec(raan_deg=0.0, mean_anomaly_deg=0.0, altitude_km=700.0, inclination_deg=53.0):
    """Circular orbit as in the design's 48-satellite Walker shell, epoch 2028-01-01T00:00Z."""
    mu_km3_s2, radius_km = 398600.8, 6378.135          # WGS72, as SGP4 uses
    mean_motion_rad_min = math.sqrt(mu_km3_s2 / (radius_km + altitude_km) ** 3) * 60.0
    epoch_days_since_1949_12_31 = 2461771.5 - 2433281.5  # JD of 2028-01-01 minus JD of 1949-12-31
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", 90001, epoch_days_since_1949_12_31, 0.0, 0.0, 0.0, 1e-4, 0.0,
                    math.radians(inclination_deg), math.radians(mean_anomaly_deg), mean_motion_rad_min,
                    math.radians(raan_deg))
    return satrec


def _vallado_tle_satrec(satnum="28057"):
    """A TLE of Vallado's verification set shipped in the sgp4 wheel (28057: ~780 km, 98.4 deg)."""
    lines = TLE_FILE.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(f"1 {satnum}"))
    satrec = Satrec.twoline2rv(lines[index][:69], lines[index + 1][:69])
    jd_unix_epoch = 2440587.5
    epoch_ns = int(round(((satrec.jdsatepoch - jd_unix_epoch) + satrec.jdsatepochF) * 86400.0)) * NS
    return satrec, epoch_ns


def _station(name="test", lat_deg=28.0, lon_deg=-16.0, alt_m=200.0, mask_deg=10.0):
    return GroundStation(name, math.radians(lat_deg), math.radians(lon_deg), alt_m, math.radians(mask_deg))


# --- helpers: brute force ---------------------------------------------------------------------

def _elevation(state_fn, station, times_ns):
    pos, vel = state_fn(np.asarray(times_ns, dtype=np.int64))
    return look_angles(station, pos, vel).elevation_rad


def _brute_force_passes(state_fn, station, start_ns, end_ns, step_ns=NS):
    """Passes from sampling every ``step_ns``; crossings and peaks refined by 1 ms sampling."""
    times = np.arange(start_ns, end_ns + 1, step_ns, dtype=np.int64)
    elevation = _elevation(state_fn, station, times)
    visible = elevation >= station.elevation_mask_rad
    changes = np.nonzero(visible[1:] != visible[:-1])[0]
    edges = []
    for k in changes:
        fine = np.arange(times[k], times[k + 1] + 1, 1_000_000, dtype=np.int64)
        fine_visible = _elevation(state_fn, station, fine) >= station.elevation_mask_rad
        first_change = int(np.nonzero(fine_visible != fine_visible[0])[0][0])
        edges.append((int(k), int(fine[first_change]) if visible[k + 1] else int(fine[first_change - 1])))
    passes = []
    open_at = (0, start_ns) if visible[0] else None
    for k, t in edges:
        if visible[k + 1]:
            open_at = (k + 1, t)
        else:
            passes.append((open_at, (k, t)))
            open_at = None
    if open_at is not None:
        passes.append((open_at, (len(times) - 1, end_ns)))
    result = []
    for (first, aos), (last, los) in passes:
        j = first + int(np.argmax(elevation[first:last + 1]))
        fine = np.arange(max(times[j] - step_ns, start_ns), min(times[j] + step_ns, end_ns) + 1, 1_000_000,
                         dtype=np.int64)
        fine_el = _elevation(state_fn, station, fine)
        peak = int(np.argmax(fine_el))
        result.append(dict(aos_ns=aos, los_ns=los, aos_sample=first, los_sample=last,
                           max_elevation_rad=float(fine_el[peak]), max_elevation_ns=int(fine[peak])))
    return times, result


# --- stations and look angles -----------------------------------------------------------------

def test_station_ecef_reference_points():
    equator = _station(lat_deg=0.0, lon_deg=0.0, alt_m=0.0).position_ecef()
    np.testing.assert_allclose(equator, [WGS84_A_M, 0.0, 0.0], atol=one_millimetre)
    pole = _station(lat_deg=90.0, lon_deg=123.0, alt_m=100.0).position_ecef()
    np.testing.assert_allclose(pole, [0.0, 0.0, WGS84_B_M + 100.0], atol=one_millimetre)
    east_90 = _station(lat_deg=0.0, lon_deg=90.0, alt_m=-50.0).position_ecef()
    np.testing.assert_allclose(east_90, [0.0, WGS84_A_M - 50.0, 0.0], atol=one_millimetre)


def test_station_ecef_matches_astropy_wgs84():
    coordinates = pytest.importorskip("astropy.coordinates")
    units = pytest.importorskip("astropy.units")
    for station in load_ground_stations(STATIONS_FILE) + load_ground_stations(POLAR_STATIONS_FILE):
        location = coordinates.EarthLocation.from_geodetic(
            station.longitude_rad * units.rad, station.latitude_rad * units.rad, station.altitude_m * units.m,
            ellipsoid="WGS84")
        reference = np.array([location.x.to_value(units.m), location.y.to_value(units.m), location.z.to_value(units.m)])
        np.testing.assert_allclose(station.position_ecef(), reference, atol=one_millimetre, err_msg=station.name)


def test_satellite_at_zenith_is_at_90_degrees_and_geocentric_radial_is_not():
    station = _station(lat_deg=45.0, lon_deg=10.0)
    up = station.enu_axes()[2]
    angles = look_angles(station, station.position_ecef() + 500e3 * up, np.zeros(3))
    assert abs(angles.elevation_rad - math.pi / 2) < one_nanoradian
    assert abs(angles.range_m - 500e3) < one_millimetre
    radial = station.position_ecef() / np.linalg.norm(station.position_ecef())
    tilted = look_angles(station, station.position_ecef() + 500e3 * radial, np.zeros(3))
    # the geodetic and geocentric verticals differ by ~0.19 deg at 45 deg latitude
    assert math.radians(89.7) < tilted.elevation_rad < math.radians(89.9)
    assert abs(math.degrees(tilted.azimuth_rad) - 180.0) < 1e-6     # the radial leans towards the equator


@pytest.mark.parametrize("axis, sign, azimuth_deg", [(0, 1, 90.0), (1, 1, 0.0), (0, -1, 270.0), (1, -1, 180.0)])
def test_points_on_the_horizon_have_zero_elevation_and_cardinal_azimuth(axis, sign, azimuth_deg):
    station = _station(lat_deg=-33.0, lon_deg=-70.7, alt_m=700.0)
    target = station.position_ecef() + sign * 1500e3 * station.enu_axes()[axis]
    angles = look_angles(station, target, np.zeros(3))
    assert abs(angles.elevation_rad) < one_nanoradian
    azimuth_error = (angles.azimuth_rad - math.radians(azimuth_deg) + math.pi) % (2 * math.pi) - math.pi
    assert abs(azimuth_error) < one_nanoradian
    assert 0.0 <= angles.azimuth_rad < 2 * math.pi
    assert abs(angles.range_m - 1500e3) < one_millimetre


def test_range_rate_sign_follows_opening_and_closing():
    station = _station()
    enu = station.enu_axes()
    line_of_sight = (enu[0] + enu[2]) / math.sqrt(2.0)
    target = station.position_ecef() + 1000e3 * line_of_sight
    speed = 7500.0
    across = np.cross(line_of_sight, enu[1])
    velocities = np.array([speed * line_of_sight, -speed * line_of_sight, speed * across / np.linalg.norm(across)])
    rates = look_angles(station, np.broadcast_to(target, (3, 3)), velocities).range_rate_mps
    np.testing.assert_allclose(rates, [speed, -speed, 0.0], atol=1e-6)


def _finite_difference_enu(station):
    """East, North, Up from numerical derivatives of geodetic -> ECEF (independent of enu_axes)."""
    step = 1e-6

    def ecef(dlat, dlon):
        return GroundStation("fd", station.latitude_rad + dlat, station.longitude_rad + dlon, station.altitude_m,
                             0.0).position_ecef()
    north = ecef(step, 0.0) - ecef(-step, 0.0)
    east = ecef(0.0, step) - ecef(0.0, -step)
    north /= np.linalg.norm(north)
    east /= np.linalg.norm(east)
    return east, north, np.cross(east, north)


@pytest.mark.parametrize("lat_deg, lon_deg, alt_m", [(37.9, -75.5, 10.0), (-72.0, 2.5, 1270.0), (78.2, 15.4, 500.0),
                                                     (1.4, 103.8, 30.0), (-25.9, 207.7, 1555.0)])
def test_look_angles_agree_with_finite_difference_axes(lat_deg, lon_deg, alt_m):
    station = _station(lat_deg=lat_deg, lon_deg=lon_deg, alt_m=alt_m)
    east, north, up = _finite_difference_enu(station)
    rng = np.random.default_rng(20280101)
    azimuth = rng.uniform(0.0, 2 * math.pi, 50)
    elevation = rng.uniform(-0.3, 1.5, 50)
    distance = rng.uniform(500e3, 3000e3, 50)
    directions = (np.cos(elevation) * np.sin(azimuth))[:, None] * east + \
        (np.cos(elevation) * np.cos(azimuth))[:, None] * north + np.sin(elevation)[:, None] * up
    angles = look_angles(station, station.position_ecef() + distance[:, None] * directions, np.zeros((50, 3)))
    finite_difference_accuracy = 1e-8   # rad: central differences of step 1e-6 rad
    np.testing.assert_allclose(angles.elevation_rad, elevation, atol=finite_difference_accuracy)
    azimuth_error = (angles.azimuth_rad - azimuth + math.pi) % (2 * math.pi) - math.pi
    np.testing.assert_allclose(azimuth_error, 0.0, atol=finite_difference_accuracy)
    np.testing.assert_allclose(angles.range_m, distance, atol=one_millimetre)


def test_look_angles_broadcast_over_leading_dimensions():
    station = _station()
    pos = station.position_ecef() + np.random.default_rng(1).normal(0.0, 1e6, (2, 4, 3))
    vel = np.random.default_rng(2).normal(0.0, 7e3, (2, 4, 3))
    angles = look_angles(station, pos, vel)
    assert angles.azimuth_rad.shape == angles.elevation_rad.shape == angles.range_rate_mps.shape == (2, 4)
    single = look_angles(station, pos[1, 2], vel[1, 2])
    assert single.elevation_rad == pytest.approx(angles.elevation_rad[1, 2], abs=1e-15)
    assert single.range_rate_mps == pytest.approx(angles.range_rate_mps[1, 2], rel=1e-12)


# --- the test's own frame helper ----------------------------------------------------------------

def test_gmst_helper_matches_sgp4_gstime():
    from sgp4.propagation import gstime
    jd, fr = _jd_split(np.array([START_2028_NS, START_2028_NS + 12345 * NS]))
    for j, f, ours in zip(jd, fr, _gmst_rad(jd, fr)):
        assert abs(ours - gstime(j + f)) < 1e-9


# --- contact windows against brute force --------------------------------------------------------

def _check_against_brute_force(state_fn, stations, start_ns, end_ns, windows):
    by_station = {st.name: [w for w in windows if w.station == st.name] for st in stations}
    total = 0
    for station in stations:
        times, passes = _brute_force_passes(state_fn, station, start_ns, end_ns)
        predicted = by_station[station.name]
        assert len(predicted) == len(passes), f"{station.name}: {len(predicted)} windows vs {len(passes)} passes"
        for window, brute in zip(predicted, passes):
            # within the 1 s samples that bracket the brute-force crossing (give or take the tolerance) ...
            tol_ns = 1_000_000
            if not window.aos_clipped:
                assert times[brute["aos_sample"] - 1] - tol_ns < window.aos_ns <= times[brute["aos_sample"]] + tol_ns
            if not window.los_clipped:
                assert times[brute["los_sample"]] - tol_ns <= window.los_ns < times[brute["los_sample"] + 1] + tol_ns
            # ... and within the tolerance (1 ms) + the 1 ms brute-force sampling of the true crossing
            assert abs(window.aos_ns - brute["aos_ns"]) <= two_milliseconds * NS, station.name
            assert abs(window.los_ns - brute["los_ns"]) <= two_milliseconds * NS, station.name
            assert abs(window.max_elevation_rad - brute["max_elevation_rad"]) < one_hundredth_degree
            assert window.max_elevation_rad >= brute["max_elevation_rad"] - 1e-9   # a true maximum, not a sample
            assert abs(window.max_elevation_ns - brute["max_elevation_ns"]) < 0.05 * NS
            assert window.elevation_mask_rad == station.elevation_mask_rad
            # the true crossing lies within 1 ms of the reported time: elevation changes side across it
            if not window.aos_clipped:
                below, above = _elevation(state_fn, station, [window.aos_ns - 1_500_000, window.aos_ns + 1_500_000])
                assert below < station.elevation_mask_rad <= above
            total += 1
    return total


@pytest.mark.parametrize("satellite", ["walker_700km_53deg", "vallado_28057"])
def test_one_day_of_windows_matches_one_second_brute_force(satellite):
    if satellite == "walker_700km_53deg":
        satrec, start_ns = _walker_satrec(raan_deg=40.0, mean_anomaly_deg=75.0), START_2028_NS
    else:
        satrec, start_ns = _vallado_tle_satrec("28057")
    state_fn = _sgp4_state_fn(satrec)
    stations = load_ground_stations(STATIONS_FILE) + load_ground_stations(POLAR_STATIONS_FILE)
    windows = predict_contacts(state_fn, stations, start_ns, start_ns + DAY_NS)
    assert [w.aos_ns for w in windows] == sorted(w.aos_ns for w in windows)
    assert all(w.aos_ns <= w.max_elevation_ns <= w.los_ns for w in windows)
    inside = [w for w in windows if w.aos_ns > start_ns and w.los_ns < start_ns + DAY_NS]
    assert not any(w.aos_clipped or w.los_clipped for w in inside)
    total = _check_against_brute_force(state_fn, stations, start_ns, start_ns + DAY_NS, windows)
    assert total == len(windows) and total >= 20


def test_grazing_pass_shorter_than_the_coarse_step_is_found():
    state_fn = _sgp4_state_fn(_walker_satrec(raan_deg=40.0, mean_anomaly_deg=75.0))
    station = load_ground_stations(STATIONS_FILE)[2]
    reference = predict_contacts(state_fn, [station], START_2028_NS, START_2028_NS + DAY_NS)[0]
    peak_ns = reference.max_elevation_ns
    # mask at the elevation 3.3 s either side of the peak: about 6.6 s above the mask in all
    side = _elevation(state_fn, station, [peak_ns - 3_300_000_000, peak_ns + 3_300_000_000])
    grazing = GroundStation("grazing", station.latitude_rad, station.longitude_rad, station.altitude_m,
                            float(side.max()))
    coarse_step_s = 20.0
    start_ns = peak_ns - 30 * 20 * NS - 10 * NS           # grid samples fall 10 s either side of the peak
    end_ns = start_ns + 3600 * NS
    grid = np.arange(start_ns, end_ns + 1, 20 * NS)
    assert np.all(_elevation(state_fn, grazing, grid) < grazing.elevation_mask_rad), "the grid alone sees it"
    windows = predict_contacts(state_fn, [grazing], start_ns, end_ns, coarse_step_s=coarse_step_s)
    assert len(windows) == 1
    assert 4.0 < windows[0].duration_s < 8.0
    assert _check_against_brute_force(state_fn, [grazing], start_ns, end_ns, windows) == 1


def _profile_state_fn(station, elevation_fn, elevation_rate_fn, distance_m=1500e3):
    """A 'satellite' due north of ``station`` at a fixed distance with a prescribed elevation."""
    _east, north, up = station.enu_axes()

    def state_fn(times_ns):
        t = (np.asarray(times_ns) - START_2028_NS) / NS
        el, rate = elevation_fn(t)[:, None], elevation_rate_fn(t)[:, None]
        pos = station.position_ecef() + distance_m * (np.cos(el) * north + np.sin(el) * up)
        vel = distance_m * rate * (-np.sin(el) * north + np.cos(el) * up)
        return pos, vel
    return state_fn


def test_short_dip_below_the_mask_between_coarse_samples_splits_the_window():
    station = _station(mask_deg=10.0)
    depth, width = math.radians(25.0), 3.0              # 30 deg -> 5 deg for ~4 s around t = 110 s
    elevation = lambda t: math.radians(30.0) - depth * np.exp(-((t - 110.0) / width) ** 2)  # noqa: E731
    rate = lambda t: depth * 2.0 * (t - 110.0) / width**2 * np.exp(-((t - 110.0) / width) ** 2)  # noqa: E731
    state_fn = _profile_state_fn(station, elevation, rate)
    windows = predict_contacts(state_fn, [station], START_2028_NS, START_2028_NS + 300 * NS)
    assert len(windows) == 2
    first, second = windows
    assert first.aos_clipped and first.aos_ns == START_2028_NS and not first.los_clipped
    assert second.los_clipped and second.los_ns == START_2028_NS + 300 * NS and not second.aos_clipped
    half_gap = width * math.sqrt(math.log(depth / (math.radians(30.0) - math.radians(10.0))))
    assert abs((first.los_ns - START_2028_NS) / NS - (110.0 - half_gap)) < 1e-3
    assert abs((second.aos_ns - START_2028_NS) / NS - (110.0 + half_gap)) < 1e-3
    assert first.max_elevation_rad == pytest.approx(math.radians(30.0), abs=1e-9)


def test_always_visible_satellite_gives_one_window_clipped_at_both_ends():
    station = _station(mask_deg=5.0)
    state_fn = _profile_state_fn(station, lambda t: math.radians(40.0) + 0.1 * np.sin(t / 500.0),
                                 lambda t: 0.1 / 500.0 * np.cos(t / 500.0))
    end_ns = START_2028_NS + 3000 * NS
    (window,) = predict_contacts(state_fn, [station], START_2028_NS, end_ns)
    assert (window.aos_ns, window.los_ns, window.aos_clipped, window.los_clipped) == (START_2028_NS, end_ns, True, True)
    assert window.max_elevation_rad == pytest.approx(math.radians(40.0) + 0.1, abs=1e-9)
    assert abs((window.max_elevation_ns - START_2028_NS) / NS - 500.0 * math.pi / 2) < 1e-2


def test_windows_in_progress_at_the_start_and_end_are_clipped():
    state_fn = _sgp4_state_fn(_walker_satrec(raan_deg=40.0, mean_anomaly_deg=75.0))
    stations = load_ground_stations(STATIONS_FILE)
    full = predict_contacts(state_fn, stations, START_2028_NS, START_2028_NS + DAY_NS)
    first, last = full[2], full[-3]
    start_ns = first.max_elevation_ns + 60 * NS          # after the first pass's peak: elevation falling
    end_ns = last.aos_ns + 30 * NS
    clipped = predict_contacts(state_fn, stations, start_ns, end_ns)
    head, tail = clipped[0], clipped[-1]
    assert head.station == first.station and head.aos_clipped and head.aos_ns == start_ns
    assert not head.los_clipped and abs(head.los_ns - first.los_ns) <= two_milliseconds * NS
    # the peak was before the start: the highest point of the clipped window is its start
    assert head.max_elevation_ns == start_ns
    assert head.max_elevation_rad == pytest.approx(
        float(_elevation(state_fn, stations[[s.name for s in stations].index(head.station)], [start_ns])[0]), abs=1e-12)
    assert tail.station == last.station and tail.los_clipped and tail.los_ns == end_ns and not tail.aos_clipped
    assert abs(tail.aos_ns - last.aos_ns) <= two_milliseconds * NS
    inner_full = [w for w in full if start_ns < w.aos_ns and w.los_ns < end_ns]
    inner_clipped = [w for w in clipped if not (w.aos_clipped or w.los_clipped)]
    assert [(w.station, round(w.aos_ns / 1e7), round(w.los_ns / 1e7)) for w in inner_clipped] == \
        [(w.station, round(w.aos_ns / 1e7), round(w.los_ns / 1e7)) for w in inner_full]
    assert _check_against_brute_force(state_fn, stations, start_ns, end_ns, clipped) == len(clipped)


def test_many_satellites_match_one_at_a_time():
    satrecs = [_walker_satrec(raan_deg=raan, mean_anomaly_deg=anomaly)
               for raan, anomaly in [(0, 0), (45, 30), (90, 60)]]
    stations = load_ground_stations(STATIONS_FILE)
    end_ns = START_2028_NS + DAY_NS // 4
    many = predict_contacts_many(_many_state_fn(satrecs), stations, START_2028_NS, end_ns)
    assert len(many) == 3
    for satrec, windows in zip(satrecs, many):
        single = predict_contacts(_sgp4_state_fn(satrec), stations, START_2028_NS, end_ns)
        assert [(w.station, w.aos_clipped, w.los_clipped) for w in windows] == \
            [(w.station, w.aos_clipped, w.los_clipped) for w in single]
        for a, b in zip(windows, single):
            assert abs(a.aos_ns - b.aos_ns) <= two_milliseconds * NS
            assert abs(a.los_ns - b.los_ns) <= two_milliseconds * NS
            assert a.max_elevation_rad == pytest.approx(b.max_elevation_rad, abs=1e-7)


def test_many_satellites_interpolated_refinement_is_microsecond_accurate():
    satrecs = [_walker_satrec(raan_deg=raan, mean_anomaly_deg=anomaly) for raan, anomaly in [(10, 20), (200, 300)]]
    stations = load_ground_stations(STATIONS_FILE)
    end_ns = START_2028_NS + DAY_NS // 2
    many = predict_contacts_many(_many_state_fn(satrecs), stations, START_2028_NS, end_ns, tolerance_s=1e-7)
    fifty_microseconds_ns = 50_000
    for satrec, windows in zip(satrecs, many):
        single = predict_contacts(_sgp4_state_fn(satrec), stations, START_2028_NS, end_ns, tolerance_s=1e-7)
        assert len(windows) == len(single) > 0
        for a, b in zip(windows, single):
            assert abs(a.aos_ns - b.aos_ns) < fifty_microseconds_ns and abs(a.los_ns - b.los_ns) < fifty_microseconds_ns
            assert abs(a.max_elevation_rad - b.max_elevation_rad) < 1e-7   # ~ a few mm at 1000 km


def test_passes_of_a_700km_53deg_orbit_last_minutes_as_in_the_design():
    """DESIGN.md: 700 km Walker shell, 7 sites, 10 deg mask -> passes of about 7-9 minutes."""
    state_fn = _sgp4_state_fn(_walker_satrec(raan_deg=40.0, mean_anomaly_deg=75.0))
    windows = predict_contacts(state_fn, load_ground_stations(STATIONS_FILE), START_2028_NS, START_2028_NS + DAY_NS)
    longest_min = max(w.duration_s for w in windows) / 60.0
    assert 5.0 < longest_min < 12.0
    assert all(w.max_elevation_rad >= w.elevation_mask_rad for w in windows)


def test_bad_search_arguments_are_rejected():
    state_fn = _sgp4_state_fn(_walker_satrec())
    stations = [_station()]
    with pytest.raises(ConfigurationError, match="end_ns"):
        predict_contacts(state_fn, stations, START_2028_NS, START_2028_NS)
    with pytest.raises(ConfigurationError, match="coarse_step_s"):
        predict_contacts(state_fn, stations, START_2028_NS, START_2028_NS + DAY_NS, coarse_step_s=0.0)
    with pytest.raises(ConfigurationError, match="tolerance_s"):
        predict_contacts(state_fn, stations, START_2028_NS, START_2028_NS + DAY_NS, tolerance_s=30.0)
    with pytest.raises(ConfigurationError, match="unique"):
        predict_contacts(state_fn, [_station("a"), _station("a")], START_2028_NS, START_2028_NS + DAY_NS)
    with pytest.raises(ConfigurationError, match="empty"):
        predict_contacts(state_fn, [], START_2028_NS, START_2028_NS + DAY_NS)
    with pytest.raises(ValueError, match=r"expected \(2, 3\)"):
        predict_contacts(lambda t: (np.zeros((len(t), 2)), np.zeros((len(t), 2))), stations,
                         START_2028_NS, START_2028_NS + 20 * NS)


def test_contact_window_duration():
    window = ContactWindow("x", 10 * NS, 70 * NS + NS // 2, 40 * NS, 0.5, 0.17)
    assert window.duration_s == 60.5 and not window.aos_clipped and not window.los_clipped


# --- station files -------------------------------------------------------------------------

def test_station_files_load():
    stations = load_ground_stations(STATIONS_FILE)
    assert len(stations) == 7 and len({s.name for s in stations}) == 7
    assert all(abs(s.latitude_rad) < math.radians(40.0) for s in stations)
    assert all(s.elevation_mask_rad == pytest.approx(math.radians(10.0)) for s in stations)
    polar = load_ground_stations(POLAR_STATIONS_FILE)
    assert [s.name for s in polar] == ["svalbard", "inuvik", "troll"]
    assert polar[0].latitude_rad == pytest.approx(math.radians(78.230))
    assert polar[2].latitude_rad == pytest.approx(math.radians(-72.012))
    assert all(math.radians(5.0) <= s.elevation_mask_rad <= math.radians(10.0) for s in polar)


GOOD = {"name": "alpha", "latitude_deg": 10.0, "longitude_deg": 20.0, "altitude_m": 5.0, "elevation_mask_deg": 10.0}


def _write_stations(tmp_path, second_entry: str) -> Path:
    path = tmp_path / "stations.yaml"
    first = ", ".join(f"{k}: {v}" for k, v in GOOD.items())
    path.write_text(f"stations:\n  - {{{first}}}\n  - {second_entry}\n")
    return path


@pytest.mark.parametrize("entry, field, problem", [
    ("{name: beta, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}", "latitude_deg", "missing field"),
    ("{name: beta, latitude_deg: north, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}",
     "latitude_deg", "'north' is not a number"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 1, altitude_m: true, elevation_mask_deg: 10}",
     "altitude_m", "True is not a number"),
    ("{name: beta, latitude_deg: 90.5, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}",
     "latitude_deg", r"90.5 is outside the valid range \[-90, 90\]"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 360, altitude_m: 0, elevation_mask_deg: 10}",
     "longitude_deg", r"360.0 is outside the valid range \[-180, 360\)"),
    ("{name: beta, latitude_deg: 1, longitude_deg: -180.5, altitude_m: 0, elevation_mask_deg: 10}",
     "longitude_deg", "outside the valid range"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: -6}",
     "elevation_mask_deg", r"-6.0 is outside the valid range \[-5, 90\]"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 90.1}",
     "elevation_mask_deg", "outside the valid range"),
    ("{name: beta, latitude_deg: .nan, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}",
     "latitude_deg", "not a finite number"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 1, altitude_m: 6378137, elevation_mask_deg: 10}",
     "altitude_m", "outside the valid range"),
    ("{name: beta, latitude_deg: 1, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10, mask: 5}",
     "mask", "unknown field"),
])
def test_malformed_station_names_file_station_and_field(tmp_path, entry, field, problem):
    path = _write_stations(tmp_path, entry)
    with pytest.raises(ConfigurationError, match=problem) as info:
        load_ground_stations(path)
    message = str(info.value)
    assert str(path) in message and "stations[1] ('beta')" in message and field in message, message


def test_duplicate_station_names_are_rejected(tmp_path):
    entry = "{name: alpha, latitude_deg: 1, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}"
    path = _write_stations(tmp_path, entry)
    with pytest.raises(ConfigurationError, match=r"stations\[1\] \('alpha'\): name: duplicate station name 'alpha' "
                                                 r"\(first used by stations\[0\]\)") as info:
        load_ground_stations(path)
    assert str(path) in str(info.value)


def test_missing_name_is_reported_by_index(tmp_path):
    path = _write_stations(tmp_path, "{latitude_deg: 1, longitude_deg: 1, altitude_m: 0, elevation_mask_deg: 10}")
    with pytest.raises(ConfigurationError, match=r"stations\[1\]: missing field 'name'"):
        load_ground_stations(path)


@pytest.mark.parametrize("text, problem", [
    ("stations: []\n", "non-empty list"),
    ("stations: {name: a}\n", "non-empty list"),
    ("ground_stations: []\n", "expected a mapping with key 'stations'"),
    ("stations: [unclosed\n", "not valid YAML"),
    ("stations:\n  - just a string\n", r"stations\[0\]: expected a mapping"),
])
def test_malformed_file_structure(tmp_path, text, problem):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigurationError, match=problem) as info:
        load_ground_stations(path)
    assert str(path) in str(info.value)


def test_missing_file_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match="cannot read ground-station file"):
        load_ground_stations(tmp_path / "nope.yaml")


def test_direct_construction_validates_ranges():
    with pytest.raises(ConfigurationError, match="ground station 'x': latitude_deg"):
        GroundStation("x", math.radians(91.0), 0.0, 0.0, 0.0)
    with pytest.raises(ConfigurationError, match="elevation_mask_deg"):
        GroundStation("x", 0.0, 0.0, 0.0, math.radians(-10.0))
