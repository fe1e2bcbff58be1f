"""downlink_tx: a satellite's end of the space-to-ground link (store-and-forward, authenticated, reliable).

Subscribes ``detections`` (one ``DetectionArray`` per dwell) and the onboard nodes' ``status``
topics (housekeeping), and puts every record into a persistent store (``sbamti.link.store``, sqlite
in WAL mode: it survives ``kill -9``) before anything else; the store is bounded and evicts the
lowest priority first. When the link is up — inside a predicted ground-station window from
``orbit/contacts``, or always in ``relay`` mode — it sends the highest-priority records as CCSDS
space packets, authenticated with HMAC-SHA-256 (``docs/link_protocol.md``), over UDP to the ground,
at most ``link_rate_bps`` (sim time). A record is forgotten only when the ground acknowledges it;
NAKed or unacknowledged records are sent again with the same link sequence number, so the ground
can drop duplicates. The same socket receives the ground's acknowledgements and uplink commands
(authenticated, anti-replay, each executed once and acknowledged). ``loss``, ``corruption``,
``duplication``, ``reorder``, ``latency_s`` and ``outages`` impair the downlink for tests.
Publishes ``downlink/status`` (``LinkStatus``) and ``uplink/commands`` (accepted radar commands).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

from sbamti.errors import ConfigurationError
from sbamti.link.channel import Channel
from sbamti.link.errors import LinkError
from sbamti.link.frame import FRAME_OVERHEAD, Deframer, FrameEncoder
from sbamti.link.packets import PACKET_KINDS, Apid, Direction
from sbamti.link.payloads import (Command, CommandAck, CommandKind, CommandStatus, decode_ack, decode_command,
                                  decode_nak, encode_command_ack, encode_detections, encode_housekeeping)
from sbamti.link.schedule import ContactSchedule, ContactWindow, TokenBucket
from sbamti.link.security import Keyring
from sbamti.link.state import SequenceReservation
from sbamti.link.store import RecordStore
from sbamti.link.udp import UdpEndpoint
from sbamti.ros.link_messages import command_to_message, dwell_from_message, housekeeping_from_message
from sbamti.ros.link_params import IMPAIRMENT_PARAMETERS, impairments_from, parse_host
from sbamti.ros.node import SbamtiNode, run_node
from sbamti.ros.params import ParamSpec, declare_and_read
from sbamti.ros.qos import ONBOARD_DETECTIONS_QOS
from sbamti.timeutil import split_ns, stamp_ns
from sbamti_msgs.msg import ContactWindowArray, DetectionArray, LinkStatus, NodeStatus, UplinkCommand

HOUSEKEEPING_NODES = ["orbit_state", "radar_sim", "onboard_detector", "downlink_tx"]


def _mode(value: str) -> str:
    if value not in ("contacts", "relay"):
        raise ConfigurationError(f"parameter 'mode': {value!r} must be 'contacts' (ground-station windows) or 'relay'")
    return value


PARAMETERS = (
    ParamSpec("satellite_id", "", "this satellite's id; '' = the node's namespace", read_only=True),
    ParamSpec("spi", 1, "security parameter index of this satellite's security association", minimum=1,
              maximum=65535, read_only=True),
    ParamSpec("key_file", "", "key file (docs/link_protocol.md, Security); required", read_only=True),
    ParamSpec("store_dir", "", "directory of the persistent store (<satellite_id>.sqlite); required", read_only=True),
    ParamSpec("store_capacity_bytes", 64 * 1024 * 1024, "store bound in payload bytes", minimum=4096,
              read_only=True),
    ParamSpec("store_capacity_records", 200_000, "store bound in records", minimum=1, read_only=True),
    ParamSpec("mode", "contacts", "contacts (send inside ground-station windows) | relay (always)", read_only=True,
              check=_mode),
    ParamSpec("ground_host", "127.0.0.1", "ground station (downlink_rx) address", read_only=True, check=parse_host),
    ParamSpec("ground_port", 47_800, "downlink_rx UDP port", minimum=1, maximum=65535, read_only=True),
    ParamSpec("bind_host", "127.0.0.1", "local address for the link socket", read_only=True, check=parse_host),
    ParamSpec("bind_port", 0, "local UDP port (0 = any free port)", minimum=0, maximum=65535, read_only=True),
    ParamSpec("link_rate_bps", 10e6, "downlink rate limit, bits per second of sim time (0 = unlimited)",
              minimum=0.0, read_only=True),
    ParamSpec("max_payload_bytes", 8000, "largest packet payload; bigger dwells are split into parts",
              minimum=512, maximum=65_000, read_only=True),
    ParamSpec("retransmit_timeout_s", 3.0, "resend an unacknowledged packet after this long (wall s)",
              minimum=0.01, maximum=600.0, read_only=True),
    ParamSpec("max_in_flight", 512, "packets sent and not yet acknowledged, at most", minimum=1,
              maximum=1_000_000, read_only=True),
    ParamSpec("priority_detections", PACKET_KINDS[Apid.DETECTIONS].default_priority,
              "store priority of detections (0..255, higher first)", minimum=0, maximum=255),
    ParamSpec("priority_housekeeping", PACKET_KINDS[Apid.HOUSEKEEPING].default_priority,
              "store priority of housekeeping (0..255)", minimum=0, maximum=255),
    ParamSpec("housekeeping_nodes", HOUSEKEEPING_NODES, "onboard nodes (in this namespace) whose status is downlinked",
              read_only=True),
    ParamSpec("send_period_s", 0.01, "how often the send loop runs (wall s)", minimum=0.001, maximum=1.0,
              read_only=True),
    ParamSpec("link_status_period_s", 1.0, "LinkStatus period (wall s)", minimum=0.05, maximum=60.0, read_only=True),
) + IMPAIRMENT_PARAMETERS

STATUS_IN_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
CONTACTS_QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
LINK_STATUS_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
COMMANDS_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                          durability=DurabilityPolicy.TRANSIENT_LOCAL)

SECURITY_RESERVE = 1024          # security sequence numbers reserved per store write
COMMAND_ACK_PRIORITY = PACKET_KINDS[Apid.COMMAND_ACK].default_priority


class DownlinkTxNode(SbamtiNode):
    """Onboard end of the link: store, schedule, send, retransmit; receive acks and commands."""

    def __init__(self, **kwargs) -> None:
        super().__init__("downlink_tx", **kwargs)
        cfg = declare_and_read(self, PARAMETERS)
        self.satellite_id = cfg["satellite_id"] or self.get_namespace().strip("/")
        if not self.satellite_id:
            raise ConfigurationError("parameter 'satellite_id': empty and the node has no namespace to take it from")
        if not cfg["key_file"]:
            raise ConfigurationError("parameter 'key_file': required (a key file, docs/link_protocol.md)")
        if not cfg["store_dir"]:
            raise ConfigurationError("parameter 'store_dir': required (directory of the persistent store)")
        self.cfg = cfg
        self.spi = cfg["spi"]
        self.channel = Channel(impairments_from(cfg))
        try:
            keyring = Keyring.from_file(cfg["key_file"])
            keyring.key(self.spi, Direction.DOWN)
            self.udp = UdpEndpoint(cfg["bind_host"], cfg["bind_port"])
            Path(cfg["store_dir"]).mkdir(parents=True, exist_ok=True)
            self.store = RecordStore(os.path.join(cfg["store_dir"], f"{self.satellite_id}.sqlite"),
                                     capacity_bytes=cfg["store_capacity_bytes"],
                                     capacity_records=cfg["store_capacity_records"])
        except (LinkError, OSError) as exc:
            if getattr(self, "udp", None) is not None:
                self.udp.close()
            raise ConfigurationError(str(exc)) from None
        self.ground_address = (cfg["ground_host"], cfg["ground_port"])
        # Security sequence numbers must never repeat, even after kill -9: reserve blocks in the store.
        self.security_sequence = SequenceReservation(self.store, "security_sequence", SECURITY_RESERVE)
        self.encoder = FrameEncoder(keyring, self.spi, Direction.DOWN,
                                    next_security_sequence=self.security_sequence.first)
        self.deframer = Deframer(keyring, Direction.UP)
        uplink_highest = int(self.store.get_state("uplink_replay_highest", 0))
        if uplink_highest:
            self.deframer.replay_window(self.spi).restore(uplink_highest)
        self.priorities = {Apid.DETECTIONS: cfg["priority_detections"], Apid.HOUSEKEEPING: cfg["priority_housekeeping"],
                           Apid.COMMAND_ACK: COMMAND_ACK_PRIORITY}
        for apid, prio in self.store.priorities().items():   # set earlier by uplink command
            self.priorities[Apid(apid)] = prio
        self.relay = cfg["mode"] == "relay"
        self.schedule = ContactSchedule()
        self.bucket = TokenBucket(cfg["link_rate_bps"], burst_bytes=max(cfg["max_payload_bytes"] * 4, 65_536))
        self.counts = dict(packets_sent=0, packets_retransmitted=0, packets_acked=0, packets_received=0,
                           bytes_sent=0, bytes_received=0, commands_executed=0, commands_rejected=0,
                           packets_duplicate=0)

        self._link_status_pub = self.create_publisher(LinkStatus, "downlink/status", LINK_STATUS_QOS)
        self._commands_pub = self.create_publisher(UplinkCommand, "uplink/commands", COMMANDS_QOS)
        self.create_subscription(DetectionArray, "detections", self._on_detections, ONBOARD_DETECTIONS_QOS)
        self.create_subscription(ContactWindowArray, "orbit/contacts", self._on_contacts, CONTACTS_QOS)
        for name in cfg["housekeeping_nodes"]:
            self.create_subscription(NodeStatus, f"{name}/status", self._on_housekeeping, STATUS_IN_QOS)
        self.create_timer(cfg["send_period_s"], self._service, clock=self._wall_clock)
        self.create_timer(cfg["link_status_period_s"], self._publish_link_status, clock=self._wall_clock)
        self.get_logger().info(
            f"{self.satellite_id}: spi {self.spi}, {cfg['mode']} mode, {cfg['link_rate_bps'] / 1e6:g} Mbit/s, "
            f"ground {self.ground_address[0]}:{self.ground_address[1]}, local port {self.udp.address[1]}, "
            f"store {self.store.path} ({self.store.record_count} record(s) waiting)")

    # -- inputs -----------------------------------------------------------------------------
    def now_ns(self) -> int:
        """The node clock (sim time, UTC ns, under use_sim_time)."""
        return self.get_clock().now().nanoseconds

    def _on_detections(self, msg: DetectionArray) -> None:
        try:
            dwell = dwell_from_message(msg)
            payloads = encode_detections(dwell, max_payload_bytes=self.cfg["max_payload_bytes"])
        except LinkError as exc:
            self.reject("detections:unencodable", f"dwell {msg.dwell_id}: {exc}")
            return
        self.messages_in += 1
        stamp = (msg.header.stamp.sec, msg.header.stamp.nanosec)
        # The stamp makes the key unique across runs that reuse a store; the dwell id within a run.
        key = f"det:{msg.dwell_id}:{stamp_ns(msg.header.stamp)}"
        self._offer(Apid.DETECTIONS, stamp, payloads, dedupe_key=key)

    def _on_housekeeping(self, msg: NodeStatus) -> None:
        try:
            payload = encode_housekeeping(housekeeping_from_message(msg))
        except LinkError as exc:
            self.reject("housekeeping:unencodable", f"{msg.node_name}: {exc}")
            return
        self._offer(Apid.HOUSEKEEPING, (msg.header.stamp.sec, msg.header.stamp.nanosec), [payload],
                    coalesce_key=f"hk:{msg.node_name}")

    def _offer(self, apid: Apid, stamp: tuple[int, int], payloads: list[bytes], *, dedupe_key: str | None = None,
               coalesce_key: str | None = None) -> None:
        result = self.store.offer(int(apid), self.priorities[apid], stamp, payloads, dedupe_key=dedupe_key,
                                  coalesce_key=coalesce_key)
        if result.evicted or not (result.accepted or result.duplicate):
            what = (f"evicted {sum(n for _, n in result.evicted)} lower-priority record(s)" if result.accepted
                    else f"dropped this {apid.name.lower()} record ({len(payloads)} part(s))")
            # Counted per data type in the store and on downlink/status; the log says it every 10 s at most.
            self.get_logger().warning(f"store full ({self.store.record_count} records, {self.store.byte_count} bytes): "
                                      f"{what}", throttle_duration_sec=10.0)

    def _on_contacts(self, msg: ContactWindowArray) -> None:
        try:
            self.schedule.update([ContactWindow(stamp_ns(w.aos), stamp_ns(w.los), w.station_name)
                                  for w in msg.windows])
        except LinkError as exc:
            self.reject("orbit/contacts:invalid_window", str(exc))

    # -- the link ----------------------------------------------------------------------------
    def link_state(self, now_ns: int) -> tuple[int, str, int]:
        """(LinkStatus state, station, next AOS ns) at ``now_ns``."""
        if self.relay:
            return LinkStatus.STATE_RELAY, "", 0
        avail = self.schedule.at(now_ns)
        return (LinkStatus.STATE_DIRECT if avail.in_contact else LinkStatus.STATE_NO_CONTACT), avail.station, \
            avail.next_aos_ns

    def _service(self) -> None:
        """One turn of the link: receive, send what is due, release what the channel delivers."""
        now_ns = self.now_ns()
        now_wall = time.time()   # the store's timestamps must be comparable across restarts
        self._receive()
        state, _, _ = self.link_state(now_ns)
        if state != LinkStatus.STATE_NO_CONTACT and now_ns > 0:
            self._send_due(now_ns, now_wall)
        for datagram in self.channel.due(now_ns * 1e-9):
            self.udp.send(datagram, self.ground_address)

    def _send_due(self, now_ns: int, now_wall: float) -> None:
        budget = self.bucket.available(now_ns)
        if budget <= 0:
            return
        records = self.store.next_to_send(now_wall, retransmit_timeout_s=self.cfg["retransmit_timeout_s"],
                                          max_in_flight=self.cfg["max_in_flight"], max_bytes=budget,
                                          overhead_bytes_per_record=FRAME_OVERHEAD)
        if not records:
            return
        records = self.store.mark_sent(records, now_wall)   # write-ahead: link sequences are durable first
        self.security_sequence.cover(self.encoder.next_security_sequence, len(records))
        for rec in records:
            frame = self.encoder.encode(rec.apid, rec.payload, time_sec=rec.stamp_sec, time_nanosec=rec.stamp_nanosec,
                                        link_sequence=rec.link_sequence, sequence_flags=rec.sequence_flags)
            self.bucket.consume(len(frame))
            self.channel.submit(frame, now_ns * 1e-9)
            self.counts["bytes_sent"] += len(frame)
            if rec.send_count > 1:
                self.counts["packets_retransmitted"] += 1
            else:
                self.counts["packets_sent"] += 1

    def _receive(self) -> None:
        for datagram, _addr in self.udp.receive_all():
            self.counts["bytes_received"] += len(datagram)
            self.deframer.reset()
            for packet in self.deframer.feed(datagram, final=True):
                self.counts["packets_received"] += 1
                try:
                    self._dispatch(packet)
                except LinkError as exc:
                    self.reject(f"uplink:{Apid(packet.apid).name.lower()}_payload", str(exc))

    def _dispatch(self, packet) -> None:
        if packet.apid == Apid.LINK_ACK:
            cumulative, ranges = decode_ack(packet.payload)
            self.counts["packets_acked"] += self.store.acknowledge(cumulative, ranges)
        elif packet.apid == Apid.LINK_NAK:
            self.store.request_retransmit(decode_nak(packet.payload))
        elif packet.apid == Apid.COMMAND:
            self._on_command(decode_command(packet.payload))
            # Persist the replay window only for commands: a replayed ack or nak is harmless.
            self.store.put_state("uplink_replay_highest", self.deframer.replay_window(self.spi).highest)

    def _on_command(self, command: Command) -> None:
        """Execute an authentic command once; answer every copy (the ground retries until it hears)."""
        previous = self.store.command_result(command.command_id)
        if previous is not None:
            self.counts["packets_duplicate"] += 1
            ack = CommandAck(command.command_id, CommandStatus(previous[0]), previous[1])
        else:
            ack = self.execute(command)
            self.store.remember_command(command.command_id, int(ack.status), ack.message)
            key = "commands_executed" if ack.status == CommandStatus.EXECUTED else "commands_rejected"
            self.counts[key] += 1
            self.get_logger().info(f"command {command.command_id} {command.kind.name}: {ack.status.name} {ack.message}")
        self._offer(Apid.COMMAND_ACK, split_ns(self.now_ns()), [encode_command_ack(ack)])

    def execute(self, command: Command) -> CommandAck:
        """Apply a command onboard; radar commands go to radar_sim on ``uplink/commands``."""
        if command.kind == CommandKind.SET_DOWNLINK_PRIORITY:
            try:
                apid = Apid(command.apid)
            except ValueError:
                return CommandAck(command.command_id, CommandStatus.REJECTED, f"apid 0x{command.apid:03x} is not a data type")
            if apid not in self.priorities:
                return CommandAck(command.command_id, CommandStatus.REJECTED,
                                  f"apid 0x{command.apid:03x} ({apid.name}) is not stored onboard")
            self.priorities[apid] = command.priority
            self.store.set_priority(int(apid), command.priority)
            return CommandAck(command.command_id, CommandStatus.EXECUTED, f"{apid.name} priority {command.priority}")
        sec, nanosec = split_ns(self.now_ns())
        self._commands_pub.publish(command_to_message(command, self.satellite_id, sec, nanosec))
        self.messages_out += 1
        return CommandAck(command.command_id, CommandStatus.EXECUTED, f"{command.kind.name} forwarded to radar_sim")

    # -- status ------------------------------------------------------------------------------
    def _publish_link_status(self) -> None:
        now_ns = self.now_ns()
        state, station, next_aos = self.link_state(now_ns)
        stats = self.store.stats()
        msg = LinkStatus()
        msg.header.stamp.sec, msg.header.stamp.nanosec = split_ns(now_ns)
        msg.endpoint_id = self.satellite_id
        msg.state = state
        msg.station_name = station
        msg.next_contact_aos.sec, msg.next_contact_aos.nanosec = split_ns(next_aos)
        msg.link_rate_bps = float(self.cfg["link_rate_bps"])
        msg.queue_depth_records = stats.depth_records
        msg.queue_depth_bytes = stats.depth_bytes
        msg.records_stored = stats.records_stored
        msg.records_evicted = sum(stats.dropped_by_apid.values())
        for key, value in self.counts.items():
            setattr(msg, key, value)
        counters = {f"dropped:{Apid(a).name.lower()}": n for a, n in stats.dropped_by_apid.items()}
        counters.update({f"uplink:{k}": v for k, v in self.deframer.counters.items() if k != "accepted"})
        counters.update({f"channel:{k}": v for k, v in self.channel.counters.items()})
        msg.packets_rejected = sum(v for k, v in self.deframer.counters.items()
                                   if k not in ("accepted", "garbage_bytes"))
        names = sorted(counters)
        msg.counter_names = names
        msg.counter_values = [int(counters[n]) for n in names]
        self._link_status_pub.publish(msg)

    def destroy_node(self) -> None:
        for name in ('udp', 'store'):     # whatever a failed construction got to open
            resource = getattr(self, name, None)
            if resource is not None:
                resource.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(DownlinkTxNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
