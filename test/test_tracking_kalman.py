"""Kalman predict/update: closed forms, a direct one-track implementation written here, the numba kernels
against their numpy twins, the range-rate EKF, domain errors, and Monte Carlo NEES/NIS consistency.

The Monte Carlo bounds are the two-sided 95 % chi-square intervals of Bar-Shalom, Li and Kirubarajan,
*Estimation with Applications to Tracking and Navigation* (2001), Ch. 5 (filter consistency): over N runs the run-averaged
NEES of a consistent filter, times N, is chi-square with ``d N`` degrees of freedom (NIS: ``m N``).
"""

import numpy as np
import pytest
from scipy.stats import chi2, multivariate_normal

from sbamti.geo.wgs84 import B_M, ecef_to_geodetic, enu_rotation, geodetic_to_ecef
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.kalman import (
    normalised_estimation_error_squared,
    position_range_rate_measurement,
    predict,
    propagate_covariance,
    range_rate,
    update,
    update_position,
    update_position_range_rate,
)
from sbamti.tracking.motion import ConstantVelocity, CoordinatedTurn

ROUNDING = 1e-10             # relative agreement of two float64 evaluations of the same algebra
ONE_MICROMETRE = 1e-6
ONE_NANOMETRE_PER_S = 1e-9
LAT, LON, ALT = np.radians(40.0), np.radians(10.0), 10_000.0


def _random_covariances(rng, n, d, scales):
    a = rng.normal(size=(n, d, d)) * np.asarray(scales)[None, :, None]
    return a @ a.transpose(0, 2, 1) + np.diag(np.asarray(scales) ** 2 * 0.1)


def _anisotropic_r(rng, n, sigmas_m=(20.0, 300.0, 3000.0)):
    """Covariances (n, 3, 3) with principal standard deviations ``sigmas_m`` along random axes."""
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    q = q * np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    return q @ (np.diag(np.square(sigmas_m))[None]) @ q.transpose(0, 2, 1)


def _tracks(rng, n, d=6):
    p = geodetic_to_ecef(np.full(n, LAT), np.full(n, LON), np.full(n, ALT)) + rng.normal(0.0, 5e3, (n, 3))
    x = np.hstack([p, rng.normal(0.0, 200.0, (n, 3))] + ([rng.normal(0.0, 0.05, (n, 1))] if d == 7 else []))
    scales = [300.0] * 3 + [30.0] * 3 + ([0.02] if d == 7 else [])
    return x, _random_covariances(rng, n, d, scales)


def _close(a, b, rtol=ROUNDING):
    return np.allclose(a, b, rtol=rtol, atol=rtol * np.max(np.abs(b)))


# --- closed forms ------------------------------------------------------------------------------

