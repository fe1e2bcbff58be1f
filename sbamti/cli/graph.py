"""``sbamti node ...`` and ``sbamti topic ...``: graph introspection on rclpy's graph API.

Each command creates one hidden node (``/_sbamti_cli_<pid>``, no rosout, no parameter services) in
its own context, waits for discovery, does its work and shuts the context down. The project's DDS
environment (localhost-only discovery, the Fast DDS profile) is applied before rclpy is imported;
``ROS_DOMAIN_ID`` is taken from the environment by rcl.

Discovery is asynchronous, so listings wait until the graph has been unchanged for a short quiet
period (``settle``), and ``echo``/``hz`` wait for the topic and a publisher before subscribing with a
QoS every publisher can serve (``subscription_qos``).
"""

from __future__ import annotations

import difflib
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

import rclpy  # noqa: E402  (the environment must be set before the middleware loads)
from rclpy.context import Context  # noqa: E402
from rclpy.event_handler import SubscriptionEventCallbacks  # noqa: E402
from rclpy.exceptions import InvalidTopicNameException  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402
from rclpy.signals import SignalHandlerOptions  # noqa: E402
from rclpy.validate_full_topic_name import validate_full_topic_name  # noqa: E402

from sbamti.cli import EXIT_OK, EXIT_USAGE, CommandError  # noqa: E402
from sbamti.cli.fields import (FieldPathError, check_field_path, format_message, import_message_class,  # noqa: E402
                               resolve_field)
from sbamti.cli.rate import RateWindow  # noqa: E402
from sbamti.ros.qos import subscription_qos  # noqa: E402

RCLError = _rclpy.RCLError
CLI_NODE_PREFIX = "_sbamti_cli"
MAX_DOMAIN_ID = 232
POLL_S = 0.05
REPORT_PERIOD_S = 1.0

RELIABILITY = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}
DURABILITY = {"volatile": DurabilityPolicy.VOLATILE, "transient_local": DurabilityPolicy.TRANSIENT_LOCAL}


# -- node and graph helpers -----------------------------------------------------------------------
@contextmanager
def cli_node() -> Iterator[Node]:
    """A hidden node in a private context, destroyed and shut down on exit.

    rclpy's signal handlers are not installed: Ctrl-C raises ``KeyboardInterrupt`` in Python (within
    one ``POLL_S``-bounded wait), which the dispatcher turns into a quiet exit 0.
    """
    _check_domain_id()
    context = Context()
    try:
        rclpy.init(args=[], context=context, signal_handler_options=SignalHandlerOptions.NO)
    except RCLError as exc:
        raise CommandError(f"cannot initialise ROS: {exc}") from None
    node = None
    try:
        node = Node(f"{CLI_NODE_PREFIX}_{os.getpid()}", context=context, use_global_arguments=False,
                    enable_rosout=False, start_parameter_services=False)
        yield node
    finally:
        if node is not None:
            node.destroy_node()
        context.try_shutdown()


def fully_qualified_name(name: str, namespace: str) -> str:
    """``('orbit_state', '/sat01')`` -> ``'/sat01/orbit_state'``; ``('sim_clock', '/')`` -> ``'/sim_clock'``."""
    return f"{namespace.rstrip('/')}/{name}"


def is_hidden(name: str) -> bool:
    """ROS convention: a name with any token starting with ``_`` is hidden from listings."""
    return any(token.startswith("_") for token in name.split("/"))


def _domain_id() -> str:
    return os.environ.get("ROS_DOMAIN_ID") or "0"


def _check_domain_id() -> None:
    """Fast DDS maps domain d to UDP ports 7400 + 250 d + ...: ids above 232 do not fit in a port."""
    text = _domain_id().strip()
    if not text.isdigit() or int(text) > MAX_DOMAIN_ID:
        raise CommandError(f"ROS_DOMAIN_ID={text!r} is not a domain id: expected an integer 0..{MAX_DOMAIN_ID}",
                           EXIT_USAGE)


def full_topic_name(topic: str) -> str:
    """The absolute topic name (the CLI node lives in ``/``); usage error when the name is invalid."""
    name = topic if topic.startswith("/") else f"/{topic}"
    try:
        validate_full_topic_name(name)
    except InvalidTopicNameException as exc:
        raise CommandError(f"invalid topic name {topic!r}: {exc}", EXIT_USAGE) from None
    return name


def settle(snapshot: Callable[[], Any], *, min_s: float = 0.5, quiet_s: float = 0.5, max_s: float = 3.0,
           require_change: bool = True, clock: Callable[[], float] = time.monotonic,
           sleep: Callable[[float], None] = time.sleep) -> Any:
    """Poll ``snapshot()`` until discovery has settled and return the last value.

    Settled: at least ``min_s`` passed, something beyond the first snapshot (this process's own
    node) was discovered (unless not ``require_change``), and nothing changed for ``quiet_s``; or
    ``max_s`` passed (an empty graph).
    Discovery is asynchronous and arrives in bursts; with Fast DDS a remote participant sometimes
    answers only at its next periodic announcement (every 3 s by default), hence the 3 s default.
    """
    start = clock()
    first = last = snapshot()
    last_change = start
    while True:
        sleep(POLL_S)
        now = clock()
        current = snapshot()
        if current != last:
            last, last_change = current, now
        elapsed = now - start
        discovered = last != first or not require_change
        if elapsed >= max_s or (elapsed >= min_s and discovered and now - last_change >= quiet_s):
            return last


