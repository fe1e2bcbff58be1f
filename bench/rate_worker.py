"""One side (publisher or subscriber) of a bench_message_rate scenario, run as its own process.

Every message carries its send time (``time.monotonic_ns()``; same host, so both processes share the
clock): ``std_msgs/UInt64.data`` for small messages, ``RadarDwell.dwell_id`` for the 2 MiB cube.
The subscriber prints ``READY`` once subscribed and stops when all ``count`` messages arrived, or
when a line on its stdin says the publisher has exited and nothing arrived for ``idle`` seconds
(a reliable publisher exits only once every message is acknowledged). Each side prints one JSON line
with its results. Started by bench_message_rate.py with the project's ROS environment.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()  # before rclpy loads the middleware

import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.duration import Duration  # noqa: E402
from rclpy.executors import Executor, SingleThreadedExecutor  # noqa: E402
from rclpy.experimental import EventsExecutor  # noqa: E402
from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from rclpy.task import Future  # noqa: E402
from std_msgs.msg import UInt64  # noqa: E402

from benchlib import stats  # noqa: E402
from sbamti.ros.arrays import complex_to_interleaved  # noqa: E402
from sbamti_msgs.msg import RadarDwell  # noqa: E402

TOPIC = "bench/rate"
CUBE_SHAPE = (4, 256, 256)  # channels, pulses, range bins: 2**18 complex64 = 2 MiB


def cube_message() -> RadarDwell:
    """A RadarDwell holding a 2 MiB complex cube (built once, re-sent with a new stamp)."""
    cube = np.random.default_rng(0).standard_normal(2 * int(np.prod(CUBE_SHAPE)), np.float32).view(np.complex64)
    channels, pulses, bins = CUBE_SHAPE
    return RadarDwell(satellite_id="bench", fidelity=RadarDwell.FIDELITY_IQ, num_channels=channels,
                      num_pulses=pulses, num_range_bins=bins,
                      iq_interleaved=complex_to_interleaved(cube.reshape(CUBE_SHAPE)))


# message kind -> (type, prototype factory, name of the uint64 field carrying the send time)
KINDS = {"small": (UInt64, UInt64, "data"), "cube": (RadarDwell, cube_message, "dwell_id")}


def qos_profile(reliability: str, depth: int) -> QoSProfile:
    """Reliable or best effort; ``depth`` 0 means KEEP_ALL."""
    policy = ReliabilityPolicy.RELIABLE if reliability == "reliable" else ReliabilityPolicy.BEST_EFFORT
    if depth == 0:
        return QoSProfile(history=HistoryPolicy.KEEP_ALL, reliability=policy)
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=policy)


def make_executor(name: str) -> Executor:
    return EventsExecutor() if name == "events" else SingleThreadedExecutor()


def emit(result: dict) -> None:
    print(json.dumps(result), flush=True)


def publish(args: argparse.Namespace) -> None:
    """Wait for the subscriber, send ``count`` messages (paced at ``rate`` Hz, or as fast as possible)."""
    msg_type, factory, stamp_field = KINDS[args.kind]
    node = rclpy.create_node("bench_rate_pub")
    pub = node.create_publisher(msg_type, TOPIC, qos_profile(args.reliability, args.depth))
    deadline = time.monotonic() + args.match_timeout
    while pub.get_subscription_count() < 1:
        if time.monotonic() > deadline:
            emit({"error": "no subscriber matched"})
            return
        time.sleep(0.01)
    time.sleep(args.settle)  # let the subscriber side finish matching too
    msg = factory()
    period_ns = int(1e9 / args.rate) if args.rate > 0 else 0
    failures = 0
    first_error = ""
    call_ns: list[int] = []
    start = time.monotonic_ns()
    for i in range(args.count):
        if period_ns:
            delay = start + i * period_ns - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
        sent_at = time.monotonic_ns()
        setattr(msg, stamp_field, sent_at)
        try:
            pub.publish(msg)
        except Exception as exc:  # rclpy raises when a KEEP_ALL history stays full past max_blocking_time
            failures += 1
            first_error = first_error or f"{type(exc).__name__}: {exc}"
        call_ns.append(time.monotonic_ns() - sent_at)
    elapsed = (time.monotonic_ns() - start) / 1e9
    acked = pub.wait_for_all_acked(Duration(seconds=args.linger)) if args.reliability == "reliable" else None
    time.sleep(args.settle)  # best effort: let the last samples leave before the process does
    emit({"sent": args.count - failures, "failed": failures, "publish_s": elapsed,
          "publish_rate": args.count / elapsed if elapsed else float("nan"), "all_acked": acked,
          "first_error": first_error,
          "publish_call_us": stats(np.asarray(call_ns) / 1e3)})


def subscribe(args: argparse.Namespace) -> None:
    """Record (arrival, send) times until ``count`` arrived, or the publisher left and ``idle`` s passed."""
    msg_type, _, stamp_field = KINDS[args.kind]
    node = rclpy.create_node("bench_rate_sub")
    arrivals: list[int] = []
    sends: list[int] = []

    def on_message(msg) -> None:
        arrivals.append(time.monotonic_ns())
        sends.append(getattr(msg, stamp_field))

    node.create_subscription(msg_type, TOPIC, on_message, qos_profile(args.reliability, args.depth))
    done = Future()
    publisher_gone = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), publisher_gone.set()), daemon=True).start()
    deadline = time.monotonic() + args.timeout

    def check_done() -> None:
        if done.done():
            return
        idle = publisher_gone.is_set() and (
            not arrivals or time.monotonic_ns() - arrivals[-1] > args.idle * 1e9)
        if len(arrivals) >= args.count or idle or time.monotonic() > deadline:
            done.set_result(True)

    node.create_timer(0.05, check_done)
    executor = make_executor(args.executor)
    executor.add_node(node)
    print("READY", flush=True)
    while not done.done():
        # A finite timeout: without one, EventsExecutor (rclpy 9.1.2) busy-loops and runs no callbacks.
        executor.spin_until_future_complete(done, timeout_sec=1.0)
    received = len(arrivals)
    span = (arrivals[-1] - arrivals[0]) / 1e9 if received > 1 else float("nan")
    latency_us = (np.asarray(arrivals, np.int64) - np.asarray(sends, np.int64)) / 1e3
    emit({"received": received, "receive_rate": (received - 1) / span if received > 1 else float("nan"),
          "latency_us": stats(latency_us)})
    node.destroy_node()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=("pub", "sub"))
    parser.add_argument("--kind", choices=tuple(KINDS), default="small")
    parser.add_argument("--reliability", choices=("reliable", "best_effort"), default="reliable")
    parser.add_argument("--depth", type=int, default=0, help="KEEP_LAST depth; 0 = KEEP_ALL")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=0.0, help="Hz; 0 = as fast as possible")
    parser.add_argument("--executor", choices=("single", "events"), default="single")
    parser.add_argument("--match-timeout", type=float, default=20.0, help="s to wait for the other side")
    parser.add_argument("--settle", type=float, default=0.5, help="s between matching and the first message")
    parser.add_argument("--idle", type=float, default=0.5,
                        help="s without messages that end the subscriber once the publisher has left")
    parser.add_argument("--linger", type=float, default=20.0, help="s the publisher waits for acknowledgements")
    parser.add_argument("--timeout", type=float, default=100.0, help="s after which the subscriber gives up")
    args = parser.parse_args()
    rclpy.init()
    try:
        if args.role == "pub":
            publish(args)
        else:
            subscribe(args)
    finally:
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
