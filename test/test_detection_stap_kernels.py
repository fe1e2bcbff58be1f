"""Numba STAP kernels against plain numpy (float64 references), and compiled against the pure-Python twins.

The kernels sum each range segment in float32 (the precision of the snapshots) and accumulate in
float64, so a segment of ``n`` bins carries a relative rounding error of order ``n ε₃₂ ≈ n · 6e-8``:
for the segments used here (<= ~30 bins) ``rtol = 1e-5`` (with an absolute floor at the same fraction
of the largest entry, for entries that nearly cancel) has a margin of ~5x while still catching any
wrong term (a missed bin, a conjugation or a sign error changes entries at the 1e-1 level).
"""

import numpy as np
import pytest

from sbamti.detection.stap_kernels import (
    apply_weights_power,
    block_weights,
    gather_snapshots,
    running_grams,
    split_complex,
)

RTOL = 1e-5


def _complex_normal(rng, shape, dtype=np.complex128):
    return ((rng.standard_normal(shape) + 1j * rng.standard_normal(shape)) / np.sqrt(2)).astype(dtype)


def _close(got, expected, rtol=RTOL):
    """Relative agreement with an absolute floor at ``rtol`` of the largest reference entry."""
    scale = float(np.max(np.abs(expected)))
    return np.allclose(got, expected, rtol=rtol, atol=rtol * scale)


def _numpy_running_grams(z, edges):
    """(K, E, D, D) ``Σ_{l < edges[e]} z[k, :, l] z[k, :, l]ᴴ`` by a float64 cumulative sum over range bins."""
    z = z.astype(np.complex128)
    outer = np.einsum("kil,kjl->klij", z, z.conj())                     # per-bin z zᴴ, (K, L, D, D)
    cumulative = np.concatenate([np.zeros_like(outer[:, :1]), np.cumsum(outer, axis=1)], axis=1)   # (K, L+1, D, D)
    return cumulative[:, edges]


# --- gather_snapshots ------------------------------------------------------------------------------

@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("offsets", [[-1, 0, 1], [-2, -1, 0, 1, 2], [0], [-7, 0, 9]])
def test_gather_snapshots_equals_numpy_fancy_indexing(compiled, offsets):
    rng = np.random.default_rng(101)
    num_spatial, num_doppler, num_bins = 3, 6, 5
    cube = _complex_normal(rng, (num_spatial, num_doppler, num_bins))
    offsets = np.asarray(offsets)
    num_offsets = offsets.size
    z_re, z_im = gather_snapshots(cube, offsets, compiled=compiled)
    assert z_re.shape == z_im.shape == (num_doppler, num_spatial * num_offsets, num_bins)
    assert z_re.dtype == z_im.dtype == np.float32
    # z[k, p J + j, l] = Y[p, (k + offsets[j]) mod K, l], by index arrays over (k, d, l)
    k, d, l_bin = np.meshgrid(np.arange(num_doppler), np.arange(num_spatial * num_offsets), np.arange(num_bins),
                              indexing="ij")
    p, j = d // num_offsets, d % num_offsets
    expected = cube.astype(np.complex64)[p, (k + offsets[j]) % num_doppler, l_bin]
    assert np.array_equal(z_re, expected.real) and np.array_equal(z_im, expected.imag)
    # a spot check written out by hand (offsets wrap circularly, also by more than K)
    j_last = num_offsets - 1
    source = (4 + offsets[j_last]) % num_doppler
    assert z_re[4, 2 * num_offsets + j_last, 3] == np.float32(cube[2, source, 3].real)
    assert z_im[4, 2 * num_offsets + j_last, 3] == np.float32(cube[2, source, 3].imag)


# --- running_grams -----------------------------------------------------------------------------------

