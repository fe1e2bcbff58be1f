"""Geolocation of a detection from one look: slant range, cone sine and an assumed altitude.

Pure (numpy only). A detection measures the slant range ``R`` and the cone sine ``s = u . x_hat``
of its line of sight ``u`` (the along-track receive channels measure only this angle; see
:mod:`sbamti.radar.beam` for the antenna frame). The point ``p`` satisfies

* ``|p - S| = R``                  (range sphere around the satellite ``S``),
* ``(p - S) / R . x_hat = s``      (cone about the antenna's along-track axis),
* ``height(p) = h``                (geodetic height above WGS 84 equals the assumed altitude).

Solution
--------
Sphere and cone meet in a circle, parametrised by an angle ``phi``::

    u(phi) = s x_hat + sqrt(1 - s^2) (cos(phi) e1 + sin(phi) e2),

where ``e1`` is the geocentric nadir ``-S/|S|`` made perpendicular to ``x_hat`` (phi = 0 looks
as close to nadir as the cone allows) and ``e2 = +-(x_hat x e1)`` with its sign chosen so that the
boresight ``z_hat`` has ``z_hat . e2 >= 0``. The geodetic height along the circle has its minimum
near phi = 0 and rises monotonically (exactly so on a sphere) towards phi = +-pi, so the circle
meets the height-``h`` surface twice: once on each side of the nadir (the left/right ambiguity of
a side-looking radar). ``boresight_side = +1`` returns the root in (0, pi), on the boresight's
side of the nadir; ``-1`` the mirror root in (-pi, 0). The root is found vectorised over the
detections by Newton's method on ``g(phi) = height(p(phi)) - h`` safeguarded by bisection on the
bracket [0, pi]; the derivative is exact, ``g'(phi) = up(p) . dp/dphi`` (the gradient of the
geodetic height is the unit ellipsoid normal ``up``). The surface is the exact geodetic-height
surface of WGS 84 (heights from :func:`sbamti.geo.wgs84.ecef_to_geodetic`, Vermeille 2002), not the
``x^2/(a+h)^2 + ...`` approximation.

A result is *invalid* (``valid`` False, NaN position, latitude, longitude, altitude and covariance,
no exception) when the inputs are not finite, ``|s| >= 1``, ``R <= 0``, the circle does not reach
the surface (range shorter than the satellite's height above it, or a cone that misses the Earth:
``g(0) >= 0``), or the point lies beyond the satellite's horizon (``up(p) . (p - S) >= 0``: the
satellite is not above the point's local horizontal plane). For a surface at ``h >= 0`` (convex,
containing the Earth) a point with the satellite above its horizontal plane is also not hidden by
the Earth. Near nadir (grazing close to 90 deg) the two roots merge and the fix is ill-conditioned.

Covariance
----------
First-order propagation ``P = J diag(sigma_R^2, sigma_s^2, sigma_h^2) J^T`` with the Jacobian
``J = dp/d(R, s, h)`` (n, 3, 3) from central differences of the solver (steps ``_FD_STEPS``;
the solver converges to ~1e-9 m, far below the steps' effect). The ``h`` column is the altitude
ambiguity: raising the target at fixed range and cone moves it along the range circle, away from
the satellite, by ``dh tan(psi)`` in ground range (psi the grazing angle; exact spherical-Earth
result ``d(ground range)/dh = tan psi``, derived from ``cos alpha = (rho^2 + r^2 - R^2)/(2 rho r)``
and the law of sines), plus ``dh`` vertically.
Where a perturbed solve is invalid (a point within a step of the horizon) the covariance is NaN.

Second-order altitude term. An unknown aircraft altitude (sigma_h of kilometres) moves the point
kilometres along the range circle, and the circle bends towards the satellite by about
``a^2 / (2 R)`` for an arc ``a ~ dh / cos(psi)``: ~11 m for 3 km at R = 1000 km, which is not small
against a range error of ~10 m, and the first-order covariance is then inconsistent (mean NEES
4.6 instead of 3 with sigma_R = 15 m, 130 urad, 3 km at 1000 km; measured). ``geolocate`` therefore
adds, by default, the second-order term of the error's second moment for Gaussian ``dh``:
``e ~ J d + 1/2 p_hh dh^2`` gives ``E[e e^T] = J Sigma J^T + 3/4 sigma_h^4 p_hh p_hh^T``, with
``p_hh = d2p/dh2`` from a central second difference. The covariance is thus the mean-square-error
matrix about the reported point (which stays on the assumed-altitude surface), so
``E[e^T P^-1 e] = 3``. The other second-order terms (in R and s) are neglected: with sigma_s ~ 1e-4
and sigma_R ~ 10 m they are below a metre.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sbamti.errors import ConfigurationError
from sbamti.geo.wgs84 import ecef_to_geodetic

_MAX_ITERATIONS = 100
_PHI_TOL_RAD = 1e-15
"""Newton/bisection stop: |step| below this angle (x R ~ 2e6 m -> ~2 nm along the circle)."""
_FD_STEPS = (1.0, 1e-6, 100.0)
"""Central-difference steps for (R [m], cone sine [-], h [m]); the h step also gives d2p/dh2."""


@dataclass(frozen=True)
class Geolocation:
    """Geolocated detections.

    Attributes
    ----------
    position_ecef_m : ndarray (n, 3), m
    covariance_ecef_m2 : ndarray (n, 3, 3), m^2
        First-order covariance of the position from the range, cone-sine and altitude errors.
    latitude_rad, longitude_rad, altitude_m : ndarray (n,)
        Geodetic coordinates of the position (WGS 84); ``altitude_m`` equals the assumed altitude.
    valid : ndarray (n,) bool
        False where range sphere, cone and raised ellipsoid have no visible common point; the other
        fields are NaN there.
    """

    position_ecef_m: np.ndarray
    covariance_ecef_m2: np.ndarray
    latitude_rad: np.ndarray
    longitude_rad: np.ndarray
    altitude_m: np.ndarray
    valid: np.ndarray


def _vector3(name, value):
    v = np.asarray(value, dtype=np.float64)
    if v.shape != (3,) or not np.all(np.isfinite(v)):
        raise ConfigurationError(f"{name}: expected 3 finite numbers (shape (3,)), received shape {v.shape}")
    return v


def _per_detection(name, value, n, *, std=False):
    v = np.asarray(value, dtype=np.float64)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ConfigurationError(f"{name}: expected a scalar or shape ({n},) (one per detection), "
                                 f"received shape {v.shape}")
    if std and not np.all((v >= 0.0) & np.isfinite(v)):
        bad = v[~((v >= 0.0) & np.isfinite(v))][0]
        raise ConfigurationError(f"{name}: standard deviations must be finite and >= 0, received {bad}")
    return v


def _circle_basis(sat, axes, boresight_side):
    x_hat, _, z_hat = axes
    nadir = -sat / np.linalg.norm(sat)
    e1 = nadir - np.dot(nadir, x_hat) * x_hat
    norm = np.linalg.norm(e1)
    if not norm > 1e-9:
        raise ConfigurationError("antenna_axes: the along-track axis x_hat is parallel to the nadir; "
                                 "the cone's circles are not defined")
    e1 /= norm
    e2 = np.cross(x_hat, e1)
    if np.dot(z_hat, e2) < 0.0:
        e2 = -e2
    return x_hat, e1, boresight_side * e2


def _solve(sat, x_hat, e1, e2, rng, cone, alt):
    """Points (n, 3) and validity (n,) for (R, s, h); the core of :func:`geolocate`."""
    n = rng.shape[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = np.isfinite(rng) & np.isfinite(cone) & np.isfinite(alt) & (rng > 0.0) & (np.abs(cone) < 1.0)
        radius = rng * np.sqrt(1.0 - cone * cone)
        centre = sat + (rng * cone)[:, None] * x_hat

        def point(phi):
            c, s = np.cos(phi)[:, None], np.sin(phi)[:, None]
            p = centre + radius[:, None] * (c * e1 + s * e2)
            dp = radius[:, None] * (-s * e1 + c * e2)
            return p, dp

        def g_and_up(p):
            lat, lon, h = ecef_to_geodetic(p)
            cl = np.cos(lat)
            up = np.stack([cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)], axis=-1)
            return h - alt, up

        lo = np.zeros(n)
        hi = np.full(n, np.pi)
        g_lo, _ = g_and_up(point(lo)[0])
        g_hi, _ = g_and_up(point(hi)[0])
        # NaN heights (within ~43 km of the Earth's centre) count as below the surface.
        ok &= ~(g_lo >= 0.0) & (g_hi > 0.0)
        phi = np.where(ok, 0.5 * np.pi, np.nan)
        for _ in range(_MAX_ITERATIONS):
            p, dp = point(phi)
            g, up = g_and_up(p)
            below = ~(g >= 0.0)
            lo = np.where(below, phi, lo)
            hi = np.where(below, hi, phi)
            new = phi - g / np.sum(up * dp, axis=-1)
            outside = ~((new > lo) & (new < hi))
            new = np.where(outside, 0.5 * (lo + hi), new)
            step = np.abs(new - phi)
            phi = new
            if not np.any(step > _PHI_TOL_RAD):  # NaN (invalid) rows count as done
                break
        p, _ = point(phi)
        _, up = g_and_up(p)
        ok &= np.sum(up * (p - sat), axis=-1) < 0.0
    p[~ok] = np.nan
    return p, ok


def geolocate(sat_pos_ecef_m: ArrayLike, antenna_axes: ArrayLike, slant_range_m: ArrayLike,
              cone_sine: ArrayLike, *, assumed_altitude_m: ArrayLike = 0.0, range_std_m: ArrayLike = 0.0,
              cone_sine_std: ArrayLike = 0.0, altitude_std_m: ArrayLike = 0.0,
              boresight_side: int = +1, second_order_altitude: bool = True) -> Geolocation:
    """Geolocate detections from slant range, cone sine and an assumed geodetic altitude.

    Parameters
    ----------
    sat_pos_ecef_m : array (3,), m
        Satellite position (ECEF) at the detection time.
    antenna_axes : array (3, 3)
        Rows x_hat (along-track, receive-channel axis), y_hat, z_hat (boresight), ECEF unit vectors
        (:func:`sbamti.radar.beam.antenna_axes`).
    slant_range_m : array (n,), m
    cone_sine : array (n,)
        ``u . x_hat`` of the line of sight ``u``, in (-1, 1).
    assumed_altitude_m : float or array (n,), m
        Geodetic height of the target above WGS 84 (0 for ground movers).
    range_std_m, cone_sine_std, altitude_std_m : float or array (n,)
        Standard deviations (>= 0) of the range (m), cone sine and assumed altitude (m).
    boresight_side : {+1, -1}
        +1: the solution on the boresight's side of the nadir; -1: its mirror across the nadir
        (see the module docstring).
    second_order_altitude : bool
        Add the second-order altitude term ``3/4 sigma_h^4 p_hh p_hh^T`` to the covariance
        (module docstring); False gives the plain first-order ``J Sigma J^T``.

    Returns
    -------
    Geolocation
        Invalid rows (see the module docstring) are flagged, NaN, and raise nothing.
    """
    sat, axes, rng, n = _check_geometry(sat_pos_ecef_m, antenna_axes, slant_range_m, boresight_side)
    cone = _per_detection("cone_sine", cone_sine, n)
    alt = _per_detection("assumed_altitude_m", assumed_altitude_m, n)
    sigmas = np.stack([_per_detection("range_std_m", range_std_m, n, std=True),
                       _per_detection("cone_sine_std", cone_sine_std, n, std=True),
                       _per_detection("altitude_std_m", altitude_std_m, n, std=True)], axis=-1)

    x_hat, e1, e2 = _circle_basis(sat, axes, boresight_side)
    pos, valid = _solve(sat, x_hat, e1, e2, rng, cone, alt)

    jac, p_hh = _jacobian(sat, x_hat, e1, e2, np.stack([rng, cone, alt]), pos)
    cov = np.einsum("nik,nk,njk->nij", jac, sigmas * sigmas, jac)
    if second_order_altitude:
        sh2 = sigmas[:, 2] ** 2
        cov += 0.75 * (sh2 * sh2)[:, None, None] * p_hh[:, :, None] * p_hh[:, None, :]
    cov[~valid] = np.nan

    lat, lon, h = ecef_to_geodetic(pos)
    return Geolocation(pos, cov, lat, lon, h, valid)


def position_jacobian(sat_pos_ecef_m: ArrayLike, antenna_axes: ArrayLike, slant_range_m: ArrayLike,
                      cone_sine: ArrayLike, *, assumed_altitude_m: ArrayLike = 0.0,
                      boresight_side: int = +1) -> np.ndarray:
    """``J = dp/d(R, s, h)``, (n, 3, 3): columns in m/m, m per unit cone sine, m/m.

    The Jacobian behind :func:`geolocate`'s covariance (same arguments, same central differences);
    NaN rows where the geolocation is invalid.
    """
    sat, axes, rng, n = _check_geometry(sat_pos_ecef_m, antenna_axes, slant_range_m, boresight_side)
    params = np.stack([rng, _per_detection("cone_sine", cone_sine, n),
                       _per_detection("assumed_altitude_m", assumed_altitude_m, n)])
    x_hat, e1, e2 = _circle_basis(sat, axes, boresight_side)
    pos, _ = _solve(sat, x_hat, e1, e2, *params)
    return _jacobian(sat, x_hat, e1, e2, params, pos)[0]


def _jacobian(sat, x_hat, e1, e2, params, pos):
    """Central differences of :func:`_solve` at params (3, n) = (R, s, h), solution pos (n, 3).

    Returns the Jacobian (n, 3, 3) and the second derivative d2p/dh2 (n, 3).
    """
    jac = np.empty((params.shape[1], 3, 3))
    for k, step in enumerate(_FD_STEPS):
        plus, minus = params.copy(), params.copy()
        plus[k] += step
        minus[k] -= step
        p_plus, _ = _solve(sat, x_hat, e1, e2, *plus)
        p_minus, _ = _solve(sat, x_hat, e1, e2, *minus)
        jac[:, :, k] = (p_plus - p_minus) / (2.0 * step)
    p_hh = (p_plus - 2.0 * pos + p_minus) / (step * step)   # the last step is h's
    return jac, p_hh


def _check_geometry(sat_pos_ecef_m, antenna_axes, slant_range_m, boresight_side):
    sat = _vector3("sat_pos_ecef_m", sat_pos_ecef_m)
    axes = np.asarray(antenna_axes, dtype=np.float64)
    if axes.shape != (3, 3) or not np.all(np.isfinite(axes)):
        raise ConfigurationError(f"antenna_axes: expected a finite (3, 3) array (rows x_hat, y_hat, z_hat), "
                                 f"received shape {axes.shape}")
    if not np.allclose(axes @ axes.T, np.eye(3), atol=1e-9):
        raise ConfigurationError("antenna_axes: rows must be orthonormal unit vectors (x_hat, y_hat, z_hat)")
    if boresight_side not in (1, -1):
        raise ConfigurationError(f"boresight_side: expected +1 or -1, received {boresight_side!r}")
    rng = np.asarray(slant_range_m, dtype=np.float64)
    if rng.ndim != 1:
        raise ConfigurationError(f"slant_range_m: expected shape (n,), received shape {rng.shape}")
    return sat, axes, rng, rng.shape[0]
