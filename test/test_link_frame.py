"""Frame encoder and deframer: byte layout, round trips, resynchronisation, split feeds, corruption."""

import binascii
import hashlib
import hmac
import random
import struct

import pytest

from sbamti.link.errors import LinkError
from sbamti.link.frame import (ASM, FRAME_OVERHEAD, MAX_FRAME_BYTES, Deframer, FrameEncoder, RawFrame,
                               deframe)
from sbamti.link.packets import PACKET_KINDS, Apid, Direction, SequenceFlags
from sbamti.link.security import Keyring

MASTER = bytes(range(0x10, 0x30))
SPI = 5
KEYRING = Keyring.from_masters({SPI: MASTER})
CLEAN = {"garbage_bytes": 0, "crc_failures": 0, "bad_headers": 0, "unknown_apid": 0, "wrong_direction": 0,
         "unknown_spi": 0, "auth_failures": 0, "replays": 0}


def mac_key(direction: str, spi: int = SPI) -> bytes:
    """The derived key, computed here from the contract's formula, not with the library."""
    return hmac.new(MASTER, b"sbamti-link/v1/" + direction.encode() + spi.to_bytes(2, "big"), hashlib.sha256).digest()


def seal(body: bytes, key: bytes) -> bytes:
    """ASM + body (primary header .. payload) + truncated HMAC + CRC, built independently of the library."""
    mac = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return ASM + body + mac + binascii.crc_hqx(body + mac, 0xFFFF).to_bytes(2, "big")


def encoder(direction=Direction.DOWN, **kwargs) -> FrameEncoder:
    return FrameEncoder(KEYRING, SPI, direction, **kwargs)


def deframer(direction=Direction.DOWN, **kwargs) -> Deframer:
    return Deframer(KEYRING, direction, **kwargs)


def frames(count: int, payload_bytes: int = 30, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    enc = encoder()
    return [enc.encode(Apid.DETECTIONS, rng.randbytes(payload_bytes), time_sec=100 + i, time_nanosec=i,
                       link_sequence=i + 1) for i in range(count)]


def clean(counters: dict, accepted: int) -> bool:
    return {k: v for k, v in counters.items() if k != "accepted"} == CLEAN and counters["accepted"] == accepted


def test_full_frame_layout_byte_by_byte():
    enc = encoder(next_security_sequence=42)
    frame = enc.encode(Apid.DETECTIONS, b"ABCDE", time_sec=1_830_297_600, time_nanosec=500_000_000,
                       link_sequence=7)
    body = (b"\x1a\xcf\xfc\x1d"   # 0: attached sync marker
            b"\x09\x00"           # 4: version 000, type 0 (TM), sec-hdr 1, APID 0x100 -> 0000 1001 0000 0000
            b"\xc0\x00"           # 6: sequence flags 11 (unsegmented), sequence count 0
            b"\x00\x28"           # 8: data length 41 - 1: 8 time + 4 link + 6 security + 5 payload + 16 MAC + 2 CRC
            b"\x6d\x18\x20\x00"   # 10: CUC coarse 1830297600 s (2028-01-01T00:00:00Z)
            b"\x80\x00\x00\x00"   # 14: CUC fine 2**31 = 0.5 s
            b"\x00\x00\x00\x07"   # 18: link sequence 7
            b"\x00\x05"           # 22: SPI 5
            b"\x00\x00\x00\x2a"   # 24: security sequence 42
            b"ABCDE")             # 28: payload
    assert len(frame) == len(body) + 16 + 2 == FRAME_OVERHEAD + 5
    assert frame[:28 + 5] == body
    mac = hmac.new(mac_key("down"), body[4:], hashlib.sha256).digest()[:16]
    assert frame[33:49] == mac                                                     # 33: MAC over 4..33
    assert frame[49:] == binascii.crc_hqx(body[4:] + mac, 0xFFFF).to_bytes(2, "big")  # 49: CRC over 4..49
    assert frame == seal(body[4:], mac_key("down"))
    # The next frame of the APID counts on; security sequence too.
    second = enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)
    assert second[6:10] == b"\xc0\x01" b"\x00\x23" and second[24:28] == b"\x00\x00\x00\x2b"
    assert enc.next_security_sequence == 44


