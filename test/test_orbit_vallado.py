"""Vallado's SGP4 verification set, through sbamti's own ingestion and propagation path.

Source: D. Vallado, P. Crawford, R. Hujsak, T.S. Kelso, "Revisiting Spacetrack Report #3",
AIAA 2006-6753 — the test element sets ``SGP4-VER.TLE`` and the reference output ``tcppver.out``
of the C++ implementation, both shipped inside the sgp4 wheel. Every listed sample must agree to
2e-7 km (and km/s), the tolerance of python-sgp4's own verification, and the propagation failures
must carry the expected SGP4 error codes.
"""

from importlib.resources import files

import numpy as np
import pytest

from sbamti.orbit.elements import parse_tle_text
from sbamti.orbit.propagation import Propagator

TOLERANCE_KM = 2e-7
# The failures of the set, in file order: two mean-eccentricity errors, decays, a negative
# semi-latus rectum, a perturbed eccentricity outside [0, 1], and a last decay.
EXPECTED_ERROR_CODES = [1, 1, 6, 6, 4, 3, 6]


def _verification_cases():
    """(line1, line2 cut to 69 columns, start, stop, step minutes) per satellite of SGP4-VER.TLE."""
    lines = files("sgp4").joinpath("SGP4-VER.TLE").read_text().splitlines()
    cases = []
    for i, line in enumerate(lines):
        if line.startswith("1 "):
            line2 = lines[i + 1]
            start, stop, step = (float(x) for x in line2[69:].split())
            cases.append((line, line2[:69], start, stop, step))
    return cases


def _reference_blocks():
    """{catalog number: array of rows (tsince_min, x, y, z, vx, vy, vz)} from tcppver.out."""
    blocks, current = {}, None
    for line in files("sgp4").joinpath("tcppver.out").read_text().splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1] == "xx":
            current = blocks.setdefault(int(fields[0]), [])
        elif fields:
            current.append([float(f) for f in fields[:7]])
    return {k: np.array(v) for k, v in blocks.items()}


@pytest.fixture(scope="module")
def ingested():
    cases = _verification_cases()
    text = "\n".join(f"{l1}\n{l2}" for l1, l2, *_ in cases)
    # Some verification sets carry deliberately wrong checksums (they test other parsers): ingest
    # them with checksum verification off; every other check of the parser stays on.
    result = parse_tle_text(text, source="SGP4-VER.TLE", verify_checksum=False)
    assert result.errors == []
    assert len(result.element_sets) == len(cases) == 33
    return cases, result.element_sets


def test_every_reference_sample_within_2e7_km(ingested):
    cases, element_sets = ingested
    reference = _reference_blocks()
    compared = 0
    for element_set in element_sets:
        rows = reference[element_set.catalog_number]
        epoch_ns = element_set.epoch_ns
        times = epoch_ns + np.round(rows[:, 0] * 60e9).astype(np.int64)
        states = Propagator([element_set]).teme(times)
        ok = states.error_code[0] == 0
        # a satellite failing at t = 0 is listed with "the previous data line": nothing to compare
        position_km, velocity_kmps = states.position_m[0, ok] / 1e3, states.velocity_mps[0, ok] / 1e3
        assert np.max(np.abs(position_km - rows[ok, 1:4]), initial=0.0) < TOLERANCE_KM, element_set.catalog_number
        assert np.max(np.abs(velocity_kmps - rows[ok, 4:7]), initial=0.0) < TOLERANCE_KM, element_set.catalog_number
        compared += int(ok.sum())
    assert compared >= 690  # 700 lines in tcppver.out, less the 33 headers, plus reused rows


def test_propagation_failures_carry_the_expected_error_codes(ingested):
    cases, element_sets = ingested
    codes = []
    for (l1, l2, start, stop, step), element_set in zip(cases, element_sets):
        minutes = [0.0] + [t for t in np.arange(start, stop + 1e-9, step) if not (t == 0.0 == start)]
        if minutes[-1] < stop - 1e-6:
            minutes.append(stop)
        epoch_ns = element_set.epoch_ns
        states = Propagator([element_set]).teme(epoch_ns + np.round(np.array(minutes) * 60e9).astype(np.int64))
        failed = np.nonzero(states.error_code[0])[0]
        if failed.size:
            codes.append(int(states.error_code[0, failed[0]]))
            # the failed state is never handed out as numbers
            assert np.all(np.isnan(states.position_m[0, failed[0]]))
    assert codes == EXPECTED_ERROR_CODES
