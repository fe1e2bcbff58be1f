"""GNN associator: optimal against brute-force enumeration and against one dense assignment over all
rows, crossing targets, gated-out and negative-LLR pairs stay unassigned, ties, per-track P_D, errors.

Benchmark (not run by the tests; the gater's candidates for 10,000 tracks x 3,000 detections, see
``test/test_tracking_gating.py``)::

    .venv/bin/python test/test_tracking_association.py

Measured on the project machine (2 shared cores, a CI run alongside): ``assign`` 18-19 ms for 22,572
candidates (9,021 with LLR > 0 at the defaults P_D = 0.9, beta = 1e-12 m^-3), 2,991 pairs assigned.
"""

import itertools
import math
import time

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from sbamti.tracking.association import Assignment, GnnAssociator
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.gating import Candidates, ChiSquareGater

ORIGIN = np.array([3_621_000.0, 970_000.0, 5_137_000.0])      # ~54 N 15 E on the ellipsoid, m


def candidates_from(ti, di, ll):
    ti, di, ll = (np.asarray(a) for a in (ti, di, ll))
    return Candidates(ti.astype(np.int64), di.astype(np.int64), np.zeros(ti.size), ll.astype(np.float64))


def check_valid(a: Assignment, n, k, c: Candidates):
    assert np.unique(a.track).size == a.track.size and np.unique(a.detection).size == a.detection.size
    assert np.array_equal(np.sort(np.concatenate([a.track, a.unassigned_tracks])), np.arange(n))
    assert np.array_equal(np.sort(np.concatenate([a.detection, a.unassigned_detections])), np.arange(k))
    pairs = set(zip(c.track.tolist(), c.detection.tolist()))
    assert all(p in pairs for p in zip(a.track.tolist(), a.detection.tolist()))
    assert np.all(np.diff(a.track) > 0)
    assert np.all(a.log_likelihood_ratio > 0)


def brute_force_best(n, k, llr: dict) -> float:
    """Maximum summed LLR over every matching (each track: one of its detections or none)."""
    best = 0.0
    options = [[None] + [j for j in range(k) if (i, j) in llr] for i in range(n)]
    for choice in itertools.product(*options):
        used = [j for j in choice if j is not None]
        if len(used) != len(set(used)):
            continue
        best = max(best, sum(llr[(i, j)] for i, j in enumerate(choice) if j is not None))
    return best


@pytest.mark.parametrize("seed", range(40))
def test_optimal_against_brute_force_enumeration(seed):
    rng = np.random.default_rng(seed)
    n, k = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    mask = rng.random((n, k)) < 0.6
    ti, di = np.nonzero(mask)
    associator = GnnAssociator(pd=0.9, clutter_density_per_m3=1e-12)
    offset = math.log(0.9) - math.log(0.1) - math.log(1e-12)
    llr_target = rng.normal(1.0, 2.0, ti.size)                       # about a third negative
    c = candidates_from(ti, di, llr_target - offset)
    a = associator.assign(n, k, c)
    check_valid(a, n, k, c)
    llr = dict(zip(zip(ti.tolist(), di.tolist()), llr_target.tolist()))
    assert a.log_likelihood_ratio.sum() == pytest.approx(brute_force_best(n, k, llr), abs=1e-9)
    np.testing.assert_allclose(a.log_likelihood_ratio, [llr[p] for p in zip(a.track.tolist(), a.detection.tolist())])


