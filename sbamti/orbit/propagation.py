"""SGP4 propagation of many satellites at many UTC times, with sgp4's vectorised ``SatrecArray``.

Times come in as integer UTC nanoseconds (sim time) and go to SGP4 as split Julian dates
(``jd`` whole days, ``fr`` fraction): a single float64 Julian date resolves only ~40 µs, which is
0.3 m of along-track position at LEO speed (and more for far dates). Positions leave in metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sgp4.api import SGP4_ERRORS, SatrecArray

from sbamti.geo.timescales import utc_ns_to_jd_split
from sbamti.orbit.elements import ElementSet

KM = 1000.0


def sgp4_error_meaning(code: int) -> str:
    """Text of an SGP4 error code (sgp4's own table); 'success' for 0."""
    if code == 0:
        return "success"
    return SGP4_ERRORS.get(int(code), f"unknown SGP4 error code {int(code)}")


@dataclass(frozen=True)
class TemeStates:
    """SGP4 output for ``n_sat`` satellites at ``n_t`` times, in the TEME frame.

    ``error_code[s, t]`` is SGP4's code (0 = success); where it is non-zero the position and
    velocity are set to NaN, so nothing downstream can use them by accident.
    """

    utc_ns: np.ndarray        # (n_t,) int64
    position_m: np.ndarray    # (n_sat, n_t, 3)
    velocity_mps: np.ndarray  # (n_sat, n_t, 3)
    error_code: np.ndarray    # (n_sat, n_t) uint8


class Propagator:
    """Propagates a fixed set of element sets together (set up once, call per epoch batch)."""

    def __init__(self, element_sets: Sequence[ElementSet]) -> None:
        if not element_sets:
            raise ValueError("Propagator needs at least one element set")
        self.element_sets = list(element_sets)
        self._array = SatrecArray([e.satrec for e in self.element_sets])

    def __len__(self) -> int:
        return len(self.element_sets)

    def teme(self, utc_ns: int | Sequence[int] | np.ndarray) -> TemeStates:
        """States of every satellite at every time in ``utc_ns`` (UTC ns since 1970)."""
        times = np.atleast_1d(np.asarray(utc_ns, dtype=np.int64))
        jd, fr = utc_ns_to_jd_split(times)
        error, position_km, velocity_kmps = self._array.sgp4(np.ascontiguousarray(jd), np.ascontiguousarray(fr))
        position_km *= KM   # in place: no second (n_sat, n_t, 3) buffer
        velocity_kmps *= KM
        failed = error != 0
        if failed.any():
            position_km[failed] = np.nan
            velocity_kmps[failed] = np.nan
        return TemeStates(times, position_km, velocity_kmps, error)
