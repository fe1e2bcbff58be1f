"""Walker-delta constellations, generated as TLE element sets (pure: sgp4 only).

A Walker delta pattern i:T/P/F (J.G. Walker, "Satellite constellations", Journal of the British
Interplanetary Society 37, 1984, pp. 559-572) puts T satellites on circular orbits of one altitude
and inclination i, in P planes whose ascending nodes are spaced 360°/P apart, S = T/P satellites per
plane spaced 360°/S apart in argument of latitude, and a phase offset of F·360°/T between a
satellite and its counterpart in the next plane (eastwards), F in 0..P-1.

Satellite k (1-based) of plane p and slot s (both 0-based, k = p·S + s + 1) gets::

    RAAN  = raan_offset + p · 360/P
    u     = s · 360/S + p · F · 360/T          (argument of latitude)
    argp  = 0,  M = u                          (perigee at the node, so mean anomaly = u)

Mean motion
-----------
n = sqrt(mu / a³) with a = R_E + h, R_E = 6378.137 km (equatorial radius) and mu = 398600.8 km³/s²,
the WGS-72 value SGP4 propagates with (``sgp4.api.WGS72``; Satrec.twoline2rv's default). This is the
two-body (Kepler) mean motion, written to the TLE where SGP4 expects a Kozai mean motion; SGP4
then derives its Brouwer mean elements and adds J2 short-period terms, so the propagated orbit is
not exactly a sphere of radius a. Measured with sgp4 2.27 over one revolution at 700 km (the effect
hardly changes from 400 to 1200 km): the mean geocentric distance minus R_E is 696.9 km at 0°
inclination, 699.9 km at 53° and 701.5 km at 97.8° (sun-synchronous), and the instantaneous radius
swings about ±7 km around it. "Altitude" here is above a sphere of radius R_E, not geodetic: over
the ellipsoid the height varies a further ~21 km with latitude. Correcting for these few km was
judged not worth an iteration through SGP4: scenarios choose altitudes to tens of km.
"""

from __future__ import annotations

import math
import re
from numbers import Integral, Real

from sbamti.errors import ConfigurationError
from sbamti.orbit.element_set import MAX_CATALOG_NUMBER, ElementSet
from sbamti.orbit.tle import element_set_from_lines, format_tle

EARTH_EQUATORIAL_RADIUS_KM = 6378.137
MU_WGS72_KM3_S2 = 398600.8          # sgp4's WGS72 constants (Vallado et al. 2006, getgravconst)
SECONDS_PER_DAY = 86400.0
_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_FORMAT_TLE_ARGUMENTS = {"epoch": "epoch_ns", "mean_motion_rev_per_day": "altitude_m"}  # format_tle → walker_delta


class WalkerParameterError(ConfigurationError):
    """A Walker parameter is out of range: ``parameter`` is its keyword name (e.g. ``'planes'``),
    ``detail`` the value and the valid range; the message is ``walker_delta: <parameter>: <detail>``."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"walker_delta: {parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail

    def __reduce__(self):
        return (type(self), (self.parameter, self.detail))


def _is_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def kepler_mean_motion_rev_per_day(altitude_m: float) -> float:
    """Two-body mean motion (rev/day) of a circular orbit ``altitude_m`` above R_E = 6378.137 km,
    with SGP4's WGS-72 mu. See the module docstring for how SGP4 interprets it."""
    a_km = EARTH_EQUATORIAL_RADIUS_KM + altitude_m / 1000.0
    return math.sqrt(MU_WGS72_KM3_S2 / a_km**3) * SECONDS_PER_DAY / (2.0 * math.pi)


