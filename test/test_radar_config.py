"""RadarConfig: defaults equal the baseline sheet, derived numbers, YAML round trip, rejections.

Reference values: /work/shared/RADAR_PARAMETERS.md Sec. 2 (inputs) and Sec. 3.1 / 3.2 (derived),
computed independently of this code.
"""

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.optimize import brentq

from sbamti.errors import ConfigurationError
from sbamti.radar.config import (
    UNIFORM_ONE_WAY_3DB_FACTOR,
    UNIFORM_TWO_WAY_3DB_FACTOR,
    RadarConfig,
)
from sbamti.radar.equation import db

REPO_ROOT = Path(__file__).resolve().parents[1]
BASELINE_YAML = REPO_ROOT / "config" / "radar_baseline.yaml"


def test_defaults_are_the_sheet_inputs():
    c = RadarConfig()
    assert c.carrier_frequency_hz == 10e9
    assert c.bandwidth_hz == 5e6
    assert c.prf_set_hz == (7500.0,)
    assert (c.pulses_per_cpi, c.num_channels, c.channel_spacing_m) == (32, 16, 1.0)
    assert (c.aperture_length_m, c.aperture_height_m, c.aperture_efficiency) == (16.0, 2.5, 0.6)
    assert (c.peak_power_w, c.duty_cycle) == (10e3, 0.2)
    assert (c.noise_figure_db, c.system_losses_db, c.reference_temperature_k) == (3.0, 5.0, 290.0)
    assert c.clutter_gamma_db == -10.0
    assert c.grazing_min_deg < c.grazing_max_deg


def test_derived_quantities_match_sheet_3_1():
    c = RadarConfig()
    assert c.wavelength_m == pytest.approx(2.998e-2, abs=0.0005e-2)           # 2.998 cm
    assert c.effective_aperture_m2 == pytest.approx(24.0)                     # Ae = 24 m^2
    assert db(c.gain) == pytest.approx(55.3, abs=0.05)                        # 55.3 dBi
    assert c.azimuth_beamwidth_rad == pytest.approx(1.66e-3, abs=0.005e-3)    # 1.66 mrad
    assert math.degrees(c.azimuth_beamwidth_rad) == pytest.approx(0.095, abs=0.0005)
    assert c.elevation_beamwidth_rad == pytest.approx(10.6e-3, abs=0.05e-3)   # 10.6 mrad
    assert math.degrees(c.elevation_beamwidth_rad) == pytest.approx(0.61, abs=0.005)
    assert c.pulse_width_s == pytest.approx(26.7e-6, abs=0.05e-6)             # 26.7 us at 7.5 kHz
    assert c.blind_range_m(7500.0) == pytest.approx(4.0e3, abs=0.05e3)        # blind zone 4 km
    assert c.average_power_w == pytest.approx(2000.0)
    assert c.average_power_w * c.effective_aperture_m2 == pytest.approx(4.8e4, rel=1e-3)
    assert c.unambiguous_range_m(7500.0) == pytest.approx(20.0e3, abs=0.05e3)
    assert c.unambiguous_range_m(3750.0) == pytest.approx(40.0e3, abs=0.05e3)
    assert c.range_resolution_m == pytest.approx(30.0, abs=0.05)
    assert c.sample_rate_hz == c.bandwidth_hz
    assert c.cpi_duration_s(7500.0) == pytest.approx(32 / 7500.0)
    assert dataclasses.replace(c, pulses_per_cpi=64).cpi_duration_s(7500.0) == pytest.approx(8.53e-3, abs=0.005e-3)
    # k T0 B F = 1.380649e-23 * 290 * 5e6 * 10^0.3
    assert c.noise_power_w == pytest.approx(1.380649e-23 * 290.0 * 5e6 * 10 ** 0.3)
    # d = 33.4 wavelengths (sheet Sec. 2)
    assert c.channel_spacing_m / c.wavelength_m == pytest.approx(33.4, abs=0.05)


