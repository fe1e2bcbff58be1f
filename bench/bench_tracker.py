"""The composed tracker on synthetic multi-satellite scans: wall time per dwell, detections per second,
and the real-time factor (sim seconds per wall second), one core.

Scenario (``sbamti.tracking.synthetic``): N targets flying random routes in a 150 km circle, three
satellites 900 km from the centre scanning the area every 10 s (staggered), Pd 0.9, 5 false alarms
per dwell, the onboard geolocation's anisotropic covariances (largest σ ~6 km). The tracker is the
default :class:`sbamti.tracking.tracker.Tracker` (IMM CV + CT, chi-square gate, GNN, 3-of-5
confirmation). The detections are generated before timing.

The issue's goal is 10,000 targets at ≥ 10× real time, with a comparison against Stone Soup. The
Stone Soup run and the 10,000-target case are not in this benchmark yet.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=1 .venv/bin/python bench/bench_tracker.py [--targets 100 1000]``
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from benchlib import format_table

from sbamti.tracking.synthetic import generate, random_population
from sbamti.tracking.tracker import DwellInput, Tracker

START_NS = 1_830_297_600 * 10**9           # 2028-01-01T00:00:00Z
DURATION_S = 600.0
COVERAGE_RADIUS_M = 170e3


def run_size(targets: int, seed: int = 1) -> dict:
    scenario = random_population(targets, 54.0, 15.0, 150e3, start_ns=START_NS, duration_s=DURATION_S, seed=seed)
    dwells = [DwellInput.from_synthetic(d, COVERAGE_RADIUS_M)
              for d in generate(scenario, START_NS, DURATION_S, seed=seed + 1)]
    tracker = Tracker()
    per_dwell = []
    start = time.perf_counter()
    for dwell in dwells:
        t0 = time.perf_counter()
        tracker.step(dwell)
        per_dwell.append(time.perf_counter() - t0)
    wall = time.perf_counter() - start
    detections = sum(len(d.position_ecef) for d in dwells)
    picture = tracker.tracks(confirmed_only=True)
    return {"targets": targets, "dwells": len(dwells), "detections": detections, "wall_s": wall,
            "ms_per_dwell": 1e3 * wall / len(dwells), "p90_ms": 1e3 * float(np.percentile(per_dwell, 90)),
            "detections_per_s": detections / wall, "real_time_factor": DURATION_S / wall,
            "confirmed_at_end": len(picture.id)}


def run(targets: tuple[int, ...] = (100, 1000)) -> list[dict]:
    return [run_size(n) for n in targets]


def report(results: list[dict]) -> str:
    rows = [[r["targets"], r["dwells"], r["detections"], r["ms_per_dwell"], r["p90_ms"], r["detections_per_s"],
             r["real_time_factor"], r["confirmed_at_end"]] for r in results]
    return format_table(["targets (x 3 satellites, 10 min)", "dwells", "detections", "ms/dwell", "p90 ms",
                         "detections/s", "x real time", "confirmed tracks at end"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    print(report(run(tuple(args.targets))))


if __name__ == "__main__":
    sys.exit(main())
