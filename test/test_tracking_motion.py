"""Motion models: constant-velocity F and Q against the textbook matrices, the coordinated turn against
circular motion written out here, its Jacobian against finite differences, omega -> 0 continuity.

References are independent of the code under test: the per-axis white-noise-acceleration matrices of
Bar-Shalom, Li and Kirubarajan (2001), Ch. 6, rotated with the ENU axes of
``sbamti.geo.wgs84.enu_rotation``, and the parametrisation of a circle ``p(t) = p0 + r (sin(wt) e +
(1 - cos(wt)) n)``.
"""

import numpy as np
import pytest

from sbamti.geo.wgs84 import A_M, B_M, enu_rotation, geodetic_to_ecef
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.motion import (
    SMALL_TURN_ANGLE_RAD,
    ConstantVelocity,
    CoordinatedTurn,
    coordinated_turn,
    local_up_ecef,
)

ROUNDING = 1e-12              # relative: float64 rounding of a few operations, with margin
ONE_MICROMETRE = 1e-6
ONE_MILLIMETRE = 1e-3
ONE_MICROMETRE_PER_S = 1e-6
ONE_NANOMETRE = 1e-9

LAT, LON, ALT = np.radians(40.0), np.radians(10.0), 10_000.0


def _state7(rng, n, lat=LAT, lon=LON, alt=ALT, omega_scale=0.1):
    p = geodetic_to_ecef(np.full(n, lat), np.full(n, lon), np.full(n, alt)) + rng.normal(0.0, 1000.0, (n, 3))
    v = rng.normal(0.0, 200.0, (n, 3))
    omega = rng.normal(0.0, omega_scale, (n, 1))
    return np.hstack([p, v, omega])


def _textbook_q_enu(dt, q_h, q_v):
    """Q of [pE, pN, pU, vE, vN, vU]: per axis q [[dt^3/3, dt^2/2], [dt^2/2, dt]]."""
    q = np.zeros((6, 6))
    for axis, qa in enumerate((q_h, q_h, q_v)):
        q[axis, axis] = qa * dt ** 3 / 3.0
        q[axis, axis + 3] = q[axis + 3, axis] = qa * dt ** 2 / 2.0
        q[axis + 3, axis + 3] = qa * dt
    return q


# --- constant velocity ---------------------------------------------------------------------------

def test_cv_transition_is_the_textbook_matrix():
    dt = 10.0
    expected = np.array([[1, 0, 0, 10, 0, 0],
                         [0, 1, 0, 0, 10, 0],
                         [0, 0, 1, 0, 0, 10],
                         [0, 0, 0, 1, 0, 0],
                         [0, 0, 0, 0, 1, 0],
                         [0, 0, 0, 0, 0, 1]], dtype=float)
    x = np.array([[A_M, 0.0, 0.0, 100.0, -50.0, 3.0]])
    x_pred, f = ConstantVelocity().transition(x, dt)
    assert np.array_equal(f[0], expected)
    assert np.array_equal(x_pred[0], [A_M + 1000.0, -500.0, 30.0, 100.0, -50.0, 3.0])


def test_cv_process_noise_at_the_pole_is_diagonal_per_axis():
    # At the North pole Up is ECEF z, so Q is the per-axis textbook matrix with q_h on x, y and q_v on z.
    dt, q_h, q_v = 10.0, 2.0, 0.5
    x = np.array([[0.0, 0.0, B_M + 1000.0, 0.0, 0.0, 0.0]])
    q = ConstantVelocity(q_h, q_v).process_noise(x, dt)[0]
    expected = np.zeros((6, 6))
    for axis, qa in enumerate((2.0, 2.0, 0.5)):
        expected[axis, axis] = qa * 1000.0 / 3.0         # q dt^3 / 3
        expected[axis, axis + 3] = qa * 50.0              # q dt^2 / 2
        expected[axis + 3, axis] = qa * 50.0
        expected[axis + 3, axis + 3] = qa * 10.0          # q dt
    assert np.allclose(q, expected, rtol=0.0, atol=ROUNDING * np.max(expected))


