"""Ground-station visibility: look angles and contact windows (pure: numpy/scipy, no ROS imports).

A *contact* is an interval during which a satellite is at or above a station's elevation mask
(geometric elevation above the WGS 84 ellipsoid's local horizontal plane; no refraction, no
terrain). ``predict_contacts`` finds those windows for one satellite from any smooth state
function, ``predict_contacts_many`` for several satellites whose states come from one call.

Search (all steps vectorised over stations, satellites and brackets)
-------------------------------------------------------------------
The search works with ``s(t) = sin(elevation) = u . rho / |rho|`` (``rho`` = satellite minus
station, ``u`` = the station's geodetic up axis), which has the sign behaviour of the elevation
but is smooth even through the zenith, and with its exact time derivative

    ds/dt = u . v / |rho| - s (rho . v) / |rho|^2,            v = satellite ECEF velocity,

so the elevation rate needs no finite differences (it does need ``v`` to be the time derivative
of the ECEF position, i.e. the rotating-frame velocity).

1. Sample ``s - sin(mask)`` and ``ds/dt`` on a grid of ``coarse_step_s`` from ``start_ns`` to
   ``end_ns`` (the last sample is exactly ``end_ns``).
2. A change of visibility between two samples brackets an AOS or LOS.
3. Between two samples below the mask, a sign change of ``ds/dt`` from + to - brackets a local
   maximum of elevation: it is refined (root of ``ds/dt``) and, when it is at or above the mask,
   splits the interval into an AOS bracket and a LOS bracket. This finds passes shorter than the
   coarse step. Symmetrically, a minimum between two visible samples that dips below the mask
   splits a window in two.
4. Every AOS/LOS bracket is refined with Chandrupatla's bracketing root finder
   (``scipy.optimize.elementwise.find_root``; T. R. Chandrupatla, "A new hybrid quadratic/bisection
   algorithm for finding the zero of a nonlinear function without using derivatives", Advances in
   Engineering Software 28 (1997) 145-149) until the bracket is narrower than ``tolerance_s``, so
   each reported time is within ``tolerance_s`` of the true crossing (rounded to whole ns).
   ``predict_contacts`` calls the state function for these refinements (a few small batches);
   ``predict_contacts_many`` refines on a cubic Hermite interpolant of the grid states.
5. The maximum elevation of each window is the root of ``ds/dt`` next to the highest sample in
   the window (or the refined peak of step 3, or a clipped window's end when elevation is still
   rising/falling there).

What the search cannot see: an interval of one coarse step that contains *two* extrema of
elevation (a maximum and a minimum) with no sign change of ``ds/dt`` at its ends. A pass hidden
that way needs an elevation minimum within one step of its peak. For a LEO satellite the minima
of elevation are about half an orbit away from the passes, so with a step well below half the
orbital period (the default 20 s against ~50 min) nothing is missed; keep the step below ~60 s.
A pass whose peak is above the mask by less than the rounding of ``s`` (~1e-15) may be missed or
reported with zero length. Samples whose state is not finite (an SGP4 error) count as not
visible.

The grid holds n_sat x n_station x (end - start) / coarse_step_s values (a day of 48 satellites
and 7 stations: 1.5 million, about 90 MB at peak with the temporaries); for long horizons,
search a day at a time.

References: geodetic→ECEF and the East-North-Up axes from NIMA TR8350.2, *Department of Defense
World Geodetic System 1984*, 3rd ed. (2000), eq. 4-14 and Table 3.1; look angles as in
D. A. Vallado, *Fundamentals of Astrodynamics and Applications*, 4th ed. (2013), Sec. 4.4
(topocentric-horizon coordinates, here in ENU order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from scipy.optimize import elementwise

from sbamti.errors import ConfigurationError
from sbamti.yamlfile import read_yaml
from sbamti.geo.wgs84 import enu_rotation, geodetic_to_ecef
from sbamti.timeutil import NANOSECONDS_PER_SECOND

# --- stations ------------------------------------------------------------------------------

VALID_RANGES = {
    "latitude_deg": (-90.0, 90.0, True, "degrees"),
    "longitude_deg": (-180.0, 360.0, False, "degrees east"),
    "altitude_m": (-1000.0, 10000.0, True, "m above the WGS 84 ellipsoid"),
    "elevation_mask_deg": (-5.0, 90.0, True, "degrees"),
}
"""Valid station values: field -> (low, high, high included?, unit). The altitude bounds catch a
radius or kilometres typed as metres."""


def _range_problem(values: dict[str, float]) -> tuple[str, str] | None:
    """(field, message) for the first of ``values`` outside its valid range, or None."""
    for field, (low, high, closed, unit) in VALID_RANGES.items():
        value = values[field]
        if not math.isfinite(value):
            return field, f"{value!r} is not a finite number"
        if value < low or value > high or (value == high and not closed):
            return field, f"{value!r} is outside the valid range [{low:g}, {high:g}{']' if closed else ')'} {unit}"
    return None


@dataclass(frozen=True)
class GroundStation:
    """A ground station fixed on the WGS 84 ellipsoid.

    Attributes
    ----------
    name : str
        Unique name, used in ``ContactWindow.station``.
    latitude_rad, longitude_rad : float
        Geodetic latitude in [-pi/2, pi/2] and longitude (east positive), rad.
    altitude_m : float
        Height above the WGS 84 ellipsoid, m.
    elevation_mask_rad : float
        Minimum geometric elevation for a contact, rad, in [-5 deg, 90 deg].
    """

    name: str
    latitude_rad: float
    longitude_rad: float
    altitude_m: float
    elevation_mask_rad: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError(f"ground station name: {self.name!r} is not a non-empty string")
        problem = _range_problem({"latitude_deg": math.degrees(self.latitude_rad),
                                  "longitude_deg": math.degrees(self.longitude_rad), "altitude_m": self.altitude_m,
                                  "elevation_mask_deg": math.degrees(self.elevation_mask_rad)})
        if problem is not None:
            raise ConfigurationError(f"ground station {self.name!r}: {problem[0]}: {problem[1]}")

    def position_ecef(self) -> np.ndarray:
        """WGS 84 ECEF position (3,), m."""
        return geodetic_to_ecef(self.latitude_rad, self.longitude_rad, self.altitude_m)

    def enu_axes(self) -> np.ndarray:
        """(3, 3) rows East, North, Up: the station's local geodetic axes in ECEF."""
        return enu_rotation(self.latitude_rad, self.longitude_rad)


