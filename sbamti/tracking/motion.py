"""Motion models of the ECEF track state: nearly-constant velocity and coordinated turn (pure: numpy/numba).

State
-----
Each track carries its ECEF position ``p`` (m) and velocity ``v`` (m/s), ``x = [p, v]`` (6-vector),
and for the coordinated-turn model also its turn rate ``omega`` (rad/s) about the local vertical,
``x = [p, v, omega]`` (7-vector). Arrays hold many tracks at once: ``x`` (n, d), covariances
(n, d, d), time steps (n,) or a scalar, s.

The local vertical ``u`` of a track is the WGS 84 ellipsoid normal (geodetic Up) at the position
it is predicted from. The Earth is treated as flat and non-rotating-in-ECEF over one prediction:
over a 10 s scan an aircraft at 300 m/s moves 3 km, over which the ellipsoid normal turns by
0.5 mrad and the surface drops 0.7 m below the tangent plane, far below the detections'
geolocation errors (tens of metres to kilometres). Coriolis and centrifugal terms of the rotating
ECEF frame (2 Omega x v ~ 0.04 m/s^2 at 300 m/s) are left to the process noise.

Models
------
*Nearly-constant velocity* (:class:`ConstantVelocity`), Bar-Shalom, Li and Kirubarajan,
*Estimation with Applications to Tracking and Navigation* (Wiley 2001), Ch. 6: continuous
white-noise acceleration with spectral density ``q`` (m^2/s^3) per axis, discretised exactly over
``dt``:

    F = [[I, dt I], [0, I]],     Q = [[dt^3/3 W, dt^2/2 W], [dt^2/2 W, dt W]],

with the 3x3 ECEF spectral density ``W = R_enu^T diag(q_h, q_h, q_v) R_enu = q_h I + (q_v - q_h) u u^T``
(``R_enu`` from :func:`sbamti.geo.wgs84.enu_rotation`): aircraft manoeuvre horizontally far more
than vertically, so the horizontal and vertical densities are separate. On the 7-state it sets the
turn rate to zero with zero variance (``F[6, 6] = 0``, ``Q[6, 6] = 0``): the constant-velocity mode of
the IMM in :mod:`sbamti.tracking.imm`.

*Coordinated turn* (:class:`CoordinatedTurn`), Li and Jilkov, "Survey of maneuvering target
tracking. Part I: dynamic models", *IEEE Trans. AES* 39(4), 2003 (coordinated-turn models), with the turn about
the local vertical written in vector form. With ``K = [u]_x`` (``K a = u x a``, ``K^2 = u u^T - I``)
and ``theta = omega dt``, the velocity rotates about ``u`` (Rodrigues) and the position integrates it:

    v' = (I + sin(theta) K + (1 - cos(theta)) K^2) v,
    p' = p + (dt I + dt C(theta) K + dt (1 - S(theta)) K^2) v,      omega' = omega,

``S(theta) = sin(theta)/theta``, ``C(theta) = (1 - cos(theta))/theta``: exact for constant ``omega``
and constant vertical speed (``K^2 v`` is minus the horizontal velocity, so the vertical
component moves at constant velocity). Positive ``omega`` turns East toward North (counter-clockwise
seen from above, a left turn). For ``|theta| < 0.05`` ``S``, ``C`` and their derivatives are
evaluated from their Taylor series (truncation < 1e-17 relative), so ``omega -> 0`` has no division
by zero and tends continuously to the constant-velocity model. The EKF Jacobian is analytic:

    dp'/domega = dt^2 (C'(theta) K v - S'(theta) K^2 v),   dv'/domega = dt (cos(theta) K v + sin(theta) K^2 v),

with ``u`` held fixed (it is a parameter of the prediction, evaluated at the prior mean).
Process noise: the constant-velocity ``Q`` above for position and velocity, and a random walk of
the turn rate, ``Q[6, 6] = q_omega dt`` (``q_omega`` in rad^2/s^3); the cross terms between turn-rate
noise and position are neglected, as is usual (Li and Jilkov 2003).

Models are callables-by-role for :func:`sbamti.tracking.kalman.predict`: ``transition(x, dt_s)``
returns the predicted mean and the Jacobian, ``process_noise(x, dt_s)`` returns ``Q``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

from sbamti.geo.wgs84 import ecef_to_geodetic, enu_rotation
from sbamti.tracking.errors import TrackingError

CV_STATE_DIM = 6
"""Length of the constant-velocity state [p_ecef (m), v_ecef (m/s)]."""
CT_STATE_DIM = 7
"""Length of the coordinated-turn state [p_ecef (m), v_ecef (m/s), omega (rad/s)]."""
POSITION = slice(0, 3)
"""ECEF position components of the state, m."""
VELOCITY = slice(3, 6)
"""ECEF velocity components of the state, m/s."""
TURN_RATE = 6
"""Index of the turn rate about the local vertical, rad/s (positive: East toward North)."""

SMALL_TURN_ANGLE_RAD = 0.05
"""Below this |omega dt| the turn functions come from their Taylor series (truncation < 1e-17)."""


class MotionModel(Protocol):
    """What :func:`sbamti.tracking.kalman.predict` needs of a motion model."""

    def transition(self, x: np.ndarray, dt_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predicted mean (n, d) and Jacobian (n, d, d) of the states ``x`` (n, d) after ``dt_s`` (n,)."""

    def process_noise(self, x: np.ndarray, dt_s: np.ndarray) -> np.ndarray:
        """Process-noise covariance (n, d, d) of a prediction from ``x`` (n, d) over ``dt_s`` (n,)."""


