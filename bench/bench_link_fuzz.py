"""Long fuzz run of the link deframer: hostile inputs by the million, no exception, nothing wrongly accepted.

Each input is one datagram fed to a downlink ``Deframer`` (``final=True``; some are split over
several feeds first, to exercise stream joining). Kinds of input: random garbage; garbage laced
with sync markers and plausible headers; truncated frames; frames with 1..8 flipped bits; splices
of pieces of several genuine frames; frames forged with the wrong key; genuine frames tampered
with and given a valid CRC again; uplink frames (wrong direction); frames of an unknown SPI;
replays of accepted frames (recent, and older than the window); genuine frames amid garbage.

The oracle: genuine frame number ``s`` (its security sequence) has content derived from ``s`` alone,
so every accepted packet is checked field by field against what frame ``s`` carried, and ``s`` may
be accepted once. Asserts that ``feed`` never raises, that nothing else is ever accepted, and that
every tenth input also satisfies the pure ``deframe`` bookkeeping. Genuine frames that were sent
whole but not accepted are counted (expected 0), not asserted. Before the fuzz run, the cost of
encode + deframe of one frame with a 2048-octet payload is timed.

Run: ``.venv/bin/python bench/bench_link_fuzz.py [--inputs 3000000] [--seed 1]``
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from benchlib import format_table

from sbamti.link.crc import crc16_ccitt
from sbamti.link.frame import ASM, Deframer, FrameEncoder, deframe
from sbamti.link.packets import PACKET_KINDS, Direction, Packet
from sbamti.link.security import Keyring

SPI = 7
KEYRING = Keyring.from_masters({SPI: bytes(range(32))})
FORGER = Keyring.from_masters({SPI: bytes(range(1, 33)), 8: bytes(range(2, 34))})
DOWN_APIDS = sorted(a for a, k in PACKET_KINDS.items() if k.direction is Direction.DOWN)
UP_APIDS = sorted(a for a, k in PACKET_KINDS.items() if k.direction is Direction.UP)
KINDS = {  # kind: weight
    "garbage": 23, "asm_garbage": 10, "truncated": 8, "bit_flips": 13, "spliced": 10,
    "forged": 6, "crc_fixed": 6, "unknown_spi": 2, "uplink": 2, "replay": 8, "genuine": 12,
}


def expected_packet(seq: int) -> Packet:
    """What genuine frame ``seq`` carries: everything derived from ``seq``, so no record is kept."""
    length = (seq * 37) % 300
    payload = (b"GENUINE" + seq.to_bytes(4, "big") * 80)[:length]
    return Packet(apid=DOWN_APIDS[seq % 3], direction=Direction.DOWN, sequence_flags=seq % 4,
                  sequence_count=((seq - 1) // 3) % (1 << 14), time_sec=seq, time_nanosec=(seq * 7919) % 10**9,
                  link_sequence=seq ^ 0xA5A5A5A5, spi=SPI, security_sequence=seq, payload=payload)


class Fuzzer:
    """Generates the inputs, feeds them and checks every accepted packet against the oracle."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.encoder = FrameEncoder(KEYRING, SPI, Direction.DOWN)
        self.deframer = Deframer(KEYRING, Direction.DOWN, replay_window=1024)
        self.forger = FrameEncoder(FORGER, SPI, Direction.DOWN)
        self.stranger = FrameEncoder(FORGER, 8, Direction.DOWN)
        self.uplink = FrameEncoder(KEYRING, SPI, Direction.UP)
        self.recent: list[bytes] = []          # last genuine frames encoded (sent or not), for splices
        self.by_seq: dict[int, bytes] = {}     # the last 8192 genuine frames by security sequence
        self.accepted_recent: list[bytes] = []  # last accepted frames, for replays inside the window
        self.accepted_old: list[bytes] = []     # a sample of accepted frames, for replays older than the window
        self.accepted_seqs = bytearray(1 << 16)
        self.kinds = dict.fromkeys(KINDS, 0)
        self.genuine_sent = self.genuine_accepted = self.legit_other_accepted = 0
        self.deframe_checks = 0

    # -- genuine frames and the oracle ------------------------------------------------------------
    def genuine(self) -> bytes:
        seq = self.encoder.next_security_sequence
        p = expected_packet(seq)
        frame = self.encoder.encode(p.apid, p.payload, time_sec=p.time_sec, time_nanosec=p.time_nanosec,
                                    link_sequence=p.link_sequence, sequence_flags=p.sequence_flags)
        self.recent.append(frame)
        if len(self.recent) > 64:
            del self.recent[:32]
        self.by_seq[seq] = frame
        if len(self.by_seq) > 8192:
            del self.by_seq[next(iter(self.by_seq))]
        return frame

    def check(self, packets: list[Packet], data: bytes, kind: str) -> int:
        genuine = 0
        for packet in packets:
            seq = packet.security_sequence
            if packet != expected_packet(seq) or seq >= self.encoder.next_security_sequence:
                raise AssertionError(f"{kind} input accepted a packet that no genuine frame carried: {packet!r}; "
                                     f"input {data.hex()}")
            if seq >= len(self.accepted_seqs):
                self.accepted_seqs.extend(bytes(len(self.accepted_seqs)))
            if self.accepted_seqs[seq]:
                raise AssertionError(f"{kind} input: genuine frame {seq} accepted twice; input {data.hex()}")
            self.accepted_seqs[seq] = 1
            self.accepted_recent.append(self.by_seq[seq])
            if len(self.accepted_recent) > 4096:
                self.accepted_old.extend(self.rng.sample(self.accepted_recent[:2048], 16))
                del self.accepted_recent[:2048]
                del self.accepted_old[:-512]
            genuine += 1
        return genuine

    # -- hostile inputs ------------------------------------------------------------------------
    def asm_garbage(self) -> bytes:
        rng = self.rng
        pieces = []
        for _ in range(rng.randrange(1, 6)):
            choice = rng.randrange(5)
            if choice == 0:
                pieces.append(rng.randbytes(rng.randrange(64)))
            elif choice == 1:
                pieces.append(ASM)
            elif choice == 2:  # version 0, sec-hdr set, random APID and any length
                pieces.append(ASM + bytes([0x08 | rng.randrange(0x18) & 0x17, rng.randrange(256)])
                              + rng.randbytes(4) + rng.randbytes(rng.randrange(128)))
            elif choice == 3:
                pieces.append(ASM[:rng.randrange(1, 4)])
            else:  # a genuine header with a random body behind it
                pieces.append(rng.choice(self.recent)[:10] + rng.randbytes(rng.randrange(200)) if self.recent else ASM)
        return b"".join(pieces)

    def make(self, kind: str) -> tuple[bytes, bool]:
        """One input of ``kind`` and whether it holds a whole genuine frame never sent before."""
        rng = self.rng
        if kind == "garbage":
            return rng.randbytes(rng.randrange(600)), False
        if kind == "asm_garbage":
            return self.asm_garbage(), False
        if kind == "truncated":
            frame = self.genuine()
            return frame[:rng.randrange(len(frame))], False
        if kind == "bit_flips":
            data = bytearray(self.genuine())
            for bit in rng.sample(range(len(data) * 8), rng.randrange(1, 9)):
                data[bit >> 3] ^= 0x80 >> (bit & 7)
            return bytes(data), False
        if kind == "spliced":
            frames = [self.genuine() for _ in range(rng.randrange(1, 3))] + rng.sample(self.recent, min(2, len(self.recent)))
            pieces = []
            for frame in rng.sample(frames, len(frames)):
                start = rng.randrange(len(frame))
                pieces.append(frame[start:rng.randrange(start, len(frame) + 1)])
            return b"".join(pieces), False
        if kind == "forged":
            return self.forger.encode(rng.choice(DOWN_APIDS), b"FORGED" + rng.randbytes(rng.randrange(200)),
                                      time_sec=1, time_nanosec=0), False
        if kind == "crc_fixed":  # tampered after the CRC, which is then made valid again: only the MAC can tell
            data = bytearray(self.genuine())
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(4, len(data) - 2)] ^= rng.randrange(1, 256)
            data[-2:] = crc16_ccitt(data[4:-2]).to_bytes(2, "big")
            return bytes(data), False
        if kind == "uplink":
            return self.uplink.encode(rng.choice(UP_APIDS), rng.randbytes(rng.randrange(100)), time_sec=1,
                                      time_nanosec=0), False
        if kind == "unknown_spi":
            return self.stranger.encode(rng.choice(DOWN_APIDS), b"STRANGER", time_sec=1, time_nanosec=0), False
        if kind == "replay":
            source = self.accepted_old if self.accepted_old and rng.random() < 0.3 else self.accepted_recent
            return (rng.choice(source) if source else rng.randbytes(50)), False
        frame = self.genuine()
        return rng.randbytes(rng.randrange(40)) + frame + rng.randbytes(rng.randrange(40)), True

    def step(self, kind: str, index: int) -> None:
        data, whole_genuine = self.make(kind)
        self.kinds[kind] += 1
        if kind == "forged" and self.forger.next_security_sequence < self.encoder.next_security_sequence:
            # Forged numbers run just ahead of the genuine ones: accepting one would also block the next genuine frames.
            self.forger = FrameEncoder(FORGER, SPI, Direction.DOWN,
                                       next_security_sequence=self.encoder.next_security_sequence + 1)
        try:
            if self.rng.random() < 0.2 and len(data) > 2:  # split over feeds: the stream must join them
                cut_a = self.rng.randrange(len(data))
                cut_b = self.rng.randrange(cut_a, len(data))
                packets = self.deframer.feed(data[:cut_a]) + self.deframer.feed(data[cut_a:cut_b])
                packets += self.deframer.feed(data[cut_b:], final=True)
            else:
                packets = self.deframer.feed(data, final=True)
        except Exception:
            print(f"feed raised on input {index} ({kind}): {data.hex()}", file=sys.stderr)
            raise
        assert self.deframer.pending_bytes == 0, (index, kind)
        genuine = self.check(packets, data, kind)
        if whole_genuine:
            self.genuine_sent += 1
            self.genuine_accepted += genuine
        else:
            self.legit_other_accepted += genuine
        if index % 10 == 0:
            self.check_deframe(data)

    def check_deframe(self, data: bytes) -> None:
        frame, consumed, discarded = deframe(data)
        assert 0 <= discarded <= consumed <= len(data), (consumed, discarded, data.hex())
        if frame is None:
            assert consumed == discarded, data.hex()
        else:
            assert data[discarded:consumed] == ASM + frame.packet, data.hex()
        self.deframe_checks += 1