def test_equal_to_one_dense_assignment_over_all_rows():
    """Splitting into components loses nothing: the same total as one dense problem with a dummy per track."""
    rng = np.random.default_rng(5)
    n, k = 400, 300
    tp = ORIGIN + rng.uniform(-40e3, 40e3, (n, 3))
    dp = np.concatenate([tp[:250] + rng.normal(0, 300.0, (250, 3)), ORIGIN + rng.uniform(-40e3, 40e3, (50, 3))])
    tc = np.eye(3)[None] * rng.uniform(100.0, 3000.0, n)[:, None, None] ** 2
    dc = np.eye(3)[None] * np.full(k, 300.0)[:, None, None] ** 2
    c = ChiSquareGater().candidates(tp, tc, dp, dc)
    associator = GnnAssociator(pd=0.9, clutter_density_per_m3=1e-14)
    a = associator.assign(n, k, c)
    check_valid(a, n, k, c)
    llr = associator.log_likelihood_ratio(c)
    big = 1.0 + np.abs(llr).sum()
    cost = np.full((n, k + n), big)
    cost[c.track, c.detection] = np.where(llr > 0, -llr, big)
    cost[np.arange(n), k + np.arange(n)] = 0.0
    r, col = linear_sum_assignment(cost)
    dense_total = -cost[r, col].sum()
    assert a.log_likelihood_ratio.sum() == pytest.approx(dense_total, rel=1e-12)
    assert len(a) > 200 and len(np.unique(c.track)) < len(c)         # coupled components were exercised


def test_crossing_targets_resolved_by_their_covariances():
    """Both tracks predicted at the crossing point; each detection 400 m from both predictions. Along-track
    uncertainty (1 km) is large and cross-track (100 m) small, so Mahalanobis tells them apart although
    both detections are in both gates (each track's wrong detection at d2 = 16.0 < 21.1)."""
    tp = np.stack([ORIGIN, ORIGIN])
    ex, ey, _ = np.eye(3)
    tc = np.stack([np.diag([1000.0, 100.0, 100.0]) ** 2, np.diag([100.0, 1000.0, 100.0]) ** 2])   # A flies along x, B y
    dp = np.stack([ORIGIN + 400.0 * ex + 50.0 * ey, ORIGIN - 400.0 * ey + 50.0 * ex])
    dc = np.stack([np.eye(3) * 1.0, np.eye(3) * 1.0])
    c = ChiSquareGater().candidates(tp, tc, dp, dc)
    assert len(c) == 4
    a = GnnAssociator(pd=0.9, clutter_density_per_m3=1e-12).assign(2, 2, c)
    assert a.track.tolist() == [0, 1] and a.detection.tolist() == [0, 1]
    assert a.unassigned_tracks.size == 0 and a.unassigned_detections.size == 0


def test_joint_optimum_beats_the_greedy_choice():
    """Track 0 likes detection 0 best, but only detection 0 is available to track 1: GNN gives 0 -> 1, 1 -> 0."""
    offset = math.log(0.9) - math.log(0.1) - math.log(1e-12)
    c = candidates_from([0, 0, 1], [0, 1, 0], np.array([5.0, 4.0, 3.0]) - offset)
    a = GnnAssociator().assign(2, 2, c)
    assert a.track.tolist() == [0, 1] and a.detection.tolist() == [1, 0]
    np.testing.assert_allclose(a.log_likelihood_ratio, [4.0, 3.0])


def test_detection_outside_every_gate_stays_unassigned():
    tp = ORIGIN + np.array([[0.0, 0.0, 0.0], [20e3, 0.0, 0.0]])
    tc = np.eye(3)[None].repeat(2, 0) * 200.0**2
    dp = np.stack([tp[0] + 100.0, tp[1] - 100.0, ORIGIN + np.array([10e3, 0.0, 0.0])])
    dc = np.eye(3)[None].repeat(3, 0) * 50.0**2
    c = ChiSquareGater().candidates(tp, tc, dp, dc)
    a = GnnAssociator().assign(2, 3, c)
    assert a.unassigned_detections.tolist() == [2]
    assert a.detection.tolist() == [0, 1]


def test_pairs_with_positive_cost_never_assigned():
    """LLR < 0 (cost > 0): the pair is worse than 'missed and clutter', even for a track with no other choice."""
    offset = math.log(0.9) - math.log(0.1) - math.log(1e-12)
    c = candidates_from([0, 1, 2, 2], [0, 1, 1, 2], np.array([-0.5, 2.0, -1e-9, 1e-9]) - offset)
    a = GnnAssociator().assign(3, 3, c)
    assert a.track.tolist() == [1, 2] and a.detection.tolist() == [1, 2]
    assert a.unassigned_tracks.tolist() == [0] and a.unassigned_detections.tolist() == [0]