# --- shared pieces -----------------------------------------------------------------------------

def time_steps(dt_s: ArrayLike, n: int) -> np.ndarray:
    """``dt_s`` (scalar or (n,), s) as a float64 array (n,), checked finite and >= 0.

    Raises
    ------
    TrackingError
        On a wrong shape or a negative or non-finite step (retrodiction is not a prediction).
    """
    dt = np.asarray(dt_s, dtype=np.float64)
    if dt.ndim == 0:
        dt = np.full(n, float(dt))
    elif dt.shape != (n,):
        raise TrackingError(f"dt_s: expected a scalar or shape ({n},), received shape {dt.shape}")
    bad = ~(np.isfinite(dt) & (dt >= 0.0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise TrackingError(f"dt_s[{i}] = {float(dt[i])!r} s: expected a finite time step >= 0 "
                            f"({int(bad.sum())} of {n} bad)")
    return dt


def local_up_ecef(position_ecef_m: ArrayLike) -> np.ndarray:
    """Unit WGS 84 ellipsoid normal (geodetic Up), (n, 3) in ECEF, at ECEF positions (n, 3), m.

    The third row of :func:`sbamti.geo.wgs84.enu_rotation` at the geodetic latitude and longitude of
    each point (:func:`sbamti.geo.wgs84.ecef_to_geodetic`).
    """
    lat, lon, _ = ecef_to_geodetic(position_ecef_m)
    return np.ascontiguousarray(enu_rotation(lat, lon)[..., 2, :])


def acceleration_density_ecef(up_ecef: np.ndarray, accel_psd_horizontal_m2_s3: float,
                              accel_psd_vertical_m2_s3: float) -> np.ndarray:
    """ECEF acceleration spectral density (n, 3, 3), m^2/s^3: ``W = q_h I + (q_v - q_h) u u^T``.

    Equal to ``R^T diag(q_h, q_h, q_v) R`` with ``R`` the ENU rotation whose last row is ``u`` (n, 3).
    """
    u = up_ecef
    w = (accel_psd_vertical_m2_s3 - accel_psd_horizontal_m2_s3) * (u[:, :, None] * u[:, None, :])
    w[:, 0, 0] += accel_psd_horizontal_m2_s3
    w[:, 1, 1] += accel_psd_horizontal_m2_s3
    w[:, 2, 2] += accel_psd_horizontal_m2_s3
    return w


def white_acceleration_noise(dt_s: np.ndarray, density_ecef: np.ndarray, state_dim: int = CV_STATE_DIM) -> np.ndarray:
    """Process noise (n, d, d) of continuous white acceleration: ``[[dt^3/3 W, dt^2/2 W], [dt^2/2 W, dt W]]``.

    Parameters
    ----------
    dt_s : (n,), s
    density_ecef : (n, 3, 3), m^2/s^3
        Acceleration spectral density ``W`` in ECEF (:func:`acceleration_density_ecef`).
    state_dim : int
        6, or 7 (the turn-rate row and column are left zero).

    Notes
    -----
    Bar-Shalom, Li and Kirubarajan (2001), Ch. 6, per axis ``q [[dt^3/3, dt^2/2], [dt^2/2, dt]]``.
    """
    n = dt_s.shape[0]
    q = np.zeros((n, state_dim, state_dim))
    dt = dt_s[:, None, None]
    q[:, POSITION, POSITION] = (dt * dt * dt / 3.0) * density_ecef
    q[:, POSITION, VELOCITY] = (dt * dt / 2.0) * density_ecef
    q[:, VELOCITY, POSITION] = q[:, POSITION, VELOCITY]
    q[:, VELOCITY, VELOCITY] = dt * density_ecef
    return q


def _check_state(x: ArrayLike, dims: tuple[int, ...], name: str = "x") -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] not in dims:
        raise TrackingError(f"{name}: expected shape (n, d) with d in {dims}, received {x.shape}")
    return x


def _check_density(name: str, value: float) -> float:
    value = float(value)
    if not (np.isfinite(value) and value >= 0.0):
        raise TrackingError(f"{name} = {value!r}: expected a finite spectral density >= 0")
    return value


# --- nearly-constant velocity ------------------------------------------------------------------

@dataclass(frozen=True)
class ConstantVelocity:
    """Nearly-constant velocity: continuous white acceleration, horizontal and vertical densities.

    Works on the 6-state ``[p, v]`` and on the 7-state ``[p, v, omega]``, where it sets the turn rate
    to zero with zero variance (the constant-velocity mode of an IMM).

    Attributes
    ----------
    accel_psd_horizontal_m2_s3 : float
        Spectral density of the white acceleration along each horizontal (East, North) axis,
        m^2/s^3. ``q dt`` is the velocity variance gained per step: 1 m^2/s^3 over 10 s gives
        a 3.2 m/s one-sigma velocity change.
    accel_psd_vertical_m2_s3 : float
        The same along the local vertical, m^2/s^3.
    """

    accel_psd_horizontal_m2_s3: float = 1.0
    accel_psd_vertical_m2_s3: float = 0.1

    def __post_init__(self) -> None:
        _check_density("accel_psd_horizontal_m2_s3", self.accel_psd_horizontal_m2_s3)
        _check_density("accel_psd_vertical_m2_s3", self.accel_psd_vertical_m2_s3)

    def transition(self, x: ArrayLike, dt_s: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Predicted states (n, d) and transition matrices ``F`` (n, d, d) after ``dt_s`` (s)."""
        x = _check_state(x, (CV_STATE_DIM, CT_STATE_DIM))
        n, d = x.shape
        dt = time_steps(dt_s, n)
        f = cv_transition_matrix(dt, d)
        x_pred = np.empty_like(x)
        x_pred[:, POSITION] = x[:, POSITION] + dt[:, None] * x[:, VELOCITY]
        x_pred[:, VELOCITY] = x[:, VELOCITY]
        if d == CT_STATE_DIM:
            x_pred[:, TURN_RATE] = 0.0
        return x_pred, f

    def process_noise(self, x: ArrayLike, dt_s: ArrayLike) -> np.ndarray:
        """Process noise ``Q`` (n, d, d) in ECEF, the densities rotated at each track's position."""
        x = _check_state(x, (CV_STATE_DIM, CT_STATE_DIM))
        n, d = x.shape
        dt = time_steps(dt_s, n)
        density = acceleration_density_ecef(local_up_ecef(x[:, POSITION]), self.accel_psd_horizontal_m2_s3,
                                            self.accel_psd_vertical_m2_s3)
        return white_acceleration_noise(dt, density, d)


def cv_transition_matrix(dt_s: np.ndarray, state_dim: int = CV_STATE_DIM) -> np.ndarray:
    """``F`` (n, d, d) of constant velocity, ``[[I, dt I], [0, I]]``; for d = 7 ``F[6, 6] = 0`` (omega -> 0)."""
    n = dt_s.shape[0]
    f = np.zeros((n, state_dim, state_dim))
    idx = np.arange(CV_STATE_DIM)
    f[:, idx, idx] = 1.0
    f[:, [0, 1, 2], [3, 4, 5]] = dt_s[:, None]
    return f


# --- coordinated turn --------------------------------------------------------------------------

@dataclass(frozen=True)
class CoordinatedTurn:
    """Coordinated turn at a nearly-constant rate about the local vertical; vertical constant velocity.

    State ``[p_ecef (m), v_ecef (m/s), omega (rad/s)]``.

    Attributes
    ----------
    accel_psd_horizontal_m2_s3 : float
        White acceleration spectral density along each horizontal axis, m^2/s^3.
    accel_psd_vertical_m2_s3 : float
        The same along the local vertical, m^2/s^3.
    turn_rate_psd_rad2_s3 : float
        Spectral density of the turn rate's random walk, rad^2/s^3 (``Q[6, 6] = q dt``):
        1e-4 rad^2/s^3 lets omega change by 0.03 rad/s (1.8 deg/s) one-sigma in 10 s.
    """

    accel_psd_horizontal_m2_s3: float = 1.0
    accel_psd_vertical_m2_s3: float = 0.1
    turn_rate_psd_rad2_s3: float = 1e-4

    def __post_init__(self) -> None:
        _check_density("accel_psd_horizontal_m2_s3", self.accel_psd_horizontal_m2_s3)
        _check_density("accel_psd_vertical_m2_s3", self.accel_psd_vertical_m2_s3)
        _check_density("turn_rate_psd_rad2_s3", self.turn_rate_psd_rad2_s3)

    def transition(self, x: ArrayLike, dt_s: ArrayLike, compiled: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Predicted states (n, 7) and EKF Jacobians (n, 7, 7) after ``dt_s`` (s), about the local vertical
        at each track's position (:func:`coordinated_turn`)."""
        x = _check_state(x, (CT_STATE_DIM,))
        dt = time_steps(dt_s, x.shape[0])
        return coordinated_turn(x, dt, local_up_ecef(x[:, POSITION]), compiled=compiled)

    def process_noise(self, x: ArrayLike, dt_s: ArrayLike) -> np.ndarray:
        """Process noise ``Q`` (n, 7, 7): white acceleration (ENU densities rotated to ECEF) and the
        turn-rate random walk ``Q[6, 6] = q_omega dt``."""
        x = _check_state(x, (CT_STATE_DIM,))
        dt = time_steps(dt_s, x.shape[0])
        density = acceleration_density_ecef(local_up_ecef(x[:, POSITION]), self.accel_psd_horizontal_m2_s3,
                                            self.accel_psd_vertical_m2_s3)
        q = white_acceleration_noise(dt, density, CT_STATE_DIM)
        q[:, TURN_RATE, TURN_RATE] = self.turn_rate_psd_rad2_s3 * dt
        return q


def coordinated_turn(x: np.ndarray, dt_s: np.ndarray, up_ecef: np.ndarray,
                     compiled: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Exact coordinated-turn prediction and its Jacobian about given vertical axes.

    Parameters
    ----------
    x : (n, 7)
        States ``[p_ecef (m), v_ecef (m/s), omega (rad/s)]``.
    dt_s : (n,), s
    up_ecef : (n, 3)
        Unit turn axes (the local vertical), held fixed over the step.
    compiled : bool
        Use the numba kernel (True) or its plain-numpy twin (same results to rounding).

    Returns
    -------
    x_pred : (n, 7)
    jacobian : (n, 7, 7)
        ``d x_pred / d x`` with ``up_ecef`` fixed.

    Notes
    -----
    See the module docstring for the equations (Li and Jilkov 2003, in vector form).
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    dt = np.ascontiguousarray(dt_s, dtype=np.float64)
    up = np.ascontiguousarray(up_ecef, dtype=np.float64)
    n = x.shape[0]
    x_pred = np.empty((n, CT_STATE_DIM))
    jac = np.empty((n, CT_STATE_DIM, CT_STATE_DIM))
    (_coordinated_turn_kernel if compiled else _coordinated_turn_numpy)(x, dt, up, x_pred, jac)
    return x_pred, jac


# Taylor coefficients (in theta) of S = sin(t)/t, 1 - S, C = (1 - cos t)/t and of C' and (1 - S)' = -S'.
# S = 1 - t^2/6 + t^4/120 - t^6/5040 + t^8/362880;  C = t/2 - t^3/24 + t^5/720 - t^7/40320;
# C' = 1/2 - t^2/8 + t^4/144 - t^6/5760;  -S' = t/3 - t^3/30 + t^5/840 - t^7/45360.


def _turn_functions_numpy(theta):
    """(1 - S, C, C', -S') of theta (arrays), series below SMALL_TURN_ANGLE_RAD."""
    t2 = theta * theta
    small = np.abs(theta) < SMALL_TURN_ANGLE_RAD
    safe = np.where(small, 1.0, theta)
    sin_t = np.sin(theta)
    cos_t = np.cos(theta)
    half = np.sin(0.5 * theta)
    one_minus_cos = 2.0 * half * half
    oms_ser = t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0)))
    c_ser = theta / 2.0 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0)))
    dc_ser = 0.5 - t2 / 8.0 + t2 * t2 / 144.0 - t2 * t2 * t2 / 5760.0
    doms_ser = theta / 3.0 - theta * t2 / 30.0 + theta * t2 * t2 / 840.0 - theta * t2 * t2 * t2 / 45360.0
    oms = np.where(small, oms_ser, (safe - sin_t) / safe)
    c_fun = np.where(small, c_ser, one_minus_cos / safe)
    dc = np.where(small, dc_ser, (theta * sin_t - one_minus_cos) / (safe * safe))
    doms = np.where(small, doms_ser, (sin_t - theta * cos_t) / (safe * safe))
    return oms, c_fun, dc, doms


