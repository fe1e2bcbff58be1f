#!/usr/bin/env python3
"""Test peer for graph tests: follows sim time and reports what it sees.

Subscribes ``clock_in`` (remapped to /clock by the launch file) only to prove remapping works;
its own clock follows /clock through ``use_sim_time``, which the launcher sets. Publishes
``~/sim_now`` (its node clock, rosgraph_msgs/Clock) at ``report_period_s`` of wall time and
``~/label`` (its ``label`` parameter, transient local) once at start.
"""

import sys

from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read

from rclpy.qos import DurabilityPolicy, QoSProfile
from rosgraph_msgs.msg import Clock
from std_msgs.msg import String

PARAMETERS = (
    ParamSpec("label", "unset", "free text reported on ~/label"),
    ParamSpec("report_period_s", 0.1, "wall seconds between ~/sim_now reports", minimum=0.01),
)


class ClockListener(SbamtiNode):
    def __init__(self, **kwargs):
        super().__init__("clock_listener", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        latched = QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.create_publisher(String, "~/label", latched).publish(String(data=cfg["label"]))
        self._now_pub = self.create_publisher(Clock, "~/sim_now", 10)
        self.create_subscription(Clock, "clock_in", self._on_clock, 10)
        self.create_timer(cfg["report_period_s"], self._report, clock=self._wall_clock)

    def _on_clock(self, _msg):
        self.messages_in += 1

    def _report(self):
        self._now_pub.publish(Clock(clock=self.get_clock().now().to_msg()))


if __name__ == "__main__":
    sys.exit(run_node(ClockListener))
