"""ground_tracker: the multi-satellite track picture from the downlinked detections (namespace /ground).

Subscribes ``detections`` (``DetectionArray``, as ``downlink_rx`` republishes them, one per satellite
dwell) and runs one :meth:`sbamti.tracking.tracker.Tracker.step` per dwell (IMM CV + CT filter,
chi-square gate, global nearest neighbour, one-point initiation, M-of-N confirmation, miss deletion).
A dwell's coverage is a circle of ``coverage_radius_m`` across the local vertical at its beam centre:
a track predicted inside it and not updated by the dwell counts a miss. The radar's footprint is tens
of km; the default 100 km is the area in which a miss counts, generous so that a target near the edge
of the beam (or a beam-centre error) still gets its misses, not so large that tracks far outside the
beam coast and die for dwells that could not have seen them.

Publishes ``tracks`` (``TrackArray``) after a dwell when at least ``publish_period_s`` of sim time
(dwell stamps) has passed since the last publication (0: after every dwell), stamped with the latest
dwell stamp, every state predicted to that stamp: confirmed and coasting tracks (and tentative ones
with ``publish_tentative``), with the combined IMM estimate's position and velocity, their 6x6
covariance, the WGS84 summary (``sbamti.ros.track_messages``), quality, updates, created and last
update times and the contributing satellites.

Rows the tracker refuses (a non-finite position, a covariance that is not positive definite, a stamp
far in the future) are counted as rejections ``detections:<reason>``, the rest of the dwell is used.
Dwells older than a track's last update (out of sequence) skip that track (the tracker has no
retrodiction yet): not bad input, counted in the status message (``late track skips``) and logged
at debug level.
"""

from __future__ import annotations

import numpy as np
from rclpy.qos import QoSProfile, ReliabilityPolicy
from sbamti_msgs.msg import DetectionArray, NodeStatus, TrackArray

from sbamti.errors import ConfigurationError
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.ros.qos import GROUND_DETECTIONS_QOS
from sbamti.ros.track_messages import dwell_input_from_message, tracks_to_message
from sbamti.tracking.association import GnnAssociator
from sbamti.tracking.errors import TrackingError
from sbamti.tracking.gating import ChiSquareGater
from sbamti.tracking.management import MofNConfirmer, TrackStatus
from sbamti.tracking.tracker import NANOSECONDS_PER_SECOND, Tracker

PARAMETERS = (
    ParamSpec("coverage_radius_m", 100e3, "radius around a dwell's beam centre in which a track not updated by the "
              "dwell counts a miss (m; the radar footprint is tens of km)", minimum=1.0, maximum=5e6, read_only=True),
    ParamSpec("publish_period_s", 1.0, "publish the picture after a dwell at most this often, in sim time "
              "(dwell stamps) (s; 0 = after every dwell)", minimum=0.0, maximum=3600.0, read_only=True),
    ParamSpec("publish_tentative", False, "publish tentative tracks too", read_only=True),
    ParamSpec("pd", 0.9, "detection probability per target and dwell, for association", minimum=1e-6,
              maximum=1.0 - 1e-6, read_only=True),
    ParamSpec("clutter_density_per_m3", 1e-12, "spatial density of false alarms and new targets near the tracks "
              "(1/m^3)", minimum=1e-30, maximum=1.0, read_only=True),
    ParamSpec("gate_probability", 0.9999, "probability that a consistent track's detection is in its chi-square gate",
              minimum=1e-6, maximum=1.0 - 1e-9, read_only=True),
    ParamSpec("confirm_m", 3, "hits needed to confirm a track (M of N)", minimum=1, maximum=64, read_only=True),
    ParamSpec("confirm_n", 5, "among the last this many opportunities (M of N)", minimum=1, maximum=64,
              read_only=True),
)

TRACKS_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)


