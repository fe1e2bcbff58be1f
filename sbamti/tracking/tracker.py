"""The ground tracker: one step per satellite dwell, composed of roles (pure: numpy, never rclpy).

:class:`Tracker` is built from a filter (predictor and updater,
:class:`~sbamti.tracking.management.TrackFilter`), a gater, an associator, an initiator, a confirmer
and a deleter, and keeps its tracks in a :class:`~sbamti.tracking.management.TrackStore`. Per dwell
(:meth:`Tracker.step`):

1. validate the rows (:class:`DwellInput`): a non-finite position, a covariance that is not
   positive definite, or a stamp more than ``max_future_s`` after the latest accepted stamp rejects
   the row (the whole dwell for the stamp), counted by reason in :attr:`Tracker.rejections`; the
   rest of the dwell is processed;
2. select the tracks for which the dwell is an *opportunity*: their position extrapolated to the
   stamp lies in the dwell's coverage (:func:`~sbamti.tracking.management.in_coverage`); predict
   those, from their own last update times, to the stamp;
3. gate the detections against the predicted positions and assign them (global nearest neighbour);
4. update the assigned tracks (a hit: M-of-N confirmation, coasting tracks confirmed again);
   the other opportunities are misses (tentative tracks deleted after a few, confirmed ones coast,
   then are deleted);
5. initiate a tentative track from each unassigned detection that lies in no confirmed or coasting
   track's gate (a detection a confirmed track gated but lost to another detection is much more
   likely clutter or a split than a new target);
6. drop the deleted tracks.

Out-of-sequence dwells are NOT handled yet
------------------------------------------
Tracks are stored at their own last update times. A dwell older than a track's last update cannot
update it (that needs retrodiction, a later addition): such a track is skipped for that dwell (no
hit, no miss) and counted in :attr:`Tracker.late` (track-dwell pairs) and in the step report's
``late_tracks``. The dwell's detections are still gated against the tracks that are not late, so a
late detection of a skipped track can start a duplicate tentative track (normally deleted after its
misses).

Determinism: no randomness; the same sequence of dwells gives the same tracks and ids (ids
increase in initiation order, detections initiated in their row order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from sbamti.tracking.association import GnnAssociator
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.gating import Candidates, ChiSquareGater
from sbamti.tracking.imm import ImmState
from sbamti.tracking.management import (
    MissDeleter,
    MofNConfirmer,
    OnePointInitiator,
    TrackFilter,
    TrackStatus,
    TrackStore,
    combined_mean,
    default_imm,
    filter_state_dim,
    in_coverage,
)
from sbamti.tracking.motion import POSITION, VELOCITY

NANOSECONDS_PER_SECOND = 1_000_000_000

REJECT_NON_FINITE_POSITION = "non_finite_position"
"""Rejection reason: a position component is NaN or infinite."""
REJECT_COVARIANCE = "covariance_not_positive_definite"
"""Rejection reason: the covariance is not finite or its symmetric part is not positive definite."""
REJECT_FUTURE_STAMP = "future_stamp"
"""Rejection reason (every row of the dwell): the stamp is more than ``max_future_s`` after the latest accepted one."""
REJECTION_REASONS = (REJECT_NON_FINITE_POSITION, REJECT_COVARIANCE, REJECT_FUTURE_STAMP)


@dataclass(frozen=True, eq=False)
class DwellInput:
    """One satellite dwell's detections as the tracker takes them.

    Attributes
    ----------
    stamp_ns : int
        UTC ns of the dwell.
    satellite_id : str
        The observing satellite.
    position_ecef : (k, 3)
        Detection positions, ECEF m.
    covariance_ecef : (k, 3, 3)
        Their covariances, m^2 (positive definite).
    coverage_centre_ecef : (3,)
        Centre of the area the dwell could see (the beam centre), ECEF m.
    coverage_radius_m : float
        Radius of that area across the local vertical at the centre, m.
    range_rate_mps : (k,), optional
        Range rates, m/s, positive opening (carried, not used yet).
    """

    stamp_ns: int
    satellite_id: str
    position_ecef: np.ndarray
    covariance_ecef: np.ndarray
    coverage_centre_ecef: np.ndarray
    coverage_radius_m: float
    range_rate_mps: np.ndarray | None = None

    def __post_init__(self) -> None:
        p = np.asarray(self.position_ecef, dtype=np.float64)
        if p.ndim != 2 or p.shape[1] != 3:
            if p.size == 0:
                p = p.reshape(0, 3)
            else:
                raise TrackingError(f"DwellInput.position_ecef: expected shape (k, 3), received {p.shape}")
        k = p.shape[0]
        c = np.asarray(self.covariance_ecef, dtype=np.float64)
        if c.size == 0 and k == 0:
            c = c.reshape(0, 3, 3)
        if c.shape != (k, 3, 3):
            raise TrackingError(f"DwellInput.covariance_ecef: expected shape ({k}, 3, 3), received {c.shape}")
        centre = np.asarray(self.coverage_centre_ecef, dtype=np.float64).reshape(-1)
        if centre.shape != (3,) or not np.all(np.isfinite(centre)):
            raise TrackingError(f"DwellInput.coverage_centre_ecef: expected 3 finite ECEF metres, received {centre}")
        radius = float(self.coverage_radius_m)
        if not (np.isfinite(radius) and radius > 0.0):
            raise TrackingError(f"DwellInput.coverage_radius_m = {radius!r}: expected a finite radius > 0 m")
        if self.range_rate_mps is not None:
            rr = np.asarray(self.range_rate_mps, dtype=np.float64)
            if rr.shape != (k,):
                raise TrackingError(f"DwellInput.range_rate_mps: expected shape ({k},), received {rr.shape}")
            object.__setattr__(self, "range_rate_mps", rr)
        object.__setattr__(self, "stamp_ns", int(self.stamp_ns))
        object.__setattr__(self, "satellite_id", str(self.satellite_id))
        object.__setattr__(self, "position_ecef", p)
        object.__setattr__(self, "covariance_ecef", c)
        object.__setattr__(self, "coverage_centre_ecef", centre)
        object.__setattr__(self, "coverage_radius_m", radius)

    def __len__(self) -> int:
        return int(self.position_ecef.shape[0])

    @classmethod
    def from_synthetic(cls, dwell, coverage_radius_m: float) -> DwellInput:
        """From a :class:`sbamti.tracking.synthetic.SyntheticDwell` (its beam centre as the coverage centre)."""
        return cls(dwell.stamp_ns, dwell.satellite_id, dwell.position_ecef, dwell.position_covariance_ecef,
                   dwell.beam_centre_ecef, coverage_radius_m, dwell.range_rate_mps)


@dataclass(frozen=True)
class TrackerStepReport:
    """What one :meth:`Tracker.step` did. Id arrays are int64, ascending."""

    stamp_ns: int
    satellite_id: str
    detections: int
    """Rows received."""
    rejected: dict[str, int]
    """Rows rejected in this dwell, by reason (only the reasons that occurred; ``future_stamp`` is
    present, possibly 0 for an empty dwell, whenever the dwell was rejected for its stamp)."""
    opportunities: int
    """Tracks in the dwell's coverage (hit or missed)."""
    updated: np.ndarray
    """Ids of the tracks updated (hits)."""
    updated_rows: np.ndarray
    """The dwell rows (indices into the input's k rows) that updated them, aligned with ``updated``."""
    missed: np.ndarray
    """Ids of the tracks that missed (including those then deleted)."""
    initiated: np.ndarray
    """Ids of the new tentative tracks."""
    initiated_rows: np.ndarray
    """The dwell rows they were initiated from, aligned with ``initiated``."""
    confirmed: np.ndarray
    """Ids of the tracks confirmed by this dwell (tentative -> confirmed)."""
    deleted: np.ndarray
    """Ids of the tracks deleted by this dwell."""
    late_tracks: int
    """Tracks skipped because their last update is newer than the stamp (module docstring)."""


