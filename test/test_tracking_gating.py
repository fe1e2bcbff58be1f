"""Chi-square gater: against brute force over all pairs, the pre-gate's bound at its tight case, the
compiled kernel against its numpy twin, the gate probability (binomial bound), reach gating, errors.

Reference: the threshold ``chi2.ppf(0.9999, 3) = 21.108`` (tables, e.g. Abramowitz and Stegun 26.8).

Benchmark (not run by the tests; 10,000 tracks x 3,000 detections over a 400 km wide area, the
synthetic geolocation's covariances (1-sigma ~25 m, ~250 m, ~6 km), track 1-sigmas log-uniform from
20 m to 5 km along random axes)::

    .venv/bin/python test/test_tracking_gating.py

Measured on the project machine (2 shared cores, a CI run alongside): ``candidates`` 105-110 ms
(~0.9 M pre-gate pairs from the trees, ~25-40 ms of it, then the exact d2; 22,572 pairs in the gate,
2.3 per track on average, 53 at most, for the tracks of kilometres).
"""

import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from scipy.stats import binom

from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.gating import ChiSquareGater, pair_statistics, pregate_pairs

TWENTY_METRES = 20.0
FIVE_KILOMETRES = 5000.0
ORIGIN = np.asarray(geodetic_to_ecef(np.radians(54.0), np.radians(15.0), 0.0), dtype=np.float64).reshape(3)


def random_covariances(rng, n, sigma_low_m=TWENTY_METRES, sigma_high_m=FIVE_KILOMETRES):
    """(n, 3, 3) covariances with 1-sigmas log-uniform in [low, high] along random axes, and the axes."""
    sigma = np.exp(rng.uniform(np.log(sigma_low_m), np.log(sigma_high_m), (n, 3)))
    rot = Rotation.random(n, random_state=rng).as_matrix() if n else np.empty((0, 3, 3))
    return rot @ (sigma[:, :, None] ** 2 * np.eye(3)) @ rot.transpose(0, 2, 1)


