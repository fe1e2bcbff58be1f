"""downlink_rx: the ground end of the space-to-ground link, for every satellite.

Receives UDP datagrams from the satellites' ``downlink_tx``, verifies each frame (CRC, header,
HMAC-SHA-256 of the satellite's security association, anti-replay window; ``docs/link_protocol.md``)
and counts what it rejects. Each authentic packet carries a link sequence number: a number already
delivered is a retransmission and is dropped; gaps are asked for again (LINK_NAK, after a
``nak_holdoff_s`` that lets reordered packets arrive) and everything received is acknowledged
(LINK_ACK) every ``ack_period_s``. Detections are republished on ``detections`` (``/ground/detections``)
with their original dwell stamps, multi-part dwells once complete; housekeeping on ``housekeeping``.
Commands published on ``uplink/commands`` are authenticated and sent to their satellite once its link
has been heard, and retried until the satellite's acknowledgement arrives (published on
``uplink/acks``). Publishes ``downlink/status``: one ``LinkStatus`` per satellite and the total.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from sbamti.errors import ConfigurationError
from sbamti.link.arq import CommandTracker, ReceiveLedger, ReorderBuffer
from sbamti.link.channel import Channel
from sbamti.link.errors import LinkError
from sbamti.link.frame import Deframer, FrameEncoder
from sbamti.link.packets import Apid, Direction
from sbamti.link.payloads import (CommandKind, DwellDetections, decode_command_ack, decode_detections,
                                  decode_housekeeping, encode_ack, encode_command, encode_nak, join_parts)
from sbamti.link.security import Keyring
from sbamti.link.state import SequenceReservation, StateFile
from sbamti.link.udp import UdpEndpoint
from sbamti.ros.link_messages import (command_ack_to_message, command_from_message, dwell_to_message,
                                      housekeeping_to_message)
from sbamti.ros.link_params import IMPAIRMENT_PARAMETERS, impairments_from, parse_host
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.ros.qos import GROUND_DETECTIONS_QOS
from sbamti.timeutil import split_ns
from sbamti_msgs.msg import DetectionArray, LinkStatus, NodeStatus, UplinkCommand, UplinkCommandAck

PARAMETERS = (
    ParamSpec("key_file", "", "key file (docs/link_protocol.md, Security); required", read_only=True),
    ParamSpec("state_dir", "", "directory of the ground's persistent link state; required", read_only=True),
    ParamSpec("bind_host", "127.0.0.1", "address the ground listens on", read_only=True, check=parse_host),
    ParamSpec("bind_port", 47_800, "UDP port the ground listens on", minimum=1, maximum=65535, read_only=True),
    ParamSpec("replay_window", 4096, "anti-replay window, security sequence numbers", minimum=64,
              maximum=1 << 20, read_only=True),
    ParamSpec("ack_period_s", 0.05, "acknowledgement period (wall s)", minimum=0.001, maximum=10.0, read_only=True),
    ParamSpec("nak_holdoff_s", 0.2, "a gap younger than this is not NAKed yet: it may be reordering (wall s)",
              minimum=0.0, maximum=60.0, read_only=True),
    ParamSpec("nak_repeat_s", 1.0, "ask again for a gap after this long (wall s)", minimum=0.01, maximum=600.0,
              read_only=True),
    ParamSpec("in_order_hold_s", 1.0, "hold a packet that arrived ahead of a gap this long for the gap to be "
              "repaired, so data are republished in the order the satellite sent them (wall s; 0 = as they arrive)",
              minimum=0.0, maximum=600.0, read_only=True),
    ParamSpec("command_retry_s", 1.0, "resend an unacknowledged command after this long (wall s)", minimum=0.01,
              maximum=600.0, read_only=True),
    ParamSpec("receive_period_s", 0.005, "socket polling period (wall s)", minimum=0.001, maximum=1.0,
              read_only=True),
    ParamSpec("link_status_period_s", 1.0, "LinkStatus period (wall s)", minimum=0.05, maximum=60.0, read_only=True),
) + IMPAIRMENT_PARAMETERS

HOUSEKEEPING_QOS = QoSProfile(depth=1000, reliability=ReliabilityPolicy.RELIABLE)
LINK_STATUS_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE)
COMMANDS_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
SECURITY_RESERVE = 1024
MAX_PENDING_PARTS = 4096     # dwells waiting for their other parts, per satellite


@dataclass
class SatelliteLink:
    """What the ground knows of one satellite's link (one security association)."""

    spi: int
    satellite_id: str = ""
    address: tuple[str, int] | None = None
    ledger: ReceiveLedger = field(default_factory=ReceiveLedger)
    reorder: ReorderBuffer | None = None
    encoder: FrameEncoder | None = None
    security_sequence: SequenceReservation | None = None   # uplink numbers, reserved durably
    parts: dict[int, list[DwellDetections]] = field(default_factory=dict)
    acked_through: tuple[int, int] = (-1, -1)   # (cumulative, received count) last acknowledged
    last_heard_wall: float = 0.0
    counts: dict[str, int] = field(default_factory=lambda: dict(
        packets_received=0, packets_duplicate=0, packets_acked=0, naks_sent=0, packets_sent=0, bytes_sent=0,
        bytes_received=0, commands_executed=0, commands_rejected=0))
    latencies: list[float] = field(default_factory=list)