def test_uplink_header_has_the_telecommand_type_bit():
    frame = encoder(Direction.UP).encode(Apid.COMMAND, b"x", time_sec=1, time_nanosec=0,
                                         sequence_flags=SequenceFlags.FIRST)
    assert frame[4:10] == (b"\x19\x20"    # version 000, type 1 (TC), sec-hdr 1, APID 0x120
                           b"\x40\x00"    # sequence flags 01 (first segment), count 0
                           b"\x00\x24")   # data length 37 - 1
    assert frame == seal(frame[4:-18], mac_key("up"))


@pytest.mark.parametrize("apid", sorted(PACKET_KINDS))
def test_every_apid_round_trips_in_its_direction(apid):
    direction = PACKET_KINDS[apid].direction
    rng = random.Random(apid)
    enc, dec = encoder(direction, next_security_sequence=1000), deframer(direction)
    sent = []
    for flags in SequenceFlags:
        payload = rng.randbytes(rng.randrange(0, 3000))
        fields = {"time_sec": rng.randrange(2**32), "time_nanosec": rng.randrange(10**9),
                      "link_sequence": rng.randrange(2**32), "sequence_flags": flags}
        sent.append((payload, fields))
    stream = b"".join(enc.encode(apid, payload, **fields) for payload, fields in sent)
    packets = dec.feed(stream)
    assert len(packets) == len(sent) and clean(dec.counters, len(sent))
    for count, (packet, (payload, fields)) in enumerate(zip(packets, sent)):
        assert packet.payload == payload and packet.apid == apid and packet.direction is direction
        assert (packet.time_sec, packet.time_nanosec) == (fields["time_sec"], fields["time_nanosec"])
        assert packet.link_sequence == fields["link_sequence"] and packet.sequence_flags == fields["sequence_flags"]
        assert packet.sequence_count == count and packet.spi == SPI and packet.security_sequence == 1000 + count


def test_largest_payload_round_trips_and_one_more_octet_is_refused():
    enc, dec = encoder(max_frame_bytes=MAX_FRAME_BYTES), deframer()
    assert enc.max_payload_bytes == MAX_FRAME_BYTES - 46
    payload = bytes(range(256)) * 255 + bytes(enc.max_payload_bytes - 256 * 255)
    frame = enc.encode(Apid.HOUSEKEEPING, payload, time_sec=0, time_nanosec=0)
    assert len(frame) == MAX_FRAME_BYTES
    assert [p.payload for p in dec.feed(frame)] == [payload]
    with pytest.raises(LinkError, match=r"payload: 65462 octets exceed the limit of 65461"):
        enc.encode(Apid.HOUSEKEEPING, payload + b"x", time_sec=0, time_nanosec=0)


def test_encoder_refuses_bad_arguments_without_using_a_sequence_number():
    enc = encoder()
    cases = [
        ({"apid": Apid.COMMAND}, r"apid: 0x120 \(command\) travels up, this encoder sends down"),
        ({"apid": 0x7FF}, r"apid: 2047 is not in the APID table"),
        ({"link_sequence": 2**32}, r"link_sequence: 4294967296 is outside"),
        ({"sequence_flags": 4}, r"sequence_flags: 4 is not one of"),
        ({"time_nanosec": 10**9}, r"time_nanosec: 1000000000"),
    ]
    for override, match in cases:
        arguments = {"apid": Apid.DETECTIONS, "link_sequence": 0, "sequence_flags": 3, "time_nanosec": 0} | override
        apid = arguments.pop("apid")
        with pytest.raises(LinkError, match=match):
            enc.encode(apid, b"", time_sec=0, **arguments)
    assert enc.next_security_sequence == 1
    assert enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)[6:8] == b"\xc0\x00"


def test_security_sequence_is_exhausted_at_2_to_the_32():
    enc = encoder(next_security_sequence=2**32 - 1)
    frame = enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)
    assert frame[24:28] == b"\xff\xff\xff\xff" and enc.next_security_sequence == 2**32
    with pytest.raises(LinkError, match=r"security sequence: exhausted at 4294967295 for spi 5"):
        enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)
    with pytest.raises(LinkError, match=r"next_security_sequence: 0 is outside 1\.\.4294967296"):
        encoder(next_security_sequence=0)
    with pytest.raises(LinkError, match=r"spi: 6 has no key in the keyring \(SPIs with keys: 5\)"):
        FrameEncoder(KEYRING, 6, Direction.DOWN)


def test_sequence_count_is_per_apid_and_wraps_at_14_bits():
    enc = encoder()
    for _ in range(2**14 - 1):
        enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)
    assert enc.encode(Apid.HOUSEKEEPING, b"", time_sec=0, time_nanosec=0)[6:8] == b"\xc0\x00"
    assert enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)[6:8] == b"\xff\xff"  # 11 + count 0x3FFF
    assert enc.encode(Apid.DETECTIONS, b"", time_sec=0, time_nanosec=0)[6:8] == b"\xc0\x00"


