"""Track management: the track store and the initiator, confirmer and deleter roles (pure: numpy, never rclpy).

The :class:`~sbamti.tracking.tracker.Tracker` composes these roles with a filter, a gater and an
associator; each role here is a small object with one method, tested on its own.

Track store
-----------
:class:`TrackStore` holds every live track as a struct of arrays (row ``i`` is one track; rows are
kept in creation order, so in ascending id order):

=================  ===================  =========================================================
field              shape, dtype         meaning
=================  ===================  =========================================================
``id``             (n,) int64           stable id, from 1, never reused
``status``         (n,) int8            :class:`TrackStatus`
``state``          ImmState (n, m, d)   filter state at ``last_update_ns`` (m = 1: a single EKF)
``last_update_ns`` (n,) int64           UTC ns of the state (the last update or the initiation)
``history``        (n,) uint64          hit/miss bits of the opportunities, bit 0 the latest (1: hit)
``opportunities``  (n,) int64           opportunities so far (how many ``history`` bits are valid)
``misses``         (n,) int64           consecutive misses (0 after a hit)
``hits``           (n,) int64           hits so far, the initiating detection included
``quality``        (n,) float64         hits / opportunities over the last ``window`` opportunities
``satellites``     (n,) uint64          bit ``b`` set: satellite ``satellite_ids[b]`` contributed
=================  ===================  =========================================================

A track's state is stored at its own last update time: a missed opportunity changes its history,
not its state (the next prediction starts from the last update, which for these Markov models is
the same as chaining the predictions).

Opportunities
-------------
A dwell is an *opportunity* for a track when its coverage (a circle of radius
``coverage_radius_m`` about ``coverage_centre_ecef``, distances measured across the local vertical
at the centre, :func:`in_coverage`) contains the track's predicted position. Only opportunities
enter the history: a track outside a dwell's coverage neither hits nor misses.

Roles
-----
* :class:`OnePointInitiator`: a new tentative track per unassigned detection, position and its
  covariance from the detection, zero velocity with a horizontal/vertical speed prior in the local
  East-North-Up frame rotated to ECEF (Blackman and Popoli, *Design and Analysis of Modern Tracking
  Systems*, Artech House 1999, Sec. 6.2, one-point initiation).
* :class:`MofNConfirmer`: tentative -> confirmed when at least ``m`` of the last ``n`` opportunities
  were hits (Blackman and Popoli Sec. 6.3); coasting -> confirmed on a hit.
* :class:`MissDeleter`: a tentative track is deleted after ``tentative_miss_limit`` consecutive
  misses; a confirmed track coasts on a miss and is deleted after ``confirmed_miss_limit``
  consecutive misses or when its predicted position covariance's largest standard deviation
  exceeds ``max_position_std_m``.

Filters
-------
The tracker needs of a filter (:class:`TrackFilter`): ``initial_state(x, P)``, ``predict(state,
dt_s)`` and ``update(state, z, R)`` on :class:`~sbamti.tracking.imm.ImmState`. The default is the
7-state IMM of constant velocity and coordinated turn (:func:`default_imm`); :class:`KalmanTrackFilter`
wraps a single motion model (the plain constant-velocity EKF) as a one-mode state.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from sbamti.tracking import kalman
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.imm import ImmFilter, ImmState, ImmUpdate
from sbamti.tracking.motion import (
    CT_STATE_DIM,
    CV_STATE_DIM,
    POSITION,
    VELOCITY,
    ConstantVelocity,
    CoordinatedTurn,
    MotionModel,
    local_up_ecef,
)

MAX_SATELLITES = 64
"""Satellites a store can tell apart (one bit each of the ``satellites`` mask)."""
HISTORY_BITS = 64
"""Opportunities kept in ``history``."""


class TrackStatus(enum.IntEnum):
    """Life cycle of a track (values stored as int8 in :attr:`TrackStore.status`)."""

    TENTATIVE = 0
    """Initiated, not yet confirmed by M of N."""
    CONFIRMED = 1
    """Confirmed; its latest opportunity was a hit."""
    COASTING = 2
    """Confirmed, but its latest opportunity was a miss: predicted without updates."""
    DELETED = 3
    """Deleted (never held by the store: deleted rows are removed at the end of the step)."""


# --- filters -----------------------------------------------------------------------------------

class TrackFilter(Protocol):
    """What the tracker needs of a filter (predictor and updater): :class:`~sbamti.tracking.imm.ImmFilter`
    or :class:`KalmanTrackFilter`."""

    def initial_state(self, x: ArrayLike, P: ArrayLike) -> ImmState:
        """n new tracks at ``x`` (n, d), ``P`` (n, d, d)."""

    def predict(self, state: ImmState, dt_s: ArrayLike) -> ImmState:
        """The states predicted over ``dt_s`` (n,), s >= 0."""

    def update(self, state: ImmState, z: ArrayLike, R: ArrayLike) -> ImmUpdate:
        """Update with ECEF positions ``z`` (n, 3), m, covariances ``R`` (n, 3, 3), m^2."""


@dataclass(frozen=True)
class KalmanTrackFilter:
    """A single motion model's (E)KF as a one-mode :class:`~sbamti.tracking.imm.ImmState` (m = 1).

    Attributes
    ----------
    model : MotionModel
        E.g. ``ConstantVelocity()`` (the plain CV EKF, 6-state).
    state_dim : int
        d: 6 for ``[p, v]``, 7 for ``[p, v, omega]``.
    """

    model: MotionModel = ConstantVelocity()
    state_dim: int = CV_STATE_DIM

    def initial_state(self, x: ArrayLike, P: ArrayLike) -> ImmState:
        x = np.asarray(x, dtype=np.float64)
        P = np.asarray(P, dtype=np.float64)
        return ImmState(x[:, None], P[:, None], np.ones((x.shape[0], 1)))

    def predict(self, state: ImmState, dt_s: ArrayLike) -> ImmState:
        x, P = kalman.predict(state.x[:, 0], state.P[:, 0], dt_s, self.model)
        return ImmState(x[:, None], P[:, None], state.mu)

    def update(self, state: ImmState, z: ArrayLike, R: ArrayLike) -> ImmUpdate:
        result = kalman.update_position(state.x[:, 0], state.P[:, 0], z, R)
        ll = result.log_likelihood
        return ImmUpdate(ImmState(result.x[:, None], result.P[:, None], state.mu), ll, ll[:, None])


def default_imm(accel_psd_horizontal_m2_s3: float = 0.5, accel_psd_vertical_m2_s3: float = 0.05,
                turn_rate_psd_rad2_s3: float = 1e-4) -> ImmFilter:
    """The default filter: IMM of constant velocity and coordinated turn on ``[p, v, omega]`` (7-state).

    Mode switching ``[[0.95, 0.05], [0.1, 0.9]]`` per 10 s (a straight leg lasts ~200 s, a turn ~100 s
    on average). Densities in m^2/s^3 (acceleration) and rad^2/s^3 (turn rate), as in
    :mod:`sbamti.tracking.motion`.
    """
    return ImmFilter((ConstantVelocity(accel_psd_horizontal_m2_s3, accel_psd_vertical_m2_s3),
                      CoordinatedTurn(accel_psd_horizontal_m2_s3, accel_psd_vertical_m2_s3, turn_rate_psd_rad2_s3)),
                     [[0.95, 0.05], [0.1, 0.9]], 10.0)


def filter_state_dim(track_filter: TrackFilter) -> int:
    """State length d a filter works on: its ``state_dim``, else 7 for an IMM with a coordinated-turn mode, else 6."""
    dim = getattr(track_filter, "state_dim", None)
    if dim is not None:
        return int(dim)
    models = getattr(track_filter, "models", ())
    return CT_STATE_DIM if any(isinstance(m, CoordinatedTurn) for m in models) else CV_STATE_DIM


def combined_mean(state: ImmState) -> np.ndarray:
    """``sum_j mu_j x_j`` (n, d): the mixture mean (cheap; :meth:`ImmState.combined` also gives P)."""
    return np.einsum("nm,nmd->nd", state.mu, state.x)


# --- opportunities -----------------------------------------------------------------------------

def in_coverage(position_ecef_m: ArrayLike, centre_ecef_m: ArrayLike, radius_m: float) -> np.ndarray:
    """Mask (n,): positions (n, 3) within ``radius_m`` of the coverage centre (3,) across its local vertical.

    The distance is ``|d - (d . u) u|`` with ``d`` the offset from the centre and ``u`` the WGS 84
    normal at the centre: a target's height does not take it out of coverage.
    """
    p = np.asarray(position_ecef_m, dtype=np.float64).reshape(-1, 3)
    c = np.asarray(centre_ecef_m, dtype=np.float64).reshape(3)
    u = local_up_ecef(c[None])[0]
    d = p - c
    across = d - (d @ u)[:, None] * u
    return np.einsum("ij,ij->i", across, across) <= float(radius_m) ** 2


# --- store -------------------------------------------------------------------------------------

class TrackStore:
    """Live tracks as a struct of arrays (field table in the module docstring).

    Parameters
    ----------
    state_dim : int
        d of the filter's state.
    num_modes : int
        m of the filter (1 for a single EKF).
    window : int
        Opportunities over which ``quality`` is the hit fraction (the confirmer's N is a natural choice).
    """

    def __init__(self, state_dim: int, num_modes: int, window: int = 5) -> None:
        if not 1 <= window <= HISTORY_BITS:
            raise TrackingError(f"window = {window!r}: expected 1 .. {HISTORY_BITS} opportunities")
        self.state_dim = int(state_dim)
        self.num_modes = int(num_modes)
        self.window = int(window)
        self.id = np.empty(0, dtype=np.int64)
        self.status = np.empty(0, dtype=np.int8)
        self.state = ImmState(np.empty((0, num_modes, state_dim)), np.empty((0, num_modes, state_dim, state_dim)),
                              np.empty((0, num_modes)))
        self.last_update_ns = np.empty(0, dtype=np.int64)
        self.history = np.empty(0, dtype=np.uint64)
        self.opportunities = np.empty(0, dtype=np.int64)
        self.misses = np.empty(0, dtype=np.int64)
        self.hits = np.empty(0, dtype=np.int64)
        self.quality = np.empty(0, dtype=np.float64)
        self.satellites = np.empty(0, dtype=np.uint64)
        self.satellite_ids: list[str] = []
        self._next_id = 1

    def __len__(self) -> int:
        return int(self.id.size)

    def satellite_bit(self, satellite_id: str) -> np.uint64:
        """The mask bit of ``satellite_id`` (registered on first sight, in order of appearance)."""
        try:
            b = self.satellite_ids.index(satellite_id)
        except ValueError:
            if len(self.satellite_ids) >= MAX_SATELLITES:
                raise TrackingError(f"satellite {satellite_id!r}: the store tells apart at most {MAX_SATELLITES} "
                                    "satellites") from None
            self.satellite_ids.append(satellite_id)
            b = len(self.satellite_ids) - 1
        return np.uint64(1) << np.uint64(b)

    def satellites_of(self, mask: int) -> frozenset[str]:
        """The satellite ids of a ``satellites`` mask."""
        return frozenset(s for b, s in enumerate(self.satellite_ids) if int(mask) >> b & 1)

    def add(self, state: ImmState, stamp_ns: int, satellite_mask: np.uint64) -> np.ndarray:
        """Append ``state.num_tracks`` tentative tracks (one hit: their initiating detection); returns their ids."""
        k = state.num_tracks
        ids = np.arange(self._next_id, self._next_id + k, dtype=np.int64)
        self._next_id += k
        s = self.state
        self.state = ImmState(np.concatenate([s.x, state.x]), np.concatenate([s.P, state.P]),
                              np.concatenate([s.mu, state.mu]))
        self.id = np.concatenate([self.id, ids])
        self.status = np.concatenate([self.status, np.full(k, TrackStatus.TENTATIVE, dtype=np.int8)])
        self.last_update_ns = np.concatenate([self.last_update_ns, np.full(k, stamp_ns, dtype=np.int64)])
        self.history = np.concatenate([self.history, np.ones(k, dtype=np.uint64)])
        self.opportunities = np.concatenate([self.opportunities, np.ones(k, dtype=np.int64)])
        self.misses = np.concatenate([self.misses, np.zeros(k, dtype=np.int64)])
        self.hits = np.concatenate([self.hits, np.ones(k, dtype=np.int64)])
        self.quality = np.concatenate([self.quality, np.ones(k)])
        self.satellites = np.concatenate([self.satellites, np.full(k, satellite_mask, dtype=np.uint64)])
        return ids

    def record(self, rows: ArrayLike, hit: bool) -> None:
        """Shift one opportunity (hit or miss) into the history of the tracks ``rows`` (integer indices)."""
        rows = np.asarray(rows, dtype=np.int64)
        self.history[rows] = (self.history[rows] << np.uint64(1)) | np.uint64(hit)
        self.opportunities[rows] += 1
        if hit:
            self.misses[rows] = 0
            self.hits[rows] += 1
        else:
            self.misses[rows] += 1
        self.quality[rows] = (hits_in_window(self.history[rows], self.window)
                              / np.minimum(self.opportunities[rows], self.window))

    def write(self, rows: ArrayLike, state: ImmState, stamp_ns: int, satellite_mask: np.uint64) -> None:
        """Store updated states of the tracks ``rows`` at ``stamp_ns``, crediting the satellite."""
        rows = np.asarray(rows, dtype=np.int64)
        self.state.x[rows] = state.x
        self.state.P[rows] = state.P
        self.state.mu[rows] = state.mu
        self.last_update_ns[rows] = stamp_ns
        self.satellites[rows] |= satellite_mask

    def remove_deleted(self) -> np.ndarray:
        """Drop the rows with status DELETED; returns their ids."""
        gone = self.status == TrackStatus.DELETED
        if not gone.any():
            return np.empty(0, dtype=np.int64)
        ids = self.id[gone]
        keep = ~gone
        self.state = self.state.take(keep)
        for name in ("id", "status", "last_update_ns", "history", "opportunities", "misses", "hits", "quality",
                     "satellites"):
            setattr(self, name, getattr(self, name)[keep])
        return ids


def hits_in_window(history: ArrayLike, window: int) -> np.ndarray:
    """Hits (n,) int64 among the last ``window`` opportunities of ``history`` bit masks (n,) uint64."""
    h = np.asarray(history, dtype=np.uint64) & np.uint64((1 << window) - 1 if window < 64 else 2**64 - 1)
    count = np.zeros(h.shape, dtype=np.int64)
    for _ in range(window):                      # window <= 64 shifts of a small array: cheap and exact
        count += (h & np.uint64(1)).astype(np.int64)
        h = h >> np.uint64(1)
    return count


# --- roles -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OnePointInitiator:
    """One-point initiation: a detection's position and covariance, zero velocity with a speed prior.

    Attributes
    ----------
    speed_std_horizontal_mps : float
        1-sigma of each horizontal (East, North) velocity component, m/s (250: airliners and fighters
        from a standing start of knowledge).
    speed_std_vertical_mps : float
        1-sigma of the vertical velocity, m/s (10).
    turn_rate_std_rad_s : float
        1-sigma of the turn rate on a 7-state, rad/s (0.05: 1 g at 200 m/s is 0.049 rad/s).

    Notes
    -----
    The velocity covariance is ``R_enu^T diag(sh^2, sh^2, sv^2) R_enu = sh^2 I + (sv^2 - sh^2) u u^T``
    with ``u`` the WGS 84 normal at the detection (the ENU rotation's Up row), so ``u^T P_v u = sv^2``.
    Position-velocity cross terms are zero.
    """

    speed_std_horizontal_mps: float = 250.0
    speed_std_vertical_mps: float = 10.0
    turn_rate_std_rad_s: float = 0.05

    def __post_init__(self) -> None:
        for name in ("speed_std_horizontal_mps", "speed_std_vertical_mps", "turn_rate_std_rad_s"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0.0):
                raise TrackingError(f"OnePointInitiator.{name} = {value!r}: expected a finite value > 0")

    def initiate(self, position_ecef_m: ArrayLike, covariance_ecef_m2: ArrayLike,
                 state_dim: int = CT_STATE_DIM) -> tuple[np.ndarray, np.ndarray]:
        """Initial states (k, d) and covariances (k, d, d) from detections (k, 3) m, (k, 3, 3) m^2."""
        p = np.asarray(position_ecef_m, dtype=np.float64).reshape(-1, 3)
        r = np.asarray(covariance_ecef_m2, dtype=np.float64).reshape(-1, 3, 3)
        k = p.shape[0]
        if state_dim not in (CV_STATE_DIM, CT_STATE_DIM):
            raise TrackingError(f"state_dim = {state_dim!r}: expected {CV_STATE_DIM} or {CT_STATE_DIM}")
        x = np.zeros((k, state_dim))
        x[:, POSITION] = p
        P = np.zeros((k, state_dim, state_dim))
        P[:, POSITION, POSITION] = 0.5 * (r + r.transpose(0, 2, 1))
        if k:
            u = local_up_ecef(p)
            sh2, sv2 = self.speed_std_horizontal_mps ** 2, self.speed_std_vertical_mps ** 2
            P[:, VELOCITY, VELOCITY] = sh2 * np.eye(3) + (sv2 - sh2) * (u[:, :, None] * u[:, None, :])
        if state_dim == CT_STATE_DIM:
            P[:, 6, 6] = self.turn_rate_std_rad_s ** 2
        return x, P


@dataclass(frozen=True)
class MofNConfirmer:
    """M-of-N confirmation over the opportunities (the initiating detection counts as the first hit).

    Attributes
    ----------
    m : int
        Hits needed (3).
    n : int
        Among the last n opportunities (5), ``1 <= m <= n <= 64``.
    """

    m: int = 3
    n: int = 5

    def __post_init__(self) -> None:
        if not 1 <= self.m <= self.n <= HISTORY_BITS:
            raise TrackingError(f"MofNConfirmer: m = {self.m!r}, n = {self.n!r}: expected 1 <= m <= n <= {HISTORY_BITS}")

    def confirm(self, status: ArrayLike, history: ArrayLike) -> np.ndarray:
        """New statuses (int8) of tracks whose latest opportunity was a hit.

        TENTATIVE with at least ``m`` hits in the last ``n`` bits of ``history`` -> CONFIRMED;
        COASTING -> CONFIRMED; anything else unchanged.
        """
        status = np.asarray(status, dtype=np.int8).copy()
        enough = hits_in_window(history, self.n) >= self.m
        status[(status == TrackStatus.TENTATIVE) & enough] = TrackStatus.CONFIRMED
        status[status == TrackStatus.COASTING] = TrackStatus.CONFIRMED
        return status


@dataclass(frozen=True)
class MissDeleter:
    """Deletion on misses and on covariance growth.

    Attributes
    ----------
    tentative_miss_limit : int
        A tentative track is deleted at this many consecutive misses (2).
    confirmed_miss_limit : int
        A confirmed track coasts on its first miss and is deleted at this many consecutive misses
        (5: with Pd 0.9, 1e-5 per opportunity for a real target; 3 satellites at 10 s revisit give
        ~17 s of coasting).
    max_position_std_m : float
        A missed track whose predicted position covariance has a larger largest standard deviation
        is deleted, m (20 km: the onboard geolocation's own largest sigma is ~6 km).
    """

    tentative_miss_limit: int = 2
    confirmed_miss_limit: int = 5
    max_position_std_m: float = 20e3

    def __post_init__(self) -> None:
        if self.tentative_miss_limit < 1 or self.confirmed_miss_limit < 1:
            raise TrackingError(f"MissDeleter: miss limits {self.tentative_miss_limit!r}, {self.confirmed_miss_limit!r}: "
                                "expected >= 1")
        if not (np.isfinite(self.max_position_std_m) and self.max_position_std_m > 0.0):
            raise TrackingError(f"MissDeleter.max_position_std_m = {self.max_position_std_m!r}: expected a finite value > 0 m")

    def after_miss(self, status: ArrayLike, consecutive_misses: ArrayLike,
                   position_cov_m2: ArrayLike | None = None) -> np.ndarray:
        """New statuses (int8) of tracks whose latest opportunity was a miss.

        Parameters
        ----------
        status : (n,)
            Current statuses.
        consecutive_misses : (n,)
            Consecutive misses, this one included.
        position_cov_m2 : (n, 3, 3), optional
            Predicted position covariances at the missed dwell, m^2.
        """
        status = np.asarray(status, dtype=np.int8).copy()
        misses = np.asarray(consecutive_misses)
        tentative = status == TrackStatus.TENTATIVE
        confirmed = (status == TrackStatus.CONFIRMED) | (status == TrackStatus.COASTING)
        status[confirmed] = TrackStatus.COASTING
        gone = (tentative & (misses >= self.tentative_miss_limit)) | (confirmed & (misses >= self.confirmed_miss_limit))
        if position_cov_m2 is not None and status.size:
            cov = np.asarray(position_cov_m2, dtype=np.float64)
            finite = np.all(np.isfinite(cov), axis=(1, 2))
            largest = np.linalg.eigvalsh(np.where(finite[:, None, None], cov, 0.0))[:, -1]
            gone |= ~finite | (largest > self.max_position_std_m ** 2)
        status[gone] = TrackStatus.DELETED
        return status
