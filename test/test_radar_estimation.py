"""Cramér–Rao bounds: the values of RADAR_PARAMETERS §3.8 and Monte Carlo maximum-likelihood
estimates of a tone in white noise (an independent check of the formulas and their SNR convention).
"""

import math

import numpy as np
import pytest

from sbamti.errors import ConfigurationError
from sbamti.radar.estimation import (
    SPEED_OF_LIGHT_MPS,
    angle_std_rad,
    crlb_doppler_std,
    crlb_range_std_m,
    crlb_spatial_frequency_std,
    draw_measurement_errors,
    radial_velocity_std_mps,
)

SHEET_TOLERANCE = 0.01        # RADAR_PARAMETERS §3.8 values are given to 2-3 digits
ML_TOLERANCE = 0.15           # Monte Carlo ML std vs CRLB at high SNR
DRAW_TOLERANCE = 0.05         # sample std of 20,000 Gaussian draws (about 1 % standard error)

# Baseline (RADAR_PARAMETERS §2)
NUM_CHANNELS = 16
SPACING_M = 1.0
WAVELENGTH_M = 0.02998
PRF_HZ = 7500.0
BANDWIDTH_HZ = 5e6


def db_to_linear(value_db):
    return 10.0 ** (value_db / 10.0)


def test_parameter_sheet_values():
    # §3.8: σ(sin az) = 130 µrad at η = 15 dB and 73 µrad at 20 dB; σ_vr = 0.244 / 0.122 m/s (M = 32 / 64)
    assert angle_std_rad(db_to_linear(15.0), NUM_CHANNELS, SPACING_M, WAVELENGTH_M) == pytest.approx(
        130e-6, rel=SHEET_TOLERANCE)
    assert angle_std_rad(db_to_linear(20.0), NUM_CHANNELS, SPACING_M, WAVELENGTH_M) == pytest.approx(
        73e-6, rel=SHEET_TOLERANCE)
    assert radial_velocity_std_mps(db_to_linear(15.0), 32, PRF_HZ, WAVELENGTH_M) == pytest.approx(
        0.244, rel=SHEET_TOLERANCE)
    assert radial_velocity_std_mps(db_to_linear(15.0), 64, PRF_HZ, WAVELENGTH_M) == pytest.approx(
        0.122, rel=SHEET_TOLERANCE)
    # 0.08 of the 1.66 mrad azimuth beamwidth, 195 m cross-range at 1500 km
    cross_range_m = 1500e3 * angle_std_rad(db_to_linear(15.0), NUM_CHANNELS, SPACING_M, WAVELENGTH_M)
    assert cross_range_m == pytest.approx(195.0, rel=SHEET_TOLERANCE)


def test_formulas_scale_as_expected():
    snr = db_to_linear(np.array([10.0, 20.0]))
    sigma = crlb_spatial_frequency_std(snr, 8)
    assert sigma[0] / sigma[1] == pytest.approx(math.sqrt(10.0))              # ∝ 1/sqrt(η)
    np.testing.assert_allclose(crlb_doppler_std(snr, 8), sigma)             # same tone bound
    broadside = angle_std_rad(100.0, 16, 1.0, 0.03)
    assert angle_std_rad(100.0, 16, 1.0, 0.03, math.radians(60.0)) == pytest.approx(2.0 * broadside)
    # range: c/(2B) sqrt(3)/(π sqrt(2η)) -- 2.08 m at 15 dB and 5 MHz
    assert crlb_range_std_m(db_to_linear(15.0), BANDWIDTH_HZ) == pytest.approx(
        SPEED_OF_LIGHT_MPS / (2 * BANDWIDTH_HZ) * math.sqrt(3) / (math.pi * math.sqrt(2 * db_to_linear(15.0))))


def ml_tone_frequency(samples, oversample=8, fine_points=401):
    """ML frequency (cycles/sample) of one complex tone per row: the periodogram maximum, found on
    a DFT grid ``oversample`` times finer than the natural one, then on a local grid of
    ``fine_points`` across ±1 coarse bin (direct DTFT), refined by parabolic interpolation."""
    count = samples.shape[-1]
    size = count * oversample
    coarse = np.argmax(np.abs(np.fft.fft(samples, n=size, axis=-1)), axis=-1) / size
    step = 2.0 / size / (fine_points - 1)
    grid = coarse[:, None] + (np.arange(fine_points) - (fine_points - 1) / 2) * step
    k = np.arange(count)
    spectrum = np.abs(np.einsum("tk,tfk->tf", samples, np.exp(-2j * np.pi * grid[:, :, None] * k))) ** 2
    peak = np.clip(np.argmax(spectrum, axis=-1), 1, fine_points - 2)
    rows = np.arange(samples.shape[0])
    left, centre, right = spectrum[rows, peak - 1], spectrum[rows, peak], spectrum[rows, peak + 1]
    offset = 0.5 * (left - right) / (left - 2 * centre + right)
    frequency = grid[rows, peak] + offset * step
    return (frequency + 0.5) % 1.0 - 0.5


