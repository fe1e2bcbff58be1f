"""Statistical-path thresholding and error bounds."""

import numpy as np
import pytest

from sbamti.detection.measurements import statistical_measurements
from sbamti.radar.config import RadarConfig
from sbamti.radar.estimation import angle_std_rad, crlb_range_std_m, radial_velocity_std_mps

RADAR = RadarConfig()
PRF = RADAR.prf_set_hz[0]


def test_threshold_and_crlb_errors():
    pfa = 1e-6
    threshold = -np.log(pfa)                                   # 13.8 noise powers
    power = np.array([threshold - 0.1, threshold, 100.0, 1000.0])
    found = statistical_measurements(RADAR, PRF, pfa, np.array([1e6, 2e6, 3e6, 4e6]), np.zeros(4),
                                     np.array([0.0, 0.0, 0.001, -0.0005]), np.zeros(4), power)
    assert len(found) == 3 and list(found.range_m) == [2e6, 3e6, 4e6]
    snr = power[1:] - 1.0
    assert np.allclose(found.snr, snr)
    assert np.allclose(found.range_std_m, crlb_range_std_m(snr, RADAR.bandwidth_hz))
    assert np.allclose(found.azimuth_std_rad, angle_std_rad(snr, 16, 1.0, RADAR.wavelength_m, found.azimuth_rad))
    assert np.allclose(found.range_rate_std_mps, radial_velocity_std_mps(snr, 32, PRF, RADAR.wavelength_m))
    # stronger returns are measured more precisely; elevation is unmeasured: uniform over the beam
    assert found.azimuth_std_rad[2] < found.azimuth_std_rad[0]
    assert np.allclose(found.elevation_std_rad, RADAR.elevation_beamwidth_rad / np.sqrt(12))


def test_nothing_above_threshold_gives_empty_arrays():
    found = statistical_measurements(RADAR, PRF, 1e-6, np.ones(2), np.ones(2), np.zeros(2), np.zeros(2),
                                     np.array([1.0, 2.0]))
    assert len(found) == 0 and found.range_std_m.shape == (0,)


@pytest.mark.parametrize("pfa", [1e-3, 1e-8])
def test_threshold_follows_pfa(pfa):
    power = np.array([-np.log(pfa) * 0.999, -np.log(pfa) * 1.001])
    found = statistical_measurements(RADAR, PRF, pfa, np.ones(2), np.zeros(2), np.zeros(2), np.zeros(2), power)
    assert len(found) == 1
