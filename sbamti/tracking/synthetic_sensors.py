"""Sensors of the synthetic detection generator: satellites, measurement model, compiled geolocation.

Pure (numpy/numba, never rclpy); used by :mod:`sbamti.tracking.synthetic`.

Satellites
----------
By default three *frozen* satellites (:func:`satellites_around`): each fixed at one ECEF point of an
800 km circular orbit, with that orbit's velocity, broadside to the area from bearings 120 deg apart.
The geometry is constant over a run. Why not SGP4 orbits (:mod:`sbamti.orbit`): a LEO satellite sees
an area for ~10 min per pass, so three real satellites cannot give an hour of 10 s scans, which the
tracker's tests and benchmarks need; and a fixed geometry keeps each satellite's covariance
orientation fixed, so three look directions visibly constrain the altitude. Any object with
``satellite_id`` and ``states(utc_ns) -> (position (m, 3), velocity (m, 3))`` ECEF can replace them,
e.g. :class:`OrbitSatellite` (SGP4 through :func:`sbamti.orbit.states.compute_states`); the generator
recomputes the antenna frame for every dwell.

Measurement and geolocation
---------------------------
A target at ``p`` (velocity ``v``) seen from ``S`` (velocity ``V``), line of sight ``u = (p - S) / R``,
antenna axes x (along-track), y, z (boresight) as on board (:func:`sbamti.radar.beam.antenna_axes`):
range ``R``, cone angle ``asin(u.x)``, elevation ``asin(u.y)``, range rate ``u.(v - V)`` (both ECEF:
the time derivative of ``R``), each plus Gaussian noise of :class:`SensorModel`'s standard deviations.
The detection is then geolocated exactly as :func:`sbamti.detection.geolocation.geolocate` does on
board, with the onboard detector's cone-sine error ``cos(az) sigma_az``: the point of the range
circle (sphere and cone) at the assumed geodetic height, on the boresight's side of the nadir, and the
covariance ``J diag(sigma_R^2, sigma_s^2, sigma_h^2) J^T + 3/4 sigma_h^4 p_hh p_hh^T``.

The compiled kernel is ``geolocate``'s twin, ~100x faster: Newton's method on the circle angle starts
from the true point moved to the measured range, cone and assumed altitude (first order in all three,
second order in the altitude), so it takes two Vermeille evaluations instead of ~60 from a quarter
circle; the Jacobian ``J = dp/d(R, s, h)`` and ``p_hh`` are analytic (implicit function on the
circle; the Hessian of the geodetic height is ``n n^T / (M + h) + e e^T / (N + h)``, n and e the
north and east unit vectors, M and N the radii of curvature) where ``geolocate`` takes central
differences. Tested against ``geolocate`` (:func:`geolocate_rows`): positions within 10 um (measured
~1 um: the Newton stop is 1 um of height), covariances within 1e-6 relative (measured 3e-8).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, E2, OMEGA_EARTH_RAD_S, geodetic_to_ecef, vermeille_point
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.tracking.synthetic_targets import destination

EARTH_GM_M3_S2 = 3.986004418e14
"""WGS 84 gravitational parameter GM, m^3/s^2 (NIMA TR8350.2 Table 3.1): circular orbital speed."""
BASELINE_ELEVATION_BEAMWIDTH_RAD = 0.01062336089683327
"""Elevation beamwidth of the baseline radar (``RadarConfig().elevation_beamwidth_rad``), rad."""
_MAX_ITERATIONS = 100
_SURFACE_TOL_M = 1e-6
"""Newton stops when the point is this close to the assumed-altitude surface (height), m."""


# --- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SensorModel:
    """Measurement errors and geolocation assumptions of the synthetic detections.

    Attributes
    ----------
    range_std_m : float
        1-sigma slant-range error, m (15).
    cone_angle_std_rad : float
        1-sigma cone-angle (along-track azimuth) error, rad (2e-4).
    elevation_std_rad : float
        1-sigma of the reported elevation, rad; geolocation does not use it. Default 3.07e-3: the
        baseline radar's elevation beamwidth / sqrt(12), as the onboard statistical path reports.
    range_rate_std_mps : float
        1-sigma range-rate error, m/s (1).
    assumed_altitude_m, altitude_std_m : float
        Geolocation's assumed target height above WGS 84 and its 1-sigma, m (the onboard detector's
        defaults, 5000 and 5000).
    altitude_errors : {"onboard", "white"}
        How the assumed altitude relates to the truth (module docstring).
    false_alarm_speed_mps : float
        False alarms' range rate: the ground's at their position plus U(-this, +this), m/s (300).
    second_order_altitude : bool
        Add geolocate's second-order altitude term to the covariance (True, as on board).
    """

    range_std_m: float = 15.0
    cone_angle_std_rad: float = 2e-4
    elevation_std_rad: float = BASELINE_ELEVATION_BEAMWIDTH_RAD / math.sqrt(12.0)
    range_rate_std_mps: float = 1.0
    assumed_altitude_m: float = 5000.0
    altitude_std_m: float = 5000.0
    altitude_errors: str = "onboard"
    false_alarm_speed_mps: float = 300.0
    second_order_altitude: bool = True

    def __post_init__(self) -> None:
        for name in ("range_std_m", "cone_angle_std_rad", "elevation_std_rad", "range_rate_std_mps",
                     "altitude_std_m", "false_alarm_speed_mps"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigurationError(f"SensorModel.{name}: {value!r} must be finite and >= 0")
        if not (math.isfinite(self.assumed_altitude_m) and -500.0 <= self.assumed_altitude_m <= 30000.0):
            raise ConfigurationError(f"SensorModel.assumed_altitude_m: {self.assumed_altitude_m!r} outside "
                                     "[-500, 30000] m")
        if self.altitude_errors not in ("onboard", "white"):
            raise ConfigurationError(f"SensorModel.altitude_errors: {self.altitude_errors!r} must be "
                                     "'onboard' or 'white'")


@dataclass(frozen=True, eq=False)
class FixedSatellite:
    """A satellite frozen at one ECEF state (module docstring): position (3,) m, velocity (3,) m/s."""

    satellite_id: str
    position_ecef_m: np.ndarray
    velocity_ecef_mps: np.ndarray

    def states(self, utc_ns) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity (m, 3) at the times ``utc_ns`` (m,): the same state at every time."""
        m = np.atleast_1d(np.asarray(utc_ns)).size
        return (np.broadcast_to(np.asarray(self.position_ecef_m, dtype=np.float64), (m, 3)).copy(),
                np.broadcast_to(np.asarray(self.velocity_ecef_mps, dtype=np.float64), (m, 3)).copy())