@pytest.mark.parametrize("lat_deg, lon_deg", [(40.0, 10.0), (-33.0, 151.0), (0.0, -90.0), (89.0, 45.0)])
def test_cv_process_noise_is_enu_noise_rotated_to_ecef(lat_deg, lon_deg):
    dt, q_h, q_v = 7.5, 3.0, 0.2
    lat, lon = np.radians(lat_deg), np.radians(lon_deg)
    x = np.hstack([geodetic_to_ecef(lat, lon, 11_000.0), [200.0, 0.0, 0.0]])[None]
    m = enu_rotation(lat, lon)                           # rows E, N, U in ECEF: ENU -> ECEF is m.T
    t = np.zeros((6, 6))
    t[:3, :3] = t[3:, 3:] = m.T
    expected = t @ _textbook_q_enu(dt, q_h, q_v) @ t.T
    q = ConstantVelocity(q_h, q_v).process_noise(x, dt)[0]
    assert np.allclose(q, expected, rtol=0.0, atol=ROUNDING * np.max(expected))
    assert np.array_equal(q, q.T)


def test_cv_on_the_seven_state_zeroes_the_turn_rate():
    x = np.array([[A_M, 0.0, 0.0, 100.0, 0.0, 0.0, 0.3]])
    x_pred, f = ConstantVelocity().transition(x, 2.0)
    q = ConstantVelocity().process_noise(x, 2.0)
    assert x_pred[0, 6] == 0.0 and np.all(f[0, 6] == 0.0) and np.all(f[0, :, 6] == 0.0)
    assert np.all(q[0, 6] == 0.0) and np.all(q[0, :, 6] == 0.0)


def test_local_up_is_the_ellipsoid_normal():
    # On the ellipsoid the normal is the gradient of x^2/a^2 + y^2/a^2 + z^2/b^2, i.e. (x/a^2, y/a^2, z/b^2).
    rng = np.random.default_rng(3)
    lat, lon = rng.uniform(-1.5, 1.5, 20), rng.uniform(-np.pi, np.pi, 20)
    p = geodetic_to_ecef(lat, lon, 0.0)
    grad = p / np.array([A_M ** 2, A_M ** 2, B_M ** 2])
    expected = grad / np.linalg.norm(grad, axis=1, keepdims=True)
    one_nanoradian = 1e-9
    assert np.allclose(local_up_ecef(p), expected, rtol=0.0, atol=one_nanoradian)


def test_negative_and_misshapen_time_steps_are_rejected():
    x = np.zeros((2, 6)) + [A_M, 0, 0, 0, 0, 0]
    with pytest.raises(TrackingError, match=r"dt_s\[1\] = -1.0 s: expected a finite time step >= 0"):
        ConstantVelocity().transition(x, [1.0, -1.0])
    with pytest.raises(TrackingError, match=r"dt_s: expected a scalar or shape \(2,\)"):
        ConstantVelocity().transition(x, [1.0, 2.0, 3.0])
    with pytest.raises(TrackingError, match="accel_psd_horizontal_m2_s3 = -1.0"):
        ConstantVelocity(accel_psd_horizontal_m2_s3=-1.0)


# --- coordinated turn ----------------------------------------------------------------------------

