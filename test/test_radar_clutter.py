"""Ground clutter: antenna patterns, constant-gamma patch CNR against the radar equation and the
sheet's patch-integration cross-check, Brennan's rule, the clutter-ridge slope, the Earth-rotation
Doppler and the optimum-STAP MDV of RADAR_PARAMETERS.md Sec. 3.2-3.7; cube synthesis against the
covariance model and iq's own steering functions."""

import numpy as np
import pytest

from sbamti.geo.wgs84 import A_M, OMEGA_EARTH_RAD_S
from sbamti.radar import clutter as cl
from sbamti.radar.antenna import (
    receive_subarray_pattern,
    transmit_gain_pattern,
    uniform_aperture_pattern,
)
from sbamti.radar.config import RadarConfig
from sbamti.radar.equation import cnr_cell, db, snr_per_channel_per_pulse
from sbamti.radar.geometry import (
    grazing_angle_rad,
    off_nadir_angle_rad,
    orbit_frame,
    range_ring_points,
)
from sbamti.radar.iq import (
    CubeLayout,
    doppler_steering,
    spatial_steering,
    thermal_noise,
)

MU_EARTH = 3.986004418e14          # m^3/s^2, WGS 84 GM
ALTITUDE_M = 800e3
INCLINATION_DEG = 53.0
R0_M = 1500e3
SHEET_RING_CNR_DB = 14.4           # Sec. 3.3 cross-check: main ring, gamma = -10 dB
SHEET_RING_CNR_AMBIGUOUS_DB = 15.2  # same with the +-6 range-ambiguous rings
SHEET_CELL_CNR_DB = 12.6           # Sec. 3.3 table: mainbeam cell, per channel per pulse
SHEET_EARTH_ROTATION_DOPPLER_HZ = -22.14e3   # Sec. 3.7
SHEET_ZERO_DOPPLER_YAW_DEG = 3.35            # Sec. 3.7 / 3.5
SHEET_MDV_5DB_MPS = 5.04                     # Sec. 3.5, no rotation, single ring
ONE_AND_HALF_DB = 1.5
HALF_DB = 0.5
TWO_PERCENT = 0.02


def _state(altitude_m=ALTITUDE_M, inclination_deg=INCLINATION_DEG):
    """800 km circular orbit at the ascending node on the Greenwich meridian: ECEF position, inertial
    velocity (expressed in ECEF axes) and ECEF velocity = inertial - omega x r."""
    r = A_M + altitude_m
    pos = np.array([r, 0.0, 0.0])
    inc = np.radians(inclination_deg)
    v_inertial = np.sqrt(MU_EARTH / r) * np.array([0.0, np.cos(inc), np.sin(inc)])
    v_ecef = v_inertial - np.cross([0.0, 0.0, OMEGA_EARTH_RAD_S], pos)
    return pos, v_inertial, v_ecef


def _layout(config, num_range_bins, range_first_bin_m, num_pulses=None, prf_hz=None):
    return CubeLayout(channel_x_m=config.channel_positions_antenna_m[:, 0],
                      num_pulses=config.pulses_per_cpi if num_pulses is None else num_pulses,
                      num_range_bins=num_range_bins,
                      prf_hz=config.prf_set_hz[0] if prf_hz is None else prf_hz,
                      wavelength_m=config.wavelength_m, sample_rate_hz=config.sample_rate_hz,
                      range_first_bin_m=range_first_bin_m)


@pytest.fixture(scope="module")
def baseline():
    """Baseline radar, beam (no yaw steering: x along the inertial velocity) at the 1500 km ring."""
    config = RadarConfig()
    pos, v_inertial, v_ecef = _state()
    eta = off_nadir_angle_rad(R0_M, np.linalg.norm(pos))
    axes = cl.side_looking_axes(pos, v_inertial, eta)
    return config, pos, v_inertial, v_ecef, axes


# --- antenna ---------------------------------------------------------------------------------

def test_uniform_aperture_pattern_nulls_and_half_power():
    lam, length = 0.03, 16.0
    assert uniform_aperture_pattern(0.0, length, lam) == 1.0
    nulls = np.arange(1, 5) * lam / length
    assert np.allclose(uniform_aperture_pattern(nulls, length, lam), 0.0, atol=1e-15)
    half = 0.5 * 0.8858929413789046 * lam / length        # one-way 3 dB half width
    assert uniform_aperture_pattern(half, length, lam) ** 2 == pytest.approx(0.5, rel=1e-9)


