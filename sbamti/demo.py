"""`sbamti demo` / `make demo`: run the default SIL graph end to end and summarise what it produced.

The graph is ``launch/demo.launch.yaml`` (sim_clock and a four-satellite constellation, each satellite
with orbit_state, radar_sim, onboard_detector and downlink_tx over the scenario
``config/scenarios/demo.yaml``, and the ground's downlink_rx and ground_tracker, the link in relay
mode). An observer
in the same private ROS domain subscribes to every topic of interest before sim time starts (sim
time is held at the start epoch until every node and the observer listen to /clock), so the summary
covers the whole run; when the sim time runs out the graph stops and the summary is printed.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from pathlib import Path

import numpy as np

from sbamti.timeutil import format_utc_epoch_ns, stamp_ns

SATELLITES = ("sbamti_001", "sbamti_002", "sbamti_003", "sbamti_004")


def demo_launch_file() -> Path:
    """launch/demo.launch.yaml of the installed sbamti package (the working tree when editable)."""
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory("sbamti")) / "launch" / "demo.launch.yaml"
    except (ImportError, LookupError):
        return Path(__file__).resolve().parents[1] / "launch" / "demo.launch.yaml"


def _orbit_lines(states: list, contacts: list) -> list[str]:
    lines = []
    for sat in SATELLITES:
        msgs = states.get(sat, [])
        if not msgs:
            lines.append(f"  {sat}: no states")
            continue
        first, last = msgs[0], msgs[-1]
        errors = sum(1 for m in msgs if m.sgp4_error_code)
        line = (f"  {sat}: {len(msgs)} states, {errors} SGP4 errors; sub-satellite point "
                f"({math.degrees(first.latitude_rad):+.2f}, {math.degrees(first.longitude_rad):+.2f}) -> "
                f"({math.degrees(last.latitude_rad):+.2f}, {math.degrees(last.longitude_rad):+.2f}) deg, "
                f"altitude {last.altitude_m / 1e3:.1f} km")
        windows = contacts.get(sat)
        if windows:
            nxt = windows[0]
            line += (f"; {len(windows)} passes in 24 h, next {nxt.station_name} "
                     f"{format_utc_epoch_ns(stamp_ns(nxt.aos))} ({(stamp_ns(nxt.los) - stamp_ns(nxt.aos)) / 60e9:.1f} min, "
                     f"max el {math.degrees(nxt.max_elevation_rad):.1f} deg)")
        lines.append(line)
    return lines


def _radar_lines(dwells: dict) -> list[str]:
    lines = []
    for sat in SATELLITES:
        msgs = dwells.get(sat, [])
        if not msgs:
            lines.append(f"  {sat}: no dwells (no area of interest in view)")
            continue
        returns = sum(len(m.return_range_m) for m in msgs)
        first, last = stamp_ns(msgs[0].header.stamp), stamp_ns(msgs[-1].header.stamp)
        lines.append(f"  {sat}: {len(msgs)} dwells from {format_utc_epoch_ns(first)} to {format_utc_epoch_ns(last)}, "
                     f"{returns} returns (detections and false alarms), PRF {msgs[0].prf_hz:g} Hz")
    return lines


def _detection_lines(detections: dict) -> list[str]:
    lines = []
    for sat in SATELLITES:
        arrays = detections.get(sat, [])
        found = [d for a in arrays for d in a.detections]
        if not found:
            lines.append(f"  {sat}: {len(arrays)} dwells processed, no detections")
            continue
        strongest = max(found, key=lambda d: d.snr_db)
        sigma = math.sqrt(max(float(np.trace(np.asarray(strongest.position_covariance_ecef).reshape(3, 3))), 0.0))
        lines.append(f"  {sat}: {len(arrays)} dwells processed, {len(found)} detections; strongest {strongest.snr_db:.1f} dB "
                     f"at ({math.degrees(strongest.latitude_rad):+.3f}, {math.degrees(strongest.longitude_rad):+.3f}) deg, "
                     f"position sigma {sigma / 1e3:.1f} km; "
                     f"{1e3 * sum(a.processing_time_s for a in arrays) / len(arrays):.2f} ms per dwell")
    return lines


def _link_lines(detections: dict, ground: list, tx_status: dict, rx_status: list) -> tuple[list[str], bool]:
    """Per satellite: dwells delivered on /ground/detections, duplicates, and the link's counters.

    The graph stops when sim time ends, so dwells still in the store or on the wire then are not
    delivered; the store counters say how many (stored = acknowledged + in the store at the end).
    """
    lines = []
    ok = True
    delivered: dict[str, list[tuple[int, int]]] = {}
    for msg in ground:
        delivered.setdefault(msg.satellite_id, []).append((msg.dwell_id, stamp_ns(msg.header.stamp)))
    for sat in SATELLITES:
        onboard = len(detections.get(sat, []))
        got = delivered.get(sat, [])
        duplicates = len(got) - len(set(got))
        status = tx_status.get(sat, [])
        line = f"  {sat}: {len(set(got))} dwells delivered to /ground/detections ({onboard} seen onboard), {duplicates} duplicates"
        if status:
            last = status[-1]
            line += (f"; {last.records_stored} records stored, {last.packets_sent} packets sent, "
                     f"{last.packets_retransmitted} retransmitted, {last.packets_acked} acknowledged, "
                     f"{last.records_evicted} evicted, {last.queue_depth_records} in the store at the end")
            ok = ok and last.records_evicted == 0 and last.packets_acked > 0
        lines.append(line)
        ok = ok and duplicates == 0 and (onboard == 0 or len(got) > 0)
    totals = [m for m in rx_status if m.endpoint_id == "ground"]
    if totals:
        t = totals[-1]
        periods = [m for m in totals if m.latency_max_s > 0]     # report periods with deliveries
        latency = (f"mean {sum(m.latency_mean_s for m in periods) / len(periods):.2f} s, "
                   f"max {max(m.latency_max_s for m in periods):.2f} s (sim time)") if periods else "no deliveries"
        lines.append(f"  ground: {t.packets_received} packets accepted, {t.packets_duplicate} duplicates dropped, "
                     f"{t.packets_rejected} rejected, {t.naks_sent} NAKs; latency dwell -> ground {latency}")
        ok = ok and t.packets_rejected == 0
    else:
        ok = False
    return lines, ok


def _track_lines(tracks: list, truth: list) -> list[str]:
    """The last track picture: confirmed tracks, ids ever confirmed, distance to the nearest truth target."""
    if not tracks:
        return ["  no /ground/tracks published"]
    last = tracks[-1]
    confirmed = [t for t in last.tracks if t.status == t.STATUS_CONFIRMED]
    ever = {t.track_id for m in tracks for t in m.tracks if t.status == t.STATUS_CONFIRMED}
    line = (f"  {len(tracks)} pictures; at {format_utc_epoch_ns(stamp_ns(last.header.stamp))}: {len(confirmed)} confirmed, "
            f"{len(last.tracks) - len(confirmed)} coasting; {len(ever)} track ids confirmed over the run")
    lines = [line]
    if confirmed and truth:
        stamp = stamp_ns(last.header.stamp)
        nearest = min(truth, key=lambda m: abs(stamp_ns(m.header.stamp) - stamp))
        targets = np.array([t.position_ecef for t in nearest.targets])
        for t in sorted(confirmed, key=lambda t: t.track_id)[:8]:
            miss = np.linalg.norm(targets - np.asarray(t.position_ecef), axis=1)
            k = int(np.argmin(miss))
            lines.append(f"  track {t.track_id}: ({math.degrees(t.latitude_rad):+.3f}, {math.degrees(t.longitude_rad):+.3f}) deg, "
                         f"{t.speed_mps:.0f} m/s heading {math.degrees(t.heading_rad):.0f} deg, {t.num_updates} updates from "
                         f"{', '.join(t.contributing_satellites)}; nearest truth target {nearest.targets[k].target_id} "
                         f"({nearest.targets[k].target_class}) {miss[k] / 1e3:.1f} km away")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sbamti demo", description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=20.0, help="sim seconds per wall second")
    parser.add_argument("--duration", type=float, default=300.0, help="sim seconds to run")
    parser.add_argument("--timeout", type=float, default=180.0, help="wall seconds before the run is abandoned")
    parser.add_argument("--verbose", action="store_true", help="print the graph's output as well")
    options = parser.parse_args(argv)

    from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile

    from sbamti.testing.session import start_graph  # imports rclpy

    record_all = QoSProfile(history=HistoryPolicy.KEEP_ALL, depth=1000)
    latched = QoSProfile(depth=10, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    nodes = (["/sim_clock"] + [f"/{sat}/{node}" for sat in SATELLITES
                               for node in ("orbit_state", "radar_sim", "onboard_detector", "downlink_tx")]
             + ["/ground/downlink_rx", "/ground/ground_tracker"])
    launch_file = demo_launch_file()
    print(f"sbamti demo: launching {launch_file} (rate {options.rate}x, {options.duration} s of sim time)")
    wall_start = time.monotonic()
    # /clock subscribers before time runs: every node on sim time (all but sim_clock) and the observer
    launch_args = {"rate": options.rate, "duration_s": options.duration, "clock_subscribers": len(nodes)}
    with start_graph(launch_file, launch_args) as graph:
        state_topics = [f"/{sat}/orbit/state" for sat in SATELLITES]
        dwell_topics = [f"/{sat}/radar/dwell" for sat in SATELLITES]
        detection_topics = [f"/{sat}/detections" for sat in SATELLITES]
        for topic in detection_topics:
            graph.subscribe(topic, "sbamti_msgs/msg/DetectionArray", qos=record_all)
        for topic in state_topics:
            graph.subscribe(topic, "sbamti_msgs/msg/OrbitState", qos=record_all)
        for topic in dwell_topics:
            graph.subscribe(topic, "sbamti_msgs/msg/RadarDwell", qos=record_all)
        graph.subscribe("/truth/targets", "sbamti_msgs/msg/TruthTargetArray", qos=record_all)
        graph.subscribe("/ground/detections", "sbamti_msgs/msg/DetectionArray", qos=record_all)
        graph.subscribe("/ground/downlink/status", "sbamti_msgs/msg/LinkStatus", qos=record_all)
        graph.subscribe("/ground/tracks", "sbamti_msgs/msg/TrackArray", qos=record_all)
        for sat in SATELLITES:
            graph.subscribe(f"/{sat}/downlink/status", "sbamti_msgs/msg/LinkStatus", qos=record_all)
        for sat in SATELLITES:
            graph.subscribe(f"/{sat}/orbit/contacts", "sbamti_msgs/msg/ContactWindowArray", qos=latched)
        for node in nodes:
            graph.subscribe(f"{node}/status", "sbamti_msgs/msg/NodeStatus", qos=latched)
        try:
            graph.wait_ready(nodes=nodes, timeout=60)
        except TimeoutError as exc:
            print(f"sbamti demo: {exc}\n--- the graph's output ---\n{graph.output()[-6000:]}", file=sys.stderr)
            return 1
        graph.wait_matched(state_topics + dwell_topics + detection_topics + ["/truth/targets"], timeout=30)
        # the observer's /clock subscription is the last one sim_clock waits for: time runs from here
        graph.subscribe("/clock", "rosgraph_msgs/msg/Clock", qos=record_all)
        try:
            code = graph.process.wait(timeout=options.timeout)
        except Exception:
            print(f"sbamti demo: the graph did not finish within {options.timeout} s; stopping it", file=sys.stderr)
            code = graph.shutdown(signal.SIGINT)
        time.sleep(0.3)  # let the observer drain what is in flight
        clocks = graph.messages("/clock")
        states = {sat: graph.messages(f"/{sat}/orbit/state") for sat in SATELLITES}
        contacts = {}
        for sat in SATELLITES:
            arrays = graph.messages(f"/{sat}/orbit/contacts")
            contacts[sat] = arrays[-1].windows if arrays else []
        statuses = {node: graph.messages(f"{node}/status") for node in nodes}
        dwells = {sat: graph.messages(f"/{sat}/radar/dwell") for sat in SATELLITES}
        detections = {sat: graph.messages(f"/{sat}/detections") for sat in SATELLITES}
        truth = graph.messages("/truth/targets")
        ground = graph.messages("/ground/detections")
        tracks = graph.messages("/ground/tracks")
        rx_status = graph.messages("/ground/downlink/status")
        tx_status = {sat: graph.messages(f"/{sat}/downlink/status") for sat in SATELLITES}
        if options.verbose:
            print(graph.output())
        exit_codes = graph.exit_codes
    wall = time.monotonic() - wall_start

    print("\n=== sbamti demo summary ===")
    print(f"graph exit code : {code}  (processes: " + ", ".join(f"{n}={rc}" for n, rc in sorted(exit_codes.items())) + ")")
    if clocks:
        first, last = stamp_ns(clocks[0].clock), stamp_ns(clocks[-1].clock)
        span = (last - first) / 1e9
        print(f"sim time        : {format_utc_epoch_ns(first)} .. {format_utc_epoch_ns(last)} ({span:.2f} s) "
              f"in {wall:.1f} s wall, {len(clocks)} /clock messages")
    else:
        print("sim time        : no /clock received")
    print("orbit states    :")
    print("\n".join(_orbit_lines(states, contacts)))
    print("radar dwells    :")
    print("\n".join(_radar_lines(dwells)))
    print("detections      :")
    print("\n".join(_detection_lines(detections)))
    print("downlink        :")
    link_lines, link_ok = _link_lines(detections, ground, tx_status, rx_status)
    print("\n".join(link_lines))
    print("tracks          :")
    print("\n".join(_track_lines(tracks, truth)))
    if truth:
        print(f"truth           : {len(truth)} /truth/targets messages, {len(truth[-1].targets)} targets in the scenario")
    rejected = {node: msgs[-1].rejected_total for node, msgs in statuses.items() if msgs}
    print(f"node status     : {len(rejected)}/{len(nodes)} nodes reporting, rejected inputs "
          + ", ".join(f"{n}={r}" for n, r in rejected.items()))
    ok = (code == 0 and bool(clocks) and all(states.values()) and all(contacts.values()) and bool(truth)
          and any(dwells.values()) and link_ok
          and len(rejected) == len(nodes) and not any(rejected.values()))
    print("result          : " + ("OK" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