class OrbitSatellite:
    """A real satellite: SGP4 states of one element set (:mod:`sbamti.orbit`), ECEF (ITRS, no EOP).

    ``OrbitSatellite(element_set)`` with an :class:`sbamti.orbit.element_set.ElementSet` (e.g. from
    ``load_element_sets(path).element_sets``); ``satellite_id`` is the set's. The area is seen only
    during passes: out of them a dwell has no detection (targets beyond the horizon or on the far side
    of the nadir are not visible; false alarms there are dropped the same way).
    """

    def __init__(self, element_set) -> None:
        self.satellite_id = element_set.satellite_id
        self._propagator = Propagator([element_set])

    def states(self, utc_ns) -> tuple[np.ndarray, np.ndarray]:
        """Position and velocity (m, 3) ECEF at the times ``utc_ns`` (m,) int UTC ns."""
        states = compute_states(self._propagator, np.atleast_1d(np.asarray(utc_ns, dtype=np.int64)),
                                attitude=False)
        return states.position_ecef_m[0], states.velocity_ecef_mps[0]


def satellites_around(centre_lat_deg: float, centre_lon_deg: float, *, count: int = 3,
                      altitude_m: float = 800e3, ground_range_m: float = 900e3, first_bearing_deg: float = 30.0,
                      prefix: str = "sbamti_") -> list[FixedSatellite]:
    """``count`` frozen satellites at ``altitude_m``, ``ground_range_m`` from the centre, bearings
    ``first_bearing_deg + k 360 / count`` (from the centre, clockwise from north).

    Each has the circular-orbit inertial speed ``sqrt(GM / r)``, horizontal and perpendicular to its
    line of sight to the centre (the area is broadside: cone angle 0 at the centre; odd ``k`` fly the
    other way), given in ECEF as ``v_inertial - omega x r``. Ids ``prefix001``, ``prefix002``, ...
    With the defaults the centre is seen at ~1247 km slant range and ~35.8 deg grazing.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigurationError(f"count: {count!r} must be an integer >= 1")
    if not 200e3 <= altitude_m <= 2000e3:
        raise ConfigurationError(f"altitude_m: {altitude_m!r} outside [200e3, 2000e3] m (LEO)")
    if not 100e3 <= ground_range_m <= 2500e3:
        raise ConfigurationError(f"ground_range_m: {ground_range_m!r} outside [100e3, 2500e3] m")
    lat0, lon0 = math.radians(centre_lat_deg), math.radians(centre_lon_deg)
    centre = geodetic_to_ecef(lat0, lon0, 0.0)
    out = []
    for k in range(count):
        bearing = math.radians(first_bearing_deg + 360.0 * k / count)
        lat, lon = destination(lat0, lon0, bearing, ground_range_m)
        position = geodetic_to_ecef(lat, lon, altitude_m)
        up = np.array([math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)])
        along = np.cross(up, centre - position)
        along *= (1.0 if k % 2 == 0 else -1.0) / np.linalg.norm(along)
        inertial = math.sqrt(EARTH_GM_M3_S2 / np.linalg.norm(position)) * along
        velocity = inertial - OMEGA_EARTH_RAD_S * np.array([-position[1], position[0], 0.0])
        out.append(FixedSatellite(f"{prefix}{k + 1:03d}", position, velocity))
    return out


# --- compiled kernels (scalar code on 3-tuples; numba inlines the helpers) --------------------------

@njit(cache=True, error_model="numpy")
def _height_up(x, y, z):  # pragma: no cover - compiled
    """Geodetic height (Vermeille 2002, the formula of ``ecef_to_geodetic``), the unit normal ``up``
    (the gradient of the height) and Vermeille's D and sqrt(D^2 + z^2) (latitude = 2 atan2(z, D + dz))."""
    k, d, dz = vermeille_point(x, y, z)
    f = k / (k + E2) / dz          # up = (cos lat cos lon, cos lat sin lon, sin lat) = (f x, f y, z / dz)
    return (k + E2 - 1.0) / k * dz, (f * x, f * y, z / dz), d, dz