def test_patterns_are_separable_normalised_and_one_sided():
    lam = 0.03
    assert transmit_gain_pattern(0.0, 0.0, 16.0, 2.5, lam) == 1.0
    assert receive_subarray_pattern(0.0, 0.0, 1.0, 2.5, lam) == 1.0
    sx, sy = 0.001, 0.004
    assert transmit_gain_pattern(sx, sy, 16.0, 2.5, lam) == pytest.approx(
        np.sinc(16 * sx / lam) * np.sinc(2.5 * sy / lam))
    assert receive_subarray_pattern(sx, sy, 1.0, 2.5, lam, boresight_cosine=-0.1) == 0.0


# --- numerical twins ---------------------------------------------------------------------------

def test_fast_ring_solver_matches_geometry_range_ring_points(baseline):
    _, pos, _, v_ecef, _ = baseline
    phi = np.linspace(0.0, 2.0 * np.pi, 257)
    ranges = np.array([[850e3], [R0_M], [3000e3], [3400e3]])     # last one beyond the horizon
    reference = range_ring_points(pos, v_ecef, ranges, phi)
    fast = cl._ring_points(pos, orbit_frame(pos, v_ecef), ranges, phi)
    assert np.array_equal(np.isnan(reference), np.isnan(fast))
    assert np.isnan(fast[-1]).all()
    one_millimetre = 1e-3
    assert np.nanmax(np.linalg.norm(reference - fast, axis=-1)) < one_millimetre


def test_phasor_table_matches_complex_exponential():
    rng = np.random.default_rng(3)
    twenty_microradians = 2e-5                  # float32 phases: ~32 x 2^-24 cycles at M = 32
    for rate, grid in [(rng.uniform(-40, 40, 500), np.arange(16) - 7.5),              # spatial, uniform
                       (rng.uniform(-5e5, 5e5, 500), np.arange(32) / 7500.0),         # Doppler
                       (rng.uniform(-40, 40, 500), np.sort(rng.uniform(-8, 8, 12)))]:  # irregular
        table = cl._phasor_table(rate, grid)
        assert table.dtype == np.complex64
        assert np.abs(table - np.exp(2j * np.pi * np.outer(rate, grid))).max() < twenty_microradians


# --- CNR against the radar equation -----------------------------------------------------------

def test_ring_cnr_matches_sheet_and_radar_equation(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0)
    noise = config.noise_power_w
    ring_db = db(cl.clutter_to_noise_per_channel_per_pulse(patches, 0, noise))
    assert abs(ring_db - SHEET_RING_CNR_DB) < ONE_AND_HALF_DB
    assert abs(ring_db - SHEET_RING_CNR_DB) < 0.2                  # what the model actually gives

    psi = grazing_angle_rad(R0_M, np.linalg.norm(pos))
    nm = config.num_channels * config.pulses_per_cpi
    cell_db = db(cnr_cell(config, R0_M, psi, layout.prf_hz) / nm)
    assert abs(cell_db - SHEET_CELL_CNR_DB) < 0.1
    # The ring integrates transmit (full aperture, sinc^2) x receive (subarray, ~flat) in azimuth:
    # effective width int sinc^2(L s / lam) ds = lam / L, against the two-way 3 dB width 0.638 lam / L
    # of the cell formula (+1.95 dB); the subarray taper takes ~0.1 dB back.
    wide_db = db(cnr_cell(config, R0_M, psi, layout.prf_hz, azimuth_width_rad=config.wavelength_m
                          / config.aperture_length_m) / nm)
    assert abs(ring_db - wide_db) < HALF_DB
    assert abs(ring_db - cell_db) < 2.0

    i = int(np.argmax(patches.power_w))
    assert abs(patches.cone_sine[i]) < 1e-3
    assert patches.slant_range_m[i] == R0_M
    # Constant gamma: -20 dB is exactly 10 dB below.
    lower = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, gamma_db=-20.0)
    assert db(cl.clutter_to_noise_per_channel_per_pulse(lower, 0, noise)) == pytest.approx(ring_db - 10.0)


def test_range_ambiguous_rings_add_the_sheet_amount(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=6)
    total_db = db(cl.clutter_to_noise_per_channel_per_pulse(patches, 0, config.noise_power_w))
    assert abs(total_db - SHEET_RING_CNR_AMBIGUOUS_DB) < 0.2
    k = np.rint((patches.slant_range_m - R0_M) / layout.unambiguous_range_m).astype(int)
    assert set(k) == set(range(-6, 7))
    adjacent_db = [db(patches.power_w[k == j].sum() / config.noise_power_w) for j in (-1, 1)]
    assert all(abs(a - 4.0) < 1.5 for a in adjacent_db)              # sheet: "at 4 dB"


