"""Base class of every sbamti node: status heartbeat, rejection counters, and a uniform main().

A node built on ``SbamtiNode`` publishes ``NodeStatus`` on ``~/status`` every ``status_period_s``
(wall clock, so a paused sim clock does not look like a dead node) and immediately after it rejects
an input. ``reject(reason, detail)`` logs the offending field and value, counts it, and the node goes
on. ``run_node`` is the console-script entry point shared by all nodes: network rule, init, spin,
clean shutdown on SIGINT/SIGTERM, exit code 2 on a configuration error.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

from sbamti.errors import ConfigurationError
from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

import rclpy  # noqa: E402  (the environment must be set before the middleware loads)
from rclpy.clock import Clock, ClockType  # noqa: E402
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from rclpy.task import Future  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy, DurabilityPolicy, HistoryPolicy  # noqa: E402

from sbamti_msgs.msg import NodeStatus  # noqa: E402

STATUS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL,
                        history=HistoryPolicy.KEEP_LAST)

EXIT_CONFIGURATION_ERROR = 2
SPIN_SLICE_S = 0.2


class SbamtiNode(Node):
    """An rclpy node with the project's status topic and rejection accounting.

    Subclasses call ``super().__init__(default_name, **kwargs)``; ``kwargs`` are rclpy ``Node``
    keyword arguments, which is how a container passes a node instance its name, namespace,
    remaps and parameters (``cli_args``).
    """

    def __init__(self, default_name: str, *, status_period_s: float = 1.0, **kwargs) -> None:
        super().__init__(default_name, **kwargs)
        self._started_wall = time.monotonic()
        self._rejections: Counter[str] = Counter()
        self._heartbeats = 0
        self._last_message = ""
        self._level = NodeStatus.LEVEL_OK
        self.messages_in = 0
        self.messages_out = 0
        self._status_pub = self.create_publisher(NodeStatus, "~/status", STATUS_QOS)
        self._wall_clock = Clock(clock_type=ClockType.STEADY_TIME)
        self._status_timer = self.create_timer(status_period_s, self.publish_status, clock=self._wall_clock)

    # -- accounting -------------------------------------------------------------------------
    def reject(self, reason: str, detail: str) -> None:
        """Count a rejected input under ``reason`` and log ``detail`` (field and value)."""
        self._rejections[reason] += 1
        self._last_message = f"rejected {reason}: {detail}"
        self._level = max(self._level, NodeStatus.LEVEL_WARN)
        self.get_logger().warning(self._last_message)
        self.publish_status()

    @property
    def rejections(self) -> dict[str, int]:
        return dict(self._rejections)

    def set_condition(self, level: int, message: str) -> None:
        """Set the level and message reported on the status topic."""
        self._level, self._last_message = level, message

    def publish_status(self) -> None:
        self._heartbeats += 1
        msg = NodeStatus()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.node_name = self.get_fully_qualified_name()
        msg.level = self._level
        msg.message = self._last_message
        msg.heartbeat_count = self._heartbeats
        msg.uptime_s = time.monotonic() - self._started_wall
        msg.messages_in = self.messages_in
        msg.messages_out = self.messages_out
        names = sorted(self._rejections)
        msg.counter_names = names
        msg.counter_values = [self._rejections[n] for n in names]
        msg.rejected_total = sum(msg.counter_values)
        self._status_pub.publish(msg)


def install_stop_handlers() -> threading.Event:
    """SIGINT/SIGTERM set the returned event instead of raising.

    rclpy's own handlers shut the context down and also raise KeyboardInterrupt later, possibly in
    the middle of clean-up (a second Ctrl-C then ends the process with a traceback and code -2).
    A flag checked between short spins ends every process the same clean way.
    """
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def spin_until_stopped(executor: Any, stop: threading.Event, context: Any = None) -> None:
    """Spin in bounded slices until ``stop`` is set or the context shuts down.

    Bounded slices return to Python regularly, so a signal is seen within ``SPIN_SLICE_S`` and a node
    that shuts its context down (sim_clock at the end of its run) ends the loop. The events
    executor's unbounded ``spin()`` would see neither.
    """
    never = Future()
    while not stop.is_set() and rclpy.ok(context=context):
        executor.spin_until_future_complete(never, timeout_sec=SPIN_SLICE_S)


def run_node(node_class: type[SbamtiNode], args: Sequence[str] | None = None) -> int:
    """Run one node in its own process until shutdown; return the process exit code.

    0 after SIGINT/SIGTERM or a node-initiated shutdown, 2 on a configuration error (logged with the
    parameter, value and valid range).
    """
    stop = install_stop_handlers()
    rclpy.init(args=list(sys.argv if args is None else args), signal_handler_options=SignalHandlerOptions.NO)
    node = None
    executor = None
    code = 0
    try:
        node = node_class()
        executor = SingleThreadedExecutor()
        executor.add_node(node)
        spin_until_stopped(executor, stop)
    except ConfigurationError as exc:
        name = node_class.__name__ if node is None else node.get_name()
        rclpy.logging.get_logger(name).fatal(f"configuration error: {exc}")
        code = EXIT_CONFIGURATION_ERROR
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        if executor is not None:
            executor.shutdown()
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return code
