"""The IQ detection chain of one CPI: Doppler filtering, post-Doppler STAP, CA-CFAR, clustering,
and estimation of range, radial velocity and cone angle (set up once per cube layout).

Estimates, stated with their assumptions:
- range: the peak range bin refined by a parabola through its neighbours' amplitudes, in the
  principal ambiguity of the recorded window (no PRF-diversity resolution yet);
- radial velocity: the peak Doppler bin refined the same way, ``v = -f λ/2``, unwrapped into the
  blind-speed interval centred on the ground clutter along the beam (``-ẑ · v_sat``), i.e. targets
  are assumed within ±λ·PRF/4 of the ground's range rate;
- cone angle: beam split — the Doppler-filtered data of the two half arrays, phase difference over
  their phase-centre separation ``D = (N/2) d``: ``s = λ Δφ / (2π D)``.
The output SNR is the STAP output power over its unit-mean noise, minus one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbamti.detection.cfar import CaCfarDetector, cluster_detections
from sbamti.detection.stap import PostDopplerStap
from sbamti.radar.iq import CubeLayout


@dataclass(frozen=True)
class IqEstimates:
    """One CPI's detections as parallel arrays."""

    range_m: np.ndarray
    radial_velocity_mps: np.ndarray
    cone_sine: np.ndarray
    snr: np.ndarray
    range_bin: np.ndarray
    doppler_bin: np.ndarray

    def __len__(self) -> int:
        return int(self.range_m.size)


def _parabolic_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-bin offset of a peak from three samples (in (-0.5, 0.5))."""
    denominator = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(denominator != 0.0, 0.5 * (left - right) / denominator, 0.0)
    return np.clip(offset, -0.5, 0.5)


class IqDetector:
    """Set up once for a cube layout; call per cube with the dwell's clutter range rate."""

    def __init__(self, layout: CubeLayout, *, noise_power_w: float, pfa: float, num_training: int = 48,
                 num_guard: int = 3, range_block: int = 50, cfar_training: int = 16, cfar_guard: int = 2) -> None:
        self.layout = layout
        self.stap = PostDopplerStap(layout, adjacent_bins=3, num_training=num_training, num_guard=num_guard,
                                    noise_power_w=noise_power_w, range_block=range_block)
        self.cfar = CaCfarDetector(cfar_training, cfar_guard, pfa, axis=-1)   # along range, per Doppler bin
        bank = self.stap.filter_bank
        self.doppler_hz = bank.doppler_bins_hz(layout.prf_hz)
        n = layout.num_channels
        x = np.asarray(layout.channel_x_m, dtype=np.float64)
        self.half_separation_m = float(x[n // 2:].mean() - x[: n // 2].mean())

    def __call__(self, cube: np.ndarray, clutter_range_rate_mps: float, range_first_bin_m: float | None = None
                 ) -> IqEstimates:
        """Detections of one cube; ``range_first_bin_m`` overrides the layout's (the window moves with
        the beam from dwell to dwell; nothing set up depends on it)."""
        layout = self.layout
        first_bin_m = layout.range_first_bin_m if range_first_bin_m is None else range_first_bin_m
        power = self.stap(cube)                                                   # (K, L) unit-mean noise
        detected, _ = self.cfar(power)
        clusters = cluster_detections(detected, power)
        if not clusters:
            empty = np.empty(0)
            return IqEstimates(empty, empty, empty, empty, empty.astype(np.int64), empty.astype(np.int64))
        k = np.array([c.peak_index[0] for c in clusters])
        lbin = np.array([c.peak_index[1] for c in clusters])
        amp = np.sqrt(power)
        num_bins_k, num_bins_l = power.shape
        range_offset = _parabolic_offset(amp[k, np.clip(lbin - 1, 0, None)], amp[k, lbin],
                                         amp[k, np.clip(lbin + 1, None, num_bins_l - 1)])
        doppler_offset = _parabolic_offset(amp[(k - 1) % num_bins_k, lbin], amp[k, lbin], amp[(k + 1) % num_bins_k, lbin])
        bin_hz = layout.prf_hz / num_bins_k
        doppler = self.doppler_hz[k] + doppler_offset * bin_hz
        measured_v = -doppler * layout.wavelength_m / 2.0
        blind = layout.wavelength_m * layout.prf_hz / 2.0
        radial_velocity = clutter_range_rate_mps + np.mod(measured_v - clutter_range_rate_mps + blind / 2, blind) - blind / 2
        # beam split on the Doppler-filtered data of the two half arrays
        filtered = self.stap.filter_bank(cube)                                    # (N, K, L)
        n = layout.num_channels
        first = filtered[: n // 2, k, lbin].sum(axis=0)
        second = filtered[n // 2:, k, lbin].sum(axis=0)
        phase = np.angle(second * np.conj(first))
        cone_sine = phase * layout.wavelength_m / (2.0 * np.pi * self.half_separation_m)
        return IqEstimates(first_bin_m + (lbin + range_offset) * layout.range_bin_m, radial_velocity,
                           cone_sine, np.maximum(power[k, lbin] - 1.0, 0.0), lbin, k)
