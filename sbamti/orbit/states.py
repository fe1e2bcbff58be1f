"""Full orbit states: SGP4 TEME output carried to ITRS/ECEF, WGS84 geodetic and LVLH attitude.

One call computes everything ``orbit_state`` publishes for ``n_sat`` satellites at ``n_t`` epochs;
the rotation TEME→ITRS depends on time only, so it is built once per epoch, not per satellite.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sbamti.geo.earth_orientation import EarthOrientationTable
from sbamti.geo.frames import lvlh_to_ecef_quaternion, teme_to_itrs, teme_to_itrs_matrix
from sbamti.geo.timescales import utc_ns_to_jd_split
from sbamti.geo.wgs84 import ecef_to_geodetic
from sbamti.orbit.propagation import Propagator, TemeStates


@dataclass(frozen=True)
class OrbitStates:
    """States of ``n_sat`` satellites at ``n_t`` epochs (arrays indexed [satellite, epoch, ...])."""

    teme: TemeStates
    position_ecef_m: np.ndarray        # (n_sat, n_t, 3)
    velocity_ecef_mps: np.ndarray      # (n_sat, n_t, 3), rotating frame
    latitude_rad: np.ndarray           # (n_sat, n_t)
    longitude_rad: np.ndarray          # (n_sat, n_t)
    altitude_m: np.ndarray             # (n_sat, n_t)
    attitude_lvlh_to_ecef: np.ndarray  # (n_sat, n_t, 4) quaternion (w, x, y, z)

    @property
    def utc_ns(self) -> np.ndarray:
        return self.teme.utc_ns

    @property
    def error_code(self) -> np.ndarray:
        return self.teme.error_code


def compute_states(propagator: Propagator, utc_ns, earth_orientation: EarthOrientationTable | None = None,
                   *, attitude: bool = True) -> OrbitStates:
    """Propagate and convert: TEME → ITRS (GMST-1982 of UT1, polar motion when ``earth_orientation``
    is given), WGS84 geodetic, and the LVLH→ECEF attitude quaternion (skipped when ``attitude`` is
    False: the array is then empty)."""
    teme = propagator.teme(utc_ns)
    jd, fr = utc_ns_to_jd_split(teme.utc_ns)
    eop = earth_orientation.at(teme.utc_ns) if earth_orientation is not None else None
    position_ecef, velocity_ecef = teme_to_itrs(teme.position_m, teme.velocity_mps, jd, fr, eop)
    latitude, longitude, altitude = ecef_to_geodetic(position_ecef)
    if attitude:
        rotation = teme_to_itrs_matrix(jd, fr, eop)
        quaternion = lvlh_to_ecef_quaternion(teme.position_m, teme.velocity_mps, rotation)
    else:
        quaternion = np.empty((*teme.position_m.shape[:2], 0))
    return OrbitStates(teme, position_ecef, velocity_ecef, latitude, longitude, altitude, quaternion)
