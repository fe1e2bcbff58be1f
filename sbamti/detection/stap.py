"""Space-time adaptive processing (STAP): sample-matrix-inversion weights, full-DOF and post-Doppler.

Pure (numpy + scipy). Conventions of :mod:`sbamti.radar.iq` and :mod:`sbamti.radar.clutter`: a
space-time snapshot of range bin ``l`` is ``x = cube[:, :, l].ravel()`` (channel-major, index
``n M + m``), steering ``v = a(s) ⊗ b(v_r)`` (:func:`sbamti.radar.clutter.space_time_steering`).

Sample matrix inversion (SMI; Reed, Mallett & Brennan, IEEE TAES 10(6), 1974; Ward, MIT LL
TR-1015, 1994, Sec. 5): from ``K`` training snapshots ``X`` (K, D) of range bins around the cell
under test (CUT), ``R̂ = Xᴴ X / K + δ I`` and the MVDR (unit-gain) weights

    w = R̂⁻¹ v / (vᴴ R̂⁻¹ v),        wᴴ v = 1,

so ``wᴴ x`` is an estimate of the complex amplitude of a target on ``v``. With ``δ = 0`` and
``K >= D`` i.i.d. Gaussian snapshots the SINR relative to the optimum ``w = R⁻¹ v`` is
Beta(K + 2 - D, D - 1) distributed, mean ``(K + 2 - D)/(K + 1)`` (about -3 dB at ``K = 2D``).

Two processors:

- :class:`FullDofSmiStap`: reference, all ``D = N M`` degrees of freedom (small cubes only:
  needs ``K ~ 2 N M`` training bins and a ``D³`` solve per CUT).
- :class:`PostDopplerStap`: reduced dimension (Ward Sec. 6, "extended factored" / adjacent-bin
  post-Doppler): a windowed Doppler filter bank per channel, then in each Doppler bin ``k`` an
  adaptive combiner over ``N`` channels × ``J`` adjacent Doppler bins ``k - J//2 .. k + J//2``
  (``J = 1``: factored post-Doppler, ``J = 3``: the usual choice), ``D = J N``. With
  ``spatial_beams = P`` the channels are first combined into ``P`` DFT beams around the look
  direction (beamspace post-Doppler; with ``J = 3``, ``P = 3`` the joint-domain localized
  processor of Wang & Cai, IEEE TAES 30(3), 1994), ``D = J P``: nine degrees of freedom need only
  ~20-50 training bins and make flight-size cubes real-time on one core.

Training (:func:`training_cells`): ``num_training`` range bins, half on each side of the CUT
beyond ``num_guard`` guard bins on each side, slid inward near the swath edges so the count never
drops. :class:`PostDopplerStap` forms the training covariances from running sums of the per-bin
outer products taken once per segment between training-plan bounds (``O(L D²)`` instead of
``O(L K D²)``), with numba kernels (:mod:`sbamti.detection.stap_kernels`) for the Gram sums, the
per-block Cholesky solves and the weight application.

Cost (16 × 32 × 1000 cube, one core; BENCHMARKS.md): beamspace 3 × 3 with 100-bin blocks about
1.7 ms of adaptive filtering per CPI (the whole detection chain 3.7 ms against a 4.27 ms CPI);
element space 16 × 3 = 48 DOF about 39 ms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from sbamti.detection.doppler import DopplerFilterBank
from sbamti.detection.stap_kernels import apply_weights_power, block_weights, gather_snapshots, running_grams, split_complex
from sbamti.errors import ConfigurationError
from sbamti.radar.clutter import space_time_steering
from sbamti.radar.iq import CubeLayout, spatial_steering

# --- training --------------------------------------------------------------------------------

def _training_split(num_range_bins: int, first: int, last: int, num_training: int, num_guard: int
                    ) -> tuple[int, int]:
    """(left, right) training counts for the cells under test ``first..last`` (inclusive).

    Left training bins are ``first - num_guard - left .. first - num_guard - 1``, right ones
    ``last + num_guard + 1 .. last + num_guard + right``; ``left + right = num_training``, each
    ``num_training // 2`` (the odd one on the right) unless an edge forces sliding inward.
    """
    available_left = max(0, first - num_guard)
    available_right = max(0, num_range_bins - 1 - last - num_guard)
    if available_left + available_right < num_training:
        raise ConfigurationError(
            f"training: {num_training} training bins with {num_guard} guard bins each side need more than "
            f"the {num_range_bins} range bins (only {available_left + available_right} available for CUT "
            f"{first}..{last})")
    left = min(num_training // 2, available_left)
    right = num_training - left
    if right > available_right:
        right = available_right
        left = num_training - right
    return left, right


def training_cells(num_range_bins: int, cut: int, num_training: int, num_guard: int) -> np.ndarray:
    """Sorted range-bin indices of the training cells of one cell under test.

    ``num_training // 2`` bins on each side beyond ``num_guard`` guard bins each side of ``cut``
    (the odd one, if any, on the far side); near the swath edges the window slides inward and
    takes the missing bins from the other side, so there are always ``num_training`` indices,
    none of them the CUT or its guards. Raises :class:`ConfigurationError` if the swath is too
    short.
    """
    if not 0 <= cut < num_range_bins:
        raise ConfigurationError(f"cut: expected 0..{num_range_bins - 1}, received {cut}")
    if num_training < 1 or num_guard < 0:
        raise ConfigurationError(f"num_training >= 1 and num_guard >= 0 expected, received {num_training}, {num_guard}")
    left, right = _training_split(num_range_bins, cut, cut, num_training, num_guard)
    return np.concatenate([np.arange(cut - num_guard - left, cut - num_guard),
                           np.arange(cut + num_guard + 1, cut + num_guard + 1 + right)]).astype(np.int64)


# --- weights --------------------------------------------------------------------------------

def smi_weights(snapshots: np.ndarray, steering: np.ndarray, diagonal_loading: float = 0.0) -> np.ndarray:
    """MVDR sample-matrix-inversion weights, unit gain on the steering vector.

    Parameters
    ----------
    snapshots : (K, D) complex
        Training snapshots (rows).
    steering : (..., D) complex
        Look (target) steering vectors.
    diagonal_loading : float, W
        δ added to the diagonal of ``R̂ = Xᴴ X / K``.

    Returns
    -------
    (..., D) complex128 ``w = R̂⁻¹ v / (vᴴ R̂⁻¹ v)`` (so ``wᴴ v = 1``); the output is ``wᴴ x``.
    ``R̂ = Σ_k x_k x_kᴴ / K + δ I`` (``= Xᵀ X̄ / K`` with snapshots as the rows of ``X``).
    """
    x = np.asarray(snapshots, dtype=np.complex128)
    v = np.asarray(steering, dtype=np.complex128)
    k, d = x.shape
    if v.shape[-1] != d:
        raise ValueError(f"steering: expected last dimension {d} (snapshots), received {v.shape}")
    cov = x.T @ x.conj() / k                          # Σ_k x_k x_kᴴ / K (snapshots are rows)
    cov[np.diag_indices(d)] += diagonal_loading
    return mvdr_weights(cov, v)


def mvdr_weights(covariance: np.ndarray, steering: np.ndarray) -> np.ndarray:
    """``R⁻¹ v / (vᴴ R⁻¹ v)`` for a Hermitian positive definite ``covariance`` (D, D), steering (..., D)."""
    v = np.asarray(steering, dtype=np.complex128)
    flat = v.reshape(-1, v.shape[-1])
    factor = scipy.linalg.cho_factor(covariance, lower=True, check_finite=False)
    solved = scipy.linalg.cho_solve(factor, flat.T, check_finite=False).T        # (T, D)
    gain = np.sum(flat.conj() * solved, axis=-1)
    return (solved / gain[:, None].conj()).reshape(v.shape)


def sinr_of_weights(weights: np.ndarray, covariance: np.ndarray, steering: np.ndarray,
                    noise_power_w: float) -> np.ndarray:
    """SINR loss of arbitrary weights relative to the noise-only matched filter, linear.

        SINR_loss = (|wᴴ v|² / (wᴴ R w)) / (vᴴ v / σ²)

    (Ward TR-1015 Sec. 4). For ``w = R⁻¹ v`` this is ``σ² vᴴ R⁻¹ v / (vᴴ v)``, the optimum of
    :func:`sbamti.radar.clutter.sinr_loss`; for any other ``w`` it is smaller. ``weights`` and
    ``steering`` (..., D) broadcast; ``covariance`` (D, D) Hermitian.
    """
    w = np.asarray(weights, dtype=np.complex128)
    v = np.asarray(steering, dtype=np.complex128)
    gain = np.abs(np.sum(w.conj() * v, axis=-1)) ** 2
    output = np.real(np.sum(w.conj() * (w @ np.asarray(covariance).T), axis=-1))
    matched = np.real(np.sum(v.conj() * v, axis=-1)) / noise_power_w
    return gain / output / matched


def _loading(diagonal_loading_db: float | None, noise_power_w: float) -> float:
    if diagonal_loading_db is None or diagonal_loading_db == -np.inf:
        return 0.0
    return float(noise_power_w * 10.0 ** (diagonal_loading_db / 10.0))


# --- full degrees of freedom ----------------------------------------------------------------

class FullDofSmiStap:
    """Reference full-DOF SMI STAP (``D = N M``) for small cubes.

    Parameters
    ----------
    layout : CubeLayout
    num_training, num_guard : int
        Training range bins (``>= 2 N M`` recommended, RMB) and guard bins each side of the CUT.
    diagonal_loading_db : float or None
        δ relative to ``noise_power_w``, dB (0 dB: δ = σ²); None for no loading.
    noise_power_w : float, W
        Thermal noise power per sample σ².
    """

    def __init__(self, layout: CubeLayout, *, num_training: int, num_guard: int,
                 diagonal_loading_db: float | None = 0.0, noise_power_w: float) -> None:
        self.layout = layout
        self.num_training = int(num_training)
        self.num_guard = int(num_guard)
        self.noise_power_w = float(noise_power_w)
        self.loading_w = _loading(diagonal_loading_db, noise_power_w)
        training_cells(layout.num_range_bins, 0, self.num_training, self.num_guard)  # validates the sizes

    def weights(self, cube: np.ndarray, cut: int, cone_sines, radial_velocities) -> np.ndarray:
        """(T, N M) MVDR weights of the hypotheses (``cone_sines`` and ``radial_velocities`` broadcast)."""
        cells = training_cells(self.layout.num_range_bins, cut, self.num_training, self.num_guard)
        snapshots = np.asarray(cube)[:, :, cells].reshape(-1, cells.size).T          # (K, N M)
        steering = space_time_steering(self.layout, cone_sines, radial_velocities)
        return smi_weights(snapshots, steering, self.loading_w)

    def __call__(self, cube: np.ndarray, cut: int, cone_sines, radial_velocities) -> np.ndarray:
        """(T,) complex outputs ``wᴴ x_cut`` (target amplitude estimates, unit gain) per hypothesis."""
        w = self.weights(cube, cut, cone_sines, radial_velocities)
        x = np.asarray(cube)[:, :, cut].ravel().astype(np.complex128)
        return w.conj() @ x


# --- post-Doppler ----------------------------------------------------------------------------

def loaded_covariance(running: np.ndarray, doppler_bin: np.ndarray, bounds: np.ndarray, num_training: int,
                      loading_w: float) -> np.ndarray:
    """(..., D, D) training covariances ``(G[i1] - G[i0] + G[i3] - G[i2]) / K_t + δ I`` from running Gram sums.

    ``running`` (K, E, D, D) from :func:`~sbamti.detection.stap_kernels.running_grams`; ``doppler_bin`` and
    ``bounds`` (..., 4) (edge indices of the two training intervals ``[i0, i1)``, ``[i2, i3)``) broadcast.
    """
    i0, i1, i2, i3 = np.moveaxis(np.asarray(bounds), -1, 0)
    k = np.asarray(doppler_bin)
    cov = (running[k, i1] - running[k, i0] + running[k, i3] - running[k, i2]) / num_training
    d = cov.shape[-1]
    cov[..., np.arange(d), np.arange(d)] += loading_w
    return cov


def beam_spacing_sine(layout: CubeLayout) -> float:
    """DFT beam spacing in cone sine, ``Δs = λ / (N d̄)`` with ``d̄`` the mean channel spacing."""
    n = layout.num_channels
    x = np.asarray(layout.channel_x_m, dtype=np.float64)
    return layout.wavelength_m / (n * ((x[-1] - x[0]) / (n - 1) if n > 1 else 1.0))


def dft_beams(layout: CubeLayout, look_cone_sine: float, count: int) -> np.ndarray:
    """(N, P) unit-norm beams ``a(s_p) / √N`` at ``s_p = s_look + p Δs``, ``p = -P//2 .. P//2``
    (orthogonal for a uniform array)."""
    sines = look_cone_sine + (np.arange(count) - count // 2) * beam_spacing_sine(layout)
    return spatial_steering(layout, sines).T / np.sqrt(layout.num_channels)


@dataclass(frozen=True)
class StapResult:
    """One CPI through :class:`PostDopplerStap`.

    power : (K, L) ``|wᴴ z|²`` with unit mean for noise only
    running_grams : (K, E, D, D) running training Gram sums at the training plan's edges
    weights : (K, B, D) weights, scaled to unit output noise power
    block_of_bin : (L,) range block of each range bin
    bound_index, num_training, loading_w : the training plan (edge indices per block) and loading
    """

    power: np.ndarray
    running_grams: np.ndarray
    weights: np.ndarray
    block_of_bin: np.ndarray
    bound_index: np.ndarray
    num_training: int
    loading_w: float

    def covariance(self, doppler_bin: np.ndarray, range_bin: np.ndarray) -> np.ndarray:
        """(..., D, D) loaded training covariances used for the cells ``(doppler_bin, range_bin)`` (scalars or arrays)."""
        return loaded_covariance(self.running_grams, np.asarray(doppler_bin),
                                 self.bound_index[self.block_of_bin[np.asarray(range_bin)]], self.num_training,
                                 self.loading_w)


class PostDopplerStap:
    """Reduced-dimension post-Doppler STAP (adjacent-bin / extended factored), per CPI.

    Per CPI: the :class:`~sbamti.detection.doppler.DopplerFilterBank` per channel; for each Doppler
    bin ``k`` the snapshot of range bin ``l`` is ``z = [Y[n, k + j, l]]`` over channels ``n`` and
    offsets ``j = -J//2 .. J//2`` (circular in Doppler, index ``n J + (j + J//2)``); its training
    covariance ``R̂ = Σ_train z zᴴ / K_t + δ I`` and weights ``w = R̂⁻¹ g`` for the steering
    ``g = a(s) ⊗ h``, ``h_j`` the filter's response in bin ``k + j`` to a tone centred on bin ``k``
    (the same for every ``k``: set up once). Output power map

        P[k, l] = |wᴴ z|² / (σ² wᴴ Q w),

    ``σ² Q = E[z zᴴ]`` for white noise (``Q = I_N ⊗ C``, ``C`` the correlation of adjacent bins of
    the tapered window, :attr:`noise_correlation`), so for noise-only data ``P`` has unit mean
    (exactly, since the weights come from training cells other than the CUT) and a CFAR downstream
    sees unit mean noise power. Diagonal loading is ``δ I`` on ``R̂``.

    Parameters
    ----------
    layout : CubeLayout
    adjacent_bins : int, odd
        J, Doppler bins per adaptive snapshot (1: factored post-Doppler; 3: adjacent-bin).
    num_training, num_guard : int
        Training range bins per CUT (``>= 2 J N`` recommended) and guard bins each side.
    diagonal_loading_db : float or None
        δ relative to the noise power, dB; None for none.
    noise_power_w : float, W
    window, sidelobe_db, fft_size :
        Of the Doppler filter bank.
    range_block : int
        Weights are computed once per block of this many range bins (training around the block,
        guards beyond both ends of the block, so no cell of the block trains its own weights);
        1 (default) is per-CUT training.
    """

    def __init__(self, layout: CubeLayout, *, adjacent_bins: int = 3, num_training: int, num_guard: int,
                 diagonal_loading_db: float | None = 0.0, noise_power_w: float, window: str = "chebyshev",
                 sidelobe_db: float = 60.0, fft_size: int | None = None, range_block: int = 1,
                 spatial_beams: int | None = None, look_cone_sine: float = 0.0) -> None:
        if adjacent_bins < 1 or adjacent_bins % 2 == 0:
            raise ConfigurationError(f"adjacent_bins: expected an odd number >= 1, received {adjacent_bins}")
        if spatial_beams is not None and not (1 <= spatial_beams <= layout.num_channels and spatial_beams % 2 == 1):
            raise ConfigurationError(f"spatial_beams: expected None or an odd number in 1..{layout.num_channels}, "
                                     f"received {spatial_beams}")
        if range_block < 1:
            raise ConfigurationError(f"range_block: expected >= 1, received {range_block}")
        self.layout = layout
        self.filter_bank = DopplerFilterBank(layout.num_pulses, window=window, sidelobe_db=sidelobe_db,
                                             fft_size=fft_size)
        if adjacent_bins > self.filter_bank.num_bins:
            raise ConfigurationError(f"adjacent_bins: expected <= {self.filter_bank.num_bins} Doppler bins, "
                                     f"received {adjacent_bins}")
        self.adjacent_bins = int(adjacent_bins)
        self.num_training = int(num_training)
        self.num_guard = int(num_guard)
        self.range_block = int(range_block)
        self.noise_power_w = float(noise_power_w)
        self.loading_w = _loading(diagonal_loading_db, noise_power_w)
        self.offsets = np.arange(adjacent_bins) - adjacent_bins // 2
        self.doppler_response = self.filter_bank.filter_response(self.offsets)          # (J,)
        self.look_cone_sine = float(look_cone_sine)
        self.element_space = spatial_beams is None
        self.spatial_basis = self._spatial_basis(spatial_beams)                          # (N, P)
        # White noise is correlated across adjacent Doppler bins of a tapered window (and across
        # non-orthogonal beams): E[z zᴴ] = σ² (Bᴴ B) ⊗ C, C[i, j] = Σ_m w_m² exp(-j 2π (i - j) m / K).
        rows = self.filter_bank.filter_matrix()[self.offsets % self.filter_bank.num_bins]
        basis = self.spatial_basis
        self.noise_correlation = np.kron(basis.conj().T @ basis, rows @ rows.conj().T)
        num_bins = layout.num_range_bins
        # Training plan (set up once): per block, the cumulative-sum bounds of the training bins.
        starts = np.arange(0, num_bins, self.range_block)
        plan = []
        for first in starts:
            last = min(first + self.range_block, num_bins) - 1
            left, right = _training_split(num_bins, first, last, self.num_training, self.num_guard)
            plan.append((first - self.num_guard - left, first - self.num_guard,
                         last + self.num_guard + 1, last + self.num_guard + 1 + right))
        self.block_starts = starts
        # Empty sides give equal bounds; clip them into the running sum's index range 0..L.
        self._plan = np.clip(np.array(plan, dtype=np.int64).reshape(-1, 4), 0, num_bins)
        self._block_of_bin = np.arange(num_bins) // self.range_block
        # Running sums of z zᴴ are needed only at the plan's bounds: segment edges and, per block,
        # the positions of its four bounds among them.
        self._edges = np.unique(np.concatenate([self._plan.ravel(), [0, num_bins]]))
        self._bound_index = np.searchsorted(self._edges, self._plan)
        self._steering_cache: dict[float, np.ndarray] = {}
        self.steering()

    def _spatial_basis(self, spatial_beams: int | None) -> np.ndarray:
        """(N, P) spatial stage: the identity (element space) or ``P`` unit-norm beams around the look.

        Beam ``p`` steers to ``s_look + p Δs``, ``Δs = λ / (N d̄)`` (the DFT spacing of the mean channel
        spacing ``d̄``; orthogonal beams for a uniform array), ``p = -P//2 .. P//2``.
        """
        if spatial_beams is None:
            return np.eye(self.layout.num_channels, dtype=np.complex128)
        return dft_beams(self.layout, self.look_cone_sine, spatial_beams)

    @property
    def spatial_dof(self) -> int:
        """P: channels (element space) or beams (beamspace)."""
        return self.spatial_basis.shape[1]

    @property
    def dof(self) -> int:
        return self.adjacent_bins * self.spatial_dof

    def steering(self, cone_sine: float | None = None) -> np.ndarray:
        """(J P,) post-Doppler steering ``Bᴴ a(s) ⊗ h`` of a bin-centred target (cached per cone sine;
        the look direction by default)."""
        key = self.look_cone_sine if cone_sine is None else float(cone_sine)
        if key not in self._steering_cache:
            a = spatial_steering(self.layout, key)[0]
            self._steering_cache[key] = np.kron(self.spatial_basis.conj().T @ a, self.doppler_response)
        return self._steering_cache[key]

    def snapshots(self, doppler_cube: np.ndarray, doppler_bin: int) -> np.ndarray:
        """(L, J N) snapshots of one Doppler bin from the (N, K, L) Doppler cube."""
        bins = (doppler_bin + self.offsets) % self.filter_bank.num_bins
        z = doppler_cube[:, bins, :]                                               # (N, J, L)
        return z.reshape(-1, z.shape[-1]).T

    def transform(self, doppler_bin: int) -> np.ndarray:
        """(N M, J P) matrix ``T = B ⊗ Fᴴ`` with snapshot ``z = Tᴴ x`` for the space-time snapshot ``x``
        (channel-major; ``F`` the (J, M) filter rows of the bins around ``doppler_bin``).

        Element-space weights of post-Doppler weights ``w`` are ``T w`` (output ``(T w)ᴴ x``).
        """
        rows = self.filter_bank.filter_matrix()[(doppler_bin + self.offsets) % self.filter_bank.num_bins]  # (J, M)
        return np.kron(self.spatial_basis, rows.conj().T)

    def weights_from_covariance(self, covariance: np.ndarray, cone_sine: float | None = None) -> np.ndarray:
        """(K, N M) element-space weights ``T_k R_k⁻¹ g`` from a known space-time covariance (tests).

        ``R_k = T_kᴴ R T_k + δ I`` is the exact post-Doppler covariance of Doppler bin ``k``.
        """
        g = self.steering(cone_sine)
        out = []
        for k in range(self.filter_bank.num_bins):
            t = self.transform(k)
            r = t.conj().T @ covariance @ t
            r[np.diag_indices_from(r)] += self.loading_w
            out.append(t @ mvdr_weights(0.5 * (r + r.conj().T), g))
        return np.array(out)

    def training_covariances(self, z_re: np.ndarray, z_im: np.ndarray) -> np.ndarray:
        """(K, B, D, D) loaded training covariances ``R̂ = Σ_train z zᴴ / K_t + δ I`` of every Doppler bin and
        range block, from (K, D, L) float32 snapshot parts (:func:`~sbamti.detection.stap_kernels.split_complex`).

        Gram sums are taken once per segment between consecutive training-plan bounds and accumulated
        along range, so each block's covariance is two differences of running sums.
        """
        running = running_grams(z_re, z_im, self._edges)                           # (K, E, D, D)
        return loaded_covariance(running, np.arange(running.shape[0])[:, None], self._bound_index[None],
                                 self.num_training, self.loading_w)

    def adaptive_weights(self, snapshots: np.ndarray, cone_sine: float | None = None) -> np.ndarray:
        """(B, D) unnormalised weights ``R̂_b⁻¹ g`` of every range block from one Doppler bin's (L, D) snapshots."""
        z_re, z_im = split_complex(np.asarray(snapshots).T[None])
        cov = self.training_covariances(z_re, z_im)[0]
        g = self.steering(cone_sine)
        return np.linalg.solve(cov, np.broadcast_to(g, cov.shape[:-1])[..., None])[..., 0]

    def all_snapshots(self, doppler_cube: np.ndarray) -> np.ndarray:
        """(K, D, L) snapshots of every Doppler bin (``[k] == snapshots(doppler_cube, k).T``)."""
        num_doppler = self.filter_bank.num_bins
        bins = (np.arange(num_doppler)[:, None] + self.offsets[None, :]) % num_doppler        # (K, J)
        z = doppler_cube[:, bins, :]                                                         # (P, K, J, L)
        return np.ascontiguousarray(z.transpose(1, 0, 2, 3)).reshape(num_doppler, -1, z.shape[-1])

    def spatial_stage(self, cube: np.ndarray) -> np.ndarray:
        """(N, M, L) cube → (P, M, L): the cube itself in element space, ``Bᴴ`` applied in beamspace."""
        if self.element_space:
            return cube
        n, m, l_bins = cube.shape
        basis_h = self.spatial_basis.conj().T.astype(cube.dtype if np.iscomplexobj(cube) else np.complex128)
        return (basis_h @ cube.reshape(n, m * l_bins)).reshape(-1, m, l_bins)

    def process(self, cube: np.ndarray, cone_sine: float | None = None, *, spatial_cube: np.ndarray | None = None
                ) -> StapResult:
        """Adaptive filtering of one CPI: output power map and what estimation downstream needs.

        ``spatial_cube`` (P, M, L), if given, is :meth:`spatial_stage` of the cube computed by the caller
        (who shares the beamforming with another stage); ``cube`` is then only checked for shape.
        """
        cube = np.asarray(cube)
        if cube.shape != self.layout.shape:
            raise ValueError(f"cube: expected shape {self.layout.shape} (layout), received {cube.shape}")
        if spatial_cube is None:
            spatial_cube = self.spatial_stage(cube)
        elif spatial_cube.shape != (self.spatial_dof, *cube.shape[1:]):
            raise ValueError(f"spatial_cube: expected shape {(self.spatial_dof, *cube.shape[1:])}, "
                             f"received {spatial_cube.shape}")
        z_re, z_im = gather_snapshots(self.filter_bank(spatial_cube), self.offsets)          # (K, D, L) parts
        running = running_grams(z_re, z_im, self._edges)                                   # (K, E, D, D)
        w = block_weights(running, self._bound_index, self.num_training, self.loading_w, self.steering(cone_sine),
                          self.noise_correlation, self.noise_power_w)                      # (K, B, D)
        power = apply_weights_power(z_re, z_im, w, self.block_starts)
        return StapResult(power, running, w, self._block_of_bin, self._bound_index, self.num_training,
                          self.loading_w)

    def __call__(self, cube: np.ndarray, cone_sine: float | None = None) -> np.ndarray:
        """(K, L) output power map (Doppler bin × range bin), unit mean power for noise only."""
        return self.process(cube, cone_sine).power