@njit(cache=True, error_model="numpy")
def _dot(a, b):  # pragma: no cover - compiled
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


@njit(cache=True, error_model="numpy")
def _circle_point(c, rho, e1, e2, phi):  # pragma: no cover - compiled
    """Point of the range circle (centre c, radius rho, axes e1, e2) at angle phi, and d/dphi."""
    cp, sp = np.cos(phi), np.sin(phi)
    p = (c[0] + rho * (cp * e1[0] + sp * e2[0]), c[1] + rho * (cp * e1[1] + sp * e2[1]),
         c[2] + rho * (cp * e1[2] + sp * e2[2]))
    dp = (rho * (cp * e2[0] - sp * e1[0]), rho * (cp * e2[1] - sp * e1[1]), rho * (cp * e2[2] - sp * e1[2]))
    return p, dp


@njit(cache=True, error_model="numpy")
def _solve(c, rho, e1, e2, alt, phi):  # pragma: no cover - compiled
    """Root in (0, pi) of height(p(phi)) = alt: Newton from ``phi`` safeguarded by bisection (as geolocate).

    Returns (converged, phi, p, dp/dphi, height, up, D, dz) at the last evaluated point.
    """
    lo, hi = 0.0, np.pi
    if not (0.0 < phi < np.pi):
        phi = 0.5 * np.pi
    for _ in range(_MAX_ITERATIONS):
        p, dp = _circle_point(c, rho, e1, e2, phi)
        h, up, d, dz = _height_up(p[0], p[1], p[2])
        g = h - alt
        if abs(g) <= _SURFACE_TOL_M:
            return True, phi, p, dp, h, up, d, dz
        if not g >= 0.0:
            lo = phi
        else:
            hi = phi
        new = phi - g / _dot(up, dp)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if new == phi:
            break
        phi = new
    return False, phi, p, dp, h, up, d, dz


