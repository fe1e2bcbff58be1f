"""Swerling fluctuation draws, detection probability and statistical-mode detection.

References are independent of the code under test: scipy's distributions for the fluctuation laws,
Monte Carlo simulations of the square-law detector, Albersheim's equation, Mahafza's closed form
for Swerling I with non-coherent integration and the Swerling-1 single-look inversion.
"""

import math

import numpy as np
import pytest
from scipy import optimize, special, stats

from sbamti.errors import ConfigurationError
from sbamti.radar import swerling
from sbamti.radar.detection_stats import detect, false_alarm_cells, false_alarm_count
from sbamti.radar.swerling import (
    detection_probability,
    sample_complex_amplitude,
    sample_rcs_factor,
    threshold_for_pfa,
)

KS_P_MIN = 0.01                  # KS p-value floor at a fixed seed
MEAN_POWER_TOLERANCE = 0.02      # relative
PD_REQUIREMENT = 0.05            # issue: statistical-mode Pd vs SNR matches the closed form ±0.05
SIGMAS = 5.0                     # binomial band for Monte Carlo proportions
ALBERSHEIM_ACCURACY_DB = 0.2     # Albersheim's stated accuracy
PUBLISHED_POINT_DB = 0.2


def db_to_linear(value_db):
    return 10.0 ** (np.asarray(value_db, dtype=float) / 10.0)


def albersheim_snr_db(pd, pfa, n):
    """Albersheim (1981) single-pulse SNR for a non-fluctuating target, n non-coherent pulses
    (MathWorks ``albersheim``, [S19]); accurate to 0.2 dB for 1e-7 < Pfa < 1e-3, 0.1 < Pd < 0.9."""
    a = math.log(0.62 / pfa)
    b = math.log(pd / (1.0 - pd))
    return -5.0 * math.log10(n) + (6.2 + 4.54 / math.sqrt(n + 0.44)) * math.log10(a + 0.12 * a * b + 1.7 * b)


def required_snr_db(pd, pfa, model, n=1, integration="coherent"):
    return optimize.brentq(
        lambda snr_db: float(detection_probability(db_to_linear(snr_db), pfa, model, n,
                                                   integration=integration)) - pd, -20.0, 60.0, xtol=1e-6)


def binomial_band(p, trials):
    return SIGMAS * math.sqrt(max(p * (1.0 - p), 1.0 / trials) / trials)


# --- fluctuation draws -------------------------------------------------------------------------

@pytest.mark.parametrize("model", [1, 2])
def test_rayleigh_models_have_exponential_power(model):
    rng = np.random.default_rng(11)
    power = np.abs(sample_complex_amplitude(model, 1.0, 20_000, rng)) ** 2
    assert stats.kstest(power, stats.expon().cdf).pvalue > KS_P_MIN
    assert abs(power.mean() - 1.0) < MEAN_POWER_TOLERANCE


@pytest.mark.parametrize("model", [3, 4])
def test_chi_square_4_models(model):
    rng = np.random.default_rng(12)
    power = np.abs(sample_complex_amplitude(model, 1.0, 20_000, rng)) ** 2
    chi2_4_mean_1 = stats.chi2(4, scale=0.25)
    assert stats.kstest(power, chi2_4_mean_1.cdf).pvalue > KS_P_MIN
    assert stats.kstest(power, stats.expon().cdf).pvalue < 1e-6        # and it is not exponential
    assert abs(power.mean() - 1.0) < MEAN_POWER_TOLERANCE


def test_swerling_0_is_constant_and_phases_are_uniform():
    rng = np.random.default_rng(13)
    np.testing.assert_array_equal(sample_rcs_factor(0, (3, 4), rng), np.ones((3, 4)))
    amplitude = sample_complex_amplitude(0, 2.5, 20_000, rng)
    np.testing.assert_allclose(np.abs(amplitude) ** 2, 2.5)
    phase = np.angle(amplitude) % (2 * np.pi)
    assert stats.kstest(phase, stats.uniform(0, 2 * np.pi).cdf).pvalue > KS_P_MIN


def test_amplitude_broadcasts_mean_power_and_shape_has_pulse_axis():
    rng = np.random.default_rng(14)
    mean_power = np.array([[1.0], [100.0]])
    amplitude = sample_complex_amplitude(2, mean_power, (2, 5000), rng)
    assert amplitude.shape == (2, 5000)
    np.testing.assert_allclose((np.abs(amplitude) ** 2).mean(axis=1), [1.0, 100.0], rtol=0.05)


def test_invalid_model_is_rejected():
    rng = np.random.default_rng(0)
    with pytest.raises(ConfigurationError, match="Swerling model.*received 5"):
        sample_rcs_factor(5, 3, rng)
    with pytest.raises(ConfigurationError, match="pfa"):
        detection_probability(1.0, 1.5, 1)
    with pytest.raises(ConfigurationError, match="integration"):
        detection_probability(1.0, 1e-6, 1, 4, integration="binary")
    with pytest.raises(ConfigurationError, match="models"):
        detect(np.ones(3), np.array([0, 1, 7]), 1e-6, rng)