def test_one_axis_predict_update_by_hand():
    # At the North pole the ENU axes are ECEF axes (up to sign), Q is diagonal per axis, and a diagonal P and
    # R decouple the filter into three scalar-per-axis position/velocity filters, computed here by hand.
    dt, q_h, q_v = 10.0, 2.0, 0.5
    x = np.array([[0.0, 0.0, B_M + 1000.0, 100.0, -20.0, 1.0]])
    var_p = np.array([400.0, 900.0, 2500.0])                     # m^2
    var_v = np.array([25.0, 16.0, 4.0])                          # m^2/s^2
    P = np.diag(np.concatenate([var_p, var_v]))[None]
    z = np.array([[1010.0, -180.0, B_M + 1000.0 + 25.0]])
    r = np.array([100.0, 2500.0, 10000.0])
    x_pred, P_pred = predict(x, P, dt, ConstantVelocity(q_h, q_v))
    result = update_position(x_pred, P_pred, z, np.diag(r)[None])
    nis = 0.0
    for axis, q in enumerate((q_h, q_h, q_v)):
        p0, v0 = x[0, axis], x[0, axis + 3]
        # predict: [p + dt v, v];  [[pp + dt^2 vv + q dt^3/3, dt vv + q dt^2/2], [., vv + q dt]]
        pp = var_p[axis] + dt * dt * var_v[axis] + q * dt ** 3 / 3.0
        pv = dt * var_v[axis] + q * dt * dt / 2.0
        vv = var_v[axis] + q * dt
        p1 = p0 + dt * v0
        assert x_pred[0, axis] == pytest.approx(p1, abs=ONE_MICROMETRE)
        assert P_pred[0, axis, axis] == pytest.approx(pp, rel=1e-12)
        assert P_pred[0, axis, axis + 3] == pytest.approx(pv, rel=1e-12)
        assert P_pred[0, axis + 3, axis + 3] == pytest.approx(vv, rel=1e-12)
        # update: s = pp + r, k = [pp, pv] / s, nu = z - p1
        s = pp + r[axis]
        nu = z[0, axis] - p1
        kp, kv = pp / s, pv / s
        assert result.x[0, axis] == pytest.approx(p1 + kp * nu, abs=ONE_MICROMETRE)
        assert result.x[0, axis + 3] == pytest.approx(v0 + kv * nu, abs=ONE_NANOMETRE_PER_S)
        assert result.P[0, axis, axis] == pytest.approx(pp - kp * kp * s, rel=1e-10)
        assert result.P[0, axis, axis + 3] == pytest.approx(pv - kp * kv * s, rel=1e-10)
        assert result.P[0, axis + 3, axis + 3] == pytest.approx(vv - kv * kv * s, rel=1e-10)
        assert result.S[0, axis, axis] == pytest.approx(s, rel=1e-12)
        nis += nu * nu / s
    assert result.nis[0] == pytest.approx(nis, rel=1e-12)


def _direct_kalman(x, P, F, Q, z, R, H, h=None, x_pred=None):
    """One track, textbook form with explicit inverses: x' = F x (or the EKF's f(x) given as ``x_pred``),
    P' = F P F^T + Q; K = P' H^T S^-1, P+ = (I - K H) P' (equal to the Joseph form for this optimal gain)."""
    xp = F @ x if x_pred is None else x_pred
    Pp = F @ P @ F.T + Q
    S = H @ Pp @ H.T + R
    K = Pp @ H.T @ np.linalg.inv(S)
    nu = z - (H @ xp if h is None else h)
    return xp, Pp, xp + K @ nu, (np.eye(len(x)) - K @ H) @ Pp, S, nu @ np.linalg.inv(S) @ nu


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("model", [ConstantVelocity(1.5, 0.1), CoordinatedTurn(1.5, 0.1, 1e-4)])
def test_batched_filter_matches_a_direct_one_track_kalman_filter(compiled, model):
    rng = np.random.default_rng(21)
    d = 7 if isinstance(model, CoordinatedTurn) else 6
    n = 16
    x, P = _tracks(rng, n, d)
    dt = rng.uniform(0.0, 12.0, n)
    R = _anisotropic_r(rng, n)
    z = x[:, :3] + dt[:, None] * x[:, 3:6] + rng.normal(0.0, 500.0, (n, 3))
    x_pred, P_pred = predict(x, P, dt, model, compiled=compiled)
    result = update_position(x_pred, P_pred, z, R, compiled=compiled)
    _, F = model.transition(x, dt)          # the model's F and Q are checked against textbook forms elsewhere
    Q = model.process_noise(x, dt)
    H = np.zeros((3, d))
    H[:, :3] = np.eye(3)
    for i in range(n):
        # CV is linear (f(x) = F x); for CT the EKF's mean is f(x), checked against circular motion elsewhere
        xp, Pp, xu, Pu, S, nis = _direct_kalman(x[i], P[i], F[i], Q[i], z[i], R[i], H,
                                                x_pred=None if d == 6 else x_pred[i])
        assert _close(x_pred[i], xp)
        assert _close(P_pred[i], Pp)
        assert _close(result.x[i], xu)
        assert _close(result.P[i], Pu, rtol=1e-8)          # textbook form vs Joseph form: rounding of S^-1
        assert _close(result.S[i], S)
        assert result.nis[i] == pytest.approx(nis, rel=1e-9)
        expected_ll = multivariate_normal(mean=np.zeros(3), cov=S).logpdf(result.innovation[i])
        assert result.log_likelihood[i] == pytest.approx(expected_ll, rel=1e-10)
        assert np.array_equal(result.P[i], result.P[i].T) and np.array_equal(P_pred[i], P_pred[i].T)