def test_per_track_detection_probability_enters_the_ratio():
    associator = GnnAssociator(pd=0.9, clutter_density_per_m3=1e-12)
    ll = 1.0 - (math.log(0.9) - math.log(0.1) - math.log(1e-12))       # LLR = +1 at P_D = 0.9
    c = candidates_from([0, 1], [0, 1], [ll, ll])
    assert len(associator.assign(2, 2, c)) == 2
    a = associator.assign(2, 2, c, track_detection_probability=np.array([0.9, 0.5]))   # LLR = 1 - log 9 < 0
    assert a.track.tolist() == [0] and a.unassigned_tracks.tolist() == [1]


def test_ties_go_to_the_lower_index_and_repeat_exactly():
    offset = math.log(0.9) - math.log(0.1) - math.log(1e-12)
    c = candidates_from([0, 0, 0], [2, 1, 3], np.full(3, 2.0 - offset))     # one track, three equal detections
    assert GnnAssociator().assign(1, 4, c).detection.tolist() == [1]
    c = candidates_from([3, 1, 2], [0, 0, 0], np.full(3, 2.0 - offset))     # one detection, three equal tracks
    assert GnnAssociator().assign(4, 1, c).track.tolist() == [1]
    rng = np.random.default_rng(2)
    ti, di = np.nonzero(rng.random((30, 30)) < 0.2)
    c = candidates_from(ti, di, rng.integers(0, 3, ti.size) - offset + 0.5)  # many exact ties, coupled
    first, second = GnnAssociator().assign(30, 30, c), GnnAssociator().assign(30, 30, c)
    assert np.array_equal(first.track, second.track) and np.array_equal(first.detection, second.detection)


def test_empty_and_errors():
    associator = GnnAssociator()
    a = associator.assign(3, 2, Candidates.empty())
    assert len(a) == 0 and a.unassigned_tracks.tolist() == [0, 1, 2] and a.unassigned_detections.tolist() == [0, 1]
    with pytest.raises(TrackingError, match=r"candidates.detection: row 2 outside \[0, 2\)"):
        associator.assign(3, 2, candidates_from([0], [2], [0.0]))
    with pytest.raises(TrackingError, match=r"pair \(track 1, detection 0\) appears more than once"):
        associator.assign(3, 2, candidates_from([1, 1], [0, 0], [0.0, 0.0]))
    with pytest.raises(TrackingError, match=r"log_likelihood\[0\]"):
        associator.assign(3, 2, candidates_from([1], [0], [np.nan]))
    with pytest.raises(TrackingError, match=r"track_detection_probability\[1\] = 1.0"):
        associator.assign(3, 2, candidates_from([1], [0], [0.0]), track_detection_probability=np.array([0.5, 1.0, 0.5]))
    with pytest.raises(TrackingError, match="pd"):
        GnnAssociator(pd=1.0)
    with pytest.raises(TrackingError, match="clutter_density_per_m3"):
        GnnAssociator(clutter_density_per_m3=0.0)


# --- benchmark (python test/test_tracking_association.py) --------------------------------------

def main():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_tracking_gating import main as gating_main

    tp, _, dp, _, c = gating_main()
    associator = GnnAssociator()
    for _ in range(3):
        t0 = time.perf_counter()
        a = associator.assign(len(tp), len(dp), c)
        t1 = time.perf_counter()
        print(f"assign {1e3 * (t1 - t0):.1f} ms: {len(c)} candidates, "
              f"{int(np.sum(associator.log_likelihood_ratio(c) > 0))} with LLR > 0, {len(a)} assigned")


if __name__ == "__main__":
    main()