def test_wrong_direction_frames_are_rejected():
    down = frames(1)[0]
    up_deframer = deframer(Direction.UP)
    assert up_deframer.feed(down) == [] and up_deframer.counters["wrong_direction"] == 1
    # A telemetry type bit on an uplink APID (sealed with the right key) is also the wrong direction.
    body = (b"\x09\x20" b"\xc0\x00" b"\x00\x23"  # TM, sec-hdr, APID 0x120 (COMMAND); unsegmented; 36 octets
            + bytes(8) + bytes(4) + SPI.to_bytes(2, "big") + b"\x00\x00\x00\x01")
    dec = deframer(Direction.DOWN)
    assert dec.feed(seal(body, mac_key("down"))) == [] and dec.counters["wrong_direction"] == 1
    assert dec.counters["auth_failures"] == 0 and dec.counters["crc_failures"] == 0
    # A telecommand type bit on a downlink APID, sealed with the downlink key: rejected on the type bit.
    body = b"\x19\x00" + body[2:]  # TC, sec-hdr, APID 0x100 (DETECTIONS)
    assert dec.feed(seal(body, mac_key("down"))) == [] and dec.counters["wrong_direction"] == 2
    assert dec.counters["accepted"] == 0


def test_unknown_apid_is_rejected_after_the_crc():
    body = b"\x09\x55" b"\xc0\x00" b"\x00\x23" + bytes(12) + SPI.to_bytes(2, "big") + b"\x00\x00\x00\x01"
    dec = deframer()
    assert dec.feed(seal(body, mac_key("down"))) == [] and dec.counters["unknown_apid"] == 1


def test_resynchronisation_after_garbage_before_between_and_after():
    a, b, c = frames(3)
    rng = random.Random(3)
    garbage = [rng.randbytes(100), b"\x1a\xcf\xfc" + rng.randbytes(50) + b"\x1a\xcf", ASM + rng.randbytes(40), b"\x1a"]
    stream = garbage[0] + a + garbage[1] + b + garbage[2] + c + garbage[3]
    dec = deframer()
    packets = dec.feed(stream, final=True)
    assert [p.link_sequence for p in packets] == [1, 2, 3]
    assert dec.counters["garbage_bytes"] == sum(map(len, garbage)) and dec.pending_bytes == 0
    assert dec.counters["bad_headers"] + dec.counters["crc_failures"] >= 1  # the bare ASM in garbage[2]


def test_garbage_counts_and_a_possible_asm_start_is_kept():
    dec = deframer()
    assert dec.feed(b"hello\x1a\xcf") == []
    assert dec.counters["garbage_bytes"] == 5 and dec.pending_bytes == 2
    frame = frames(1)[0]
    # 1a cf fc 1d: a bare ASM, then the frame. Read as a header, "1a cf fc 1d 09 00" is plausible
    # (version 0, TC, sec-hdr 1, 2315 octets): a stream waits for it; the end of a datagram does not.
    assert dec.feed(b"\xfc\x1d" + frame) == [] and dec.pending_bytes == 4 + len(frame)
    assert len(dec.feed(b"", final=True)) == 1
    assert dec.counters["bad_headers"] == 1 and dec.counters["garbage_bytes"] == 9


def test_every_split_point_of_a_two_frame_stream():
    stream = b"".join(frames(2, payload_bytes=20))
    for split in range(len(stream) + 1):
        dec = deframer()
        first = dec.feed(stream[:split])
        second = dec.feed(stream[split:])
        assert [p.link_sequence for p in first + second] == [1, 2], split
        assert clean(dec.counters, 2) and dec.pending_bytes == 0, split


def test_one_byte_at_a_time_and_many_frames_per_feed():
    stream = b"".join(frames(5, payload_bytes=10))
    dec = deframer()
    packets = [p for i in range(len(stream)) for p in dec.feed(memoryview(stream)[i:i + 1])]
    assert [p.link_sequence for p in packets] == [1, 2, 3, 4, 5] and clean(dec.counters, 5)
    dec = deframer()
    assert len(dec.feed(bytearray(stream))) == 5 and clean(dec.counters, 5)


