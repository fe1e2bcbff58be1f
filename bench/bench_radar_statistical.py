"""Statistical dwells per second with 5,000 targets (truth evaluation + returns), one core.

A scenario of 5,000 random targets (four classes) over a 1,500 km circle; a satellite 800 km up
looking at the circle's centre. Timed separately: ``Scenario.truth_at`` for all targets at the
dwell time, and ``statistical_dwell`` (geometry, radar equation, patterns, Swerling detection,
Cramér-Rao errors, false alarms over 1,000 range bins x 32 pulses). Baseline for scale: one
``np.linalg.norm`` over the 5,000 line-of-sight vectors, timed in the same run.

Run: ``.venv/bin/python bench/bench_radar_statistical.py``
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

from benchlib import format_table, stats, time_calls

from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.radar.beam import antenna_axes
from sbamti.radar.config import RadarConfig
from sbamti.radar.scenario import load_scenario
from sbamti.radar.statistical import DwellGeometry, statistical_dwell

SCENARIO = """name: bench_5000
start_epoch: "2028-01-01T00:00:00Z"
duration_s: 600
seed: 1
areas:
  - {name: wide, circle: {lat: 10.0, lon: 10.0, radius_km: 1500}}
populations:
  - {class: airliner, area: wide, count: 2000}
  - {class: business_jet, area: wide, count: 1500}
  - {class: fighter, area: wide, count: 1000}
  - {class: cruise_missile, area: wide, count: 500}
"""


def run(repeats: int = 50) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.yaml"
        path.write_text(SCENARIO)
        scenario = load_scenario(path)
    config = RadarConfig()
    sat = geodetic_to_ecef(np.radians(10.0), np.radians(-2.0), 800e3)
    vel = np.array([0.0, 0.0, 7150.0])
    centre = geodetic_to_ecef(np.radians(10.0), np.radians(10.0), 0.0)
    t = scenario.start_epoch_ns + 60 * 10**9
    geometry = DwellGeometry(t, sat, vel, centre, antenna_axes(sat, vel, centre), config.prf_set_hz[0])
    truth = scenario.truth_at(t)
    rng = np.random.default_rng(0)
    los = truth.position_ecef - sat
    baseline = stats(time_calls(lambda: np.linalg.norm(los, axis=1), repeats))["median"]
    truth_s = stats(time_calls(lambda: scenario.truth_at(t), repeats))["median"]
    dwell_s = stats(time_calls(lambda: statistical_dwell(config, geometry, truth.position_ecef, truth.velocity_ecef,
                                                         truth.rcs_m2, truth.swerling_model, rng, pfa=1e-6,
                                                         num_range_bins=1000), repeats))["median"]
    return {"targets": len(truth.target_id), "baseline_s": baseline, "truth_s": truth_s, "dwell_s": dwell_s}


def report(result: dict) -> str:
    total = result["truth_s"] + result["dwell_s"]
    rows = [("norm of 5,000 vectors (scale)", result["baseline_s"] * 1e3, 1.0),
            ("truth_at, all targets", result["truth_s"] * 1e3, result["truth_s"] / result["baseline_s"]),
            ("statistical_dwell", result["dwell_s"] * 1e3, result["dwell_s"] / result["baseline_s"]),
            ("per dwell (truth + returns)", total * 1e3, total / result["baseline_s"])]
    return (format_table(("step, %d targets" % result["targets"], "median ms", "x baseline"), rows)
            + f"\n\nstatistical dwells per second (one core, truth evaluated per dwell): {1.0 / total:.0f}; "
              f"with truth shared by all dwells at one time: {1.0 / result['dwell_s']:.0f}")


def main() -> None:
    print(report(run()))


if __name__ == "__main__":
    sys.exit(main())