STATION_FIELDS = ("name", "latitude_deg", "longitude_deg", "altitude_m", "elevation_mask_deg")
"""Keys of one entry of a ground-station file's ``stations`` list (all required, no others)."""


def load_ground_stations(path: str | Path) -> list[GroundStation]:
    """Ground stations from a YAML file.

    The file holds ``stations:``, a non-empty list of mappings with exactly the keys
    ``name`` (str), ``latitude_deg`` ([-90, 90]), ``longitude_deg`` ([-180, 360), east positive),
    ``altitude_m`` (height above the WGS 84 ellipsoid, [-1000, 10000] m) and
    ``elevation_mask_deg`` ([-5, 90]). Names must be unique.

    Raises ``ConfigurationError`` naming the file, the station (index and name) and the field.
    """
    path = Path(path)
    document = read_yaml(path, "ground-station file")
    if not isinstance(document, dict) or "stations" not in document:
        raise ConfigurationError(f"{path}: expected a mapping with key 'stations' (a list of stations), "
                                 f"got {type(document).__name__}")
    entries = document["stations"]
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{path}: stations: expected a non-empty list, got {entries!r}")

    stations: list[GroundStation] = []
    first_index: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"{path}: stations[{index}]"
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{where}: expected a mapping with keys {', '.join(STATION_FIELDS)}, "
                                     f"got {entry!r}")
        name = entry.get("name")
        if "name" in entry:
            where += f" ({name!r})"
        missing = [key for key in STATION_FIELDS if key not in entry]
        if missing:
            raise ConfigurationError(f"{where}: missing field {missing[0]!r} "
                                     f"(required: {', '.join(STATION_FIELDS)})")
        unknown = sorted(str(key) for key in entry if key not in STATION_FIELDS)
        if unknown:
            raise ConfigurationError(f"{where}: unknown field {unknown[0]!r} "
                                     f"(expected only: {', '.join(STATION_FIELDS)})")
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"{where}: name: {name!r} is not a non-empty string")
        values = {}
        for key in STATION_FIELDS[1:]:
            value = entry[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(f"{where}: {key}: {value!r} is not a number")
            values[key] = float(value)
        problem = _range_problem(values)
        if problem is not None:
            raise ConfigurationError(f"{where}: {problem[0]}: {problem[1]}")
        if name in first_index:
            raise ConfigurationError(f"{where}: name: duplicate station name {name!r} "
                                     f"(first used by stations[{first_index[name]}])")
        first_index[name] = index
        try:
            stations.append(GroundStation(name, math.radians(values["latitude_deg"]),
                                          math.radians(values["longitude_deg"]), values["altitude_m"],
                                          math.radians(values["elevation_mask_deg"])))
        except ConfigurationError as exc:
            raise ConfigurationError(f"{where}: {exc}") from None
    return stations


# --- look angles ---------------------------------------------------------------------------

@dataclass(frozen=True)
class LookAngles:
    """Topocentric look angles of a satellite from a station (arrays of the inputs' leading shape).

    Attributes
    ----------
    azimuth_rad : ndarray
        In [0, 2 pi), clockwise from geodetic north (east = pi/2). 0 at the zenith.
    elevation_rad : ndarray
        Above the local geodetic horizontal plane, [-pi/2, pi/2].
    range_m : ndarray
        Distance station to satellite, m.
    range_rate_mps : ndarray
        d(range)/dt, m/s, positive while the range opens (satellite receding).
    """

    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    range_m: np.ndarray
    range_rate_mps: np.ndarray


def look_angles(station: GroundStation, sat_pos_ecef_m, sat_vel_ecef_mps) -> LookAngles:
    """Azimuth, elevation, range and range rate of satellites seen from ``station``.

    Parameters
    ----------
    station : GroundStation
    sat_pos_ecef_m : array_like (..., 3)
        Satellite ECEF position, m.
    sat_vel_ecef_mps : array_like (..., 3)
        Satellite velocity in the rotating ECEF frame, m/s. The station is fixed in ECEF, so this
        is the relative velocity.

    Notes
    -----
    With ``rho = r_sat - r_station`` and the station's ENU axes (e, n, u):
    ``az = atan2(rho.e, rho.n) mod 2 pi``, ``el = atan2(rho.u, hypot(rho.e, rho.n))``,
    ``range = |rho|``, ``range_rate = rho.v / |rho|`` (Vallado 2013, Sec. 4.4).
    """
    pos = np.asarray(sat_pos_ecef_m, dtype=np.float64)
    vel = np.asarray(sat_vel_ecef_mps, dtype=np.float64)
    if pos.shape[-1:] != (3,) or vel.shape[-1:] != (3,):
        raise ValueError(f"look_angles: positions and velocities need a last axis of 3, "
                         f"got {pos.shape} and {vel.shape}")
    rho = pos - station.position_ecef()
    enu = rho @ station.enu_axes().T
    east, north, up = enu[..., 0], enu[..., 1], enu[..., 2]
    horizontal = np.hypot(east, north)
    range_m = np.sqrt(horizontal * horizontal + up * up)
    azimuth = np.mod(np.arctan2(east, north), 2.0 * np.pi)
    azimuth = np.where(azimuth >= 2.0 * np.pi, 0.0, azimuth)  # -tiny mod 2 pi rounds to 2 pi
    with np.errstate(invalid="ignore", divide="ignore"):
        range_rate = np.einsum("...i,...i->...", rho, vel) / range_m
    return LookAngles(azimuth, np.arctan2(up, horizontal), range_m, range_rate)


# --- contact windows -----------------------------------------------------------------------

@dataclass(frozen=True)
class ContactWindow:
    """One interval with the satellite at or above ``station``'s elevation mask.

    Times are sim-time UTC ns. ``aos_clipped`` / ``los_clipped`` mark a window already in progress
    at the search start (``aos_ns`` = start) or still in progress at its end (``los_ns`` = end).
    ``max_elevation_*`` is the highest geometric elevation inside the window and when it occurs.
    """

    station: str
    aos_ns: int
    los_ns: int
    max_elevation_ns: int
    max_elevation_rad: float
    elevation_mask_rad: float
    aos_clipped: bool = False
    los_clipped: bool = False

    @property
    def duration_s(self) -> float:
        return (self.los_ns - self.aos_ns) / NANOSECONDS_PER_SECOND


StateFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def predict_contacts(state_fn: StateFunction, stations: list[GroundStation], start_ns: int, end_ns: int, *,
                     coarse_step_s: float = 20.0, tolerance_s: float = 1e-3) -> list[ContactWindow]:
    """Contact windows of one satellite with ``stations`` in [``start_ns``, ``end_ns``].

    Parameters
    ----------
    state_fn : callable
        ``state_fn(times_ns)`` with ``times_ns`` a 1-D int64 array of UTC ns returns
        ``(pos_ecef_m, vel_ecef_mps)``, each (n, 3): the satellite's ECEF position and
        rotating-frame velocity (the time derivative of that position). It is called once on the
        coarse grid and then a few times with small batches of times.
    stations : list of GroundStation
    start_ns, end_ns : int
        Search interval, UTC ns, ``end_ns > start_ns``.
    coarse_step_s : float
        Sampling step of the first pass, s (see the module notes for the limit on it).
    tolerance_s : float
        Every AOS and LOS is within this of the true crossing, s.

    Returns
    -------
    list of ContactWindow sorted by ``aos_ns`` (then station name).

    Raises
    ------
    ConfigurationError
        ``end_ns`` not after ``start_ns``, a step or tolerance that is not positive (or a
        tolerance not below the step), an empty station list or duplicate station names.
    ValueError
        ``state_fn`` returned arrays of the wrong shape.
    """
    def states(sat_index: np.ndarray, times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, vel = state_fn(times_ns)
        return _checked(pos, vel, (times_ns.size, 3))

    return _predict(states, stations, start_ns, end_ns, coarse_step_s, tolerance_s)[0]


def predict_contacts_many(state_fn_many: StateFunction, stations: list[GroundStation], start_ns: int, end_ns: int,
                          *, coarse_step_s: float = 20.0, tolerance_s: float = 1e-3) -> list[list[ContactWindow]]:
    """Contact windows of several satellites: ``result[i]`` is satellite ``i``'s list.

    ``state_fn_many(times_ns)`` returns ``(pos_ecef_m, vel_ecef_mps)``, each (n_sat, n, 3), and is
    called exactly once, on the coarse grid. The refinement then runs on the cubic Hermite
    interpolant of those positions and velocities instead of calling the state function again
    (whose batches would have to hold every satellite at every satellite's times). For a LEO orbit
    on a 20 s grid the interpolant is within about h^4/384 |d^4r/dt^4| ~ 5 mm of the trajectory,
    i.e. a time error far below a microsecond; keep ``coarse_step_s`` <= 60 s (~0.4 m) so the
    windows match ``predict_contacts`` to within ``tolerance_s``. Arguments otherwise as in
    ``predict_contacts``.
    """
    return _predict(_InterpolatedStates(state_fn_many), stations, start_ns, end_ns, coarse_step_s, tolerance_s)


class _InterpolatedStates:
    """Grid states of many satellites from one call, then cubic Hermite interpolation between them.

    On [t0, t1] with h = t1 - t0 and tau = (t - t0) / h:
    r = h00 r0 + h10 h v0 + h01 r1 + h11 h v1 with h00 = 2tau^3 - 3tau^2 + 1, h10 = tau^3 - 2tau^2 + tau,
    h01 = -2tau^3 + 3tau^2, h11 = tau^3 - tau^2, and v = dr/dt of the same polynomial.
    """

    def __init__(self, state_fn_many: StateFunction):
        self.state_fn_many = state_fn_many
        self.grid_ns = None

    def __call__(self, sat_index, times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.grid_ns is None:
            pos, vel = self.state_fn_many(times_ns)
            pos = np.asarray(pos, dtype=np.float64)
            if pos.ndim != 3:
                raise ValueError(f"state_fn_many must return (n_sat, n, 3) arrays, got positions {pos.shape}")
            self.pos, self.vel = _checked(pos, vel, (pos.shape[0], times_ns.size, 3))
            self.grid_ns = times_ns.copy()
            return self.pos, self.vel
        grid = self.grid_ns
        k = np.clip(np.searchsorted(grid, times_ns, side="right") - 1, 0, grid.size - 2)
        h = (grid[k + 1] - grid[k]) / NANOSECONDS_PER_SECOND
        tau = ((times_ns - grid[k]) / NANOSECONDS_PER_SECOND / h)[:, None]
        h = h[:, None]
        r0, r1 = self.pos[sat_index, k], self.pos[sat_index, k + 1]
        v0, v1 = self.vel[sat_index, k] * h, self.vel[sat_index, k + 1] * h
        tau2, tau3 = tau * tau, tau * tau * tau
        pos = ((2 * tau3 - 3 * tau2 + 1) * r0 + (tau3 - 2 * tau2 + tau) * v0 + (3 * tau2 - 2 * tau3) * r1
               + (tau3 - tau2) * v1)
        vel = ((6 * tau2 - 6 * tau) * (r0 - r1) + (3 * tau2 - 4 * tau + 1) * v0 + (3 * tau2 - 2 * tau) * v1) / h
        return pos, vel


def _checked(pos, vel, shape) -> tuple[np.ndarray, np.ndarray]:
    pos = np.asarray(pos, dtype=np.float64)
    vel = np.asarray(vel, dtype=np.float64)
    if pos.shape != shape or vel.shape != shape:
        raise ValueError(f"state function returned positions {pos.shape} and velocities {vel.shape}, "
                         f"expected {shape} (m and m/s, ECEF)")
    return pos, vel


class _Geometry:
    """sin(elevation) and its rate for (satellite, station) pairs; pair p = sat * n_station + station."""

    def __init__(self, states, stations: list[GroundStation], start_ns: int):
        self.states = states
        self.n_sat = 0                                                               # known after grid()
        self.n_station = len(stations)
        self.start_ns = start_ns
        self.site = np.array([st.position_ecef() for st in stations])                  # (m, 3)
        self.up = np.array([st.enu_axes()[2] for st in stations])                      # (m, 3)
        self.sin_mask = np.sin([st.elevation_mask_rad for st in stations])             # (m,)

    def to_ns(self, t_s: np.ndarray) -> np.ndarray:
        return self.start_ns + np.rint(np.asarray(t_s, dtype=np.float64) * NANOSECONDS_PER_SECOND).astype(np.int64)

    def grid(self, times_ns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """s and ds/dt, each (n_sat * m, n), of every pair on a shared time grid."""
        pos, vel = self.states(None, times_ns)
        self.n_sat = 1 if pos.ndim == 2 else pos.shape[0]
        pos = pos.reshape(self.n_sat, 1, -1, 3)
        vel = vel.reshape(self.n_sat, 1, -1, 3)
        s, rate = _sin_elevation(pos, vel, self.site[None, :, None, :], self.up[None, :, None, :])
        n = times_ns.size
        return s.reshape(-1, n), rate.reshape(-1, n)

    def at(self, pair: np.ndarray, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """s and ds/dt of pair ``pair[i]`` at ``t_s[i]`` (s after start)."""
        pair = np.asarray(pair)
        times_ns = self.to_ns(t_s).reshape(-1)
        pos, vel = self.states(pair.reshape(-1) // self.n_station, times_ns)
        station = pair.reshape(-1) % self.n_station
        s, rate = _sin_elevation(pos, vel, self.site[station], self.up[station])
        return s.reshape(pair.shape), rate.reshape(pair.shape)

    def elevation(self, pair: np.ndarray, t_s: np.ndarray) -> np.ndarray:
        """Elevation, rad, as atan2(up, horizontal): well conditioned up to the zenith."""
        station = pair % self.n_station
        pos, _ = self.states(pair // self.n_station, self.to_ns(t_s))
        rho = pos - self.site[station]
        up = np.einsum("...i,...i->...", rho, self.up[station])
        horizontal = np.linalg.norm(rho - up[:, None] * self.up[station], axis=-1)
        return np.arctan2(up, horizontal)


def _sin_elevation(pos, vel, site, up) -> tuple[np.ndarray, np.ndarray]:
    """s = u.rho/|rho| and ds/dt = u.v/|rho| - s (rho.v)/|rho|^2 (broadcast over leading axes)."""
    rho = pos - site
    distance = np.sqrt(np.einsum("...i,...i->...", rho, rho))
    s = np.einsum("...i,...i->...", rho, up) / distance
    rate = (np.einsum("...i,...i->...", vel, up) - s * np.einsum("...i,...i->...", rho, vel) / distance) / distance
    return s, rate


def _find_roots(fun, pair: np.ndarray, a: np.ndarray, b: np.ndarray, tolerance_s: float) -> np.ndarray:
    """Roots of ``fun(pair, t)`` in brackets [a, b] (a < b, opposite signs) to within ``tolerance_s``.

    Where the bracket turns out invalid (no sign change: only with an inconsistent state function)
    or a value is not finite, the bracket end with the smaller |fun| is returned.
    """
    if pair.size == 0:
        return np.empty(0)
    result = elementwise.find_root(lambda t, p: fun(p.astype(np.int64), t), (a, b), args=(pair.astype(np.float64),),
                                   tolerances=dict(xatol=tolerance_s, xrtol=0.0, fatol=0.0, frtol=0.0))
    x = np.asarray(result.x, dtype=np.float64)
    bad = ~np.asarray(result.success) | ~np.isfinite(x)
    if np.any(bad):
        fa = np.abs(fun(pair[bad], a[bad]))
        fb = np.abs(fun(pair[bad], b[bad]))
        x[bad] = np.where(fb < fa, b[bad], a[bad])
    return x


def _predict(states, stations: list[GroundStation], start_ns: int, end_ns: int,
             coarse_step_s: float, tolerance_s: float) -> list[list[ContactWindow]]:
    """The search of the module notes. ``states(sat_index, times_ns)`` gives (pos, vel): with
    ``sat_index`` None (the coarse grid, first call) of every satellite, (n, 3) or (n_sat, n, 3);
    otherwise of satellite ``sat_index[i]`` at ``times_ns[i]``, (n, 3)."""
    start_ns, end_ns = int(start_ns), int(end_ns)
    if end_ns <= start_ns:
        raise ConfigurationError(f"end_ns: {end_ns} must be after start_ns {start_ns}")
    if not (math.isfinite(coarse_step_s) and coarse_step_s > 0):
        raise ConfigurationError(f"coarse_step_s: {coarse_step_s!r} must be a positive number of seconds")
    if not (math.isfinite(tolerance_s) and 0 < tolerance_s < coarse_step_s):
        raise ConfigurationError(f"tolerance_s: {tolerance_s!r} must be positive and below coarse_step_s "
                                 f"({coarse_step_s} s)")
    names = [st.name for st in stations]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"stations: names must be unique, got {names}")
    if not stations:
        raise ConfigurationError("stations: the list is empty")

    geometry = _Geometry(states, stations, start_ns)
    step_ns = max(1, int(round(coarse_step_s * NANOSECONDS_PER_SECOND)))
    grid_ns = np.arange(start_ns, end_ns, step_ns, dtype=np.int64)
    grid_ns = np.append(grid_ns, np.int64(end_ns))
    grid_s = (grid_ns - start_ns) / NANOSECONDS_PER_SECOND
    s, rate = geometry.grid(grid_ns)                      # (P, n)
    n_sat = geometry.n_sat
    sin_mask = np.tile(geometry.sin_mask, n_sat)          # (P,)
    margin = s - sin_mask[:, None]
    visible = margin >= 0.0                               # NaN -> not visible
    margin = np.where(np.isfinite(margin), margin, -np.inf)

    def crossing_fun(pair, t):
        value, _ = geometry.at(pair, t)
        return value - sin_mask[pair]

    def rate_fun(pair, t):
        return geometry.at(pair, t)[1]

    # Hidden extrema: a maximum between two invisible samples, a minimum between two visible ones.
    left_vis, right_vis = visible[:, :-1], visible[:, 1:]
    hidden_max = ~left_vis & ~right_vis & (rate[:, :-1] > 0) & (rate[:, 1:] < 0)
    hidden_min = left_vis & right_vis & (rate[:, :-1] < 0) & (rate[:, 1:] > 0)
    ext_pair, ext_k = np.nonzero(hidden_max | hidden_min)
    ext_t = _find_roots(rate_fun, ext_pair, grid_s[ext_k], grid_s[ext_k + 1], tolerance_s)
    ext_margin = crossing_fun(ext_pair, ext_t) if ext_pair.size else np.empty(0)
    ext_is_max = hidden_max[ext_pair, ext_k]
    ext_margin = np.where(np.isfinite(ext_margin), ext_margin, -np.inf)
    splits = np.where(ext_is_max, ext_margin >= 0.0, ext_margin < 0.0)
    ext_pair, ext_k, ext_t, ext_margin, ext_is_max = (
        x[splits] for x in (ext_pair, ext_k, ext_t, ext_margin, ext_is_max))

    # Brackets: (pair, interval k, order within the interval, rising?, a, b, margin at a, margin at b).
    cross_pair, cross_k = np.nonzero(left_vis != right_vis)
    k_all = np.concatenate([cross_k, ext_k, ext_k])
    pair_all = np.concatenate([cross_pair, ext_pair, ext_pair])
    order = np.concatenate([np.zeros(cross_k.size, int), np.zeros(ext_k.size, int), np.ones(ext_k.size, int)])
    rising = np.concatenate([right_vis[cross_pair, cross_k], ext_is_max, ~ext_is_max])
    a = np.concatenate([grid_s[cross_k], grid_s[ext_k], ext_t])
    b = np.concatenate([grid_s[cross_k + 1], ext_t, grid_s[ext_k + 1]])
    fa = np.concatenate([margin[cross_pair, cross_k], margin[ext_pair, ext_k], ext_margin])
    fb = np.concatenate([margin[cross_pair, cross_k + 1], ext_margin, margin[ext_pair, ext_k + 1]])
    root = np.where(fa == 0.0, a, b)
    open_ = (fa != 0.0) & (fb != 0.0)
    root[open_] = _find_roots(crossing_fun, pair_all[open_], a[open_], b[open_], tolerance_s)

    # Assemble windows per pair; remember the interior samples (or the hidden peak) of each.
    peak_of = {(int(p), int(k)): float(t) for p, k, t, is_max in zip(ext_pair, ext_k, ext_t, ext_is_max) if is_max}
    sequence = np.lexsort((order, k_all, pair_all))
    n_grid = grid_s.size
    raw = []   # (pair, aos_t, aos_clipped, los_t, los_clipped, first_sample, last_sample, peak_t or None)
    events_by_pair: dict[int, list[int]] = {}
    for i in sequence:
        events_by_pair.setdefault(int(pair_all[i]), []).append(int(i))
    for p in range(s.shape[0]):
        open_window = None
        if visible[p, 0]:
            open_window = (0.0, True, 0)
        for i in events_by_pair.get(p, []):
            k = int(k_all[i])
            if rising[i]:
                open_window = (float(root[i]), False, k + 1)
            elif open_window is not None:
                aos_t, aos_clipped, first = open_window
                raw.append((p, aos_t, aos_clipped, float(root[i]), False, first, k, peak_of.get((p, k))))
                open_window = None
        if open_window is not None:
            aos_t, aos_clipped, first = open_window
            raw.append((p, aos_t, aos_clipped, float(grid_s[-1]), True, first, n_grid - 1, None))

    # Maximum elevation: a root of ds/dt next to the highest sample, or a known point.
    max_t = np.empty(len(raw))
    bracket_rows, bracket_a, bracket_b = [], [], []
    for row, (p, aos_t, aos_clipped, los_t, los_clipped, first, last, peak_t) in enumerate(raw):
        if first > last:                     # no sample inside: a pass shorter than the step
            max_t[row] = peak_t if peak_t is not None else 0.5 * (aos_t + los_t)
            continue
        j = first + int(np.argmax(s[p, first:last + 1]))
        max_t[row] = grid_s[j]
        if rate[p, j] > 0 and not (j == last and los_clipped):
            right = grid_s[j + 1] if j < last else los_t
            bracket_rows.append(row), bracket_a.append(grid_s[j]), bracket_b.append(right)
        elif rate[p, j] < 0 and not (j == first and aos_clipped):
            left = grid_s[j - 1] if j > first else aos_t
            bracket_rows.append(row), bracket_a.append(left), bracket_b.append(grid_s[j])
    if bracket_rows:
        rows = np.array(bracket_rows)
        pairs = np.array([raw[r][0] for r in rows])
        max_t[rows] = _find_roots(rate_fun, pairs, np.array(bracket_a), np.array(bracket_b), tolerance_s)
    all_pairs = np.array([r[0] for r in raw], dtype=np.int64)
    max_el = geometry.elevation(all_pairs, max_t) if raw else np.empty(0)

    result: list[list[ContactWindow]] = [[] for _ in range(n_sat)]
    for row, (p, aos_t, aos_clipped, los_t, los_clipped, _first, _last, _peak) in enumerate(raw):
        station = stations[p % len(stations)]
        aos_ns = start_ns if aos_clipped else min(max(int(geometry.to_ns(aos_t)), start_ns), end_ns)
        los_ns = end_ns if los_clipped else min(max(int(geometry.to_ns(los_t)), start_ns), end_ns)
        los_ns = max(los_ns, aos_ns)
        peak_ns = min(max(int(geometry.to_ns(max_t[row])), aos_ns), los_ns)
        result[p // len(stations)].append(ContactWindow(
            station.name, aos_ns, los_ns, peak_ns, float(max_el[row]), station.elevation_mask_rad,
            aos_clipped, los_clipped))
    for windows in result:
        windows.sort(key=lambda w: (w.aos_ns, w.station))
    return result
