"""The radar range equation for one CPI: target SNR, constant-gamma clutter and the mainbeam CNR.

Pure (numpy only). All quantities are linear powers unless a name says ``_db``; every function
broadcasts over array arguments.

Convention (the one of the baseline sheet, RADAR_PARAMETERS.md Sec. 4)
---------------------------------------------------------------------
The full aperture transmits (gain ``G = 4 pi Ae / lambda^2``) and receives through ``N`` equal
along-track subarrays, so one channel has effective area ``Ae / N``. A CPI holds ``M`` pulses of
energy ``P_peak tau = P_avg / PRF``. After coherent integration of all ``N M`` channel-pulse
samples the signal-to-noise ratio is the CPI-energy form of the radar equation

    SNR_full = P_avg T_CPI G Ae sigma / ((4 pi)^2 R^4 k T0 F L),     T_CPI = M / PRF,

and one channel in one pulse holds ``SNR_full / (N M)`` (the ``- 30.1 dB`` of the sheet for
N = 16, M = 64). The noise is ``k T0 F`` per hertz at the matched-filter output (the pulse
compression gain ``B tau`` is inside the pulse energy). References: M. A. Richards,
*Fundamentals of Radar Signal Processing* (2005), Sec. 2.3 (radar equation, energy form);
M. I. Skolnik, *Introduction to Radar Systems*, 3rd ed., Sec. 2.2.

Clutter uses the constant-gamma model ``sigma0 = gamma sin(psi)`` (Richards Eq. 2.64) over the
pulse-limited mainbeam cell ``A = (R theta_az) (dR / cos psi)``, with ``theta_az`` the *two-way*
3 dB azimuth beamwidth of the uniform aperture (0.638 lambda / L; the sheet's CNR column and its
two-way mainbeam-clutter width 596 Hz = 0.72 x 825 Hz both use it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from sbamti.errors import ConfigurationError

if TYPE_CHECKING:  # pragma: no cover - typing only (config imports this module's constants)
    from sbamti.radar.config import RadarConfig

BOLTZMANN = 1.380649e-23
"""Boltzmann constant, J/K (exact in the 2019 SI)."""
SPEED_OF_LIGHT = 299_792_458.0
"""Speed of light in vacuum, m/s (exact)."""


def db(x: ArrayLike) -> np.ndarray | float:
    """Power ratio in decibels, ``10 log10(x)`` (``-inf`` for 0)."""
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(np.asarray(x, dtype=np.float64))
    return out if out.ndim else float(out)


def from_db(x_db: ArrayLike) -> np.ndarray | float:
    """Linear power ratio of a value in decibels, ``10^(x/10)``."""
    out = np.power(10.0, np.asarray(x_db, dtype=np.float64) / 10.0)
    return out if out.ndim else float(out)


def _scalar_or_array(out: np.ndarray) -> np.ndarray | float:
    return out if out.ndim else float(out)


def _sample_counts(config: RadarConfig, num_pulses: int | None, channels: int | None) -> tuple[int, int]:
    m = config.pulses_per_cpi if num_pulses is None else int(num_pulses)
    n = config.num_channels if channels is None else int(channels)
    if m < 1:
        raise ConfigurationError(f"num_pulses: got {num_pulses!r}, expected a positive integer")
    if not 1 <= n <= config.num_channels:
        raise ConfigurationError(f"channels: got {channels!r}, expected an integer in [1, {config.num_channels}]")
    return m, n


def snr_cpi(config: RadarConfig, rcs_m2: ArrayLike, slant_range_m: ArrayLike, prf_hz: float, *,
            num_pulses: int | None = None, channels: int | None = None) -> np.ndarray | float:
    """Linear target SNR after coherent integration over ``channels x num_pulses`` samples of one CPI.

    ``SNR = P_avg (M / PRF) G (n Ae / N) sigma / ((4 pi)^2 R^4 k T0 F L)``: full-aperture transmit,
    receive through ``n`` of the ``N`` subarrays (all of them by default, which is the sheet's
    "full" SNR, RADAR_PARAMETERS.md Sec. 4).

    Parameters
    ----------
    config : RadarConfig
    rcs_m2 : array_like, m^2
        Target radar cross-section (broadcasts with ``slant_range_m``).
    slant_range_m : array_like, m
    prf_hz : float, Hz
        Pulse repetition frequency of the CPI (the duty cycle is fixed, so ``P_avg`` does not
        depend on it, but ``T_CPI = M / PRF`` does).
    num_pulses : int, optional
        Pulses M in the CPI; ``config.pulses_per_cpi`` by default.
    channels : int, optional
        Receive channels n combined, 1..N; ``config.num_channels`` (the full aperture) by default.
    """
    m, n = _sample_counts(config, num_pulses, channels)
    energy_j = config.average_power_w * m / float(prf_hz)
    receive_area_m2 = config.effective_aperture_m2 * n / config.num_channels
    numerator = energy_j * config.gain * receive_area_m2 * np.asarray(rcs_m2, dtype=np.float64)
    r = np.asarray(slant_range_m, dtype=np.float64)
    denominator = (4.0 * np.pi) ** 2 * r ** 4 * BOLTZMANN * config.reference_temperature_k \
        * from_db(config.noise_figure_db) * from_db(config.system_losses_db)
    return _scalar_or_array(numerator / denominator)


def snr_per_channel_per_pulse(config: RadarConfig, rcs_m2: ArrayLike, slant_range_m: ArrayLike,
                              prf_hz: float) -> np.ndarray | float:
    """Linear SNR of one channel in one pulse: ``snr_cpi(...) / (N M)`` (M = ``config.pulses_per_cpi``).

    It does not depend on M: ``P_avg / PRF`` is one pulse's energy and ``Ae / N`` one channel's area.
    """
    full = snr_cpi(config, rcs_m2, slant_range_m, prf_hz)
    return full / (config.num_channels * config.pulses_per_cpi)


def clutter_rcs_constant_gamma(gamma: ArrayLike, grazing_rad: ArrayLike, area_m2: ArrayLike) -> np.ndarray | float:
    """Clutter RCS, m^2, of a ground patch: ``sigma_c = gamma sin(psi) A`` (Richards Eq. 2.64).

    ``gamma`` is linear (``from_db(-10)`` for -10 dB), ``psi`` the grazing angle, ``A`` the
    patch area on the ground in m^2.
    """
    out = np.asarray(gamma, dtype=np.float64) * np.sin(np.asarray(grazing_rad, dtype=np.float64)) \
        * np.asarray(area_m2, dtype=np.float64)
    return _scalar_or_array(out)


def clutter_cell_area_m2(slant_range_m: ArrayLike, grazing_rad: ArrayLike, azimuth_width_rad: ArrayLike,
                         range_resolution_m: ArrayLike) -> np.ndarray | float:
    """Ground area, m^2, of a pulse-limited resolution cell: ``(R theta_az) (dR / cos psi)``.

    Valid while the range extent ``dR / cos psi`` is smaller than the elevation footprint, i.e.
    away from nadir (Richards Sec. 2.7.2, pulse-limited case); it diverges as psi -> 90 deg.
    """
    r = np.asarray(slant_range_m, dtype=np.float64)
    out = r * np.asarray(azimuth_width_rad, dtype=np.float64) \
        * np.asarray(range_resolution_m, dtype=np.float64) / np.cos(np.asarray(grazing_rad, dtype=np.float64))
    return _scalar_or_array(out)


def cnr_cell(config: RadarConfig, slant_range_m: ArrayLike, grazing_rad: ArrayLike, prf_hz: float, *,
             gamma_db: float | None = None, azimuth_width_rad: float | None = None,
             range_resolution_m: float | None = None, num_pulses: int | None = None,
             channels: int | None = None) -> np.ndarray | float:
    """Linear clutter-to-noise ratio of the mainbeam range-azimuth cell after the full CPI.

    The radar equation of :func:`snr_cpi` with ``sigma = gamma sin(psi) (R theta_az) (dR / cos psi)``
    (RADAR_PARAMETERS.md Sec. 4). Divide by ``N M`` for the per-channel, per-pulse CNR.

    Parameters
    ----------
    config : RadarConfig
    slant_range_m, grazing_rad : array_like
        Slant range (m) and grazing angle (rad) of the cell (e.g. from
        :func:`sbamti.radar.geometry.grazing_angle_rad`).
    prf_hz : float, Hz
    gamma_db : float, optional
        Constant-gamma reflectivity, dB; ``config.clutter_gamma_db`` by default.
    azimuth_width_rad : float, optional
        Azimuth extent of the cell; ``config.azimuth_beamwidth_two_way_rad`` (two-way 3 dB) by default.
    range_resolution_m : float, optional
        Slant-range extent; ``config.range_resolution_m`` (c / 2B) by default.
    num_pulses, channels : int, optional
        As in :func:`snr_cpi`.
    """
    gamma = from_db(config.clutter_gamma_db if gamma_db is None else gamma_db)
    width = config.azimuth_beamwidth_two_way_rad if azimuth_width_rad is None else azimuth_width_rad
    resolution = config.range_resolution_m if range_resolution_m is None else range_resolution_m
    area = clutter_cell_area_m2(slant_range_m, grazing_rad, width, resolution)
    sigma_c = clutter_rcs_constant_gamma(gamma, grazing_rad, area)
    return snr_cpi(config, sigma_c, slant_range_m, prf_hz, num_pulses=num_pulses, channels=channels)
