"""Target trajectories on WGS 84: rhumb-line legs, coordinated turns and climbs (pure: numpy/numba).

Model
-----
A target's horizontal state is (lat, lon, heading psi, horizontal speed v) at height h above the
WGS 84 ellipsoid, moving by the exact kinematics on the ellipsoid

    dlat/dt = v cos(psi) / (M + h),   dlon/dt = v sin(psi) / ((N + h) cos(lat)),

(M, N the meridian and prime-vertical radii of curvature), so the ECEF velocity is exactly
``R_enu^T [v sin psi, v cos psi, dh/dt]``. Each leg toward waypoint k is flown as

1. a coordinated turn at constant rate omega = min(omega_max, g tan(bank_max) / v) toward the
   rhumb-line bearing of waypoint k (v the larger of the speeds at the leg start and at waypoint k,
   so the bank limit holds while the speed ramps during the turn), ended when the heading equals
   that bearing (secant root of the bearing error inside the last integration step); at most one
   full circle (a waypoint inside the turn circle cannot be reached: the target then flies on
   straight at the heading it has);
2. a rhumb line (constant heading) to the waypoint, the distance taken from the exact rhumb-line
   length on the ellipsoid (isometric latitude, meridian arc) scaled to the flight height.

Concurrently in the leg, the speed ramps to the waypoint's speed at ``max_accel_mps2`` and the height
changes toward the waypoint's height with a trapezoidal climb rate: ramped up and down at
``max_vertical_accel_mps2`` (so the velocity is continuous: no knot has a velocity jump), the
gentlest such profile that would reach the height at the waypoint if the leg had no turn (so, with
a turn, a little before it), its rate clipped to ``max_climb_rate_mps`` (it then arrives later, and
the next climb starts when this one ends). Heights move monotonically from one waypoint height to
the next, so they never overshoot. Waypoints are flown over (the turn starts at
the waypoint), so a target passes within a few metres of every reachable waypoint (1.2 m at most on
the test route): the rhumb distance at altitude uses the mean of the heights at the turn exit and
at the waypoint.

Evaluation
----------
The motion is integrated once (at construction) with classical Runge-Kutta 4 on (lat, lon), the
heading, speed and height being closed-form in time within a step. Steps are <= 30 s on straight
legs and turn <= 0.1 rad of heading (<= 2 s) in turns; every change of manoeuvre (turn start/stop,
end of the speed ramp, each phase of a climb) is a step boundary, where the height is exact
(piecewise quadratic in time, which the cubic interpolation reproduces). Queries interpolate ECEF position with cubic Hermite
polynomials on the knots' ECEF positions and velocities; the velocity returned is the derivative of
that polynomial, so it is exactly the time derivative of the returned position.
Interpolation error: for a turn of radius r with heading step dpsi per knot the error bound is
r dpsi^4 / 384 (1.3 mm for r = 5 km, dpsi = 0.1); for straight legs at 30 s spacing it is ~1e-7 m.
RK4 error against a 10x finer integration: 0.2 mm on the 26-minute test route (tested to < 1 m).

Lat/lon/alt are recomputed from the interpolated ECEF position; speed, heading and climb rate
from the interpolated ECEF velocity in the local East-North-Up axes, so every field is consistent.
The integration kernel is numba-compiled (``cache=True``); its plain-Python twin is
``_fly_waypoints_python`` (tested to agree).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, E2, ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from sbamti.radar.target_classes import STANDARD_GRAVITY_MPS2

NANOSECONDS_PER_SECOND = 1_000_000_000

STRAIGHT_STEP_S = 30.0
"""Largest integration step (and knot spacing) on a straight leg, s."""
TURN_STEP_RAD = 0.1
"""Largest heading change per integration step in a turn, rad."""
TURN_STEP_MAX_S = 2.0
"""Largest integration step in a turn, s."""

_E = math.sqrt(E2)
_E4 = E2 * E2
_E6 = E2 * E2 * E2
# Meridian arc length m(lat) = a (1 - e^2) [A lat - B/2 sin 2lat + C/4 sin 4lat - D/6 sin 6lat], the classical
# series to e^6 (A = 1 + 3/4 e^2 + 45/64 e^4 + 175/256 e^6, B = 3/4 e^2 + 15/16 e^4 + 525/512 e^6,
# C = 15/64 e^4 + 105/256 e^6, D = 35/512 e^6; equivalent to Snyder, USGS PP 1395, eq. 3-21); error < 1 mm.
_M0 = 1.0 + 0.75 * E2 + 45.0 / 64.0 * _E4 + 175.0 / 256.0 * _E6
_M2 = 0.375 * E2 + 15.0 / 32.0 * _E4 + 525.0 / 1024.0 * _E6
_M4 = 15.0 / 256.0 * _E4 + 105.0 / 1024.0 * _E6
_M6 = 35.0 / 3072.0 * _E6
_TWO_PI = 2.0 * math.pi


# --- scalar kernel helpers (numba-compiled below; plain Python in the twin) ----------------------

def _wrap_pi(x):
    return (x + math.pi) % _TWO_PI - math.pi


def _isometric_lat(lat):
    s = math.sin(lat)
    return math.atanh(s) - _E * math.atanh(_E * s)


def _meridian_arc(lat):
    return A_M * (1.0 - E2) * (_M0 * lat - _M2 * math.sin(2.0 * lat) + _M4 * math.sin(4.0 * lat)
                               - _M6 * math.sin(6.0 * lat))


def _rhumb_inverse(lat1, lon1, lat2, lon2):
    """Bearing (rad, clockwise from north) and length (m) of the rhumb line on the ellipsoid."""
    dq = _isometric_lat(lat2) - _isometric_lat(lat1)
    dlon = _wrap_pi(lon2 - lon1)
    bearing = math.atan2(dlon, dq)
    dlat = lat2 - lat1
    if abs(dlat) < 1e-10:
        s = math.sin(lat1)
        n = A_M / math.sqrt(1.0 - E2 * s * s)
        return bearing, abs(dlon) * n * math.cos(lat1)
    return bearing, abs((_meridian_arc(lat2) - _meridian_arc(lat1)) / math.cos(bearing))


def _rates(lat, psi, v, h):
    s = math.sin(lat)
    w = 1.0 - E2 * s * s
    n = A_M / math.sqrt(w)
    m = n * (1.0 - E2) / w
    return v * math.cos(psi) / (m + h), v * math.sin(psi) / ((n + h) * math.cos(lat))


def _profile(t, t0, x0, rate, t_rate):
    """x0 + rate * clip(t - t0, 0, t_rate): the speed ramp."""
    dt = t - t0
    dt = min(dt, t_rate)
    dt = max(dt, 0.0)
    return x0 + rate * dt


def _height(t, vt0, vh0, vc, vtau, vT):
    """Height of a trapezoidal climb profile: rate ramps 0 -> vc in vtau, holds, ramps to 0 at vt0 + vT."""
    s = t - vt0
    if s <= 0.0 or vT <= 0.0:
        return vh0
    h_end = vh0 + vc * (vT - vtau)
    if s >= vT:
        return h_end
    if vtau <= 0.0:
        return vh0 + vc * s
    a = vc / vtau
    if s < vtau:
        return vh0 + 0.5 * a * s * s
    if s <= vT - vtau:
        return vh0 + 0.5 * vc * vtau + vc * (s - vtau)
    r = vT - s
    return h_end - 0.5 * a * r * r


def _climb_rate(t, vt0, vc, vtau, vT):
    """Climb rate (m/s) of the profile of :func:`_height`."""
    s = t - vt0
    if s <= 0.0 or s >= vT or vT <= 0.0:
        return 0.0
    if vtau <= 0.0:
        return vc
    if s < vtau:
        return vc * s / vtau
    if s <= vT - vtau:
        return vc
    return vc * (vT - s) / vtau


def _plan_climb(dh, available, climb_max, vaccel):
    """Cruise rate (signed), ramp time and duration of a climb by ``dh`` (m).

    The gentlest trapezoid that ends within ``available`` s, with the rate clipped to ``climb_max``
    (the climb then takes longer); the fastest one (triangle or trapezoid at ``climb_max``) when no
    profile fits in ``available``.
    """
    mag = abs(dh)
    if mag <= 0.0:
        return 0.0, 0.0, 0.0
    if available > 0.0 and mag <= 0.25 * vaccel * available * available:
        c = 0.5 * (vaccel * available - math.sqrt(max(vaccel * vaccel * available * available
                                                      - 4.0 * vaccel * mag, 0.0)))
        c = max(c, mag / available)
    else:
        c = math.sqrt(vaccel * mag)
    c = min(c, climb_max)
    tau = c / vaccel
    duration = mag / c + tau
    return (c if dh > 0.0 else -c), tau, duration


def _rk4_step(t, dt, lat, lon, psi0, t_psi, omega, leg_t0, v0, accel, t_accel, vt0, vh0, vc, vtau, vT):
    """One RK4 step of (lat, lon) from t to t + dt; heading, speed and height closed-form in time."""
    k1a, k1o = _rates(lat, psi0 + omega * (t - t_psi), _profile(t, leg_t0, v0, accel, t_accel),
                      _height(t, vt0, vh0, vc, vtau, vT))
    tm = t + 0.5 * dt
    psim = psi0 + omega * (tm - t_psi)
    vm = _profile(tm, leg_t0, v0, accel, t_accel)
    hm = _height(tm, vt0, vh0, vc, vtau, vT)
    k2a, k2o = _rates(lat + 0.5 * dt * k1a, psim, vm, hm)
    k3a, k3o = _rates(lat + 0.5 * dt * k2a, psim, vm, hm)
    te = t + dt
    k4a, k4o = _rates(lat + dt * k3a, psi0 + omega * (te - t_psi), _profile(te, leg_t0, v0, accel, t_accel),
                      _height(te, vt0, vh0, vc, vtau, vT))
    return (lat + dt / 6.0 * (k1a + 2.0 * k2a + 2.0 * k3a + k4a),
            lon + dt / 6.0 * (k1o + 2.0 * k2o + 2.0 * k3o + k4o))


def _next_event(t, step_end, leg_t0, t_accel, vt0, vtau, vT, t_end):
    """The step end cut at the first manoeuvre change (speed ramp end, climb phase changes, t_end)."""
    for ev in (leg_t0 + t_accel, vt0, vt0 + vtau, vt0 + vT - vtau, vt0 + vT, t_end):
        if t < ev < step_end:
            step_end = ev
    return step_end


def _push(out, count, t, lat, lon, psi, leg_t0, v0, accel, t_accel, vt0, vh0, vc, vtau, vT):
    """Append the knot at ``t``; returns the new count, or -1 when ``out`` is full."""
    if count < 0 or count >= out.shape[0]:
        return -1
    out[count, 0] = t
    out[count, 1] = lat
    out[count, 2] = lon
    out[count, 3] = _height(t, vt0, vh0, vc, vtau, vT)
    out[count, 4] = psi
    out[count, 5] = _profile(t, leg_t0, v0, accel, t_accel)
    out[count, 6] = _climb_rate(t, vt0, vc, vtau, vT)
    return count + 1


def _fly_waypoints_python(wlat, wlon, walt, wspd, omega_max, tan_bank, climb_max, accel_max, vaccel, t_end,
                          continue_after, out):
    """Integrate a waypoint route; fills ``out`` rows (t, lat, lon, h, psi, v, climb) and returns the count.

    Returns -1 when ``out`` is too small (the caller retries with more rows). Times are s from the start.
    The climb toward a waypoint's height starts at the leg start, or when the previous climb ends if
    that is later (each climb is a trapezoid of the rate, so heights stay between waypoint heights).
    """
    n_wp = wlat.shape[0]
    lat = wlat[0]
    lon = wlon[0]
    v = wspd[0]
    psi = _rhumb_inverse(lat, lon, wlat[1], wlon[1])[0]
    t = 0.0
    # current climb profile: start, start height, signed cruise rate, ramp time, duration
    vt0 = 0.0
    vh0 = walt[0]
    vc = 0.0
    vtau = 0.0
    vT = 0.0
    accel = 0.0
    t_accel = 0.0
    leg_t0 = 0.0
    v0 = v
    count = _push(out, 0, t, lat, lon, psi, leg_t0, v0, accel, t_accel, vt0, vh0, vc, vtau, vT)
    legs = n_wp - 1
    if continue_after:
        legs = n_wp  # one more leg: straight on to t_end
    for k in range(1, legs + 1):
        if t >= t_end or count < 0:
            break
        last = k == n_wp
        leg_t0 = t
        v0 = v
        accel = 0.0
        t_accel = 0.0
        bearing = psi
        t_est = 0.0
        pending = False
        if not last:
            bearing, dist = _rhumb_inverse(lat, lon, wlat[k], wlon[k])
            dv = wspd[k] - v0
            accel = accel_max if dv >= 0.0 else -accel_max
            t_accel = abs(dv) / accel_max
            # leg time without the turn: speed ramp, then constant speed
            ramp_dist = v0 * t_accel + 0.5 * accel * t_accel * t_accel
            if dist <= ramp_dist:
                t_est = (-v0 + math.sqrt(max(v0 * v0 + 2.0 * accel * dist, 0.0))) / accel
            else:
                t_est = t_accel + (dist - ramp_dist) / wspd[k]
            pending = True
        # --- the leg, phase 1 (turn) then phase 2 (rhumb line); climbs start when due -----------
        for phase in range(2):
            if phase == 0:
                err = _wrap_pi(bearing - psi)
                if last or abs(err) <= 1e-12:
                    continue
                omega_mag = min(omega_max, STANDARD_GRAVITY_MPS2 * tan_bank / max(v0, wspd[k]))
                omega = omega_mag if err > 0.0 else -omega_mag
                dt_nom = min(TURN_STEP_RAD / omega_mag, TURN_STEP_MAX_S)
                t_phase_end = t_end
            else:
                psi = _wrap_pi(psi)
                omega = 0.0
                err = 0.0
                dt_nom = STRAIGHT_STEP_S
                if last:
                    t_phase_end = t_end
                else:
                    d_go = _rhumb_inverse(lat, lon, wlat[k], wlon[k])[1]
                    # flown at height: longer than on the ellipsoid
                    d_go *= 1.0 + 0.5 * (_height(t, vt0, vh0, vc, vtau, vT) + walt[k]) / A_M
                    v_now = _profile(t, leg_t0, v0, accel, t_accel)
                    ramp = max(leg_t0 + t_accel - t, 0.0)
                    ramp_dist = v_now * ramp + 0.5 * accel * ramp * ramp
                    if d_go <= ramp_dist and accel != 0.0:
                        tau = (-v_now + math.sqrt(max(v_now * v_now + 2.0 * accel * d_go, 0.0))) / accel
                    else:
                        tau = ramp + (d_go - ramp_dist) / wspd[k]
                    t_phase_end = min(t + tau, t_end)
            psi_t0 = psi
            phase_t0 = t
            turned = 0.0
            while count >= 0 and t < t_phase_end:
                if pending and t >= vt0 + vT:
                    # start the climb toward this leg's waypoint height
                    vh0 = _height(t, vt0, vh0, vc, vtau, vT)
                    vt0 = t
                    vc, vtau, vT = _plan_climb(walt[k] - vh0, t_est - (t - leg_t0), climb_max, vaccel)
                    pending = False
                step_end = _next_event(t, min(t + dt_nom, t_phase_end), leg_t0, t_accel, vt0, vtau, vT, t_end)
                dt = step_end - t
                lat_n, lon_n = _rk4_step(t, dt, lat, lon, psi_t0, phase_t0, omega, leg_t0, v0, accel, t_accel,
                                         vt0, vh0, vc, vtau, vT)
                psi_n = psi_t0 + omega * (step_end - phase_t0)
                done = False
                if phase == 0:
                    err_n = _wrap_pi(_rhumb_inverse(lat_n, lon_n, wlat[k], wlon[k])[0] - psi_n)
                    if err_n * err <= 0.0 and abs(err_n) < 1.0:
                        # aligned inside this step: secant with bisection fallback on the step length
                        lo = 0.0
                        hi = dt
                        e_lo = err
                        e_hi = err_n
                        tau = hi
                        for _ in range(60):
                            tau = hi - e_hi * (hi - lo) / (e_hi - e_lo)
                            if not lo < tau < hi:
                                tau = 0.5 * (lo + hi)
                            la, lo_ = _rk4_step(t, tau, lat, lon, psi_t0, phase_t0, omega, leg_t0, v0, accel,
                                                t_accel, vt0, vh0, vc, vtau, vT)
                            e_tau = _wrap_pi(_rhumb_inverse(la, lo_, wlat[k], wlon[k])[0]
                                             - (psi_t0 + omega * (t + tau - phase_t0)))
                            if abs(e_tau) < 1e-13 or hi - lo < 1e-10:
                                break
                            if e_tau * e_lo > 0.0:
                                lo = tau
                                e_lo = e_tau
                            else:
                                hi = tau
                                e_hi = e_tau
                        step_end = t + tau
                        lat_n, lon_n = _rk4_step(t, tau, lat, lon, psi_t0, phase_t0, omega, leg_t0, v0, accel,
                                                 t_accel, vt0, vh0, vc, vtau, vT)
                        psi_n = psi_t0 + omega * (step_end - phase_t0)
                        done = True
                    err = err_n
                    turned += abs(psi_n - psi)
                count = _push(out, count, step_end, lat_n, lon_n, psi_n, leg_t0, v0, accel, t_accel,
                              vt0, vh0, vc, vtau, vT)
                t = step_end
                lat = lat_n
                lon = lon_n
                psi = psi_n
                if done or turned > _TWO_PI:
                    break
            if t >= t_end or count < 0:
                break
        v = _profile(t, leg_t0, v0, accel, t_accel)
    return count


_njit = njit(cache=True)


def _compile_kernel():
    """Compile the kernel from the very code of its Python twin.

    Each helper's code is re-bound to a globals dict in which the helpers' names resolve to their
    numba-compiled copies, so ``_fly_waypoints_numba`` and ``_fly_waypoints_python`` share one source.
    """
    import types

    names = ("_wrap_pi", "_isometric_lat", "_meridian_arc", "_rhumb_inverse", "_rates", "_profile", "_height",
             "_climb_rate", "_plan_climb", "_rk4_step", "_next_event", "_push")
    glb = dict(globals())
    compiled = {}
    for name in names:
        fn = globals()[name]
        glb_fn = types.FunctionType(fn.__code__, glb, name, fn.__defaults__, fn.__closure__)
        compiled[name] = _njit(glb_fn)
        glb[name] = compiled[name]
    kernel_py = types.FunctionType(_fly_waypoints_python.__code__, glb, "_fly_waypoints_numba")
    return _njit(kernel_py)


_fly_waypoints_numba = _compile_kernel()


# --- states ------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class TargetStates:
    """Kinematic states of targets (one row per time or per target); NaN where a target is not present.

    Attributes
    ----------
    position_ecef, velocity_ecef : ndarray (n, 3)
        WGS 84 ECEF position (m) and velocity (m/s); the velocity is the time derivative of the position.
    lat_rad, lon_rad, alt_m : ndarray (n,)
        Geodetic latitude, longitude (rad) and height above the ellipsoid (m).
    speed_mps : ndarray (n,)
        Horizontal speed, m/s (norm of the East and North velocity components).
    heading_rad : ndarray (n,)
        Course over ground, rad, clockwise from north, in [0, 2 pi).
    climb_rate_mps : ndarray (n,)
        Up component of the velocity, m/s.
    """

    position_ecef: np.ndarray
    velocity_ecef: np.ndarray
    lat_rad: np.ndarray
    lon_rad: np.ndarray
    alt_m: np.ndarray
    speed_mps: np.ndarray
    heading_rad: np.ndarray
    climb_rate_mps: np.ndarray


def _states_from_ecef(position: np.ndarray, velocity: np.ndarray) -> TargetStates:
    lat, lon, alt = ecef_to_geodetic(position)
    enu = np.einsum("nij,nj->ni", enu_rotation(lat, lon), velocity)
    heading = np.mod(np.arctan2(enu[:, 0], enu[:, 1]), 2.0 * np.pi)
    return TargetStates(position, velocity, lat, lon, alt, np.hypot(enu[:, 0], enu[:, 1]), heading, enu[:, 2].copy())


def _knot_ecef(knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ECEF positions and velocities (k, 3) of kernel rows (t, lat, lon, h, psi, v, climb)."""
    lat, lon, h, psi, v, climb = (knots[:, j] for j in range(1, 7))
    position = geodetic_to_ecef(lat, lon, h)
    enu = np.stack([v * np.sin(psi), v * np.cos(psi), climb], axis=-1)
    velocity = np.einsum("nji,nj->ni", enu_rotation(lat, lon), enu)
    return position, velocity


