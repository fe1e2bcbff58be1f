"""An rclpy node in a private context that watches a running graph from the test process.

It lives in its own ``Context`` bound to the graph's ROS domain and spins in a background thread,
so a test can block on "these nodes and topics exist" or "N messages matching a predicate arrived"
with explicit timeouts, while messages keep being received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

import rclpy  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.qos import QoSProfile  # noqa: E402

from sbamti.ros.msgtypes import import_message_class  # noqa: E402
from sbamti.ros.qos import subscription_qos  # noqa: E402

RECORD_DEPTH = 10000  # messages kept per recorded topic


class _Recorder:
    def __init__(self, cond: threading.Condition) -> None:
        self.messages: list[Any] = []
        self.receive_times: list[float] = []
        self._cond = cond

    def __call__(self, msg: Any) -> None:
        with self._cond:
            self.messages.append(msg)
            self.receive_times.append(time.monotonic())
            self._cond.notify_all()


class GraphObserver:
    """Watches one ROS domain: graph queries and message recording, spun in a thread."""

    def __init__(self, domain_id: int, node_name: str = "sbamti_test_observer") -> None:
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = rclpy.create_node(node_name, context=self.context, start_parameter_services=False,
                                      enable_rosout=False)
        self._executor = SingleThreadedExecutor(context=self.context)
        self._executor.add_node(self.node)
        self._cond = threading.Condition()
        self._recorders: dict[str, _Recorder] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name="graph-observer", daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        while not self._stop.is_set() and self.context.ok():
            try:
                self._executor.spin_once(timeout_sec=0.05)
            except Exception:  # context shut down underneath us
                if self._stop.is_set() or not self.context.ok():
                    return
                raise

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._executor.shutdown()
        self.node.destroy_node()
        self.context.try_shutdown()

    # -- graph ------------------------------------------------------------------------------
    def node_names(self) -> set[str]:
        return {(ns.rstrip("/") + "/" + name) for name, ns in self.node.get_node_names_and_namespaces()}

    def topic_types(self) -> dict[str, list[str]]:
        return dict(self.node.get_topic_names_and_types())

    def wait_ready(self, nodes: Iterable[str] = (), topics: Iterable[str] = (), timeout: float = 15.0) -> None:
        """Block until every fully-qualified node name and topic exists; else TimeoutError naming the missing."""
        want_nodes, want_topics = set(nodes), set(topics)
        deadline = time.monotonic() + timeout
        while True:
            missing_nodes = want_nodes - self.node_names()
            missing_topics = want_topics - set(self.topic_types())
            if not missing_nodes and not missing_topics:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"graph not ready within {timeout} s: missing nodes {sorted(missing_nodes)}, "
                                   f"missing topics {sorted(missing_topics)}; present nodes {sorted(self.node_names())}")
            time.sleep(0.05)

    # -- messages ---------------------------------------------------------------------------
    def subscribe(self, topic: str, msg_type: str | type | None = None, *, qos: QoSProfile | None = None,
                  timeout: float = 15.0) -> _Recorder:
        """Start recording ``topic`` (type discovered from the graph when not given); idempotent."""
        if topic in self._recorders:
            return self._recorders[topic]
        if msg_type is not None and qos is not None:
            return self._record(topic, msg_type, qos)
        # Wait for a publisher so the subscription's QoS can match it (a transient-local publisher
        # gets a transient-local subscription, a best-effort one a best-effort subscription).
        deadline = time.monotonic() + timeout
        while not self.node.get_publishers_info_by_topic(topic):
            if time.monotonic() > deadline:
                if msg_type is None:
                    raise TimeoutError(f"topic {topic!r} did not appear within {timeout} s")
                break  # type known: subscribe anyway; a late publisher will still match
            time.sleep(0.05)
        if msg_type is None:
            msg_type = self.topic_types()[topic][0]
        return self._record(topic, msg_type, qos or self._qos_matching_publishers(topic))

    def _record(self, topic: str, msg_type: str | type, qos: QoSProfile) -> _Recorder:
        recorder = _Recorder(self._cond)
        recorder.subscription = self.node.create_subscription(
            import_message_class(msg_type) if isinstance(msg_type, str) else msg_type, topic, recorder, qos)
        self._recorders[topic] = recorder
        return recorder

    def _qos_matching_publishers(self, topic: str) -> QoSProfile:
        profiles = [info.qos_profile for info in self.node.get_publishers_info_by_topic(topic)]
        return subscription_qos(profiles, depth=RECORD_DEPTH)

    def wait_matched(self, topics: Iterable[str], timeout: float = 15.0) -> None:
        """Block until each recorded topic's subscription is matched with at least one publisher.

        A volatile subscription only receives what is published after the match: wait for it before
        letting a graph's time run if the first messages matter.
        """
        want = list(topics)
        deadline = time.monotonic() + timeout
        while True:
            unmatched = [t for t in want if self._recorders[t].subscription.get_publisher_count() == 0]
            if not unmatched:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"no publisher matched within {timeout} s on {unmatched}")
            time.sleep(0.02)

    def messages(self, topic: str) -> list[Any]:
        with self._cond:
            return list(self._recorders[topic].messages) if topic in self._recorders else []

    def wait_for_messages(self, topic: str, msg_type: str | type | None = None, *, count: int = 1,
                          predicate: Callable[[Any], bool] | None = None, timeout: float = 10.0,
                          qos: QoSProfile | None = None) -> list[Any]:
        """Return the first ``count`` messages on ``topic`` (that satisfy ``predicate``) or raise TimeoutError."""
        start = time.monotonic()
        recorder = self.subscribe(topic, msg_type, qos=qos, timeout=timeout)
        deadline = start + timeout
        with self._cond:
            while True:
                chosen = [m for m in recorder.messages if predicate is None or predicate(m)]
                if len(chosen) >= count:
                    return chosen[:count]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"{len(chosen)} of {count} message(s) on {topic!r} within {timeout} s "
                                       f"({len(recorder.messages)} received in all)")
                self._cond.wait(min(remaining, 0.1))