def _random_edges(rng, num_bins, num_inner):
    inner = np.sort(rng.choice(np.arange(1, num_bins), size=num_inner, replace=False))
    return np.concatenate([[0], inner, [num_bins]])


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("seed", [0, 1])
def test_running_grams_equal_numpy_cumulative_sums(compiled, seed):
    rng = np.random.default_rng(200 + seed)
    num_doppler, dof, num_bins = 3, 5, 60
    z = _complex_normal(rng, (num_doppler, dof, num_bins), np.complex64)
    z_re, z_im = split_complex(z)
    edges = _random_edges(rng, num_bins, 4)
    if seed == 1:
        edges = np.sort(np.concatenate([edges, edges[2:3]]))                  # a repeated edge: empty segment
        edges = edges[edges < num_bins - 7]                                  # and the last edge short of L
    got = running_grams(z_re, z_im, edges, compiled=compiled)
    assert got.shape == (num_doppler, edges.size, dof, dof) and got.dtype == np.complex128
    expected = _numpy_running_grams(z, edges)
    assert _close(got, expected)
    assert np.all(got[:, 0] == 0)                                            # edges[0] = 0: empty sum
    # Hermitian: the kernel fills the lower triangle by conjugation, so off the diagonal exactly
    off_diagonal = ~np.eye(dof, dtype=bool)
    assert np.array_equal(got[..., off_diagonal], np.conj(np.swapaxes(got, -1, -2))[..., off_diagonal])
    # a real, positive diagonal; compiled with fastmath, Im(z_i conj(z_i)) = z_i'' z_i' - z_i' z_i'' is
    # contracted to a fused multiply-add and leaves a rounding residue (~1e-9 relative), not exactly 0
    diagonal = np.diagonal(got[:, 1:], axis1=-2, axis2=-1)
    assert np.all(diagonal.real > 0)
    assert np.all(np.abs(diagonal.imag) <= 1e-7 * diagonal.real)
    if not compiled:
        assert np.all(diagonal.imag == 0)
    # differences of running sums are the Gram sums of the bins in between
    for a, b in [(0, edges.size - 1), (1, 3), (2, edges.size - 1)]:
        segment = z[:, :, edges[a]:edges[b]].astype(np.complex128)
        gram = segment @ np.conj(np.swapaxes(segment, -1, -2))
        assert _close(got[:, b] - got[:, a], gram)


def test_running_grams_conjugation_order():
    """One snapshot ``z = (1, j)``: ``z zᴴ = [[1, -j], [j, 1]]`` (entry (0, 1) is ``z_0 conj(z_1)``)."""
    z = np.array([[[1.0], [1.0j]]], dtype=np.complex64)                     # (K=1, D=2, L=1)
    got = running_grams(*split_complex(z), np.array([0, 1]))
    assert np.array_equal(got[0, 1], np.array([[1, -1j], [1j, 1]]))


@pytest.mark.parametrize("edges", [[1, 5], [0, 6, 4], [0, 4, 11], [], [2]])
def test_running_grams_rejects_bad_edges(edges):
    z_re, z_im = split_complex(_complex_normal(np.random.default_rng(3), (2, 3, 10), np.complex64))
    with pytest.raises(ValueError, match="edges"):
        running_grams(z_re, z_im, np.asarray(edges, dtype=np.int64))


# --- block_weights -------------------------------------------------------------------------------

def _block_weights_case(seed):
    """Running Gram sums by numpy (not by the kernel), a training plan and a noise correlation."""
    rng = np.random.default_rng(seed)
    num_doppler, dof, num_bins = 4, 6, 50
    z = _complex_normal(rng, (num_doppler, dof, num_bins)) * (1.0 + 3.0 * rng.random((1, dof, 1)))
    z[:, 1] += 0.8 * z[:, 0]                                                   # correlated DOFs, complex R
    edges = np.array([0, 5, 12, 20, 26, 33, 41, 50])
    running = _numpy_running_grams(z, edges)
    # block b trains on the bins [edges[i0], edges[i1]) and [edges[i2], edges[i3])
    bounds = np.array([[0, 0, 3, 5],          # (empty) + 20..32: 13 bins, one-sided
                       [0, 2, 4, 5],          # 0..11 + 26..32: 19
                       [1, 3, 5, 6],          # 5..19 + 33..40: 23
                       [2, 3, 6, 7]])         # 12..19 + 41..49: 17
    counts = (edges[bounds[:, 1]] - edges[bounds[:, 0]]) + (edges[bounds[:, 3]] - edges[bounds[:, 2]])
    assert counts.tolist() == [13, 19, 23, 17]
    steering = _complex_normal(rng, dof)
    a = _complex_normal(rng, (dof, dof))
    noise_correlation = a @ a.conj().T / dof + np.eye(dof)                     # Hermitian positive definite
    return running, bounds, counts, steering, noise_correlation


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("loading", [0.0, 0.3])
def test_block_weights_equal_numpy_solve_scaled_to_unit_output_noise(compiled, loading):
    running, bounds, counts, steering, noise_correlation = _block_weights_case(31)
    noise_power = 2.5
    # the blocks above have different training counts: run each on its own with its count
    for b in range(bounds.shape[0]):
        num_training = int(counts[b])
        got = block_weights(running, bounds[b:b + 1], num_training, loading, steering, noise_correlation,
                            noise_power, compiled=compiled)                     # (K, 1, D)
        assert got.shape == (running.shape[0], 1, steering.size)
        i0, i1, i2, i3 = bounds[b]
        for k in range(running.shape[0]):
            cov = (running[k, i1] - running[k, i0] + running[k, i3] - running[k, i2]) / num_training
            cov = cov + loading * np.eye(steering.size)
            w = np.linalg.solve(cov, steering)
            w = w / np.sqrt(noise_power * np.real(w.conj() @ noise_correlation @ w))
            assert np.allclose(got[k, 0], w, rtol=1e-9, atol=1e-12 * np.abs(w).max())
            # the scaling identity σ² wᴴ Q w = 1 and the direction R̂ w ∝ g (positive real factor)
            out = got[k, 0]
            assert noise_power * np.real(out.conj() @ noise_correlation @ out) == pytest.approx(1.0, rel=1e-10)
            ratio = (cov @ out) / steering
            assert np.allclose(ratio, ratio[0].real, rtol=1e-9) and ratio[0].real > 0