@dataclass(frozen=True, eq=False)
class TrackPicture:
    """The live tracks (n rows, ascending id).

    Attributes
    ----------
    id : (n,) int64
    status : (n,) int8
        :class:`~sbamti.tracking.management.TrackStatus` values.
    x : (n, d)
        Combined (moment-matched) state at ``last_update_ns``, ECEF ``[p (m), v (m/s)[, omega (rad/s)]]``.
    P : (n, d, d)
        Its covariance.
    mode_probabilities : (n, m)
    last_update_ns : (n,) int64
    quality : (n,)
        Hit fraction over the last opportunities.
    satellites : tuple of frozenset of str
        The satellites whose detections updated (or started) each track.
    """

    id: np.ndarray
    status: np.ndarray
    x: np.ndarray
    P: np.ndarray
    mode_probabilities: np.ndarray
    last_update_ns: np.ndarray
    quality: np.ndarray
    satellites: tuple[frozenset[str], ...]

    def __len__(self) -> int:
        return int(self.id.size)


@dataclass(eq=False)
class Tracker:
    """Multi-satellite ground tracker composed of roles (see the module docstring for the step).

    Parameters
    ----------
    filter : TrackFilter
        Predictor and updater: :func:`~sbamti.tracking.management.default_imm` (default, 7-state
        CV + CT IMM) or :class:`~sbamti.tracking.management.KalmanTrackFilter` (e.g. the CV EKF).
    gater : ChiSquareGater
        ``candidates(track_pos (n, 3), track_pos_cov (n, 3, 3), det_pos (k, 3), det_cov (k, 3, 3))``.
    associator : GnnAssociator
        ``assign(n_tracks, n_detections, candidates)``.
    initiator : OnePointInitiator
    confirmer : MofNConfirmer
    deleter : MissDeleter
    max_future_s : float
        A dwell stamped more than this after the latest accepted stamp is rejected, s (60).
    """

    filter: TrackFilter = field(default_factory=default_imm)
    gater: ChiSquareGater = field(default_factory=ChiSquareGater)
    associator: GnnAssociator = field(default_factory=GnnAssociator)
    initiator: OnePointInitiator = field(default_factory=OnePointInitiator)
    confirmer: MofNConfirmer = field(default_factory=MofNConfirmer)
    deleter: MissDeleter = field(default_factory=MissDeleter)
    max_future_s: float = 60.0

    def __post_init__(self) -> None:
        if not (np.isfinite(self.max_future_s) and self.max_future_s >= 0.0):
            raise TrackingError(f"max_future_s = {self.max_future_s!r}: expected a finite value >= 0 s")
        self.state_dim = filter_state_dim(self.filter)
        modes = len(getattr(self.filter, "models", (None,)))
        self.store = TrackStore(self.state_dim, modes, window=self.confirmer.n)
        self.rejections: dict[str, int] = {reason: 0 for reason in REJECTION_REASONS}
        self.late = 0
        self.latest_stamp_ns: int | None = None

    # --- the step ------------------------------------------------------------------------------

    def step(self, dwell: DwellInput) -> TrackerStepReport:
        """Process one dwell (see the module docstring); returns what changed."""
        good, rejected = self._validate(dwell)
        store = self.store
        if REJECT_FUTURE_STAMP in rejected:     # the whole dwell (even an empty one): tracks untouched
            return self._report(dwell, rejected, 0, *([np.empty(0, dtype=np.int64)] * 7), 0)
        self.latest_stamp_ns = dwell.stamp_ns if self.latest_stamp_ns is None else max(self.latest_stamp_ns,
                                                                                        dwell.stamp_ns)
        z, R = dwell.position_ecef[good], dwell.covariance_ecef[good]
        satellite = store.satellite_bit(dwell.satellite_id)

        rows, dt, late = self._opportunities(dwell)
        predicted = self.filter.predict(store.state.take(rows), dt)
        x_pred, p_pred = predicted.combined()
        if rows.size and z.shape[0]:
            candidates = self.gater.candidates(x_pred[:, POSITION], p_pred[:, POSITION, POSITION], z, R)
        else:                                   # nothing to gate
            candidates = Candidates.empty()
        assignment = self.associator.assign(rows.size, z.shape[0], candidates)
        hit = np.asarray(assignment.track, dtype=np.int64)
        det = np.asarray(assignment.detection, dtype=np.int64)
        miss = np.setdiff1d(np.arange(rows.size), hit)

        updated = self.filter.update(predicted.take(hit), z[det], R[det]).state
        hit_rows = rows[hit]
        updated_ids = store.id[hit_rows]
        was_tentative = store.status[hit_rows] == TrackStatus.TENTATIVE
        store.write(hit_rows, updated, dwell.stamp_ns, satellite)
        store.record(hit_rows, hit=True)
        store.status[hit_rows] = self.confirmer.confirm(store.status[hit_rows], store.history[hit_rows])
        confirmed = store.id[hit_rows[was_tentative & (store.status[hit_rows] == TrackStatus.CONFIRMED)]]

        miss_rows = rows[miss]
        store.record(miss_rows, hit=False)
        store.status[miss_rows] = self.deleter.after_miss(store.status[miss_rows], store.misses[miss_rows],
                                                          p_pred[miss][:, POSITION, POSITION])
        missed_ids = store.id[miss_rows]

        free = self._free_detections(z.shape[0], det, candidates, store.status[rows])
        x0, p0 = self.initiator.initiate(z[free], R[free], self.state_dim)
        initiated = store.add(self.filter.initial_state(x0, p0), dwell.stamp_ns, satellite)
        deleted = store.remove_deleted()
        order = np.argsort(updated_ids)
        input_rows = np.flatnonzero(good)
        return self._report(dwell, rejected, rows.size, updated_ids[order], input_rows[det[order]], missed_ids,
                            initiated, input_rows[free], np.sort(confirmed), deleted, late)

    # --- pieces of the step --------------------------------------------------------------------

    def _validate(self, dwell: DwellInput) -> tuple[np.ndarray, dict[str, int]]:
        """Mask (k,) of the usable rows and the rejections by reason (also added to :attr:`rejections`)."""
        k = len(dwell)
        rejected: dict[str, int] = {}
        if (self.latest_stamp_ns is not None
                and dwell.stamp_ns > self.latest_stamp_ns + round(self.max_future_s * NANOSECONDS_PER_SECOND)):
            good = np.zeros(k, dtype=bool)
            rejected[REJECT_FUTURE_STAMP] = k
        else:
            finite = np.all(np.isfinite(dwell.position_ecef), axis=1)
            pd = positive_definite(dwell.covariance_ecef)
            good = finite & pd
            for reason, count in ((REJECT_NON_FINITE_POSITION, int((~finite).sum())),
                                  (REJECT_COVARIANCE, int((finite & ~pd).sum()))):
                if count:
                    rejected[reason] = count
        for reason, count in rejected.items():
            self.rejections[reason] += count
        return good, rejected

    def _opportunities(self, dwell: DwellInput) -> tuple[np.ndarray, np.ndarray, int]:
        """Rows of the tracks the dwell can see (not late, extrapolated position in coverage), their
        time steps (s) and the number of late tracks."""
        store = self.store
        late_mask = store.last_update_ns > dwell.stamp_ns
        late = int(late_mask.sum())
        self.late += late
        dt = (dwell.stamp_ns - store.last_update_ns) / NANOSECONDS_PER_SECOND
        mean = combined_mean(store.state)
        position = mean[:, POSITION] + dt[:, None] * mean[:, VELOCITY]
        seen = ~late_mask & in_coverage(position, dwell.coverage_centre_ecef, dwell.coverage_radius_m)
        rows = np.flatnonzero(seen)
        return rows, dt[rows], late

    def _free_detections(self, k: int, assigned: np.ndarray, candidates, status: np.ndarray) -> np.ndarray:
        """Detections (ascending) to initiate from: unassigned and in no confirmed or coasting track's gate."""
        free = np.ones(k, dtype=bool)
        free[assigned] = False
        track = np.asarray(candidates.track, dtype=np.int64)
        firm = status[track] != TrackStatus.TENTATIVE
        free[np.asarray(candidates.detection, dtype=np.int64)[firm]] = False
        return np.flatnonzero(free)

    def _report(self, dwell, rejected, opportunities, updated, updated_rows, missed, initiated, initiated_rows,
                confirmed, deleted, late) -> TrackerStepReport:
        return TrackerStepReport(dwell.stamp_ns, dwell.satellite_id, len(dwell), rejected, int(opportunities),
                                 updated, updated_rows, missed, initiated, initiated_rows, confirmed, deleted,
                                 int(late))

    # --- the picture ---------------------------------------------------------------------------

    def tracks(self, confirmed_only: bool = False) -> TrackPicture:
        """The live tracks; ``confirmed_only``: CONFIRMED and COASTING only."""
        store = self.store
        keep = (store.status != TrackStatus.TENTATIVE) if confirmed_only else np.ones(len(store), dtype=bool)
        state: ImmState = store.state.take(keep)
        x, P = state.combined()
        return TrackPicture(store.id[keep].copy(), store.status[keep].copy(), x, P, state.mu,
                            store.last_update_ns[keep].copy(), store.quality[keep].copy(),
                            tuple(store.satellites_of(m) for m in store.satellites[keep]))


def positive_definite(covariance: ArrayLike) -> np.ndarray:
    """Mask (k,): covariances (k, 3, 3) that are finite with a positive definite symmetric part."""
    c = np.asarray(covariance, dtype=np.float64)
    finite = np.all(np.isfinite(c), axis=(1, 2))
    sym = 0.5 * (c + c.transpose(0, 2, 1))
    sym[~finite] = np.eye(3)
    return finite & (np.linalg.eigvalsh(sym)[:, 0] > 0.0)
