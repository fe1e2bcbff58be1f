"""Statistical fidelity: one dwell's returns drawn from the same geometry and physics as the cube.

For each true target the line of sight gives slant range, range rate and the direction in the
antenna frame; the radar equation (``equation.snr_cpi``) times the two-way antenna patterns gives the
mean post-integration SNR; a clutter loss as a function of the target's ground-relative radial
velocity (the optimum-STAP SINR loss of the clutter model, see ``ClutterLossTable``) reduces it;
the target's Swerling model and square-law detection at the configured false-alarm probability
decide detection (``detection_stats.detect``); Cramér–Rao errors (``estimation``) perturb the
measured range, cone angle and range rate. Noise-only cells of the range-Doppler map add false
alarms at the same Pfa.

Simplifications, stated: range ambiguities are taken as resolved (returns carry true slant range);
targets outside the first nulls of the transmit beam (azimuth and elevation) are not detected
(sidelobe detections ignored); with only along-track channels the elevation angle is not measured,
so returns report 0 (boresight) for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sbamti.radar.config import RadarConfig
from sbamti.radar.detection_stats import detect, false_alarm_cells
from sbamti.radar.equation import snr_cpi
from sbamti.radar.estimation import draw_measurement_errors
from sbamti.radar.iq import SPEED_OF_LIGHT_MPS


@dataclass(frozen=True)
class DwellGeometry:
    """Where the satellite is and where it looks during one dwell (ECEF, SI)."""

    utc_ns: int
    sat_pos_ecef_m: np.ndarray
    sat_vel_ecef_mps: np.ndarray
    beam_centre_ecef_m: np.ndarray
    antenna_axes: np.ndarray        # (3, 3) rows x̂, ŷ, ẑ (sbamti.radar.beam.antenna_axes)
    prf_hz: float

    @property
    def beam_range_m(self) -> float:
        return float(np.linalg.norm(self.beam_centre_ecef_m - self.sat_pos_ecef_m))


@dataclass(frozen=True)
class StatisticalReturns:
    """Returns of one dwell (parallel arrays). ``truth_index`` (-1 for false alarms) is for tests and
    evaluation inside the simulator only; it is never published."""

    range_m: np.ndarray
    range_rate_mps: np.ndarray
    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    snr: np.ndarray
    truth_index: np.ndarray

    def __len__(self) -> int:
        return int(self.range_m.size)


def two_way_pattern_power(config: RadarConfig, azimuth_sine: np.ndarray, elevation_sine: np.ndarray) -> np.ndarray:
    """Two-way power pattern: full-aperture transmit × one receive subarray, uniform apertures."""
    lam = config.wavelength_m
    height = np.sinc(config.aperture_height_m * elevation_sine / lam)
    transmit = np.sinc(config.aperture_length_m * azimuth_sine / lam) * height
    receive = np.sinc(config.channel_spacing_m * azimuth_sine / lam) * height
    return (transmit * receive) ** 2


def target_returns(config: RadarConfig, geometry: DwellGeometry, position_ecef_m: np.ndarray,
                   velocity_ecef_mps: np.ndarray):
    """Per target: slant range, range rate, azimuth and elevation sines, ground-relative radial velocity."""
    los = np.asarray(position_ecef_m, dtype=np.float64) - geometry.sat_pos_ecef_m
    slant = np.linalg.norm(los, axis=-1)
    unit = los / slant[:, None]
    velocity = np.asarray(velocity_ecef_mps, dtype=np.float64)
    range_rate = np.einsum("ij,ij->i", unit, velocity - geometry.sat_vel_ecef_mps)
    ground_relative = np.einsum("ij,ij->i", unit, velocity)  # clutter at the same angle is fixed in ECEF
    azimuth_sine = unit @ geometry.antenna_axes[0]
    elevation_sine = unit @ geometry.antenna_axes[1]
    return slant, range_rate, azimuth_sine, elevation_sine, ground_relative


def statistical_dwell(config: RadarConfig, geometry: DwellGeometry, position_ecef_m: np.ndarray,
                      velocity_ecef_mps: np.ndarray, rcs_m2: np.ndarray, swerling_model: np.ndarray,
                      rng: np.random.Generator, *, pfa: float, num_range_bins: int,
                      clutter_loss: Callable[[np.ndarray], np.ndarray] | None = None) -> StatisticalReturns:
    """Draw the returns of one dwell (targets given as (T,) / (T, 3) arrays)."""
    lam = config.wavelength_m
    slant, range_rate, az_sine, el_sine, ground_vr = target_returns(config, geometry, position_ecef_m,
                                                                     velocity_ecef_mps)
    in_beam = (np.abs(az_sine) < lam / config.aperture_length_m) & (np.abs(el_sine) < lam / config.aperture_height_m) \
        & (np.einsum("ij,j->i", (np.asarray(position_ecef_m) - geometry.sat_pos_ecef_m), geometry.antenna_axes[2]) > 0)
    index = np.nonzero(in_beam)[0]
    snr = (np.asarray(snr_cpi(config, np.asarray(rcs_m2, dtype=np.float64)[index], slant[index], geometry.prf_hz))
           * two_way_pattern_power(config, az_sine[index], el_sine[index]))
    if clutter_loss is not None and index.size:
        snr = snr * clutter_loss(ground_vr[index])
    detected, measured = detect(snr, np.asarray(swerling_model)[index], pfa, rng)
    hit = index[detected]
    measured = np.asarray(measured)[detected]
    errors = draw_measurement_errors(np.maximum(measured, 1e-12), num_channels=config.num_channels,
                                     num_pulses=config.pulses_per_cpi, spacing_m=config.channel_spacing_m,
                                     wavelength_m=lam, prf_hz=geometry.prf_hz, bandwidth_hz=config.bandwidth_hz,
                                     rng=rng, cone_angle_rad=np.arcsin(az_sine[hit]))
    target_part = (slant[hit] + errors["range_m"], range_rate[hit] + errors["radial_velocity_mps"],
                   np.arcsin(az_sine[hit]) + errors["angle_rad"], np.zeros(hit.size), measured, hit)
    alarms = _false_alarms(config, geometry, rng, pfa=pfa, num_range_bins=num_range_bins)
    parts = [np.concatenate([t, a]) for t, a in zip(target_part, alarms)]
    return StatisticalReturns(*parts[:5], truth_index=parts[5].astype(np.int64))


def _false_alarms(config: RadarConfig, geometry: DwellGeometry, rng: np.random.Generator, *, pfa: float,
                  num_range_bins: int):
    """False alarms over the dwell's range-Doppler map (num_range_bins × pulses cells of the beam)."""
    pulses = config.pulses_per_cpi
    cells, power = false_alarm_cells(num_range_bins * pulses, pfa, rng)
    range_bin, doppler_bin = np.divmod(cells, pulses)
    bin_m = SPEED_OF_LIGHT_MPS / (2.0 * config.sample_rate_hz)
    start = geometry.beam_range_m - num_range_bins * bin_m / 2
    boresight = geometry.antenna_axes[2]
    clutter_rate = -float(np.dot(boresight, geometry.sat_vel_ecef_mps))     # ground at beam centre
    doppler_hz = (doppler_bin / pulses - 0.5) * geometry.prf_hz
    half_beam = config.wavelength_m / config.aperture_length_m / 2
    return (start + range_bin * bin_m, clutter_rate - doppler_hz * config.wavelength_m / 2,
            rng.uniform(-half_beam, half_beam, cells.size), np.zeros(cells.size), np.asarray(power, dtype=np.float64),
            np.full(cells.size, -1, dtype=np.int64))
