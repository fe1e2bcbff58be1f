"""`sbamti demo` / `make demo`: run the default SIL graph end to end and summarise what it produced.

The graph is ``launch/demo.launch.yaml``; an observer in the same private ROS domain records its
topics while it runs; when the graph ends (its sim time runs out) a short summary is printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from sbamti.timeutil import format_utc_epoch_ns



def demo_launch_file() -> Path:
    """launch/demo.launch.yaml of the installed sbamti package (the working tree when editable)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory("sbamti")) / "launch" / "demo.launch.yaml"
    except (ImportError, LookupError):
        return Path(__file__).resolve().parents[1] / "launch" / "demo.launch.yaml"


def _stamp_ns(clock_msg) -> int:
    return clock_msg.clock.sec * 1_000_000_000 + clock_msg.clock.nanosec


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sbamti demo", description=__doc__)
    parser.add_argument("--rate", type=float, default=20.0, help="sim seconds per wall second")
    parser.add_argument("--duration", type=float, default=60.0, help="sim seconds to run")
    parser.add_argument("--timeout", type=float, default=120.0, help="wall seconds before the run is abandoned")
    parser.add_argument("--verbose", action="store_true", help="print the graph's output as well")
    options = parser.parse_args(argv)

    from sbamti.testing.session import start_graph  # imports rclpy
    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile

    RECORD_ALL = QoSProfile(history=HistoryPolicy.KEEP_ALL, depth=1000)
    LATCHED = QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL)

    launch_file = demo_launch_file()
    print(f"sbamti demo: launching {launch_file} (rate {options.rate}x, {options.duration} s of sim time)")
    wall_start = time.monotonic()
    # Sim time is held at the start epoch until the observer's /clock subscription exists, so the
    # summary covers the whole run.
    launch_args = {"rate": options.rate, "duration_s": options.duration, "clock_subscribers": 1}
    with start_graph(launch_file, launch_args) as graph:
        graph.subscribe("/clock", "rosgraph_msgs/msg/Clock", qos=RECORD_ALL)
        graph.subscribe("/sim_clock/status", "sbamti_msgs/msg/NodeStatus", qos=LATCHED)
        graph.wait_ready(nodes=["/sim_clock"], topics=["/clock"], timeout=30)
        try:
            code = graph.process.wait(timeout=options.timeout)
        except Exception:
            print(f"sbamti demo: the graph did not finish within {options.timeout} s; stopping it", file=sys.stderr)
            code = graph.shutdown(signal.SIGINT)
        time.sleep(0.2)  # let the observer drain what is in flight
        clocks, statuses = graph.messages("/clock"), graph.messages("/sim_clock/status")
        if options.verbose:
            print(graph.output())
        exit_codes = graph.exit_codes
    wall = time.monotonic() - wall_start

    print("\n=== sbamti demo summary ===")
    print(f"graph exit code        : {code}  (processes: "
          + ", ".join(f"{name}={rc}" for name, rc in sorted(exit_codes.items())) + ")")
    if clocks:
        first, last = _stamp_ns(clocks[0]), _stamp_ns(clocks[-1])
        span = (last - first) / 1e9
        print(f"/clock messages        : {len(clocks)}")
        print(f"sim time               : {format_utc_epoch_ns(first)} .. {format_utc_epoch_ns(last)} ({span:.2f} s)")
        print(f"wall time              : {wall:.2f} s (sim/wall {span / wall:.1f}x incl. start-up)")
    else:
        print("/clock messages        : 0")
    if statuses:
        last_status = statuses[-1]
        print(f"sim_clock status       : heartbeats {last_status.heartbeat_count}, published {last_status.messages_out}, "
              f"rejected inputs {last_status.rejected_total}")
    ok = code == 0 and bool(clocks)
    print("result                 : " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