def _graph_snapshot(node: Node) -> tuple[list[str], dict[str, list[str]]]:
    return _node_names(node), _topics(node)


def _node_names(node: Node) -> list[str]:
    return sorted(fully_qualified_name(name, ns) for name, ns in node.get_node_names_and_namespaces())


def _topics(node: Node) -> dict[str, list[str]]:
    return {name: sorted(types) for name, types in node.get_topic_names_and_types()}


def describe_qos(qos: QoSProfile) -> str:
    """``'reliable, transient_local, keep_last depth 10'`` (history only when known: DDS does not
    announce a remote endpoint's history)."""
    parts = [qos.reliability.name.lower(), qos.durability.name.lower()]
    if qos.history == HistoryPolicy.KEEP_LAST:
        parts.append(f"keep_last depth {qos.depth}")
    elif qos.history == HistoryPolicy.KEEP_ALL:
        parts.append("keep_all")
    return ", ".join(parts)


def wait_for_publishers(node: Node, topic: str, timeout_s: float) -> list[str]:
    """Types of ``topic`` once it is in the graph with at least one publisher (``timeout_s`` 0: forever)."""
    deadline = None if timeout_s <= 0 else time.monotonic() + timeout_s
    types: list[str] = []
    while True:
        topics = _topics(node)
        types = topics.get(topic, [])
        if types and node.count_publishers(topic) > 0:
            return types
        if deadline is not None and time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    if types:
        raise CommandError(f"topic {topic} [{', '.join(types)}] has no publishers (waited {timeout_s:g} s)")
    close = difflib.get_close_matches(topic, list(topics), n=3)
    visible = f"{len(topics)} topic is" if len(topics) == 1 else f"{len(topics)} topics are"
    hint = f"; did you mean {' or '.join(close)}?" if close else f"; {visible} visible (sbamti topic list)"
    raise CommandError(f"topic {topic} did not appear in the graph within {timeout_s:g} s "
                       f"(ROS_DOMAIN_ID={_domain_id()}){hint}")


def _single_type(topic: str, types: list[str]) -> str:
    if len(types) != 1:
        raise CommandError(f"topic {topic} is published with several types ({', '.join(types)}); cannot choose one")
    return types[0]


def _publisher_profiles(node: Node, topic: str) -> list[QoSProfile]:
    return [info.qos_profile for info in node.get_publishers_info_by_topic(topic)]


def _requested_qos(node: Node, topic: str, args: Any, *, durability: DurabilityPolicy | None = None) -> QoSProfile:
    reliability = RELIABILITY[args.qos_reliability] if args.qos_reliability else None
    if getattr(args, "qos_durability", None):
        durability = DURABILITY[args.qos_durability]
    return subscription_qos(_publisher_profiles(node, topic), reliability=reliability, durability=durability,
                            depth=args.qos_depth)


def _warn_incompatible(topic: str) -> SubscriptionEventCallbacks:
    def on_incompatible(event: Any) -> None:
        policy = str(getattr(event.last_policy_kind, "name", event.last_policy_kind))
        policy = policy.removeprefix("RMW_QOS_POLICY_").lower()
        print(f"sbamti: warning: a publisher of {topic} offers a QoS incompatible with this subscription "
              f"({policy}); try --qos-reliability / --qos-durability", file=sys.stderr, flush=True)
    return SubscriptionEventCallbacks(incompatible_qos=on_incompatible)


def _executor(node: Node) -> SingleThreadedExecutor:
    executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    return executor


# -- commands -------------------------------------------------------------------------------------
def node_list(args: Any, out: TextIO = sys.stdout) -> int:
    with cli_node() as node:
        names, _topics_seen = settle(lambda: _graph_snapshot(node), max_s=args.spin_time)
    if not args.all:
        names = [name for name in names if not is_hidden(name)]
    for name, count in sorted(Counter(names).items()):
        if count > 1:
            print(f"sbamti: warning: {count} nodes share the name {name}: their topics and parameters collide",
                  file=sys.stderr)
    for name in names:
        out.write(f"{name}\n")
    out.flush()
    return EXIT_OK


def topic_list(args: Any, out: TextIO = sys.stdout) -> int:
    with cli_node() as node:
        _nodes_seen, topics = settle(lambda: _graph_snapshot(node), max_s=args.spin_time)
    for name in sorted(topics):
        if is_hidden(name) and not args.include_hidden_topics:
            continue
        out.write(f"{name} [{', '.join(topics[name])}]\n" if args.show_types else f"{name}\n")
    out.flush()
    return EXIT_OK


