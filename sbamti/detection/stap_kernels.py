"""Numba kernels of reduced-dimension STAP: training Gram sums per range segment and weight application.

For small degrees of freedom (beamspace / joint-domain localized, ``D`` about 9) a BLAS Gram per
range segment is a 9 × 50 × 9 product, all call overhead; these kernels loop over contiguous range
bins instead, with real and imaginary parts split so the compiler vectorises along range. Both take
snapshots laid out ``(K, D, L)`` (Doppler bin, degree of freedom, range bin) as separate float32
real and imaginary arrays, and accumulate in float64.

``_python`` twins (the same source, not compiled) are kept for the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def _running_grams_python(z_re, z_im, edges, out):
    """``out[k, e] = Σ_{l < edges[e]} z[k, :, l] z[k, :, l]ᴴ`` for ``e = 0 .. E - 1`` (``edges[0]`` = 0 gives zero).

    Each segment between consecutive edges is summed in float32 (segments are short), then added
    to the float64 running sum.
    """
    num_doppler, dof, _ = z_re.shape
    for k in range(num_doppler):
        for i in range(dof):
            for j in range(dof):
                out[k, 0, i, j] = 0.0
        for s in range(edges.size - 1):
            first, stop = edges[s], edges[s + 1]
            for i in range(dof):
                ar = z_re[k, i, first:stop]            # 1-D views: the reduction below vectorises
                ai = z_im[k, i, first:stop]
                for j in range(i, dof):
                    br = z_re[k, j, first:stop]
                    bi = z_im[k, j, first:stop]
                    acc_re = np.float32(0.0)
                    acc_im = np.float32(0.0)
                    for t in range(stop - first):
                        acc_re += ar[t] * br[t] + ai[t] * bi[t]
                        acc_im += ai[t] * br[t] - ar[t] * bi[t]
                    if i == j:
                        acc_im = np.float32(0.0)       # z zᴴ has a real diagonal (fused multiply-adds leave ~1e-9)
                    value = out[k, s, i, j] + complex(acc_re, acc_im)
                    out[k, s + 1, i, j] = value
                    out[k, s + 1, j, i] = value.conjugate()


def _apply_weights_python(z_re, z_im, w_re, w_im, block_starts, out_power):
    """``out_power[k, l] = |Σ_d conj(w[k, b, d]) z[k, d, l]|²`` with ``b`` the block of ``l``; block ``b``
    spans the bins ``block_starts[b] .. block_starts[b + 1] - 1`` (the last one to the end)."""
    num_doppler, dof, num_bins = z_re.shape
    num_blocks = block_starts.size
    acc_re = np.empty(num_bins, dtype=np.float32)
    acc_im = np.empty(num_bins, dtype=np.float32)
    for k in range(num_doppler):
        for b in range(num_blocks):
            first = block_starts[b]
            stop = block_starts[b + 1] if b + 1 < num_blocks else num_bins
            seg_re = acc_re[first:stop]
            seg_im = acc_im[first:stop]
            seg_re[:] = 0.0
            seg_im[:] = 0.0
            for d in range(dof):
                wr = np.float32(w_re[k, b, d])
                wi = np.float32(w_im[k, b, d])
                zr = z_re[k, d, first:stop]
                zi = z_im[k, d, first:stop]
                for t in range(stop - first):
                    seg_re[t] += wr * zr[t] + wi * zi[t]          # conj(w) z
                    seg_im[t] += wr * zi[t] - wi * zr[t]
        for l_bin in range(num_bins):
            out_power[k, l_bin] = np.float64(acc_re[l_bin]) ** 2 + np.float64(acc_im[l_bin]) ** 2


def _block_weights_python(running, bounds, num_training, loading, steering, noise_correlation, noise_power,
                          out_weights):
    """Per Doppler bin ``k`` and range block ``b``: ``R̂ = (G[i1] - G[i0] + G[i3] - G[i2]) / K_t + δ I`` from
    the running Gram sums, ``w = R̂⁻¹ g`` by Cholesky, scaled to unit output noise ``σ² wᴴ Q w = 1``."""
    num_doppler = running.shape[0]
    num_blocks = bounds.shape[0]
    dof = steering.size
    cov = np.empty((dof, dof), dtype=np.complex128)
    chol = np.zeros((dof, dof), dtype=np.complex128)
    y = np.empty(dof, dtype=np.complex128)
    w = np.empty(dof, dtype=np.complex128)
    for k in range(num_doppler):
        for b in range(num_blocks):
            i0, i1, i2, i3 = bounds[b, 0], bounds[b, 1], bounds[b, 2], bounds[b, 3]
            for i in range(dof):
                for j in range(dof):
                    cov[i, j] = (running[k, i1, i, j] - running[k, i0, i, j] + running[k, i3, i, j]
                                 - running[k, i2, i, j]) / num_training
                cov[i, i] += loading
            # Cholesky R = C Cᴴ (lower)
            for j in range(dof):
                diag = cov[j, j].real
                for p in range(j):
                    diag -= (chol[j, p] * chol[j, p].conjugate()).real
                root = np.sqrt(diag)
                chol[j, j] = root
                for i in range(j + 1, dof):
                    acc = cov[i, j]
                    for p in range(j):
                        acc -= chol[i, p] * chol[j, p].conjugate()
                    chol[i, j] = acc / root
            for i in range(dof):                      # C y = g
                acc = steering[i]
                for p in range(i):
                    acc -= chol[i, p] * y[p]
                y[i] = acc / chol[i, i].real
            for i in range(dof - 1, -1, -1):          # Cᴴ w = y
                acc = y[i]
                for p in range(i + 1, dof):
                    acc -= chol[p, i].conjugate() * w[p]
                w[i] = acc / chol[i, i].real
            gain = 0.0
            for i in range(dof):
                acc = 0j
                for j in range(dof):
                    acc += noise_correlation[i, j] * w[j]
                gain += (w[i].conjugate() * acc).real
            scale = 1.0 / np.sqrt(noise_power * gain)
            for i in range(dof):
                out_weights[k, b, i] = w[i] * scale


def _gather_snapshots_python(doppler_cube, offsets, out_re, out_im):
    """``out[k, p J + j, l] = Y[p, (k + offsets[j]) mod K, l]`` split into real and imaginary parts."""
    num_spatial, num_doppler, num_bins = doppler_cube.shape
    num_offsets = offsets.size
    for k in range(num_doppler):
        for p in range(num_spatial):
            for j in range(num_offsets):
                source = (k + offsets[j]) % num_doppler
                row = doppler_cube[p, source]
                d = p * num_offsets + j
                for l_bin in range(num_bins):
                    out_re[k, d, l_bin] = row[l_bin].real
                    out_im[k, d, l_bin] = row[l_bin].imag


_running_grams_numba = njit(cache=True, fastmath=True, nogil=True)(_running_grams_python)
_gather_snapshots_numba = njit(cache=True, nogil=True)(_gather_snapshots_python)
_block_weights_numba = njit(cache=True, fastmath=True, nogil=True)(_block_weights_python)
_apply_weights_numba = njit(cache=True, fastmath=True, nogil=True)(_apply_weights_python)


def split_complex(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Contiguous float32 real and imaginary parts of a complex array."""
    return np.ascontiguousarray(z.real, dtype=np.float32), np.ascontiguousarray(z.imag, dtype=np.float32)


