"""Representative airborne target classes: radar cross-section, fluctuation model, flight envelope.

The numbers are *representative*, not measurements of any particular airframe: they are meant to
give a scenario the right orders of magnitude. Mean RCS values at microwave frequencies (taken as
X band, roughly nose-on) follow the widely quoted table of M. I. Skolnik, *Introduction to Radar
Systems*, 3rd ed. (2001), Table 2.2: conventional unpiloted winged missile 0.5 m², small fighter or
four-passenger jet 2 m², large fighter 6 m², helicopter 3 m², large jet airliner 40 m²; for small
multirotor drones, published X-band measurements of DJI Phantom-class vehicles lie around
0.01-0.05 m² (e.g. Rahman & Robertson, "Radar micro-Doppler signatures of drones and birds at
K-band and W-band", Sci. Rep. 8 (2018); Schröder et al., EuRAD 2015), so 0.02 m² is used.
Performance figures (speeds, ceilings, climb and turn rates) are rounded public figures for the
class (e.g. a standard-rate turn of 3 °/s for transport aircraft; a sustained ~20 °/s for fighters).

Altitudes are heights above the WGS 84 ellipsoid. ``altitude_reference`` says what the class's
altitude band means physically: ``'msl'`` (flight levels) or ``'agl'`` (terrain following, low-level
flight). sbamti has no terrain model, so the ground is the ellipsoid (h = 0) and the geoid
separation (up to ~±100 m) is ignored: both references are the ellipsoid height here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sbamti.errors import ConfigurationError

STANDARD_GRAVITY_MPS2 = 9.80665
"""g0, m/s², used for the coordinated-turn rate omega = g tan(bank) / v."""


@dataclass(frozen=True)
class TargetClass:
    """One class of airborne target.

    Attributes
    ----------
    name : str
        Key in :data:`TARGET_CLASSES`.
    rcs_m2 : float
        Mean radar cross-section, m², X band, roughly nose-on (representative, see module docstring).
    swerling_model : int
        Swerling fluctuation case 0 (non-fluctuating) to 4.
    speed_mps : (float, float)
        Horizontal speed envelope (min, max), m/s.
    altitude_m : (float, float)
        Altitude envelope (min, max), m above the ellipsoid (see ``altitude_reference``).
    altitude_reference : str
        ``'msl'`` or ``'agl'``; both are heights above the WGS 84 ellipsoid in sbamti (no terrain).
    max_turn_rate_rad_s : float
        Largest sustained turn rate, rad/s.
    max_bank_rad : float
        Largest bank angle of a coordinated turn, rad: the turn rate is also limited to g tan(bank)/v.
    max_climb_rate_mps : float
        Largest climb or descent rate, m/s.
    max_accel_mps2 : float
        Largest change of horizontal speed, m/s².
    max_vertical_accel_mps2 : float
        Vertical acceleration used to start and stop climbs, m/s² (about 0.1 g for transports).
    """

    name: str
    rcs_m2: float
    swerling_model: int
    speed_mps: tuple[float, float]
    altitude_m: tuple[float, float]
    altitude_reference: str
    max_turn_rate_rad_s: float
    max_bank_rad: float
    max_climb_rate_mps: float
    max_accel_mps2: float
    max_vertical_accel_mps2: float

    def __post_init__(self) -> None:
        if self.rcs_m2 <= 0.0:
            raise ConfigurationError(f"target class {self.name!r}: rcs_m2: {self.rcs_m2!r} must be > 0")
        if self.swerling_model not in (0, 1, 2, 3, 4):
            raise ConfigurationError(f"target class {self.name!r}: swerling_model: {self.swerling_model!r} "
                                     "must be 0, 1, 2, 3 or 4")
        for field in ("speed_mps", "altitude_m"):
            low, high = getattr(self, field)
            if not low <= high:
                raise ConfigurationError(f"target class {self.name!r}: {field}: ({low}, {high}) is not (min, max)")
        if self.speed_mps[0] <= 0.0:
            raise ConfigurationError(f"target class {self.name!r}: speed_mps: minimum must be > 0 (heading "
                                     "is undefined when hovering)")
        if self.altitude_reference not in ("msl", "agl"):
            raise ConfigurationError(f"target class {self.name!r}: altitude_reference: "
                                     f"{self.altitude_reference!r} must be 'msl' or 'agl'")
        for field in ("max_turn_rate_rad_s", "max_climb_rate_mps", "max_accel_mps2", "max_vertical_accel_mps2"):
            if getattr(self, field) <= 0.0:
                raise ConfigurationError(f"target class {self.name!r}: {field}: must be > 0")
        if not 0.0 < self.max_bank_rad < math.pi / 2:
            raise ConfigurationError(f"target class {self.name!r}: max_bank_rad: {self.max_bank_rad!r} "
                                     "must be in (0, pi/2)")

    def turn_rate_at(self, speed_mps: float) -> float:
        """Largest turn rate at ``speed_mps``, rad/s: min(max_turn_rate, g tan(max_bank) / v)."""
        return min(self.max_turn_rate_rad_s, STANDARD_GRAVITY_MPS2 * math.tan(self.max_bank_rad) / speed_mps)


_DEG = math.pi / 180.0

TARGET_CLASSES: dict[str, TargetClass] = {c.name: c for c in (
    # Large jet airliner (A330/B777 class): cruise ~M0.85 (~250 m/s), ceiling ~13 km, standard-rate turns
    # (3 °/s, bank <= 30°), ~15 m/s (3,000 ft/min) climb.
    TargetClass("airliner", rcs_m2=40.0, swerling_model=1, speed_mps=(110.0, 260.0), altitude_m=(300.0, 13100.0),
                altitude_reference="msl", max_turn_rate_rad_s=3.0 * _DEG, max_bank_rad=30.0 * _DEG,
                max_climb_rate_mps=15.0, max_accel_mps2=1.0, max_vertical_accel_mps2=1.0),
    # Business jet (Learjet/Citation class): up to ~M0.8, ceiling ~15 km.
    TargetClass("business_jet", rcs_m2=2.0, swerling_model=1, speed_mps=(80.0, 250.0), altitude_m=(300.0, 15500.0),
                altitude_reference="msl", max_turn_rate_rad_s=4.0 * _DEG, max_bank_rad=35.0 * _DEG,
                max_climb_rate_mps=20.0, max_accel_mps2=1.5, max_vertical_accel_mps2=1.5),
    # Large fighter: sustained ~20 °/s, bank up to ~80° (~5.8 g), supersonic at altitude.
    TargetClass("fighter", rcs_m2=6.0, swerling_model=1, speed_mps=(120.0, 600.0), altitude_m=(30.0, 18000.0),
                altitude_reference="msl", max_turn_rate_rad_s=20.0 * _DEG, max_bank_rad=80.0 * _DEG,
                max_climb_rate_mps=250.0, max_accel_mps2=8.0, max_vertical_accel_mps2=30.0),
    # Helicopter: rotor blades decorrelate pulse to pulse (Swerling 2); cruise up to ~80 m/s.
    TargetClass("helicopter", rcs_m2=3.0, swerling_model=2, speed_mps=(5.0, 80.0), altitude_m=(15.0, 3000.0),
                altitude_reference="agl", max_turn_rate_rad_s=10.0 * _DEG, max_bank_rad=30.0 * _DEG,
                max_climb_rate_mps=10.0, max_accel_mps2=2.0, max_vertical_accel_mps2=2.0),
    # Subsonic land-attack cruise missile: terrain following at 30-100 m, 200-280 m/s.
    TargetClass("cruise_missile", rcs_m2=0.5, swerling_model=1, speed_mps=(200.0, 280.0), altitude_m=(30.0, 100.0),
                altitude_reference="agl", max_turn_rate_rad_s=6.0 * _DEG, max_bank_rad=60.0 * _DEG,
                max_climb_rate_mps=15.0, max_accel_mps2=3.0, max_vertical_accel_mps2=5.0),
    # Small multirotor / small fixed-wing drone: one dominant scatterer plus small ones (Swerling 3).
    TargetClass("small_drone", rcs_m2=0.02, swerling_model=3, speed_mps=(5.0, 30.0), altitude_m=(10.0, 500.0),
                altitude_reference="agl", max_turn_rate_rad_s=30.0 * _DEG, max_bank_rad=35.0 * _DEG,
                max_climb_rate_mps=5.0, max_accel_mps2=3.0, max_vertical_accel_mps2=3.0),
)}
"""The built-in target classes by name."""
