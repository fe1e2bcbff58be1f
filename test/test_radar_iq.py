"""Data-cube synthesis: noise calibration, target SNR after coherent integration, Doppler and spatial
phase, range folding and straddle — checked against closed forms."""

import numpy as np
import pytest

from sbamti.radar.iq import (SPEED_OF_LIGHT_MPS, CubeLayout, add_point_targets, doppler_steering,
                             spatial_steering, thermal_noise)

WAVELENGTH_M = SPEED_OF_LIGHT_MPS / 10e9
BOLTZMANN = 1.380649e-23
NOISE_W = BOLTZMANN * 290.0 * 5e6 * 10 ** 0.3       # k T0 B F, 5 MHz, F = 3 dB
HALF_DB = 0.5
ONE_PERCENT = 0.01


def _layout(num_range_bins=200, prf_hz=7500.0):
    return CubeLayout(channel_x_m=np.arange(16) - 7.5, num_pulses=32, num_range_bins=num_range_bins, prf_hz=prf_hz,
                      wavelength_m=WAVELENGTH_M, sample_rate_hz=5e6, range_first_bin_m=1_490_000.0)


def _integrate(cube, layout, bin_index, cone_sine, radial_velocity):
    """Coherent integration (beamform and Doppler filter) at a target's spatial and Doppler phase."""
    weights = spatial_steering(layout, cone_sine)[0][:, None] * doppler_steering(layout, radial_velocity)[0][None, :]
    return np.vdot(weights, cube[:, :, bin_index])  # sum of conj(w) * x


def test_noise_is_calibrated_to_ktbf():
    cube = thermal_noise((16, 32, 1000), NOISE_W, np.random.default_rng(1))
    assert cube.dtype == np.complex64
    assert np.mean(np.abs(cube) ** 2) == pytest.approx(NOISE_W, rel=ONE_PERCENT)
    assert abs(np.mean(cube.real ** 2) - np.mean(cube.imag ** 2)) < 0.02 * NOISE_W  # circular


def test_integrated_snr_is_n_times_m_times_the_per_sample_snr():
    layout = _layout()
    rng = np.random.default_rng(2)
    snr_per_sample = 10 ** (-12 / 10)          # -12 dB per channel per pulse -> +15.1 dB after 512 samples
    amplitude = np.sqrt(snr_per_sample * NOISE_W) * np.exp(0.7j)
    true_range = layout.range_first_bin_m + 57 * layout.range_bin_m
    signal_out, noise_out = [], []
    for _ in range(200):
        cube = thermal_noise(layout.shape, NOISE_W, rng)
        noise_out.append(_integrate(cube, layout, 57, 0.0004, -31.0))
        add_point_targets(cube, layout, true_range, -31.0, 0.0004, amplitude)
        signal_out.append(_integrate(cube, layout, 57, 0.0004, -31.0))
    noise_power = np.mean(np.abs(noise_out) ** 2)
    signal_power = np.abs(np.mean(signal_out)) ** 2      # the coherent part
    measured_db = 10 * np.log10(signal_power / noise_power)
    expected_db = 10 * np.log10(16 * 32 * snr_per_sample)
    assert abs(measured_db - expected_db) < HALF_DB, (measured_db, expected_db)


def test_pulse_to_pulse_phase_gives_the_radial_velocity():
    layout = _layout()
    for radial_velocity in (-47.3, -5.0, 12.5, 50.1):   # inside the unambiguous band ±λ·PRF/4 = ±56 m/s
        cube = np.zeros(layout.shape, dtype=np.complex64)
        add_point_targets(cube, layout, layout.range_first_bin_m + 10 * layout.range_bin_m, radial_velocity, 0.0, 1.0)
        pulses = cube[:, :, 10].sum(axis=0)
        phase_step = np.angle(np.sum(pulses[1:] * np.conj(pulses[:-1])))
        estimate = -phase_step * WAVELENGTH_M * layout.prf_hz / (4 * np.pi)
        assert estimate == pytest.approx(radial_velocity, rel=ONE_PERCENT)


