"""Per-track cost of the batched tracking filters at n = 10,000 tracks (one core), compiled vs numpy.

CV EKF predict (F P Fᵀ + Q) + ECEF position update (Joseph form), and the two-model IMM (constant
velocity + coordinated turn) predict + update, on 10,000 random tracks with anisotropic
measurement covariances (σ 20 m / 300 m / 3 km, randomly rotated). Baseline, same run: the numpy
twins of the numba kernels (``compiled=False``), which the tests check agree with them.
The tracker's goal (10,000 targets × 3 satellites at 10 s scans, ≥ 10× real time) leaves about
33 µs per track update.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_tracking_filters.py``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from benchlib import format_table, stats, time_calls

from sbamti.geo.wgs84 import geodetic_to_ecef
from sbamti.tracking import kalman, motion
from sbamti.tracking.imm import ImmFilter


def _median_us_per_track(fn, n: int, repeats: int) -> float:
    return stats(time_calls(fn, repeats, warmup=1))["median"] / n * 1e6


def run(n: int = 10_000, repeats: int = 21) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(0)
    p = geodetic_to_ecef(rng.uniform(-1.2, 1.2, n), rng.uniform(-3, 3, n), 10_000.0)
    x = np.hstack([p, rng.normal(0, 200, (n, 3))])
    a = rng.normal(size=(n, 6, 6))
    P = a @ a.transpose(0, 2, 1) * 100 + np.eye(6) * 10
    q, _ = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    R = q @ np.diag([20.0, 300.0, 3000.0]) ** 2 @ q.transpose(0, 2, 1)
    z = p + rng.normal(0, 100, (n, 3))
    cv = motion.ConstantVelocity(1.0, 0.1)
    imm = ImmFilter((cv, motion.CoordinatedTurn(1.0, 0.1, 1e-3)), [[0.95, 0.05], [0.1, 0.9]], 10.0)
    P7 = np.zeros((n, 7, 7))
    P7[:, :6, :6] = P
    P7[:, 6, 6] = 0.01
    state = imm.initial_state(np.hstack([x, rng.normal(0, 0.05, (n, 1))]), P7)
    out = {}
    for compiled in (True, False):
        xp, Pp = kalman.predict(x, P, 10.0, cv, compiled=compiled)
        predicted = imm.predict(state, 10.0, compiled=compiled)
        out["numba" if compiled else "numpy twin"] = {
            "CV predict": _median_us_per_track(lambda: kalman.predict(x, P, 10.0, cv, compiled=compiled), n, repeats),
            "CV position update": _median_us_per_track(
                lambda: kalman.update_position(xp, Pp, z, R, compiled=compiled), n, repeats),
            "IMM predict": _median_us_per_track(lambda: imm.predict(state, 10.0, compiled=compiled), n, repeats),
            "IMM update": _median_us_per_track(lambda: imm.update(predicted, z, R, compiled=compiled), n, repeats),
        }
    return out


def report(result: dict[str, dict[str, float]]) -> str:
    fast, slow = result["numba"], result["numpy twin"]
    rows = [[stage, fast[stage], slow[stage], slow[stage] / fast[stage]] for stage in fast]
    rows.append(["CV predict + update", fast["CV predict"] + fast["CV position update"],
                 slow["CV predict"] + slow["CV position update"],
                 (slow["CV predict"] + slow["CV position update"]) / (fast["CV predict"] + fast["CV position update"])])
    rows.append(["IMM predict + update", fast["IMM predict"] + fast["IMM update"], slow["IMM predict"] + slow["IMM update"],
                 (slow["IMM predict"] + slow["IMM update"]) / (fast["IMM predict"] + fast["IMM update"])])
    return format_table(["µs per track (n = 10,000)", "numba", "numpy twin", "twin / numba"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tracks", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=21)
    args = parser.parse_args()
    print(report(run(args.tracks, args.repeats)))


if __name__ == "__main__":
    sys.exit(main())
