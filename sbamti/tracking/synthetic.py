"""Synthetic multi-satellite detections for tracker tests and benchmarks (pure: numpy/numba, never rclpy).

What the ground tracker receives on ``/ground/detections`` (``DetectionArray``), without the radar
chain: per dwell the stamp, the satellite and its state, and each detection's geolocated ECEF position
with the full covariance the onboard detector reports (``nodes/onboard_detector.py``), its
measurements and range rate, and, for evaluation only, the id of the true target (-1: false alarm).

Pieces
------
* Truth (:mod:`sbamti.tracking.synthetic_targets`, re-exported here): :func:`crossing_pair`,
  :func:`turning_target`, :func:`random_population`, :func:`combine`, all
  :class:`sbamti.radar.scenario.Scenario` objects flown by the radar simulator's trajectory model;
  :class:`TruthSampler` for fast truth at many times.
* Sensors (:mod:`sbamti.tracking.synthetic_sensors`, re-exported): :class:`SensorModel`,
  :func:`satellites_around` (frozen geometry: why, there), the compiled twin of ``geolocate``.
* Here: :func:`generate` / :func:`iter_dwells` and :func:`delayed` (arrival order for OOSM tests).

Dwells and detections
---------------------
Satellite ``k`` of ``K`` dwells at ``start + k T / K + j T`` (``T`` the scan period, ``j`` the scan,
also the ``dwell_id``); one dwell covers the whole area, its beam centre the area centre on the
ellipsoid (there is no beam pattern: targets outside the area are seen too). Each present target on
the boresight's side of the nadir and above the horizon is detected with probability ``pd``, measured
and geolocated as on board (``synthetic_sensors``). The assumed altitude
(``SensorModel.altitude_errors``):

- ``"onboard"`` (default): every detection is placed at ``assumed_altitude_m``, as on board. A target
  at another height then has a *persistent* error along each satellite's range circle, consistent
  with the covariance only over a population whose heights spread as N(assumed, altitude_std^2).
- ``"white"``: each detection is geolocated at its target's true height plus an independent
  N(0, altitude_std^2) draw: white errors, consistent with the covariance (filter consistency
  tests); the reported altitude carries that draw.

Either way the covariance is the mean-square error, but with kilometres of altitude uncertainty the
error along the range circle is quadratic in the altitude error, not Gaussian: the NEES has mean 3
and a heavier tail than chi2(3) (variance measured ~9 at 3 km, ~16 at 5 km, against 6), which chi2
gates and consistency bounds must allow for.

False alarms: Poisson(``false_alarms_per_dwell``) per dwell, uniform over the area at the assumed
altitude (their position is the random part: no further noise), the same covariance model, range rate
that of the ground there plus U(-s, s), ``s = SensorModel.false_alarm_speed_mps``. Rows are shuffled
within a dwell. Dwell ``(k, j)`` draws from its own ``numpy.random.default_rng([seed, k, j])``: it does
not change with the duration, the chunking or the other satellites.

Performance (command in the test module's docstring): 10,000 targets x 3 satellites x 1 h of 10 s
scans, 9.7 M detections, in 4.7 s on the project machine (2 shared cores), after 2.3 s to build the
population; ~190 bytes per detection held, so iterate :func:`iter_dwells` for big runs (``generate``
would hold ~1.9 GB).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.radar.beam import antenna_axes
from sbamti.radar.scenario import Area, Scenario
from sbamti.radar.trajectory import NANOSECONDS_PER_SECOND
from sbamti.tracking.synthetic_sensors import (
    FixedSatellite,
    OrbitSatellite,
    SensorModel,
    _detect_kernel,
    circle_bases,
    geolocate_rows,
    satellites_around,
)
from sbamti.tracking.synthetic_targets import (
    TruthSampler,
    combine,
    crossing_pair,
    random_population,
    turning_target,
)

__all__ = ["DelayedDwell", "FixedSatellite", "OrbitSatellite", "SensorModel", "SyntheticDwell", "TruthSampler", "combine",
           "crossing_pair", "delayed", "generate", "geolocate_rows", "iter_dwells", "random_population",
           "satellites_around", "turning_target"]

_CHUNK_CELLS = 1 << 18
"""Targets x dwells evaluated per chunk: bounds the truth buffers (~6 MB each)."""


@dataclass(frozen=True, eq=False)
class SyntheticDwell:
    """One satellite's dwell as the tracker receives it (``DetectionArray``), plus the truth ids.

    Scalars: ``stamp_ns`` (int UTC ns of the dwell), ``satellite_id``, ``dwell_id`` (the scan index).
    (3,) ECEF: ``satellite_position_ecef`` (m), ``satellite_velocity_ecef`` (m/s, rotating frame),
    ``beam_centre_ecef`` (m). Per detection, k rows in a random order: ``position_ecef`` (k, 3) m,
    ``position_covariance_ecef`` (k, 3, 3) m^2, ``latitude_rad``, ``longitude_rad``, ``altitude_m`` of
    the position (WGS 84), the measurements ``range_m``, ``azimuth_rad`` (cone angle),
    ``elevation_rad``, ``range_rate_mps`` (positive opening) and their 1-sigmas ``*_std_*``, and
    ``truth_id`` (k,) int64: the scenario target id, -1 for a false alarm (evaluation only). Range
    rates are unambiguous (``range_rate_resolved`` true in the message).
    """

    stamp_ns: int
    satellite_id: str
    dwell_id: int
    satellite_position_ecef: np.ndarray
    satellite_velocity_ecef: np.ndarray
    beam_centre_ecef: np.ndarray
    position_ecef: np.ndarray
    position_covariance_ecef: np.ndarray
    latitude_rad: np.ndarray
    longitude_rad: np.ndarray
    altitude_m: np.ndarray
    range_m: np.ndarray
    range_std_m: np.ndarray
    azimuth_rad: np.ndarray
    azimuth_std_rad: np.ndarray
    elevation_rad: np.ndarray
    elevation_std_rad: np.ndarray
    range_rate_mps: np.ndarray
    range_rate_std_mps: np.ndarray
    truth_id: np.ndarray

    def __len__(self) -> int:
        return int(self.truth_id.size)


@dataclass(frozen=True, eq=False)
class DelayedDwell:
    """A dwell and the UTC ns at which it reaches the ground (``arrival_ns >= dwell.stamp_ns``)."""

    arrival_ns: int
    dwell: SyntheticDwell

    @property
    def delay_s(self) -> float:
        return (self.arrival_ns - self.dwell.stamp_ns) / NANOSECONDS_PER_SECOND




def _area_centre(area: Area) -> tuple[float, float]:
    """(lat, lon) rad of an area's centre (a polygon's vertex mean)."""
    if area.kind == "circle":
        return float(area.centre[0]), float(area.centre[1])
    return float(np.mean(area.vertices[:, 0])), float(np.mean(area.vertices[:, 1]))


def _schedule(start_ns: int, duration_s: float, scan_period_s: float, count: int) -> np.ndarray:
    """Rows (stamp_ns, satellite index, scan index) of every dwell, sorted by stamp then satellite."""
    period_ns = round(scan_period_s * NANOSECONDS_PER_SECOND)
    end_ns = start_ns + round(duration_s * NANOSECONDS_PER_SECOND)
    rows = []
    for k in range(count):
        stamps = np.arange(start_ns + round(k * period_ns / count), end_ns, period_ns, dtype=np.int64)
        rows.append(np.stack([stamps, np.full(stamps.size, k), np.arange(stamps.size)], axis=1))
    table = np.concatenate(rows)
    return table[np.lexsort((table[:, 1], table[:, 0]))]


def _check_generate(start_ns, duration_s, scan_period_s, pd, false_alarms_per_dwell, seed) -> None:
    if isinstance(start_ns, bool) or not isinstance(start_ns, (int, np.integer)):
        raise ConfigurationError(f"start_ns: {start_ns!r} must be an integer (UTC ns)")
    for name, value in (("duration_s", duration_s), ("scan_period_s", scan_period_s)):
        if not (math.isfinite(value) and value > 0.0):
            raise ConfigurationError(f"{name}: {value!r} must be finite and > 0 s")
    if not 0.0 <= pd <= 1.0:
        raise ConfigurationError(f"pd: {pd!r} outside [0, 1]")
    if not (math.isfinite(false_alarms_per_dwell) and false_alarms_per_dwell >= 0.0):
        raise ConfigurationError(f"false_alarms_per_dwell: {false_alarms_per_dwell!r} must be finite and >= 0")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigurationError(f"seed: {seed!r} must be an integer >= 0")


def iter_dwells(scenario: Scenario, start_ns: int, duration_s: float, scan_period_s: float = 10.0,
                pd: float = 0.9, false_alarms_per_dwell: float = 5.0, seed: int = 0, *,
                satellites: Sequence | None = None, sensor: SensorModel | None = None,
                area: Area | None = None) -> Iterator[SyntheticDwell]:
    """The dwells of :func:`generate` (same arguments), in stamp order, produced chunk by chunk."""
    _check_generate(start_ns, duration_s, scan_period_s, pd, false_alarms_per_dwell, seed)
    sensor = SensorModel() if sensor is None else sensor
    if area is None:
        if not scenario.areas:
            raise ConfigurationError(f"scenario {scenario.name!r} has no area: pass area= (beam pointing and "
                                     "false alarms need one)")
        area = scenario.areas[0]
    lat0, lon0 = _area_centre(area)
    beam_centre = geodetic_to_ecef(lat0, lon0, 0.0)
    satellites = list(satellites_around(math.degrees(lat0), math.degrees(lon0)) if satellites is None
                      else satellites)
    if not satellites:
        raise ConfigurationError("satellites: expected at least one satellite")
    table = _schedule(int(start_ns), duration_s, scan_period_s, len(satellites))
    n_dwells = table.shape[0]
    sat, sat_vel = np.empty((n_dwells, 3)), np.empty((n_dwells, 3))
    for k, satellite in enumerate(satellites):
        mine = table[:, 1] == k
        sat[mine], sat_vel[mine] = satellite.states(table[mine, 0])
    axes = np.stack([antenna_axes(s, v, beam_centre) for s, v in zip(sat, sat_vel)])
    e1, e2 = circle_bases(sat, axes)
    x_hat, y_hat = np.ascontiguousarray(axes[:, 0]), np.ascontiguousarray(axes[:, 1])
    sigmas = np.array([sensor.range_std_m, sensor.cone_angle_std_rad, sensor.elevation_std_rad,
                       sensor.range_rate_std_mps, sensor.altitude_std_m])
    h_a = sensor.assumed_altitude_m
    fa_speed = sensor.false_alarm_speed_mps

    sampler = TruthSampler(scenario)
    n_targets = len(sampler)
    chunk = max(1, _CHUNK_CELLS // max(n_targets, 1))
    for c0 in range(0, n_dwells, chunk):
        rows = np.arange(c0, min(n_dwells, c0 + chunk))
        present, truth_pos, truth_vel = sampler.target_major(table[rows, 0])
        # pass 1, per dwell: detections, false alarms and the row order; pass 2: the noise, drawn
        # straight into the chunk's buffer by the same generators (the per-dwell draw order is fixed).
        gens, hits, fas, orders = [], [], [], []
        for r, d in enumerate(rows):
            gen = np.random.default_rng([seed, int(table[d, 1]), int(table[d, 2])])
            hits.append(np.flatnonzero((gen.random(n_targets) < pd) & present[:, r]))
            n_fa = int(gen.poisson(false_alarms_per_dwell))
            fa_lat, fa_lon = area.sample_points(n_fa, gen)
            fas.append((fa_lat, fa_lon, gen.uniform(-fa_speed, fa_speed, n_fa)))
            orders.append(gen.permutation(hits[-1].size + n_fa))
            gens.append(gen)
        counts = np.array([o.size for o in orders], dtype=np.int64)
        ends = np.cumsum(counts)
        total = int(ends[-1])
        target = np.empty(total, dtype=np.int64)
        column = np.empty(total, dtype=np.int64)
        noise = np.zeros((total, 5))
        fa_base = 0
        for r, (gen, hit, fa, order) in enumerate(zip(gens, hits, fas, orders)):
            a, b = int(ends[r] - counts[r]), int(ends[r])
            n_fa = fa[0].size
            target[a:b] = np.concatenate([hit, np.full(n_fa, -1)])[order]
            column[a:b] = np.concatenate([np.full(hit.size, r), fa_base + np.arange(n_fa)])[order]
            gen.standard_normal(out=noise[a:a + hit.size])
            noise[a:b] = noise[a:b][order]     # row j of the dwell is source row order[j]
            fa_base += n_fa
        fa_pos = geodetic_to_ecef(np.concatenate([f[0] for f in fas]), np.concatenate([f[1] for f in fas]),
                                  np.full(fa_base, h_a)).reshape(-1, 3)
        fa_rate = np.concatenate([f[2] for f in fas])
        dwell_of = np.repeat(rows, counts)
        pos, cov = np.empty((total, 3)), np.empty((total, 3, 3))
        geo, meas, valid = np.empty((3, total)), np.empty((4, total)), np.empty(total, dtype=bool)
        _detect_kernel(dwell_of, target, column, truth_pos, truth_vel, fa_pos, fa_rate, noise, sat, sat_vel,
                       x_hat, y_hat, e1, e2, sigmas, h_a, sensor.altitude_errors == "white",
                       sensor.second_order_altitude, pos, cov, geo, meas, valid)
        truth_id = np.full(total, -1, dtype=np.int64)
        truth_id[target >= 0] = sampler.target_id[target[target >= 0]]
        for r, d in enumerate(rows):
            sl = slice(int(ends[r] - counts[r]), int(ends[r]))
            keep = sl if valid[sl].all() else np.flatnonzero(valid[sl]) + sl.start
            k = int(valid[sl].sum())
            yield SyntheticDwell(
                stamp_ns=int(table[d, 0]), satellite_id=str(satellites[int(table[d, 1])].satellite_id),
                dwell_id=int(table[d, 2]), satellite_position_ecef=sat[d].copy(),
                satellite_velocity_ecef=sat_vel[d].copy(), beam_centre_ecef=beam_centre.copy(),
                position_ecef=pos[keep], position_covariance_ecef=cov[keep], latitude_rad=geo[0, keep],
                longitude_rad=geo[1, keep], altitude_m=geo[2, keep],
                range_m=meas[0, keep], range_std_m=np.full(k, sigmas[0]),
                azimuth_rad=meas[1, keep], azimuth_std_rad=np.full(k, sigmas[1]),
                elevation_rad=meas[2, keep], elevation_std_rad=np.full(k, sigmas[2]),
                range_rate_mps=meas[3, keep], range_rate_std_mps=np.full(k, sigmas[3]),
                truth_id=truth_id[keep])


def generate(scenario: Scenario, start_ns: int, duration_s: float, scan_period_s: float = 10.0, pd: float = 0.9,
             false_alarms_per_dwell: float = 5.0, seed: int = 0, *, satellites: Sequence | None = None,
             sensor: SensorModel | None = None, area: Area | None = None) -> list[SyntheticDwell]:
    """Synthetic dwells of ``satellites`` over ``scenario`` from ``start_ns`` for ``duration_s``, by stamp.

    Parameters
    ----------
    scenario : Scenario
        The truth (:mod:`sbamti.tracking.synthetic_targets`, or a loaded radar scenario).
    start_ns : int
        UTC ns of the first dwell (of the first satellite).
    duration_s, scan_period_s : float
        Span of the dwells and each satellite's revisit period, s; satellites are staggered by
        ``scan_period_s / len(satellites)``.
    pd : float
        Detection probability per target and dwell, [0, 1].
    false_alarms_per_dwell : float
        Mean of the Poisson number of false alarms per dwell.
    seed : int
        Dwell ``(k, j)`` draws from ``default_rng([seed, k, j])``: same seed, same dwells.
    satellites : sequence, optional
        Objects with ``satellite_id`` and ``states(utc_ns)`` (ECEF (m, 3) position and velocity);
        default: :func:`satellites_around` the area centre.
    sensor : SensorModel, optional
        Errors and geolocation assumptions; default ``SensorModel()``.
    area : Area, optional
        Beam centre and false-alarm region; default the scenario's first area.

    Returns
    -------
    list of SyntheticDwell
        The model is in the module docstring. For runs too large for memory iterate :func:`iter_dwells`.
    """
    return list(iter_dwells(scenario, start_ns, duration_s, scan_period_s, pd, false_alarms_per_dwell, seed,
                            satellites=satellites, sensor=sensor, area=area))
def delayed(dwells: Sequence[SyntheticDwell], max_delay_s: float, seed: int, *,
            model: str = "store_and_forward") -> list[DelayedDwell]:
    """The dwells in the order they reach the ground, with their arrival times (OOSM tests).

    ``model="store_and_forward"``: each satellite downlinks at contacts every ``0.75 max_delay_s``
    (random phase per satellite); a dwell waits for its satellite's next contact and arrives within
    the first ``0.25 max_delay_s`` of it, at a uniform time (retransmissions reorder a contact's dwells).
    ``model="uniform"``: independent delays U(0, max_delay_s). Either way ``0 <= delay <= max_delay_s``;
    the result is sorted by arrival (ties by stamp) and is a permutation of ``dwells``.
    """
    if not (math.isfinite(max_delay_s) and max_delay_s >= 0.0):
        raise ConfigurationError(f"max_delay_s: {max_delay_s!r} must be finite and >= 0")
    if model not in ("store_and_forward", "uniform"):
        raise ConfigurationError(f"model: {model!r} must be 'store_and_forward' or 'uniform'")
    gen = np.random.default_rng(seed)
    stamps = np.array([d.stamp_ns for d in dwells], dtype=np.int64)
    max_ns = round(max_delay_s * NANOSECONDS_PER_SECOND)
    if model == "uniform":
        delay = gen.integers(0, max_ns, stamps.size, endpoint=True)
    else:
        period = max(round(0.75 * max_ns), 1)
        spread = max_ns - period
        delay = np.empty(stamps.size, dtype=np.int64)
        t0 = int(stamps.min()) if stamps.size else 0
        ids = np.array([d.satellite_id for d in dwells], dtype=object)
        for sid in sorted(set(ids)):
            mine = np.flatnonzero(ids == sid)
            phase = int(gen.integers(0, period))
            since = stamps[mine] - t0 - phase
            contact = t0 + phase + -(-since // period) * period     # next contact at or after the stamp
            delay[mine] = contact - stamps[mine] + gen.integers(0, spread, mine.size, endpoint=True)
    arrival = stamps + delay
    order = np.lexsort((stamps, arrival))
    return [DelayedDwell(int(arrival[i]), dwells[i]) for i in order]