def tracker_from(cfg: dict) -> Tracker:
    """The tracker of a node's validated parameters; an inconsistent set raises ``ConfigurationError``."""
    if cfg["confirm_m"] > cfg["confirm_n"]:
        raise ConfigurationError(f"parameter 'confirm_m': {cfg['confirm_m']} must be <= confirm_n = "
                                 f"{cfg['confirm_n']} (M of N, 1 <= M <= N <= 64)")
    try:
        return Tracker(gater=ChiSquareGater(cfg["gate_probability"]),
                       associator=GnnAssociator(cfg["pd"], cfg["clutter_density_per_m3"]),
                       confirmer=MofNConfirmer(cfg["confirm_m"], cfg["confirm_n"]))
    except TrackingError as exc:
        raise ConfigurationError(str(exc)) from None


class GroundTrackerNode(SbamtiNode):
    """Detections of every satellite in, one track picture out."""

    def __init__(self, **kwargs) -> None:
        super().__init__("ground_tracker", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        self.tracker = tracker_from(cfg)
        self.coverage_radius_m = cfg["coverage_radius_m"]
        self.publish_period_ns = round(cfg["publish_period_s"] * NANOSECONDS_PER_SECOND)
        self.publish_tentative = cfg["publish_tentative"]
        self.late_track_skips = 0                  # track-dwell pairs skipped: dwell older than the track
        self._created_ns: dict[int, int] = {}      # track id -> stamp of its initiating detection
        self._published_ns: int | None = None
        self._pub = self.create_publisher(TrackArray, "tracks", TRACKS_QOS)
        self.create_subscription(DetectionArray, "detections", self._on_detections, GROUND_DETECTIONS_QOS)

    def _on_detections(self, msg: DetectionArray) -> None:
        where = f"dwell {msg.dwell_id} of {msg.satellite_id}"
        try:
            dwell = dwell_input_from_message(msg, self.coverage_radius_m)
        except TrackingError as exc:
            self.reject("detections:invalid_dwell", f"{where}: {exc}")
            return
        self.messages_in += 1
        report = self.tracker.step(dwell)
        for reason, rows in report.rejected.items():
            self.reject(f"detections:{reason}", f"{where}: {rows} row(s)")
        for track_id in report.initiated.tolist():
            self._created_ns[track_id] = report.stamp_ns
        for track_id in report.deleted.tolist():
            self._created_ns.pop(track_id, None)
        if report.late_tracks:
            self.late_track_skips += report.late_tracks
            self.get_logger().debug(f"{where}: older than the last update of {report.late_tracks} track(s), "
                                    "skipped for them")
        if not report.rejected:
            self.set_condition(NodeStatus.LEVEL_WARN if self.rejections else NodeStatus.LEVEL_OK,
                               f"{len(self.tracker.store)} live tracks; late track skips {self.late_track_skips}")
        latest = self.tracker.latest_stamp_ns
        if latest is not None and (self._published_ns is None or self.publish_period_ns == 0
                                   or latest - self._published_ns >= self.publish_period_ns):
            self._publish(latest)

    def picture(self, stamp_ns: int) -> TrackArray:
        """The published tracks, predicted to ``stamp_ns`` (not earlier than any track's last update)."""
        store = self.tracker.store
        keep = np.ones(len(store), dtype=bool) if self.publish_tentative else store.status != TrackStatus.TENTATIVE
        rows = np.flatnonzero(keep)
        dt = (stamp_ns - store.last_update_ns[rows]) / NANOSECONDS_PER_SECOND
        x, P = self.tracker.filter.predict(store.state.take(rows), dt).combined()
        ids = store.id[rows]
        return tracks_to_message(
            stamp_ns, track_id=ids, status=store.status[rows], state=x, covariance=P, quality=store.quality[rows],
            num_updates=store.hits[rows], created_ns=[self._created_ns.get(int(i), 0) for i in ids],
            last_update_ns=store.last_update_ns[rows],
            satellites=[store.satellites_of(m) for m in store.satellites[rows]])

    def _publish(self, stamp_ns: int) -> None:
        self._pub.publish(self.picture(stamp_ns))
        self._published_ns = stamp_ns
        self.messages_out += 1


def main(args=None) -> int:
    return run_node(GroundTrackerNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