class DownlinkRxNode(SbamtiNode):
    """Ground end of the link: verify, de-duplicate, acknowledge, republish; send commands."""

    def __init__(self, **kwargs) -> None:
        super().__init__("downlink_rx", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        for name in ("key_file", "state_dir"):
            if not cfg[name]:
                raise ConfigurationError(f"parameter '{name}': required")
        self.cfg = cfg
        self.channel = Channel(impairments_from(cfg))
        try:
            self.keyring = Keyring.from_file(cfg["key_file"])
            self.udp = UdpEndpoint(cfg["bind_host"], cfg["bind_port"])
            Path(cfg["state_dir"]).mkdir(parents=True, exist_ok=True)
            self.state = StateFile(os.path.join(cfg["state_dir"], "ground.sqlite"))
        except (LinkError, OSError) as exc:
            if getattr(self, "udp", None) is not None:
                self.udp.close()
            raise ConfigurationError(str(exc)) from None
        self.deframer = Deframer(self.keyring, Direction.DOWN, replay_window=cfg["replay_window"])
        self.links: dict[int, SatelliteLink] = {}
        self.by_satellite: dict[str, int] = {}
        # Replay windows and ledgers of every satellite heard before a restart are restored before the
        # first datagram is read, so an old frame replayed at start-up is refused like any other.
        for key in self.state.state_items():
            if key.startswith("replay_highest:"):
                self._link(int(key.split(":", 1)[1]))
        self.commands = CommandTracker(retry_s=cfg["command_retry_s"])
        self._next_command_id = int(self.state.get_state("next_command_id", 1))

        self._detections_pub = self.create_publisher(DetectionArray, "detections", GROUND_DETECTIONS_QOS)
        self._housekeeping_pub = self.create_publisher(NodeStatus, "housekeeping", HOUSEKEEPING_QOS)
        self._link_status_pub = self.create_publisher(LinkStatus, "downlink/status", LINK_STATUS_QOS)
        self._acks_pub = self.create_publisher(UplinkCommandAck, "uplink/acks", COMMANDS_QOS)
        self.create_subscription(UplinkCommand, "uplink/commands", self._on_command, COMMANDS_QOS)
        self.create_timer(cfg["receive_period_s"], self._service, clock=self._wall_clock)
        self.create_timer(cfg["ack_period_s"], self._acknowledge, clock=self._wall_clock)
        self.create_timer(cfg["link_status_period_s"], self._publish_link_status, clock=self._wall_clock)
        self.get_logger().info(f"listening on {self.udp.address[0]}:{self.udp.address[1]}")

    def now_ns(self) -> int:
        """The node clock (sim time, UTC ns, under use_sim_time)."""
        return self.get_clock().now().nanoseconds

    # -- downlink ----------------------------------------------------------------------------
    def _link(self, spi: int) -> SatelliteLink:
        link = self.links.get(spi)
        if link is None:
            link = self.links[spi] = SatelliteLink(spi)
            highest = int(self.state.get_state(f"replay_highest:{spi}", 0))
            if highest:
                self.deframer.replay_window(spi).restore(highest)
            link.ledger.restore(int(self.state.get_state(f"cumulative:{spi}", 0)))
            link.reorder = ReorderBuffer(self.cfg["in_order_hold_s"], next_expected=link.ledger.cumulative + 1)
        return link

    def _service(self) -> None:
        now_wall = time.monotonic()
        for datagram, addr in self.udp.receive_all():
            self.deframer.reset()
            for packet in self.deframer.feed(datagram, final=True):
                link = self._link(packet.spi)
                link.address = addr
                link.last_heard_wall = now_wall
                link.counts["bytes_received"] += len(datagram)
                self._on_packet(link, packet, now_wall)
        for link in self.links.values():
            for packet in link.reorder.release(now_wall):
                self._deliver(link, packet)
        self._send_commands(now_wall)
        for datagram, addr in self.channel.due_addressed(self.now_ns() * 1e-9):
            self.udp.send(datagram, addr)

    def _on_packet(self, link: SatelliteLink, packet, now_wall: float) -> None:
        """De-duplicate by link sequence, restore the satellite's order, deliver."""
        if not packet.link_sequence:
            self._deliver(link, packet)
            return
        if not link.ledger.receive(packet.link_sequence, now_wall):
            link.counts["packets_duplicate"] += 1
            link.acked_through = (-1, -1)     # our ack was lost or late: acknowledge again
            return
        link.counts["packets_received"] += 1
        for ready in link.reorder.push(packet.link_sequence, packet, now_wall):
            self._deliver(link, ready)

    def _deliver(self, link: SatelliteLink, packet) -> None:
        if packet.link_sequence:
            link.counts["packets_acked"] += 1        # delivered (and acknowledged at the next ack)
        try:
            if packet.apid == Apid.DETECTIONS:
                self._on_detections(link, decode_detections(packet.payload), packet.time_sec, packet.time_nanosec)
            elif packet.apid == Apid.HOUSEKEEPING:
                self._housekeeping_pub.publish(housekeeping_to_message(decode_housekeeping(packet.payload)))
            elif packet.apid == Apid.COMMAND_ACK:
                ack = decode_command_ack(packet.payload)
                if self.commands.acknowledge(link.satellite_id, ack.command_id):
                    key = "commands_executed" if ack.status == 0 else "commands_rejected"
                    link.counts[key] += 1
                self._acks_pub.publish(command_ack_to_message(ack, link.satellite_id, packet.time_sec,
                                                              packet.time_nanosec))
        except LinkError as exc:
            self.reject(f"downlink:{Apid(packet.apid).name.lower()}_payload", f"spi {link.spi}: {exc}")

    def _on_detections(self, link: SatelliteLink, dwell: DwellDetections, sec: int, nanosec: int) -> None:
        if not link.satellite_id:
            link.satellite_id = dwell.satellite_id
            self.by_satellite[dwell.satellite_id] = link.spi
        if dwell.parts > 1:
            parts = link.parts.setdefault(dwell.dwell_id, [])
            parts.append(dwell)
            if len(parts) < dwell.parts:
                if len(link.parts) > MAX_PENDING_PARTS:
                    oldest = min(link.parts)
                    self.reject("downlink:incomplete_dwell", f"{link.satellite_id} dwell {oldest}: parts never completed")
                    del link.parts[oldest]
                return
            dwell = join_parts(link.parts.pop(dwell.dwell_id))
        msg = dwell_to_message(dwell, sec, nanosec)
        self._detections_pub.publish(msg)
        self.messages_out += 1
        link.latencies.append((self.now_ns() - (sec * 1_000_000_000 + nanosec)) * 1e-9)

    def _acknowledge(self) -> None:
        """Acknowledge what arrived since the last ack; ask again for gaps old enough."""
        now_wall = time.monotonic()
        for link in self.links.values():
            if link.address is None:
                continue
            ledger = link.ledger
            mark = (ledger.cumulative, ledger.received_count - len(link.reorder))
            if mark != link.acked_through:
                # Held packets are not acknowledged until republished: the satellite keeps them.
                cumulative, ranges = ledger.ack_content(withheld=link.reorder.held())
                self._send(link, Apid.LINK_ACK, encode_ack(cumulative, ranges))
                link.acked_through = mark
                self.state.put_states({f"cumulative:{link.spi}": ledger.cumulative,
                                       f"replay_highest:{link.spi}": self.deframer.replay_window(link.spi).highest})
            missing = ledger.gaps_to_nak(now_wall, holdoff_s=self.cfg["nak_holdoff_s"],
                                         repeat_s=self.cfg["nak_repeat_s"])
            if missing:
                self._send(link, Apid.LINK_NAK, encode_nak(missing))
                link.counts["naks_sent"] += 1

    # -- uplink ------------------------------------------------------------------------------
    def _encoder(self, link: SatelliteLink) -> FrameEncoder:
        """The uplink encoder of ``link``; its security sequence numbers are reserved in blocks that
        survive a ground restart (the satellite's replay window would refuse reused numbers)."""
        if link.encoder is None:
            link.security_sequence = SequenceReservation(self.state, f"uplink_security_sequence:{link.spi}",
                                                         SECURITY_RESERVE)
            link.encoder = FrameEncoder(self.keyring, link.spi, Direction.UP,
                                        next_security_sequence=link.security_sequence.first)
        link.security_sequence.cover(link.encoder.next_security_sequence)
        return link.encoder

    def _send(self, link: SatelliteLink, apid: Apid, payload: bytes) -> None:
        sec, nanosec = split_ns(self.now_ns())
        frame = self._encoder(link).encode(apid, payload, time_sec=sec, time_nanosec=nanosec)
        self.channel.submit_addressed(frame, link.address, self.now_ns() * 1e-9)
        link.counts["packets_sent"] += 1
        link.counts["bytes_sent"] += len(frame)

    def _on_command(self, msg: UplinkCommand) -> None:
        try:
            kind = CommandKind(msg.kind)
        except ValueError:
            self.reject("uplink/commands:unknown_kind", f"satellite {msg.satellite_id!r}: kind {msg.kind}")
            return
        command_id = msg.command_id
        if command_id == 0:
            command_id = self._next_command_id
        self._next_command_id = max(self._next_command_id, command_id + 1)
        self.state.put_state("next_command_id", self._next_command_id)
        try:
            payload = encode_command(command_from_message(msg, command_id))
        except LinkError as exc:
            self.reject("uplink/commands:invalid", f"satellite {msg.satellite_id!r} {kind.name}: {exc}")
            return
        try:
            self.commands.add(msg.satellite_id, command_id, payload, time.monotonic())
        except LinkError as exc:
            self.reject("uplink/commands:not_queued", f"satellite {msg.satellite_id!r} command {command_id}: {exc}")
            return
        self.messages_in += 1

    def _send_commands(self, now_wall: float) -> None:
        for pending in self.commands.due(now_wall):
            spi = self.by_satellite.get(pending.destination)
            link = self.links.get(spi) if spi is not None else None
            if link is None or link.address is None:
                continue       # not heard yet: the command waits for the satellite's link
            self._send(link, Apid.COMMAND, pending.payload)
            self.commands.sent(pending, now_wall)

    # -- status ------------------------------------------------------------------------------
    def _publish_link_status(self) -> None:
        now_ns = self.now_ns()
        now_wall = time.monotonic()
        total = LinkStatus()
        total.endpoint_id = "ground"
        latencies: list[float] = []
        for link in self.links.values():
            msg = self._link_status(link, now_ns, now_wall)
            self._link_status_pub.publish(msg)
            for key in ("packets_received", "packets_duplicate", "packets_sent", "bytes_sent", "bytes_received",
                        "naks_sent", "commands_executed", "commands_rejected", "packets_acked"):
                setattr(total, key, getattr(total, key) + getattr(msg, key))
            latencies += link.latencies
            link.latencies = []
        total.header.stamp.sec, total.header.stamp.nanosec = split_ns(now_ns)
        total.state = LinkStatus.STATE_DIRECT if any(now_wall - link.last_heard_wall < 2.0
                                                     for link in self.links.values()) else LinkStatus.STATE_NO_CONTACT
        counters = {k: v for k, v in self.deframer.counters.items() if k != "accepted"}
        counters.update({f"channel:{k}": v for k, v in self.channel.counters.items()})
        total.packets_rejected = sum(v for k, v in self.deframer.counters.items()
                                     if k not in ("accepted", "garbage_bytes"))
        if latencies:
            total.latency_mean_s = sum(latencies) / len(latencies)
            total.latency_max_s = max(latencies)
        names = sorted(counters)
        total.counter_names = names
        total.counter_values = [int(counters[n]) for n in names]
        self._link_status_pub.publish(total)

    def _link_status(self, link: SatelliteLink, now_ns: int, now_wall: float) -> LinkStatus:
        msg = LinkStatus()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(now_ns)
        msg.endpoint_id = link.satellite_id or f"spi:{link.spi}"
        msg.state = LinkStatus.STATE_DIRECT if now_wall - link.last_heard_wall < 2.0 else LinkStatus.STATE_NO_CONTACT
        for key, value in link.counts.items():
            setattr(msg, key, value)
        if link.latencies:
            msg.latency_mean_s = sum(link.latencies) / len(link.latencies)
            msg.latency_max_s = max(link.latencies)
        return msg

    def destroy_node(self) -> None:
        for name in ('udp', 'state'):     # whatever a failed construction got to open
            resource = getattr(self, name, None)
            if resource is not None:
                resource.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(DownlinkRxNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