def tone_in_noise(count, frequency, snr_output, trials, rng):
    """``trials`` rows of a unit-amplitude tone with random phase in complex white noise, scaled so
    that the output SNR after coherent integration of the ``count`` samples is ``snr_output``."""
    noise_power = count / snr_output
    k = np.arange(count)
    phase = rng.uniform(0, 2 * np.pi, (trials, 1))
    noise = (rng.standard_normal((trials, count)) + 1j * rng.standard_normal((trials, count))) * math.sqrt(
        noise_power / 2)
    return np.exp(1j * (2 * np.pi * frequency * k + phase)) + noise


@pytest.mark.parametrize("count", [NUM_CHANNELS, 32])
def test_ml_tone_estimate_reaches_crlb(count):
    rng = np.random.default_rng(31 + count)
    snr = db_to_linear(25.0)
    frequency = 0.1234
    estimates = ml_tone_frequency(tone_in_noise(count, frequency, snr, 2000, rng))
    assert abs(np.mean(estimates) - frequency) < 0.2 * crlb_doppler_std(snr, count)   # unbiased
    assert np.std(estimates) == pytest.approx(crlb_spatial_frequency_std(snr, count), rel=ML_TOLERANCE)


def test_ml_delay_estimate_reaches_range_crlb():
    """Dual check of the range bound: a flat spectrum of width B sampled at K frequencies carries
    the delay as a tone across frequency; the ML delay error matches ``crlb_range_std_m``."""
    rng = np.random.default_rng(41)
    snr, count = db_to_linear(25.0), 64
    spacing_hz = BANDWIDTH_HZ / count
    delay_s = 0.37 / BANDWIDTH_HZ                       # a fraction of a range cell
    samples = tone_in_noise(count, -spacing_hz * delay_s, snr, 2000, rng)
    delay_estimates = -ml_tone_frequency(samples) / spacing_hz
    range_std_m = np.std(delay_estimates) * SPEED_OF_LIGHT_MPS / 2
    large_k = math.sqrt(count ** 2 / (count ** 2 - 1))  # the formula is the large-K limit
    assert range_std_m == pytest.approx(crlb_range_std_m(snr, BANDWIDTH_HZ) * large_k, rel=ML_TOLERANCE)


def test_draw_measurement_errors():
    rng = np.random.default_rng(51)
    snr = np.full(20_000, db_to_linear(15.0))
    errors = draw_measurement_errors(snr, num_channels=NUM_CHANNELS, num_pulses=64, spacing_m=SPACING_M,
                                     wavelength_m=WAVELENGTH_M, prf_hz=PRF_HZ, bandwidth_hz=BANDWIDTH_HZ,
                                     rng=rng)
    for key, std_key in (("range_m", "range_std_m"), ("angle_rad", "angle_std_rad"),
                         ("radial_velocity_mps", "radial_velocity_std_mps")):
        assert errors[key].shape == snr.shape
        assert np.std(errors[key]) == pytest.approx(errors[std_key][0], rel=DRAW_TOLERANCE)
        assert abs(np.mean(errors[key])) < 5 * errors[std_key][0] / math.sqrt(snr.size)
    assert errors["radial_velocity_std_mps"][0] == pytest.approx(0.122, rel=SHEET_TOLERANCE)
    assert errors["angle_std_rad"][0] == pytest.approx(130e-6, rel=SHEET_TOLERANCE)


def test_invalid_inputs_are_rejected():
    with pytest.raises(ConfigurationError, match="snr"):
        crlb_doppler_std(0.0, 32)
    with pytest.raises(ConfigurationError, match="num_channels.*received 1"):
        crlb_spatial_frequency_std(10.0, 1)
    with pytest.raises(ConfigurationError, match="cone_angle_rad"):
        angle_std_rad(10.0, 16, 1.0, 0.03, math.pi / 2)
    with pytest.raises(ConfigurationError, match="bandwidth_hz"):
        crlb_range_std_m(10.0, -5e6)
