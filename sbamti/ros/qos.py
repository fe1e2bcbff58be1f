"""QoS choices shared across nodes (publisher and subscriber of a topic must agree) and by the tools
that subscribe to other people's topics (CLI, test observer)."""

from __future__ import annotations

from collections.abc import Sequence

from sbamti.ros.env import apply_ros_environment

apply_ros_environment()

from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy  # noqa: E402

#: ``<sat>/detections`` (onboard_detector -> downlink_tx): transient local and deep, so a downlink_tx
#: that restarts (or joins late) is re-offered the recent dwells; its store drops those it already
#: accepted, so none is lost and none duplicated. A transient-local reader needs such a writer.
ONBOARD_DETECTIONS_QOS = QoSProfile(depth=2000, reliability=ReliabilityPolicy.RELIABLE,
                                    durability=DurabilityPolicy.TRANSIENT_LOCAL, history=HistoryPolicy.KEEP_LAST)
#: ``/ground/detections`` (downlink_rx -> ground_tracker): deep enough for a store's worth of dwells
#: arriving at once after an outage.
GROUND_DETECTIONS_QOS = QoSProfile(depth=5000, reliability=ReliabilityPolicy.RELIABLE)


def subscription_qos(publishers: Sequence[QoSProfile], *, reliability: ReliabilityPolicy | None = None,
                     durability: DurabilityPolicy | None = None, depth: int = 10) -> QoSProfile:
    """A subscription QoS every publisher in ``publishers`` can serve, unless overridden.

    Reliable unless a publisher is best effort (a reliable reader cannot match a best-effort writer;
    with no publisher known yet, reliable, as the project's data topics are); transient-local only
    when all publishers are (then a late joiner receives the stored
    history, e.g. the latest ``NodeStatus``).
    """
    if reliability is None:
        any_best_effort = any(p.reliability != ReliabilityPolicy.RELIABLE for p in publishers)
        reliability = ReliabilityPolicy.BEST_EFFORT if any_best_effort else ReliabilityPolicy.RELIABLE
    if durability is None:
        all_latched = bool(publishers) and all(p.durability == DurabilityPolicy.TRANSIENT_LOCAL for p in publishers)
        durability = DurabilityPolicy.TRANSIENT_LOCAL if all_latched else DurabilityPolicy.VOLATILE
    return QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=reliability, durability=durability)