def time_round_trip(payload_bytes: int = 2048, frames: int = 20_000) -> float:
    """Seconds per frame to encode and deframe (CRC, MAC, replay check) one ``payload_bytes`` payload."""
    encoder = FrameEncoder(KEYRING, SPI, Direction.DOWN)
    deframer = Deframer(KEYRING, Direction.DOWN)
    payload = random.Random(0).randbytes(payload_bytes)
    samples = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(frames // 5):
            deframer.feed(encoder.encode(DOWN_APIDS[0], payload, time_sec=i, time_nanosec=0, link_sequence=i))
        samples.append((time.perf_counter() - started) / (frames // 5))
    assert deframer.counters["accepted"] == frames // 5 * 5
    return min(samples)


def run(inputs: int = 3_000_000, seed: int = 1) -> dict:
    round_trip_s = time_round_trip()
    fuzzer = Fuzzer(seed)
    names = list(KINDS)
    weights = list(KINDS.values())
    schedule = fuzzer.rng.choices(names, weights, k=inputs)
    started = time.perf_counter()
    for index, kind in enumerate(schedule):
        fuzzer.step(kind, index)
    elapsed = time.perf_counter() - started
    return {"inputs": inputs, "seed": seed, "elapsed_s": elapsed, "kinds": fuzzer.kinds,
            "counters": dict(fuzzer.deframer.counters), "genuine_sent": fuzzer.genuine_sent,
            "genuine_accepted": fuzzer.genuine_accepted, "legit_other_accepted": fuzzer.legit_other_accepted,
            "deframe_checks": fuzzer.deframe_checks, "round_trip_s": round_trip_s}


def report(result: dict) -> str:
    counters = result["counters"]
    lines = [
        f"encode + deframe, 2048-octet payload: {result['round_trip_s'] * 1e6:.1f} us per frame (best of 5 x 4,000)",
        f"{result['inputs']:,} inputs (seed {result['seed']}) in {result['elapsed_s']:.1f} s: "
        f"{result['inputs'] / result['elapsed_s']:,.0f} inputs/s, one core",
        "",
        format_table(("input kind", "count"), [(k, v) for k, v in result["kinds"].items()]),
        "",
        format_table(("deframer counter", "value"), [(k, v) for k, v in counters.items()]),
        "",
        f"genuine frames sent whole amid garbage: {result['genuine_sent']:,}, accepted {result['genuine_accepted']:,} "
        f"(missed {result['genuine_sent'] - result['genuine_accepted']:,})",
        f"genuine frames found whole inside splices: {result['legit_other_accepted']:,}",
        f"pure deframe() bookkeeping checked on {result['deframe_checks']:,} inputs",
        "wrongly accepted (corrupted, tampered, forged, replayed, wrong-direction or unknown-SPI frames): 0; "
        "exceptions from feed: 0",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=3_000_000, help="number of fuzz inputs (default 3,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args(argv)
    print(report(run(options.inputs, options.seed)))


if __name__ == "__main__":
    sys.exit(main())