def _coordinated_turn_numpy(x, dt, up, x_pred, jac):
    """Plain-numpy twin of :func:`_coordinated_turn_kernel` (same signature; fills ``x_pred``, ``jac``)."""
    p = x[:, POSITION]
    v = x[:, VELOCITY]
    omega = x[:, TURN_RATE]
    theta = omega * dt
    oms, c_fun, dc, doms = _turn_functions_numpy(theta)
    sin_t = np.sin(theta)
    cos_t = np.cos(theta)
    half = np.sin(0.5 * theta)
    one_minus_cos = 2.0 * half * half
    kv = np.cross(up, v)                                              # K v = u x v
    k2v = up * np.sum(up * v, axis=1, keepdims=True) - v              # K^2 v = u (u.v) - v
    b = (dt * c_fun)[:, None]
    c = (dt * oms)[:, None]
    x_pred[:, POSITION] = p + dt[:, None] * v + b * kv + c * k2v
    x_pred[:, VELOCITY] = v + sin_t[:, None] * kv + one_minus_cos[:, None] * k2v
    x_pred[:, TURN_RATE] = omega
    n = x.shape[0]
    eye = np.eye(3)
    k = np.zeros((n, 3, 3))
    k[:, 0, 1], k[:, 0, 2], k[:, 1, 2] = -up[:, 2], up[:, 1], -up[:, 0]
    k[:, 1, 0], k[:, 2, 0], k[:, 2, 1] = up[:, 2], -up[:, 1], up[:, 0]
    k2 = up[:, :, None] * up[:, None, :] - eye
    jac[:] = 0.0
    jac[:, POSITION, POSITION] = eye
    jac[:, POSITION, VELOCITY] = dt[:, None, None] * eye + b[:, :, None] * k + c[:, :, None] * k2
    jac[:, VELOCITY, VELOCITY] = eye + sin_t[:, None, None] * k + one_minus_cos[:, None, None] * k2
    jac[:, POSITION, TURN_RATE] = (dt * dt)[:, None] * (dc[:, None] * kv + doms[:, None] * k2v)
    jac[:, VELOCITY, TURN_RATE] = dt[:, None] * (cos_t[:, None] * kv + sin_t[:, None] * k2v)
    jac[:, TURN_RATE, TURN_RATE] = 1.0