# --- thresholds --------------------------------------------------------------------------------

def test_threshold_gives_design_pfa():
    assert threshold_for_pfa(1e-6) == pytest.approx(-math.log(1e-6))
    for n in (1, 4, 20):
        threshold = threshold_for_pfa(1e-6, n)
        # sum of n unit exponentials is gamma(n): survival at the threshold equals Pfa
        assert stats.gamma(n).sf(threshold) == pytest.approx(1e-6, rel=1e-8)


# --- detection probability: closed forms vs Monte Carlo of detect ------------------------------

SNRS_DB = (0.0, 5.0, 10.0, 13.0, 15.0, 20.0)


@pytest.mark.parametrize("pfa", [1e-6, 1e-4])
@pytest.mark.parametrize("model", [0, 1, 3])
def test_statistical_detection_matches_closed_form(model, pfa):
    trials = 20_000
    rng = np.random.default_rng(100 + model)
    snr = np.repeat(db_to_linear(SNRS_DB), trials)
    detected, measured = detect(snr, np.full(snr.shape, model), pfa, rng)
    pd_mc = detected.reshape(len(SNRS_DB), trials).mean(axis=1)
    pd_closed = detection_probability(db_to_linear(SNRS_DB), pfa, model)
    assert np.all(np.abs(pd_mc - pd_closed) <= PD_REQUIREMENT)
    for p_mc, p in zip(pd_mc, pd_closed):
        assert abs(p_mc - p) <= binomial_band(p, trials)
    # detection is exactly the threshold crossing of the reported SNR, and E|x|² = snr + 1
    np.testing.assert_array_equal(detected, measured > -math.log(pfa))
    np.testing.assert_allclose(measured.reshape(len(SNRS_DB), trials).mean(axis=1),
                               db_to_linear(SNRS_DB) + 1.0, rtol=0.05)


def test_statistical_detection_mixes_models_and_false_alarm_rate():
    trials = 40_000
    rng = np.random.default_rng(7)
    models = np.tile(np.array([0, 1, 2, 3, 4]), trials)
    detected, _ = detect(db_to_linear(13.0), models, 1e-6, rng)
    pd_mc = detected.reshape(trials, 5).mean(axis=0)
    pd = [float(detection_probability(db_to_linear(13.0), 1e-6, m)) for m in (0, 1, 1, 3, 3)]
    for p_mc, p in zip(pd_mc, pd):
        assert abs(p_mc - p) <= binomial_band(p, trials)
    # zero SNR: the detection rate is the design Pfa
    pfa = 1e-2
    detected, _ = detect(np.zeros(200_000), 1, pfa, rng)
    assert abs(detected.mean() - pfa) <= binomial_band(pfa, detected.size)


def test_single_look_closed_forms():
    pfa, snr = 1e-6, db_to_linear(np.array([3.0, 10.0, 17.0]))
    threshold = -math.log(pfa)
    # Swerling 0: Marcum Q1 by direct numerical integration of the Rician density
    for s in snr:
        rice = stats.rice(math.sqrt(2 * s), scale=math.sqrt(0.5))
        assert float(detection_probability(s, pfa, 0)) == pytest.approx(rice.sf(math.sqrt(threshold)), rel=1e-6)
    np.testing.assert_allclose(detection_probability(snr, pfa, 1), pfa ** (1 / (1 + snr)))
    # Swerling 3: average of Swerling 0 over the chi-square-4 power (independent quadrature)
    for s in snr:
        u = np.linspace(0, 40, 40_001)
        integrand = stats.ncx2.sf(2 * threshold, 2, 2 * s * u) * stats.chi2(4, scale=0.25).pdf(u)
        assert float(detection_probability(s, pfa, 3)) == pytest.approx(np.trapezoid(integrand, u), abs=1e-6)


def test_published_required_snr():
    pfa, pd = 1e-6, 0.9
    # Swerling 0, one pulse: about 13.2 dB (Albersheim)
    assert required_snr_db(pd, pfa, 0) == pytest.approx(13.2, abs=PUBLISHED_POINT_DB)
    assert required_snr_db(pd, pfa, 0) == pytest.approx(albersheim_snr_db(pd, pfa, 1), abs=ALBERSHEIM_ACCURACY_DB)
    # Swerling 1, one pulse: ln(Pfa)/ln(Pd) - 1 = 130.1 -> 21.1 dB
    assert required_snr_db(pd, pfa, 1) == pytest.approx(21.1, abs=PUBLISHED_POINT_DB)
    # Swerling 0, non-coherent integration (Albersheim's range of validity)
    for n, p in ((10, 0.5), (64, 0.9)):
        assert required_snr_db(p, 1e-5, 0, n, "noncoherent") == pytest.approx(
            albersheim_snr_db(p, 1e-5, n), abs=ALBERSHEIM_ACCURACY_DB)