def test_channel_phase_gives_the_cone_angle():
    layout = _layout()
    cube = np.zeros(layout.shape, dtype=np.complex64)
    cone_sine = 0.00083                                  # half an azimuth beamwidth off boresight
    add_point_targets(cube, layout, layout.range_first_bin_m + 3 * layout.range_bin_m, 0.0, cone_sine, 1.0)
    channels = cube[:, 0, 3]
    step = np.angle(np.sum(channels[1:] * np.conj(channels[:-1])))
    assert step * WAVELENGTH_M / (2 * np.pi * 1.0) == pytest.approx(cone_sine, rel=ONE_PERCENT)


def test_blind_speed_and_range_folding():
    layout = _layout()
    blind = WAVELENGTH_M * layout.prf_hz / 2               # 112 m/s at 7.5 kHz: same phases as 0 m/s
    assert np.allclose(doppler_steering(layout, 12.0), doppler_steering(layout, 12.0 + blind), atol=1e-9)
    near, far = (np.zeros(layout.shape, dtype=np.complex64) for _ in range(2))
    base = layout.range_first_bin_m + 40 * layout.range_bin_m
    add_point_targets(near, layout, base, 0.0, 0.0, 1.0)
    add_point_targets(far, layout, base + layout.unambiguous_range_m, 0.0, 0.0, 1.0)
    assert np.argmax(np.abs(far[0, 0])) == np.argmax(np.abs(near[0, 0])) == 40


def test_straddling_target_spreads_with_the_sinc_response():
    layout = _layout()
    cube = np.zeros(layout.shape, dtype=np.complex64)
    add_point_targets(cube, layout, layout.range_first_bin_m + 20.5 * layout.range_bin_m, 0.0, 0.0, 1.0)
    magnitudes = np.abs(cube[0, 0])
    assert magnitudes[20] == pytest.approx(2 / np.pi, rel=1e-5) and magnitudes[21] == pytest.approx(2 / np.pi, rel=1e-5)
    assert magnitudes[22] == pytest.approx(2 / (3 * np.pi), rel=1e-5)   # |sinc(1.5)|


def test_two_targets_in_one_bin_add():
    layout = _layout()
    cube = np.zeros(layout.shape, dtype=np.complex64)
    r = layout.range_first_bin_m + 5 * layout.range_bin_m
    add_point_targets(cube, layout, [r, r], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0])
    assert abs(cube[0, 0, 5]) == pytest.approx(2.0, rel=1e-6)


def test_target_from_the_radar_equation_integrates_to_the_equation_snr():
    """A 1 m² target at 1500 km, baseline radar: measured post-integration SNR = radar equation ±0.5 dB."""
    from sbamti.radar.config import RadarConfig
    from sbamti.radar.equation import db, snr_cpi, snr_per_channel_per_pulse

    config = RadarConfig()
    prf = config.prf_set_hz[0]
    layout = CubeLayout(channel_x_m=config.channel_positions_antenna_m[:, 0], num_pulses=config.pulses_per_cpi,
                        num_range_bins=64, prf_hz=prf, wavelength_m=config.wavelength_m,
                        sample_rate_hz=config.sample_rate_hz, range_first_bin_m=1_499_000.0)
    per_sample = float(snr_per_channel_per_pulse(config, 1.0, 1500e3, prf))
    amplitude = np.sqrt(per_sample * config.noise_power_w)
    rng = np.random.default_rng(5)
    bin_index = 20
    true_range = layout.range_first_bin_m + bin_index * layout.range_bin_m
    signal_out, noise_out = [], []
    for _ in range(300):
        cube = thermal_noise(layout.shape, config.noise_power_w, rng)
        noise_out.append(_integrate(cube, layout, bin_index, -0.0002, 88.0))
        add_point_targets(cube, layout, true_range, 88.0, -0.0002, amplitude)
        signal_out.append(_integrate(cube, layout, bin_index, -0.0002, 88.0))
    measured_db = 10 * np.log10(np.abs(np.mean(signal_out)) ** 2 / np.mean(np.abs(noise_out) ** 2))
    expected_db = float(db(snr_cpi(config, 1.0, 1500e3, prf)))   # 8.3 dB at M = 64 less 3 dB at M = 32
    assert abs(expected_db - 5.3) < 0.1
    assert abs(measured_db - expected_db) < HALF_DB, (measured_db, expected_db)