def _circle(p0, v0_horizontal, up, omega, t):
    """Circular motion in the plane normal to ``up``: p0 + r (sin(wt) e + (1 - cos(wt)) n), n = up x e."""
    speed = np.linalg.norm(v0_horizontal)
    e = v0_horizontal / speed
    n = np.cross(up, e)
    r = speed / omega
    p = p0 + r * (np.sin(omega * t) * e + (1.0 - np.cos(omega * t)) * n)
    v = speed * (np.cos(omega * t) * e + np.sin(omega * t) * n)
    return p, v


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("omega", [0.1176, -0.03, 0.002])
def test_ct_follows_circular_motion_and_vertical_constant_velocity(compiled, omega):
    up = enu_rotation(LAT, LON)[2]
    east = enu_rotation(LAT, LON)[0]
    p0 = geodetic_to_ecef(LAT, LON, ALT)
    v_h = 250.0 * (np.cos(0.7) * east + np.sin(0.7) * np.cross(up, east))
    climb = 5.0
    times = np.array([0.0, 1.0, 10.0, 33.3, 100.0])
    x = np.tile(np.hstack([p0, v_h + climb * up, omega]), (times.size, 1))
    x_pred, _ = coordinated_turn(x, times, np.tile(up, (times.size, 1)), compiled=compiled)
    for k, t in enumerate(times):
        p_exp, v_exp = _circle(p0, v_h, up, omega, t)
        assert np.linalg.norm(x_pred[k, :3] - (p_exp + climb * t * up)) < ONE_MILLIMETRE
        assert np.linalg.norm(x_pred[k, 3:6] - (v_exp + climb * up)) < ONE_MICROMETRE_PER_S
        assert x_pred[k, 6] == omega


@pytest.mark.parametrize("compiled", [True, False])
def test_ct_returns_to_the_start_after_a_full_turn(compiled):
    rng = np.random.default_rng(7)
    x = _state7(rng, 6)
    up = local_up_ecef(x[:, :3])
    x[:, 3:6] -= np.sum(x[:, 3:6] * up, axis=1, keepdims=True) * up        # level flight
    x[:, 6] = [0.1176, -0.1176, 0.02, -0.5, 1.0, 0.06]
    x_pred, _ = coordinated_turn(x, 2.0 * np.pi / np.abs(x[:, 6]), up, compiled=compiled)
    assert np.max(np.linalg.norm(x_pred[:, :3] - x[:, :3], axis=1)) < ONE_MILLIMETRE
    assert np.max(np.linalg.norm(x_pred[:, 3:6] - x[:, 3:6], axis=1)) < ONE_MICROMETRE_PER_S


@pytest.mark.parametrize("compiled", [True, False])
def test_ct_tends_to_cv_as_the_turn_rate_vanishes(compiled):
    rng = np.random.default_rng(11)
    x = _state7(rng, 4)
    up = local_up_ecef(x[:, :3])
    dt = np.full(4, 10.0)
    x[:, 6] = 0.0
    ct0, jac0 = coordinated_turn(x, dt, up, compiled=compiled)
    cv, f_cv = ConstantVelocity().transition(x[:, :6], dt)
    assert np.array_equal(ct0[:, :6], cv)
    assert np.array_equal(jac0[:, :6, :6], f_cv)
    # tiny omega: position within a nanometre-scale of CV plus the first-order bend dt^2/2 omega (u x v)
    x[:, 6] = 1e-12
    tiny, _ = coordinated_turn(x, dt, up, compiled=compiled)
    bend = 0.5 * dt[:, None] ** 2 * 1e-12 * np.cross(up, x[:, 3:6])
    assert np.max(np.abs(tiny[:, :3] - cv[:, :3] - bend)) < ONE_NANOMETRE


@pytest.mark.parametrize("compiled", [True, False])
def test_ct_is_continuous_across_the_series_threshold(compiled):
    # Either side of |omega dt| = SMALL_TURN_ANGLE_RAD (series vs closed form): values and Jacobians agree
    # to the first-order change over the 2e-13 rad gap plus rounding.
    rng = np.random.default_rng(12)
    x = np.repeat(_state7(rng, 1), 4, axis=0)
    up = local_up_ecef(x[:, :3])
    dt = np.full(4, 10.0)
    gap = 1e-13
    x[:, 6] = np.array([SMALL_TURN_ANGLE_RAD - gap, SMALL_TURN_ANGLE_RAD + gap,
                        -SMALL_TURN_ANGLE_RAD + gap, -SMALL_TURN_ANGLE_RAD - gap]) / dt
    x_pred, jac = coordinated_turn(x, dt, up, compiled=compiled)
    assert np.max(np.abs(x_pred[0, :3] - x_pred[1, :3])) < ONE_MICROMETRE
    assert np.max(np.abs(x_pred[2, :3] - x_pred[3, :3])) < ONE_MICROMETRE
    assert np.max(np.abs(x_pred[0, 3:6] - x_pred[1, 3:6])) < ONE_MICROMETRE_PER_S
    for a, b in ((0, 1), (2, 3)):
        scale = np.max(np.abs(jac[a]))
        assert np.allclose(jac[a], jac[b], rtol=0.0, atol=1e-10 * scale)


