"""Detections through the link codec path per second on one core, by stage, against in-process baselines.

Path per dwell: ``encode_detections`` (numpy record array -> payload) -> ``FrameEncoder.encode``
(CCSDS headers, HMAC-SHA-256, CRC-16) -> ``Deframer.feed`` (sync search, CRC, MAC, anti-replay)
-> ``decode_detections`` (payload -> record array, geodetic latitude/longitude/altitude recomputed
from the position). Dwells of 1, 20 and 100 random detections; each stage is timed on its own
(median per call) and the whole path as a loop (detections / total wall time). Goal: 200,000
detections/s for 20-detection dwells.

Baselines, measured in the same run on the same dwells:
- ``pickle.dumps`` + ``pickle.loads`` (protocol 5) of the same ``DwellDetections``: Python's own
  fastest general serialiser (the record array goes as one raw buffer). It is not a wire format
  (no bounds, executes code on load, no authentication), but it is the cost floor of "turn this
  object into bytes and back" in this interpreter.
- the same wire format written the obvious way: one ``struct.pack`` per detection to encode, one
  ``struct.unpack_from`` per detection to decode (same bytes, asserted; same geodetic step), i.e.
  what the vectorised codec replaces.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python bench/bench_link_throughput.py [--repeats 2000]``
"""

from __future__ import annotations

import argparse
import pickle
import struct
import sys
import time

import numpy as np

from benchlib import format_table, stats, time_calls

from sbamti.geo.wgs84 import ecef_to_geodetic
from sbamti.link.frame import FRAME_OVERHEAD, Deframer, FrameEncoder
from sbamti.link.packets import Apid, Direction
from sbamti.link.payloads import (DETECTION_FIELDS, RAW_BYTES_PER_DETECTION, WIRE_BYTES_PER_DETECTION,
                                  DwellDetections, decode_detections, dwell_header_bytes, encode_detections)
from sbamti.link.security import Keyring

GOAL_DETECTIONS_PER_S = 200_000
SATELLITE_ID = "sat01"
_NAIVE_RECORD = struct.Struct(">Id8fBf3d6d")
_NAIVE_HEADER = struct.Struct(">B B5sQQHH9dfQfIIH")   # for satellite ids of 5 octets (this benchmark's)


def make_dwell(n: int, rng: np.random.Generator) -> DwellDetections:
    """A dwell of ``n`` detections with plausible values (positions on the Earth, symmetric covariances)."""
    d = np.zeros(n, DETECTION_FIELDS)
    d["detection_id"] = np.arange(n)
    d["range_m"] = rng.uniform(1.2e6, 1.8e6, n)
    d["range_rate_mps"] = rng.uniform(-7000, 7000, n)
    d["azimuth_rad"], d["elevation_rad"] = rng.uniform(-0.05, 0.05, (2, n))
    d["range_std_m"], d["range_rate_std_mps"] = rng.uniform(1, 10, n), rng.uniform(0.5, 2, n)
    d["azimuth_std_rad"], d["elevation_std_rad"] = rng.uniform(1e-4, 1e-3, (2, n))
    d["snr_db"] = rng.uniform(13, 30, n)
    d["range_rate_resolved"] = rng.random(n) < 0.5
    d["range_rate_blind_speed_mps"] = 150.0
    direction = rng.standard_normal((n, 3))
    d["position_ecef"] = 6.37e6 * direction / np.linalg.norm(direction, axis=1, keepdims=True)
    a = rng.standard_normal((n, 3, 3)) * 30.0
    d["position_covariance_ecef"] = (a @ a.transpose(0, 2, 1)).reshape(n, 9)
    d["latitude_rad"], d["longitude_rad"], d["altitude_m"] = ecef_to_geodetic(d["position_ecef"])
    return DwellDetections(SATELLITE_ID, 7, 3, np.array([7.0e6, 0, 0]), np.array([0, 7.5e3, 0]),
                           np.array([6.37e6, 1e5, 0]), 0.004, 96_000, 13.8, 3 * n, n, d)


