"""The IQ detection chain of one CPI: beamspace post-Doppler STAP (joint-domain localized), CA-CFAR,
clustering, and adaptive maximum-likelihood estimates of cone angle and Doppler (set up once per cube
layout).

Per CPI: ``P_e`` (5) DFT beams around the look are formed once (``Bᴴ x``, one complex GEMM); the central
three feed the detector — a Chebyshev-tapered Doppler filter bank and 3 beams × 3 adjacent Doppler
bins adaptive combining per Doppler bin (Wang & Cai, IEEE TAES 30(3), 1994: joint-domain
localized; :class:`~sbamti.detection.stap.PostDopplerStap` with ``spatial_beams=3``) — and, for the
detected cells only, all five beams feed the untapered 5 × 5 adaptive ML estimator
(:class:`~sbamti.detection.angle_doppler.AngleDopplerEstimator`).

Estimates, stated with their assumptions:
- range: the peak range bin refined by a parabola through its neighbours' amplitudes, in the
  principal ambiguity of the recorded window;
- radial velocity: from the ML Doppler, ``v = -f λ/2``, unwrapped into the blind-speed interval
  centred on the ground clutter along the beam (``-ẑ · v_sat``), i.e. targets are assumed within
  ±λ·PRF/4 of the ground's range rate (PRF diversity across the dwells of a look resolves the rest:
  :mod:`sbamti.detection.ambiguity`);
- cone sine: the ML angle;
- SNR: the integrated signal-to-noise ratio of the ML amplitude, ``|α̂|² N M / σ²``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbamti.detection.angle_doppler import AngleDopplerEstimates, AngleDopplerEstimator
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
    cells_tested: int = 0
    threshold_crossings: int = 0

    def __len__(self) -> int:
        return int(self.range_m.size)


def _parabolic_offset(left: np.ndarray, centre: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Sub-bin offset of a peak from three samples (in (-0.5, 0.5))."""
    denominator = left - 2.0 * centre + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(denominator != 0.0, 0.5 * (left - right) / denominator, 0.0)
    return np.clip(offset, -0.5, 0.5)


def _distinct_peaks(range_bin: np.ndarray, doppler_bins: np.ndarray, snr: np.ndarray, num_bins: int) -> np.ndarray:
    """Boolean mask keeping, of detections whose ML estimates converged on the same peak (range bins at
    most 1 apart, Doppler within half a bin, circularly), only the strongest. A strong target can cross
    the threshold in two separate clusters (Doppler sidelobes of the adaptive filter); both estimates
    then refine to the same peak."""
    order = np.argsort(-snr, kind="stable")
    r, f = range_bin[order], doppler_bins[order]
    same_range = np.abs(r[:, None] - r[None, :]) <= 1
    gap = np.mod(f[:, None] - f[None, :], num_bins)
    same_doppler = np.minimum(gap, num_bins - gap) < 0.5
    duplicate_of_stronger = np.triu(same_range & same_doppler, k=1).any(axis=0)
    keep = np.empty_like(duplicate_of_stronger)
    keep[order] = ~duplicate_of_stronger
    return keep


class IqDetector:
    """Set up once for a cube layout; call per cube with the dwell's clutter range rate.

    ``num_training`` / ``num_guard`` / ``range_block`` configure the detector's STAP (weights per range
    block, trained on ``num_training`` bins around the block); ``estimator_training`` the estimator's
    training per detection (at most what the swath holds).
    """

    def __init__(self, layout: CubeLayout, *, noise_power_w: float, pfa: float, num_training: int = 48,
                 num_guard: int = 3, range_block: int = 100, cfar_training: int = 16, cfar_guard: int = 2,
                 estimator_training: int = 256) -> None:
        self.layout = layout
        beams = min(5, layout.num_channels - (1 - layout.num_channels % 2))
        available = layout.num_range_bins - 2 * num_guard - 1
        self.estimator = AngleDopplerEstimator(layout, noise_power_w=noise_power_w, beams=beams,
                                               doppler_bins=min(5, layout.num_pulses - (1 - layout.num_pulses % 2)),
                                               num_training=min(estimator_training, available), num_guard=num_guard)
        self.stap = PostDopplerStap(layout, spatial_beams=min(3, beams), adjacent_bins=min(3, beams), num_training=num_training,
                                    num_guard=num_guard, noise_power_w=noise_power_w, range_block=range_block)
        centre = beams // 2
        self._stap_beams = slice(centre - self.stap.spatial_dof // 2, centre + self.stap.spatial_dof // 2 + 1)
        if not np.allclose(self.estimator.beams_h[self._stap_beams], self.stap.spatial_basis.conj().T):
            raise AssertionError("the detector's beams are not the estimator's central beams")
        self.cfar = CaCfarDetector(cfar_training, cfar_guard, pfa, axis=-1)   # along range, per Doppler bin
        self.doppler_hz = self.stap.filter_bank.doppler_bins_hz(layout.prf_hz)

    def __call__(self, cube: np.ndarray, clutter_range_rate_mps: float, range_first_bin_m: float | None = None
                 ) -> IqEstimates:
        """Detections of one cube; ``range_first_bin_m`` overrides the layout's (the window moves with
        the beam from dwell to dwell; nothing set up depends on it)."""
        layout = self.layout
        first_bin_m = layout.range_first_bin_m if range_first_bin_m is None else range_first_bin_m
        cube = np.asarray(cube)
        if cube.shape != layout.shape:
            raise ValueError(f"cube: expected shape {layout.shape} (layout), received {cube.shape}")
        beams = self.estimator.beams(cube)                                           # (P_e, M, L)
        power = self.stap.process(cube, spatial_cube=beams[self._stap_beams]).power  # (K, L) unit-mean noise
        detected, _ = self.cfar(power)
        clusters = cluster_detections(detected, power)
        crossings = int(np.count_nonzero(detected))
        if not clusters:
            empty = np.empty(0)
            return IqEstimates(empty, empty, empty, empty, empty.astype(np.int64), empty.astype(np.int64),
                               power.size, crossings)
        k = np.array([c.peak_index[0] for c in clusters])
        lbin = np.array([c.peak_index[1] for c in clusters])
        amp = np.sqrt(power)
        num_bins_l = power.shape[1]
        range_offset = _parabolic_offset(amp[k, np.clip(lbin - 1, 0, None)], amp[k, lbin],
                                         amp[k, np.clip(lbin + 1, None, num_bins_l - 1)])
        found = self.estimator.from_beams(beams, lbin, self.doppler_hz[k] / layout.prf_hz)
        keep = _distinct_peaks(lbin, found.doppler_cycles_per_pulse * layout.num_pulses, found.snr, layout.num_pulses)
        k, lbin, range_offset = k[keep], lbin[keep], range_offset[keep]
        found = AngleDopplerEstimates(*(np.asarray(field)[keep] for field in
                                        (found.cone_sine, found.doppler_cycles_per_pulse, found.amplitude, found.snr)))
        measured_v = -found.doppler_cycles_per_pulse * layout.prf_hz * layout.wavelength_m / 2.0
        blind = layout.wavelength_m * layout.prf_hz / 2.0
        radial_velocity = clutter_range_rate_mps + np.mod(measured_v - clutter_range_rate_mps + blind / 2, blind) - blind / 2
        return IqEstimates(first_bin_m + (lbin + range_offset) * layout.range_bin_m, radial_velocity,
                           found.cone_sine, found.snr, lbin, k, power.size, crossings)
