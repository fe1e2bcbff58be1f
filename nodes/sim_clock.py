"""sim_clock: publishes /clock (UTC sim time) from a start epoch at a rate factor.

Parameters: ``start_epoch`` (ISO-8601 UTC), ``rate`` (multiple of real time; 0 = as fast as
possible, advancing ``step_s`` per message), ``publish_rate_hz`` (wall-clock /clock rate when
``rate`` > 0), ``duration_s`` (sim seconds after which the clock stops and the node exits 0; 0 = run
until shut down), ``wait_for_subscribers`` (hold sim time at ``start_epoch`` until that many nodes
subscribe to /clock, then ``settle_s`` more wall seconds, so every node and bench sees the run from
its first second: a reader may match the clock's writer up to ~1 s after the writer saw the reader). The node itself always runs on wall time, whatever ``use_sim_time`` says.
"""

from __future__ import annotations

import time

from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rosgraph_msgs.msg import Clock as ClockMsg

from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.simclock import SimClockSchedule
from sbamti.timeutil import format_utc_epoch_ns, parse_utc_epoch_ns, split_ns

PARAMETERS = (
    ParamSpec("start_epoch", "2028-01-01T00:00:00Z", "UTC start of sim time, ISO-8601 (e.g. 2028-01-01T00:00:00Z)",
              read_only=True, check=parse_utc_epoch_ns),
    ParamSpec("rate", 1.0, "sim seconds per wall second; 0 = as fast as possible", minimum=0.0, maximum=1e6,
              read_only=True),
    ParamSpec("publish_rate_hz", 100.0, "wall-clock /clock message rate when rate > 0 (Hz)", minimum=0.1,
              maximum=10000.0, read_only=True),
    ParamSpec("step_s", 0.01, "sim-time advance per /clock message when rate = 0 (s)", minimum=1e-9, maximum=3600.0,
              read_only=True),
    ParamSpec("duration_s", 0.0, "sim seconds after which the clock stops and the node exits; 0 = never",
              minimum=0.0, read_only=True),
    ParamSpec("wait_for_subscribers", 0, "hold sim time at start_epoch until this many nodes subscribe to /clock",
              minimum=0, read_only=True),
    ParamSpec("linger_s", 0.0, "after duration_s, hold sim time at its end this many wall seconds before exiting, "
              "so work still in the pipeline (detector backlog, downlink) can finish (s)", minimum=0.0,
              maximum=3600.0, read_only=True),
    ParamSpec("settle_s", 1.0, "after wait_for_subscribers is met, keep holding this many wall seconds, so the "
              "subscribers' side of discovery completes too (s)", minimum=0.0, maximum=60.0, read_only=True),
)

# rclcpp's ClockQoS is best effort, keep last 1; a reliable publisher serves both kinds of reader.
CLOCK_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)


class SimClockNode(SbamtiNode):
    """Owner of simulation time."""

    def __init__(self, **kwargs) -> None:
        super().__init__("sim_clock", **kwargs)
        # The clock source cannot follow /clock itself.
        self.set_parameters([Parameter("use_sim_time", Parameter.Type.BOOL, False)])
        cfg = declare_and_read(self, PARAMETERS)
        self.schedule = SimClockSchedule(
            start_ns=cfg["start_epoch"], rate=cfg["rate"], step_ns=int(round(cfg["step_s"] * 1e9)),
            duration_ns=int(round(cfg["duration_s"] * 1e9)))
        self._pub = self.create_publisher(ClockMsg, "/clock", CLOCK_QOS)
        self._msg = ClockMsg()
        self._wall_start: float | None = None
        self._wait_for_subscribers = cfg["wait_for_subscribers"]
        self._settle_s = cfg["settle_s"]
        self._linger_s = cfg["linger_s"]
        self._linger_until: float | None = None
        self._subscribers_met_at: float | None = None if self._wait_for_subscribers else -1e9
        self.finished = False
        period = 1.0 / cfg["publish_rate_hz"] if cfg["rate"] > 0 else 0.0
        if self._wait_for_subscribers:
            self.get_logger().info(f"holding sim time until /clock has {self._wait_for_subscribers} subscriber(s)")
        self._timer = self.create_timer(period, self._tick, clock=self._wall_clock)
        self.get_logger().info(
            f"sim time from {format_utc_epoch_ns(cfg['start_epoch'])} at rate "
            f"{cfg['rate'] if cfg['rate'] > 0 else 'as fast as possible'}"
            + (f" for {cfg['duration_s']} s" if cfg["duration_s"] else ""))

    def clock_subscriber_nodes(self) -> int:
        """Distinct nodes (other than this one) with a /clock subscription."""
        me = (self.get_namespace(), self.get_name())
        return len({(i.node_namespace, i.node_name) for i in self.get_subscriptions_info_by_topic("/clock")} - {me})

    def _holding(self, wall_now: float) -> bool:
        if self._subscribers_met_at is None:
            if self.clock_subscriber_nodes() < self._wait_for_subscribers:
                return True
            self._subscribers_met_at = wall_now
        return wall_now - self._subscribers_met_at < self._settle_s

    def _tick(self) -> None:
        wall_now = time.monotonic()
        if self._linger_until is not None:          # time has ended: hold it while the pipeline drains
            self._pub.publish(self._msg)
            if wall_now >= self._linger_until:
                self._stop()
            return
        if self._wall_start is None:
            if self._holding(wall_now):
                # Hold at the start epoch: nodes already know the date, but time does not run yet.
                self._msg.clock.sec, self._msg.clock.nanosec = split_ns(self.schedule.start_ns)
                self._pub.publish(self._msg)
                return
            self._wall_start = wall_now  # so the first running tick is exactly start_epoch
        now_ns, last = self.schedule.time_at(wall_now - self._wall_start)
        self._msg.clock.sec, self._msg.clock.nanosec = split_ns(now_ns)
        self._pub.publish(self._msg)
        self.messages_out += 1
        if last:
            self.get_logger().info(f"sim time reached {format_utc_epoch_ns(now_ns)}"
                                   + (f": holding it {self._linger_s:g} s" if self._linger_s else ": stopping"))
            if self._linger_s:
                self._linger_until = wall_now + self._linger_s
            else:
                self._stop()

    def _stop(self) -> None:
        self._timer.cancel()
        self.finished = True
        self.publish_status()
        self.context.try_shutdown()


def main(args=None) -> int:
    return run_node(SimClockNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