def test_cube_clutter_power_matches_patch_cnr(baseline):
    config, pos, _, v_ecef, axes = baseline
    bins = 100
    layout = _layout(config, bins, R0_M - 50 * config.range_resolution_m)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0)
    noise = config.noise_power_w
    expected = np.array([cl.clutter_to_noise_per_channel_per_pulse(patches, b, noise) for b in range(bins)])
    cube = thermal_noise(layout.shape, noise, np.random.default_rng(11))
    cl.add_clutter(cube, layout, patches, np.random.default_rng(12))
    measured = np.mean(np.abs(cube.astype(np.complex128)) ** 2) / noise - 1.0
    # ~10-20 independent strong patches per bin x 100 bins: a few percent of scatter.
    assert abs(db(measured) - db(expected.mean())) < HALF_DB
    assert abs(db(expected.mean()) - SHEET_RING_CNR_DB) < ONE_AND_HALF_DB


def test_patch_power_is_the_radar_equation_times_the_two_way_pattern(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, mainbeam_patches=0)
    # Uniform sampling: the patch arc is 2 pi / 720 of the ring's circumference (to first order),
    # so sigma = gamma tan(psi) l dR.  Check the patch nearest the beam against it.
    i = int(np.argmax(patches.power_w))
    r_orbit = np.linalg.norm(pos)
    psi = patches.grazing_rad[i]
    ring_radius = R0_M * np.sin(off_nadir_angle_rad(R0_M, r_orbit))   # spherical estimate
    arc = 2.0 * np.pi * ring_radius / 720
    sigma = 0.1 * np.tan(psi) * arc * config.range_resolution_m
    reference = snr_per_channel_per_pulse(config, sigma, R0_M, layout.prf_hz) * config.noise_power_w
    sx = patches.cone_sine[i]
    pattern = (np.sinc(16 * sx / config.wavelength_m) * np.sinc(sx / config.wavelength_m)) ** 2
    assert patches.power_w[i] == pytest.approx(reference * pattern, rel=0.02)   # ellipsoid vs sphere


# --- covariance and space-time structure ---------------------------------------------------------

def test_add_clutter_agrees_with_iq_steering_and_covariance():
    config = RadarConfig(num_channels=4, pulses_per_cpi=6, channel_spacing_m=1.0)
    layout = _layout(config, 3000, 1.0e6)
    # Three fixed patches repeated in every bin: the bins are independent snapshots.
    s = np.array([0.0, 0.004, -0.01])
    v = np.array([-1.0, 3.0, 12.0])
    p = np.array([2.0, 1.0, 0.5])
    bins = np.repeat(np.arange(layout.num_range_bins), 3).astype(np.int32)
    def tile(a):
        return np.tile(a, layout.num_range_bins)

    patches = cl.ClutterPatches(bins, tile(p), tile(s), tile(v), tile(np.full(3, 1e6)), tile(np.full(3, 0.5)))
    cube = np.zeros(layout.shape, dtype=np.complex64)
    cl.add_clutter(cube, layout, patches, np.random.default_rng(5))
    # Same amplitudes (drawn as add_clutter documents), steering from sbamti.radar.iq, complex128.
    g = np.random.default_rng(5).standard_normal((patches.num_patches, 2), dtype=np.float32)
    amp = (g[:, 0] + 1j * g[:, 1]) * np.sqrt(patches.power_w / 2.0)
    a0 = amp[:3]
    reference = (spatial_steering(layout, s).T * a0) @ doppler_steering(layout, v)
    assert np.allclose(cube[:, :, 0], reference, atol=1e-4)
    # Sample covariance over 3000 snapshots against the model, channel-major order.
    x = cube.reshape(-1, layout.num_range_bins).astype(np.complex128)   # (N M, L)
    sample = x @ x.conj().T / layout.num_range_bins
    model = cl.clutter_covariance(layout, patches, 0, 0.0)
    assert np.linalg.norm(sample - model) / np.linalg.norm(model) < 0.1
    assert cl.clutter_to_noise_per_channel_per_pulse(patches, 0, 0.5) == pytest.approx(7.0)