def test_noncoherent_swerling_1_matches_mahafza():
    # [S17] Mahafza: Pd = 1 - P(n-1, T) + (1 + 1/(n χ))^(n-1) P(n-1, T/(1 + 1/(n χ))) exp(-T/(1 + n χ))
    pfa, n = 1e-6, 10
    threshold = threshold_for_pfa(pfa, n)
    for chi in db_to_linear([-3.0, 3.0, 8.0]):
        x = 1 + 1 / (n * chi)
        pd = (1 - special.gammainc(n - 1, threshold)
              + x ** (n - 1) * special.gammainc(n - 1, threshold / x) * math.exp(-threshold / (1 + n * chi)))
        assert float(detection_probability(chi, pfa, 1, n, integration="noncoherent")) == pytest.approx(pd, abs=1e-8)


def test_gamma_average_reproduces_swerling_2_closed_form():
    # the quadrature used for models 1/3/4 with shape n reproduces the Swerling-2 closed form
    n, pfa = 6, 1e-5
    threshold = threshold_for_pfa(pfa, n)
    for chi in db_to_linear([-2.0, 4.0, 12.0]):
        closed = float(detection_probability(chi, pfa, 2, n, integration="noncoherent"))
        assert swerling._pd_gamma_average(chi, threshold, n, n) == pytest.approx(closed, abs=1e-9)


@pytest.mark.parametrize("model", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("integration", ["coherent", "noncoherent"])
def test_multi_pulse_detection_vs_monte_carlo(model, integration):
    trials, n, pfa, snr_db = 20_000, 4, 1e-3, (-2.0, 4.0)
    rng = np.random.default_rng(200 + model)
    for chi in db_to_linear(snr_db):
        if model in (2, 4):
            amplitude = sample_complex_amplitude(model, chi, (trials, n), rng)
        else:
            amplitude = np.repeat(sample_complex_amplitude(model, chi, (trials, 1), rng), n, axis=1)
        noise = (rng.standard_normal((trials, n)) + 1j * rng.standard_normal((trials, n))) * math.sqrt(0.5)
        x = amplitude + noise
        if integration == "coherent":
            detected = np.abs(x.sum(axis=1)) ** 2 / n > threshold_for_pfa(pfa)
        else:
            detected = (np.abs(x) ** 2).sum(axis=1) > threshold_for_pfa(pfa, n)
        pd = float(detection_probability(chi, pfa, model, n, integration=integration))
        assert abs(detected.mean() - pd) <= binomial_band(pd, trials)


def test_detection_probability_shapes_and_limits():
    snr = db_to_linear(np.array([[0.0, 6.0], [10.0, 14.0]]))
    for model in swerling.SWERLING_MODELS:
        pd = detection_probability(snr, 1e-6, model)
        assert pd.shape == (2, 2)
        assert np.all(np.diff(pd.ravel()) > 0)                   # increasing with SNR
        assert float(detection_probability(0.0, 1e-6, model)) == pytest.approx(1e-6)


# --- false alarms ------------------------------------------------------------------------------

def test_false_alarm_count_mean_in_confidence_interval():
    rng = np.random.default_rng(21)
    num_cells, pfa, draws = 1_000_000, 1e-5, 2_000
    counts = np.array([false_alarm_count(num_cells, pfa, rng) for _ in range(draws)])
    expected = num_cells * pfa
    assert abs(counts.mean() - expected) <= SIGMAS * math.sqrt(expected * (1 - pfa) / draws)
    assert counts.var() == pytest.approx(expected, rel=0.15)    # Poisson-like dispersion
    assert false_alarm_count(0, pfa, rng) == 0
    with pytest.raises(ConfigurationError, match="num_cells"):
        false_alarm_count(-1, pfa, rng)


def test_false_alarm_cells_are_unique_sorted_and_above_threshold():
    rng = np.random.default_rng(22)
    pfa, num_cells = 1e-3, 2_000_000
    indices, measured = false_alarm_cells(num_cells, pfa, rng)
    expected = num_cells * pfa
    assert abs(indices.size - expected) <= SIGMAS * math.sqrt(expected)
    assert indices.dtype == np.int64 and indices.size == measured.size
    assert np.all(np.diff(indices) > 0) and indices[0] >= 0 and indices[-1] < num_cells
    threshold = threshold_for_pfa(pfa)
    assert np.all(measured > threshold)
    assert stats.kstest(measured - threshold, stats.expon().cdf).pvalue > KS_P_MIN
    # the tail draw agrees with brute-force noise: |w|² conditioned on exceeding the threshold
    noise_power = rng.exponential(1.0, 3_000_000)
    tail = noise_power[noise_power > threshold]
    assert stats.ks_2samp(tail, measured).pvalue > KS_P_MIN
    empty_indices, empty_measured = false_alarm_cells(0, pfa, rng)
    assert empty_indices.size == 0 and empty_measured.size == 0