@njit(cache=True)
def _coordinated_turn_kernel(x, dt, up, x_pred, jac):
    """Coordinated-turn mean and Jacobian, track by track (the loop of :func:`_coordinated_turn_numpy`)."""
    n = x.shape[0]
    for i in range(n):
        u0, u1, u2 = up[i, 0], up[i, 1], up[i, 2]
        v0, v1, v2 = x[i, 3], x[i, 4], x[i, 5]
        omega = x[i, 6]
        h = dt[i]
        theta = omega * h
        t2 = theta * theta
        sin_t = np.sin(theta)
        cos_t = np.cos(theta)
        half = np.sin(0.5 * theta)
        one_minus_cos = 2.0 * half * half
        if abs(theta) < SMALL_TURN_ANGLE_RAD:
            oms = t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0)))
            c_fun = theta / 2.0 * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0)))
            dc = 0.5 - t2 / 8.0 + t2 * t2 / 144.0 - t2 * t2 * t2 / 5760.0
            doms = theta / 3.0 - theta * t2 / 30.0 + theta * t2 * t2 / 840.0 - theta * t2 * t2 * t2 / 45360.0
        else:
            oms = (theta - sin_t) / theta
            c_fun = one_minus_cos / theta
            dc = (theta * sin_t - one_minus_cos) / t2
            doms = (sin_t - theta * cos_t) / t2
        # K v = u x v and K^2 v = u (u.v) - v
        kv0 = u1 * v2 - u2 * v1
        kv1 = u2 * v0 - u0 * v2
        kv2 = u0 * v1 - u1 * v0
        uv = u0 * v0 + u1 * v1 + u2 * v2
        k2v0 = u0 * uv - v0
        k2v1 = u1 * uv - v1
        k2v2 = u2 * uv - v2
        b = h * c_fun
        c = h * oms
        x_pred[i, 0] = x[i, 0] + h * v0 + b * kv0 + c * k2v0
        x_pred[i, 1] = x[i, 1] + h * v1 + b * kv1 + c * k2v1
        x_pred[i, 2] = x[i, 2] + h * v2 + b * kv2 + c * k2v2
        x_pred[i, 3] = v0 + sin_t * kv0 + one_minus_cos * k2v0
        x_pred[i, 4] = v1 + sin_t * kv1 + one_minus_cos * k2v1
        x_pred[i, 5] = v2 + sin_t * kv2 + one_minus_cos * k2v2
        x_pred[i, 6] = omega
        for r in range(7):
            for s in range(7):
                jac[i, r, s] = 0.0
        # K = [[0, -u2, u1], [u2, 0, -u0], [-u1, u0, 0]];  K^2 = u u^T - I
        kmat = ((0.0, -u2, u1), (u2, 0.0, -u0), (-u1, u0, 0.0))
        uu = (u0, u1, u2)
        for r in range(3):
            jac[i, r, r] = 1.0
            jac[i, 3 + r, 3 + r] = 1.0
            for s in range(3):
                k2 = uu[r] * uu[s] - (1.0 if r == s else 0.0)
                jac[i, r, 3 + s] = (h if r == s else 0.0) + b * kmat[r][s] + c * k2
                jac[i, 3 + r, 3 + s] += sin_t * kmat[r][s] + one_minus_cos * k2
        h2 = h * h
        jac[i, 0, 6] = h2 * (dc * kv0 + doms * k2v0)
        jac[i, 1, 6] = h2 * (dc * kv1 + doms * k2v1)
        jac[i, 2, 6] = h2 * (dc * kv2 + doms * k2v2)
        jac[i, 3, 6] = h * (cos_t * kv0 + sin_t * k2v0)
        jac[i, 4, 6] = h * (cos_t * kv1 + sin_t * k2v1)
        jac[i, 5, 6] = h * (cos_t * kv2 + sin_t * k2v2)
        jac[i, 6, 6] = 1.0
