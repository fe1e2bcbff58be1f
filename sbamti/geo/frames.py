"""TEME -> ITRS (ECEF), IAU-82 GMST, LVLH attitude and quaternions (pure: numpy/numba).

SGP4 returns states in TEME (True Equator, Mean Equinox of date). Following D. A. Vallado,
P. Crawford, R. Hujsak and T. S. Kelso, "Revisiting Spacetrack Report #3", AIAA 2006-6753
(Sec. "Coordinate systems", teme2ecef) and Vallado, *Fundamentals of Astrodynamics and
Applications*, 4th ed., Sec. 3.7:

    r_pef  = R3(GMST82(UT1)) r_teme
    v_pef  = R3(GMST82(UT1)) v_teme - omega x r_pef,    omega = 7.29211514670698e-5 (1 - LOD/86400) z
    r_itrs = W r_pef,   v_itrs = W v_pef,               W = R1(-yp) R2(-xp)

R1, R2, R3 are the passive (frame) rotations of the IERS Conventions (2010) Sec. 5.1, e.g.
R3(a) = [[cos a, sin a, 0], [-sin a, cos a, 0], [0, 0, 1]]. W is the inverse of the IERS
ITRS->TIRS polar-motion matrix R2(xp) R1(yp) (IERS Conventions 2010 eq. 5.3) with the TIO locator
s' set to 0, as Vallado (2006) does (s' < 0.1 mas until 2100, i.e. < 3 mm at GEO). To first order
W r = (x + xp z, y - yp z, z - xp x + yp y): the CIP sits at (xp, -yp) in the ITRS.

Because W and R3 do not depend on position, the velocity is v_itrs = M (v_teme + omega (r_y, -r_x, 0))
with M = W R3(GMST) the position matrix (omega x commutes with R3).

Broadcasting rule (teme_to_itrs, teme_to_itrs_matrix)
------------------------------------------------------
Time arrays (``jd_utc``, ``fr_utc`` and the arrays of ``eop``) broadcast together to a time shape
T. States have shape L + (3,). T and L broadcast by numpy's rules (right-aligned), so times of
shape (n_t,) go with states (n_t, 3) or (n_sat, n_t, 3), and a scalar time with anything. The
rotation is built once per time, (prod T, 3, 3), never per state, when T equals the trailing
axes of the broadcast state shape (the usual case); otherwise the matrices are broadcast to those
trailing axes (correct, just more memory).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from numba import njit

from sbamti.geo.earth_orientation import EarthOrientation
from sbamti.geo.timescales import SECONDS_PER_DAY, jd_split_add_seconds
from sbamti.geo.wgs84 import OMEGA_EARTH_TEME_RAD_S

TWO_PI = 2.0 * np.pi
JD_J2000 = 2451545.0
"""Julian date of J2000.0 (2000-01-01T12:00:00, here on the UT1 scale)."""

# IAU 1982 GMST (Aoki et al. 1982, "The new definition of Universal Time", A&A 105, 359; as
# Vallado 4th ed. eq. 3-47): GMST = 67310.54841 s + (876600 h + 8640184.812866 s) T
#                                   + 0.093104 s T^2 - 6.2e-6 s T^3,  T = (JD_UT1 - 2451545.0)/36525.
_GMST82_S = (67310.54841, 8640184.812866, 0.093104, -6.2e-6)


def gmst82_rad(jd_ut1: ArrayLike, fr_ut1: ArrayLike) -> np.ndarray:
    """IAU-1982 Greenwich mean sidereal time, rad in [0, 2 pi), from a two-part JD(UT1).

    This is the angle between the TEME x axis (mean equinox of date) and the PEF x axis.

    Parameters
    ----------
    jd_ut1, fr_ut1 : array_like, broadcastable
        Two-part Julian date on the UT1 scale, JD = jd_ut1 + fr_ut1 (any split; best precision
        with jd_ut1 at a midnight and fr_ut1 in [0, 1), as from ``utc_ns_to_jd_split``).

    Notes
    -----
    The 876600 h T term equals 86400 s times the days since J2000, i.e. whole turns plus the day
    fraction; it is evaluated as ``frac(jd_ut1 - 2451545) + frac(fr_ut1)`` so that no large
    number of seconds is ever formed. Agrees with ERFA ``eraGmst82`` to ~1e-14 rad (tested to
    1e-12 rad over 2000-2040).
    """
    jd = np.asarray(jd_ut1, dtype=np.float64)
    fr = np.asarray(fr_ut1, dtype=np.float64)
    d_jd = jd - JD_J2000                    # exact for JDs within a factor 2 of J2000 (Sterbenz)
    t = (d_jd + fr) / 36525.0
    c0, c1, c2, c3 = _GMST82_S
    seconds = c0 + (c1 + (c2 + c3 * t) * t) * t
    turns = np.remainder(d_jd, 1.0) + np.remainder(fr, 1.0) + seconds / SECONDS_PER_DAY
    return TWO_PI * np.remainder(turns, 1.0)


def teme_to_itrs_matrix(jd_utc: ArrayLike, fr_utc: ArrayLike,
                        eop: EarthOrientation | None = None) -> np.ndarray:
    """Rotation M (T..., 3, 3) with r_itrs = M r_teme at the given UTC times.

    M = W R3(GMST82(UT1)); UT1 = UTC + ``eop.ut1_minus_utc_s`` and W from ``eop.xp_rad``,
    ``eop.yp_rad`` (UT1 = UTC and W = I when ``eop`` is None). T is the broadcast shape of the
    times and the eop arrays. See the module docstring for the conventions.
    """
    jd, fr, dut1, xp, yp, _ = _time_arrays(jd_utc, fr_utc, eop)
    return _rotation(jd, fr, dut1, xp, yp)


def teme_to_itrs(r_teme_m: ArrayLike, v_teme_mps: ArrayLike, jd_utc: ArrayLike, fr_utc: ArrayLike,
                 eop: EarthOrientation | None = None) -> tuple[np.ndarray, np.ndarray]:
    """ITRS (ECEF) position and velocity of TEME states (e.g. SGP4 output converted to m, m/s).

    Parameters
    ----------
    r_teme_m, v_teme_mps : array (L..., 3)
        TEME position (m) and velocity (m/s); same shape.
    jd_utc, fr_utc : array_like (T...)
        Two-part JD(UTC) of each state, e.g. from ``utc_ns_to_jd_split``.
    eop : EarthOrientation, optional
        UT1-UTC, polar motion and LOD at those times (shape T or broadcastable to it). None
        means UT1 = UTC, no polar motion, LOD = 0: the error is then ~ omega |r| |UT1-UTC|
        (~0.5 km per second of UT1-UTC at LEO) plus |r| |(xp, yp)| (~10 m at LEO).

    Returns
    -------
    r_itrs_m, v_itrs_mps : ndarray (broadcast(L, T)..., 3)
        v_itrs is the velocity relative to the rotating Earth (omega x r removed).

    Notes
    -----
    Broadcasting: T and L broadcast right-aligned (module docstring); (n_sat, n_t, 3) states
    with (n_t,) times is the fast path, costing one (n_t, 3, 3) matrix and one fused pass over
    the states (numba kernel, plain-numpy twin tested to agree).
    """
    r = np.asarray(r_teme_m, dtype=np.float64)
    v = np.asarray(v_teme_mps, dtype=np.float64)
    if r.shape[-1:] != (3,) or v.shape != r.shape:
        raise ValueError(f"r_teme_m and v_teme_mps: expected equal shapes (..., 3), "
                         f"received {r.shape} and {v.shape}")
    jd, fr, dut1, xp, yp, lod = _time_arrays(jd_utc, fr_utc, eop)
    m = _rotation(jd, fr, dut1, xp, yp)
    omega = OMEGA_EARTH_TEME_RAD_S * (1.0 - lod / SECONDS_PER_DAY)

    t_shape = jd.shape
    out_lead = np.broadcast_shapes(r.shape[:-1], t_shape)
    tail = out_lead[len(out_lead) - len(t_shape):]
    n_tail = int(np.prod(tail, dtype=np.int64))
    # Writable C-contiguous arrays throughout, so the kernel has a single compiled specialisation.
    m_flat = np.array(np.broadcast_to(m, tail + (3, 3))).reshape(n_tail, 3, 3)
    omega_flat = np.array(np.broadcast_to(omega, tail)).reshape(n_tail)
    r3 = _states_for_kernel(r, out_lead, n_tail)
    v3 = _states_for_kernel(v, out_lead, n_tail)
    r_out, v_out = _teme_to_itrs_kernel_numba(r3, v3, m_flat, omega_flat)
    return r_out.reshape(out_lead + (3,)), v_out.reshape(out_lead + (3,))


def lvlh_to_ecef_quaternion(r_teme_m: ArrayLike, v_teme_mps: ArrayLike,
                            R_teme_to_itrs: ArrayLike) -> np.ndarray:
    """Unit quaternion (..., 4) = (w, x, y, z), w >= 0, rotating LVLH vectors into ECEF (ITRS).

    The LVLH frame is built from the inertial (TEME) state: z = -r/|r| (nadir),
    y = -(r x v)/|r x v| (minus the orbit normal), x = y x z (along-track; equal to v/|v| for a
    circular orbit). Its axes in ECEF are the columns of C = R [x y z], and q is the quaternion of
    C (Hamilton convention: v_ecef = q v_lvlh q*, i.e. ``quaternion_to_matrix(q) == C``).

    Parameters
    ----------
    r_teme_m, v_teme_mps : array (L..., 3)
    R_teme_to_itrs : array (T..., 3, 3), e.g. from ``teme_to_itrs_matrix``; T broadcasts with L.
    """
    r = np.asarray(r_teme_m, dtype=np.float64)
    v = np.asarray(v_teme_mps, dtype=np.float64)
    rot = np.asarray(R_teme_to_itrs, dtype=np.float64)
    z = -r / np.linalg.norm(r, axis=-1, keepdims=True)
    h = np.cross(r, v)
    y = -h / np.linalg.norm(h, axis=-1, keepdims=True)
    x = np.cross(y, z)
    axes_teme = np.stack((x, y, z), axis=-1)          # columns are the LVLH axes in TEME
    return matrix_to_quaternion(rot @ axes_teme)


def quaternion_to_matrix(q: ArrayLike) -> np.ndarray:
    """Rotation matrix (..., 3, 3) of quaternions (..., 4) = (w, x, y, z), normalised first.

    Hamilton convention, active: ``matrix @ v`` equals q v q*.
    """
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1.0 - 2.0 * (y * y + z * z)
    m[..., 0, 1] = 2.0 * (x * y - w * z)
    m[..., 0, 2] = 2.0 * (x * z + w * y)
    m[..., 1, 0] = 2.0 * (x * y + w * z)
    m[..., 1, 1] = 1.0 - 2.0 * (x * x + z * z)
    m[..., 1, 2] = 2.0 * (y * z - w * x)
    m[..., 2, 0] = 2.0 * (x * z - w * y)
    m[..., 2, 1] = 2.0 * (y * z + w * x)
    m[..., 2, 2] = 1.0 - 2.0 * (x * x + y * y)
    return m


def matrix_to_quaternion(m: ArrayLike) -> np.ndarray:
    """Unit quaternion (..., 4) = (w, x, y, z) with w >= 0 of rotation matrices (..., 3, 3).

    Shepperd's method (S. W. Shepperd, "Quaternion from rotation matrix", J. Guidance and
    Control 1 (1978) 223): of the four expressions 4 w^2 = 1 + tr, 4 x^2 = 1 + 2 m00 - tr, ...
    the largest is used as the divisor, so the result is accurate for every rotation.
    Inverse of :func:`quaternion_to_matrix`.
    """
    m = np.asarray(m, dtype=np.float64)
    if m.shape[-2:] != (3, 3):
        raise ValueError(f"m: expected shape (..., 3, 3), received {m.shape}")
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # Each row is 4 * (one component) * q: proportional to q, well conditioned when its
    # diagonal entry (that component squared, times 4) is the largest.
    candidates = np.stack([
        np.stack([1.0 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], axis=-1),
        np.stack([m21 - m12, 1.0 + m00 - m11 - m22, m01 + m10, m02 + m20], axis=-1),
        np.stack([m02 - m20, m01 + m10, 1.0 - m00 + m11 - m22, m12 + m21], axis=-1),
        np.stack([m10 - m01, m02 + m20, m12 + m21, 1.0 - m00 - m11 + m22], axis=-1),
    ], axis=-2)                                                    # (..., 4 cases, 4)
    diag = np.stack([candidates[..., i, i] for i in range(4)], axis=-1)
    best = np.argmax(diag, axis=-1)[..., None, None]
    q = np.take_along_axis(candidates, best, axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0.0, -q, q)


# --- helpers ----------------------------------------------------------------------------------

def _time_arrays(jd_utc, fr_utc, eop):
    """Times and EOP broadcast to one shape T: (jd, fr, dut1, xp, yp, lod)."""
    if eop is None:
        jd, fr = np.broadcast_arrays(np.asarray(jd_utc, dtype=np.float64),
                                     np.asarray(fr_utc, dtype=np.float64))
        zero = np.zeros(jd.shape)
        return jd, fr, zero, zero, zero, zero
    return tuple(np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (
        jd_utc, fr_utc, eop.ut1_minus_utc_s, eop.xp_rad, eop.yp_rad, eop.lod_s))))


def _states_for_kernel(a, out_lead, n_tail):
    """States (L..., 3) as a C-contiguous (n_a, n_tail, 3) array (copied only when needed)."""
    if a.shape[:-1] != out_lead:
        a = np.array(np.broadcast_to(a, out_lead + (3,)))
    return np.ascontiguousarray(a).reshape(-1, n_tail, 3)


def _rotation(jd, fr, dut1, xp, yp):
    """M = W(xp, yp) R3(GMST82(UT1)), shape T + (3, 3)."""
    jd_ut1, fr_ut1 = jd_split_add_seconds(jd, fr, dut1)
    g = gmst82_rad(jd_ut1, fr_ut1)
    c, s = np.cos(g), np.sin(g)
    cx, sx = np.cos(xp), np.sin(xp)
    cy, sy = np.cos(yp), np.sin(yp)
    # W = R1(-yp) R2(-xp) = [[cx, 0, sx], [sx sy, cy, -sy cx], [-sx cy, sy, cx cy]]
    w = np.empty(jd.shape + (3, 3))
    w[..., 0, 0], w[..., 0, 1], w[..., 0, 2] = cx, 0.0, sx
    w[..., 1, 0], w[..., 1, 1], w[..., 1, 2] = sx * sy, cy, -sy * cx
    w[..., 2, 0], w[..., 2, 1], w[..., 2, 2] = -sx * cy, sy, cx * cy
    # M = W R3(g), R3(g) = [[c, s, 0], [-s, c, 0], [0, 0, 1]]
    m = np.empty_like(w)
    m[..., :, 0] = w[..., :, 0] * c[..., None] - w[..., :, 1] * s[..., None]
    m[..., :, 1] = w[..., :, 0] * s[..., None] + w[..., :, 1] * c[..., None]
    m[..., :, 2] = w[..., :, 2]
    return m


# --- kernels: numba and its plain-numpy twin (same signature, tested to agree) -----------------

@njit(cache=True)
def _teme_to_itrs_kernel_numba(r, v, m, omega):
    """r, v (n_a, n_t, 3) TEME; m (n_t, 3, 3); omega (n_t,) -> (r_itrs, v_itrs), (n_a, n_t, 3).

    r_itrs = m r;  v_itrs = m (v + omega (r_y, -r_x, 0)).
    """
    n_a, n_t = r.shape[0], r.shape[1]
    r_out = np.empty_like(r)
    v_out = np.empty_like(v)
    for a in range(n_a):
        for t in range(n_t):
            x, y, z = r[a, t, 0], r[a, t, 1], r[a, t, 2]
            w = omega[t]
            vx = v[a, t, 0] + w * y
            vy = v[a, t, 1] - w * x
            vz = v[a, t, 2]
            for i in range(3):
                m0, m1, m2 = m[t, i, 0], m[t, i, 1], m[t, i, 2]
                r_out[a, t, i] = m0 * x + m1 * y + m2 * z
                v_out[a, t, i] = m0 * vx + m1 * vy + m2 * vz
    return r_out, v_out


def _teme_to_itrs_kernel_numpy(r, v, m, omega):
    """Plain-numpy twin of :func:`_teme_to_itrs_kernel_numba` (same signature and results)."""
    x, y = r[..., 0], r[..., 1]
    v_rel = v.copy()
    v_rel[..., 0] += omega * y
    v_rel[..., 1] -= omega * x
    r_out = np.einsum("tij,atj->ati", m, r)
    v_out = np.einsum("tij,atj->ati", m, v_rel)
    return r_out, v_out
