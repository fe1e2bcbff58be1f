"""Where the radar looks: antenna axes for a dwell and a beam schedule over the areas of interest.

Antenna frame (rows of ``antenna_axes``, ECEF unit vectors):
  ẑ  boresight: the line of sight to the dwell's beam centre (electronic steering puts it there);
  x̂  the antenna's long (along-track) axis: the satellite's *inertial* velocity direction, made
      perpendicular to ẑ — the antenna is fixed to the orbit, with no yaw steering, so Earth rotation
      shows up as a crab of the clutter ridge (RADAR_PARAMETERS.md §3.7);
  ŷ  = ẑ × x̂, completing a right-handed frame.
A direction ``u`` has cone sine ``u·x̂`` (azimuth, the receive channels' phase axis) and elevation
sine ``u·ŷ``.

The schedule tiles each area of interest with beam cells about one footprint apart and, at each
dwell, points at the visible cell (grazing angle within the radar's limits, and within the azimuth
scan limit off broadside) that was visited longest ago, so every visible cell is revisited in turn.
"""

from __future__ import annotations

import numpy as np

from sbamti.geo.wgs84 import OMEGA_EARTH_RAD_S, geodetic_to_ecef

MEAN_EARTH_RADIUS_M = 6_371_008.8


def inertial_velocity_ecef(sat_pos_ecef_m: np.ndarray, sat_vel_ecef_mps: np.ndarray) -> np.ndarray:
    """Inertial velocity expressed in ECEF axes: ``v_ecef + ω × r``."""
    r = np.asarray(sat_pos_ecef_m, dtype=np.float64)
    omega_cross_r = OMEGA_EARTH_RAD_S * np.array([-r[1], r[0], 0.0])
    return np.asarray(sat_vel_ecef_mps, dtype=np.float64) + omega_cross_r


def antenna_axes(sat_pos_ecef_m: np.ndarray, sat_vel_ecef_mps: np.ndarray, beam_centre_ecef_m: np.ndarray) -> np.ndarray:
    """(3, 3) rows x̂, ŷ, ẑ of the antenna frame in ECEF (see the module docstring)."""
    boresight = np.asarray(beam_centre_ecef_m, dtype=np.float64) - np.asarray(sat_pos_ecef_m, dtype=np.float64)
    z = boresight / np.linalg.norm(boresight)
    along = inertial_velocity_ecef(sat_pos_ecef_m, sat_vel_ecef_mps)
    x = along - np.dot(along, z) * z
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])