@njit(cache=True, error_model="numpy")
def _circle_derivatives(r, s, xh, e1, e2, phi, up, h):  # pragma: no cover - compiled
    """At the point of angle phi on the circle of (R, s), height h, normal up: the unit radial ``ch``,
    dp/dphi, dp/dR and dp/ds at fixed phi, g_phi = d height / dphi and g_phiphi.

    g_phiphi = dp^T (grad up) dp + up . d2p/dphi2 with d2p/dphi2 = -rho ch and the Hessian of the
    geodetic height grad up = n n^T / (M + h) + e e^T / (N + h) (north n, east e; M, N the meridian
    and prime-vertical radii of curvature at the point's latitude).
    """
    q = np.sqrt(1.0 - s * s)
    rho = r * q
    cp, sp = np.cos(phi), np.sin(phi)
    ch = (cp * e1[0] + sp * e2[0], cp * e1[1] + sp * e2[1], cp * e1[2] + sp * e2[2])
    dp = (rho * (cp * e2[0] - sp * e1[0]), rho * (cp * e2[1] - sp * e1[1]), rho * (cp * e2[2] - sp * e1[2]))
    a_r = (s * xh[0] + q * ch[0], s * xh[1] + q * ch[1], s * xh[2] + q * ch[2])
    k_s = r * s / q
    a_s = (r * xh[0] - k_s * ch[0], r * xh[1] - k_s * ch[1], r * xh[2] - k_s * ch[2])
    g_phi = _dot(up, dp)
    cl = np.sqrt(up[0] * up[0] + up[1] * up[1])
    wl = 1.0 - E2 * up[2] * up[2]
    n_rad = A_M / np.sqrt(wl)
    m_rad = n_rad * (1.0 - E2) / wl
    pe = (up[0] * dp[1] - up[1] * dp[0]) / cl
    pn = cl * dp[2] - up[2] * (up[0] * dp[0] + up[1] * dp[1]) / cl
    g_pp = pn * pn / (m_rad + h) + pe * pe / (n_rad + h) - rho * _dot(up, ch)
    return ch, dp, a_r, a_s, g_phi, g_pp


@njit(cache=True, error_model="numpy")
def _geolocate_into(i, sv, xh, e1, e2, r, s, alt, phi0, var_r, var_s, var_h, second_order, pos, cov, geo):
    """geolocate() of one detection into row i of pos (n, 3), cov (n, 3, 3), geo (3, n) (lat, lon, alt);
    returns validity (NaN rows when invalid).  # pragma: no cover - compiled"""
    ok = np.isfinite(r) and np.isfinite(s) and np.isfinite(alt) and r > 0.0 and abs(s) < 1.0
    if ok:
        q = np.sqrt(1.0 - s * s)
        rho = r * q
        c = (sv[0] + r * s * xh[0], sv[1] + r * s * xh[1], sv[2] + r * s * xh[2])
        ok, phi, p, dp, h, up, dd, dz = _solve(c, rho, e1, e2, alt, phi0)
        ok = ok and 0.0 < phi < np.pi and _dot(up, (p[0] - sv[0], p[1] - sv[1], p[2] - sv[2])) < 0.0
    if not ok:
        for a in range(3):
            pos[i, a] = np.nan
            geo[a, i] = np.nan
            for b in range(3):
                cov[i, a, b] = np.nan
        return False
    # Implicit function on the circle: dp/dx = dp/dx|phi - dp/dphi (up . dp/dx|phi) / (up . dp/dphi), x = R, s;
    # p_hh = p_phiphi phi_h^2 + p_phi phi_hh with phi_h = 1 / g_phi, phi_hh = -g_phiphi phi_h^3.
    ch, dp, a_r, a_s, g_phi, g_pp = _circle_derivatives(r, s, xh, e1, e2, phi, up, h)
    f_r = _dot(up, a_r) / g_phi
    f_s = _dot(up, a_s) / g_phi
    ih = 1.0 / g_phi
    jr = (a_r[0] - dp[0] * f_r, a_r[1] - dp[1] * f_r, a_r[2] - dp[2] * f_r)
    js = (a_s[0] - dp[0] * f_s, a_s[1] - dp[1] * f_s, a_s[2] - dp[2] * f_s)
    jh = (dp[0] * ih, dp[1] * ih, dp[2] * ih)
    w2 = 0.0
    p_hh = (0.0, 0.0, 0.0)
    if second_order:
        w2 = 0.75 * var_h * var_h
        k2 = -g_pp * ih * ih * ih
        p_hh = (-rho * ch[0] * ih * ih + dp[0] * k2, -rho * ch[1] * ih * ih + dp[1] * k2,
                -rho * ch[2] * ih * ih + dp[2] * k2)
    for a in range(3):
        pos[i, a] = p[a]
        for b in range(3):
            cov[i, a, b] = var_r * jr[a] * jr[b] + var_s * js[a] * js[b] + var_h * jh[a] * jh[b] + w2 * p_hh[a] * p_hh[b]
    geo[0, i] = 2.0 * np.arctan2(p[2], dd + dz)
    geo[1, i] = np.arctan2(p[1], p[0])
    geo[2, i] = h
    return True


