"""Property-based fuzzing of the deframer: never raises, accepts nothing it should not, loses nothing it should keep."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbamti.link.frame import ASM, FRAME_OVERHEAD, Deframer, FrameEncoder, deframe
from sbamti.link.packets import PACKET_KINDS, Direction
from sbamti.link.security import Keyring

KEYRING = Keyring.from_masters({3: bytes(range(100, 132))})
DOWN_APIDS = sorted(a for a, kind in PACKET_KINDS.items() if kind.direction is Direction.DOWN)
FUZZ = settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

# Garbage that often looks like the start of a frame: bare ASMs, ASM + plausible or random headers.
garbage_piece = st.one_of(
    st.binary(max_size=80),
    st.just(ASM),
    st.builds(lambda header: ASM + header, st.binary(min_size=6, max_size=6)),
    st.builds(lambda length, tail: ASM + b"\x09\x00\xc0\x00" + length.to_bytes(2, "big") + tail,
              st.integers(0, 0xFFFF), st.binary(max_size=80)),
    st.sampled_from([ASM[:1], ASM[:2], ASM[:3]]),
)
garbage = st.lists(garbage_piece, max_size=6).map(b"".join)


def feed_in_chunks(deframer: Deframer, stream: bytes, cuts: list[int]) -> list:
    """Feed ``stream`` split at ``cuts`` (positions), the last feed final."""
    points = sorted({0, len(stream), *(c % (len(stream) + 1) for c in cuts)})
    accepted = []
    for start, end in itertools.pairwise(points):
        accepted += deframer.feed(stream[start:end])
    return accepted + deframer.feed(b"", final=True)


@FUZZ
@given(st.one_of(st.binary(max_size=2000), garbage), st.lists(st.integers(0, 4000), max_size=5))
def test_arbitrary_bytes_never_raise_and_are_never_accepted(data, cuts):
    for direction in Direction:
        deframer = Deframer(KEYRING, direction, max_frame_bytes=1500)
        assert feed_in_chunks(deframer, data, cuts) == []
        assert deframer.counters["accepted"] == 0 and deframer.pending_bytes == 0
        assert deframer.counters["garbage_bytes"] <= len(data)


@FUZZ
@given(st.one_of(st.binary(max_size=600), garbage))
def test_pure_deframe_accounts_for_every_octet(data):
    frame, consumed, discarded = deframe(data)
    assert 0 <= discarded <= consumed <= len(data)
    if frame is None:
        assert consumed == discarded
        assert ASM not in data[consumed + 1:] or data[consumed:consumed + 4] == ASM  # only waits at an ASM
    else:
        assert consumed == discarded + len(ASM) + len(frame.packet) and len(frame.packet) >= FRAME_OVERHEAD - 4
        assert data[discarded:consumed] == ASM + frame.packet


frame_spec = st.tuples(st.sampled_from(DOWN_APIDS), st.binary(max_size=200), st.integers(0, 2**32 - 1))


@FUZZ
@given(st.lists(st.tuples(garbage, frame_spec), min_size=1, max_size=5), garbage,
       st.lists(st.integers(0, 4000), max_size=6))
def test_valid_frames_amid_garbage_are_all_accepted_in_order(pieces, tail, cuts):
    encoder = FrameEncoder(KEYRING, 3, Direction.DOWN)
    stream = b""
    for junk, (apid, payload, link_sequence) in pieces:
        stream += junk + encoder.encode(apid, payload, time_sec=link_sequence, time_nanosec=7,
                                        link_sequence=link_sequence)
    stream += tail
    deframer = Deframer(KEYRING, Direction.DOWN)
    accepted = feed_in_chunks(deframer, stream, cuts)
    assert [(p.apid, p.payload, p.link_sequence) for p in accepted] == [spec for _, spec in pieces]
    assert [p.security_sequence for p in accepted] == list(range(1, len(pieces) + 1))
    counters = deframer.counters
    assert counters["auth_failures"] == counters["replays"] == counters["unknown_spi"] == 0


@st.composite
def modified_frame(draw):
    """A valid frame and a modification of it that changes the frame itself (not only garbage around it)."""
    apid, payload, link_sequence = draw(frame_spec)
    frame = FrameEncoder(KEYRING, 3, Direction.DOWN).encode(apid, payload, time_sec=1, time_nanosec=2,
                                                            link_sequence=link_sequence)
    kind = draw(st.sampled_from(["replace", "xor", "truncate", "insert", "delete"]))
    data = bytearray(frame)
    if kind == "replace":
        at = draw(st.integers(0, len(frame) - 1))
        data[at] = draw(st.integers(0, 255).filter(lambda v: v != frame[at]))
    elif kind == "xor":
        for at, mask in draw(st.lists(st.tuples(st.integers(0, len(frame) - 1), st.integers(1, 255)),
                                      min_size=1, max_size=4, unique_by=lambda t: t[0])):
            data[at] ^= mask
    elif kind == "truncate":
        del data[draw(st.integers(0, len(frame) - 1)):]
    elif kind == "insert":  # strictly inside: an octet before or after the frame is just garbage
        data.insert(draw(st.integers(1, len(frame) - 1)), draw(st.integers(0, 255)))
    else:
        del data[draw(st.integers(0, len(frame) - 1))]
    assert bytes(data) != frame
    return bytes(data)


@FUZZ
@given(modified_frame(), st.lists(st.integers(0, 4000), max_size=3))
def test_any_modification_of_a_valid_frame_is_rejected(data, cuts):
    deframer = Deframer(KEYRING, Direction.DOWN)
    assert feed_in_chunks(deframer, data, cuts) == []
    assert deframer.counters["accepted"] == 0