def walker_delta(total: int, planes: int, phasing: int, *, altitude_m: float, inclination_deg: float,
                 epoch_ns: int, name_prefix: str = "SBAMTI", first_catalog_number: int = 90001,
                 raan_offset_deg: float = 0.0, eccentricity: float = 0.0001,
                 bstar: float = 0.0) -> list[ElementSet]:
    """The element sets of a Walker delta constellation ``inclination_deg``: total/planes/phasing.

    Parameters
    ----------
    total, planes, phasing : int
        T >= 1, P >= 1 dividing T, 0 <= F < P.
    altitude_m : float
        Altitude above the equatorial radius (m), > 0; the perigee ``a(1 - e) - R_E`` must stay > 0.
    inclination_deg : float
        0..180.
    epoch_ns : int
        Epoch of every element set, UTC nanoseconds since 1970 (written to 1e-8 day, 0.864 ms).
    name_prefix : str
        Names are ``{prefix}-{k:03d}`` for k = 1..T (ids ``sbamti_001``...); a letter, then letters,
        digits, '_' or '-'.
    first_catalog_number : int
        Catalog numbers are consecutive from here; all must be in 1..339999 (Alpha-5 above 99999).
    raan_offset_deg : float
        RAAN of plane 0 (deg).
    eccentricity : float
        0 <= e < 1 (default 1e-4, near-circular; perigee at the ascending node).
    bstar : float
        B* drag term (1/earth radii); 0 = no drag.

    Returns
    -------
    list of ElementSet
        Ordered plane by plane, slot by slot (k = p·S + s + 1), source ``'walker'``, with the TLE lines
        (ndot = nddot = 0, classification U, element set number 1, rev number 0).

    Raises
    ------
    WalkerParameterError
        A ConfigurationError naming the parameter, its value and the valid range.
    """
    for name, value in (("total", total), ("planes", planes), ("phasing", phasing),
                        ("epoch_ns", epoch_ns), ("first_catalog_number", first_catalog_number)):
        if not _is_int(value):
            raise WalkerParameterError(name, f"got {value!r}, expected an integer")
    for name, value in (("altitude_m", altitude_m), ("inclination_deg", inclination_deg),
                        ("raan_offset_deg", raan_offset_deg), ("eccentricity", eccentricity), ("bstar", bstar)):
        if not _is_real(value):
            raise WalkerParameterError(name, f"got {value!r}, expected a finite number")
    if total < 1:
        raise WalkerParameterError("total", f"got {total}, expected at least 1 satellite")
    if planes < 1:
        raise WalkerParameterError("planes", f"got {planes}, expected at least 1 plane")
    if total % planes:
        raise WalkerParameterError("planes", f"got {planes}, which does not divide total={total}; expected a "
                                             f"divisor of {total} (equal planes)")
    if not 0 <= phasing < planes:
        raise WalkerParameterError("phasing", f"got {phasing}, expected 0..{planes - 1} (0 <= F < planes)")
    if not altitude_m > 0.0:
        raise WalkerParameterError("altitude_m", f"got {altitude_m}, expected > 0 m")
    if not 0.0 <= inclination_deg <= 180.0:
        raise WalkerParameterError("inclination_deg", f"got {inclination_deg}, expected 0..180 degrees")
    if not 0.0 <= eccentricity < 1.0:
        raise WalkerParameterError("eccentricity", f"got {eccentricity}, expected 0 <= e < 1")
    a_km = EARTH_EQUATORIAL_RADIUS_KM + altitude_m / 1000.0
    if a_km * (1.0 - eccentricity) <= EARTH_EQUATORIAL_RADIUS_KM:
        raise WalkerParameterError("eccentricity", f"got {eccentricity}, which puts the perigee "
                                                   f"{a_km * (1.0 - eccentricity) - EARTH_EQUATORIAL_RADIUS_KM:.1f} km "
                                                   f"above the equatorial radius at altitude {altitude_m} m; "
                                                   "expected a perigee above ground")
    last_catalog = first_catalog_number + total - 1
    if first_catalog_number < 1 or last_catalog > MAX_CATALOG_NUMBER:
        raise WalkerParameterError("first_catalog_number",
                                   f"got {first_catalog_number}, giving catalog numbers up to {last_catalog}; "
                                   f"expected all in 1..{MAX_CATALOG_NUMBER} (5 digits, Alpha-5 above 99999)")
    if not isinstance(name_prefix, str) or not _PREFIX.match(name_prefix):
        raise WalkerParameterError("name_prefix", f"got {name_prefix!r}, expected a letter followed by letters, "
                                                  "digits, '_' or '-' (e.g. 'SBAMTI')")

    per_plane = total // planes
    mean_motion = kepler_mean_motion_rev_per_day(altitude_m)
    element_sets = []
    for plane in range(planes):
        raan = raan_offset_deg + plane * 360.0 / planes
        for slot in range(per_plane):
            k = plane * per_plane + slot + 1
            argument_of_latitude = slot * 360.0 / per_plane + plane * phasing * 360.0 / total
            try:
                line1, line2 = format_tle(
                    first_catalog_number + k - 1, epoch=int(epoch_ns), inclination_deg=float(inclination_deg),
                    raan_deg=raan, eccentricity=float(eccentricity), argp_deg=0.0,
                    mean_anomaly_deg=argument_of_latitude, mean_motion_rev_per_day=mean_motion,
                    bstar=float(bstar), element_set_number=1, rev_number=0)
            except ConfigurationError as exc:  # 'format_tle: epoch: ...' (outside 1957..2056), 'bstar: ...'
                argument = str(exc).split(": ")[1]
                raise WalkerParameterError(_FORMAT_TLE_ARGUMENTS.get(argument, argument), str(exc)) from None
            element_sets.append(element_set_from_lines(f"{name_prefix}-{k:03d}", line1, line2, source="walker"))
    return element_sets
