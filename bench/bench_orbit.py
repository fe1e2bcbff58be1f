"""Orbit propagation + ECEF + geodetic cost against the bare SGP4 call, and the constellation node.

1. For 1,000 and 10,000 Walker satellites x 100 epochs: time ``SatrecArray.sgp4`` alone (the
   baseline, same jd/fr arrays) and ``compute_states`` (the same SGP4 call, then TEME→ITRS, WGS84
   geodetic; attitude off, as the issue's measure is propagation + ECEF + geodetic). Reported ratio
   = baseline time / full time (1.0 = conversion is free).
2. The orbit_state node in constellation mode (``layout: array``) for 10,000 satellites: time to
   compute and publish one epoch (states with attitude, one flat OrbitStateArray), as a multiple of
   real time at 1 Hz (1 s / time per epoch).

Run: ``.venv/bin/python bench/bench_orbit.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchlib import format_table, stats, time_calls

from sbamti.geo.timescales import utc_ns_to_jd_split
from sbamti.orbit.propagation import Propagator
from sbamti.orbit.states import compute_states
from sbamti.orbit.walker import walker_delta
from sbamti.timeutil import parse_utc_epoch_ns

EPOCH_NS = parse_utc_epoch_ns("2028-01-01T00:00:00Z")
EPOCHS = 100
STEP_NS = 10 * 10**9


def constellation(total: int):
    planes = 20 if total <= 1000 else 100
    return walker_delta(total, planes, 1, altitude_m=700e3, inclination_deg=53.0, epoch_ns=EPOCH_NS,
                        first_catalog_number=10001)


def bench_conversion(total: int, repeats: int) -> dict[str, float]:
    propagator = Propagator(constellation(total))
    times = EPOCH_NS + STEP_NS * np.arange(EPOCHS, dtype=np.int64)
    jd, fr = utc_ns_to_jd_split(times)
    array = propagator._array  # the same SatrecArray the project path calls
    bare = stats(time_calls(lambda: array.sgp4(jd, fr), repeats, warmup=1))
    full = stats(time_calls(lambda: compute_states(propagator, times, attitude=False), repeats, warmup=1))
    return {"satellites": total, "bare_s": bare["median"], "full_s": full["median"],
            "ratio": bare["median"] / full["median"]}


def bench_node(total: int, epochs: int) -> dict[str, float]:
    """Per-epoch cost of the constellation node (compute + flat message + publish), in process."""
    from sbamti.ros.env import apply_ros_environment
    apply_ros_environment()
    import rclpy
    from rclpy.parameter import Parameter

    from sbamti.testing.domain import allocate_domain_id
    from sbamti_nodes.orbit_state import OrbitStateNode

    sets = constellation(total)
    with tempfile.TemporaryDirectory() as tmp, allocate_domain_id() as domain_id:
        tle = Path(tmp) / "bench.tle"
        tle.write_text("".join(f"{e.name}\n{e.line1}\n{e.line2}\n" for e in sets))
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=domain_id)
        try:
            node = OrbitStateNode(context=context, parameter_overrides=[
                Parameter("tle_file", value=str(tle)), Parameter("layout", value="array"),
                Parameter("earth_orientation", value="")])
            samples = time_calls(lambda: node.publish_epochs(np.array([EPOCH_NS], dtype=np.int64)), epochs, warmup=1)
            node.destroy_node()
        finally:
            context.try_shutdown()
    per_epoch = stats(samples)["median"]
    return {"satellites": total, "per_epoch_s": per_epoch, "real_time_factor_1hz": 1.0 / per_epoch}


def run(repeats: int = 5) -> dict:
    return {"conversion": [bench_conversion(n, repeats) for n in (1000, 10000)],
            "node": bench_node(10000, max(repeats, 5))}


def report(result: dict) -> str:
    rows = [(f"{r['satellites']:,} sat x {EPOCHS} epochs", r["bare_s"] * 1e3, r["full_s"] * 1e3, r["ratio"])
            for r in result["conversion"]]
    node = result["node"]
    return (format_table(("case", "bare sgp4 ms", "sgp4+ECEF+geodetic ms", "ratio bare/full"), rows)
            + f"\n\norbit_state constellation mode, {node['satellites']:,} satellites: "
              f"{node['per_epoch_s'] * 1e3:.0f} ms per epoch -> {node['real_time_factor_1hz']:.1f}x real time at 1 Hz")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    options = parser.parse_args(argv)
    print(report(run(options.repeats)))


if __name__ == "__main__":
    sys.exit(main())