def test_channel_positions_centred_on_the_along_track_axis():
    c = RadarConfig()
    pos = c.channel_positions_antenna_m
    assert pos.shape == (16, 3)
    assert np.all(pos[:, 1:] == 0.0)
    np.testing.assert_allclose(np.diff(pos[:, 0]), 1.0)
    assert pos[:, 0].mean() == pytest.approx(0.0, abs=1e-12)
    assert pos[0, 0] == pytest.approx(-7.5) and pos[-1, 0] == pytest.approx(7.5)


def test_uniform_aperture_beamwidth_factors_are_the_sinc_roots():
    def sinc(x):
        return math.sin(x) / x

    one_way = brentq(lambda x: sinc(x) ** 2 - 0.5, 0.1, 3.0)
    two_way = brentq(lambda x: sinc(x) ** 4 - 0.5, 0.1, 3.0)
    # Full width in units of lambda / L: x = pi L sin(theta) / lambda at the half-power point.
    assert UNIFORM_ONE_WAY_3DB_FACTOR == pytest.approx(2.0 * one_way / math.pi, rel=1e-12)
    assert UNIFORM_TWO_WAY_3DB_FACTOR == pytest.approx(2.0 * two_way / math.pi, rel=1e-12)
    # Sheet Sec. 3.4: mainbeam clutter 3 dB width 2 v_p k / L = 825 Hz one-way, 596 Hz two-way
    # (v_p = 7451.8 m/s, L = 16 m). The sheet rounded the two-way factor to 0.64 (596 Hz); the
    # exact 0.6378 gives 594 Hz, 0.35 % less (0.015 dB in the CNR).
    v_p, length = 7451.8, 16.0
    assert 2.0 * v_p * UNIFORM_ONE_WAY_3DB_FACTOR / length == pytest.approx(825.0, abs=0.5)
    assert 2.0 * v_p * UNIFORM_TWO_WAY_3DB_FACTOR / length == pytest.approx(596.0, rel=0.005)


def test_prf_diversity_cycles_through_the_set():
    c = RadarConfig(prf_set_hz=[7000, 7500.0, 8100.0])
    assert c.prf_set_hz == (7000.0, 7500.0, 8100.0)
    assert [c.prf_for_dwell(k) for k in range(5)] == [7000.0, 7500.0, 8100.0, 7000.0, 7500.0]
    assert c.pulse_width_for_prf_s(8100.0) == pytest.approx(0.2 / 8100.0)


def test_yaml_file_is_the_baseline():
    assert RadarConfig.from_yaml(BASELINE_YAML) == RadarConfig()


def test_yaml_round_trip(tmp_path):
    c = RadarConfig(prf_set_hz=(3750.0, 7500.0, 15000.0), pulses_per_cpi=64, num_channels=8,
                    channel_spacing_m=2.0, clutter_gamma_db=-15.0, grazing_min_deg=5.0)
    path = tmp_path / "radar.yaml"
    path.write_text(yaml.safe_dump({"radar": c.to_mapping()}), encoding="utf-8")
    assert RadarConfig.from_yaml(path) == c
    assert RadarConfig.from_mapping(c.to_mapping()) == c


def test_partial_mapping_keeps_defaults():
    c = RadarConfig.from_mapping({"num_channels": 8, "prf_set_hz": 5000})
    assert c.num_channels == 8 and c.prf_set_hz == (5000.0,)
    assert c.bandwidth_hz == RadarConfig().bandwidth_hz


