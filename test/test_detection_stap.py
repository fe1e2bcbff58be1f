"""Doppler filter bank and STAP against theory: RMB convergence, optimum SINR, edge training, end to end."""

import dataclasses

import numpy as np
import pytest

from sbamti.detection.doppler import DopplerFilterBank
from sbamti.detection.stap import (
    FullDofSmiStap,
    PostDopplerStap,
    mvdr_weights,
    sinr_of_weights,
    smi_weights,
    training_cells,
)
from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import OMEGA_EARTH_RAD_S, geodetic_to_ecef
from sbamti.radar.clutter import (
    add_clutter,
    clutter_covariance,
    clutter_patches,
    side_looking_axes,
    sinr_loss,
    space_time_steering,
)
from sbamti.radar.clutter_loss import EARTH_GM_M3_S2
from sbamti.radar.config import RadarConfig
from sbamti.radar.geometry import off_nadir_angle_rad
from sbamti.radar.iq import CubeLayout, add_point_targets, thermal_noise

HALF_DB = 0.5
RMB_TOLERANCE_DB = 0.3


def small_case(num_channels=8, num_pulses=16, num_range_bins=3, slant_range_m=1500e3):
    """Side-looking, no-rotation reference geometry (as ``clutter_loss.ClutterLossTable``), small array."""
    config = RadarConfig(num_channels=num_channels, pulses_per_cpi=num_pulses)
    prf = config.prf_set_hz[0]
    sat = geodetic_to_ecef(0.0, 0.0, 800e3)
    radius = float(np.linalg.norm(sat))
    inertial = np.array([0.0, 0.0, np.sqrt(EARTH_GM_M3_S2 / radius)])
    velocity = inertial - OMEGA_EARTH_RAD_S * np.array([-sat[1], sat[0], 0.0])
    axes = side_looking_axes(sat, inertial, float(off_nadir_angle_rad(slant_range_m, radius)))
    bin_m = 299_792_458.0 / (2.0 * config.sample_rate_hz)
    layout = CubeLayout(channel_x_m=config.channel_positions_antenna_m[:, 0], num_pulses=num_pulses,
                        num_range_bins=num_range_bins, prf_hz=prf, wavelength_m=config.wavelength_m,
                        sample_rate_hz=config.sample_rate_hz,
                        range_first_bin_m=slant_range_m - bin_m * (num_range_bins // 2))
    patches = clutter_patches(config, layout, sat, velocity, axes, ambiguities=0, earth_rotation=False)
    return config, layout, patches


@pytest.fixture(scope="module")
def case_8x8():
    return small_case(8, 8)


@pytest.fixture(scope="module")
def case_8x16():
    return small_case(8, 16)


# --- Doppler filter bank ---------------------------------------------------------------------

def test_filter_bank_equals_direct_dft():
    rng = np.random.default_rng(1)
    bank = DopplerFilterBank(12, window="taylor", sidelobe_db=40.0, fft_size=16)
    cube = (rng.standard_normal((3, 12, 5)) + 1j * rng.standard_normal((3, 12, 5))).astype(np.complex128)
    direct = np.einsum("km,nml->nkl", bank.filter_matrix(), cube)
    assert np.allclose(bank(cube), direct, atol=1e-10)


@pytest.mark.parametrize("window", ["chebyshev", "taylor", "hann", "rectangular"])
def test_tone_at_bin_centre_has_the_coherent_gain_and_noise_power_is_kept(window):
    layout = CubeLayout(channel_x_m=np.array([0.0, 1.0]), num_pulses=32, num_range_bins=8, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    bank = DopplerFilterBank(32, window=window, sidelobe_db=60.0)
    velocities = bank.radial_velocity_mps(layout.prf_hz, layout.wavelength_m)
    k = 5
    cube = np.zeros(layout.shape, dtype=np.complex64)
    target_range = layout.range_first_bin_m + 3 * layout.range_bin_m
    add_point_targets(cube, layout, [target_range], [velocities[k]], [0.0], [1.0])
    out = bank(cube)
    power = np.abs(out[0, :, 3]) ** 2
    assert int(np.argmax(power)) == k
    expected = np.sum(bank.window) ** 2
    assert power[k] == pytest.approx(expected, rel=1e-4)
    assert bank.coherent_power_gain == pytest.approx(expected)
    if window == "rectangular":
        assert expected == pytest.approx(32.0)
    # white noise: power per bin unchanged (Σ w² = 1); 2*8*32 bins x 200 cubes -> ~0.2 % standard error
    rng = np.random.default_rng(7)
    noise = thermal_noise((200, 32, 8), 2.0, rng)
    noise_out = bank(noise)
    assert np.mean(np.abs(noise_out) ** 2) == pytest.approx(2.0, rel=0.02)
    per_bin = np.mean(np.abs(noise_out) ** 2, axis=(0, 2))
    assert np.all(np.abs(per_bin / 2.0 - 1.0) < 0.1)


def test_velocity_mapping_follows_the_sign_convention():
    layout = CubeLayout(channel_x_m=np.array([0.0]), num_pulses=32, num_range_bins=4, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    bank = DopplerFilterBank(32, fft_size=64)
    f = bank.doppler_bins_hz(layout.prf_hz)
    v = bank.radial_velocity_mps(layout.prf_hz, layout.wavelength_m)
    assert f[32] == 0.0 and f[33] == pytest.approx(7500.0 / 64)
    assert np.allclose(v, -f * 0.03 / 2)
    for speed in (+20.0, -20.0):    # opening target -> negative Doppler -> bin below zero Doppler
        cube = np.zeros(layout.shape, dtype=np.complex64)
        add_point_targets(cube, layout, [layout.range_first_bin_m + layout.range_bin_m], [speed], [0.0], [1.0])
        peak = int(np.argmax(np.abs(bank(cube)[0, :, 1])))
        assert abs(v[peak] - speed) <= 0.5 * abs(v[1] - v[0]) + 1e-9
        assert (peak < 32) == (speed > 0)


def test_bad_filter_bank_configuration_is_rejected():
    with pytest.raises(ConfigurationError, match="window"):
        DopplerFilterBank(8, window="kaiser")
    with pytest.raises(ConfigurationError, match="fft_size"):
        DopplerFilterBank(8, fft_size=4)


# --- training cells ----------------------------------------------------------------------------

def test_training_cells_in_the_middle():
    cells = training_cells(100, 50, 8, 2)
    assert cells.tolist() == [44, 45, 46, 47, 53, 54, 55, 56]


@pytest.mark.parametrize("cut", [0, 1, 3, 5, 50, 94, 97, 99])
def test_training_cells_keep_the_full_count_and_exclude_cut_and_guards(cut):
    num, guard, bins = 10, 3, 100
    cells = training_cells(bins, cut, num, guard)
    assert cells.size == num and np.unique(cells).size == num
    assert cells.min() >= 0 and cells.max() < bins
    assert np.all(np.abs(cells - cut) > guard)
    # contiguous on each side, adjacent to the guards (slides inward at the edges)
    left, right = cells[cells < cut], cells[cells > cut]
    if left.size:
        assert left.max() == cut - guard - 1 and np.all(np.diff(left) == 1)
    if right.size:
        assert right.min() == cut + guard + 1 and np.all(np.diff(right) == 1)


def test_training_cells_at_the_edges_slide_inward():
    assert training_cells(100, 0, 6, 1).tolist() == [2, 3, 4, 5, 6, 7]
    assert training_cells(100, 2, 6, 1).tolist() == [0, 4, 5, 6, 7, 8]
    assert training_cells(100, 99, 6, 1).tolist() == [92, 93, 94, 95, 96, 97]
    with pytest.raises(ConfigurationError, match="range bins"):
        training_cells(10, 5, 8, 1)


def test_post_doppler_training_plan_matches_training_cells():
    layout = CubeLayout(channel_x_m=np.arange(2.0), num_pulses=4, num_range_bins=30, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    stap = PostDopplerStap(layout, adjacent_bins=1, num_training=8, num_guard=2, noise_power_w=1.0)
    for cut, (a0, a1, b0, b1) in enumerate(stap._plan):
        cells = np.concatenate([np.arange(a0, a1), np.arange(b0, b1)])
        assert cells.tolist() == training_cells(30, cut, 8, 2).tolist()


# --- SMI weights: Reed-Mallett-Brennan ------------------------------------------------------------

def rmb_mean_loss_db(covariance, steering, num_snapshots, trials, rng):
    d = covariance.shape[0]
    chol = np.linalg.cholesky(covariance)
    optimum = sinr_of_weights(mvdr_weights(covariance, steering), covariance, steering, 1.0)
    ratios = []
    for _ in range(trials):
        white = (rng.standard_normal((d, num_snapshots)) + 1j * rng.standard_normal((d, num_snapshots))) / np.sqrt(2)
        snapshots = (chol @ white).T
        w = smi_weights(snapshots, steering, 0.0)
        ratios.append(sinr_of_weights(w, covariance, steering, 1.0) / optimum)
    return 10 * np.log10(np.mean(ratios))


@pytest.mark.parametrize("factor, trials", [(2, 120), (5, 60)])
def test_smi_convergence_follows_reed_mallett_brennan(case_8x8, factor, trials):
    config, layout, patches = case_8x8
    covariance = clutter_covariance(layout, patches, 1, config.noise_power_w) / config.noise_power_w
    # The symmetric side-looking ridge gives a real R; shift the clutter by 3 m/s (as a crab would) so
    # that R is complex and a conjugation error in the estimate would show.
    shift = space_time_steering(layout, 0.0, 3.0)[0]
    covariance = shift[:, None] * covariance * shift.conj()[None, :]
    assert np.abs(covariance.imag).max() > 0.1 * np.abs(covariance).max()
    d = covariance.shape[0]
    steering = space_time_steering(layout, 0.0, 25.0)[0]
    k = factor * d
    theory_db = 10 * np.log10((k + 2 - d) / (k + 1))     # -2.91 dB at K = 2D, -0.95 dB at K = 5D
    measured = rmb_mean_loss_db(covariance, steering, k, trials, np.random.default_rng(factor))
    assert measured == pytest.approx(theory_db, abs=RMB_TOLERANCE_DB)
    if factor == 2:
        assert measured == pytest.approx(-3.0, abs=RMB_TOLERANCE_DB)
    else:
        assert measured == pytest.approx(-1.0, abs=RMB_TOLERANCE_DB)


def test_optimum_weights_reach_the_clutter_module_sinr(case_8x8):
    config, layout, patches = case_8x8
    cov = clutter_covariance(layout, patches, 1, config.noise_power_w)
    v = space_time_steering(layout, 0.0, [3.0, 25.0])
    w = mvdr_weights(cov, v)
    assert np.allclose(np.sum(w.conj() * v, axis=1), 1.0)
    ours = sinr_of_weights(w, cov, v, config.noise_power_w)
    reference = sinr_loss(cov, config.noise_power_w, 0.0, np.array([3.0, 25.0]), layout)
    assert np.allclose(ours, reference, rtol=1e-8)
    # quiescent (matched filter) weights are worse by the clutter
    assert np.all(sinr_of_weights(v, cov, v, config.noise_power_w) < ours)


def test_full_dof_smi_recovers_a_target_amplitude():
    layout = CubeLayout(channel_x_m=np.arange(4.0), num_pulses=4, num_range_bins=60, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    rng = np.random.default_rng(3)
    cube = thermal_noise(layout.shape, 1.0, rng).astype(np.complex128)
    stap = FullDofSmiStap(layout, num_training=48, num_guard=2, diagonal_loading_db=0.0, noise_power_w=1.0)
    cube[:, :, 30] += 5.0 * space_time_steering(layout, 0.1, 10.0)[0].reshape(4, 4)
    out = stap(cube, 30, [0.1, 0.1], [10.0, -40.0])
    assert abs(out[0] - 5.0) < 1.0        # unit gain: amplitude estimate, noise std ~ 1/sqrt(16)
    assert abs(out[1]) < 1.5


# --- post-Doppler STAP --------------------------------------------------------------------------

def _sinr_against_optimum(stap, layout, cov, sigma2):
    """SINR loss (dB) of ``stap``'s known-covariance weights and of the optimum, for a target at each
    Doppler bin centre in the look direction; the steering vectors, each bin's velocity offset from the
    clutter (at v_r = 0, modulo the blind speed), and the bins away from the notch (offset beyond twice
    the optimum's -5 dB minimum detectable velocity)."""
    velocities = stap.filter_bank.radial_velocity_mps(layout.prf_hz, layout.wavelength_m)
    steering = space_time_steering(layout, 0.0, velocities)                  # target at each bin centre
    ours_db = 10 * np.log10(sinr_of_weights(stap.weights_from_covariance(cov), cov, steering, sigma2))
    optimum_db = 10 * np.log10(sinr_loss(cov, sigma2, 0.0, velocities, layout))
    fine = np.linspace(0.0, layout.wavelength_m * layout.prf_hz / 4, 400)
    fine_loss = 10 * np.log10(sinr_loss(cov, sigma2, 0.0, fine, layout))
    mdv = fine[np.argmax(fine_loss >= -5.0)]                                # -5 dB MDV of the optimum
    blind = layout.wavelength_m * layout.prf_hz / 2
    offset = np.abs((velocities + blind / 2) % blind - blind / 2)
    return ours_db, optimum_db, steering, offset, offset > 2 * mdv


def test_adjacent_bin_post_doppler_is_near_optimum_away_from_the_notch(case_8x16):
    config, layout, patches = case_8x16
    sigma2 = config.noise_power_w
    cov = clutter_covariance(layout, patches, 1, sigma2)
    swath = dataclasses.replace(layout, num_range_bins=100)    # training plan unused with a known covariance
    stap = PostDopplerStap(swath, adjacent_bins=3, num_training=48, num_guard=0, diagonal_loading_db=None,
                           noise_power_w=sigma2, sidelobe_db=60.0)
    ours_db, optimum_db, steering, offset, away = _sinr_against_optimum(stap, layout, cov, sigma2)
    assert away.sum() >= 8
    assert np.all(ours_db[away] <= optimum_db[away] + 1e-6)
    assert np.all(ours_db[away] > optimum_db[away] - 3.0)
    zero = int(np.argmin(offset))
    assert ours_db[zero] < -20.0 and optimum_db[zero] < -20.0
    # factored (1 bin) is worse than adjacent-bin somewhere near the notch, never better
    factored = PostDopplerStap(swath, adjacent_bins=1, num_training=24, num_guard=0, diagonal_loading_db=None,
                               noise_power_w=sigma2, sidelobe_db=60.0)
    f_db = 10 * np.log10(sinr_of_weights(factored.weights_from_covariance(cov), cov, steering, sigma2))
    assert np.all(f_db <= optimum_db + 1e-6)
    assert np.all(f_db <= ours_db + 1e-6) and np.any(ours_db - f_db > 5.0)   # adjacent bins narrow the notch


def test_noise_only_output_has_unit_mean_power():
    layout = CubeLayout(channel_x_m=np.arange(4.0), num_pulses=8, num_range_bins=200, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    rng = np.random.default_rng(11)
    cube = thermal_noise(layout.shape, 3.0, rng)
    stap = PostDopplerStap(layout, adjacent_bins=3, num_training=48, num_guard=2, diagonal_loading_db=0.0,
                           noise_power_w=3.0)
    power = stap(cube)
    assert power.shape == (8, 200)
    # SMI with K = 4D (+ loading) loses ~1 dB; the output noise is still unit power by construction
    assert np.mean(power) == pytest.approx(1.0, rel=0.06)
    blocked = PostDopplerStap(layout, adjacent_bins=3, num_training=48, num_guard=2, diagonal_loading_db=0.0,
                              noise_power_w=3.0, range_block=10)
    assert np.mean(blocked(cube)) == pytest.approx(1.0, rel=0.06)


def test_end_to_end_target_peaks_above_suppressed_clutter():
    config, layout, patches = small_case(8, 16, 96)
    rng = np.random.default_rng(5)
    sigma2 = config.noise_power_w
    cube = thermal_noise(layout.shape, sigma2, rng)
    add_clutter(cube, layout, patches, rng)
    stap = PostDopplerStap(layout, adjacent_bins=3, num_training=48, num_guard=2, diagonal_loading_db=0.0,
                           noise_power_w=sigma2)
    velocities = stap.filter_bank.radial_velocity_mps(layout.prf_hz, layout.wavelength_m)
    target_bin, target_doppler = 40, 4                                        # v ~ +28 m/s
    target_range = layout.range_first_bin_m + target_bin * layout.range_bin_m
    snr_per_sample = 1.0                                                      # 0 dB per channel per pulse
    add_point_targets(cube, layout, [target_range], [velocities[target_doppler]], [0.0],
                      [np.sqrt(snr_per_sample * sigma2)])
    cnr_db = 10 * np.log10(np.sum(patches.power_w[patches.in_bin(40)]) / sigma2)
    assert cnr_db > 5.0                                                       # clutter dominates each sample
    power = stap(cube)
    # The zero-Doppler bin (mainbeam clutter in the look direction) keeps a residual that no weight
    # can cancel without cancelling the look direction too: a blind zone, searched outside it.
    outside_notch = np.abs(velocities) > 10.0                                 # beyond the mainbeam clutter notch
    searched = np.where(outside_notch[:, None], power, 0.0)
    peak = np.unravel_index(np.argmax(searched), power.shape)
    assert peak == (target_doppler, target_bin)
    background = np.delete(power, target_bin, axis=1)
    assert 10 * np.log10(power[peak] / np.median(background)) > 15.0
    # clutter suppressed to about the noise floor (unit mean; SMI at K = 2D leaves ~1 dB of residual)
    assert np.mean(background[outside_notch]) < 1.5
    assert 10 * np.log10(power[peak] / background[outside_notch].max()) > 6.0


@pytest.mark.parametrize("range_block", [1, 7])
def test_running_sum_training_equals_direct_smi_on_the_training_cells(range_block):
    layout = CubeLayout(channel_x_m=np.arange(3.0), num_pulses=8, num_range_bins=40, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    rng = np.random.default_rng(21)
    cube = thermal_noise(layout.shape, 1.0, rng)
    stap = PostDopplerStap(layout, adjacent_bins=3, num_training=20, num_guard=1, diagonal_loading_db=-3.0,
                           noise_power_w=1.0, range_block=range_block)
    z = stap.snapshots(stap.filter_bank(cube), 2)                              # (L, 9)
    weights = stap.adaptive_weights(z, 0.05)
    g = stap.steering(0.05)
    for block, first in enumerate(stap.block_starts):
        last = min(first + range_block, 40) - 1
        # direct: the training bins of the block, guards beyond both of its ends
        cells = [c for c in training_cells(40 + 0, first, 20, 1) if c < first or c > last] if range_block == 1 \
            else None
        if cells is None:
            a0, a1, b0, b1 = stap._plan[block]
            cells = list(range(a0, a1)) + list(range(b0, b1))
            assert len(cells) == 20 and all(abs(c - first) > 1 and abs(c - last) > 1 or c < first - 1 or c > last + 1
                                            for c in cells)
            assert not any(first - 1 <= c <= last + 1 for c in cells)
        expected = smi_weights(z[np.asarray(cells)], g, 10 ** (-0.3))
        got = weights[block] / np.vdot(g, weights[block]).conj()
        # the kernel sums each segment in float32 (the cube's precision): agreement to ~1e-6
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-7)


def test_all_snapshots_gather_the_adjacent_bins_circularly():
    layout = CubeLayout(channel_x_m=np.arange(3.0), num_pulses=8, num_range_bins=40, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    cube = thermal_noise(layout.shape, 1.0, np.random.default_rng(4))
    stap = PostDopplerStap(layout, adjacent_bins=3, num_training=20, num_guard=1, noise_power_w=1.0)
    doppler = stap.filter_bank(cube)
    z = stap.all_snapshots(doppler)
    for k in range(8):
        assert np.array_equal(z[k], stap.snapshots(doppler, k).T)
    # snapshot index n J + j holds channel n, Doppler bin k + j - 1 (mod K)
    assert z[0, 1 * 3 + 0, 5] == doppler[1, 7, 5] and z[7, 2 * 3 + 2, 5] == doppler[2, 0, 5]


def test_full_dof_smi_estimates_a_target_amplitude_in_clutter():
    config, layout, patches = small_case(4, 8, 80)
    rng = np.random.default_rng(8)
    sigma2 = config.noise_power_w
    cube = thermal_noise(layout.shape, sigma2, rng)
    add_clutter(cube, layout, patches, rng)
    amplitude = 2.0 * np.sqrt(sigma2) * np.exp(0.7j)                           # 6 dB per sample, 21 dB after 32
    target_range = layout.range_first_bin_m + 40 * layout.range_bin_m
    add_point_targets(cube, layout, [target_range], [30.0], [0.0], [amplitude])
    stap = FullDofSmiStap(layout, num_training=64, num_guard=2, diagonal_loading_db=0.0, noise_power_w=sigma2)
    carrier = np.exp(-4j * np.pi * target_range / layout.wavelength_m)        # two-way range phase of the target
    out = stap(cube, 40, 0.0, [30.0, -30.0])
    assert abs(out[0] / carrier - amplitude) < 0.3 * abs(amplitude)
    assert abs(out[1]) < 0.3 * abs(amplitude)
    clutter_only = stap(cube, 20, 0.0, 30.0)
    assert abs(clutter_only[0]) < 0.3 * abs(amplitude)


# --- beamspace / joint-domain localized (JDL) post-Doppler ---------------------------------------------

def test_jdl_post_doppler_is_near_optimum_away_from_the_notch():
    """3 beams × 3 Doppler bins (D = 9 instead of N M = 512) on the 16-channel, 32-pulse geometry."""
    config, layout, patches = small_case(16, 32)
    sigma2 = config.noise_power_w
    cov = clutter_covariance(layout, patches, 1, sigma2)
    swath = dataclasses.replace(layout, num_range_bins=100)    # training plan unused with a known covariance
    common = {"num_training": 48, "num_guard": 0, "diagonal_loading_db": None, "noise_power_w": sigma2,
              "sidelobe_db": 60.0}
    jdl = PostDopplerStap(swath, adjacent_bins=3, spatial_beams=3, **common)
    assert jdl.dof == 9
    ours_db, optimum_db, steering, offset, away = _sinr_against_optimum(jdl, layout, cov, sigma2)
    assert away.sum() >= 16
    assert np.all(ours_db <= optimum_db + 1e-6)                              # a subspace of the optimum
    assert np.all(ours_db[away] > optimum_db[away] - 3.0)
    zero = int(np.argmin(offset))
    assert ours_db[zero] < -20.0 and optimum_db[zero] < -20.0
    # JDL weights lie in the span of the element-space adjacent-bin weights (B ⊗ Fᴴ ⊂ I ⊗ Fᴴ): never better
    element = PostDopplerStap(swath, adjacent_bins=3, **common)
    element_db = 10 * np.log10(sinr_of_weights(element.weights_from_covariance(cov), cov, steering, sigma2))
    assert np.all(ours_db <= element_db + 1e-6)


@pytest.mark.parametrize("spatial_beams", [3, 5])
@pytest.mark.parametrize("range_block", [1, 10])
def test_beamspace_noise_only_output_has_unit_mean_power(spatial_beams, range_block):
    layout = CubeLayout(channel_x_m=0.015 * np.arange(8.0), num_pulses=8, num_range_bins=1000, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    cube = thermal_noise(layout.shape, 3.0, np.random.default_rng(12 + spatial_beams + range_block))
    stap = PostDopplerStap(layout, adjacent_bins=3, spatial_beams=spatial_beams, look_cone_sine=0.2,
                           num_training=48, num_guard=2, diagonal_loading_db=0.0, noise_power_w=3.0,
                           range_block=range_block)
    assert stap.dof == 3 * spatial_beams
    power = stap(cube)
    assert power.shape == (8, 1000)
    # unit mean by construction (weights trained off the CUT, scaled by the true σ² wᴴ Q w); 8000 cells of
    # ~exponential power, correlated across adjacent Doppler bins: ~1.8 % standard error (measured over seeds)
    assert np.mean(power) == pytest.approx(1.0, rel=0.06)


def _beamspace_noise_correlation(stap, layout, spatial_beams, look):
    """``Q`` with ``E[z zᴴ] = σ² Q`` for white noise, built by hand: ``(Bᴴ B) ⊗ (F_J F_Jᴴ)``."""
    x = np.asarray(layout.channel_x_m)
    n = x.size
    sines = look + (np.arange(spatial_beams) - spatial_beams // 2) * layout.wavelength_m / (n * (x[1] - x[0]))
    basis = np.exp(2j * np.pi * np.outer(x, sines) / layout.wavelength_m) / np.sqrt(n)          # (N, P)
    k = stap.filter_bank.num_bins
    rows = stap.filter_bank.filter_matrix()[np.arange(-1, 2) % k]                               # (J, M)
    return np.kron(basis.conj().T @ basis, rows @ rows.conj().T)


@pytest.mark.parametrize("range_block", [1, 7])
def test_beamspace_result_covariance_equals_direct_smi_of_the_training_cells(range_block):
    layout = CubeLayout(channel_x_m=0.015 * np.arange(6.0), num_pulses=8, num_range_bins=60, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    rng = np.random.default_rng(33)
    cube = thermal_noise(layout.shape, 1.0, rng)
    # a strong interferer (10 dB, random amplitude per range bin) off the look direction: a complex,
    # structured covariance whose entries a conjugation or indexing error would change
    interferer = space_time_steering(layout, 0.3, 7.0)[0].reshape(6, 8)
    cube += (np.sqrt(10.0) * thermal_noise((1, 1, 60), 1.0, rng) * interferer[:, :, None]).astype(np.complex64)
    look, num_training, num_guard = 0.1, 24, 2
    stap = PostDopplerStap(layout, adjacent_bins=3, spatial_beams=3, look_cone_sine=look, num_training=num_training,
                           num_guard=num_guard, diagonal_loading_db=-3.0, noise_power_w=1.0, range_block=range_block)
    result = stap.process(cube)
    z = stap.all_snapshots(stap.filter_bank(stap.spatial_stage(cube))).astype(np.complex128)     # (K, 9, L)
    loading = 10 ** (-0.3)
    q = _beamspace_noise_correlation(stap, layout, 3, look)
    assert np.allclose(stap.noise_correlation, q, atol=1e-12)
    g = stap.steering()
    doppler_bins = np.array([0, 3, 7, 5, 2, 6])
    range_bins = np.array([0, 1, 29, 30, 52, 59])
    got = result.covariance(doppler_bins, range_bins)
    assert got.shape == (6, 9, 9)
    for t, (k, l_bin) in enumerate(zip(doppler_bins, range_bins)):
        block = l_bin // range_block
        first, last = block * range_block, min(block * range_block + range_block, 60) - 1
        a0, a1, b0, b1 = stap._plan[block]
        cells = np.concatenate([np.arange(a0, a1), np.arange(b0, b1)])
        assert cells.size == num_training and not np.any((cells >= first - num_guard) & (cells <= last + num_guard))
        train = z[k][:, cells]                                                                   # (D, K_t)
        expected = train @ train.conj().T / num_training + loading * np.eye(9)
        assert np.allclose(got[t], expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())
        # the weights of the cell: R̂⁻¹ g scaled to unit output noise σ² wᴴ Q w = 1; its output power
        w = np.linalg.solve(expected, g)
        w /= np.sqrt(np.real(w.conj() @ q @ w))
        assert np.allclose(result.weights[k, block], w, rtol=1e-4, atol=1e-4 * np.abs(w).max())
        assert result.power[k, l_bin] == pytest.approx(np.abs(np.vdot(w, z[k, :, l_bin])) ** 2, rel=1e-3, abs=1e-4)


@pytest.mark.parametrize("spatial_beams", [2, 0, -1, 5])
def test_bad_spatial_beams_are_rejected(spatial_beams):
    layout = CubeLayout(channel_x_m=np.arange(4.0), num_pulses=8, num_range_bins=100, prf_hz=7500.0,
                        wavelength_m=0.03, sample_rate_hz=5e6, range_first_bin_m=1500e3)
    with pytest.raises(ConfigurationError, match="spatial_beams"):
        PostDopplerStap(layout, adjacent_bins=3, spatial_beams=spatial_beams, num_training=24, num_guard=2,
                        noise_power_w=1.0)
