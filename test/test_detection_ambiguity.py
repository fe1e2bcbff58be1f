"""Radial-velocity ambiguity resolution across PRF-diverse dwells, against independent truth.

Independent references used here (not the module's code path): the true velocity of simulated
targets, a brute-force fine grid over the wrapped cost, the closed form σ̂ = σ/√N for equal σ,
the χ² law of Σ z² for Gaussian errors, and coincidence periods from ``math.lcm`` of integer PRFs.
"""

import dataclasses
import itertools
import math
import re

import numpy as np
import pytest
from scipy import stats

from sbamti.detection.ambiguity import ResolvedLook, resolve_look

LAMBDA_M = 0.02998
PRFS_HZ = np.array([7000.0, 7500.0, 8100.0])
SIGMA_V = 0.5           # m/s
SIGMA_R = 5.0           # m
LIMITS = (-600.0, 600.0)


def _blind(prf_hz):
    return LAMBDA_M * np.asarray(prf_hz, dtype=float) / 2.0


def _wrap(x, period):
    """Into [-period/2, period/2) — written independently of the module."""
    return x - period * np.floor(x / period + 0.5)


def _fold(v, period, start):
    """Fold v into [start, start + period) (the caller's choice of interval)."""
    return start + np.mod(v - start, period)


def _grid_min(v, sigma, period, limits=LIMITS, step=0.002):
    """Brute-force minimiser of Σ wrap(g - v_i, B_i)²/σ_i² over a fine grid: (g*, J(g*))."""
    grid = np.arange(limits[0], limits[1] + step, step)
    cost = sum(_wrap(grid - vi, bi) ** 2 / si ** 2 for vi, si, bi in zip(v, sigma, period))
    i = int(np.argmin(cost))
    return grid[i], cost[i]


def _look(truth_mps, ranges_m, dwells_of_target, rng, prfs=PRFS_HZ, fold_starts=None):
    """Detections of targets (truth, range) in the given dwells, with Gaussian errors, folded."""
    rows = [(d, v, r) for v, r, ds in zip(truth_mps, ranges_m, dwells_of_target) for d in ds]
    dwell = np.array([row[0] for row in rows], dtype=int)
    v_true = np.array([row[1] for row in rows], dtype=float)
    r_true = np.array([row[2] for row in rows], dtype=float)
    t = dwell.size
    period = _blind(prfs)[dwell]
    starts = -period / 2 if fold_starts is None else fold_starts(period, rng)
    v_meas = _fold(v_true + rng.normal(0.0, SIGMA_V, t), period, starts)
    return dict(dwell_index=dwell, prf_hz_of_dwell=prfs, range_m=r_true + rng.normal(0.0, SIGMA_R, t),
                range_std_m=np.full(t, SIGMA_R), velocity_mps=v_meas,
                velocity_std_mps=np.full(t, SIGMA_V), snr=rng.uniform(10.0, 30.0, t)), v_true