def _hermite(t0, t1, p0, p1, v0, v1, tq):
    """Cubic Hermite position and its derivative; arrays broadcast over rows, p/v (n, 3)."""
    hdt = t1 - t0
    hdt = np.where(hdt > 0.0, hdt, 1.0)
    s = ((tq - t0) / hdt)[:, None]
    hdt = hdt[:, None]
    s2 = s * s
    s3 = s2 * s
    pos = (2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * hdt * v0 + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * hdt * v1
    vel = ((6 * s2 - 6 * s) * (p0 - p1)) / hdt + (3 * s2 - 4 * s + 1) * v0 + (3 * s2 - 2 * s) * v1
    return pos, vel


class Trajectory:
    """A precomputed target trajectory, evaluated at arbitrary UTC times.

    Parameters
    ----------
    start_ns : int
        UTC ns of the first knot (the target appears).
    knot_t_s : ndarray (k,)
        Knot times, s after ``start_ns``, non-decreasing (a repeated time marks a velocity jump).
    knot_position_ecef, knot_velocity_ecef : ndarray (k, 3)
        ECEF positions (m) and velocities (m/s) at the knots.
    end_ns : int, optional
        Exact UTC ns of the last knot when it is known as an integer (within 1 µs of the knot time).
    """

    def __init__(self, start_ns: int, knot_t_s: np.ndarray, knot_position_ecef: np.ndarray,
                 knot_velocity_ecef: np.ndarray, end_ns: int | None = None) -> None:
        self.start_ns = int(start_ns)
        self.knot_t_s = np.ascontiguousarray(knot_t_s, dtype=np.float64)
        self.knot_position_ecef = np.ascontiguousarray(knot_position_ecef, dtype=np.float64)
        self.knot_velocity_ecef = np.ascontiguousarray(knot_velocity_ecef, dtype=np.float64)
        if self.knot_t_s.ndim != 1 or self.knot_t_s.size < 2 or np.any(np.diff(self.knot_t_s) < 0.0):
            raise ConfigurationError("knot_t_s: expected >= 2 non-decreasing times")
        last_ns = self.start_ns + round(float(self.knot_t_s[-1]) * NANOSECONDS_PER_SECOND)
        # an exact end time (e.g. the scenario end) when given and within rounding of the last knot
        self.end_ns = int(end_ns) if end_ns is not None and abs(int(end_ns) - last_ns) <= 1000 else last_ns

    @property
    def duration_s(self) -> float:
        """Time from the first to the last knot, s."""
        return float(self.knot_t_s[-1])

    def state_at(self, utc_ns: np.ndarray) -> TargetStates:
        """States at UTC times ``utc_ns`` (int ns, any shape flattened to (n,)); NaN outside [start, end]."""
        utc = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64)).ravel()
        tq = (utc - self.start_ns).astype(np.float64) / NANOSECONDS_PER_SECOND
        k = self.knot_t_s.size
        idx = np.clip(np.searchsorted(self.knot_t_s, tq, side="right") - 1, 0, k - 2)
        pos, vel = _hermite(self.knot_t_s[idx], self.knot_t_s[idx + 1], self.knot_position_ecef[idx],
                            self.knot_position_ecef[idx + 1], self.knot_velocity_ecef[idx],
                            self.knot_velocity_ecef[idx + 1], tq)
        outside = (utc < self.start_ns) | (utc > self.end_ns)
        pos[outside] = np.nan
        vel[outside] = np.nan
        return _states_from_ecef(pos, vel)


