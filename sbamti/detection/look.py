"""Unfold the range rates of one look's detections with PRF diversity (pure: numpy/scipy).

A satellite's range rate to a target near the beam changes by tens of m/s over a look (``v²/R``
of the orbit), as does that of the ground under the beam. Each dwell's detector measures the range
rate modulo the blind speed ``B_i = λ PRF_i / 2``, and knows the ground's range rate ``c_i`` along
the boresight exactly. The target's ground-relative radial speed ``u = ṙ - c`` is nearly constant
over the look, so the dwells are compared in ``u`` (known modulo ``B_i``) and in range relative to
the beam centre's slant range (which moves with the satellite as the target's range does):
:func:`sbamti.detection.ambiguity.resolve_look` groups them by range and finds the one ``u`` in
``±max_target_speed_mps`` that explains a group. Each member is then unfolded by its own number of
blind speeds, ``ṙ_i = c_i + u_i + n_i B_i``, keeping its own error (the members stay independent
measurements for a tracker).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbamti.detection.ambiguity import resolve_look


@dataclass(frozen=True)
class LookDwell:
    """One dwell's detections (T_i,) and what unfolding needs of the dwell."""

    range_m: np.ndarray
    range_std_m: np.ndarray
    range_rate_mps: np.ndarray
    range_rate_std_mps: np.ndarray
    snr: np.ndarray
    prf_hz: float
    clutter_range_rate_mps: float
    beam_centre_range_m: float
    time_s: float


def unfold_look(dwells: list[LookDwell], *, wavelength_m: float, max_target_speed_mps: float,
                speed_change_std_mps: float = 1.0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per dwell: (unfolded range rates (T_i,), resolved mask (T_i,)); unresolved ones are returned as given.

    The range gate allows ``max_target_speed_mps`` times the look's span (targets move between dwells).
    ``speed_change_std_mps`` is added in quadrature to each measurement's error for the consistency
    test only: ``u`` is not exactly constant over a look (manoeuvres, the geometry's second order),
    and at high SNR the Cramér–Rao errors (centimetres per second) would reject true groups.
    """
    if not dwells:
        return []
    sizes = [d.range_m.size for d in dwells]
    if sum(sizes) == 0:
        return [(d.range_rate_mps.copy(), np.zeros(0, dtype=bool)) for d in dwells]
    dwell_index = np.repeat(np.arange(len(dwells)), sizes)
    clutter = np.array([d.clutter_range_rate_mps for d in dwells])[dwell_index]
    prf = np.array([d.prf_hz for d in dwells], dtype=np.float64)
    blind = wavelength_m * prf[dwell_index] / 2.0
    times = np.array([d.time_s for d in dwells])
    relative_range = np.concatenate([d.range_m - d.beam_centre_range_m for d in dwells])
    relative_rate = np.concatenate([d.range_rate_mps for d in dwells]) - clutter
    look = resolve_look(dwell_index, prf, relative_range, np.concatenate([d.range_std_m for d in dwells]),
                        relative_rate, np.hypot(np.concatenate([d.range_rate_std_mps for d in dwells]),
                                                speed_change_std_mps),
                        np.concatenate([d.snr for d in dwells]), wavelength_m=wavelength_m,
                        velocity_limits_mps=(-max_target_speed_mps, max_target_speed_mps),
                        range_gate_m=max_target_speed_mps * float(times.max() - times.min()))
    group_v = np.where(look.resolved, look.group_velocity_mps[look.group], relative_rate)
    turns = np.where(look.resolved, np.rint((group_v - relative_rate) / blind), 0.0)
    unfolded = clutter + relative_rate + turns * blind
    bounds = np.cumsum([0, *sizes])
    return [(unfolded[a:b], look.resolved[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
