"""SbamtiNode's parameter validation, rejection counters and status topic, on real rclpy."""

import time

import pytest

from sbamti.errors import ConfigurationError
from sbamti.ros.node import SbamtiNode
from sbamti.ros.params import ParamSpec, declare_and_read

from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile

from sbamti_msgs.msg import NodeStatus

SPECS = (
    ParamSpec("rate_hz", 10.0, "a rate (Hz)", minimum=0.5, maximum=100.0),
    ParamSpec("count", 3, "a count", minimum=1),
    ParamSpec("label", "sat01", "an id", check=lambda v: v if v.isidentifier() else
              (_ for _ in ()).throw(ConfigurationError(f"label: {v!r} is not an identifier"))),
)


class _Configured(SbamtiNode):
    def __init__(self, **kwargs):
        super().__init__("configured", status_period_s=0.1, **kwargs)
        self.config = declare_and_read(self, SPECS)


@pytest.fixture
def context(ros_context):
    return ros_context


def _make(context, **overrides):
    params = [Parameter(k, value=v) for k, v in overrides.items()]
    return _Configured(context=context, parameter_overrides=params)


def test_defaults_and_integer_for_float(context):
    node = _make(context, rate_hz=20)
    assert node.config == {"rate_hz": 20.0, "count": 3, "label": "sat01"}
    assert isinstance(node.config["rate_hz"], float)
    node.destroy_node()


@pytest.mark.parametrize("overrides, words", [
    (dict(rate_hz=200.0), ["rate_hz", "200.0", "[0.5, 100.0]"]),
    (dict(count=0), ["count", "0", "[1, inf]"]),
    (dict(count="three"), ["count", "int"]),
    (dict(label="not an id"), ["label", "'not an id'"]),
])
def test_invalid_values_name_parameter_value_and_range(context, overrides, words):
    with pytest.raises(ConfigurationError) as info:
        _make(context, **overrides)
    for word in words:
        assert word in str(info.value)


def test_rejections_are_counted_and_published(context):
    node = _make(context)
    statuses = []
    node.create_subscription(NodeStatus, "/configured/status", statuses.append,
                             QoSProfile(depth=50, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    node.messages_in = 7
    node.reject("orbit/state:nan_position", "position_ecef[0] = nan")
    node.reject("orbit/state:nan_position", "position_ecef[2] = nan")
    node.reject("detections:stale", "stamp 12.0 s older than the window")
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not any(s.rejected_total == 3 for s in statuses):
        executor.spin_once(timeout_sec=0.05)
    last = [s for s in statuses if s.rejected_total == 3][-1]
    assert dict(zip(last.counter_names, last.counter_values)) == {
        "orbit/state:nan_position": 2, "detections:stale": 1}
    assert last.level == NodeStatus.LEVEL_WARN
    assert last.node_name == "/configured"
    assert last.messages_in == 7
    assert "stale" in last.message
    counts = [s.heartbeat_count for s in statuses]
    assert counts == sorted(counts) and len(set(counts)) == len(counts)
    executor.shutdown()
    node.destroy_node()