def waypoint_trajectory(start_ns: int, waypoints, *, max_turn_rate_rad_s: float, max_climb_rate_mps: float,
                        max_bank_rad: float = math.radians(89.0), max_accel_mps2: float = 2.0,
                        max_vertical_accel_mps2: float = 1.0,
                        end_ns: int | None = None, continue_after_last: bool = False,
                        use_numba: bool = True) -> Trajectory:
    """A trajectory through ``waypoints`` with coordinated turns, speed ramps and limited climbs.

    Parameters
    ----------
    start_ns : int
        UTC ns at which the target is at the first waypoint, heading for the second.
    waypoints : sequence of (lat_deg, lon_deg, alt_m, speed_mps), at least 2
        Geodetic latitude/longitude in degrees, height above the ellipsoid in m, horizontal speed in m/s
        (the speed reached on the leg toward that waypoint).
    max_turn_rate_rad_s, max_bank_rad : float
        Turns are flown at min(max_turn_rate, g tan(max_bank) / v), v the larger of the speeds at the
        start and at the end of the leg.
    max_climb_rate_mps, max_accel_mps2, max_vertical_accel_mps2 : float
        Limits of the climb/descent rate (m/s), of the horizontal acceleration (m/s²) and of the
        vertical acceleration that starts and stops a climb (m/s²).
    end_ns : int, optional
        The trajectory ends at ``end_ns`` at the latest.
    continue_after_last : bool
        After the last waypoint, fly on straight (constant heading, speed and height) until ``end_ns``
        (required then). Otherwise the trajectory ends at the last waypoint.
    use_numba : bool
        Use the compiled kernel (default) or its plain-Python twin.

    See the module docstring for the flight model and its accuracy.
    """
    wp = np.asarray(waypoints, dtype=np.float64)
    if wp.ndim != 2 or wp.shape[1] != 4 or wp.shape[0] < 2:
        raise ConfigurationError(f"waypoints: expected >= 2 rows of (lat_deg, lon_deg, alt_m, speed_mps), "
                                 f"got shape {wp.shape}")
    if not np.all(np.isfinite(wp)):
        raise ConfigurationError("waypoints: values must be finite")
    if np.any(np.abs(wp[:, 0]) > 89.0):
        raise ConfigurationError(f"waypoints: latitude {wp[np.argmax(np.abs(wp[:, 0])), 0]!r} deg outside "
                                 "[-89, 89] (rhumb lines degenerate at the poles)")
    if np.any(wp[:, 3] <= 0.0):
        raise ConfigurationError("waypoints: speeds must be > 0 m/s")
    for name, value in (("max_turn_rate_rad_s", max_turn_rate_rad_s), ("max_climb_rate_mps", max_climb_rate_mps),
                        ("max_accel_mps2", max_accel_mps2), ("max_vertical_accel_mps2", max_vertical_accel_mps2)):
        if not value > 0.0:
            raise ConfigurationError(f"{name}: {value!r} must be > 0")
    if continue_after_last and end_ns is None:
        raise ConfigurationError("continue_after_last: requires end_ns")
    t_end = math.inf if end_ns is None else (int(end_ns) - int(start_ns)) / NANOSECONDS_PER_SECOND
    if not t_end > 0.0:
        raise ConfigurationError(f"end_ns: {end_ns} must be after start_ns {start_ns}")
    wlat = np.radians(wp[:, 0])
    wlon = np.radians(wp[:, 1])
    kernel = _fly_waypoints_numba if use_numba else _fly_waypoints_python
    cap = 256
    while True:
        out = np.empty((cap, 7))
        count = kernel(wlat, wlon, wp[:, 2].copy(), wp[:, 3].copy(), float(max_turn_rate_rad_s),
                       math.tan(max_bank_rad), float(max_climb_rate_mps), float(max_accel_mps2),
                       float(max_vertical_accel_mps2), t_end,
                       bool(continue_after_last), out)
        if count >= 0:
            break
        cap *= 4
    knots = out[:count]
    if count < 2:
        raise ConfigurationError("waypoints: the route has zero length")
    position, velocity = _knot_ecef(knots)
    return Trajectory(start_ns, knots[:, 0], position, velocity, end_ns)