# Each: (override, key the message must name, value it must show).
MALFORMED = [
    ({"carrier_frequncy_hz": 10e9}, "carrier_frequncy_hz", "carrier_frequncy_hz"),     # unknown key (typo)
    ({"num_channels": 16.5}, "num_channels", "16.5"),                                   # not an integer
    ({"num_channels": True}, "num_channels", "True"),                                   # bool is not a number
    ({"pulses_per_cpi": 0}, "pulses_per_cpi", "0"),                                     # out of range
    ({"bandwidth_hz": "5 MHz"}, "bandwidth_hz", "'5 MHz'"),                             # string
    ({"bandwidth_hz": -5e6}, "bandwidth_hz", "-5000000.0"),                             # negative
    ({"duty_cycle": 1.0}, "duty_cycle", "1.0"),                                         # duty must be < 1
    ({"duty_cycle": 0.0}, "duty_cycle", "0.0"),                                         # and > 0
    ({"aperture_efficiency": 1.2}, "aperture_efficiency", "1.2"),
    ({"peak_power_w": float("nan")}, "peak_power_w", "nan"),                            # non-finite
    ({"prf_set_hz": []}, "prf_set_hz", "[]"),                                           # empty PRF list
    ({"prf_set_hz": [7500.0, -100.0]}, "prf_set_hz[1]", "-100.0"),                      # negative PRF
    ({"prf_set_hz": [7500.0, "fast"]}, "prf_set_hz[1]", "'fast'"),
    ({"num_channels": 20}, "num_channels", "20"),                                       # 20 x 1 m > 16 m + 1 m
    ({"grazing_min_deg": 60.0, "grazing_max_deg": 30.0}, "grazing_min_deg", "60.0"),  # min >= max
    ({"grazing_max_deg": 95.0}, "grazing_max_deg", "95.0"),
    ({"noise_figure_db": -1.0}, "noise_figure_db", "-1.0"),
    ({"duty_cycle": 0.01, "prf_set_hz": [7500.0, 100e3]}, "prf_set_hz[1]", "100000.0"),  # pulse < 1/B
    ({"prf_set_hz": 7500.0, "pulses_per_cpi": 32, "num_channels": 0}, "num_channels", "0"),
]


@pytest.mark.parametrize("override, key, shown", MALFORMED, ids=[m[1] + ":" + m[2] for m in MALFORMED])
def test_malformed_mapping_is_rejected_naming_key_and_value(override, key, shown):
    with pytest.raises(ConfigurationError) as info:
        RadarConfig.from_mapping(override, source="scenario.yaml: radar")
    message = str(info.value)
    assert message.startswith("scenario.yaml: radar: "), message
    assert key in message and shown in message, message


def test_range_errors_state_the_valid_range():
    with pytest.raises(ConfigurationError, match=r"duty_cycle: got 1\.5, expected a value in \(0, 1\)"):
        RadarConfig.from_mapping({"duty_cycle": 1.5})
    with pytest.raises(ConfigurationError, match=r"aperture_length_m \+ channel_spacing_m = 17\.0 m"):
        RadarConfig.from_mapping({"num_channels": 18})


def test_direct_construction_is_validated_too():
    with pytest.raises(ConfigurationError, match=r"^RadarConfig: duty_cycle: got 2\.0"):
        RadarConfig(duty_cycle=2.0)


def test_yaml_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("radar:\n  num_channels: sixteen\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"bad\.yaml: radar: num_channels: got 'sixteen'"):
        RadarConfig.from_yaml(bad)
    missing_section = tmp_path / "other.yaml"
    missing_section.write_text("detector:\n  pfa: 1.0e-6\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"other\.yaml: expected a mapping with top-level key 'radar'"):
        RadarConfig.from_yaml(missing_section)
    not_yaml = tmp_path / "broken.yaml"
    not_yaml.write_text("radar: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"broken\.yaml: not valid YAML"):
        RadarConfig.from_yaml(not_yaml)
    with pytest.raises(ConfigurationError, match=r"cannot read"):
        RadarConfig.from_yaml(tmp_path / "absent.yaml")
    listed = tmp_path / "list.yaml"
    listed.write_text("radar: [1, 2]\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"list\.yaml: radar: expected a mapping"):
        RadarConfig.from_yaml(listed)
