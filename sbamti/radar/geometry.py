"""Look geometry of a space-based radar: spherical-Earth relations and exact WGS 84 versions.

Pure (numpy only); every function broadcasts over its array arguments.

Spherical Earth (RADAR_PARAMETERS.md Sec. 4)
--------------------------------------------
Satellite at radius ``r`` from the Earth's centre, ground point on a sphere of radius ``R_E``,
slant range ``R``. In the triangle centre-satellite-point the law of cosines gives

* off-nadir angle eta (at the satellite):  cos eta = (r^2 + R^2 - R_E^2) / (2 r R)
* Earth-central angle alpha:                cos alpha = (R_E^2 + r^2 - R^2) / (2 R_E r)
* grazing angle psi = 90 deg - eta - alpha, equivalently sin psi = (r^2 - R_E^2 - R^2) / (2 R_E R)
* ground range from nadir = R_E alpha.

The functions use the numerically stable equivalents (``arctan2``) of these forms; the test checks
them against the cosine forms above. The default radius is the WGS 84 equatorial radius
``a = 6378.137 km``: the sheet's orbital speed (7451.8 m/s) and period (100.9 min) for h = 800 km
are those of ``r = a + h``. (Its Sec. 3.3 angles and ground ranges agree to 0.01 deg and 0.1 km with
R_E = 6371 km too.) Where a slant range has no visible ground point (``R < r - R_E`` or beyond
the horizon ``sqrt(r^2 - R_E^2)``) the result is NaN.

WGS 84
------
:func:`look_geometry` measures the grazing angle from the local horizontal plane of the
ellipsoid (geodetic normal at the ground point) and :func:`range_ring_points` solves for points
on the ellipsoid itself (Newton iterations from the spherical solution).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sbamti.geo.wgs84 import A_M, B_M, ecef_to_geodetic

_NEWTON_MAX_ITERATIONS = 30
_ELLIPSOID_RESIDUAL_TOL = 1e-13
"""Largest accepted |x^2/a^2 + y^2/a^2 + z^2/b^2 - 1| of a ring point: ~a/2 x 1e-13 = 0.3 um of height."""


def _out(x: np.ndarray) -> np.ndarray | float:
    return x if x.ndim else float(x)


def _valid_spherical(r_slant, r_orbit, r_earth):
    return (r_slant >= r_orbit - r_earth) & (r_slant * r_slant <= r_orbit * r_orbit - r_earth * r_earth) \
        & (r_orbit > r_earth)


def horizon_slant_range_m(orbit_radius_m: ArrayLike, earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Slant range to the horizon (zero grazing), ``sqrt(r^2 - R_E^2)``, m."""
    r = np.asarray(orbit_radius_m, dtype=np.float64)
    re = np.asarray(earth_radius_m, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return _out(np.sqrt(r * r - re * re))


def grazing_angle_rad(slant_range_m: ArrayLike, orbit_radius_m: ArrayLike,
                      earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Grazing angle psi, rad, of the ground point at slant range R (spherical Earth).

    ``sin psi = (r^2 - R_E^2 - R^2) / (2 R_E R)``; NaN where the range has no visible ground point.
    """
    rs, r, re = (np.asarray(x, dtype=np.float64) for x in (slant_range_m, orbit_radius_m, earth_radius_m))
    ok = _valid_spherical(rs, r, re)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = np.clip((r * r - re * re - rs * rs) / (2.0 * re * rs), -1.0, 1.0)
        return _out(np.where(ok, np.arcsin(s), np.nan))


def slant_range_for_grazing(grazing_rad: ArrayLike, orbit_radius_m: ArrayLike,
                            earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Slant range R, m, at which the ground is seen at grazing angle psi in [0, pi/2] (spherical Earth).

    The positive root of ``R^2 + 2 R_E sin(psi) R + R_E^2 - r^2 = 0`` (inverse of
    :func:`grazing_angle_rad`); NaN outside [0, pi/2].
    """
    psi, r, re = (np.asarray(x, dtype=np.float64) for x in (grazing_rad, orbit_radius_m, earth_radius_m))
    s = np.sin(psi)
    with np.errstate(invalid="ignore"):
        q = r * r - re * re
        # R = -R_E s + sqrt(R_E^2 s^2 + q), written without cancellation as q / (R_E s + sqrt(...)).
        rs = q / (re * s + np.sqrt(re * re * s * s + q))
        ok = (psi >= 0.0) & (psi <= 0.5 * np.pi) & (r > re)
        return _out(np.where(ok, rs, np.nan))


def _central_angle(rs, r, re):
    """Earth-central angle alpha between nadir and the point, from R and psi (stable form)."""
    psi = np.asarray(grazing_angle_rad(rs, r, re), dtype=np.float64)
    return np.arctan2(rs * np.cos(psi), re + rs * np.sin(psi)), psi


def ground_range_m(slant_range_m: ArrayLike, orbit_radius_m: ArrayLike,
                   earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Great-circle distance, m, from the sub-satellite point to the point at slant range R: ``R_E alpha``."""
    rs, r, re = (np.asarray(x, dtype=np.float64) for x in (slant_range_m, orbit_radius_m, earth_radius_m))
    alpha, _ = _central_angle(rs, r, re)
    return _out(re * alpha)


def off_nadir_angle_rad(slant_range_m: ArrayLike, orbit_radius_m: ArrayLike,
                        earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Off-nadir (look) angle eta, rad, at the satellite: ``eta = pi/2 - psi - alpha`` (spherical Earth)."""
    rs, r, re = (np.asarray(x, dtype=np.float64) for x in (slant_range_m, orbit_radius_m, earth_radius_m))
    alpha, psi = _central_angle(rs, r, re)
    return _out(np.maximum(0.5 * np.pi - psi - alpha, 0.0))  # rounding gives -1e-17 at nadir


def slant_range_for_off_nadir(off_nadir_rad: ArrayLike, orbit_radius_m: ArrayLike,
                              earth_radius_m: ArrayLike = A_M) -> np.ndarray | float:
    """Slant range, m, where a ray at off-nadir angle eta first meets the sphere (NaN if it misses).

    ``R = r cos(eta) - sqrt(R_E^2 - r^2 sin^2(eta))`` (inverse of :func:`off_nadir_angle_rad`).
    """
    eta, r, re = (np.asarray(x, dtype=np.float64) for x in (off_nadir_rad, orbit_radius_m, earth_radius_m))
    with np.errstate(invalid="ignore"):
        disc = re * re - (r * np.sin(eta)) ** 2
        near = (r * r - re * re) / (r * np.cos(eta) + np.sqrt(disc))
        ok = (disc >= 0.0) & (eta >= 0.0) & (eta <= 0.5 * np.pi) & (r > re)
        return _out(np.where(ok, near, np.nan))


@dataclass(frozen=True)
class LookGeometry:
    """Geometry of the lines of sight from a satellite to ground (or air) points, WGS 84.

    Attributes
    ----------
    slant_range_m : ndarray (...,), m
    los_unit : ndarray (..., 3)
        ECEF unit vector from the satellite to the point.
    grazing_angle_rad : ndarray (...,)
        Elevation of the satellite above the point's local horizontal plane (the plane normal to
        the WGS 84 ellipsoid normal through the point), rad; pi/2 straight overhead, negative
        when the satellite is below the point's horizon.
    off_nadir_angle_rad : ndarray (...,)
        Angle at the satellite between the geocentric nadir ``-r_sat / |r_sat|`` (the z axis of
        the orbit's local-vertical local-horizontal frame) and the line of sight, rad.
    """

    slant_range_m: np.ndarray
    los_unit: np.ndarray
    grazing_angle_rad: np.ndarray
    off_nadir_angle_rad: np.ndarray


def look_geometry(sat_pos_ecef_m: ArrayLike, point_ecef_m: ArrayLike) -> LookGeometry:
    """Slant range, line of sight, grazing and off-nadir angles from satellite(s) to point(s).

    Parameters
    ----------
    sat_pos_ecef_m : array (..., 3), m
    point_ecef_m : array (..., 3), m
        Broadcast against ``sat_pos_ecef_m`` (e.g. one satellite (3,) and points (n, 3)). Points
        must be farther than ~43 km from the Earth's centre (any ground or air point).
    """
    sat = np.asarray(sat_pos_ecef_m, dtype=np.float64)
    pts = np.asarray(point_ecef_m, dtype=np.float64)
    if sat.shape[-1:] != (3,) or pts.shape[-1:] != (3,):
        raise ValueError(f"sat_pos_ecef_m and point_ecef_m: expected shape (..., 3), "
                         f"received {sat.shape} and {pts.shape}")
    sat, pts = np.broadcast_arrays(sat, pts)
    los = pts - sat
    rng = np.linalg.norm(los, axis=-1)
    los_unit = los / rng[..., None]

    lat, lon, _ = ecef_to_geodetic(pts)
    up = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)
    to_sat = -los_unit
    vertical = np.sum(to_sat * up, axis=-1)
    horizontal = np.linalg.norm(to_sat - vertical[..., None] * up, axis=-1)
    grazing = np.arctan2(vertical, horizontal)

    nadir = -sat / np.linalg.norm(sat, axis=-1, keepdims=True)
    along = np.sum(nadir * los_unit, axis=-1)
    across = np.linalg.norm(np.cross(nadir, los_unit), axis=-1)
    off_nadir = np.arctan2(across, along)
    return LookGeometry(rng, los_unit, grazing, off_nadir)


def orbit_frame(sat_pos_ecef_m: ArrayLike, sat_vel_ecef_mps: ArrayLike) -> np.ndarray:
    """(3, 3) rows: along-track, right (starboard) cross-track and nadir unit vectors in ECEF.

    Nadir is geocentric ``-r / |r|``; along-track is the velocity with its radial part removed;
    right = nadir x along-track, so (along, right, nadir) is a right-handed frame (x forward,
    y right, z down, like an aircraft body frame).
    """
    s = np.asarray(sat_pos_ecef_m, dtype=np.float64)
    v = np.asarray(sat_vel_ecef_mps, dtype=np.float64)
    if s.shape != (3,) or v.shape != (3,):
        raise ValueError(f"sat_pos_ecef_m, sat_vel_ecef_mps: expected shape (3,), received {s.shape}, {v.shape}")
    nadir = -s / np.linalg.norm(s)
    horizontal = v - np.dot(v, nadir) * nadir
    speed = np.linalg.norm(horizontal)
    if not speed > 1e-9 * max(np.linalg.norm(v), 1.0):
        raise ValueError(f"sat_vel_ecef_mps: {v} has no component perpendicular to the nadir; "
                         "the along-track direction is undefined")
    along = horizontal / speed
    right = np.cross(nadir, along)
    return np.stack([along, right, nadir])


def range_ring_points(sat_pos_ecef_m: ArrayLike, sat_vel_ecef_mps: ArrayLike, slant_range_m: ArrayLike,
                      azimuth_angles_rad: ArrayLike) -> np.ndarray:
    """Points of the WGS 84 ellipsoid at a given slant range from the satellite (an iso-range ring).

    The ring is parametrised by the azimuth ``phi`` of the line of sight around the geocentric
    nadir, measured in the orbit frame of :func:`orbit_frame` from the along-track direction
    (phi = 0, ahead) towards the right side of the track (phi = pi/2, starboard; 3 pi/2 = port). For
    each phi the off-nadir (cone) angle theta of the ray ``S + R u(theta, phi)``,
    ``u = cos(theta) nadir + sin(theta) (cos(phi) along + sin(phi) right)``, is solved so the point
    lies on the ellipsoid ``(x^2 + y^2)/a^2 + z^2/b^2 = 1``: Newton iterations on theta starting from
    the spherical solution with the ellipsoid's radius under the satellite. The near (visible)
    intersection is returned; the slant range is exact by construction.

    Parameters
    ----------
    sat_pos_ecef_m, sat_vel_ecef_mps : array (3,)
        Satellite position (m) and velocity (m/s) in ECEF; the velocity only orients phi.
    slant_range_m : array_like, m
    azimuth_angles_rad : array_like
        Broadcast with ``slant_range_m``.

    Returns
    -------
    ndarray (..., 3), m
        ECEF points, shape ``broadcast(slant_range_m, azimuth_angles_rad).shape + (3,)``; NaN rows
        where the range does not reach the ellipsoid or passes beyond its horizon.
    """
    frame = orbit_frame(sat_pos_ecef_m, sat_vel_ecef_mps)
    along, right, nadir = frame
    s = np.asarray(sat_pos_ecef_m, dtype=np.float64)
    rs, phi = np.broadcast_arrays(np.asarray(slant_range_m, dtype=np.float64),
                                  np.asarray(azimuth_angles_rad, dtype=np.float64))
    shape = rs.shape
    rs = rs.reshape(-1)
    phi = phi.reshape(-1)

    r_orbit = np.linalg.norm(s)
    # Radius of the ellipsoid along the geocentric nadir line, for the spherical first guess.
    u_s = s / r_orbit
    r_local = 1.0 / np.sqrt((u_s[0] ** 2 + u_s[1] ** 2) / A_M ** 2 + u_s[2] ** 2 / B_M ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_theta0 = np.clip((r_orbit ** 2 + rs * rs - r_local ** 2) / (2.0 * r_orbit * rs), -1.0, 1.0)
    theta = np.arccos(cos_theta0)

    h = np.cos(phi)[:, None] * along + np.sin(phi)[:, None] * right   # horizontal unit vectors (n, 3)
    w = np.array([1.0 / A_M ** 2, 1.0 / A_M ** 2, 1.0 / B_M ** 2])

    def residual(th):
        p = s + rs[:, None] * (np.cos(th)[:, None] * nadir + np.sin(th)[:, None] * h)
        dp = rs[:, None] * (-np.sin(th)[:, None] * nadir + np.cos(th)[:, None] * h)
        return p, np.sum(w * p * p, axis=-1) - 1.0, 2.0 * np.sum(w * p * dp, axis=-1)

    with np.errstate(invalid="ignore", divide="ignore"):
        for _ in range(_NEWTON_MAX_ITERATIONS):
            p, f, df = residual(theta)
            step = f / df
            theta = theta - step
            if not np.any(np.abs(step) > 1e-15):  # NaN steps count as done
                break
        p, f, _ = residual(theta)
    bad = ~(np.abs(f) <= _ELLIPSOID_RESIDUAL_TOL) | (theta < 0.0) | (theta > 0.5 * np.pi)
    # A ray must reach the point before crossing the ellipsoid elsewhere: the near root has the
    # line of sight entering the surface (pointing against the outward normal).
    normal = w * p
    entering = np.sum(normal * (p - s), axis=-1) <= 0.0
    bad |= ~entering
    p[bad] = np.nan
    return p.reshape(shape + (3,))