class TrajectoryBank:
    """Many trajectories packed together, evaluated for all of them at one time, vectorised."""

    def __init__(self, trajectories: list[Trajectory]) -> None:
        self.count = len(trajectories)
        lengths = np.array([tr.knot_t_s.size for tr in trajectories], dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        self.start_ns = np.array([tr.start_ns for tr in trajectories], dtype=np.int64)
        self.end_ns = np.array([tr.end_ns for tr in trajectories], dtype=np.int64)
        if self.count:
            self.t = np.concatenate([tr.knot_t_s for tr in trajectories])
            self.p = np.concatenate([tr.knot_position_ecef for tr in trajectories])
            self.v = np.concatenate([tr.knot_velocity_ecef for tr in trajectories])
        else:
            self.t = np.empty(0)
            self.p = np.empty((0, 3))
            self.v = np.empty((0, 3))
        self._steps = int(np.ceil(np.log2(max(int(lengths.max()) if self.count else 1, 2)))) + 1

    def present(self, utc_ns: int) -> np.ndarray:
        """Indices of the trajectories defined at ``utc_ns``."""
        return np.flatnonzero((self.start_ns <= utc_ns) & (utc_ns <= self.end_ns))

    def states_at(self, utc_ns: int, which: np.ndarray) -> TargetStates:
        """States of trajectories ``which`` (indices, all present) at one UTC time."""
        which = np.asarray(which, dtype=np.int64)
        tq = (int(utc_ns) - self.start_ns[which]).astype(np.float64) / NANOSECONDS_PER_SECOND
        lo = self.offsets[which]
        hi = self.offsets[which + 1] - 2          # last usable interval start
        # vectorised binary search: largest j in [lo, hi] with t[j] <= tq (lo when none)
        a = lo.copy()
        b = hi.copy()
        for _ in range(self._steps):
            mid = (a + b + 1) // 2
            go = self.t[np.minimum(mid, self.t.size - 1)] <= tq
            a = np.where(go & (mid <= b), mid, a)
            b = np.where(go, b, mid - 1)
            b = np.maximum(b, a)
        j = a
        pos, vel = _hermite(self.t[j], self.t[j + 1], self.p[j], self.p[j + 1], self.v[j], self.v[j + 1], tq)
        return _states_from_ecef(pos, vel)
