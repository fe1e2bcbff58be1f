"""Angle and Doppler estimation against the Cramér–Rao bound (closed form, white noise), through the IQ chain."""

import numpy as np
import pytest

from sbamti.detection.angle_doppler import AngleDopplerEstimator
from sbamti.detection.iq_chain import IqDetector
from sbamti.errors import ConfigurationError
from sbamti.radar.config import RadarConfig
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise

RADAR = RadarConfig()


def baseline_layout(num_range_bins=300):
    return CubeLayout(channel_x_m=RADAR.channel_positions_antenna_m[:, 0], num_pulses=RADAR.pulses_per_cpi,
                      num_range_bins=num_range_bins, prf_hz=RADAR.prf_set_hz[0], wavelength_m=RADAR.wavelength_m,
                      sample_rate_hz=RADAR.sample_rate_hz, range_first_bin_m=1.49e6)


def crlb_std(layout, snr_per_sample):
    """Closed-form CRLB (std) of cone sine and radial velocity for one point target of unknown complex
    amplitude in white noise, all N M samples: the phase of sample (n, m) is 2π x_n s / λ + ω m, so
    var(s) = λ² / (8π² ρ M Σ(x - x̄)²), var(ω) = 1 / (2 ρ N Σ(m - m̄)²), v = -ω PRF λ / (4π)."""
    x = np.asarray(layout.channel_x_m)
    m = np.arange(layout.num_pulses)
    n_ch, n_p = x.size, m.size
    var_s = layout.wavelength_m ** 2 / (8 * np.pi ** 2 * snr_per_sample * n_p * np.sum((x - x.mean()) ** 2))
    var_w = 1.0 / (2 * snr_per_sample * n_ch * np.sum((m - m.mean()) ** 2))
    return np.sqrt(var_s), np.sqrt(var_w) * layout.prf_hz * layout.wavelength_m / (4 * np.pi)


def test_chain_errors_are_within_1_3_of_the_cramer_rao_bound():
    layout = baseline_layout()
    noise = RADAR.noise_power_w
    detector = IqDetector(layout, noise_power_w=noise, pfa=1e-6)
    beam = detector.estimator.beam_spacing_sine
    snr_integrated = 200.0                                      # 23 dB over N M = 512 samples
    rho = snr_integrated / (layout.num_channels * layout.num_pulses)
    s_true, v_true, range_bin = 0.3 * beam, 37.0, 150           # off beam centre, 0.47 bin off a Doppler bin
    r_true = layout.range_first_bin_m + range_bin * layout.range_bin_m
    rng = np.random.default_rng(2024)
    trials, errors, snrs, missed = 400, [], [], 0
    for _ in range(trials):
        cube = thermal_noise(layout.shape, noise, rng)
        add_point_targets(cube, layout, [r_true], [v_true], [s_true], [np.sqrt(rho * noise) * np.exp(2j * np.pi * rng.random())])
        found = detector(cube, clutter_range_rate_mps=0.0)
        near = np.abs(found.range_m - r_true) < 2 * layout.range_bin_m
        assert near.sum() <= 1                                  # one cluster per target
        if not near.any():
            missed += 1
            continue
        i = int(np.nonzero(near)[0][0])
        errors.append((found.cone_sine[i] - s_true, found.radial_velocity_mps[i] - v_true))
        snrs.append(found.snr[i])
    assert missed <= 0.02 * trials                              # Pd >= 0.98 at this SNR and Pfa 1e-6
    errors = np.array(errors)
    std_s, std_v = crlb_std(layout, rho)
    rms_s, rms_v = np.sqrt(np.mean(errors ** 2, axis=0))
    # 400 trials: the RMS is known to ~3.5 %; the estimator is unbiased to a fraction of its spread
    print(f"RMS / CRLB: cone sine {rms_s / std_s:.3f}, radial velocity {rms_v / std_v:.3f}; missed {missed} of {trials}")
    assert rms_s <= 1.3 * std_s and rms_v <= 1.3 * std_v, (rms_s / std_s, rms_v / std_v)
    assert rms_s >= 0.9 * std_s and rms_v >= 0.9 * std_v       # no estimator beats the bound
    assert abs(errors[:, 0].mean()) < 0.3 * std_s and abs(errors[:, 1].mean()) < 0.3 * std_v
    # |α̂|² N M / σ² is unbiased up to the estimation variance: E = SNR + 1
    assert np.mean(snrs) == pytest.approx(snr_integrated + 1.0, rel=0.05)