def _brennan_setup(beta):
    """L band, d = lambda / 2 (the visible region is one spatial period), N = M = 8, PRF = 2 v_p / (beta d)."""
    pos, v_inertial, v_ecef = _state()
    wavelength = 299_792_458.0 / 1e9
    d = wavelength / 2.0
    prf = 2.0 * np.linalg.norm(v_inertial) / (beta * d)
    config = RadarConfig(carrier_frequency_hz=1e9, num_channels=8, pulses_per_cpi=8, channel_spacing_m=d,
                         aperture_length_m=8 * d, aperture_height_m=1.0, prf_set_hz=(prf,))
    axes = cl.side_looking_axes(pos, v_inertial, off_nadir_angle_rad(R0_M, np.linalg.norm(pos)))
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, earth_rotation=False)
    return config, layout, patches, np.linalg.norm(v_inertial)


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0])
def test_brennans_rule(beta):
    _, layout, patches, _ = _brennan_setup(beta)
    total_cnr = 1e6                                   # 60 dB over the whole ring
    noise = patches.power_w.sum() / total_cnr
    eig = np.linalg.eigvalsh(cl.clutter_covariance(layout, patches, 0, noise))
    rank = np.count_nonzero(eig > 10.0 * noise)
    brennan = 8 + beta * (8 - 1)
    assert abs(rank - brennan) <= 0.1 * brennan


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_clutter_ridge_slope_is_beta(beta):
    config, layout, patches, v_p = _brennan_setup(beta)
    d = config.channel_spacing_m
    spatial_freq = d * patches.cone_sine / config.wavelength_m
    doppler_norm = -2.0 * patches.radial_velocity_mps / config.wavelength_m / layout.prf_hz
    slope = np.polyfit(spatial_freq, doppler_norm, 1)[0]
    # The ridge spans the visible part of the ring: |s| <= sin(off-nadir) = 0.79 at 1500 km.
    assert np.ptp(spatial_freq) > 0.75
    assert slope == pytest.approx(2.0 * v_p / (d * layout.prf_hz), rel=TWO_PERCENT)
    assert slope == pytest.approx(beta, rel=TWO_PERCENT)


def test_earth_rotation_beam_centre_doppler(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, earth_rotation=True)
    doppler = -2.0 * patches.radial_velocity_mps / config.wavelength_m
    order = np.argsort(patches.cone_sine)
    beam_centre = np.interp(0.0, patches.cone_sine[order], doppler[order])
    assert beam_centre == pytest.approx(SHEET_EARTH_ROTATION_DOPPLER_HZ, rel=TWO_PERCENT)
    # Zero-Doppler direction: yaw of ~3.35 deg (cone sine = sin(yaw) sin(off-nadir)).
    order = np.argsort(doppler)
    s0 = np.interp(0.0, doppler[order], patches.cone_sine[order])
    yaw = np.degrees(np.arcsin(s0 / np.sin(off_nadir_angle_rad(R0_M, np.linalg.norm(pos)))))
    assert yaw == pytest.approx(SHEET_ZERO_DOPPLER_YAW_DEG, abs=0.1)
    # Without rotation the side-looking beam centre is at zero Doppler.
    still = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, earth_rotation=False)
    order = np.argsort(still.cone_sine)
    assert abs(np.interp(0.0, still.cone_sine[order], still.radial_velocity_mps[order])) < 0.05


def test_sinr_loss_notch_and_mdv(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)                       # N = 16, M = 32
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=0, earth_rotation=False)
    noise = config.noise_power_w
    cov = cl.clutter_covariance(layout, patches, 0, noise)
    velocities = np.linspace(0.0, 20.0, 801)
    loss_db = db(cl.sinr_loss(cov, noise, 0.0, velocities, layout))
    assert loss_db.shape == velocities.shape
    assert loss_db[0] < -20.0                               # mainbeam clutter at zero Doppler
    assert loss_db[-1] > -1.0                               # 20 m/s: far from the notch
    assert np.all(loss_db <= 1e-9)
    mdv = velocities[np.argmax(loss_db >= -5.0)]
    assert mdv == pytest.approx(SHEET_MDV_5DB_MPS, rel=0.2)
    # Noise only: no loss at all.
    white = np.eye(cov.shape[0]) * noise
    assert np.allclose(cl.sinr_loss(white, noise, 0.01, [0.0, 5.0], layout), 1.0)


