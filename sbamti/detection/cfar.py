"""CA-CFAR and OS-CFAR detectors and clustering of threshold crossings (pure: numpy/scipy/numba).

Both detectors work on square-law (power) samples of complex Gaussian noise, i.e. exponentially
distributed noise power, and follow the scipy ``CZT`` pattern: the threshold factor α is computed
once at construction, ``__call__(power)`` is applied per CPI.

Training window and edges
-------------------------
Each cell under test (CUT) ``i`` on an axis of length ``n`` is compared with ``α · z_i`` where
``z_i`` is computed from exactly ``N = 2 · num_training`` training cells. Cells within
``num_guard`` of the CUT (and the CUT itself) are never training cells. In the interior the
window is symmetric: ``num_training`` leading cells ``[i-G-T, i-G-1]`` and ``num_training``
lagging cells ``[i+G+1, i+G+T]``. Near an end of the axis the window slides inward instead of
shrinking: the side without room contributes the cells it has (nearest first) and the other side
contributes the rest, so every cell, edges included, uses exactly ``N`` cells and the same α, and
the false-alarm rate is the design ``Pfa`` everywhere. This needs ``n >= 2·G + N + 1``.

References
----------
[S16] M. A. Richards, *Fundamentals of Radar Signal Processing*, p. 503 (CA-CFAR),
pp. 523–526 (OS-CFAR). [S17] B. Mahafza, *MATLAB Simulations for Radar Systems Design*
(CA-CFAR ``Pfa = (1 + K0)^-M``). H. Rohling, "Radar CFAR thresholding in clutter and multiple
target situations", IEEE TAES 19(4), 1983 (OS-CFAR).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import ndimage, optimize, special

from sbamti.errors import ConfigurationError

__all__ = [
    "CaCfarDetector",
    "Cluster",
    "OsCfarDetector",
    "ca_cfar_alpha",
    "cluster_detections",
    "os_cfar_alpha",
    "os_cfar_pfa",
    "training_indices",
]


# --- validation ---------------------------------------------------------------------------------

def _check_counts(num_training, num_guard) -> tuple[int, int]:
    if isinstance(num_training, bool) or not isinstance(num_training, (int, np.integer)) \
            or num_training < 1:
        raise ConfigurationError(
            f"num_training (training cells per side) must be an integer >= 1, got {num_training!r}")
    if isinstance(num_guard, bool) or not isinstance(num_guard, (int, np.integer)) \
            or num_guard < 0:
        raise ConfigurationError(
            f"num_guard (guard cells per side) must be an integer >= 0, got {num_guard!r}")
    return int(num_training), int(num_guard)


def _check_pfa(pfa) -> float:
    try:
        value = float(pfa)
    except (TypeError, ValueError):
        raise ConfigurationError(f"pfa must be a number in (0, 1), got {pfa!r}") from None
    if not 0.0 < value < 1.0:
        raise ConfigurationError(f"pfa must lie in the open interval (0, 1), got {pfa!r}")
    return value


# --- threshold factors --------------------------------------------------------------------------

def ca_cfar_alpha(num_cells: int, pfa: float) -> float:
    """CA-CFAR threshold factor α for ``N = num_cells`` training cells (threshold α · mean).

    ``Pfa = (1 + α/N)^(-N)``  ⇔  ``α = N (Pfa^(-1/N) - 1)``  (Richards p. 503; Mahafza [S17]).
    """
    n = float(num_cells)
    return n * (pfa ** (-1.0 / n) - 1.0)


def os_cfar_pfa(alpha, num_cells: int, rank: int):
    """OS-CFAR false-alarm probability for threshold ``α · x_(k)``, ``k = rank`` of ``N`` cells.

    ``Pfa = k C(N,k) Γ(α+N-k+1) Γ(k) / Γ(α+N+1)``  (Rohling 1983; Richards pp. 523–526),
    evaluated in log space.
    """
    n, k = num_cells, rank
    alpha = np.asarray(alpha, dtype=float)
    log_pfa = (np.log(k) + special.gammaln(n + 1) - special.gammaln(k + 1)
               - special.gammaln(n - k + 1) + special.gammaln(alpha + n - k + 1)
               + special.gammaln(k) - special.gammaln(alpha + n + 1))
    return np.exp(log_pfa)


def os_cfar_alpha(num_cells: int, rank: int, pfa: float) -> float:
    """Solve :func:`os_cfar_pfa` ``(α) = pfa`` for α (monotone decreasing; ``Pfa(0) = 1``)."""
    target = np.log(pfa)

    def f(a):
        return float(np.log(os_cfar_pfa(a, num_cells, rank))) - target

    hi = 1.0
    while f(hi) > 0.0:
        hi *= 2.0
        if hi > 1e12:  # pragma: no cover - unreachable for pfa > 0
            raise ConfigurationError(f"cannot solve OS-CFAR alpha for pfa={pfa!r}")
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-13, rtol=1e-14))


# --- training windows ---------------------------------------------------------------------------

def _window_counts(length: int, num_training: int, num_guard: int):
    """Per cell: number of leading (``n_lead``) and lagging (``N - n_lead``) training cells."""
    i = np.arange(length)
    n_cells = 2 * num_training
    room_lead = np.maximum(0, i - num_guard)
    room_lag = np.maximum(0, length - 1 - i - num_guard)
    n_lead = np.maximum(np.minimum(num_training, room_lead), n_cells - room_lag)
    return n_lead, n_cells - n_lead


def _check_length(length: int, num_training: int, num_guard: int, axis: int) -> None:
    need = 2 * num_guard + 2 * num_training + 1
    if length < need:
        raise ConfigurationError(
            f"CFAR axis {axis} has {length} cells; it needs at least 2*num_guard + N + 1 = "
            f"2*{num_guard} + {2 * num_training} + 1 = {need} (num_guard={num_guard}, "
            f"num_training={num_training} per side, N={2 * num_training})")


def training_indices(length: int, num_training: int, num_guard: int) -> np.ndarray:
    """Indices (``length``, ``N``) of the training cells of every CUT, edge windows slid inward.

    Row ``i`` lists the ``n_lead`` leading cells ``[i-G-n_lead, i-G-1]`` then the lagging cells
    ``[i+G+1, i+G+N-n_lead]``; ``n_lead = T`` in the interior.
    """
    num_training, num_guard = _check_counts(num_training, num_guard)
    _check_length(length, num_training, num_guard, axis=-1)
    n_lead, _ = _window_counts(length, num_training, num_guard)
    i = np.arange(length)[:, None]
    j = np.arange(2 * num_training)[None, :]
    lead = n_lead[:, None]
    return np.where(j < lead, i - num_guard - lead + j, i + num_guard + 1 + (j - lead))


def _as_rows(power: np.ndarray, axis: int):
    power = np.asarray(power)
    if power.ndim == 0:
        raise ConfigurationError("power must have at least one dimension, got a scalar")
    if np.iscomplexobj(power):
        raise ConfigurationError(
            "power must be real square-law samples |x|^2, got a complex array")
    if not -power.ndim <= axis < power.ndim:
        raise ConfigurationError(f"axis={axis} is out of range for power of shape {power.shape}")
    moved = np.moveaxis(power.astype(np.float64, copy=False), axis, -1)
    return np.ascontiguousarray(moved.reshape(-1, moved.shape[-1])), moved.shape


def _from_rows(rows: np.ndarray, moved_shape, axis: int) -> np.ndarray:
    return np.moveaxis(rows.reshape(moved_shape), -1, axis)


# --- CA-CFAR ------------------------------------------------------------------------------------

class CaCfarDetector:
    """Cell-averaging CFAR for square-law detected, exponentially distributed noise power.

    Parameters
    ----------
    num_training : int
        Training cells per side ``T``; the threshold uses ``N = 2T`` cells.
    num_guard : int
        Guard cells per side ``G`` (excluded from the training set).
    pfa : float
        Design probability of false alarm per cell, in (0, 1).
    axis : int
        Axis of ``power`` along which the CFAR window slides (e.g. range); the detector is
        vectorised over the other axes.

    Notes
    -----
    Threshold ``τ_i = α · (1/N) Σ_training x``, ``α = N (Pfa^(-1/N) - 1)``, so that
    ``Pfa = (1 + α/N)^(-N)`` for every cell (Richards p. 503). Sums use cumulative sums (O(n)).
    """

    def __init__(self, num_training: int, num_guard: int, pfa: float, axis: int = -1):
        self.num_training, self.num_guard = _check_counts(num_training, num_guard)
        self.pfa = _check_pfa(pfa)
        self.axis = int(axis)
        self.num_cells = 2 * self.num_training
        self.alpha = ca_cfar_alpha(self.num_cells, self.pfa)
        self._plans: dict[int, tuple[np.ndarray, ...]] = {}

    def _plan(self, length: int):
        plan = self._plans.get(length)
        if plan is None:
            _check_length(length, self.num_training, self.num_guard, self.axis)
            n_lead, n_lag = _window_counts(length, self.num_training, self.num_guard)
            i = np.arange(length)
            g = self.num_guard
            # prefix sum S[m] = sum(x[:m]); leading = S[i-G] - S[i-G-n_lead], etc.
            lead_hi = np.maximum(i - g, 0)
            lead_lo = lead_hi - n_lead
            lag_lo = np.minimum(i + g + 1, length)
            lag_hi = lag_lo + n_lag
            plan = (lead_lo, lead_hi, lag_lo, lag_hi)
            self._plans[length] = plan
        return plan

    def __call__(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Detect: returns ``(detections, threshold)``, both shaped like ``power``."""
        rows, moved_shape = _as_rows(power, self.axis)
        lead_lo, lead_hi, lag_lo, lag_hi = self._plan(rows.shape[-1])
        csum = np.zeros((rows.shape[0], rows.shape[1] + 1))
        np.cumsum(rows, axis=-1, out=csum[:, 1:])
        total = (csum[:, lead_hi] - csum[:, lead_lo]) + (csum[:, lag_hi] - csum[:, lag_lo])
        threshold = (self.alpha / self.num_cells) * total
        detections = rows > threshold
        return (_from_rows(detections, moved_shape, self.axis),
                _from_rows(threshold, moved_shape, self.axis))