def naive_encode(dwell: DwellDetections) -> bytes:
    """The same payload as ``encode_detections`` (one part), one ``struct.pack`` per detection."""
    upper = [0, 1, 2, 4, 5, 8]
    out = [_NAIVE_HEADER.pack(1, 5, dwell.satellite_id.encode(), dwell.dwell_id, dwell.look_id, 0, 1,
                              *dwell.satellite_position_ecef, *dwell.satellite_velocity_ecef, *dwell.beam_centre_ecef,
                              dwell.processing_time_s, dwell.cells_tested, dwell.threshold_db,
                              dwell.threshold_crossings, dwell.clusters, len(dwell.detections))]
    for (i, r, rr, az, el, sr, srr, saz, sel, snr, resolved, blind, pos, cov, _, _, _) in dwell.detections.tolist():
        c = [0.5 * (cov[k] + cov[(k % 3) * 3 + k // 3]) for k in upper]
        out.append(_NAIVE_RECORD.pack(i, r, rr, az, el, sr, srr, saz, sel, snr, int(resolved), blind, *pos, *c))
    return b"".join(out)


def naive_decode(payload: bytes) -> np.ndarray:
    """The detections of a one-part payload, one ``struct.unpack_from`` per detection, then the geodetic step."""
    count = _NAIVE_HEADER.unpack_from(payload, 0)[-1]
    rows = []
    for k in range(count):
        v = _NAIVE_RECORD.unpack_from(payload, _NAIVE_HEADER.size + k * _NAIVE_RECORD.size)
        xx, xy, xz, yy, yz, zz = v[15:21]
        rows.append((*v[:10], bool(v[10]), v[11], v[12:15], (xx, xy, xz, xy, yy, yz, xz, yz, zz), 0.0, 0.0, 0.0))
    out = np.array(rows, dtype=DETECTION_FIELDS)
    out["latitude_rad"], out["longitude_rad"], out["altitude_m"] = ecef_to_geodetic(out["position_ecef"])
    return out


def _median_us(fn, repeats: int) -> float:
    return stats(time_calls(fn, repeats, warmup=5))["median"] * 1e6


def run_size(n: int, repeats: int) -> dict:
    """Stage medians (µs), whole-path throughput and baselines for dwells of ``n`` detections."""
    dwell = make_dwell(n, np.random.default_rng(n))
    keyring = Keyring.from_masters({None: bytes(range(32))})
    encoder = FrameEncoder(keyring, 1, Direction.DOWN)
    deframer = Deframer(keyring, Direction.DOWN)
    limit = encoder.max_payload_bytes
    [payload] = encode_detections(dwell, max_payload_bytes=limit)
    assert naive_encode(dwell) == payload

    def frame(p: bytes) -> bytes:
        return encoder.encode(Apid.DETECTIONS, p, time_sec=1_700_000_000, time_nanosec=0, link_sequence=1)

    packets = [deframer.feed(frame(payload))[0] for _ in range(3)]
    frames = iter([frame(payload) for _ in range(repeats + 5)])   # fed in order: no replay rejections
    assert decode_detections(packets[0].payload).detections.shape == (n,)
    stages = {
        "payload encode": _median_us(lambda: encode_detections(dwell, max_payload_bytes=limit), repeats),
        "frame encode (headers, HMAC, CRC)": _median_us(lambda: frame(payload), repeats),
        "deframe + verify (CRC, HMAC, replay)": _median_us(lambda: deframer.feed(next(frames)), repeats),
        "payload decode": _median_us(lambda: decode_detections(packets[0].payload), repeats),
    }

    def whole_path() -> int:
        received = 0
        for part in encode_detections(dwell, max_payload_bytes=limit):
            for packet in deframer.feed(frame(part)):
                received += decode_detections(packet.payload).detections.shape[0]
        return received

    assert deframer.counters["accepted"] == repeats + 8, deframer.counters
    assert whole_path() == n
    path_us = _median_us(whole_path, repeats)
    loops = max(repeats, 20_000 // max(n, 1))
    start = time.perf_counter()
    for _ in range(loops):
        whole_path()
    throughput = loops * n / (time.perf_counter() - start)

    pickled = pickle.dumps(dwell, protocol=5)
    baselines = {
        "pickle dumps + loads": _median_us(lambda: pickle.loads(pickle.dumps(dwell, protocol=5)), repeats),
        "struct per detection, encode + decode": _median_us(lambda: naive_decode(naive_encode(dwell)),
                                                             max(20, repeats // 5)),
    }
    return {"n": n, "stages": stages, "path_us": path_us, "throughput": throughput, "baselines": baselines,
            "payload_bytes": len(payload), "frame_bytes": len(payload) + FRAME_OVERHEAD,
            "pickle_bytes": len(pickled)}


def run(repeats: int = 2000, sizes: tuple[int, ...] = (1, 20, 100)) -> list[dict]:
    return [run_size(n, repeats) for n in sizes]


def report(results: list[dict]) -> str:
    names = list(results[0]["stages"])
    rows = [[name, *(r["stages"][name] for r in results)] for name in names]
    rows.append(["sum of stages", *(sum(r["stages"].values()) for r in results)])
    rows.append(["whole path (median)", *(r["path_us"] for r in results)])
    rows.extend([f"baseline: {name}", *(r["baselines"][name] for r in results)] for name in results[0]["baselines"])
    header = ["µs per dwell (one frame)", *(f"{r['n']} det" for r in results)]
    lines = [format_table(header, rows), ""]
    lines.append(format_table(
        ["per dwell", *(f"{r['n']} det" for r in results)],
        [["whole path, detections/s (loop)", *(r["throughput"] for r in results)],
         ["whole path, detections/s (median)", *(r["n"] / r["path_us"] * 1e6 for r in results)],
         ["whole path / pickle round trip", *(r["path_us"] / r["baselines"]["pickle dumps + loads"] for r in results)],
         ["payload enc+dec / pickle round trip",
          *((r["stages"]["payload encode"] + r["stages"]["payload decode"]) / r["baselines"]["pickle dumps + loads"]
            for r in results)],
         ["struct loop / payload enc+dec",
          *(r["baselines"]["struct per detection, encode + decode"]
            / (r["stages"]["payload encode"] + r["stages"]["payload decode"]) for r in results)],
         ["payload octets", *(r["payload_bytes"] for r in results)],
         ["frame octets per detection", *(r["frame_bytes"] / r["n"] for r in results)],
         ["pickle octets per detection", *(r["pickle_bytes"] / r["n"] for r in results)]]))
    twenty = next((r for r in results if r["n"] == 20), results[-1])
    median_rate = twenty["n"] / twenty["path_us"] * 1e6
    verdict = "met" if min(twenty["throughput"], median_rate) >= GOAL_DETECTIONS_PER_S else "NOT met"
    lines += ["",
              (f"wire octets per detection: {WIRE_BYTES_PER_DETECTION} vs {RAW_BYTES_PER_DETECTION} raw field octets "
               f"(msg/Detection.msg) = {WIRE_BYTES_PER_DETECTION / RAW_BYTES_PER_DETECTION:.2f}; dwell header "
               f"{dwell_header_bytes(SATELLITE_ID)} octets, frame overhead {FRAME_OVERHEAD} octets"),
              (f"goal {GOAL_DETECTIONS_PER_S:,} detections/s at {twenty['n']} detections per dwell: "
               f"{twenty['throughput']:,.0f} (loop), {median_rate:,.0f} (median) -> {verdict}")]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2000, help="timed calls per stage and dwell size")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 20, 100], help="detections per dwell")
    args = parser.parse_args()
    print(report(run(args.repeats, tuple(args.sizes))))


if __name__ == "__main__":
    sys.exit(main())