def _finite_difference_jacobian(x, dt, up):
    """Central differences of coordinated_turn (numpy twin), steps scaled per state component."""
    steps = np.array([1.0, 1.0, 1.0, 1e-2, 1e-2, 1e-2, 1e-6])    # m, m/s, rad/s
    jac = np.empty((x.shape[0], 7, 7))
    for k in range(7):
        plus, minus = x.copy(), x.copy()
        plus[:, k] += steps[k]
        minus[:, k] -= steps[k]
        fp, _ = coordinated_turn(plus, dt, up, compiled=False)
        fm, _ = coordinated_turn(minus, dt, up, compiled=False)
        jac[:, :, k] = (fp - fm) / (2.0 * steps[k])
    return jac


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("omega_scale", [0.2, 1e-3, 0.0])
def test_ct_jacobian_matches_finite_differences(compiled, omega_scale):
    rng = np.random.default_rng(13)
    x = _state7(rng, 8, omega_scale=omega_scale)
    up = local_up_ecef(x[:, :3])
    dt = rng.uniform(0.5, 12.0, 8)
    _, jac = coordinated_turn(x, dt, up, compiled=compiled)
    numeric = _finite_difference_jacobian(x, dt, up)
    # Columns 0-5: dimensionless (~1) and seconds (dp/dv ~ dt <= 12 s); central differences of ECEF
    # coordinates ~6e6 m over a 1 m step lose ~1e-9 to rounding, and the model is quadratic at most in
    # v, so 2e-6 (s or dimensionless) has a wide margin and still catches any wrong term (>= 1e-3).
    # Column 6: m/(rad/s) and (m/s)/(rad/s) entries ~ v dt^2 ~ 1e4; the truncation error of the 1e-6 rad/s
    # step is ~ v dt^4 step^2 ~ 1e-6.
    position_velocity_columns = 2e-6
    turn_rate_column = 1e-3
    assert np.allclose(jac[:, :, :6], numeric[:, :, :6], rtol=0.0, atol=position_velocity_columns)
    assert np.allclose(jac[:, :, 6], numeric[:, :, 6], rtol=0.0, atol=turn_rate_column)


def test_ct_kernel_equals_numpy_twin():
    rng = np.random.default_rng(17)
    x = _state7(rng, 200, omega_scale=0.05)
    x[::3, 6] *= 1e-3                                            # many below the series threshold
    x[1::7, 6] = 0.0
    up = local_up_ecef(x[:, :3])
    dt = rng.uniform(0.0, 15.0, 200)
    xc, jc = coordinated_turn(x, dt, up, compiled=True)
    xn, jn = coordinated_turn(x, dt, up, compiled=False)
    assert np.allclose(xc, xn, rtol=0.0, atol=ONE_NANOMETRE)
    assert np.allclose(jc, jn, rtol=ROUNDING, atol=ROUNDING * np.max(np.abs(jn)))


def test_ct_process_noise_is_cv_noise_plus_turn_rate_random_walk():
    rng = np.random.default_rng(19)
    x = _state7(rng, 3)
    dt = np.array([1.0, 5.0, 10.0])
    q_omega = 2e-4
    q = CoordinatedTurn(3.0, 0.2, q_omega).process_noise(x, dt)
    q_cv = ConstantVelocity(3.0, 0.2).process_noise(x[:, :6], dt)
    assert np.array_equal(q[:, :6, :6], q_cv)
    assert np.allclose(q[:, 6, 6], q_omega * dt, rtol=ROUNDING)
    assert np.all(q[:, 6, :6] == 0.0) and np.all(q[:, :6, 6] == 0.0)
