"""Cramér–Rao bounds for one target in white noise, and measurement errors drawn from them
(pure: numpy).

``snr`` (η) is always the **output SNR after coherent integration** of all the samples the
estimate uses (linear), as in RADAR_PARAMETERS §3.8. With ``K`` uniformly spaced complex samples
of a tone ``A exp(j 2π f k)`` in complex white noise of power σ², η = K |A|²/σ² and the bound on
the normalised frequency ``f`` (cycles per sample) is

    var(f̂) >= 6 / ((2π)² η (K² - 1))

([S20] J. M. Skon, "Cramer-Rao bound analysis for frequency estimation of sinusoids in noise",
MIT LL TR-727, 1986. S. M. Kay, *Fundamentals of Statistical Signal Processing: Estimation
Theory*, 1993, Example 3.14 gives the real-sinusoid form, 12 instead of 6 with the real SNR). For a
separable two-dimensional tone (channels × pulses) the bound on each frequency is the same with η
the SNR of the full CPI, the other dimension only adding integration gain. It applies to

* the spatial frequency across ``N`` channels, ``f = d sin(az) / λ`` (cycles per channel), so
  ``σ(sin az) = σ_f λ / d`` and ``σ(az) = σ(sin az) / cos(az)`` (first-order);
* the Doppler across ``M`` pulses, ``w = f_D / PRF`` (cycles per pulse), so
  ``σ(v_r) = σ_w · PRF · λ / 2``.

Range (time delay) uses the same bound in the dual domain: a rectangular spectrum of width ``B``
(the ``sinc`` range response of the I/Q model) seen as ``K`` frequency samples spaced ``B/K``
gives, for large ``K``, ``var(τ̂) = 6 / ((2π)² η B²) = 1 / (2 η β²)`` with the rms bandwidth
``β = 2π B/√12`` (Kay, Example 3.13, there for a real signal with 2E/N0 = 2η). Hence

    σ_R = (c/2) σ_τ = c/(2B) · sqrt(3) / (π sqrt(2η)).

These are bounds for the unambiguous, high-SNR regime (an estimator reaches them above the
threshold SNR, roughly η > 10–15 dB for these sizes); they ignore clutter, array calibration and
straddle/discretisation errors. The colored-noise bound near the clutter notch is larger
(RADAR_PARAMETERS §3.8: 1.55× at v_r = 10 m/s).
"""

from __future__ import annotations

import numpy as np

from sbamti.errors import ConfigurationError

SPEED_OF_LIGHT_MPS = 299_792_458.0
"""Speed of light in vacuum (m/s, exact)."""


def _positive(name: str, value) -> np.ndarray:
    value = np.asarray(value, dtype=float)
    if np.any(~np.isfinite(value)) or np.any(value <= 0.0):
        raise ConfigurationError(f"{name}: expected finite values > 0, received {value!r}")
    return value


def _count(name: str, value) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 2:
        raise ConfigurationError(f"{name}: expected an integer >= 2, received {value!r}")
    return int(value)


def _tone_frequency_std(snr, count: int) -> np.ndarray:
    return np.sqrt(6.0 / ((2.0 * np.pi) ** 2 * snr * (count * count - 1.0)))


def crlb_spatial_frequency_std(snr, num_channels: int) -> np.ndarray:
    """CRLB standard deviation of the spatial frequency across ``num_channels`` channels.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η after coherent integration (linear, > 0).
    num_channels : int
        Number of uniformly spaced receive channels ``N`` (>= 2).

    Returns
    -------
    numpy.ndarray
        ``sqrt(6 / ((2π)² η (N² - 1)))`` in cycles per channel ([S20]).
    """
    return _tone_frequency_std(_positive("snr", snr), _count("num_channels", num_channels))


def crlb_doppler_std(snr, num_pulses: int) -> np.ndarray:
    """CRLB standard deviation of the normalised Doppler frequency over ``num_pulses`` pulses.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η after coherent integration (linear, > 0).
    num_pulses : int
        Number of pulses ``M`` in the CPI (>= 2).

    Returns
    -------
    numpy.ndarray
        ``sqrt(6 / ((2π)² η (M² - 1)))`` in cycles per pulse ([S20]).
    """
    return _tone_frequency_std(_positive("snr", snr), _count("num_pulses", num_pulses))