# --- kernels against numpy twins -----------------------------------------------------------------

@pytest.mark.parametrize("d", [6, 7])
def test_kernels_equal_numpy_twins(d):
    rng = np.random.default_rng(23)
    n = 300
    x, P = _tracks(rng, n, d)
    F = np.eye(d) + rng.normal(0.0, 0.3, (n, d, d))
    Q = _random_covariances(rng, n, d, [1.0] * d)
    assert _close(propagate_covariance(P, F, Q, compiled=True), propagate_covariance(P, F, Q, compiled=False))
    for m in (1, 3, 4):
        H = rng.normal(size=(n, m, d))
        R = _random_covariances(rng, n, m, [50.0] * m)
        z = rng.normal(0.0, 100.0, (n, m))
        h = rng.normal(0.0, 100.0, (n, m))
        a = update(x, P, z, R, h, H, compiled=True)
        b = update(x, P, z, R, h, H, compiled=False)
        for name in a._fields:
            assert _close(getattr(a, name), getattr(b, name), rtol=1e-9), name


# --- range rate --------------------------------------------------------------------------------

def _satellite(rng, n):
    s = geodetic_to_ecef(np.full(n, LAT + 0.05), np.full(n, LON - 0.1), np.full(n, 600e3)) + rng.normal(0, 1e4, (n, 3))
    vs = rng.normal(0.0, 1.0, (n, 3))
    vs *= 7500.0 / np.linalg.norm(vs, axis=1, keepdims=True)
    return s, vs


def test_range_rate_is_the_time_derivative_of_range():
    rng = np.random.default_rng(29)
    x, _ = _tracks(rng, 10)
    s, vs = _satellite(rng, 10)
    h = 1e-3   # s

    def rng_at(t):
        return np.linalg.norm(x[:, :3] + t * x[:, 3:6] - (s + t * vs), axis=1)

    numeric = (rng_at(h) - rng_at(-h)) / (2.0 * h)
    one_mm_per_s = 1e-3
    assert np.allclose(range_rate(x, s, vs), numeric, rtol=0.0, atol=one_mm_per_s)


@pytest.mark.parametrize("d", [6, 7])
def test_range_rate_jacobian_matches_finite_differences(d):
    rng = np.random.default_rng(31)
    x, _ = _tracks(rng, 10, d)
    s, vs = _satellite(rng, 10)
    _, H = position_range_rate_measurement(x, s, vs)
    steps = np.array([1.0, 1.0, 1.0, 1e-3, 1e-3, 1e-3, 1e-6][:d])
    for k in range(d):
        plus, minus = x.copy(), x.copy()
        plus[:, k] += steps[k]
        minus[:, k] -= steps[k]
        hp, _ = position_range_rate_measurement(plus, s, vs)
        hm, _ = position_range_rate_measurement(minus, s, vs)
        numeric = (hp - hm) / (2.0 * steps[k])
        # d rdot / dp ~ |w| / r ~ 1e-2 1/s; d rdot / dv ~ 1: differences of ~7e3 m/s values lose ~1e-12 / step
        assert np.allclose(H[:, :, k], numeric, rtol=1e-6, atol=1e-9), k