def test_exact_truth_five_targets_three_prfs_any_fold_interval():
    rng = np.random.default_rng(7)
    truth = np.array([-480.0, -130.0, 37.0, 250.0, 590.0])
    ranges = 8.0e5 + 1500.0 * np.arange(5)
    # Each detection is folded into a randomly placed interval of width B: only v mod B matters.
    look, v_true = _look(truth, ranges, [(0, 1, 2)] * 5, rng,
                         fold_starts=lambda b, g: g.uniform(-2.0, 1.0, b.size) * b)
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    assert isinstance(res, ResolvedLook)
    assert res.num_groups == 5 and np.all(res.group_size == 3)
    assert np.all(res.resolved) and np.all(res.group_resolved) and not np.any(res.group_ambiguous)
    np.testing.assert_allclose(res.group_velocity_std_mps, SIGMA_V / math.sqrt(3), rtol=1e-12)
    assert np.all(np.abs(res.velocity_mps - v_true) < 4 * SIGMA_V / math.sqrt(3))
    for g in range(5):
        members = res.group == g
        assert sorted(look["dwell_index"][members]) == [0, 1, 2]
        # Same answer as the brute-force grid minimiser of the wrapped cost, and the same χ².
        g_star, j_star = _grid_min(look["velocity_mps"][members], look["velocity_std_mps"][members],
                                   _blind(PRFS_HZ)[look["dwell_index"][members]])
        assert abs(res.group_velocity_mps[g] - g_star) < 0.002
        assert res.group_chi2[g] == pytest.approx(j_star, abs=1e-3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.group = None


def test_monte_carlo_normalised_error_and_success_rate():
    n = 300
    rng = np.random.default_rng(2024)
    truth = rng.uniform(-590.0, 590.0, n)
    look, v_true = _look(truth, 5.0e5 + 300.0 * np.arange(n), [(0, 1, 2)] * n, rng)
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    assert res.num_groups == n and np.all(res.group_size == 3)
    # The nearest wrong solution (ambiguity numbers differing by k ≠ 0, mean shift within the
    # ±1200 m/s span of the limits) has a noise-free χ² computed here by enumeration: ≫ the
    # 99.9 % threshold, so a rival essentially never passes and a failure needs the true solution
    # to fail its own χ² test, probability 0.001. Expected failures 0.3 of 300; P(> 3) =
    # binom.sf(3, 300, 1e-3) ≈ 3e-4, so asserting ≥ 99 % (≤ 3 failures) is safe.
    b = _blind(PRFS_HZ)
    k = np.array(list(itertools.product(range(-12, 13), repeat=3)), float)
    shift = k * b
    mean = shift.mean(axis=1, keepdims=True)
    keep = np.any(k != 0, axis=1) & (np.abs(mean[:, 0]) <= 1200.0)
    rival_chi2 = (((shift - mean) ** 2).sum(axis=1) / SIGMA_V ** 2)[keep].min()
    assert rival_chi2 > 25 * stats.chi2.ppf(0.999, 2)
    assert stats.binom.sf(3, n, 1e-3) < 1e-3
    ok = res.group_resolved
    assert ok.mean() >= 0.99
    # With the ambiguity numbers right, v̂ is a weighted mean of Gaussians: z = (v̂ - v)/σ̂ ~ N(0, 1),
    # independent of the χ² residual used to accept it. Σ z² ~ χ²(m) exactly; 99.9 % interval.
    first = np.unique(res.group, return_index=True)[1]
    z = (res.group_velocity_mps[ok] - v_true[first][ok]) / res.group_velocity_std_mps[ok]
    assert np.max(np.abs(z)) < 5.0                              # no wrong resolution
    lo, hi = stats.chi2.interval(0.999, z.size)
    assert lo < np.sum(z ** 2) < hi
    # The accepted residuals follow χ²(2): mean 2 with standard error 2/√m.
    assert abs(res.group_chi2[ok].mean() - 2.0) < 4 * 2.0 / math.sqrt(ok.sum())


def test_two_of_three_resolved_and_single_dwell_unresolved():
    rng = np.random.default_rng(3)
    look, v_true = _look([-410.0, 275.0], [6.0e5, 6.1e5], [(0, 1), (2,)], rng)
    # The pair 7000/7500 Hz repeats only every λ/2·lcm(7000, 7500) = 1574 m/s > the 1200 m/s span.
    assert LAMBDA_M / 2 * math.lcm(7000, 7500) > LIMITS[1] - LIMITS[0]
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    pair = look["dwell_index"] != 2
    assert res.num_groups == 2 and np.all(res.resolved[pair]) and not res.resolved[~pair][0]
    assert np.all(np.abs(res.velocity_mps[pair] - v_true[pair]) < 4 * SIGMA_V / math.sqrt(2))
    np.testing.assert_allclose(res.velocity_std_mps[pair], SIGMA_V / math.sqrt(2), rtol=1e-12)
    assert res.velocity_mps[~pair][0] == look["velocity_mps"][~pair][0]       # unchanged input
    assert res.velocity_std_mps[~pair][0] == SIGMA_V
    single = res.group[~pair][0]
    assert res.group_size[single] == 1 and np.isnan(res.group_chi2[single])
    assert np.isnan(res.group_velocity_mps[single])


def test_same_prf_twice_is_not_enough():
    rng = np.random.default_rng(4)
    look, _ = _look([140.0], [7.0e5], [(0, 1)], rng, prfs=np.array([7000.0, 7000.0]))
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    assert res.num_groups == 1 and res.group_size[0] == 2 and not res.group_resolved[0]
    assert not res.group_ambiguous[0] and np.isnan(res.group_chi2[0])    # not even attempted
    np.testing.assert_array_equal(res.velocity_mps, look["velocity_mps"])


def test_unequal_sigmas_match_grid_and_closed_form_and_input_order():
    rng = np.random.default_rng(9)
    sig = np.array([0.3, 0.6, 1.0])
    v_true = 433.0
    b = _blind(PRFS_HZ)
    look = dict(dwell_index=np.arange(3), prf_hz_of_dwell=PRFS_HZ, range_m=np.full(3, 9.0e5),
                range_std_m=np.full(3, SIGMA_R), velocity_std_mps=sig, snr=[20.0, 14.0, 9.0],
                velocity_mps=_fold(v_true + rng.normal(0.0, sig), b, b / 3))
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    g_star, j_star = _grid_min(look["velocity_mps"], sig, b, step=0.001)
    assert res.group_resolved[0] and abs(res.group_velocity_mps[0] - g_star) < 0.001
    assert res.group_chi2[0] == pytest.approx(j_star, abs=1e-3)
    assert res.group_velocity_std_mps[0] == pytest.approx(np.sum(sig ** -2.0) ** -0.5, rel=1e-12)
    # Shuffling the detections (and one look with other targets) changes nothing but labels.
    other, _ = _look([-222.0, 61.0], [1.0e5, 2.0e5], [(0, 1, 2), (1, 2)], rng)
    both = {k: (look[k] if k == "prf_hz_of_dwell" else np.concatenate([look[k], other[k]])) for k in look}
    perm = rng.permutation(both["dwell_index"].size)
    shuffled = resolve_look(**{k: (v if k == "prf_hz_of_dwell" else v[perm]) for k, v in both.items()},
                            wavelength_m=LAMBDA_M)
    direct = resolve_look(**both, wavelength_m=LAMBDA_M)
    np.testing.assert_allclose(shuffled.velocity_mps, direct.velocity_mps[perm], rtol=0, atol=1e-9)
    np.testing.assert_array_equal(shuffled.resolved, direct.resolved[perm])
    assert direct.velocity_mps[0] == res.group_velocity_mps[0] and np.all(direct.resolved)


def _explicit(rows, rng):
    """Detections from explicit (dwell, range_m, true velocity) rows, velocities noisy and folded."""
    d, r, v = (np.array(c) for c in zip(*rows))
    d = d.astype(int)
    b = _blind(PRFS_HZ)[d]
    return dict(dwell_index=d, prf_hz_of_dwell=PRFS_HZ, range_m=r.astype(float),
                range_std_m=np.full(d.size, SIGMA_R),
                velocity_mps=_fold(v + rng.normal(0.0, SIGMA_V, d.size), b, 0.0),
                velocity_std_mps=np.full(d.size, SIGMA_V), snr=rng.uniform(10.0, 30.0, d.size))


def test_association_ranges_dwells_and_gate():
    rng = np.random.default_rng(5)
    gate = 4.0 * math.hypot(SIGMA_R, SIGMA_R)                 # 28.3 m
    far = 5.0e5 + 6 * gate
    rows = ([(k, 3.0e5 + e, 100.0) for k, e in zip(range(3), (0.0, 2.0, -2.0))]       # A  0- 2
            + [(k, 3.01e5 + e, -200.0) for k, e in zip(range(3), (0.0, 1.0, -1.0))]   # B  3- 5
            + [(k, 4.0e5, 50.0) for k in range(3)]                                    # C  6- 8
            + [(k, 4.0e5 + 10.0, 320.0) for k in range(3)]                            # D  9-11
            + [(0, 5.0e5, -75.0), (1, 5.0e5, -75.0), (2, far, -75.0)])                # E 12-14
    look = _explicit(rows, rng)
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    g, d, r = res.group, look["dwell_index"], look["range_m"]
    for label in range(res.num_groups):                      # at most one detection per dwell ...
        m = np.flatnonzero(g == label)
        assert len(set(d[m])) == m.size
        s = look["range_std_m"][m]                           # ... and every pair inside the gate
        assert np.all(np.abs(r[m, None] - r[None, m]) <= 4.0 * np.hypot(s[:, None], s[None, :]))
    assert g[0] == g[1] == g[2] and g[3] == g[4] == g[5] and g[0] != g[3]   # A, B not merged
    same_dwell = [(i, j) for i in range(15) for j in range(i + 1, 15) if d[i] == d[j]]
    assert all(g[i] != g[j] for i, j in same_dwell)          # C and D share a gate, not a group
    assert g[6] == g[7] == g[8] and g[9] == g[10] == g[11]
    assert g[12] == g[13] != g[14] and res.group_size[g[14]] == 1   # outside the gate: own group
    assert res.num_groups == 6 and np.all(res.resolved[:14]) and not res.resolved[14]
    truth = np.array([row[2] for row in rows])
    assert np.all(np.abs(res.velocity_mps[:14] - truth[:14]) < 4 * res.velocity_std_mps[:14])
    # The absolute allowance widens the gate: with range_gate_m = 6 gates E's detections unite.
    wide = resolve_look(**look, wavelength_m=LAMBDA_M, range_gate_m=6 * gate)
    assert wide.group[12] == wide.group[13] == wide.group[14] and wide.resolved[14]


def test_inconsistent_group_is_unresolved():
    rng = np.random.default_rng(6)
    # Same range, but each dwell saw a different velocity: no common v explains all three.
    look = _explicit([(0, 2.0e5, 100.0), (1, 2.0e5, 130.0), (2, 2.0e5, -260.0)], rng)
    g_star, j_star = _grid_min(look["velocity_mps"], look["velocity_std_mps"], _blind(PRFS_HZ))
    assert j_star > stats.chi2.ppf(0.999, 2)                 # independent proof of inconsistency
    res = resolve_look(**look, wavelength_m=LAMBDA_M)
    assert res.num_groups == 1 and res.group_size[0] == 3
    assert not res.group_resolved[0] and not res.group_ambiguous[0] and not np.any(res.resolved)
    assert res.group_chi2[0] == pytest.approx(j_star, rel=1e-3)    # same minimum as the grid
    np.testing.assert_array_equal(res.velocity_mps, look["velocity_mps"])
    np.testing.assert_array_equal(res.velocity_std_mps, look["velocity_std_mps"])


@pytest.mark.parametrize("prf_pair", [(7000, 8000), (7000, 7500)])
def test_limits_wider_than_coincidence_period_are_ambiguous(prf_pair):
    period = LAMBDA_M / 2 * math.lcm(*prf_pair)              # both blind speeds divide it
    b = _blind(prf_pair)
    assert np.allclose(_wrap(period, b), 0.0, atol=1e-9)
    v_true = -300.0
    wide = (-600.0, 600.0) if period < 1200.0 else (-800.0, 1400.0)
    assert wide[0] <= v_true + period <= wide[1]             # the alias lies inside the limits
    rng = np.random.default_rng(8)
    d = np.array([0, 1])
    look = dict(dwell_index=d, prf_hz_of_dwell=np.array(prf_pair, float), range_m=np.full(2, 1.0e5),
                range_std_m=np.full(2, SIGMA_R), velocity_std_mps=np.full(2, SIGMA_V), snr=[12.0, 15.0],
                velocity_mps=_fold(v_true + rng.normal(0.0, SIGMA_V, 2), b, 0.0))
    res = resolve_look(**look, wavelength_m=LAMBDA_M, velocity_limits_mps=wide)
    assert res.group_ambiguous[0] and not res.group_resolved[0] and not np.any(res.resolved)
    np.testing.assert_array_equal(res.velocity_mps, look["velocity_mps"])
    # Limits that exclude the alias (but keep the truth) resolve it.
    narrow = (-600.0, v_true + period - 10.0) if period < 1200.0 else (-600.0, 600.0)
    ok = resolve_look(**look, wavelength_m=LAMBDA_M, velocity_limits_mps=narrow)
    assert ok.group_resolved[0] and not ok.group_ambiguous[0]
    assert abs(ok.group_velocity_mps[0] - v_true) < 4 * SIGMA_V / math.sqrt(2)


def test_empty_look_returns_empty_arrays():
    res = resolve_look([], PRFS_HZ, [], [], [], [], [], wavelength_m=LAMBDA_M)
    assert res.num_groups == 0
    for field in dataclasses.fields(res):
        assert getattr(res, field.name).shape == (0,), field.name
    assert res.group.dtype.kind == "i" and res.resolved.dtype == bool


def _good():
    return dict(dwell_index=[0, 1, 2], prf_hz_of_dwell=PRFS_HZ, range_m=[1e5, 1e5, 1e5],
                range_std_m=[5.0, 5.0, 5.0], velocity_mps=[1.0, 2.0, 3.0],
                velocity_std_mps=[0.5, 0.5, 0.5], snr=[10.0, 11.0, 12.0], wavelength_m=LAMBDA_M)


@pytest.mark.parametrize("name, value, shown", [
    ("range_m", [1e5, 1e5], "got 2"),
    ("velocity_mps", [1.0, 2.0, 3.0, 4.0], "got 4"),
    ("snr", [1.0], "got 1"),
    ("prf_hz_of_dwell", [7000.0, 0.0, 8100.0], "0.0"),
    ("prf_hz_of_dwell", [7000.0, -7500.0, 8100.0], "-7500.0"),
    ("range_std_m", [5.0, 0.0, 5.0], "0.0"),
    ("velocity_std_mps", [0.5, 0.5, -0.5], "-0.5"),
    ("velocity_mps", [1.0, np.nan, 3.0], "nan"),
    ("wavelength_m", 0.0, "0.0"),
    ("wavelength_m", -0.03, "-0.03"),
    ("velocity_limits_mps", (600.0, -600.0), "(600.0, -600.0)"),
    ("velocity_limits_mps", (5.0, 5.0), "(5.0, 5.0)"),
    ("dwell_index", [0, 1, 3], "3"),
    ("dwell_index", [0, -1, 2], "-1"),
    ("dwell_index", [0.0, 1.5, 2.0], "1.5"),
    ("min_dwells", 1, "1"),
    ("range_gate_sigma", 0.0, "0.0"),
    ("range_gate_m", -1.0, "-1.0"),
])
def test_bad_inputs_name_the_argument_and_value(name, value, shown):
    kwargs = _good()
    kwargs[name] = value
    with pytest.raises(ValueError, match=re.escape(name)) as info:
        resolve_look(**kwargs)
    assert shown in str(info.value)
