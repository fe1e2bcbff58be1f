"""Radial-velocity ambiguity resolution across the PRF-diverse dwells of one look (pure: numpy/scipy).

Why
---
A dwell at pulse repetition frequency ``PRF`` measures radial velocity only modulo the blind speed
``B = λ·PRF/2`` (≈ 105–121 m/s at X band, 7–8 kHz), while aircraft and missiles fly at several
hundred m/s. A look is a burst of dwells at different PRFs: one true ``v`` must explain every
folded measurement, and the blind speeds only coincide again at their least common multiple (the
Chinese-remainder / coincidence principle), which can be set beyond the physical speed limits.

Method
------
1. **Association** (:func:`associate_detections`). Range is unambiguous, so detections of the
   look are grouped by range: a group holds at most one detection per dwell, and *every* pair of
   members must satisfy ``|r_a - r_b| <= range_gate_sigma·sqrt(σ_a² + σ_b²) + range_gate_m``.
   Dwells are visited strongest first (by highest SNR; dB or linear alike). Each dwell's detections
   are matched to the existing groups by a minimum-cost assignment (Hungarian, scipy
   ``linear_sum_assignment``) that maximises the number of gated pairs, then minimises the summed
   worst normalised range difference; unmatched detections seed new groups. So it is greedy over
   dwells, optimal within a dwell, with no per-detection Python loop.
2. **Resolution** (groups with ``>= min_dwells`` members and ``>= 2`` distinct PRFs). The cost
   ``J(v) = Σ_i wrap(v - v_i, B_i)² / σ_i²`` (``wrap`` into ``[-B/2, B/2)``) is piecewise
   quadratic: with the ambiguity numbers ``n_i`` fixed its minimum is the weighted least-squares
   ``v̂ = Σ w_i (v_i + n_i B_i) / Σ w_i``, ``w_i = σ_i⁻²``, with ``σ̂ = (Σ w_i)^(-1/2)``. Instead
   of scanning a grid, every cell of the most precise member (the *anchor*) that meets the limits
   is a candidate: the other ``n_i`` are rounded at the anchor's unfolded value, ``v̂`` is formed,
   the ``n_i`` re-rounded at ``v̂`` and ``v̂`` recomputed. Candidates with ``v̂`` outside
   ``velocity_limits_mps`` are dropped. The best candidate is accepted when its residual
   ``χ² = J(v̂)`` is within the ``confidence`` quantile of χ²(members − 1) and no other candidate
   farther than ``separation_sigma·σ̂`` from it passes the same test (else: *ambiguous*).

Assumptions
-----------
* Measurement errors are independent, zero-mean Gaussian with the given σ, and the target's
  radial velocity is constant over the look (a few CPIs).
* ``σ_i ≪ B_i``: the enumeration finds every candidate that passes the χ² test provided
  ``(σ_anchor + σ_i)·sqrt(χ²_q) < B_i/2`` (σ < B/15 for equal σ at 99.9 %, 3 dwells).
* The folded value may lie in any interval of width ``B``; only ``v_i mod B_i`` is used.
* Targets within one range gate of each other in the same dwells may be mis-paired; with three or
  more members such a group usually fails the χ² test and stays unresolved.

References
----------
G. V. Trunk and S. Brockett, "Range and velocity ambiguity resolution", Record of the IEEE National
Radar Conference, 1993. M. I. Skolnik (ed.), *Radar Handbook*, 3rd ed., McGraw-Hill, 2008, the
pulse-Doppler chapter (multiple-PRF ambiguity resolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from sbamti.errors import ConfigurationError

__all__ = ["ResolvedLook", "associate_detections", "resolve_look"]


@dataclass(frozen=True)
class ResolvedLook:
    """Result of :func:`resolve_look`: per-detection arrays (T,) and per-group arrays (G,)."""

    group: np.ndarray                   # (T,) int, group of each detection, 0..G-1
    resolved: np.ndarray                # (T,) bool
    velocity_mps: np.ndarray            # (T,) resolved velocity, else the input (folded) value
    velocity_std_mps: np.ndarray        # (T,) σ̂ where resolved, else the input σ
    group_velocity_mps: np.ndarray      # (G,) v̂, NaN where unresolved
    group_velocity_std_mps: np.ndarray  # (G,) σ̂ = (Σ w)^(-1/2), NaN where unresolved
    group_resolved: np.ndarray          # (G,) bool
    group_ambiguous: np.ndarray         # (G,) bool, best passed χ² but a distinct rival passed too
    group_size: np.ndarray              # (G,) int, members (= dwells) in the group
    group_chi2: np.ndarray              # (G,) best χ²; NaN: not attempted, inf: no candidate in limits
    group_range_m: np.ndarray           # (G,) inverse-variance weighted mean range

    @property
    def num_groups(self) -> int:
        return int(self.group_size.size)


# --- validation ---------------------------------------------------------------------------------

def _vector(name: str, value, size: int | None = None, positive: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be an array of numbers, got {value!r}") from None
    if arr.ndim != 1:
        raise ConfigurationError(f"{name} must be a 1-D array, got shape {arr.shape}")
    if size is not None and arr.size != size:
        raise ConfigurationError(
            f"{name} must have {size} entries (one per detection, like dwell_index), got {arr.size}")
    bad = ~np.isfinite(arr) | ((arr <= 0.0) if positive else False)
    if bad.any():
        i = int(np.argmax(bad))
        need = "finite and > 0" if positive else "finite"
        raise ConfigurationError(f"{name} must be {need}, got {arr[i].item()!r} at index {i}")
    return arr


def _positive_scalar(name: str, value, allow_zero: bool = False) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x) or x < 0.0 or (x == 0.0 and not allow_zero):
        raise ConfigurationError(f"{name} must be finite and {'>=' if allow_zero else '>'} 0, got {value!r}")
    return x


def _dwell_index(value, num_dwells: int) -> np.ndarray:
    raw = np.asarray(value)
    if raw.ndim != 1:
        raise ConfigurationError(f"dwell_index must be a 1-D array, got shape {raw.shape}")
    if raw.size and raw.dtype.kind not in "iuf":
        raise ConfigurationError(f"dwell_index must hold integers, got dtype {raw.dtype} ({raw[0]!r}, ...)")
    bad = (raw != np.rint(raw)) | (raw < 0) | (raw >= num_dwells)     # NaN compares unequal: bad
    if bad.any():
        i = int(np.argmax(bad))
        raise ConfigurationError(f"dwell_index must hold integers in [0, {num_dwells}) "
                                 f"(len(prf_hz_of_dwell)), got {raw[i].item()!r} at index {i}")
    return raw.astype(np.intp)


# --- association --------------------------------------------------------------------------------

def associate_detections(dwell_index: np.ndarray, range_m: np.ndarray, range_std_m: np.ndarray,
                         snr: np.ndarray, *, range_gate_sigma: float = 4.0,
                         range_gate_m: float = 0.0) -> np.ndarray:
    """Group label (T,) per detection (numbered by first appearance), at most one per dwell.

    Expects validated (T,) numpy arrays; the gate and the assignment are in the module docstring.
    """
    group = np.full(dwell_index.size, -1, dtype=np.intp)
    dwells = np.unique(dwell_index)
    peak = np.array([snr[dwell_index == d].max() for d in dwells])
    num_groups = 0
    for d in dwells[np.argsort(-peak, kind="stable")]:          # loop over the few dwells only
        new = np.flatnonzero(dwell_index == d)
        matched = np.zeros(new.size, dtype=bool)
        old = np.flatnonzero(group >= 0)
        if old.size:
            gate = range_gate_sigma * np.hypot(range_std_m[old, None], range_std_m[None, new]) + range_gate_m
            ratio = np.abs(range_m[old, None] - range_m[None, new]) / gate
            worst = np.zeros((num_groups, new.size))
            np.maximum.at(worst, group[old], ratio)                # complete linkage: all members
            feasible = worst <= 1.0
            # A penalty above any sum of feasible costs (each <= 1) maximises the gated pairs first.
            cost = np.where(feasible, worst, 2.0 + min(worst.shape))
            rows, cols = optimize.linear_sum_assignment(cost)
            ok = feasible[rows, cols]
            group[new[cols[ok]]] = rows[ok]
            matched[cols[ok]] = True
        seeds = new[~matched]
        group[seeds] = num_groups + np.arange(seeds.size)
        num_groups += seeds.size
    if num_groups:
        _, first = np.unique(group, return_index=True)
        rank = np.empty(num_groups, dtype=np.intp)
        rank[np.argsort(first)] = np.arange(num_groups)
        group = rank[group]
    return group


# --- resolution ---------------------------------------------------------------------------------

def _pad(group: np.ndarray, size: np.ndarray, values: np.ndarray, fill: float) -> np.ndarray:
    """(G, max size) table of per-detection values, rows = groups, padded with ``fill``."""
    order = np.argsort(group, kind="stable")
    slot = np.empty(group.size, dtype=np.intp)
    slot[order] = np.arange(group.size) - (np.cumsum(size) - size)[group[order]]
    table = np.full((size.size, int(size.max())), fill)
    table[group, slot] = values
    return table


def _resolve(v, b, w, size, limits, confidence, separation_sigma):
    """Best candidate per eligible group: (v̂, σ̂, χ², passed, ambiguous), each (E,)."""
    rows = np.arange(v.shape[0])
    wsum = w.sum(axis=1)
    anchor = np.argmax(w, axis=1)                                # most precise member
    va, ba = v[rows, anchor], b[rows, anchor]
    lo = np.ceil((limits[0] - va) / ba - 0.5)                    # anchor cells meeting the limits
    hi = np.floor((limits[1] - va) / ba + 0.5)
    k = lo[:, None] + np.arange(int((hi - lo).max()) + 1)        # (E, K)
    est = va[:, None] + k * ba[:, None]
    for _ in range(2):                                           # round n_i, WLS, re-round, WLS
        n = np.rint((est[..., None] - v[:, None, :]) / b[:, None, :])
        unfolded = v[:, None, :] + n * b[:, None, :]
        est = (w[:, None, :] * unfolded).sum(axis=-1) / wsum[:, None]
    chi2 = (w[:, None, :] * (unfolded - est[..., None]) ** 2).sum(axis=-1)
    valid = (k <= hi[:, None]) & (est >= limits[0]) & (est <= limits[1])
    chi2 = np.where(valid, chi2, np.inf)
    best = np.argmin(chi2, axis=1)
    v_hat, chi2_best, std = est[rows, best], chi2[rows, best], wsum ** -0.5
    passing = chi2 <= stats.chi2.ppf(confidence, size - 1)[:, None]
    rival = passing & (np.abs(est - v_hat[:, None]) > separation_sigma * std[:, None])
    return v_hat, std, chi2_best, passing[rows, best], passing[rows, best] & rival.any(axis=1)


def resolve_look(dwell_index: np.ndarray, prf_hz_of_dwell: np.ndarray, range_m: np.ndarray,
                 range_std_m: np.ndarray, velocity_mps: np.ndarray, velocity_std_mps: np.ndarray,
                 snr: np.ndarray, *, wavelength_m: float,
                 velocity_limits_mps: tuple[float, float] = (-600.0, 600.0), min_dwells: int = 2,
                 range_gate_sigma: float = 4.0, range_gate_m: float = 0.0,
                 confidence: float = 0.999, separation_sigma: float = 5.0) -> ResolvedLook:
    """Associate the detections of one look by range and resolve each group's radial velocity.

    Per-detection arrays are (T,); ``dwell_index`` indexes ``prf_hz_of_dwell`` (num_dwells,).
    ``velocity_mps`` is the folded measurement, known modulo ``wavelength_m·PRF/2``. SNR only
    orders the association (dB or linear). Raises :class:`~sbamti.errors.ConfigurationError`
    (a ``ValueError``) naming the argument and value on bad input.
    """
    prf = _vector("prf_hz_of_dwell", prf_hz_of_dwell, positive=True)
    dwell = _dwell_index(dwell_index, prf.size)
    t = dwell.size
    r, r_std, v, v_std, power = (_vector(name, x, t, pos) for name, x, pos in (
        ("range_m", range_m, False), ("range_std_m", range_std_m, True), ("velocity_mps", velocity_mps, False),
        ("velocity_std_mps", velocity_std_mps, True), ("snr", snr, False)))
    lam = _positive_scalar("wavelength_m", wavelength_m)
    gate_sigma = _positive_scalar("range_gate_sigma", range_gate_sigma)
    gate_m = _positive_scalar("range_gate_m", range_gate_m, allow_zero=True)
    sep = _positive_scalar("separation_sigma", separation_sigma)
    if not (conf := _positive_scalar("confidence", confidence)) < 1.0:
        raise ConfigurationError(f"confidence must lie in (0, 1), got {confidence!r}")
    try:
        limits = tuple(float(x) for x in velocity_limits_mps)
    except (TypeError, ValueError):
        limits = ()
    if len(limits) != 2 or not (np.all(np.isfinite(limits)) and limits[0] < limits[1]):
        raise ConfigurationError(f"velocity_limits_mps must be finite (v_min, v_max) with v_min < v_max, "
                                 f"got {velocity_limits_mps!r}")
    if isinstance(min_dwells, bool) or not isinstance(min_dwells, (int, np.integer)) or min_dwells < 2:
        raise ConfigurationError(f"min_dwells must be an integer >= 2, got {min_dwells!r}")

    group = associate_detections(dwell, r, r_std, power, range_gate_sigma=gate_sigma, range_gate_m=gate_m)
    num_groups = int(group.max()) + 1 if t else 0
    size = np.bincount(group, minlength=num_groups)
    w_r = r_std ** -2.0
    g_range = np.bincount(group, w_r * r, num_groups) / np.bincount(group, w_r, num_groups) \
        if t else np.empty(0)
    g_vel, g_std, g_chi2 = (np.full(num_groups, np.nan) for _ in range(3))
    g_ok, g_amb = np.zeros(num_groups, dtype=bool), np.zeros(num_groups, dtype=bool)
    if t:
        blind = lam * prf[dwell] / 2.0
        b_tab = _pad(group, size, blind, np.nan)                # NaN padding sorts last, never "> 0"
        distinct = 1 + np.sum(np.diff(np.sort(b_tab, axis=1), axis=1) > 0, axis=1)
        todo = np.flatnonzero((size >= min_dwells) & (distinct >= 2))
        if todo.size:
            w_tab = _pad(group, size, v_std ** -2.0, 0.0)[todo]
            v_tab = _pad(group, size, v, 0.0)[todo]
            b_tab = np.where(w_tab > 0, b_tab[todo], 1.0)        # padding: weight 0, harmless period
            v_hat, std, chi2, passed, ambiguous = _resolve(v_tab, b_tab, w_tab, size[todo], limits,
                                                           conf, sep)
            ok = passed & ~ambiguous
            g_ok[todo], g_amb[todo], g_chi2[todo] = ok, ambiguous, chi2
            g_vel[todo[ok]], g_std[todo[ok]] = v_hat[ok], std[ok]
    resolved = g_ok[group]
    return ResolvedLook(
        group=group, resolved=resolved,
        velocity_mps=np.where(resolved, g_vel[group], v),
        velocity_std_mps=np.where(resolved, g_std[group], v_std),
        group_velocity_mps=g_vel, group_velocity_std_mps=g_std, group_resolved=g_ok,
        group_ambiguous=g_amb, group_size=size, group_chi2=g_chi2, group_range_m=g_range)
