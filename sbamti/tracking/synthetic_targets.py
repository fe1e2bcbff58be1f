"""Truth for synthetic tracker scenarios: canonical targets, random populations, fast truth queries.

Pure (numpy/numba, never rclpy). The flight model is the radar simulator's own
(:mod:`sbamti.radar.trajectory`): every target is a :class:`~sbamti.radar.trajectory.Trajectory`
built by :func:`~sbamti.radar.trajectory.waypoint_trajectory` (rhumb-line legs flown at constant
speed and height on WGS 84, coordinated turns at a constant rate between them, cubic Hermite
interpolation with exact velocities), and every result is a :class:`sbamti.radar.scenario.Scenario`
(one :class:`~sbamti.radar.scenario.Area` for false alarms and beam pointing, ids from 1), so the
same truth drives the radar simulator, this generator and the tracker's evaluation.

A coordinated turn at lateral acceleration ``n g`` and speed ``v`` has the rate ``omega = n g / v``
(``g`` = :data:`~sbamti.radar.target_classes.STANDARD_GRAVITY_MPS2`); it is passed to
``waypoint_trajectory`` as its turn-rate limit with an 89 deg bank limit (``g tan(89 deg)`` = 57 g
never binds), so every turn is flown at exactly ``n g``. The ECEF acceleration adds the
curvature of constant-height flight, ``v^2 / (R + h)`` ~ 0.01 m/s^2 at 250 m/s.

:class:`TruthSampler` evaluates all targets at many times in one compiled pass (the per-dwell
path of the generator); its reference twin is :meth:`sbamti.radar.scenario.Scenario.truth_at`
(tests compare them).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, E2, geodetic_to_ecef
from sbamti.radar.scenario import MEAN_EARTH_RADIUS_M, Area, Scenario, ScenarioTarget
from sbamti.radar.target_classes import STANDARD_GRAVITY_MPS2, TARGET_CLASSES
from sbamti.radar.trajectory import (  # the private two: the kernel's own rhumb-line series
    NANOSECONDS_PER_SECOND,
    Trajectory,
    TrajectoryBank,
    _isometric_lat,
    _meridian_arc,
    waypoint_trajectory,
)

_BANK_LIMIT_RAD = math.radians(89.0)
"""Bank limit handed to waypoint_trajectory: g tan(89 deg) = 57 g, so the turn-rate limit binds."""
_CLIMB_RATE_MPS = 50.0
"""Climb-rate limit handed to waypoint_trajectory (every target here keeps one height: it never binds)."""
_LEAD_IN_S = 60.0
"""Extra flight before the scenario start for trajectories re-timed after construction, s."""


def _check_centre(lat_deg: float, lon_deg: float) -> None:
    if not (math.isfinite(lat_deg) and abs(lat_deg) <= 80.0):
        raise ConfigurationError(f"centre latitude: {lat_deg!r} deg outside [-80, 80]")
    if not math.isfinite(lon_deg):
        raise ConfigurationError(f"centre longitude: {lon_deg!r} deg is not finite")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not (math.isfinite(value) and value > 0.0):
            raise ConfigurationError(f"{name}: {value!r} must be finite and > 0")


def destination(lat_rad, lon_rad, bearing_rad, distance_m):
    """Great-circle destination on the mean sphere (rad in, rad out; broadcasts): satellite placement."""
    d = np.asarray(distance_m, dtype=np.float64) / MEAN_EARTH_RADIUS_M
    lat = np.arcsin(np.sin(lat_rad) * np.cos(d) + np.cos(lat_rad) * np.sin(d) * np.cos(bearing_rad))
    lon = lon_rad + np.arctan2(np.sin(bearing_rad) * np.sin(d) * np.cos(lat_rad),
                               np.cos(d) - np.sin(lat_rad) * np.sin(lat))
    return lat, (lon + np.pi) % (2.0 * np.pi) - np.pi


def rhumb_destination(lat_rad: float, lon_rad: float, bearing_rad: float, distance_m: float) -> tuple[float, float]:
    """End (lat, lon rad) of the WGS 84 rhumb line of constant ``bearing_rad`` and length ``distance_m``.

    The inverse of the trajectory kernel's rhumb legs (same meridian-arc series and isometric latitude,
    same east-west branch), so a target flying from the start to the end holds exactly this bearing:
    meridian arc ``m2 = m1 + d cos(bearing)`` solved for the latitude by Newton (dm/dlat = M), then
    ``dlon = tan(bearing) (q2 - q1)`` (q the isometric latitude), or ``d sin(bearing) / (N cos(lat))``
    on an east-west line.
    """
    m2 = _meridian_arc(lat_rad) + distance_m * math.cos(bearing_rad)
    lat2 = lat_rad
    for _ in range(30):
        w = 1.0 - E2 * math.sin(lat2) ** 2
        step = (_meridian_arc(lat2) - m2) / (A_M * (1.0 - E2) / w**1.5)
        lat2 -= step
        if abs(step) < 1e-15:
            break
    if abs(lat2 - lat_rad) < 1e-10:
        n = A_M / math.sqrt(1.0 - E2 * math.sin(lat_rad) ** 2)
        lat2, dlon = lat_rad, distance_m * math.sin(bearing_rad) / (n * math.cos(lat_rad))
    else:
        dlon = math.tan(bearing_rad) * (_isometric_lat(lat2) - _isometric_lat(lat_rad))
    return lat2, (lon_rad + dlon + math.pi) % (2.0 * math.pi) - math.pi


def _great_circle_m(lat1, lon1, lat2, lon2):
    a = np.sin(0.5 * (lat2 - lat1)) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin(0.5 * (lon2 - lon1)) ** 2
    return 2.0 * MEAN_EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _fly(start_ns: int, rows, turn_g: float, end_ns: int) -> Trajectory:
    """A trajectory through ``rows`` (lat_deg, lon_deg, alt_m, speed_mps) with turns at ``turn_g`` g."""
    speed = float(np.max(np.asarray(rows, dtype=np.float64)[:, 3]))
    return waypoint_trajectory(start_ns, rows, max_turn_rate_rad_s=turn_g * STANDARD_GRAVITY_MPS2 / speed,
                               max_climb_rate_mps=_CLIMB_RATE_MPS, max_bank_rad=_BANK_LIMIT_RAD,
                               end_ns=end_ns, continue_after_last=True)


def _timed(rows, turn_g: float, via_ecef: np.ndarray, via_ns: int, flight_s: float) -> Trajectory:
    """Fly ``rows`` (which include the point ``via_ecef``) and re-time the flight to be there at ``via_ns``.

    The flight is built from time 0 and shifted as a whole: the knot nearest ``via_ecef`` (pushed where
    its leg ends, within ~1 m of the waypoint) gets the time ``via_ns``. The route's first waypoint must lie
    ``_LEAD_IN_S`` of flight before the intended start, so the shifted track covers it (placement on the
    sphere and flight on the ellipsoid differ by < 0.5 %).
    """
    built = _fly(0, rows, turn_g, round(flight_s * NANOSECONDS_PER_SECOND))
    at = float(built.knot_t_s[np.argmin(np.linalg.norm(built.knot_position_ecef - via_ecef, axis=1))])
    return Trajectory(int(via_ns) - round(at * NANOSECONDS_PER_SECOND), built.knot_t_s, built.knot_position_ecef,
                      built.knot_velocity_ecef)


def _scenario(name: str, start_ns: int, duration_s: float, seed: int, area: Area, target_class: str,
              trajectories: list[Trajectory]) -> Scenario:
    if target_class not in TARGET_CLASSES:
        raise ConfigurationError(f"target_class: {target_class!r} is not one of {', '.join(sorted(TARGET_CLASSES))}")
    targets = [ScenarioTarget(i + 1, target_class, tr, name) for i, tr in enumerate(trajectories)]
    return Scenario(name, int(start_ns), float(duration_s), int(seed), [area], targets)


def _circle(name: str, lat_deg: float, lon_deg: float, radius_m: float) -> Area:
    return Area(name, "circle", centre=(math.radians(lat_deg), math.radians(lon_deg)), radius_m=float(radius_m))


def crossing_pair(centre_lat_deg: float, centre_lon_deg: float, *, start_ns: int, duration_s: float = 600.0,
                  crossing_time_s: float | None = None, crossing_angle_deg: float = 90.0,
                  heading_deg: float = 0.0, speed_mps: float = 250.0, altitude_m: float = 5000.0,
                  altitude_separation_m: float = 0.0, area_radius_m: float = 150e3) -> Scenario:
    """Two straight-flying targets that cross over the centre at the same instant.

    Target 1 flies the heading ``heading_deg - crossing_angle_deg / 2``, target 2
    ``heading_deg + crossing_angle_deg / 2`` (deg clockwise from north), both at ``speed_mps``; target 2
    is ``altitude_separation_m`` higher. Each flies one WGS 84 rhumb line through the centre and is
    re-timed so that it passes over the centre (within ~1 m: the waypoint is flown over) at
    ``start_ns + crossing_time_s`` (default: mid-scenario). Both exist for the whole scenario (and a
    little before and after).
    """
    _check_centre(centre_lat_deg, centre_lon_deg)
    _check_positive(duration_s=duration_s, speed_mps=speed_mps, area_radius_m=area_radius_m)
    t_cross = 0.5 * duration_s if crossing_time_s is None else float(crossing_time_s)
    if not 0.0 <= t_cross <= duration_s:
        raise ConfigurationError(f"crossing_time_s: {t_cross!r} outside [0, duration_s = {duration_s!r}]")
    if not 0.0 < crossing_angle_deg <= 180.0:
        raise ConfigurationError(f"crossing_angle_deg: {crossing_angle_deg!r} outside (0, 180]")
    lat0, lon0 = math.radians(centre_lat_deg), math.radians(centre_lon_deg)
    cross_ns = int(start_ns) + round(t_cross * NANOSECONDS_PER_SECOND)
    trajectories = []
    for k, sign in enumerate((-1.0, 1.0)):
        heading = math.radians(heading_deg + sign * 0.5 * crossing_angle_deg)
        alt = altitude_m + k * altitude_separation_m
        before = speed_mps * (t_cross + _LEAD_IN_S)
        lat_a, lon_a = rhumb_destination(lat0, lon0, heading + math.pi, before)
        rows = [(math.degrees(lat_a), math.degrees(lon_a), alt, speed_mps),
                (centre_lat_deg, centre_lon_deg, alt, speed_mps)]
        centre = geodetic_to_ecef(lat0, lon0, alt)
        trajectories.append(_timed(rows, 1.0, centre, cross_ns, t_cross + 2.0 * _LEAD_IN_S + duration_s))
    return _scenario("crossing_pair", start_ns, duration_s, 0, _circle("crossing_pair", centre_lat_deg,
                                                                      centre_lon_deg, area_radius_m),
                     "airliner", trajectories)


def turning_target(g: float = 3.0, *, centre_lat_deg: float, centre_lon_deg: float, start_ns: int,
                   duration_s: float = 600.0, turn_after_s: float | None = None, turn_deg: float = 90.0,
                   heading_deg: float = 0.0, speed_mps: float = 250.0, altitude_m: float = 5000.0,
                   area_radius_m: float = 150e3) -> Scenario:
    """One target: a straight leg, a coordinated turn of ``turn_deg`` at ``g`` g, a straight leg.

    It flies on the heading ``heading_deg`` (from before ``start_ns``) and reaches the turn point, the
    centre, at ``start_ns + turn_after_s`` (default: a third of the scenario); it then turns by
    ``turn_deg`` (> 0 to the right, clockwise) at the rate ``g * 9.80665 / speed_mps`` and flies on
    straight to the end. The heading change is ``turn_deg`` within ~0.1 deg (the turn ends on the
    rhumb bearing to a waypoint >= 1000 km away). Turn duration: ``|turn_deg| v / (g g0)`` (13.3 s for
    90 deg at 3 g and 250 m/s).
    """
    _check_centre(centre_lat_deg, centre_lon_deg)
    _check_positive(g=g, duration_s=duration_s, speed_mps=speed_mps, area_radius_m=area_radius_m)
    t_turn = duration_s / 3.0 if turn_after_s is None else float(turn_after_s)
    if not 0.0 < t_turn < duration_s:
        raise ConfigurationError(f"turn_after_s: {t_turn!r} outside (0, duration_s = {duration_s!r})")
    if not 0.0 < abs(turn_deg) < 180.0:
        raise ConfigurationError(f"turn_deg: {turn_deg!r}: |turn_deg| must be in (0, 180)")
    lat0, lon0 = math.radians(centre_lat_deg), math.radians(centre_lon_deg)
    heading = math.radians(heading_deg)
    lat_a, lon_a = rhumb_destination(lat0, lon0, heading + math.pi, speed_mps * (t_turn + _LEAD_IN_S))
    far = max(1000e3, 2.0 * speed_mps * duration_s)
    lat_c, lon_c = rhumb_destination(lat0, lon0, heading + math.radians(turn_deg), far)
    rows = [(math.degrees(lat_a), math.degrees(lon_a), altitude_m, speed_mps),
            (centre_lat_deg, centre_lon_deg, altitude_m, speed_mps),
            (math.degrees(lat_c), math.degrees(lon_c), altitude_m, speed_mps)]
    turn_ns = int(start_ns) + round(t_turn * NANOSECONDS_PER_SECOND)
    trajectory = _timed(rows, g, geodetic_to_ecef(lat0, lon0, altitude_m), turn_ns, duration_s + 2.0 * _LEAD_IN_S)
    return _scenario("turning_target", start_ns, duration_s, 0,
                     _circle("turning_target", centre_lat_deg, centre_lon_deg, area_radius_m), "fighter",
                     [trajectory])


def random_population(n: int, centre_lat_deg: float, centre_lon_deg: float, radius_m: float, *,
                      start_ns: int, duration_s: float, seed: int,
                      speed_mps: tuple[float, float] = (150.0, 260.0),
                      altitude_m: tuple[float, float] = (1000.0, 12000.0),
                      altitudes_m: np.ndarray | None = None, turn_g: float = 1.0,
                      target_class: str = "airliner") -> Scenario:
    """``n`` targets flying random waypoint routes inside a circular area for the whole scenario.

    Each target starts at a uniform random point of the area and keeps one speed (uniform in
    ``speed_mps``) and one height (uniform in ``altitude_m``, or ``altitudes_m[i]`` when given, shape
    (n,)). Its next waypoint is the first of 16 uniform points of the area at least
    ``max(6 turn radii, 60 s of flight)`` away (the farthest when none is), so turns are flown, at
    ``turn_g`` g, and legs are long. Turns start at the waypoint, so a track may leave the area by up to
    about two turn radii (``v^2 / (turn_g g)``: 6.9 km at 260 m/s and 1 g).

    Randomness: ``numpy.random.default_rng(seed)``. Construction costs one compiled
    ``waypoint_trajectory`` per target (measured 2.3 s for 10,000 targets over 1 h).
    """
    _check_centre(centre_lat_deg, centre_lon_deg)
    _check_positive(radius_m=radius_m, duration_s=duration_s, turn_g=turn_g)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ConfigurationError(f"n: {n!r} must be an integer >= 0")
    for name, band in (("speed_mps", speed_mps), ("altitude_m", altitude_m)):
        if len(band) != 2 or not band[0] <= band[1] or not all(math.isfinite(b) for b in band):
            raise ConfigurationError(f"{name}: {band!r} is not a finite (min, max) pair")
    if speed_mps[0] <= 0.0:
        raise ConfigurationError(f"speed_mps: {speed_mps!r}: the minimum must be > 0")
    rng = np.random.default_rng(seed)
    area = _circle("population", centre_lat_deg, centre_lon_deg, radius_m)
    lat, lon = area.sample_points(n, rng)
    speed = rng.uniform(speed_mps[0], speed_mps[1], n)
    alt = rng.uniform(altitude_m[0], altitude_m[1], n)
    if altitudes_m is not None:
        alt = np.asarray(altitudes_m, dtype=np.float64)
        if alt.shape != (n,) or not np.all(np.isfinite(alt)):
            raise ConfigurationError(f"altitudes_m: expected {n} finite heights (shape ({n},)), got shape {alt.shape}")
    min_leg = np.maximum(6.0 * speed * speed / (turn_g * STANDARD_GRAVITY_MPS2), 60.0 * speed)
    need = 1.05 * speed * duration_s + 2.0 * min_leg
    route_lat, route_lon = [lat], [lon]
    flown = np.zeros(n)
    candidates = 16
    while n and np.any(flown < need) and len(route_lat) < 500:
        c_lat, c_lon = area.sample_points(n * candidates, rng)
        c_lat, c_lon = c_lat.reshape(n, candidates), c_lon.reshape(n, candidates)
        dist = _great_circle_m(lat[:, None], lon[:, None], c_lat, c_lon)
        far_enough = dist >= min_leg[:, None]
        pick = np.where(far_enough.any(axis=1), np.argmax(far_enough, axis=1), np.argmax(dist, axis=1))
        rows = np.arange(n)
        lat, lon = c_lat[rows, pick], c_lon[rows, pick]
        flown += dist[rows, pick]
        route_lat.append(lat)
        route_lon.append(lon)
    lat_deg, lon_deg = np.degrees(np.stack(route_lat, axis=1)), np.degrees(np.stack(route_lon, axis=1))
    end_ns = int(start_ns) + round(duration_s * NANOSECONDS_PER_SECOND)
    trajectories = []
    for i in range(n):   # construction only; waypoints past the end are never reached (the kernel stops)
        rows = np.column_stack([lat_deg[i], lon_deg[i], np.full(lat_deg.shape[1], alt[i]),
                                np.full(lat_deg.shape[1], speed[i])])
        trajectories.append(_fly(int(start_ns), rows, turn_g, end_ns))
    return _scenario("random_population", start_ns, duration_s, seed, area, target_class, trajectories)


def combine(*scenarios: Scenario, name: str = "combined") -> Scenario:
    """One scenario holding every target of ``scenarios``, renumbered 1, 2, ... in the given order.

    Start, duration and seed are the first scenario's; areas are concatenated (the first one is the
    generator's default area).
    """
    if not scenarios:
        raise ConfigurationError("combine: expected at least one scenario")
    targets, areas = [], []
    for sc in scenarios:
        areas.extend(sc.areas)
        targets.extend(sc.targets)
    renumbered = [ScenarioTarget(i + 1, tg.target_class, tg.trajectory, tg.source) for i, tg in enumerate(targets)]
    first = scenarios[0]
    return Scenario(name, first.start_epoch_ns, first.duration_s, first.seed, areas, renumbered)


# --- fast truth ----------------------------------------------------------------------------------

@njit(parallel=True, cache=True)
def _truth_kernel(t, p, v, offsets, start_ns, end_ns, utc_ns, present, pos, vel):  # pragma: no cover - compiled
    """Cubic Hermite states of every target (prange) at sorted times, walking each target's knots once."""
    n = offsets.size - 1
    for j in prange(n):
        k = offsets[j]
        hi = offsets[j + 1] - 2
        for i in range(utc_ns.size):
            if utc_ns[i] < start_ns[j] or utc_ns[i] > end_ns[j]:
                present[j, i] = False
                for c in range(3):
                    pos[j, i, c] = np.nan
                    vel[j, i, c] = np.nan
                continue
            present[j, i] = True
            tq = np.float64(utc_ns[i] - start_ns[j]) / 1e9
            while k < hi and t[k + 1] <= tq:
                k += 1
            hdt = t[k + 1] - t[k]
            if not hdt > 0.0:
                hdt = 1.0
            s = (tq - t[k]) / hdt
            s2 = s * s
            s3 = s2 * s
            h00 = 2 * s3 - 3 * s2 + 1
            h10 = (s3 - 2 * s2 + s) * hdt
            h01 = -2 * s3 + 3 * s2
            h11 = (s3 - s2) * hdt
            d00 = (6 * s2 - 6 * s) / hdt
            d10 = 3 * s2 - 4 * s + 1
            d11 = 3 * s2 - 2 * s
            for c in range(3):
                pos[j, i, c] = h00 * p[k, c] + h10 * v[k, c] + h01 * p[k + 1, c] + h11 * v[k + 1, c]
                vel[j, i, c] = d00 * (p[k, c] - p[k + 1, c]) + d10 * v[k, c] + d11 * v[k + 1, c]


