"""Unfolding a look's range rates across PRFs when the satellite's geometry changes between dwells."""

import numpy as np
import pytest

from sbamti.detection.look import LookDwell, unfold_look

WAVELENGTH = 0.02998
PRFS = (7000.0, 7500.0, 8100.0)


def _fold(rate, clutter, prf):
    """What a dwell reports: the rate folded into the blind-speed interval centred on the clutter."""
    blind = WAVELENGTH * prf / 2
    return clutter + (rate - clutter + blind / 2) % blind - blind / 2


def _look(true_ground_speeds, ranges, rng, seen=None, std=0.3):
    """Three dwells 0.2 s apart; the clutter rate moves by 8 m/s per dwell, and so does each target's
    range rate (same geometry), plus its own ground-relative speed u."""
    dwells = []
    for i, prf in enumerate(PRFS):
        clutter = -1400.0 + 8.0 * i
        mask = np.ones(len(ranges), bool) if seen is None else np.asarray(seen[i], dtype=bool)
        rates = clutter + np.asarray(true_ground_speeds)[mask] + rng.normal(0, std, mask.sum())
        dwells.append(LookDwell(np.asarray(ranges, float)[mask] + 10.0 * i, np.full(mask.sum(), 15.0),
                                _fold(rates, clutter, prf), np.full(mask.sum(), std), np.full(mask.sum(), 100.0),
                                prf, clutter, 1.0e6 + 50.0 * i, 0.2 * i))
    return dwells


def test_fast_targets_are_unfolded_to_their_true_rates():
    rng = np.random.default_rng(1)
    speeds = [-480.0, -150.0, 20.0, 260.0, 555.0]
    ranges = [1.0e6 - 4000, 1.0e6 - 1000, 1.0e6, 1.0e6 + 2500, 1.0e6 + 5000]
    dwells = _look(speeds, ranges, rng)
    out = unfold_look(dwells, wavelength_m=WAVELENGTH, max_target_speed_mps=600.0)
    for dwell, (rates, resolved) in zip(dwells, out):
        assert resolved.all()
        assert np.allclose(rates - dwell.clutter_range_rate_mps, speeds, atol=4 * 0.3)


def test_a_target_seen_once_keeps_its_folded_rate():
    rng = np.random.default_rng(2)
    dwells = _look([300.0, -200.0], [1.0e6, 1.0e6 + 3000], rng, seen=[[1, 1], [1, 0], [1, 0]])
    out = unfold_look(dwells, wavelength_m=WAVELENGTH, max_target_speed_mps=600.0)
    assert [r.tolist() for _, r in out] == [[True, False], [True], [True]]
    assert out[0][0][1] == dwells[0].range_rate_mps[1]                    # returned as given
    assert out[0][0][0] - dwells[0].clutter_range_rate_mps == pytest.approx(300.0, abs=1.2)


def test_empty_look_and_empty_dwells():
    assert unfold_look([], wavelength_m=WAVELENGTH, max_target_speed_mps=600.0) == []
    rng = np.random.default_rng(3)
    dwells = _look([100.0], [1.0e6], rng, seen=[[0], [0], [0]])
    assert [len(r) for r, _ in unfold_look(dwells, wavelength_m=WAVELENGTH, max_target_speed_mps=600.0)] == [0, 0, 0]