def random_problem(seed, n=120, k=90, extent_m=30e3):
    """Tracks and detections in a cube of ``extent_m`` around a point on the ellipsoid, mixed covariances."""
    rng = np.random.default_rng(seed)
    tp = ORIGIN + rng.uniform(-extent_m / 2, extent_m / 2, (n, 3))
    dp = ORIGIN + rng.uniform(-extent_m / 2, extent_m / 2, (k, 3))
    tc = random_covariances(rng, n)
    dc = random_covariances(rng, k)
    tc[: n // 4] = random_covariances(rng, n // 4, 1.0, 30.0)           # tiny
    tc[n // 4: n // 2] = random_covariances(rng, n // 2 - n // 4, 3000.0, 8000.0)   # huge
    return tp, tc, dp, dc


def brute_force(tp, tc, dp, dc):
    """d2 and log N of all n x k pairs by dense numpy (solve and slogdet), shape (n, k) each."""
    nu = dp[None, :, :] - tp[:, None, :]
    s = tc[:, None] + dc[None, :]
    d2 = np.einsum("nki,nki->nk", nu, np.linalg.solve(s, nu[..., None])[..., 0])
    _, logdet = np.linalg.slogdet(2.0 * np.pi * s)
    return d2, -0.5 * (d2 + logdet)


@pytest.mark.parametrize("seed", range(6))
def test_candidates_equal_brute_force_over_all_pairs(seed):
    tp, tc, dp, dc = random_problem(seed)
    gater = ChiSquareGater()
    c = gater.candidates(tp, tc, dp, dc)
    d2, ll = brute_force(tp, tc, dp, dc)
    gamma = gater.gate_threshold
    inside = d2 <= gamma
    near = np.abs(d2 - gamma) < 1e-9 * gamma          # rounding may go either way there
    got = np.zeros_like(inside)
    got[c.track, c.detection] = True
    assert np.array_equal(got & ~near, inside & ~near)
    assert inside.sum() > 20                                      # the test has something to find
    np.testing.assert_allclose(c.d2, d2[c.track, c.detection], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c.log_likelihood, ll[c.track, c.detection], rtol=0, atol=1e-9)
    key = c.track * dp.shape[0] + c.detection
    assert np.all(np.diff(key) > 0)                               # sorted by (track, detection), no repeats
    assert c.track.dtype == np.int64 and c.detection.dtype == np.int64


def test_gate_threshold_reference():
    assert ChiSquareGater().gate_threshold == pytest.approx(21.108, abs=1e-3)
    assert ChiSquareGater(0.99, 2).gate_threshold == pytest.approx(9.210, abs=1e-3)


@pytest.mark.parametrize("seed", range(10))
def test_pregate_keeps_pairs_at_the_tight_case_of_its_bound(seed):
    """Isotropic P and R make ``lambda_max(P + R) = lambda_max(P) + lambda_max(R)``: a detection on the gate's
    surface is exactly at the pre-gate radius. Every detection just inside must survive the pre-gate."""
    rng = np.random.default_rng(seed)
    n = 200
    gater = ChiSquareGater()
    gamma = gater.gate_threshold
    sp = np.exp(rng.uniform(np.log(TWENTY_METRES), np.log(FIVE_KILOMETRES), n))
    sr = np.exp(rng.uniform(np.log(TWENTY_METRES), np.log(FIVE_KILOMETRES), n))
    tp = ORIGIN + rng.uniform(-200e3, 200e3, (n, 3))
    direction = rng.standard_normal((n, 3))
    direction /= np.linalg.norm(direction, axis=1)[:, None]
    d2_target = gamma * (1.0 - 1e-7)
    dp = tp + direction * np.sqrt(d2_target * (sp**2 + sr**2))[:, None]
    tc = sp[:, None, None] ** 2 * np.eye(3)
    dc = sr[:, None, None] ** 2 * np.eye(3)
    ti, di = pregate_pairs(tp, sp**2, dp, sr**2, gamma)
    found = set(zip(ti.tolist(), di.tolist()))
    assert all((i, i) in found for i in range(n))
    c = gater.candidates(tp, tc, dp, dc)
    own = c.track == c.detection
    assert own.sum() == n
    np.testing.assert_allclose(c.d2[own], d2_target, rtol=1e-9)
    # and just outside: dropped by the exact gate
    dp_out = tp + direction * np.sqrt(gamma * (1.0 + 1e-7) * (sp**2 + sr**2))[:, None]
    c_out = gater.candidates(tp, tc, dp_out, dc)
    assert not np.any(c_out.track == c_out.detection)


def test_compiled_kernel_equals_numpy_twin():
    tp, tc, dp, dc = random_problem(11, n=60, k=50)
    rng = np.random.default_rng(3)
    ti = rng.integers(0, 60, 500)
    di = rng.integers(0, 50, 500)
    reach = np.where(rng.random(60) < 0.5, rng.uniform(0, 20e3, 60), 0.0)
    for r in (None, reach):
        a = pair_statistics(tp, tc, dp, dc, ti, di, r, compiled=True)
        b = pair_statistics(tp, tc, dp, dc, ti, di, r, compiled=False)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-10)
        np.testing.assert_allclose(a[1], b[1], rtol=1e-10, atol=1e-10)
    g = ChiSquareGater()
    a, b = g.candidates(tp, tc, dp, dc, compiled=True), g.candidates(tp, tc, dp, dc, compiled=False)
    assert np.array_equal(a.track, b.track) and np.array_equal(a.detection, b.detection)


def test_own_detection_inside_the_gate_at_the_gate_probability():
    """Consistent Gaussian errors: the fraction of own detections gated out is Binomial(n, 1 - P_G)."""
    rng = np.random.default_rng(7)
    n = 20_000
    gater = ChiSquareGater(gate_probability=0.99)
    truth = ORIGIN + rng.uniform(-300e3, 300e3, (n, 3))
    tc = random_covariances(rng, n)
    dc = random_covariances(rng, n)
    tp = truth + (np.linalg.cholesky(tc) @ rng.standard_normal((n, 3, 1)))[:, :, 0]
    dp = truth + (np.linalg.cholesky(dc) @ rng.standard_normal((n, 3, 1)))[:, :, 0]
    c = gater.candidates(tp, tc, dp, dc)
    missed = n - int(np.sum(c.track == c.detection))
    low, high = binom.interval(0.999, n, 0.01)
    assert low <= missed <= high


def test_reachable_candidates_allow_the_distance_flown():
    gater = ChiSquareGater(max_speed_mps=700.0)
    cov = np.eye(3)[None] * 100.0**2
    pos = ORIGIN[None]
    det = ORIGIN[None] + np.array([[10e3, 0.0, 0.0]])
    assert len(gater.candidates(pos, cov, det, cov)) == 0
    far = gater.reachable_candidates(pos, cov, 20.0, det, cov)       # 14 km of reach
    assert len(far) == 1 and far.d2[0] == 0.0
    near = gater.reachable_candidates(pos, cov, 14.0, det, cov)      # 9.8 km: 200 m short, S = 2 (100 m)^2
    assert len(near) == 1 and near.d2[0] == pytest.approx(200.0**2 / (2 * 100.0**2), rel=1e-6)
    assert len(gater.reachable_candidates(pos, cov, 10.0, det, cov)) == 0   # 3 km short
    with pytest.raises(TrackingError, match="elapsed_s"):
        gater.reachable_candidates(pos, cov, -1.0, det, cov)


def test_empty_inputs_and_no_pairs():
    gater = ChiSquareGater()
    tp, tc, dp, dc = random_problem(0, n=5, k=4)
    for args in ((tp[:0], tc[:0], dp, dc), (tp, tc, dp[:0], dc[:0])):
        c = gater.candidates(*args)
        assert len(c) == 0 and c.track.dtype == np.int64
    far = gater.candidates(tp, tc, dp + 1e7, dc)
    assert len(far) == 0


def test_errors_name_the_argument_and_row():
    gater = ChiSquareGater()
    tp, tc, dp, dc = random_problem(0, n=5, k=4)
    with pytest.raises(TrackingError, match=r"track positions and covariances: expected shapes"):
        gater.candidates(tp, tc[:4], dp, dc)
    bad = tp.copy()
    bad[3, 1] = np.nan
    with pytest.raises(TrackingError, match=r"track positions: row 3 is not finite"):
        gater.candidates(bad, tc, dp, dc)
    neg = tc.copy()
    neg[2] = np.diag([1e8, 1e8, -1e12])           # lambda_max 1e8: the pre-gate covers the cube
    with pytest.raises(TrackingError, match=r"P\[2\] \+ R\[\d\] is not positive definite"):
        gater.candidates(tp, neg, dp, dc)
    with pytest.raises(TrackingError, match="gate_probability"):
        ChiSquareGater(1.0)
    with pytest.raises(TrackingError, match="dof"):
        ChiSquareGater(0.99, 0)
    with pytest.raises(TrackingError, match="max_speed_mps"):
        ChiSquareGater(max_speed_mps=-1.0)


# --- benchmark (python test/test_tracking_gating.py) -------------------------------------------

def benchmark_problem(n=10_000, k=3_000, seed=1):
    """Predicted tracks of a 10,000-target population (400 km wide) and 3,000 of one dwell's detections."""
    from sbamti.tracking.synthetic import TruthSampler, iter_dwells, random_population

    start = 1_830_297_600 * 10**9
    scenario = random_population(n, 54.0, 15.0, 200e3, start_ns=start, duration_s=60.0, seed=seed)
    dwell = next(iter(iter_dwells(scenario, start, 60.0, seed=seed)))
    rng = np.random.default_rng(seed)
    _, pos, _ = TruthSampler(scenario)(np.array([dwell.stamp_ns]))
    tc = random_covariances(rng, n)
    tp = pos[0] + (np.linalg.cholesky(tc) @ rng.standard_normal((n, 3, 1)))[:, :, 0]
    pick = np.sort(rng.choice(len(dwell), k, replace=False))
    return tp, tc, dwell.position_ecef[pick], dwell.position_covariance_ecef[pick]


def main():
    tp, tc, dp, dc = benchmark_problem()
    gater = ChiSquareGater()
    gater.candidates(tp[:10], tc[:10], dp, dc)      # compile / load the cache
    for _ in range(3):
        t0 = time.perf_counter()
        c = gater.candidates(tp, tc, dp, dc)
        t1 = time.perf_counter()
        print(f"candidates {1e3 * (t1 - t0):.0f} ms: {len(c)} pairs, {len(c) / len(tp):.1f} per track, "
              f"at most {np.bincount(c.track).max()}")
    return tp, tc, dp, dc, c


if __name__ == "__main__":
    main()