@njit(cache=True, error_model="numpy")
def _row3(a, i):  # pragma: no cover - compiled
    return (a[i, 0], a[i, 1], a[i, 2])


@njit(parallel=True, cache=True, error_model="numpy")
def _geolocate_kernel(dwell, sat, x_hat, e1s, e2s, rng, cone, alt, phi0, sig_r, sig_s, sig_h, second_order,
                      pos, cov, geo, valid):  # pragma: no cover - compiled
    for i in prange(rng.size):
        d = dwell[i]
        valid[i] = _geolocate_into(i, _row3(sat, d), _row3(x_hat, d), _row3(e1s, d), _row3(e2s, d), rng[i],
                                   cone[i], alt[i], phi0[i], sig_r[i] ** 2, sig_s[i] ** 2, sig_h[i] ** 2,
                                   second_order, pos, cov, geo)


@njit(parallel=True, cache=True, error_model="numpy")
def _detect_kernel(dwell, target, column, truth_pos, truth_vel, fa_pos, fa_rate, noise, sat, sat_vel, x_hat,
                   y_hat, e1s, e2s, sigmas, assumed_alt, white, second_order,
                   pos, cov, geo, meas, valid):  # pragma: no cover - compiled
    """Measure and geolocate detections of many dwells.

    Row i belongs to dwell ``dwell[i]``; it is target ``target[i]`` at time column ``column[i]`` of the
    target-major truth (n, m, 3), or, when ``target[i] < 0``, false alarm ``column[i]`` (a point of
    ``fa_pos`` at the assumed altitude, measured without noise: its position is the random part; range
    rate of the ground there plus ``fa_rate``). ``noise[i]`` holds standard normals for range, cone
    angle, elevation, range rate and (white mode) altitude; ``sigmas`` their standard deviations.
    Fills pos, cov, geo (3, n), meas (4, n) = (range, cone angle, elevation, range rate) and valid
    (visible: boresight side of the nadir and above the horizon, and geolocated).
    """
    for i in prange(dwell.size):
        d = dwell[i]
        fa = target[i] < 0
        if fa:
            tp = _row3(fa_pos, column[i])
            tv = (0.0, 0.0, 0.0)
        else:
            tp = (truth_pos[target[i], column[i], 0], truth_pos[target[i], column[i], 1],
                  truth_pos[target[i], column[i], 2])
            tv = (truth_vel[target[i], column[i], 0], truth_vel[target[i], column[i], 1],
                  truth_vel[target[i], column[i], 2])
        sv, xh, e1, e2 = _row3(sat, d), _row3(x_hat, d), _row3(e1s, d), _row3(e2s, d)
        los = (tp[0] - sv[0], tp[1] - sv[1], tp[2] - sv[2])
        r = np.sqrt(_dot(los, los))
        s = _dot(los, xh) / r
        el = _dot(los, _row3(y_hat, d)) / r
        rr = (los[0] * (tv[0] - sat_vel[d, 0]) + los[1] * (tv[1] - sat_vel[d, 1])
              + los[2] * (tv[2] - sat_vel[d, 2])) / r
        cv = (los[0] - r * s * xh[0], los[1] - r * s * xh[1], los[2] - r * s * xh[2])
        phi = np.arctan2(_dot(cv, e2), _dot(cv, e1))
        h_true, up, _, _ = _height_up(tp[0], tp[1], tp[2])
        visible = 0.0 < phi < np.pi and _dot(up, los) < 0.0 and abs(s) < 1.0
        az = np.arcsin(s)
        if fa:
            rm, azm, elm, rrm, alt = r, az, np.arcsin(el), rr + fa_rate[column[i]], assumed_alt
        else:
            rm = r + sigmas[0] * noise[i, 0]
            azm = az + sigmas[1] * noise[i, 1]
            elm = np.arcsin(el) + sigmas[2] * noise[i, 2]
            rrm = rr + sigmas[3] * noise[i, 3]
            alt = h_true + sigmas[4] * noise[i, 4] if white else assumed_alt
        meas[0, i], meas[1, i], meas[2, i], meas[3, i] = rm, azm, elm, rrm
        # Start Newton where the true point moves for the measured (R, s, h): first order in all three,
        # second order in h (to ~1e-7 rad for kilometres of altitude offset: two height evaluations).
        _, _, a_r, a_s, g_phi, g_pp = _circle_derivatives(r, s, xh, e1, e2, phi, up, h_true)
        dh = alt - h_true
        phi0 = phi + ((dh - (rm - r) * _dot(up, a_r) - (np.sin(azm) - s) * _dot(up, a_s)) / g_phi
                      - 0.5 * g_pp * dh * dh / (g_phi * g_phi * g_phi))
        ok = _geolocate_into(i, sv, xh, e1, e2, rm, np.sin(azm), alt, phi0, sigmas[0] ** 2,
                             (np.cos(azm) * sigmas[1]) ** 2, sigmas[4] ** 2, second_order, pos, cov, geo)
        valid[i] = ok and visible


