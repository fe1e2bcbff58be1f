"""The IQ chain finds an injected target in clutter and noise and estimates where it is."""

import numpy as np
import pytest

from sbamti.detection.iq_chain import IqDetector
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise

WAVELENGTH_M = 0.03
NOISE_W = 1.0


def _layout():
    return CubeLayout(channel_x_m=np.arange(8) - 3.5, num_pulses=16, num_range_bins=300, prf_hz=7500.0,
                      wavelength_m=WAVELENGTH_M, sample_rate_hz=5e6, range_first_bin_m=1_000_000.0)


@pytest.mark.parametrize("radial_velocity, cone_sine", [(-20.0, 0.0), (15.0, 0.0004), (-30.0, -0.0005)])
def test_target_is_detected_with_range_velocity_and_angle(radial_velocity, cone_sine):
    layout = _layout()
    rng = np.random.default_rng(12)
    cube = thermal_noise(layout.shape, NOISE_W, rng)
    true_range = layout.range_first_bin_m + 150.3 * layout.range_bin_m
    snr_per_sample = 10 ** (5 / 10)                         # +5 dB per sample, +26 dB after 128 samples
    add_point_targets(cube, layout, true_range, radial_velocity, cone_sine, np.sqrt(snr_per_sample * NOISE_W))
    detector = IqDetector(layout, noise_power_w=NOISE_W, pfa=1e-6)
    found = detector(cube, clutter_range_rate_mps=0.0)
    assert len(found) >= 1
    best = int(np.argmax(found.snr))
    assert abs(found.range_m[best] - true_range) < 0.5 * layout.range_bin_m
    assert abs(found.radial_velocity_mps[best] - radial_velocity) < 0.5 * WAVELENGTH_M * layout.prf_hz / 16 / 2
    beamwidth_sine = WAVELENGTH_M / 8.0
    assert abs(found.cone_sine[best] - cone_sine) < 0.05 * beamwidth_sine
    assert 10 * np.log10(found.snr[best]) > 15.0


def test_noise_only_cube_gives_few_false_alarms():
    layout = _layout()
    detector = IqDetector(layout, noise_power_w=NOISE_W, pfa=1e-4)
    rng = np.random.default_rng(2)
    counts = [len(detector(thermal_noise(layout.shape, NOISE_W, rng), 0.0)) for _ in range(10)]
    cells = 10 * 16 * 300
    assert sum(counts) <= cells * 1e-4 * 3 + 5          # clusters of crossings, at most ~Pfa per cell