def gather_snapshots(doppler_cube: np.ndarray, offsets: np.ndarray, *, compiled: bool = True
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(K, D, L) float32 real and imaginary parts of the post-Doppler snapshots of a (P, K, L) Doppler cube:
    ``z[k, p J + j, l] = Y[p, (k + offsets[j]) mod K, l]`` (circular in Doppler), ``D = P J``."""
    cube = np.ascontiguousarray(doppler_cube, dtype=np.complex64)
    num_spatial, num_doppler, num_bins = cube.shape
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    shape = (num_doppler, num_spatial * offsets.size, num_bins)
    out_re = np.empty(shape, dtype=np.float32)
    out_im = np.empty(shape, dtype=np.float32)
    (_gather_snapshots_numba if compiled else _gather_snapshots_python)(cube, offsets, out_re, out_im)
    return out_re, out_im


def running_grams(z_re: np.ndarray, z_im: np.ndarray, edges: np.ndarray, *, compiled: bool = True) -> np.ndarray:
    """(K, E, D, D) complex128 running Gram sums ``Σ_{l < edges[e]} z zᴴ`` at each of the E increasing ``edges``.

    ``z_re``, ``z_im``: (K, D, L) float32 parts of the snapshots; ``edges[0]`` must be 0. The Gram sum of
    the bins ``[edges[a], edges[b])`` is ``out[:, b] - out[:, a]``.
    """
    num_doppler, dof, num_bins = z_re.shape
    edges = np.ascontiguousarray(edges, dtype=np.int64)
    if edges.size < 1 or edges[0] != 0 or np.any(np.diff(edges) < 0) or edges[-1] > num_bins:
        raise ValueError(f"edges: expected increasing bin indices from 0 to at most {num_bins}, received {edges}")
    out = np.empty((num_doppler, edges.size, dof, dof), dtype=np.complex128)
    (_running_grams_numba if compiled else _running_grams_python)(z_re, z_im, edges, out)
    return out


def block_weights(running: np.ndarray, bound_index: np.ndarray, num_training: int, loading_w: float,
                  steering: np.ndarray, noise_correlation: np.ndarray, noise_power_w: float, *,
                  compiled: bool = True) -> np.ndarray:
    """(K, B, D) MVDR-direction weights ``R̂⁻¹ g`` of every Doppler bin and range block, scaled to unit output noise.

    ``running`` (K, E, D, D) from :func:`running_grams`; ``bound_index`` (B, 4) the edge indices of each
    block's two training intervals ``[i0, i1)`` and ``[i2, i3)``; ``noise_correlation`` ``Q`` with
    ``E[z zᴴ] = σ² Q`` for white noise.
    """
    out = np.empty((running.shape[0], bound_index.shape[0], steering.size), dtype=np.complex128)
    (_block_weights_numba if compiled else _block_weights_python)(
        running, np.ascontiguousarray(bound_index, dtype=np.int64), float(num_training), float(loading_w),
        np.ascontiguousarray(steering, dtype=np.complex128), np.ascontiguousarray(noise_correlation, dtype=np.complex128),
        float(noise_power_w), out)
    return out


def apply_weights_power(z_re: np.ndarray, z_im: np.ndarray, weights: np.ndarray, block_starts: np.ndarray, *,
                        compiled: bool = True) -> np.ndarray:
    """(K, L) output power ``|wᴴ z|²`` with the weights ``weights[k, b]`` ((K, B, D) complex) of the range
    block ``b`` of each bin; ``block_starts`` (B,) the first bin of each block (increasing, from 0)."""
    num_doppler, _, num_bins = z_re.shape
    starts = np.asarray(block_starts)
    if starts.ndim != 1 or starts.size != weights.shape[1] or starts[0] != 0 or np.any(np.diff(starts) <= 0) \
            or starts[-1] >= num_bins:
        raise ValueError(f"block_starts: expected {weights.shape[1]} increasing bins from 0 below {num_bins}, "
                         f"received {starts}")
    out = np.empty((num_doppler, num_bins))
    w_re = np.ascontiguousarray(weights.real, dtype=np.float64)
    w_im = np.ascontiguousarray(weights.imag, dtype=np.float64)
    (_apply_weights_numba if compiled else _apply_weights_python)(
        z_re, z_im, w_re, w_im, np.ascontiguousarray(block_starts, dtype=np.int64), out)
    return out