# --- OS-CFAR kernels: numba and its plain-numpy twin (same signature, tested to agree) ---------

@njit(cache=True)
def _os_statistic_numba(rows, idx, rank):
    """rows (R, n) power; idx (n, N) training indices; rank k (1-based) -> (R, n) k-th smallest."""
    n_rows, length = rows.shape
    n_cells = idx.shape[1]
    out = np.empty((n_rows, length))
    buf = np.empty(n_cells)
    for r in range(n_rows):
        for i in range(length):
            # insertion sort of the N training values
            for j in range(n_cells):
                v = rows[r, idx[i, j]]
                m = j
                while m > 0 and buf[m - 1] > v:
                    buf[m] = buf[m - 1]
                    m -= 1
                buf[m] = v
            out[r, i] = buf[rank - 1]
    return out


def _os_statistic_numpy(rows, idx, rank):
    """Plain-numpy twin of :func:`_os_statistic_numba` (gather + ``np.partition``, chunked)."""
    n_rows, length = rows.shape
    out = np.empty((n_rows, length))
    chunk = max(1, 4_000_000 // max(1, idx.size))
    for start in range(0, n_rows, chunk):
        block = rows[start:start + chunk][:, idx]                 # (r, n, N)
        out[start:start + chunk] = np.partition(block, rank - 1, axis=-1)[..., rank - 1]
    return out


class OsCfarDetector:
    """Ordered-statistic CFAR (Rohling): threshold ``α · x_(k)``, the k-th smallest training cell.

    Parameters
    ----------
    num_training : int
        Training cells per side ``T``; ``N = 2T`` cells are ranked.
    num_guard : int
        Guard cells per side ``G``.
    pfa : float
        Design probability of false alarm per cell, in (0, 1).
    rank : int, optional
        ``k`` in ``1..N``; default ``round(3N/4)`` (Richards pp. 523–526).
    axis : int
        Axis along which the window slides; vectorised over the other axes.

    Notes
    -----
    α solves ``Pfa = k C(N,k) Γ(α+N-k+1) Γ(k) / Γ(α+N+1)`` (computed once here). The order
    statistic is computed by a numba kernel (:func:`_os_statistic_numba`), whose plain-numpy twin
    (:func:`_os_statistic_numpy`) is tested to agree. Up to ``N - k`` interfering targets in the
    training window leave the threshold essentially unchanged, unlike CA-CFAR.
    """

    def __init__(self, num_training: int, num_guard: int, pfa: float,
                 rank: int | None = None, axis: int = -1):
        self.num_training, self.num_guard = _check_counts(num_training, num_guard)
        self.pfa = _check_pfa(pfa)
        self.axis = int(axis)
        self.num_cells = 2 * self.num_training
        if rank is None:
            rank = max(1, round(0.75 * self.num_cells))
        if isinstance(rank, bool) or not isinstance(rank, (int, np.integer)) \
                or not 1 <= rank <= self.num_cells:
            raise ConfigurationError(
                f"rank must be an integer in 1..N = 1..{self.num_cells}, got {rank!r}")
        self.rank = int(rank)
        self.alpha = os_cfar_alpha(self.num_cells, self.rank, self.pfa)
        self._plans: dict[int, np.ndarray] = {}

    def _plan(self, length: int) -> np.ndarray:
        idx = self._plans.get(length)
        if idx is None:
            _check_length(length, self.num_training, self.num_guard, self.axis)
            idx = np.ascontiguousarray(
                training_indices(length, self.num_training, self.num_guard), dtype=np.int64)
            self._plans[length] = idx
        return idx

    def __call__(self, power: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Detect: returns ``(detections, threshold)``, both shaped like ``power``."""
        rows, moved_shape = _as_rows(power, self.axis)
        idx = self._plan(rows.shape[-1])
        threshold = self.alpha * _os_statistic_numba(rows, idx, self.rank)
        detections = rows > threshold
        return (_from_rows(detections, moved_shape, self.axis),
                _from_rows(threshold, moved_shape, self.axis))


# --- clustering ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Cluster:
    """A connected group of threshold crossings.

    ``peak_index`` is the (range, Doppler) index of its strongest cell, ``peak_power`` that
    cell's power, ``num_cells`` the number of crossings in the cluster.
    """

    peak_index: tuple[int, int]
    peak_power: float
    num_cells: int


_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def cluster_detections(mask: np.ndarray, power: np.ndarray) -> list[Cluster]:
    """Group 8-connected crossings of a 2-D (range × Doppler) ``mask``; one :class:`Cluster` each.

    Clusters are ordered by their label (row-major scan order of their first cell).
    """
    mask = np.asarray(mask, dtype=bool)
    power = np.asarray(power)
    if mask.ndim != 2:
        raise ConfigurationError(
            f"mask must be 2-D (range x Doppler), got {mask.ndim}-D shape {mask.shape}")
    if power.shape != mask.shape:
        raise ConfigurationError(
            f"power shape {power.shape} must equal mask shape {mask.shape}")
    labels, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if count == 0:
        return []
    # Only the crossed cells matter (few): the peak of each label is the first of its cells sorted by
    # label, then by decreasing power (the first in scan order among equal powers).
    cells = np.flatnonzero(labels)
    cell_labels = labels.ravel()[cells]
    order = np.lexsort((-power.ravel()[cells], cell_labels))
    firsts = order[np.searchsorted(cell_labels[order], np.arange(1, count + 1))]
    peak_flat = cells[firsts]
    rows, cols = np.unravel_index(peak_flat, mask.shape)
    sizes = np.bincount(cell_labels, minlength=count + 1)[1:]
    peak_powers = power.ravel()[peak_flat]
    return [Cluster((int(r), int(c)), float(v), int(n)) for r, c, v, n in zip(rows, cols, peak_powers, sizes)]
