"""Statistical-path measurements: threshold a statistical dwell's returns and attach honest errors.

A statistical dwell (``RadarDwell.FIDELITY_STATISTICAL``) carries per-return range, range rate, cone
angle and the measured post-integration power ``|x|²/N0`` (mean SNR + 1 for a target, above the
simulator's own threshold for a false alarm). The detector applies its own square-law threshold
``-ln(Pfa)`` and gives each surviving return the Cramér–Rao standard deviations of its SNR estimate
``max(|x|²/N0 − 1, floor)`` (``sbamti.radar.estimation``). Elevation is not measured by an
along-track array: it is reported at boresight with the standard deviation of a uniform spread over
the elevation beamwidth (``θ_el / √12``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbamti.radar.config import RadarConfig
from sbamti.radar.estimation import angle_std_rad, crlb_range_std_m, radial_velocity_std_mps

SNR_FLOOR = 1.0  # lowest SNR estimate used for the error bounds (0 dB): a crossing is never "perfect"


@dataclass(frozen=True)
class Measurements:
    """Detections of one dwell as parallel arrays (SI units, angles in the antenna frame)."""

    range_m: np.ndarray
    range_rate_mps: np.ndarray
    azimuth_rad: np.ndarray
    elevation_rad: np.ndarray
    range_std_m: np.ndarray
    range_rate_std_mps: np.ndarray
    azimuth_std_rad: np.ndarray
    elevation_std_rad: np.ndarray
    snr: np.ndarray

    def __len__(self) -> int:
        return int(self.range_m.size)


def statistical_measurements(radar: RadarConfig, prf_hz: float, pfa: float, range_m: np.ndarray,
                             range_rate_mps: np.ndarray, azimuth_rad: np.ndarray, elevation_rad: np.ndarray,
                             power_over_noise: np.ndarray) -> Measurements:
    """Returns at or above the threshold ``-ln(pfa)``, with their CRLB standard deviations."""
    power = np.asarray(power_over_noise, dtype=np.float64)
    keep = power >= -np.log(pfa)
    return with_crlb_errors(
        np.asarray(range_m, dtype=np.float64)[keep], np.asarray(range_rate_mps, dtype=np.float64)[keep],
        np.asarray(azimuth_rad, dtype=np.float64)[keep], np.asarray(elevation_rad, dtype=np.float64)[keep],
        power[keep] - 1.0, num_channels=radar.num_channels, spacing_m=radar.channel_spacing_m,
        wavelength_m=radar.wavelength_m, num_pulses=radar.pulses_per_cpi, prf_hz=prf_hz,
        bandwidth_hz=radar.bandwidth_hz, elevation_beamwidth_rad=radar.elevation_beamwidth_rad)


def with_crlb_errors(range_m: np.ndarray, range_rate_mps: np.ndarray, azimuth_rad: np.ndarray,
                     elevation_rad: np.ndarray, snr: np.ndarray, *, num_channels: int, spacing_m: float,
                     wavelength_m: float, num_pulses: int, prf_hz: float, bandwidth_hz: float,
                     elevation_beamwidth_rad: float) -> Measurements:
    """Measurements with the Cramér–Rao standard deviations of their SNR estimates (floored at
    ``SNR_FLOOR``); the unmeasured elevation gets a uniform spread over the elevation beam."""
    snr = np.maximum(np.asarray(snr, dtype=np.float64), SNR_FLOOR)
    azimuth = np.asarray(azimuth_rad, dtype=np.float64)
    n = int(snr.size)
    return Measurements(
        range_m=np.asarray(range_m, dtype=np.float64),
        range_rate_mps=np.asarray(range_rate_mps, dtype=np.float64),
        azimuth_rad=azimuth,
        elevation_rad=np.asarray(elevation_rad, dtype=np.float64),
        range_std_m=np.broadcast_to(crlb_range_std_m(snr, bandwidth_hz), (n,)).copy(),
        range_rate_std_mps=np.broadcast_to(radial_velocity_std_mps(snr, num_pulses, prf_hz, wavelength_m),
                                           (n,)).copy(),
        azimuth_std_rad=np.broadcast_to(angle_std_rad(snr, num_channels, spacing_m, wavelength_m, azimuth),
                                        (n,)).copy(),
        elevation_std_rad=np.full(n, elevation_beamwidth_rad / np.sqrt(12.0)),
        snr=snr,
    )
