"""Ground clutter of one dwell: constant-gamma patches on WGS 84 iso-range rings, the IQ cube and STAP.

Pure (numpy + scipy + numba). Phase and power conventions are those of :mod:`sbamti.radar.iq` (spatial
phase ``exp(+j 2π x_n s/λ)`` with ``s = u·x̂``, pulse phase ``exp(-j 4π v_r t_m/λ)``, ``|x|²`` in W
referred to the receiver input, ranges folded modulo ``c/(2 PRF)``); the radar equation is the one
of :mod:`sbamti.radar.equation` (full-aperture transmit, one subarray of area ``Ae/N`` per channel,
per-channel-per-pulse value = full-CPI value / (N M)).

Model
-----
For every recorded range bin ``l`` and every range ambiguity ``k = -K..K`` the slant range is
``R = R_first + l ΔR + k R_u`` (``ΔR = c/(2 fs)`` the bin, ``R_u = c/(2 PRF)``). The iso-range ring
at ``R`` on the WGS 84 ellipsoid (the parametrisation of
:func:`sbamti.radar.geometry.range_ring_points`, azimuth ``φ`` from the along-track direction of the
ECEF velocity towards starboard, solved by a faster scalar Newton iteration tested to agree with it
within 1 mm) is cut into patches. The patch's ``range_bin`` is ``l`` (the bin it is computed
for). When the recorded window is longer than ``R_u`` (1000 bins x 30 m = 30 km > 20 km at
7.5 kHz) bins ``l >= R_u/ΔR`` still get their own rings ``R_first + l ΔR + k R_u``, whereas
:meth:`CubeLayout.folded_bin` would fold such a range back into the first ``R_u/ΔR`` bins;
a physical receive window is shorter than the PRI, so this only matters for oversized test cubes. A patch centred on ring
point ``p_i`` extends half-way to its neighbours along the ring, arc length
``ℓ_i = (|p_{i+1} - p_i| + |p_i - p_{i-1}|) / 2``, and over the slant-range extent ``ΔR`` of the
bin. The gradient of the slant range along the ground surface is the horizontal part of the line
of sight, of magnitude ``cos ψ`` (ψ the grazing angle over the local horizontal plane, the plane
normal to the ellipsoid normal), so the bin's slant-range extent ``ΔR`` covers the ground width
``ΔR / cos ψ`` across the ring and

    ΔA_i = ℓ_i ΔR / cos ψ_i,        σ_i = γ sin ψ_i ΔA_i = γ tan ψ_i ℓ_i ΔR        (Richards Eq. 2.64).

A patch in the cube contributes ``P_i = SNR_ch,p(σ_i, R) · N0 · F_t²(u_i) · F_r²(u_i)`` watts per
channel per pulse (:func:`sbamti.radar.equation.snr_per_channel_per_pulse` times the noise power
``k T0 B F``), with ``F_t`` the full-aperture transmit and ``F_r`` the subarray receive amplitude
patterns of :mod:`sbamti.radar.antenna`. The antenna is one-sided: patches behind the aperture
plane (``u·ẑ <= 0``) get no gain and are left out of :class:`ClutterPatches`.

A patch's range rate is ``v_r = u·(v_ground - v_sat)``: the ground point is fixed in ECEF, so with
``earth_rotation=True`` ``v_sat`` is the satellite's ECEF velocity (this contains the Earth
rotation: ``(2/λ) u·v_ecef = (2/λ) u·(v_inertial - ω×p)``, RADAR_PARAMETERS.md Sec. 4, because
``u·(ω×(p - s)) = 0``), and with ``earth_rotation=False`` it is the inertial velocity
``v_ecef + ω×r`` over a non-rotating Earth (the textbook side-looking case).

Sampling of the ring
--------------------
``azimuth_patches`` angles are spread uniformly over the whole ring (``2π/azimuth_patches``
apart). On top of them ``mainbeam_patches`` angles are placed uniformly in *cone sine* over
``|s| <= mainbeam_half_width_sine`` (default ``2λ/d``: the receive subarray's main lobe and first
sidelobes, where all the strong clutter lies) on the front side of the antenna, replacing the
uniform angles there. The mainbeam of the full aperture (``|s| < λ/L`` = 1.9 mrad at baseline)
would otherwise hold less than one uniform patch: 0.5° of ring azimuth is ~7 mrad of cone sine at
52° off-nadir. The dense angles are found once per ambiguity on the ring at the window's centre
range and reused for all bins of that ambiguity (over a 30 km window the dense region's edges move
by < 1e-3 in cone sine; its centre, s = 0, does not move for a side-looking beam). Patch spacing in cone sine of ``δs`` gives clutter lines ``2 v_p δs/λ`` apart in
Doppler (167 Hz at baseline with the defaults, under one Doppler bin ``PRF/M`` = 234 Hz at M = 32),
so a 16 x 32 space-time aperture sees a continuous ridge.

Implementation
--------------
The per-bin ring solve and patch quantities run in a numba kernel (:func:`_ring_patches_numba`),
the steering tables of :func:`add_clutter` in another (:func:`_clutter_tables_numba`); each has a
plain-numpy twin with the same signature, tested to agree. At the baseline size (16 x 32 x 1000,
+-6 ambiguities, ~11,000 patches per bin) on the project machine (2 cores): ``clutter_patches``
~3.5-5 s, ``add_clutter`` ~1.4 s (bench/bench_radar_cube.py).

Cube order of a space-time snapshot (:func:`clutter_covariance`, :func:`sinr_loss`):
**channel-major**, index ``n M + m`` = ``cube[:, :, l].ravel()`` (C order of ``[channel, pulse]``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
from numba import njit

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import A_M, B_M, OMEGA_EARTH_RAD_S
from sbamti.radar.antenna import receive_subarray_pattern, transmit_gain_pattern
from sbamti.radar.config import RadarConfig
from sbamti.radar.equation import from_db, snr_per_channel_per_pulse
from sbamti.radar.geometry import orbit_frame
from sbamti.radar.iq import CubeLayout

_TRIAL_RING_POINTS = 4096
"""Angles of the trial ring used to place the dense mainbeam samples and the front-side cut."""
_FRONT_MARGIN = 0.05
"""Ring angles with u·ẑ > -margin on the trial ring are computed per bin (back-side ones are skipped)."""
_POINTS_PER_CHUNK = 262_144
"""Ring points solved per kernel call, all ambiguities together (bounds the (bins, patches) arrays)."""
_W = np.array([1.0 / A_M ** 2, 1.0 / A_M ** 2, 1.0 / B_M ** 2])
_NEWTON_MAX_ITERATIONS = 12
_NEWTON_STEP_TOL = 1e-12
"""Newton stops when the off-nadir step is below this, rad (3 µm at 3000 km)."""
_ELLIPSOID_TOL = 1e-12
"""Largest accepted |Σ w p² - 1| of a ring point (~3 µm of height; converged points reach ~1e-16)."""


@dataclass(frozen=True)
class ClutterPatches:
    """The clutter of one dwell as discrete constant-gamma patches, sorted by range bin.

    The sort order is required by :meth:`in_bin`, :func:`add_clutter` and :func:`clutter_covariance`.

    Attributes
    ----------
    range_bin : ndarray (P,) int32
        Recorded (folded) range bin each patch falls in.
    power_w : ndarray (P,), W
        Mean received power per channel per pulse (radar equation with ``σ = γ sin ψ ΔA`` and the
        two-way transmit x subarray-receive power pattern).
    cone_sine : ndarray (P,)
        ``u·x̂``, x̂ the antenna's along-track axis.
    radial_velocity_mps : ndarray (P,), m/s
        Range rate of the patch seen from the satellite (> 0 opening).
    slant_range_m : ndarray (P,), m
        Unfolded slant range of the patch's ring (``R_first + l ΔR + k R_u``).
    grazing_rad : ndarray (P,), rad
        Grazing angle over the local (ellipsoid-normal) horizontal plane.
    """

    range_bin: np.ndarray
    power_w: np.ndarray
    cone_sine: np.ndarray
    radial_velocity_mps: np.ndarray
    slant_range_m: np.ndarray
    grazing_rad: np.ndarray

    @property
    def num_patches(self) -> int:
        return int(self.range_bin.size)

    def in_bin(self, range_bin: int) -> np.ndarray:
        """Index slice (as an index array) of the patches of one range bin."""
        start, stop = np.searchsorted(self.range_bin, [range_bin, range_bin + 1])
        return np.arange(start, stop)


def side_looking_axes(sat_pos_ecef_m, along_track_velocity_mps, off_nadir_rad: float, *,
                      starboard: bool = True) -> np.ndarray:
    """(3, 3) antenna axes, rows x̂, ŷ, ẑ in ECEF, for a side-looking antenna (no squint).

    x̂ is the horizontal part of ``along_track_velocity_mps`` (pass the inertial velocity for an
    antenna aligned with the orbit, i.e. without yaw steering; the ECEF velocity for one aligned
    with the ground track), ẑ (boresight) is tilted by ``off_nadir_rad`` from the geocentric nadir
    towards starboard (or port), and ``ŷ = ẑ × x̂`` so that ``x̂ × ŷ = ẑ`` (right-handed).
    """
    along, right, nadir = orbit_frame(sat_pos_ecef_m, along_track_velocity_mps)
    side = right if starboard else -right
    z = np.cos(off_nadir_rad) * nadir + np.sin(off_nadir_rad) * side
    return np.stack([along, np.cross(z, along), z])


def _check_axes(antenna_axes_ecef) -> np.ndarray:
    axes = np.asarray(antenna_axes_ecef, dtype=np.float64)
    if axes.shape != (3, 3):
        raise ConfigurationError(f"antenna_axes_ecef: expected shape (3, 3) (rows x, y, z), received {axes.shape}")
    if not np.allclose(axes @ axes.T, np.eye(3), atol=1e-9) or np.linalg.det(axes) < 0.0:
        raise ConfigurationError("antenna_axes_ecef: expected orthonormal right-handed rows x, y, z "
                                 f"(x × y = z), received {axes.tolist()}")
    return axes


def _ring_coefficients(sat: np.ndarray, frame: np.ndarray, phi: np.ndarray):
    """Coefficients of the ellipsoid condition along the ring rays (see :func:`_ring_points`).

    With ``p = S + R (c n̂ + s ĥ)``, ``ĥ = cos φ â + sin φ r̂``, ``c = cos θ``, ``s = sin θ``:
    ``Σ w p² - 1 = c0 + 2R (c sn + s sh) + R² (c² nn + 2 c s nh + s² hh)``. Returns
    ``(c0, sn, nn, r_orbit, r_local)`` (scalars; ``r_local`` the ellipsoid radius under the satellite,
    for the spherical first guess) and ``(sh, nh, hh)`` arrays over ``phi``.
    """
    along, right, nadir = frame
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    ws = _W * sat
    c0 = float(ws @ sat) - 1.0
    sn = float(ws @ nadir)
    sh = cos_phi * float(ws @ along) + sin_phi * float(ws @ right)
    nn = float(_W * nadir @ nadir)
    nh = cos_phi * float(_W * nadir @ along) + sin_phi * float(_W * nadir @ right)
    hh = (cos_phi ** 2 * float(_W * along @ along) + 2.0 * cos_phi * sin_phi * float(_W * along @ right)
          + sin_phi ** 2 * float(_W * right @ right))
    r_orbit = float(np.linalg.norm(sat))
    u_s = sat / r_orbit
    r_local = float(1.0 / np.sqrt((u_s[0] ** 2 + u_s[1] ** 2) / A_M ** 2 + u_s[2] ** 2 / B_M ** 2))
    return (c0, sn, nn, r_orbit, r_local), (sh, nh, hh)


def _ring_points(sat: np.ndarray, frame: np.ndarray, slant_range_m: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Iso-range ring points on WGS 84: the parametrisation of :func:`range_ring_points`, scalar Newton.

    Same ray ``S + R (cos θ n̂ + sin θ (cos φ â + sin φ r̂))`` and the same near-root, horizon and
    nadir checks as :func:`sbamti.radar.geometry.range_ring_points` (tested to agree within 1 mm),
    but the ellipsoid condition ``Σ w p² = 1`` is expanded into scalar coefficients per angle
    (``w = (1/a², 1/a², 1/b²)``, :func:`_ring_coefficients`), so each Newton step is a handful of
    scalar operations instead of 3-vector arithmetic, and iterations stop at a 1e-12 rad step
    (3 µm at 3000 km) rather than running into rounding noise. ``slant_range_m`` (B, 1) and
    ``phi`` (n,) broadcast to (B, n); invalid points are NaN.
    """
    along, right, nadir = frame
    (c0, sn, nn, r_orbit, r_local), (sh, nh, hh) = _ring_coefficients(sat, frame, phi)
    cos_phi, sin_phi = np.cos(phi), np.sin(phi)
    rs = np.asarray(slant_range_m, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos0 = np.clip((r_orbit ** 2 + rs * rs - r_local ** 2) / (2.0 * r_orbit * rs), -1.0, 1.0)
        theta = np.broadcast_to(np.arccos(cos0), np.broadcast_shapes(rs.shape, phi.shape)).copy()
        r2 = rs * rs
        for _ in range(_NEWTON_MAX_ITERATIONS):
            c, s = np.cos(theta), np.sin(theta)
            f = c0 + 2.0 * rs * (c * sn + s * sh) + r2 * (c * c * nn + 2.0 * c * s * nh + s * s * hh)
            df = 2.0 * rs * (c * sh - s * sn) + r2 * (2.0 * c * s * (hh - nn) + 2.0 * (c * c - s * s) * nh)
            step = f / df
            theta -= step
            if not np.any(np.abs(step) > _NEWTON_STEP_TOL):
                break
        c, s = np.cos(theta), np.sin(theta)
        f = c0 + 2.0 * rs * (c * sn + s * sh) + r2 * (c * c * nn + 2.0 * c * s * nh + s * s * hh)
        los = rs[..., None] * (c[..., None] * nadir + (s * cos_phi)[..., None] * along
                               + (s * sin_phi)[..., None] * right)
        p = sat + los
        entering = np.sum(_W * p * los, axis=-1) <= 0.0
    bad = ~(np.abs(f) <= _ELLIPSOID_TOL) | (theta < 0.0) | (theta > 0.5 * np.pi) | ~entering
    p[bad] = np.nan
    return p


def _ring_patches_numpy(sat, frame, axes, v_sat, ranges, phi, this_slot, prev_slot, next_slot, params):
    """Patches of the rings at ``ranges`` (B,) sampled at ``phi`` (n,): (B, P) arrays.

    Patch ``j`` is centred on ring point ``this_slot[j]`` with neighbours ``prev_slot[j]`` and
    ``next_slot[j]`` (indices into ``phi``). ``params = [K γ ΔR, L/λ, d/λ, H/λ]`` with
    ``K = P_ch,p(σ = 1 m², R = 1 m)`` (W) of the radar equation, so a patch gets
    ``K γ ΔR tan ψ ℓ / R⁴ · (F_t F_r)²`` W. Returns ``(power_w, cone_sine, radial_velocity, grazing,
    ok)``; ``ok`` marks valid front-side patches. Plain-numpy twin of :func:`_ring_patches_numba`.
    """
    scale, l_over_lam, d_over_lam, h_over_lam = params
    r = ranges
    ring = _ring_points(sat, frame, r[:, None], phi)                                  # (B, n, 3)
    p = ring[:, this_slot]
    arc = 0.5 * (np.linalg.norm(ring[:, next_slot] - p, axis=-1)
                 + np.linalg.norm(p - ring[:, prev_slot], axis=-1))                  # (B, P)
    u = (p - sat) / r[:, None, None]
    normal = _W * p
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    sin_psi = -np.sum(u * normal, axis=-1)
    cos_psi = np.sqrt(np.maximum(1.0 - sin_psi ** 2, 0.0))
    sx, sy, sz = (u @ axes[i] for i in range(3))
    ok = np.isfinite(arc) & (sz > 0.0) & (sin_psi > 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        two_way = (transmit_gain_pattern(sx, sy, l_over_lam, h_over_lam, 1.0)
                   * receive_subarray_pattern(sx, sy, d_over_lam, h_over_lam, 1.0)) ** 2
        power = scale * (sin_psi / cos_psi) * arc / r[:, None] ** 4 * two_way
    vr = -(u @ v_sat)
    psi = np.arctan2(sin_psi, cos_psi)
    return power, sx, vr, psi, ok


@njit(cache=True)
def _sinc(x):
    if x == 0.0:
        return 1.0
    y = math.pi * x
    return math.sin(y) / y


@njit(cache=True)
def _ring_patches_numba(sat, frame, axes, v_sat, ranges, phi, this_slot, prev_slot, next_slot, params):
    """Numba kernel of :func:`_ring_patches_numpy` (same signature and results): per bin, a scalar
    Newton solve of each ring point (warm-started from the previous bin of the call, so ``ranges``
    should be sorted), then the patch quantities, without (B, P, 3) temporaries."""
    w0 = 1.0 / (A_M * A_M)
    w2 = 1.0 / (B_M * B_M)
    along, right, nadir = frame[0], frame[1], frame[2]
    n = phi.size
    count = this_slot.size
    nb = ranges.size
    scale, l_over_lam, d_over_lam, h_over_lam = params[0], params[1], params[2], params[3]

    def wdot(a, b):
        return w0 * (a[0] * b[0] + a[1] * b[1]) + w2 * a[2] * b[2]

    c0 = wdot(sat, sat) - 1.0
    sn = wdot(sat, nadir)
    nn = wdot(nadir, nadir)
    sa, sr = wdot(sat, along), wdot(sat, right)
    na, nr = wdot(nadir, along), wdot(nadir, right)
    aa, ar, rr = wdot(along, along), wdot(along, right), wdot(right, right)
    r_orbit = math.sqrt(sat[0] ** 2 + sat[1] ** 2 + sat[2] ** 2)
    us0, us1, us2 = sat[0] / r_orbit, sat[1] / r_orbit, sat[2] / r_orbit
    r_local = 1.0 / math.sqrt((us0 * us0 + us1 * us1) * w0 + us2 * us2 * w2)
    cos_phi = np.cos(phi)
    sin_phi = np.sin(phi)
    sh = cos_phi * sa + sin_phi * sr
    nh = cos_phi * na + sin_phi * nr
    hh = cos_phi * cos_phi * aa + 2.0 * cos_phi * sin_phi * ar + sin_phi * sin_phi * rr

    power = np.zeros((nb, count))
    cone = np.zeros((nb, count))
    vrad = np.zeros((nb, count))
    grazing = np.zeros((nb, count))
    ok = np.zeros((nb, count), dtype=np.bool_)
    ring = np.empty((n, 3))
    valid = np.zeros(n, dtype=np.bool_)
    last = np.zeros(n)
    for b in range(nb):
        rs = ranges[b]
        r2 = rs * rs
        cos0 = (r_orbit * r_orbit + r2 - r_local * r_local) / (2.0 * r_orbit * rs)
        theta0 = math.acos(min(1.0, max(-1.0, cos0)))
        for i in range(n):
            # Warm start from the previous (neighbouring) range when it converged: 2 Newton steps
            # instead of ~4 from the spherical guess.
            th = last[i] if b > 0 and valid[i] else theta0
            for _ in range(_NEWTON_MAX_ITERATIONS):
                c, s = math.cos(th), math.sin(th)
                f = c0 + 2.0 * rs * (c * sn + s * sh[i]) + r2 * (c * c * nn + 2.0 * c * s * nh[i] + s * s * hh[i])
                df = 2.0 * rs * (c * sh[i] - s * sn) + r2 * (2.0 * c * s * (hh[i] - nn)
                                                             + 2.0 * (c * c - s * s) * nh[i])
                step = f / df
                th -= step
                if abs(step) <= _NEWTON_STEP_TOL:
                    break
            c, s = math.cos(th), math.sin(th)
            f = c0 + 2.0 * rs * (c * sn + s * sh[i]) + r2 * (c * c * nn + 2.0 * c * s * nh[i] + s * s * hh[i])
            entering = 0.0
            for k in range(3):
                los = rs * (c * nadir[k] + s * cos_phi[i] * along[k] + s * sin_phi[i] * right[k])
                ring[i, k] = sat[k] + los
                entering += (w2 if k == 2 else w0) * ring[i, k] * los
            valid[i] = abs(f) <= _ELLIPSOID_TOL and th >= 0.0 and th <= 0.5 * math.pi and entering <= 0.0
            last[i] = th
        for j in range(count):
            t, q, m = this_slot[j], prev_slot[j], next_slot[j]
            if not (valid[t] and valid[q] and valid[m]):
                continue
            d_next = math.sqrt((ring[m, 0] - ring[t, 0]) ** 2 + (ring[m, 1] - ring[t, 1]) ** 2
                               + (ring[m, 2] - ring[t, 2]) ** 2)
            d_prev = math.sqrt((ring[t, 0] - ring[q, 0]) ** 2 + (ring[t, 1] - ring[q, 1]) ** 2
                               + (ring[t, 2] - ring[q, 2]) ** 2)
            arc = 0.5 * (d_next + d_prev)
            u0 = (ring[t, 0] - sat[0]) / rs
            u1 = (ring[t, 1] - sat[1]) / rs
            u2 = (ring[t, 2] - sat[2]) / rs
            n0, n1, n2 = w0 * ring[t, 0], w0 * ring[t, 1], w2 * ring[t, 2]
            norm = math.sqrt(n0 * n0 + n1 * n1 + n2 * n2)
            sin_psi = -(u0 * n0 + u1 * n1 + u2 * n2) / norm
            cos_psi = math.sqrt(max(1.0 - sin_psi * sin_psi, 0.0))
            sx = u0 * axes[0, 0] + u1 * axes[0, 1] + u2 * axes[0, 2]
            sy = u0 * axes[1, 0] + u1 * axes[1, 1] + u2 * axes[1, 2]
            sz = u0 * axes[2, 0] + u1 * axes[2, 1] + u2 * axes[2, 2]
            if not (sz > 0.0 and sin_psi > 0.0):
                continue
            pattern = (_sinc(l_over_lam * sx) * _sinc(d_over_lam * sx) * _sinc(h_over_lam * sy) ** 2) ** 2
            power[b, j] = scale * (sin_psi / cos_psi) * arc / (r2 * r2) * pattern
            cone[b, j] = sx
            vrad[b, j] = -(u0 * v_sat[0] + u1 * v_sat[1] + u2 * v_sat[2])
            grazing[b, j] = math.atan2(sin_psi, cos_psi)
            ok[b, j] = True
    return power, cone, vrad, grazing, ok


def _ring_angles(sat, vel, axes, slant_range, azimuth_patches, mainbeam_patches, half_width):
    """Ring angles (sorted, in [0, 2π)) and a mask of those to solve per bin (front side + margin)."""
    base = 2.0 * np.pi * (np.arange(azimuth_patches) + 0.5) / azimuth_patches
    trial_phi = 2.0 * np.pi * np.arange(_TRIAL_RING_POINTS) / _TRIAL_RING_POINTS
    trial = _ring_points(sat, orbit_frame(sat, vel), np.array([slant_range]), trial_phi)
    valid = np.all(np.isfinite(trial), axis=-1)
    if not valid.any():
        return base, np.zeros(base.shape, dtype=bool)
    u = (trial - sat) / slant_range
    sx, sz = u @ axes[0], u @ axes[2]
    phi = base
    window = valid & (sz > 0.0) & (np.abs(sx) <= half_width)
    if mainbeam_patches > 0 and np.count_nonzero(window) >= 2:
        # Work in angles relative to the window's circular mean so the arc never wraps.
        centre = np.angle(np.mean(np.exp(1j * trial_phi[window])))
        rel = np.mod(trial_phi - centre + np.pi, 2.0 * np.pi) - np.pi
        idx = np.flatnonzero(window)
        lo, hi = rel[idx].min(), rel[idx].max()
        step = 2.0 * np.pi / _TRIAL_RING_POINTS
        arc = valid & (rel >= lo - 1.5 * step) & (rel <= hi + 1.5 * step)
        order = np.argsort(rel[arc])
        s_arc, rel_arc = sx[arc][order], rel[arc][order]
        if np.all(np.diff(s_arc) > 0) or np.all(np.diff(s_arc) < 0):
            targets = np.linspace(-half_width, half_width, mainbeam_patches)
            targets = targets[(targets >= s_arc.min()) & (targets <= s_arc.max())]
            if np.diff(s_arc)[0] < 0:
                s_arc, rel_arc = s_arc[::-1], rel_arc[::-1]
            dense_rel = np.interp(targets, s_arc, rel_arc)
        else:  # cone sine not monotonic on the arc (unusual attitude): uniform in angle instead
            dense_rel = np.linspace(lo, hi, mainbeam_patches)
        if dense_rel.size >= 2:
            base_rel = np.mod(base - centre + np.pi, 2.0 * np.pi) - np.pi
            keep = (base_rel < dense_rel.min()) | (base_rel > dense_rel.max())
            phi = np.sort(np.mod(np.concatenate([base[keep], dense_rel + centre]), 2.0 * np.pi))
    # Front-side cut with a margin, evaluated on the trial ring (nearest trial angle).
    nearest = np.rint(phi / (2.0 * np.pi) * _TRIAL_RING_POINTS).astype(np.int64) % _TRIAL_RING_POINTS
    solve = valid[nearest] & (sz[nearest] > -_FRONT_MARGIN)
    return phi, solve


def clutter_patches(config: RadarConfig, layout: CubeLayout, sat_pos_ecef_m, sat_vel_ecef_mps, antenna_axes_ecef,
                    *, azimuth_patches: int = 720, ambiguities: int = 6, gamma_db: float | None = None,
                    earth_rotation: bool = True, mainbeam_patches: int = 360,
                    mainbeam_half_width_sine: float | None = None, use_numba: bool = True) -> ClutterPatches:
    """Constant-gamma clutter patches of every recorded range bin and range ambiguity of one dwell.

    Parameters
    ----------
    config : RadarConfig
        Gain, effective aperture, noise power, pattern dimensions (L, d = ``channel_spacing_m``, H), γ.
    layout : CubeLayout
        Range window (first bin, bin size, number of bins), PRF, wavelength.
    sat_pos_ecef_m, sat_vel_ecef_mps : array (3,)
        Satellite state in ECEF (m, m/s).
    antenna_axes_ecef : array (3, 3)
        Rows x̂ (along the aperture's long, along-track side; the cone sine is ``u·x̂``), ŷ (along
        its height), ẑ (boresight normal), orthonormal and right-handed; see :func:`side_looking_axes`.
    azimuth_patches : int
        Ring angles spread uniformly over 2π (the back-side ones are dropped).
    ambiguities : int
        K: rings at ``k = -K..K`` unambiguous ranges around each bin (skipped when below the
        nadir altitude or beyond the horizon).
    gamma_db : float, optional
        Constant-gamma reflectivity, dB; ``config.clutter_gamma_db`` by default.
    earth_rotation : bool
        True: ground fixed in ECEF and the satellite's ECEF velocity. False: the inertial velocity
        ``v_ecef + ω × r`` over a non-rotating Earth.
    mainbeam_patches : int
        Extra ring angles uniform in cone sine over ``|s| <= mainbeam_half_width_sine`` in front of
        the antenna (module docstring); 0 for uniform sampling only.
    mainbeam_half_width_sine : float, optional
        Default ``min(1, 2 λ / d)``.
    use_numba : bool
        Per-bin ring and patch computation in the numba kernel (default) or its numpy twin.

    Returns
    -------
    ClutterPatches
        Front-side patches, sorted by range bin.
    """
    if azimuth_patches < 8:
        raise ConfigurationError(f"azimuth_patches: got {azimuth_patches!r}, expected an integer >= 8")
    if ambiguities < 0 or mainbeam_patches < 0:
        raise ConfigurationError(f"ambiguities, mainbeam_patches: got {ambiguities!r}, {mainbeam_patches!r}, "
                                 "expected non-negative integers")
    sat = np.asarray(sat_pos_ecef_m, dtype=np.float64).reshape(3)
    vel = np.asarray(sat_vel_ecef_mps, dtype=np.float64).reshape(3)
    axes = _check_axes(antenna_axes_ecef)
    omega = np.array([0.0, 0.0, OMEGA_EARTH_RAD_S])
    v_sat = vel if earth_rotation else vel + np.cross(omega, sat)
    gamma = from_db(config.clutter_gamma_db if gamma_db is None else gamma_db)
    lam = layout.wavelength_m
    half_width = min(1.0, 2.0 * lam / config.channel_spacing_m) if mainbeam_half_width_sine is None \
        else float(mainbeam_half_width_sine)
    d_range = layout.range_bin_m
    # Radar equation, W per channel per pulse, of sigma = 1 m^2 at R = 1 m (power ∝ sigma / R^4).
    scale = float(snr_per_channel_per_pulse(config, 1.0, 1.0, layout.prf_hz)) * config.noise_power_w * gamma * d_range
    bins = np.arange(layout.num_range_bins)
    window = layout.range_first_bin_m + bins * d_range
    r_sat = np.linalg.norm(sat)
    horizon = np.sqrt(r_sat ** 2 - B_M ** 2)   # no ellipsoid point is visible beyond this
    nadir_alt = r_sat - A_M                    # nor closer than this

    frame = orbit_frame(sat, vel)
    params = np.array([scale, config.aperture_length_m / lam, config.channel_spacing_m / lam,
                       config.aperture_height_m / lam])
    kernel = _ring_patches_numba if use_numba else _ring_patches_numpy
    rings = []   # per ambiguity: range offset, ring angles to solve, patch centre / neighbour slots
    for k in range(-ambiguities, ambiguities + 1):
        ranges = window + k * layout.unambiguous_range_m
        inside = (ranges > nadir_alt) & (ranges < horizon)
        if not inside.any():
            continue
        r_mid = float(np.median(ranges[inside]))
        phi, solve = _ring_angles(sat, vel, axes, r_mid, azimuth_patches, mainbeam_patches, half_width)
        if not solve.any():
            continue
        n_phi = phi.size
        needed_idx = np.flatnonzero(solve | np.roll(solve, 1) | np.roll(solve, -1))
        slot = np.full(n_phi, -1)
        slot[needed_idx] = np.arange(needed_idx.size)
        patch_idx = np.flatnonzero(solve)
        rings.append((k * layout.unambiguous_range_m, phi[needed_idx], slot[patch_idx],
                      slot[(patch_idx - 1) % n_phi], slot[(patch_idx + 1) % n_phi]))
    if not rings:
        empty = np.zeros(0)
        return ClutterPatches(np.zeros(0, dtype=np.int32), empty, empty, empty, empty, empty)
    # Bins in chunks; within a chunk all ambiguities side by side, so the output is in bin order.
    # Ranges outside the visible band give invalid ring points (no patches).
    chunk = max(1, _POINTS_PER_CHUNK // sum(ring[1].size for ring in rings))
    pieces = []
    for start in range(0, bins.size, chunk):
        b = bins[start:start + chunk]
        outputs = []
        for offset, phi_needed, this_slot, prev_slot, next_slot in rings:
            r = window[b] + offset
            out = kernel(sat, frame, axes, v_sat, r, phi_needed, this_slot, prev_slot, next_slot, params)
            outputs.append(out + (np.broadcast_to(r[:, None], out[0].shape),))
        power, sx, vr, psi, ok, rng = (np.concatenate(column, axis=1) for column in zip(*outputs))
        rows = np.broadcast_to(b[:, None].astype(np.int32), ok.shape)
        pieces.append((rows[ok], power[ok], sx[ok], vr[ok], rng[ok], psi[ok]))
    return ClutterPatches(*(np.concatenate(column) for column in zip(*pieces)))


# --- cube synthesis --------------------------------------------------------------------------

_FLOAT32_GRID_MAX = 256
"""Largest grid (channels or pulses) whose phases are built in float32 from reduced increments."""


def _phasor_table(rate: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """complex64 ``exp(j 2π rate_p grid_k)``, (P, K), phase error <~ 2π K 2^-24 rad (2e-5 rad at K = 32).

    The phase can reach hundreds of cycles, so it is reduced modulo one cycle in float64. On a
    uniform grid ``g_k = g_0 + k δ`` (K <= 256) only the per-patch terms are reduced,
    ``frac(rate g_0) + k frac(rate δ)``, and the table is formed in float32 (|phase| <= K/2 + 1
    cycles, error ~K 2^-24 cycles); otherwise the float64 outer product is reduced element-wise.
    ``cos`` and ``sin`` of float32 are ~40x faster here than numpy's complex64 ``exp``.
    """
    rate = np.asarray(rate, dtype=np.float64)
    grid = np.asarray(grid, dtype=np.float64)
    k = grid.size
    step = (grid[-1] - grid[0]) / (k - 1) if k > 1 else 0.0
    uniform = k <= _FLOAT32_GRID_MAX and np.allclose(grid, grid[0] + step * np.arange(k), rtol=0.0,
                                                     atol=1e-9 * max(abs(step), 1e-300))
    if uniform:
        start = rate * grid[0]
        inc = rate * step
        start = (start - np.rint(start)).astype(np.float32)
        inc = (inc - np.rint(inc)).astype(np.float32)
        cycles = start[:, None] + inc[:, None] * np.arange(k, dtype=np.float32)
    else:
        cycles = np.outer(rate, grid)
        cycles = (cycles - np.rint(cycles)).astype(np.float32)
    cycles *= np.float32(2.0 * np.pi)
    out = np.empty(cycles.shape, dtype=np.complex64)
    np.cos(cycles, out=out.real)
    np.sin(cycles, out=out.imag)
    return out


def _uniform_grid(grid: np.ndarray) -> tuple[float, float] | None:
    """(g_0, δ) when ``grid`` is uniform (``g_k = g_0 + k δ``) and short enough for float32 phases."""
    grid = np.asarray(grid, dtype=np.float64)
    k = grid.size
    step = (grid[-1] - grid[0]) / (k - 1) if k > 1 else 0.0
    if k <= _FLOAT32_GRID_MAX and np.allclose(grid, grid[0] + step * np.arange(k), rtol=0.0,
                                              atol=1e-9 * max(abs(step), 1e-300)):
        return float(grid[0]), float(step)
    return None


def _clutter_tables_numpy(spatial_rate, x0, dx, num_channels, doppler_rate, t0, dt, num_pulses, amplitude):
    """(N, P) amplitude-weighted spatial and (P, M) Doppler tables of one bin, complex64.

    ``spatial[n, p] = a_p exp(j 2π spatial_rate_p (x0 + n dx))`` and
    ``doppler[p, m] = exp(j 2π doppler_rate_p (t0 + m dt))`` (rates in cycles per metre and per
    second). Plain-numpy twin of :func:`_clutter_tables_numba` (same signature, tested to agree).
    """
    spatial = _phasor_table(spatial_rate, x0 + dx * np.arange(num_channels))
    doppler = _phasor_table(doppler_rate, t0 + dt * np.arange(num_pulses))
    return np.ascontiguousarray((spatial * amplitude[:, None]).T), doppler


@njit(cache=True)
def _clutter_tables_numba(spatial_rate, x0, dx, num_channels, doppler_rate, t0, dt, num_pulses, amplitude):
    """Numba kernel of :func:`_clutter_tables_numpy` (same signature and results to ~2e-5 rad).

    Per patch: the start and increment phases reduced modulo one cycle in float64, their sincos in
    float32, then a float64 complex recurrence ``z_{k+1} = z_k w`` along the grid (error ~K 1e-16).
    The grid loop is outside the patch loop so the recurrences of all patches advance together
    (independent, vectorisable) instead of one latency-bound chain per patch. The Doppler table is
    filled as (M, P) and returned transposed (an F-ordered (P, M) view, which BLAS takes as is).
    """
    count = spatial_rate.size
    spatial = np.empty((num_channels, count), dtype=np.complex64)
    doppler_t = np.empty((num_pulses, count), dtype=np.complex64)
    two_pi = 2.0 * np.pi
    zr = np.empty(count)
    zi = np.empty(count)
    wr = np.empty(count)
    wi = np.empty(count)
    for p in range(count):
        start = spatial_rate[p] * x0
        inc = spatial_rate[p] * dx
        start -= math.floor(start + 0.5)
        inc -= math.floor(inc + 0.5)
        a = amplitude[p]
        c = np.cos(np.float32(two_pi * start))
        s = np.sin(np.float32(two_pi * start))
        zr[p] = a.real * c - a.imag * s
        zi[p] = a.real * s + a.imag * c
        wr[p] = np.cos(np.float32(two_pi * inc))
        wi[p] = np.sin(np.float32(two_pi * inc))
    for n in range(num_channels):
        for p in range(count):
            spatial[n, p] = complex(zr[p], zi[p])
            re = zr[p] * wr[p] - zi[p] * wi[p]
            zi[p] = zr[p] * wi[p] + zi[p] * wr[p]
            zr[p] = re
    for p in range(count):
        start = doppler_rate[p] * t0
        inc = doppler_rate[p] * dt
        start -= math.floor(start + 0.5)
        inc -= math.floor(inc + 0.5)
        zr[p] = np.cos(np.float32(two_pi * start))
        zi[p] = np.sin(np.float32(two_pi * start))
        wr[p] = np.cos(np.float32(two_pi * inc))
        wi[p] = np.sin(np.float32(two_pi * inc))
    for m in range(num_pulses):
        for p in range(count):
            doppler_t[m, p] = complex(zr[p], zi[p])
            re = zr[p] * wr[p] - zi[p] * wi[p]
            zi[p] = zr[p] * wi[p] + zi[p] * wr[p]
            zr[p] = re
    return spatial, doppler_t.T


def add_clutter(cube: np.ndarray, layout: CubeLayout, patches: ClutterPatches, rng: np.random.Generator, *,
                use_numba: bool = True) -> None:
    """Add the clutter of ``patches`` to ``cube`` [channel, pulse, range bin] in place.

    Each patch is a circular complex Gaussian amplitude ``a`` of mean power ``power_w``, constant
    over the CPI (no internal motion), with its spatial and Doppler phases, so bin ``l`` receives

        cube[:, :, l] += S_l diag(a_l) D_l,   S_l = exp(+j 2π x_n s_p / λ)  (N x P_l),
                                              D_l = exp(-j 4π v_p t_m / λ)  (P_l x M),

    one complex64 matrix product per bin (BLAS). The amplitudes are drawn in patch order
    (deterministic for a seeded ``rng``). The steering tables come from a numba kernel
    (:func:`_clutter_tables_numba`: a phase recurrence, two sincos per patch and table) or, with
    ``use_numba=False``, from its numpy twin (float32 ``cos``/``sin`` of every element); both
    agree to ~1e-5 rad. Irregular channel positions (or more than 256 pulses) always take an
    element-wise numpy path.
    """
    if cube.shape != layout.shape:
        raise ValueError(f"cube: expected shape {layout.shape} (layout), received {cube.shape}")
    count = patches.num_patches
    if count == 0:
        return
    if np.any(np.diff(patches.range_bin) < 0):
        raise ValueError("patches.range_bin: expected patches sorted by range bin (as clutter_patches returns them)")
    scale = np.sqrt(patches.power_w / 2.0).astype(np.float32)
    gauss = rng.standard_normal((count, 2), dtype=np.float32)
    amplitude = (gauss[:, 0] + 1j * gauss[:, 1]).astype(np.complex64) * scale
    edges = np.searchsorted(patches.range_bin, np.arange(layout.num_range_bins + 1))
    spatial_rate = patches.cone_sine / layout.wavelength_m                       # cycles per metre
    doppler_rate = patches.radial_velocity_mps * (-2.0 / layout.wavelength_m)   # cycles per second
    x_grid = _uniform_grid(layout.channel_x_m)
    t_grid = _uniform_grid(layout.pulse_times_s)
    kernel = _clutter_tables_numba if use_numba else _clutter_tables_numpy
    for l in range(layout.num_range_bins):
        lo, hi = edges[l], edges[l + 1]
        if hi == lo:
            continue
        if x_grid is not None and t_grid is not None:
            spatial, doppler = kernel(spatial_rate[lo:hi], x_grid[0], x_grid[1], layout.num_channels,
                                      doppler_rate[lo:hi], t_grid[0], t_grid[1], layout.num_pulses,
                                      amplitude[lo:hi])
        else:  # irregular channel positions (or > 256 pulses): element-wise phase reduction
            spatial = np.ascontiguousarray(
                (_phasor_table(spatial_rate[lo:hi], layout.channel_x_m) * amplitude[lo:hi, None]).T)
            doppler = _phasor_table(doppler_rate[lo:hi], layout.pulse_times_s)
        cube[:, :, l] += spatial @ doppler


def clutter_synthesis_complex_macs(layout: CubeLayout, patches: ClutterPatches) -> int:
    """Complex multiply-accumulates of the matrix products of :func:`add_clutter`: ``Σ_l N P_l M``."""
    return int(layout.num_channels) * int(layout.num_pulses) * patches.num_patches


# --- space-time statistics ---------------------------------------------------------------------

def space_time_steering(layout: CubeLayout, cone_sine, radial_velocity_mps) -> np.ndarray:
    """(K, N M) space-time steering vectors, channel-major (index ``n M + m``), complex128.

    ``v = a(s) ⊗ b(v_r)`` with ``a_n = exp(+j 2π x_n s/λ)`` and ``b_m = exp(-j 4π v_r t_m/λ)``;
    ``cone_sine`` and ``radial_velocity_mps`` broadcast against each other.
    """
    s, v = np.broadcast_arrays(np.atleast_1d(np.asarray(cone_sine, dtype=np.float64)),
                               np.atleast_1d(np.asarray(radial_velocity_mps, dtype=np.float64)))
    x = np.asarray(layout.channel_x_m, dtype=np.float64)
    a = np.exp(2j * np.pi * np.outer(s.ravel(), x) / layout.wavelength_m)
    b = np.exp(-4j * np.pi * np.outer(v.ravel(), layout.pulse_times_s) / layout.wavelength_m)
    return (a[:, :, None] * b[:, None, :]).reshape(s.size, -1)


def clutter_covariance(layout: CubeLayout, patches: ClutterPatches, range_bin: int,
                       noise_power_w: float) -> np.ndarray:
    """(N M, N M) space-time covariance of one range bin, channel-major: ``Σ_p P_p v_p v_pᴴ + σ² I``.

    ``E[x xᴴ]`` of ``x = cube[:, :, range_bin].ravel()`` for the clutter of :func:`add_clutter`
    plus white noise of power ``noise_power_w`` (W); complex128, Hermitian.
    """
    sel = patches.in_bin(range_bin)
    nm = layout.num_channels * layout.num_pulses
    cov = np.zeros((nm, nm), dtype=np.complex128)
    if sel.size:
        v = space_time_steering(layout, patches.cone_sine[sel], patches.radial_velocity_mps[sel])
        cov = (v.T * patches.power_w[sel]) @ v.conj()
        cov = 0.5 * (cov + cov.conj().T)
    cov[np.diag_indices(nm)] += noise_power_w
    return cov


def clutter_to_noise_per_channel_per_pulse(patches: ClutterPatches, range_bin: int, noise_power_w: float) -> float:
    """Linear CNR of one range bin, one channel, one pulse: ``Σ_p P_p / σ²`` over the bin's patches."""
    return float(np.sum(patches.power_w[patches.in_bin(range_bin)]) / noise_power_w)


def sinr_loss(covariance: np.ndarray, noise_power_w: float, spatial_sine, radial_velocity, layout: CubeLayout
              ) -> np.ndarray:
    """Optimum (known-covariance) STAP SINR loss ``σ² vᴴ R⁻¹ v / (N M)``, linear, in (0, 1].

    The SINR of the optimum weights ``w = R⁻¹ v`` relative to the noise-only matched filter
    (Ward, MIT LL TR-1015, 1994, Sec. 4; Klemm, *Principles of Space-Time Adaptive Processing*,
    Ch. 4). ``spatial_sine`` and ``radial_velocity`` (m/s) broadcast; the result has their
    broadcast shape. ``covariance`` is channel-major (:func:`clutter_covariance`).
    """
    s, v = np.broadcast_arrays(np.asarray(spatial_sine, dtype=np.float64),
                               np.asarray(radial_velocity, dtype=np.float64))
    steering = space_time_steering(layout, s.ravel(), v.ravel())                # (K, NM)
    factor = scipy.linalg.cho_factor(covariance, lower=True, check_finite=False)
    solved = scipy.linalg.cho_solve(factor, steering.T, check_finite=False)      # (NM, K)
    quad = np.real(np.sum(steering.T.conj() * solved, axis=0))
    return (noise_power_w * quad / steering.shape[1]).reshape(s.shape)
