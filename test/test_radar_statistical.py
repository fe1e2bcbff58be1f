"""Statistical dwells: geometry of the returns, detection rate against the closed form, false alarms."""

import numpy as np
import pytest

from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.radar.beam import antenna_axes
from sbamti.radar.config import RadarConfig
from sbamti.radar.equation import snr_cpi
from sbamti.radar.statistical import DwellGeometry, statistical_dwell, two_way_pattern_power
from sbamti.radar.swerling import detection_probability

CONFIG = RadarConfig()
PFA = 1e-6


def _geometry():
    sat = geodetic_to_ecef(0.0, 0.0, 800e3)
    vel = np.array([0.0, 0.0, 7451.8])                       # northbound over the equator
    centre = geodetic_to_ecef(0.0, np.radians(10.0), 0.0)    # to the east, ~1300 km slant range
    return DwellGeometry(0, sat, vel, centre, antenna_axes(sat, vel, centre), CONFIG.prf_set_hz[0])


def test_pattern_is_one_at_boresight_and_zero_at_the_first_null():
    assert two_way_pattern_power(CONFIG, np.array([0.0]), np.array([0.0]))[0] == pytest.approx(1.0)
    null = CONFIG.wavelength_m / CONFIG.aperture_length_m
    assert two_way_pattern_power(CONFIG, np.array([null]), np.array([0.0]))[0] < 1e-20


def test_detection_rate_matches_the_swerling_closed_form_and_errors_are_unbiased():
    geometry = _geometry()
    rng = np.random.default_rng(11)
    # 2000 dwells of one stationary target at the beam centre, 1 m² Swerling 1
    position = geometry.beam_centre_ecef_m[None, :]
    velocity = np.zeros((1, 3))
    expected_snr = float(snr_cpi(CONFIG, 1.0, geometry.beam_range_m, geometry.prf_hz))
    hits, ranges, rates = 0, [], []
    for _ in range(2000):
        returns = statistical_dwell(CONFIG, geometry, position, velocity, np.array([1.0]), np.array([1]), rng,
                                    pfa=PFA, num_range_bins=0)
        found = returns.truth_index == 0
        hits += int(found.sum())
        ranges += list(returns.range_m[found])
        rates += list(returns.range_rate_mps[found])
    closed = detection_probability(expected_snr, PFA, 1)
    assert abs(hits / 2000 - closed) < 0.05
    true_rate = -np.dot((position[0] - geometry.sat_pos_ecef_m) / geometry.beam_range_m, geometry.sat_vel_ecef_mps)
    assert abs(np.mean(ranges) - geometry.beam_range_m) < 5.0            # m; CRLB ~ metres at these SNRs
    assert abs(np.mean(rates) - true_rate) < 0.05                        # m/s


def test_targets_outside_the_beam_are_never_returned_and_false_alarms_follow_pfa():
    geometry = _geometry()
    rng = np.random.default_rng(3)
    offset = geodetic_to_ecef(np.radians(2.0), np.radians(10.0), 0.0)     # ~220 km north: outside the beam
    total_alarms = 0
    for _ in range(200):
        returns = statistical_dwell(CONFIG, geometry, offset[None, :], np.zeros((1, 3)), np.array([1000.0]),
                                    np.array([0]), rng, pfa=1e-4, num_range_bins=1000)
        assert not np.any(returns.truth_index == 0)
        total_alarms += len(returns)
    cells = 200 * 1000 * CONFIG.pulses_per_cpi
    expected = cells * 1e-4
    assert abs(total_alarms - expected) < 5 * np.sqrt(expected)