def test_inputs_are_validated(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    with pytest.raises(ValueError, match="antenna_axes_ecef"):
        cl.clutter_patches(config, layout, pos, v_ecef, axes[[1, 0, 2]])
    with pytest.raises(ValueError, match="azimuth_patches"):
        cl.clutter_patches(config, layout, pos, v_ecef, axes, azimuth_patches=2)
    beyond = _layout(config, 5, 4000e3)                     # past the horizon, every ambiguity too
    empty = cl.clutter_patches(config, beyond, pos, v_ecef, axes, ambiguities=0)
    assert empty.num_patches == 0
    cube = np.zeros(beyond.shape, dtype=np.complex64)
    cl.add_clutter(cube, beyond, empty, np.random.default_rng(0))
    assert not cube.any()
    with pytest.raises(ValueError, match="cube"):
        cl.add_clutter(np.zeros((1, 1, 1), dtype=np.complex64), beyond, empty, np.random.default_rng(0))


def test_table_kernel_numba_matches_numpy_twin():
    rng = np.random.default_rng(8)
    count = 700
    args = (rng.uniform(-40, 40, count), -7.5, 1.0, 16, rng.uniform(-5e5, 5e5, count), 0.0, 1 / 7500.0, 32,
            (rng.standard_normal(count) + 1j * rng.standard_normal(count)).astype(np.complex64))
    fast = cl._clutter_tables_numba(*args)
    twin = cl._clutter_tables_numpy(*args)
    for a, b in zip(fast, twin):
        assert a.shape == b.shape and a.dtype == b.dtype == np.complex64
        scale = np.abs(b) + 1e-30
        assert np.max(np.abs(a - b) / np.maximum(scale, 1.0)) < 1e-4
    # Whole cube: both paths give the same cube for the same rng.
    config = RadarConfig(num_channels=4, pulses_per_cpi=6)
    layout = _layout(config, 3, 1.0e6)
    patches = cl.ClutterPatches(np.array([0, 0, 2], dtype=np.int32), np.array([1.0, 2.0, 3.0]),
                                np.array([0.0, 0.01, -0.2]), np.array([1.0, -300.0, 7000.0]),
                                np.full(3, 1e6), np.full(3, 0.5))
    cubes = []
    for use_numba in (True, False):
        cube = np.zeros(layout.shape, dtype=np.complex64)
        cl.add_clutter(cube, layout, patches, np.random.default_rng(1), use_numba=use_numba)
        cubes.append(cube)
    assert np.allclose(cubes[0], cubes[1], atol=1e-4)
    assert not cubes[0][:, :, 1].any()


def test_patch_kernel_numba_matches_numpy_twin(baseline):
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 40, R0_M - 20 * config.range_resolution_m)
    results = [cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=2, use_numba=flag)
               for flag in (True, False)]
    fast, twin = results
    assert fast.num_patches == twin.num_patches > 0
    assert np.array_equal(fast.range_bin, twin.range_bin)
    # relative 1e-8 near pattern nulls (power 1e-28 of the peak), 1e-13 of the peak everywhere
    assert np.allclose(fast.power_w, twin.power_w, rtol=1e-6, atol=1e-12 * twin.power_w.max())
    for name in ("cone_sine", "radial_velocity_mps", "slant_range_m", "grazing_rad"):
        assert np.allclose(getattr(fast, name), getattr(twin, name), rtol=0.0, atol=1e-9), name


def test_mdv_with_earth_rotation_and_range_ambiguities(baseline):
    """Sheet Sec. 3.5: i = 53 deg at the equator, +-6 rings, no yaw steering: MDV(-5 dB) = 10.6 m/s."""
    config, pos, _, v_ecef, axes = baseline
    layout = _layout(config, 1, R0_M)
    patches = cl.clutter_patches(config, layout, pos, v_ecef, axes, ambiguities=6, earth_rotation=True)
    noise = config.noise_power_w
    main = patches.slant_range_m == R0_M
    order = np.argsort(patches.cone_sine[main])
    clutter_vr = np.interp(0.0, patches.cone_sine[main][order], patches.radial_velocity_mps[main][order])
    cov = cl.clutter_covariance(layout, patches, 0, noise)
    target = np.linspace(0.0, 25.0, 501)                       # radial speed over the ground, both signs
    for sign in (1.0, -1.0):
        loss_db = db(cl.sinr_loss(cov, noise, 0.0, clutter_vr + sign * target, layout))
        assert loss_db[0] < -20.0
        mdv = target[np.argmax(loss_db >= -5.0)]
        assert mdv == pytest.approx(10.6, rel=0.2)