def _fisher_std(transform, layout, s0, f0):
    """CRLB std of (s, f) from the data ``Tᴴ x`` (white noise, unknown amplitude), numerically."""
    x = np.asarray(layout.channel_x_m)

    def steer(s, f):
        return np.kron(np.exp(2j * np.pi * x * s / layout.wavelength_m), np.exp(2j * np.pi * f * np.arange(layout.num_pulses)))

    gram = transform.conj().T @ transform
    white = np.linalg.inv(np.linalg.cholesky(gram)) @ transform.conj().T
    g = white @ steer(s0, f0)
    eps_s, eps_f = 1e-7, 1e-7
    derivs = np.stack([white @ (steer(s0 + eps_s, f0) - steer(s0 - eps_s, f0)) / (2 * eps_s),
                       white @ (steer(s0, f0 + eps_f) - steer(s0, f0 - eps_f)) / (2 * eps_f)], axis=1)
    projector = np.eye(g.size) - np.outer(g, g.conj()) / np.vdot(g, g)
    fisher = 2 * np.real(derivs.conj().T @ projector @ derivs)
    return np.sqrt(np.diag(np.linalg.inv(fisher)))


@pytest.mark.parametrize("beam_offset, bin_offset", [(0.0, 0.0), (0.3, 0.3), (0.5, 0.5)])
def test_the_localized_domain_keeps_the_information(beam_offset, bin_offset):
    layout = baseline_layout(20)
    est = AngleDopplerEstimator(layout, noise_power_w=1.0, num_training=10, num_guard=1)
    m = layout.num_pulses
    s0 = beam_offset * est.beam_spacing_sine
    f0 = (3 + bin_offset) / m
    rows = np.exp(-2j * np.pi * np.outer((3 + est.bin_offsets) / m, np.arange(m)))          # (J, M)
    reduced = _fisher_std(np.kron(est.beams_h.conj().T, rows.conj().T), layout, s0, f0)
    full = _fisher_std(np.eye(layout.num_channels * m), layout, s0, f0)
    assert np.all(reduced >= full * (1 - 1e-6))
    assert np.all(reduced <= 1.15 * full), reduced / full


def test_estimator_finds_a_strong_target_exactly():
    layout = baseline_layout(120)
    est = AngleDopplerEstimator(layout, noise_power_w=1.0, num_training=60, num_guard=2)
    cube = thermal_noise(layout.shape, 1.0, np.random.default_rng(3)) * 1e-3
    s, v = -0.4 * est.beam_spacing_sine, -21.0
    add_point_targets(cube, layout, [layout.range_first_bin_m + 60 * layout.range_bin_m], [v], [s], [1.0])
    f = -2 * v / layout.wavelength_m / layout.prf_hz
    out = est(cube, np.array([60]), np.array([np.round(f * 32) / 32 + 0.02]))
    assert out.cone_sine[0] == pytest.approx(s, abs=1e-3 * est.beam_spacing_sine)
    assert out.doppler_cycles_per_pulse[0] == pytest.approx(f, abs=1e-4 / 32)
    assert abs(out.amplitude[0]) == pytest.approx(1.0, rel=1e-3)


def test_estimator_rejects_bad_input():
    layout = baseline_layout(120)
    with pytest.raises(ConfigurationError, match="beams"):
        AngleDopplerEstimator(layout, noise_power_w=1.0, beams=4, num_training=60)
    with pytest.raises(ConfigurationError, match="doppler_bins"):
        AngleDopplerEstimator(layout, noise_power_w=1.0, doppler_bins=0, num_training=60)
    with pytest.raises(ConfigurationError, match="noise_power_w"):
        AngleDopplerEstimator(layout, noise_power_w=0.0, num_training=60)
    with pytest.raises(ConfigurationError, match="training"):
        AngleDopplerEstimator(layout, noise_power_w=1.0, num_training=200)
    est = AngleDopplerEstimator(layout, noise_power_w=1.0, num_training=60)
    cube = thermal_noise(layout.shape, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="range_bin"):
        est(cube, np.array([120]), np.array([0.0]))
    with pytest.raises(ValueError, match="range_bin, doppler_cycles_per_pulse"):
        est(cube, np.array([1, 2]), np.array([0.0]))
    assert len(est(cube, np.array([], dtype=int), np.array([])).cone_sine) == 0