def crlb_range_std_m(snr, bandwidth_hz) -> np.ndarray:
    """CRLB standard deviation of slant range for a rectangular-spectrum (sinc response) waveform.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η of the matched filter (linear, > 0).
    bandwidth_hz : float
        Waveform bandwidth ``B`` (Hz, > 0); the rms bandwidth is ``B/√12``.

    Returns
    -------
    numpy.ndarray
        ``c/(2B) · sqrt(3) / (π sqrt(2η))`` in metres (module docstring; Kay 1993, Example 3.13).
    """
    snr = _positive("snr", snr)
    bandwidth_hz = _positive("bandwidth_hz", bandwidth_hz)
    return SPEED_OF_LIGHT_MPS / (2.0 * bandwidth_hz) * np.sqrt(3.0) / (np.pi * np.sqrt(2.0 * snr))


def angle_std_rad(snr, num_channels: int, spacing_m: float, wavelength_m: float,
                  cone_angle_rad=0.0) -> np.ndarray:
    """CRLB standard deviation of the azimuth (cone) angle from the spatial-frequency bound.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η after coherent integration (linear, > 0).
    num_channels : int
        Number of along-track channels ``N`` (>= 2).
    spacing_m : float
        Phase-centre spacing ``d`` of the channels (m).
    wavelength_m : float
        Carrier wavelength λ (m).
    cone_angle_rad : float or array_like
        Angle ``az`` off broadside of the look direction (rad, |az| < π/2).

    Returns
    -------
    numpy.ndarray
        ``σ_f λ / (d cos az)`` in radians (at broadside, the standard deviation of ``sin az``).
    """
    spacing_m = _positive("spacing_m", spacing_m)
    wavelength_m = _positive("wavelength_m", wavelength_m)
    cone_angle_rad = np.asarray(cone_angle_rad, dtype=float)
    cosine = np.cos(cone_angle_rad)
    if np.any(~(np.abs(cone_angle_rad) < np.pi / 2)):
        raise ConfigurationError(f"cone_angle_rad: expected |angle| < π/2, received {cone_angle_rad!r}")
    return crlb_spatial_frequency_std(snr, num_channels) * wavelength_m / spacing_m / cosine


def radial_velocity_std_mps(snr, num_pulses: int, prf_hz: float, wavelength_m: float) -> np.ndarray:
    """CRLB standard deviation of the radial velocity from the Doppler bound.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η after coherent integration (linear, > 0).
    num_pulses : int
        Number of pulses ``M`` in the CPI (>= 2).
    prf_hz : float
        Pulse repetition frequency (Hz).
    wavelength_m : float
        Carrier wavelength λ (m).

    Returns
    -------
    numpy.ndarray
        ``σ_w · PRF · λ / 2`` in m/s.
    """
    prf_hz = _positive("prf_hz", prf_hz)
    wavelength_m = _positive("wavelength_m", wavelength_m)
    return crlb_doppler_std(snr, num_pulses) * prf_hz * wavelength_m / 2.0


def draw_measurement_errors(snr, *, num_channels: int, num_pulses: int, spacing_m: float,
                            wavelength_m: float, prf_hz: float, bandwidth_hz: float,
                            rng: np.random.Generator, cone_angle_rad=0.0) -> dict[str, np.ndarray]:
    """Draw zero-mean Gaussian measurement errors with the CRLB standard deviations.

    Parameters
    ----------
    snr : float or array_like
        Output SNR η of each measurement (linear, > 0).
    num_channels, num_pulses, spacing_m, wavelength_m, prf_hz, bandwidth_hz, cone_angle_rad
        As in ``angle_std_rad``, ``radial_velocity_std_mps`` and ``crlb_range_std_m``.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    dict of str to numpy.ndarray
        Each with the broadcast shape of ``snr`` and ``cone_angle_rad``:

        ``"range_m"``              slant-range error (m),
        ``"angle_rad"``            azimuth (cone) angle error (rad),
        ``"radial_velocity_mps"``  radial-velocity error (m/s),
        ``"range_std_m"``, ``"angle_std_rad"``, ``"radial_velocity_std_mps"``  the standard
        deviations used (for a tracker's measurement covariance).
    """
    range_std = crlb_range_std_m(snr, bandwidth_hz)
    angle_std = angle_std_rad(snr, num_channels, spacing_m, wavelength_m, cone_angle_rad)
    velocity_std = radial_velocity_std_mps(snr, num_pulses, prf_hz, wavelength_m)
    range_std, angle_std, velocity_std = np.broadcast_arrays(range_std, angle_std, velocity_std)
    return {
        "range_m": rng.standard_normal(range_std.shape) * range_std,
        "angle_rad": rng.standard_normal(angle_std.shape) * angle_std,
        "radial_velocity_mps": rng.standard_normal(velocity_std.shape) * velocity_std,
        "range_std_m": np.array(range_std),
        "angle_std_rad": np.array(angle_std),
        "radial_velocity_std_mps": np.array(velocity_std),
    }