def circle_basis(sat_pos_ecef_m: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Axes e1, e2 (3,) of the range circles for ``boresight_side=+1`` (``geolocation`` module docstring)."""
    x_hat, _, z_hat = axes
    nadir = -sat_pos_ecef_m / np.linalg.norm(sat_pos_ecef_m)
    e1 = nadir - np.dot(nadir, x_hat) * x_hat
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(x_hat, e1)
    return e1, (e2 if np.dot(z_hat, e2) >= 0.0 else -e2)


def circle_bases(sat: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`circle_basis` of D dwells: sat (D, 3), axes (D, 3, 3) -> e1, e2 (D, 3)."""
    pairs = [circle_basis(s, a) for s, a in zip(sat, axes)]
    return (np.array([p[0] for p in pairs], dtype=np.float64).reshape(-1, 3),
            np.array([p[1] for p in pairs], dtype=np.float64).reshape(-1, 3))


def geolocate_rows(dwell, sat, axes, slant_range_m, cone_sine, *, assumed_altitude_m=0.0, range_std_m=0.0,
                   cone_sine_std=0.0, altitude_std_m=0.0, phi0=None, second_order_altitude: bool = True):
    """The compiled twin of :func:`~sbamti.detection.geolocation.geolocate`, for rows of many dwells.

    ``dwell`` (n,) indexes ``sat`` (D, 3) and ``axes`` (D, 3, 3) (rows x, y, z); the other arguments
    are scalars or (n,) as in ``geolocate``; ``phi0`` (n,) optional starting angles on the range
    circles (default: the quarter circle, as ``geolocate``). Boresight side +1.

    Returns
    -------
    position (n, 3), covariance (n, 3, 3), lat_lon_alt (3, n), valid (n,)
        NaN rows where invalid.
    """
    sat = np.ascontiguousarray(sat, dtype=np.float64).reshape(-1, 3)
    axes = np.asarray(axes, dtype=np.float64).reshape(-1, 3, 3)
    e1, e2 = circle_bases(sat, axes)
    n = np.asarray(slant_range_m).size

    def col(v):   # always a fresh writeable array: numba compiles readonly inputs separately
        return np.array(np.broadcast_to(np.asarray(v, dtype=np.float64), (n,)))

    pos, cov, geo, valid = np.empty((n, 3)), np.empty((n, 3, 3)), np.empty((3, n)), np.empty(n, dtype=bool)
    _geolocate_kernel(np.array(np.broadcast_to(dwell, (n,)), dtype=np.int64), sat,
                      np.ascontiguousarray(axes[:, 0]), e1, e2, col(slant_range_m), col(cone_sine),
                      col(assumed_altitude_m), col(np.nan if phi0 is None else phi0), col(range_std_m),
                      col(cone_sine_std), col(altitude_std_m), bool(second_order_altitude), pos, cov, geo, valid)
    return pos, cov, geo, valid
