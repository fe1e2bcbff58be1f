"""The statistical fidelity's clutter loss reproduces the clutter model's MDV and periodicity."""

import numpy as np
import pytest

from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.radar.beam import antenna_axes
from sbamti.radar.clutter_loss import ClutterLossTable
from sbamti.radar.config import RadarConfig
from sbamti.radar.statistical import DwellGeometry, statistical_dwell

CONFIG = RadarConfig()


@pytest.fixture(scope="module")
def table():
    return ClutterLossTable(CONFIG, CONFIG.prf_set_hz[0])


def test_mdv_matches_the_parameter_sheet(table):
    # RADAR_PARAMETERS.md §3.5: N = 16, M = 32, R0 = 1500 km, no rotation, single ring: -5 dB MDV 5.04 m/s
    assert table.mdv_mps(-5.0) == pytest.approx(5.04, rel=0.10)
    assert table.mdv_mps(-3.0) == pytest.approx(6.76, rel=0.10)


def test_notch_at_zero_and_periodic_in_the_blind_speed(table):
    assert 10 * np.log10(table(np.array([0.0])))[0] < -20.0
    assert 10 * np.log10(table(np.array([20.0])))[0] > -1.0
    blind = table.blind_speed_mps
    assert blind == pytest.approx(CONFIG.wavelength_m * CONFIG.prf_set_hz[0] / 2)
    v = np.array([-30.0, 3.0, 17.5])
    assert np.allclose(table(v), table(v + blind)) and np.allclose(table(v), table(v - 2 * blind))


def test_slow_targets_are_suppressed_and_fast_ones_detected(table):
    sat = geodetic_to_ecef(0.0, 0.0, 800e3)
    vel = np.array([0.0, 0.0, 7451.8])
    centre = geodetic_to_ecef(0.0, np.radians(10.0), 0.0)
    geometry = DwellGeometry(0, sat, vel, centre, antenna_axes(sat, vel, centre), CONFIG.prf_set_hz[0])
    los = (centre - sat) / np.linalg.norm(centre - sat)
    rng = np.random.default_rng(8)
    counts = {}
    for name, radial in (("slow", 0.5), ("fast", 25.0)):
        velocity = (radial * los)[None, :]            # ground-relative radial velocity
        hits = 0
        for _ in range(300):
            r = statistical_dwell(CONFIG, geometry, centre[None, :], velocity, np.array([10.0]), np.array([0]), rng,
                                  pfa=1e-6, num_range_bins=0, clutter_loss=table)
            hits += int(np.sum(r.truth_index == 0))
        counts[name] = hits / 300
    assert counts["fast"] > 0.9 and counts["slow"] < 0.2, counts
