"""Test peer for the container test: every instance announces itself and listens to the others.

Each instance publishes its fully-qualified name on /peers (wall-clock period) and records the
names it hears; once it has heard ``expected_peers`` distinct names (itself included) it publishes
its name once on /peers_complete (transient local), so a test sees who heard everyone.
"""

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from sbamti.ros.node import SbamtiNode
from sbamti.ros.params import ParamSpec, declare_and_read

PARAMETERS = (
    ParamSpec("expected_peers", 1, "how many distinct peers (self included) to hear", minimum=1),
    ParamSpec("announce_period_s", 0.5, "wall seconds between announcements", minimum=0.01),
)


class PeerNode(SbamtiNode):
    def __init__(self, **kwargs):
        super().__init__("peer", status_period_s=5.0, **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        self._expected = cfg["expected_peers"]
        self._heard: set[str] = set()
        self._name = self.get_fully_qualified_name()
        self._done = False
        qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
        self._announce = self.create_publisher(String, "/peers", qos)
        self._complete = self.create_publisher(
            String, "/peers_complete", QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.create_subscription(String, "/peers", self._on_peer, qos)
        self.create_timer(cfg["announce_period_s"], self._tick, clock=self._wall_clock)

    def _tick(self):
        self._announce.publish(String(data=self._name))

    def _on_peer(self, msg):
        self._heard.add(msg.data)
        if not self._done and len(self._heard) >= self._expected:
            self._done = True
            self._complete.publish(String(data=self._name))