@pytest.mark.parametrize("compiled", [True, False])
def test_position_range_rate_update_matches_a_direct_ekf(compiled):
    rng = np.random.default_rng(37)
    n = 8
    x, P = _tracks(rng, n)
    s, vs = _satellite(rng, n)
    R = np.zeros((n, 4, 4))
    R[:, :3, :3] = _anisotropic_r(rng, n)
    R[:, 3, 3] = 1.0 ** 2                                        # 1 m/s range-rate sigma
    z = np.hstack([x[:, :3] + rng.normal(0, 300.0, (n, 3)), (range_rate(x, s, vs) + rng.normal(0, 1.0, n))[:, None]])
    result = update_position_range_rate(x, P, z, R, s, vs, compiled=compiled)
    for i in range(n):
        los = x[i, :3] - s[i]
        r = np.linalg.norm(los)
        w = x[i, 3:6] - vs[i]
        rdot = los @ w / r
        H = np.zeros((4, 6))
        H[:3, :3] = np.eye(3)
        H[3, :3] = w / r - rdot * los / r ** 2
        H[3, 3:6] = los / r
        h = np.concatenate([x[i, :3], [rdot]])
        _, _, xu, Pu, _, nis = _direct_kalman(x[i], P[i], np.eye(6), np.zeros((6, 6)), z[i], R[i], H, h)
        assert _close(result.x[i], xu)
        assert _close(result.P[i], Pu, rtol=1e-8)
        assert result.nis[i] == pytest.approx(nis, rel=1e-9)
    # the range rate shrinks the velocity variance along the line of sight
    los = (x[:, :3] - s) / np.linalg.norm(x[:, :3] - s, axis=1, keepdims=True)
    position_only = update_position(x, P, z[:, :3], R[:, :3, :3], compiled=compiled)
    var_with = np.einsum("ni,nij,nj->n", los, result.P[:, 3:, 3:], los)
    var_without = np.einsum("ni,nij,nj->n", los, position_only.P[:, 3:, 3:], los)
    assert np.all(var_with < 0.5 * var_without)


# --- errors and robustness ---------------------------------------------------------------------

@pytest.mark.parametrize("compiled", [True, False])
def test_non_positive_definite_measurement_covariance_is_rejected(compiled):
    rng = np.random.default_rng(41)
    x, P = _tracks(rng, 3)
    R = _anisotropic_r(rng, 3)
    R[1] = np.diag([100.0, -1.0, 100.0])
    with pytest.raises(TrackingError, match=r"R\[1\] is not positive definite: eigenvalues \[-1.0, 100.0, 100.0\]"):
        update_position(x, P, x[:, :3], R, compiled=compiled)
    R[1] = np.diag([100.0, 0.0, 100.0])
    with pytest.raises(TrackingError, match=r"R\[1\] is not positive definite"):
        update_position(x, P, x[:, :3], R, compiled=compiled)


def test_shape_mismatches_are_rejected():
    rng = np.random.default_rng(43)
    x, P = _tracks(rng, 3)
    R = _anisotropic_r(rng, 3)
    with pytest.raises(TrackingError, match=r"P: expected shape \(3, 6, 6\)"):
        update_position(x, P[:2], x[:, :3], R)
    with pytest.raises(TrackingError, match=r"R: expected shape \(3, 3, 3\), received \(2, 3, 3\)"):
        update_position(x, P, x[:, :3], R[:2])
    with pytest.raises(TrackingError, match=r"z: expected shape \(3, m\)"):
        update_position(x, P, x[:2, :3], R)
    with pytest.raises(TrackingError, match="dt_s"):
        predict(x, P, -1.0, ConstantVelocity())


def test_long_run_with_extreme_anisotropy_keeps_covariances_valid():
    # 500 updates with 20 m / 3 km measurements and a nearly static model: P stays symmetric and positive
    # definite (the Joseph form), no NaN.
    rng = np.random.default_rng(47)
    n = 20
    x, P = _tracks(rng, n)
    model = ConstantVelocity(1e-4, 1e-6)
    R = _anisotropic_r(rng, n)
    for _ in range(500):
        x, P = predict(x, P, 1.0, model)
        result = update_position(x, P, x[:, :3] + rng.normal(0.0, 1.0, (n, 3)), R)
        x, P = result.x, result.P
    assert np.all(np.isfinite(P)) and np.array_equal(P, P.transpose(0, 2, 1))
    assert np.all(np.linalg.eigvalsh(P) > 0.0)