class TruthSampler:
    """All targets of a scenario evaluated at many UTC times at once (set up once, call per batch).

    ``sampler(utc_ns)`` for ``utc_ns`` (m,) int returns ``(present (m, n) bool, position (m, n, 3),
    velocity (m, n, 3))`` ECEF (m, m/s; NaN where absent), columns in the order of ``target_id`` (n,).
    Same interpolation as :meth:`Scenario.truth_at` (its reference twin), compiled: each target's knots
    are walked once over the sorted times (~20 ns per target and time).
    """

    def __init__(self, scenario: Scenario) -> None:
        self.target_id = np.array([tg.target_id for tg in scenario.targets], dtype=np.int64)
        self._bank = TrajectoryBank([tg.trajectory for tg in scenario.targets])

    def __len__(self) -> int:
        return int(self.target_id.size)

    def __call__(self, utc_ns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        utc = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64))
        order = np.argsort(utc, kind="stable")
        present, pos, vel = self.target_major(utc[order])
        inverse = np.argsort(order)
        return present.T[inverse], pos.transpose(1, 0, 2)[inverse], vel.transpose(1, 0, 2)[inverse]

    def target_major(self, utc_ns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As ``__call__`` for sorted (non-decreasing) times, target-major: (n, m), (n, m, 3), (n, m, 3)."""
        utc = np.ascontiguousarray(np.atleast_1d(np.asarray(utc_ns, dtype=np.int64)))
        if np.any(np.diff(utc) < 0):
            raise ConfigurationError("utc_ns: target_major needs non-decreasing times (use the call for any order)")
        n, m = len(self), utc.size
        present = np.empty((n, m), dtype=bool)
        pos = np.empty((n, m, 3))
        vel = np.empty((n, m, 3))
        if n and m:
            b = self._bank
            _truth_kernel(b.t, b.p, b.v, b.offsets, b.start_ns, b.end_ns, utc, present, pos, vel)
        return present, pos, vel