def area_cells(area, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) rad of beam-cell centres on a grid ``spacing_m`` apart that lie inside ``area``.

    ``area`` has ``contains(lat, lon)`` and either ``vertices`` (polygon) or ``centre`` and
    ``radius_m`` (circle), as :class:`sbamti.radar.scenario.Area`. An area smaller than one cell
    gets one cell at its centre.
    """
    if area.kind == "circle":
        lat0, lon0 = area.centre
        half = area.radius_m / MEAN_EARTH_RADIUS_M
        lat_lo, lat_hi = lat0 - half, lat0 + half
        lon_half = half / max(np.cos(lat0), 1e-6)
        lon_lo, lon_hi = lon0 - lon_half, lon0 + lon_half
        centre = (lat0, lon0)
    else:
        lat_lo, lat_hi = area.vertices[:, 0].min(), area.vertices[:, 0].max()
        lon_lo, lon_hi = area.vertices[:, 1].min(), area.vertices[:, 1].max()
        centre = (area.vertices[:, 0].mean(), area.vertices[:, 1].mean())
    step_lat = spacing_m / MEAN_EARTH_RADIUS_M
    lats = np.arange(lat_lo + step_lat / 2, lat_hi, step_lat)
    cells_lat, cells_lon = [], []
    for lat in lats:
        step_lon = step_lat / max(np.cos(lat), 1e-6)
        lons = np.arange(lon_lo + step_lon / 2, lon_hi, step_lon)
        inside = area.contains(np.full(lons.shape, lat), lons)
        cells_lat.append(np.full(int(inside.sum()), lat))
        cells_lon.append(lons[inside])
    lat = np.concatenate(cells_lat) if cells_lat else np.empty(0)
    lon = np.concatenate(cells_lon) if cells_lon else np.empty(0)
    if lat.size == 0:
        lat, lon = np.array([centre[0]]), np.array([centre[1]])
    return lat, lon


class BeamScheduler:
    """Round-robin (least recently visited first) over the beam cells visible from the satellite.

    Parameters
    ----------
    cells_lat_rad, cells_lon_rad : (K,) beam-cell centres, on the ellipsoid (height 0)
    grazing_min_rad, grazing_max_rad : a cell is visible when its grazing angle is inside
    max_scan_rad : and when its line of sight is within this angle of broadside (perpendicular to the
        antenna's long axis, the inertial velocity), when the satellite velocity is given
    """

    def __init__(self, cells_lat_rad: np.ndarray, cells_lon_rad: np.ndarray, grazing_min_rad: float,
                 grazing_max_rad: float, max_scan_rad: float = np.pi / 2) -> None:
        self.cells_lat_rad = np.asarray(cells_lat_rad, dtype=np.float64)
        self.cells_lon_rad = np.asarray(cells_lon_rad, dtype=np.float64)
        self.cells_ecef_m = geodetic_to_ecef(self.cells_lat_rad, self.cells_lon_rad, np.zeros_like(self.cells_lat_rad))
        # local vertical (WGS84 normal) of every cell, computed once: visibility is then a dot product
        self.cells_up = np.stack([np.cos(self.cells_lat_rad) * np.cos(self.cells_lon_rad),
                                  np.cos(self.cells_lat_rad) * np.sin(self.cells_lon_rad),
                                  np.sin(self.cells_lat_rad)], axis=-1)
        self.grazing_min_rad, self.grazing_max_rad = grazing_min_rad, grazing_max_rad
        self.max_scan_sine = float(np.sin(max_scan_rad))
        self.last_visit_ns = np.full(self.cells_lat_rad.size, np.iinfo(np.int64).min, dtype=np.int64)
        self.enabled = np.ones(self.cells_lat_rad.size, dtype=bool)   # cells the schedule may use

    def __len__(self) -> int:
        return self.cells_lat_rad.size

    def grazing_rad(self, sat_pos_ecef_m: np.ndarray) -> np.ndarray:
        """(K,) grazing angle of the satellite seen from each cell (elevation above its local horizontal)."""
        to_sat = np.asarray(sat_pos_ecef_m, dtype=np.float64) - self.cells_ecef_m
        sine = np.einsum("ij,ij->i", to_sat, self.cells_up) / np.linalg.norm(to_sat, axis=1)
        return np.arcsin(np.clip(sine, -1.0, 1.0))

    def visible(self, sat_pos_ecef_m: np.ndarray, sat_vel_ecef_mps: np.ndarray | None = None) -> np.ndarray:
        """Boolean (K,): enabled cells within the grazing limits (and the scan limit, given the velocity)."""
        if not len(self):
            return np.zeros(0, dtype=bool)
        grazing = self.grazing_rad(sat_pos_ecef_m)
        ok = (grazing >= self.grazing_min_rad) & (grazing <= self.grazing_max_rad) & self.enabled
        if sat_vel_ecef_mps is not None:
            axis = inertial_velocity_ecef(sat_pos_ecef_m, sat_vel_ecef_mps)
            axis /= np.linalg.norm(axis)
            los = self.cells_ecef_m - np.asarray(sat_pos_ecef_m, dtype=np.float64)
            squint_sine = (los @ axis) / np.linalg.norm(los, axis=1)
            ok &= np.abs(squint_sine) <= self.max_scan_sine
        return ok

    def next_cell(self, sat_pos_ecef_m: np.ndarray, utc_ns: int, sat_vel_ecef_mps: np.ndarray | None = None
                  ) -> int | None:
        """Index of the cell to look at now (and mark it visited), or None when none is visible."""
        visible = np.nonzero(self.visible(sat_pos_ecef_m, sat_vel_ecef_mps))[0]
        if visible.size == 0:
            return None
        chosen = int(visible[np.argmin(self.last_visit_ns[visible])])  # ties: lowest index
        self.last_visit_ns[chosen] = utc_ns
        return chosen