def test_asm_and_fake_headers_inside_a_payload_do_not_break_framing():
    inner = frames(1, seed=9)[0]
    payload = ASM + b"\x09\x00\xc0\x00\x00\x05" + ASM + inner[:-1] + ASM
    enc, dec = encoder(next_security_sequence=500), deframer()
    stream = enc.encode(Apid.DETECTIONS, payload, time_sec=0, time_nanosec=0) + frames(1, seed=10)[0]
    packets = dec.feed(stream)
    assert [p.payload for p in packets][:1] == [payload] and len(packets) == 2 and clean(dec.counters, 2)


def test_every_single_bit_flip_is_rejected_and_counted():
    frame = frames(1, payload_bytes=12)[0]
    for bit in range(len(frame) * 8):
        corrupted = bytearray(frame)
        corrupted[bit // 8] ^= 0x80 >> (bit % 8)
        dec = deframer()
        assert dec.feed(bytes(corrupted), final=True) == [], bit
        counters = dec.counters
        if bit < 32:  # the ASM is gone: all of it is garbage
            assert counters["garbage_bytes"] == len(frame), bit
        else:
            assert counters["crc_failures"] + counters["bad_headers"] >= 1, bit
        assert counters["accepted"] == counters["auth_failures"] == counters["replays"] == 0, bit


def test_bogus_lengths_are_skipped_and_framing_resumes():
    good = frames(1)[0]
    too_long = ASM + b"\x09\x00\xc0\x00\xff\xff" + bytes(40)   # 65546-octet frame > 65507
    too_short = ASM + b"\x09\x00\xc0\x00\x00\x22" + bytes(40)  # 45-octet frame < 46
    bad_version = ASM + b"\x29\x00\xc0\x00\x00\x30" + bytes(60)
    no_secondary = ASM + b"\x01\x00\xc0\x00\x00\x30" + bytes(60)
    for bogus in (too_long, too_short, bad_version, no_secondary):
        dec = deframer()
        assert [p.link_sequence for p in dec.feed(bogus + good)] == [1]
        assert dec.counters["bad_headers"] == 1 and dec.counters["garbage_bytes"] == len(bogus)


def test_oversize_frames_against_a_smaller_limit():
    dec = deframer(max_frame_bytes=100)
    big, small = frames(1, payload_bytes=60)[0], frames(1, payload_bytes=10, seed=1)[0]
    assert len(big) == 106
    assert dec.feed(big + small)[0].payload == small[28:38]
    assert dec.counters["bad_headers"] == 1 and dec.counters["accepted"] == 1


def test_a_long_claimed_length_waits_then_final_resynchronises():
    good = frames(1)[0]
    fake = ASM + b"\x09\x00\xc0\x00\x10\x00" + bytes(10)  # claims 4107 octets
    dec = deframer()
    assert dec.feed(fake + good) == [] and dec.pending_bytes == len(fake + good)
    assert [p.link_sequence for p in dec.feed(b"", final=True)] == [1]
    assert dec.counters["bad_headers"] == 1 and dec.pending_bytes == 0
    dec.feed(fake)
    dec.reset()
    assert dec.pending_bytes == 0 and dec.counters["garbage_bytes"] == 2 * len(fake)


def test_pure_deframe_reports_consumed_and_discarded():
    a, b = frames(2)
    frame, consumed, discarded = deframe(b"xyz" + a + b)
    assert isinstance(frame, RawFrame) and (consumed, discarded) == (3 + len(a), 3)
    assert (frame.packet_type, frame.apid, frame.sequence_flags, frame.sequence_count) == (0, 0x100, 3, 0)
    assert frame.packet == a[4:]
    assert deframe(memoryview(b + a))[0].packet == b[4:]
    assert deframe(b"xyz" + a[:20]) == (None, 3, 3)          # incomplete: keep from the ASM on
    assert deframe(b"0123456789\x1a\xcf\xfc") == (None, 10, 10)  # keep a possible ASM start
    assert deframe(b"") == (None, 0, 0)
    corrupted = bytearray(a)
    corrupted[40] ^= 1
    assert deframe(bytes(corrupted) + b) [1:] == (len(a) + len(b), len(a))  # CRC failure skipped, b found
    with pytest.raises(LinkError, match=r"max_frame_bytes: 10 is outside 46\.\.65546"):
        deframe(a, max_frame_bytes=10)


def test_counters_have_the_contract_keys():
    assert set(deframer().counters) == set(CLEAN) | {"accepted"}
    assert struct.calcsize(">IIIHI") == 18  # the fixed fields after the primary header
