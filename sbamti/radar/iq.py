"""Complex baseband data cubes [channel, pulse, range bin]: thermal noise and point targets.

The cube is the output of pulse compression (matched filtering) for each pulse and receive channel,
sampled at the complex rate ``fs`` = bandwidth, so a range bin is ``c / (2 fs)`` of slant range.
Conventions (used by the detector too):

- One-way propagation phase ``exp(-j 2π r / λ)``; the two-way return of a target at slant range
  ``R(t)`` from the array origin carries ``exp(-j 4π R(t) / λ)``.
- Receive channel ``n`` has its phase centre at ``x_n`` along the antenna's x (along-track) axis.
  A wave from unit direction ``u`` (sensor → target) reaches it earlier by ``x_n (u · x̂) / c``,
  giving the spatial phase ``exp(+j 2π x_n s / λ)`` with ``s = u · x̂`` (sine of the cone angle).
- Pulse ``m`` is sent at ``t_m = m / PRF``; with ``R(t) = R0 + v_r t`` (``v_r`` > 0 opening) the
  pulse-to-pulse phase is ``exp(-j 4π v_r t_m / λ)``: Doppler ``f_d = -2 v_r / λ``.
- Range migration within a CPI (``v_r · T_CPI`` ≈ 8 m at 1 km/s and 8.5 ms, under a 30 m bin) is
  neglected in the envelope and kept in the phase.
- A target's matched-filter response across range bins is ``sinc(l - l0)`` (rectangular spectrum of
  width ``fs``), so a target centred on a bin falls in that bin alone; a straddling target spreads
  with the usual straddle loss.
- Ranges fold into the recorded window modulo the unambiguous range ``c / (2 PRF)``.

Powers: ``|x|²`` is power referred to the receiver input in W, so thermal noise has
``E|x|² = k T0 B F`` per sample and a target of per-channel, per-pulse SNR ``s`` has ``|a|² = s·N0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPEED_OF_LIGHT_MPS = 299_792_458.0


@dataclass(frozen=True)
class CubeLayout:
    """Dimensions and sampling of one dwell's cube.

    channel_x_m : (N,) receive phase-centre positions along the antenna x axis, m
    num_pulses : M, pulses in the CPI
    num_range_bins : L
    prf_hz : pulse repetition frequency of the dwell
    wavelength_m : carrier wavelength
    sample_rate_hz : complex sample rate (= bandwidth); range bin = c / (2 fs)
    range_first_bin_m : slant range of bin 0 in the folded (unambiguous) interval
    """

    channel_x_m: np.ndarray
    num_pulses: int
    num_range_bins: int
    prf_hz: float
    wavelength_m: float
    sample_rate_hz: float
    range_first_bin_m: float

    @property
    def num_channels(self) -> int:
        return int(np.asarray(self.channel_x_m).size)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.num_channels, self.num_pulses, self.num_range_bins)

    @property
    def range_bin_m(self) -> float:
        return SPEED_OF_LIGHT_MPS / (2.0 * self.sample_rate_hz)

    @property
    def unambiguous_range_m(self) -> float:
        return SPEED_OF_LIGHT_MPS / (2.0 * self.prf_hz)

    @property
    def pulse_times_s(self) -> np.ndarray:
        return np.arange(self.num_pulses) / self.prf_hz

    def folded_bin(self, slant_range_m: np.ndarray) -> np.ndarray:
        """Fractional range bin at which ``slant_range_m`` appears after range folding."""
        offset = np.mod(np.asarray(slant_range_m, dtype=np.float64) - self.range_first_bin_m, self.unambiguous_range_m)
        return offset / self.range_bin_m


def thermal_noise(shape: tuple[int, ...], noise_power_w: float, rng: np.random.Generator) -> np.ndarray:
    """Circular complex Gaussian noise, ``E|x|² = noise_power_w`` per sample, complex64."""
    scale = np.float32(np.sqrt(noise_power_w / 2.0))
    cube = np.empty(shape, dtype=np.complex64)
    view = cube.view(np.float32)
    view[...] = rng.standard_normal(view.shape, dtype=np.float32)
    view *= scale
    return cube


def spatial_steering(layout: CubeLayout, cone_sine: np.ndarray) -> np.ndarray:
    """(T, N) receive phases ``exp(+j 2π x_n s / λ)`` for targets with cone sines ``s``."""
    s = np.atleast_1d(np.asarray(cone_sine, dtype=np.float64))
    return np.exp(2j * np.pi * np.outer(s, layout.channel_x_m) / layout.wavelength_m)


def doppler_steering(layout: CubeLayout, radial_velocity_mps: np.ndarray) -> np.ndarray:
    """(T, M) pulse phases ``exp(-j 4π v_r t_m / λ)``."""
    v = np.atleast_1d(np.asarray(radial_velocity_mps, dtype=np.float64))
    return np.exp(-4j * np.pi * np.outer(v, layout.pulse_times_s) / layout.wavelength_m)


def add_point_targets(cube: np.ndarray, layout: CubeLayout, slant_range_m, radial_velocity_mps, cone_sine,
                      amplitude, *, sinc_half_width_bins: int = 8) -> None:
    """Add T point targets to ``cube`` in place.

    slant_range_m, radial_velocity_mps, cone_sine : (T,) true range at the first pulse, range rate,
        and sine of the cone angle (``u · x̂``)
    amplitude : (T,) or (T, M) complex amplitude per channel per pulse at the matched-filter peak,
        including the two-way range phase at the first pulse, antenna patterns and Swerling
        fluctuation ((T, M) for pulse-to-pulse models), in sqrt(W)
    sinc_half_width_bins : how many bins either side of the peak receive the sinc response
    """
    ranges = np.atleast_1d(np.asarray(slant_range_m, dtype=np.float64))
    if ranges.size == 0:
        return
    amp = np.asarray(amplitude, dtype=np.complex128)
    amp = np.broadcast_to(amp.reshape(ranges.size, -1), (ranges.size, layout.num_pulses))
    carrier = np.exp(-4j * np.pi * ranges / layout.wavelength_m)[:, None]
    # (T, N, M): spatial x temporal phases x amplitude
    signal = (spatial_steering(layout, cone_sine)[:, :, None]
              * (doppler_steering(layout, radial_velocity_mps) * amp * carrier)[:, None, :])
    centre = layout.folded_bin(ranges)
    nearest = np.rint(centre).astype(np.int64)
    for offset in range(-sinc_half_width_bins, sinc_half_width_bins + 1):
        bins = nearest + offset
        inside = (bins >= 0) & (bins < layout.num_range_bins)
        if not inside.any():
            continue
        weight = np.sinc(bins[inside] - centre[inside])  # matched-filter response at this bin
        contribution = (signal[inside] * weight[:, None, None]).astype(np.complex64)
        # several targets may share a bin: unbuffered accumulation
        np.add.at(cube, (slice(None), slice(None), bins[inside]), np.moveaxis(contribution, 0, -1))