def test_block_weights_all_blocks_at_once_with_a_common_count():
    rng = np.random.default_rng(5)
    num_doppler, dof, num_bins = 2, 4, 40
    z = _complex_normal(rng, (num_doppler, dof, num_bins))
    edges = np.array([0, 8, 16, 24, 32, 40])
    running = _numpy_running_grams(z, edges)
    bounds = np.array([[0, 0, 2, 4],          # (empty) + 16..31: one-sided at the start of the swath
                       [0, 1, 3, 4],          # 0..7 + 24..31
                       [1, 2, 4, 5],          # 8..15 + 32..39
                       [1, 1, 3, 5]])         # (empty) + 24..39: one-sided at the end
    num_training = 16
    steering = np.exp(1j * np.arange(dof))
    q = np.eye(dof)
    got = block_weights(running, bounds, num_training, 0.1, steering, q, 1.0)
    for b, (i0, i1, i2, i3) in enumerate(bounds):
        for k in range(num_doppler):
            cov = (running[k, i1] - running[k, i0] + running[k, i3] - running[k, i2]) / num_training + 0.1 * q
            w = np.linalg.solve(cov, steering)
            assert np.allclose(got[k, b], w / np.linalg.norm(w), rtol=1e-9)


# --- apply_weights_power ----------------------------------------------------------------------------

@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("block_starts", [[0, 4, 8], [0, 3, 7, 10], [0]])
def test_apply_weights_power_equals_numpy_per_block(compiled, block_starts):
    rng = np.random.default_rng(41)
    num_doppler, dof, num_bins = 3, 5, 11                                      # [0, 4, 8]: last block 3 bins
    z = _complex_normal(rng, (num_doppler, dof, num_bins), np.complex64)
    block_starts = np.asarray(block_starts)
    weights = _complex_normal(rng, (num_doppler, block_starts.size, dof))
    got = apply_weights_power(*split_complex(z), weights, block_starts, compiled=compiled)
    assert got.shape == (num_doppler, num_bins)
    block = np.searchsorted(block_starts, np.arange(num_bins), side="right") - 1          # (L,)
    per_bin_weights = weights[:, block, :]                                               # (K, L, D)
    expected = np.abs(np.einsum("kld,kdl->kl", per_bin_weights.conj(), z.astype(np.complex128))) ** 2
    assert _close(got, expected)
    # the (wrong) unconjugated product differs: the test can tell w^H z from w^T z
    wrong = np.abs(np.einsum("kld,kdl->kl", per_bin_weights, z.astype(np.complex128))) ** 2
    assert not _close(got, wrong, rtol=1e-2)


# --- compiled against the Python twins -----------------------------------------------------------------

def test_compiled_kernels_agree_with_their_python_twins():
    rng = np.random.default_rng(77)
    cube = _complex_normal(rng, (2, 5, 23))
    offsets = np.array([-1, 0, 1])
    parts = gather_snapshots(cube, offsets)
    parts_py = gather_snapshots(cube, offsets, compiled=False)
    assert np.array_equal(parts[0], parts_py[0]) and np.array_equal(parts[1], parts_py[1])

    edges = np.array([0, 3, 9, 9, 17, 23])
    running = running_grams(*parts, edges)
    running_py = running_grams(*parts, edges, compiled=False)
    assert _close(running, running_py)                                         # fastmath may reorder the sums

    bounds = np.array([[0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 4, 5]])       # 11, 12 and 15 bins; loaded
    steering = _complex_normal(rng, 6)
    q = np.eye(6) + 0.2 * np.eye(6, k=1) + 0.2 * np.eye(6, k=-1)
    w = block_weights(running, bounds, 12, 0.5, steering, q, 1.5)
    w_py = block_weights(running, bounds, 12, 0.5, steering, q, 1.5, compiled=False)
    assert np.allclose(w, w_py, rtol=1e-10, atol=1e-12)

    starts = np.array([0, 10, 20])
    power = apply_weights_power(*parts, w, starts)
    power_py = apply_weights_power(*parts, w, starts, compiled=False)
    assert _close(power, power_py)