def test_nees_helper_matches_direct_formula():
    rng = np.random.default_rng(53)
    x, P = _tracks(rng, 5)
    truth = x + rng.normal(0.0, 100.0, x.shape)
    expected = [(x[i] - truth[i]) @ np.linalg.inv(P[i]) @ (x[i] - truth[i]) for i in range(5)]
    assert np.allclose(normalised_estimation_error_squared(x, P, truth), expected, rtol=1e-9)


# --- Monte Carlo consistency -------------------------------------------------------------------

def _enu_process_noise_ecef(p_ecef, dt, q_h, q_v):
    """Q (n, 6, 6) built here: per-axis textbook Q in ENU, rotated by the ENU axes at each position."""
    lat, lon, _ = ecef_to_geodetic(p_ecef)
    m = enu_rotation(lat, lon)
    t = np.zeros((p_ecef.shape[0], 6, 6))
    t[:, :3, :3] = t[:, 3:, 3:] = m.transpose(0, 2, 1)
    q_enu = np.zeros((6, 6))
    for axis, qa in enumerate((q_h, q_h, q_v)):
        q_enu[axis, axis] = qa * dt ** 3 / 3.0
        q_enu[axis, axis + 3] = q_enu[axis + 3, axis] = qa * dt ** 2 / 2.0
        q_enu[axis + 3, axis + 3] = qa * dt
    return t @ q_enu @ t.transpose(0, 2, 1)


def test_nees_and_nis_of_a_constant_velocity_target_are_chi_square_consistent():
    rng = np.random.default_rng(2026)
    runs, steps, dt = 200, 50, 10.0
    q_h, q_v = 1.0, 0.1                                            # m^2/s^3
    model = ConstantVelocity(q_h, q_v)
    p0 = geodetic_to_ecef(LAT, LON, ALT)
    east = enu_rotation(LAT, LON)[0]
    truth = np.tile(np.hstack([p0, 250.0 * east]), (runs, 1))
    R = _anisotropic_r(rng, runs)                                  # one random orientation per run
    r_chol = np.linalg.cholesky(R)
    P = np.zeros((runs, 6, 6))
    P[:, :3, :3] = R
    P[:, 3:, 3:] = np.eye(3) * 50.0 ** 2
    x = truth + (np.linalg.cholesky(P) @ rng.standard_normal((runs, 6, 1)))[:, :, 0]
    nees = np.empty((steps, runs))
    nis = np.empty((steps, runs))
    for k in range(steps):
        q = _enu_process_noise_ecef(truth[:, :3], dt, q_h, q_v)
        truth = np.hstack([truth[:, :3] + dt * truth[:, 3:], truth[:, 3:]])
        truth += (np.linalg.cholesky(q) @ rng.standard_normal((runs, 6, 1)))[:, :, 0]
        z = truth[:, :3] + (r_chol @ rng.standard_normal((runs, 3, 1)))[:, :, 0]
        x, P = predict(x, P, dt, model)
        result = update_position(x, P, z, R)
        x, P = result.x, result.P
        e = x - truth
        nees[k] = np.einsum("ni,ni->n", e, np.linalg.solve(P, e[:, :, None])[:, :, 0])
        nis[k] = result.nis
    for name, values, dof in (("NEES", nees, 6), ("NIS", nis, 3)):
        low, high = chi2.ppf([0.025, 0.975], dof * runs) / runs    # bounds on the run average
        average_per_step = values.mean(axis=1)
        overall = values.mean()
        assert low < overall < high, (name, overall, low, high)
        # a consistent filter has ~95 % of its per-step run averages inside; steps are correlated in time,
        # so the fraction scatters more than a binomial one
        inside = np.mean((average_per_step > low) & (average_per_step < high))
        assert inside >= 0.8, (name, inside)     # observed 0.86-1.0 over seeds; 0.04-0.62 with Q off by 2x
