"""CA-CFAR / OS-CFAR against theory: binomial false-alarm intervals (edges included), α closed
forms and integrals, Swerling-1 Pd, masking by an interferer, numba/numpy twins, clustering.

Noise model throughout: complex Gaussian noise -> square-law power ~ Exponential(mean 1).
"""

import numpy as np
import pytest
from scipy import integrate, stats

from sbamti.detection.cfar import (
    CaCfarDetector,
    Cluster,
    OsCfarDetector,
    _os_statistic_numba,
    _os_statistic_numpy,
    ca_cfar_alpha,
    cluster_detections,
    os_cfar_alpha,
    os_cfar_pfa,
    training_indices,
)
from sbamti.errors import ConfigurationError

NUM_TRAINING = 8          # per side -> N = 16
NUM_GUARD = 2
N_CELLS = 2 * NUM_TRAINING
CONFIDENCE = 0.999        # two-sided binomial interval


def _binomial_interval(trials: int, p: float) -> tuple[float, float]:
    return stats.binom.interval(CONFIDENCE, trials, p)


def _count_false_alarms(detector, pfa_cells: int, row_length: int, seed: int,
                        edge_only: bool = False) -> tuple[int, int]:
    """(crossings, cells examined) on unit-mean exponential noise, processed in row blocks."""
    rng = np.random.default_rng(seed)
    n_rows = pfa_cells // row_length
    edge = NUM_TRAINING + NUM_GUARD
    crossings = cells = 0
    block = max(1, 2_000_000 // row_length)
    for start in range(0, n_rows, block):
        rows = min(block, n_rows - start)
        power = rng.exponential(1.0, size=(rows, row_length))
        detections, _ = detector(power)
        if edge_only:
            detections = np.concatenate([detections[:, :edge], detections[:, -edge:]], axis=1)
        crossings += int(detections.sum())
        cells += detections.size
    return crossings, cells


# --- empirical false-alarm rate ---------------------------------------------------------------

DETECTORS = {
    "ca": lambda pfa: CaCfarDetector(NUM_TRAINING, NUM_GUARD, pfa),
    "os": lambda pfa: OsCfarDetector(NUM_TRAINING, NUM_GUARD, pfa),
}


@pytest.mark.parametrize("kind", sorted(DETECTORS))
@pytest.mark.parametrize("pfa, total_cells, seed", [
    (1e-3, 2_000_000, 11),     # ~2000 expected crossings
    (1e-4, 4_000_000, 12),     # ~400
    (1e-5, 10_000_000, 13),    # ~100
])
def test_false_alarm_rate_all_cells_within_binomial_interval(kind, pfa, total_cells, seed):
    detector = DETECTORS[kind](pfa)
    crossings, cells = _count_false_alarms(detector, total_cells, row_length=200, seed=seed)
    low, high = _binomial_interval(cells, pfa)
    assert low <= crossings <= high, (kind, pfa, crossings, cells, (low, high))


@pytest.mark.parametrize("kind", sorted(DETECTORS))
def test_false_alarm_rate_edge_cells_within_binomial_interval(kind):
    """The first and last T+G cells of each row alone keep the design Pfa = 1e-3.

    Why this catches half-window bugs: a detector that, near the ends, averages only the cells
    that exist on the short side (e.g. just the N/2 = 8 lagging cells at the first cell) but keeps
    α computed for N = 16 has, for CA-CFAR, Pfa_edge = (1 + α/8)^(-8) ≈ 2.9e-3 instead of 1e-3;
    one that zero-pads the missing cells (sum of 8 cells divided by 16) lowers the threshold
    further, Pfa_edge = (1 + α/16)^(-8) ≈ 3.2e-2 (α = 8.64). With 2e6 edge cells the 99.9 %
    interval around 2000 crossings is about ±150, so either bug lands far outside it (a
    truncated-window CA-CFAR, tried by hand on this same data, gave 3965 edge crossings against
    the interval [1855, 2149]); the assertion below also checks that the interval excludes the
    half-window rate of the outermost cell.
    """
    pfa = 1e-3
    detector = DETECTORS[kind](pfa)
    row_length = 64
    edge_cells_per_row = 2 * (NUM_TRAINING + NUM_GUARD)
    n_rows = 100_000
    crossings, cells = _count_false_alarms(detector, n_rows * row_length, row_length,
                                           seed=21, edge_only=True)
    assert cells == n_rows * edge_cells_per_row
    low, high = _binomial_interval(cells, pfa)
    assert low <= crossings <= high, (kind, crossings, cells, (low, high))
    # The test has power against the half-window bug (CA formula; OS errs similarly).
    alpha = ca_cfar_alpha(N_CELLS, pfa)
    half_window_pfa = (1.0 + alpha / (N_CELLS / 2)) ** (-(N_CELLS / 2))
    assert half_window_pfa * cells > 1.5 * high


def test_every_cell_uses_exactly_n_training_cells_outside_guard():
    """Brute-force reference (per-cell loop over the rule) for indices and the CA threshold."""
    length, t, g = 23, 4, 2
    idx = training_indices(length, t, g)
    rng = np.random.default_rng(3)
    power = rng.exponential(size=length)
    detector = CaCfarDetector(t, g, 1e-3)
    _, threshold = detector(power)
    for i in range(length):
        cells = idx[i]
        assert len(set(cells.tolist())) == 2 * t
        assert np.all((cells >= 0) & (cells < length))
        assert np.all(np.abs(cells - i) > g), (i, cells)
        # independent rule: nearest leading cells up to T, the side with room supplies the rest
        lead = [c for c in range(i - g - 1, -1, -1)]
        lag = [c for c in range(i + g + 1, length)]
        n_lead = min(t, len(lead))
        n_lead = max(n_lead, 2 * t - len(lag))
        expected = sorted(lead[:n_lead] + lag[:2 * t - n_lead])
        assert sorted(cells.tolist()) == expected, i
        assert threshold[i] == pytest.approx(detector.alpha * power[expected].mean(), rel=1e-12)


# --- threshold factors --------------------------------------------------------------------------

def test_ca_alpha_closed_form_n16_pfa1e6():
    alpha = CaCfarDetector(8, 2, 1e-6).alpha
    # α = N (Pfa^(-1/N) - 1) = 16 (10^(6/16) - 1)
    assert alpha == pytest.approx(16.0 * (10.0 ** (6.0 / 16.0) - 1.0), rel=1e-14)
    assert alpha == pytest.approx(21.94198, abs=1e-5)  # 16 * (2.3713737 - 1)
    # Independent: P(x > (α/N) Z), Z ~ Gamma(N, 1) the training sum -> E[exp(-α Z / N)].
    pfa, _ = integrate.quad(lambda z: np.exp(-alpha * z / 16) * stats.gamma.pdf(z, 16), 0, np.inf)
    assert pfa == pytest.approx(1e-6, rel=1e-8)


@pytest.mark.parametrize("pfa, rank", [(1e-6, 12), (1e-4, 12), (1e-3, 8), (1e-3, 16)])
def test_os_alpha_reproduces_pfa_by_integrating_order_statistic(pfa, rank):
    """Pfa = ∫ f_k(y) e^{-α y} dy, f_k the pdf of the k-th smallest of N unit exponentials."""
    n = N_CELLS
    alpha = os_cfar_alpha(n, rank, pfa)
    assert float(os_cfar_pfa(alpha, n, rank)) == pytest.approx(pfa, rel=1e-9)
    coef = rank * stats.binom.pmf(rank, n, 0.5) * 2.0 ** n   # k C(N, k)

    def integrand(y):
        return coef * (-np.expm1(-y)) ** (rank - 1) * np.exp(-y * (n - rank + 1)) * np.exp(-alpha * y)

    integral, _ = integrate.quad(integrand, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)
    assert integral == pytest.approx(pfa, rel=1e-6)


def test_os_alpha_monte_carlo_of_order_statistic():
    rng = np.random.default_rng(5)
    pfa, rank, n = 1e-2, 12, N_CELLS
    alpha = os_cfar_alpha(n, rank, pfa)
    trials = 400_000
    kth = np.partition(rng.exponential(size=(trials, n)), rank - 1, axis=1)[:, rank - 1]
    crossings = int((rng.exponential(size=trials) > alpha * kth).sum())
    low, high = _binomial_interval(trials, pfa)
    assert low <= crossings <= high


# --- detection probability ----------------------------------------------------------------------

@pytest.mark.parametrize("snr_db", [5.0, 10.0, 15.0])
def test_ca_swerling1_pd_matches_closed_form(snr_db):
    """Swerling-1 target in complex Gaussian noise: CUT power ~ Exponential(1 + SNR)."""
    pfa, trials, length, cut = 1e-4, 40_000, 41, 20
    snr = 10.0 ** (snr_db / 10.0)
    detector = CaCfarDetector(NUM_TRAINING, NUM_GUARD, pfa)
    rng = np.random.default_rng(int(snr_db * 10))
    power = rng.exponential(size=(trials, length))
    power[:, cut] = rng.exponential(1.0 + snr, size=trials)
    detections, _ = detector(power)
    pd_empirical = detections[:, cut].mean()
    pd_theory = (1.0 + detector.alpha / (N_CELLS * (1.0 + snr))) ** (-N_CELLS)
    assert pd_empirical == pytest.approx(pd_theory, abs=0.03)


@pytest.mark.parametrize("seed", range(10))
def test_os_detects_target_masked_for_ca_by_interferer(seed):
    """A 30 dB interferer inside the lagging training window raises the CA threshold by ~α·1000/N
    and masks a 20 dB target; OS-CFAR (k = 12 of 16) discards it and detects both."""
    pfa, length, target, interferer = 1e-6, 128, 60, 60 + NUM_GUARD + 3
    rng = np.random.default_rng(seed)
    power = rng.exponential(size=length)
    power[target] = 100.0       # 20 dB
    power[interferer] = 1000.0  # 30 dB
    ca_det, _ = CaCfarDetector(NUM_TRAINING, NUM_GUARD, pfa)(power)
    os_det, _ = OsCfarDetector(NUM_TRAINING, NUM_GUARD, pfa)(power)
    assert not ca_det[target]
    assert os_det[target] and os_det[interferer]


# --- shapes, axes, twins ------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [CaCfarDetector, OsCfarDetector])
def test_axis_choice_equals_transposed_call(cls):
    rng = np.random.default_rng(7)
    power = rng.exponential(size=(3, 50, 30))
    det_axis1, thr_axis1 = cls(4, 1, 1e-2, axis=1)(power)
    moved = np.moveaxis(power, 1, -1)
    det_last, thr_last = cls(4, 1, 1e-2)(moved)
    assert det_axis1.shape == thr_axis1.shape == power.shape
    np.testing.assert_array_equal(det_axis1, np.moveaxis(det_last, -1, 1))
    np.testing.assert_allclose(thr_axis1, np.moveaxis(thr_last, -1, 1), rtol=1e-12)


@pytest.mark.parametrize("rank", [1, 7, 12, 16])
def test_os_numba_kernel_matches_numpy_twin(rank):
    rng = np.random.default_rng(rank)
    rows = rng.exponential(size=(37, 90))
    idx = training_indices(90, NUM_TRAINING, NUM_GUARD).astype(np.int64)
    np.testing.assert_array_equal(_os_statistic_numba(rows, idx, rank),
                                  _os_statistic_numpy(rows, idx, rank))
    # and both equal the sorted brute force
    brute = np.sort(rows[:, idx], axis=-1)[..., rank - 1]
    np.testing.assert_array_equal(_os_statistic_numpy(rows, idx, rank), brute)


# --- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"num_training": 8, "num_guard": 2, "pfa": 0.0}, r"pfa.*0\.0"),
    ({"num_training": 8, "num_guard": 2, "pfa": 1.5}, r"pfa.*1\.5"),
    ({"num_training": -1, "num_guard": 2, "pfa": 1e-3}, r"num_training.*-1"),
    ({"num_training": 8, "num_guard": -2, "pfa": 1e-3}, r"num_guard.*-2"),
])
@pytest.mark.parametrize("cls", [CaCfarDetector, OsCfarDetector])
def test_invalid_parameters_name_field_and_value(cls, kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize("rank", [0, 17])
def test_os_rank_outside_range(rank):
    with pytest.raises(ConfigurationError, match=rf"rank.*1\.\.16.*{rank}"):
        OsCfarDetector(8, 2, 1e-3, rank=rank)


@pytest.mark.parametrize("cls", [CaCfarDetector, OsCfarDetector])
def test_axis_too_short_raises_with_sizes(cls):
    detector = cls(8, 2, 1e-3)
    detector(np.ones(21))                       # 2*2 + 16 + 1 = 21 is the minimum
    with pytest.raises(ConfigurationError, match=r"20 cells.*21"):
        detector(np.ones(20))


# --- clustering ---------------------------------------------------------------------------------

def test_cluster_two_blobs():
    mask = np.zeros((20, 16), dtype=bool)
    power = np.ones((20, 16))
    mask[2:5, 3:6] = True                       # blob 1, 9 cells
    power[3, 4] = 50.0
    mask[10, 10] = mask[11, 11] = mask[12, 12] = True   # blob 2, diagonal (8-connected)
    power[11, 11] = 80.0
    clusters = cluster_detections(mask, power)
    assert clusters == [Cluster((3, 4), 50.0, 9), Cluster((11, 11), 80.0, 3)]
    assert cluster_detections(np.zeros((4, 4), bool), np.ones((4, 4))) == []


def test_cluster_rejects_bad_shapes():
    with pytest.raises(ConfigurationError, match="2-D"):
        cluster_detections(np.zeros(5, bool), np.ones(5))
    with pytest.raises(ConfigurationError, match="shape"):
        cluster_detections(np.zeros((4, 4), bool), np.ones((4, 5)))