def topic_info(args: Any, out: TextIO = sys.stdout) -> int:
    topic = full_topic_name(args.topic)
    with cli_node() as node:
        deadline = None if args.timeout <= 0 else time.monotonic() + args.timeout
        while topic not in (topics := _topics(node)):
            if deadline is not None and time.monotonic() >= deadline:
                raise CommandError(f"topic {topic} did not appear in the graph within {args.timeout:g} s "
                                   f"(ROS_DOMAIN_ID={_domain_id()})")
            time.sleep(POLL_S)

        def endpoints() -> tuple[list[Any], list[Any]]:
            return node.get_publishers_info_by_topic(topic), node.get_subscriptions_info_by_topic(topic)

        # Endpoints of one topic are discovered one participant at a time: wait until the counts hold.
        settle(lambda: tuple(len(e) for e in endpoints()), min_s=0.3, quiet_s=0.3, max_s=1.0, require_change=False)
        publishers, subscriptions = endpoints()
        topics = _topics(node)
    lines = [f"Type: {', '.join(topics[topic])}", f"Publisher count: {len(publishers)}",
             f"Subscription count: {len(subscriptions)}"]
    if args.verbose:
        for kind, endpoints in (("publisher", publishers), ("subscription", subscriptions)):
            for info in endpoints:
                lines.append(f"  {kind} {fully_qualified_name(info.node_name, info.node_namespace)}: "
                             f"{describe_qos(info.qos_profile)}")
    out.write("\n".join(lines) + "\n")
    out.flush()
    return EXIT_OK


def topic_echo(args: Any, out: TextIO = sys.stdout) -> int:
    topic = full_topic_name(args.topic)
    limit = 1 if args.once else args.count
    array_limit = None if args.full_arrays else args.array_limit
    with cli_node() as node:
        msg_class = import_message_class(_single_type(topic, wait_for_publishers(node, topic, args.timeout)))
        try:
            segments = check_field_path(msg_class, args.field) if args.field else None
        except FieldPathError as exc:
            raise CommandError(str(exc), EXIT_USAGE) from None
        qos = _requested_qos(node, topic, args)
        shown = 0
        skipped_reasons: set[str] = set()

        def on_message(msg: Any) -> None:
            nonlocal shown
            if limit is not None and shown >= limit:
                return
            value = msg
            if segments is not None:
                try:
                    value = resolve_field(msg, segments)
                except FieldPathError as exc:  # e.g. an index beyond this message's sequence
                    if str(exc) not in skipped_reasons:
                        skipped_reasons.add(str(exc))
                        print(f"sbamti: warning: message skipped: {exc}", file=sys.stderr, flush=True)
                    return
            out.write(format_message(value, array_limit, args.flow_style) + "\n---\n")
            out.flush()
            shown += 1

        node.create_subscription(msg_class, topic, on_message, qos, event_callbacks=_warn_incompatible(topic))
        executor = _executor(node)
        deadline = None if args.timeout <= 0 else time.monotonic() + args.timeout
        while limit is None or shown < limit:
            executor.spin_once(timeout_sec=POLL_S)
            if shown == 0 and deadline is not None and time.monotonic() >= deadline:
                raise CommandError(f"no message on {topic} within {args.timeout:g} s (subscribed {describe_qos(qos)})")
    return EXIT_OK


def topic_hz(args: Any, out: TextIO = sys.stdout) -> int:
    topic = full_topic_name(args.topic)
    with cli_node() as node:
        msg_class = import_message_class(_single_type(topic, wait_for_publishers(node, topic, args.timeout)))
        # Volatile: a transient-local history replayed at once would look like a burst.
        qos = _requested_qos(node, topic, args, durability=DurabilityPolicy.VOLATILE)
        window = RateWindow(args.window)
        # Raw: the rate needs arrival times only, so large messages are never deserialised.
        node.create_subscription(msg_class, topic, lambda _data: window.add(time.monotonic()), qos, raw=True,
                                 event_callbacks=_warn_incompatible(topic))
        executor = _executor(node)
        start = time.monotonic()
        next_report = start + REPORT_PERIOD_S
        reports = 0
        while args.count_reports is None or reports < args.count_reports:
            executor.spin_once(timeout_sec=max(0.0, min(POLL_S, next_report - time.monotonic())))
            now = time.monotonic()
            if window.received == 0:
                if args.timeout > 0 and now - start >= args.timeout:
                    raise CommandError(f"no message on {topic} within {args.timeout:g} s "
                                       f"(subscribed {describe_qos(qos)})")
                continue
            if now < next_report:
                continue
            next_report += REPORT_PERIOD_S
            if next_report <= now:  # fell behind (a slow callback burst): restart the cadence
                next_report = now + REPORT_PERIOD_S
            if not window.has_new:
                out.write("no new messages\n")
            elif (stats := window.report()) is not None:
                out.write(stats.format() + "\n")
                reports += 1
            out.flush()
    return EXIT_OK
