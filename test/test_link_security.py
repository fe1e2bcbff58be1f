"""Key derivation, key files, MAC rejection of forged frames, anti-replay window, unknown SPIs."""

import binascii
import hashlib
import hmac

import pytest

from sbamti.link.errors import LinkError
from sbamti.link.frame import ASM, Deframer, FrameEncoder
from sbamti.link.packets import Apid, Direction
from sbamti.link.security import Keyring, ReplayWindow, derive_key

MASTER = bytes.fromhex("00112233445566778899aabbccddeeff")
OTHER = bytes.fromhex("ffeeddccbbaa99887766554433221100")


def reseal(frame: bytes, key: bytes) -> bytes:
    """The frame with its MAC (under ``key``) and CRC recomputed, computed here without the library."""
    body = frame[4:-18]
    mac = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return ASM + body + mac + binascii.crc_hqx(body + mac, 0xFFFF).to_bytes(2, "big")


def send(keyring, spi=1, direction=Direction.DOWN, count=1, start=1, apid=Apid.DETECTIONS):
    enc = FrameEncoder(keyring, spi, direction, next_security_sequence=start)
    return [enc.encode(apid, b"payload %d" % i, time_sec=i, time_nanosec=0) for i in range(count)]


def test_derived_key_follows_the_formula_and_separates_sa_and_direction():
    expected = hmac.new(MASTER, b"sbamti-link/v1/down\x00\x07", hashlib.sha256).digest()
    assert derive_key(MASTER, 7, Direction.DOWN) == expected and len(expected) == 32
    keys = {derive_key(MASTER, spi, d) for spi in (0, 1, 7, 65535) for d in Direction}
    assert len(keys) == 8
    with pytest.raises(LinkError, match=r"spi: 65536 is not an integer in 0\.\.65535"):
        derive_key(MASTER, 65536, Direction.UP)


def test_key_file_with_comments_wildcard_and_hex_spi(tmp_path):
    path = tmp_path / "link.keys"
    path.write_text("# sbamti link keys\n\n"
                    f"1 {MASTER.hex()}   # satellite one\n"
                    f"0x0010 {OTHER.hex().upper()}\n"
                    f"* {'ab' * 32}\n")
    keyring = Keyring.from_file(path)
    assert keyring.key(1, Direction.DOWN) == derive_key(MASTER, 1, Direction.DOWN)
    assert keyring.key(16, Direction.UP) == derive_key(OTHER, 16, Direction.UP)
    assert keyring.key(99, Direction.UP) == derive_key(bytes([0xAB] * 32), 99, Direction.UP)
    assert 99 in keyring and 1 in keyring and 70000 not in keyring
    assert MASTER.hex() not in repr(keyring) and "1, 16, * (wildcard)" in repr(keyring)


@pytest.mark.parametrize("line, match", [
    ("abc " + MASTER.hex(), r"link\.keys, line 2: spi 'abc' is not '\*' or an integer in 0\.\.65535"),
    ("70000 " + MASTER.hex(), r"line 2: spi '70000' is not"),
    ("3 " + MASTER.hex()[:-2] + "zz", r"line 2: master key of spi '3' is not hexadecimal \(a 32-character value"),
    ("3 " + MASTER.hex()[:-1], r"line 2: master key of spi '3' has an odd number of hex digits \(31\)"),
    ("3 " + MASTER.hex()[:30], r"line 2: master key of spi '3' is 15 octets, need at least 16 \(32 hex digits\)"),
    ("3 " + MASTER.hex() + " extra", r"line 2: expected 2 fields '<spi> <hex master key>', found 3"),
    ("1 " + OTHER.hex(), r"line 2: spi '1' is already given on line 1"),
])
def test_key_file_errors_name_file_line_field_and_value_but_never_the_key(tmp_path, line, match):
    path = tmp_path / "link.keys"
    path.write_text(f"1 {MASTER.hex()}\n{line}\n")
    with pytest.raises(LinkError, match=match) as caught:
        Keyring.from_file(path)
    assert str(path) in str(caught.value)
    for secret in (MASTER.hex(), MASTER.hex()[:30], OTHER.hex()):
        assert secret not in str(caught.value)


def test_key_file_without_keys_or_missing(tmp_path):
    path = tmp_path / "empty.keys"
    path.write_text("# nothing yet\n\n")
    with pytest.raises(LinkError, match=r"empty\.keys: no keys in it"):
        Keyring.from_file(path)
    with pytest.raises(LinkError, match=r"missing\.keys: cannot read it \(FileNotFoundError"):
        Keyring.from_file(tmp_path / "missing.keys")


def test_keyring_from_masters_checks_lengths_and_unknown_spi():
    with pytest.raises(LinkError, match=r"master key for spi \*: 8 octets, need at least 16"):
        Keyring.from_masters({None: bytes(8)})
    keyring = Keyring.from_masters({1: MASTER})
    with pytest.raises(LinkError, match=r"spi: 2 has no key in the keyring \(SPIs with keys: 1\)"):
        keyring.key(2, Direction.DOWN)
    assert keyring.lookup(2, Direction.DOWN) is None


def test_forged_frames_with_a_valid_crc_are_authentication_failures():
    good = Keyring.from_masters({1: MASTER})
    forged = send(Keyring.from_masters({1: OTHER}), count=3)
    dec = Deframer(good, Direction.DOWN)
    assert dec.feed(b"".join(forged)) == []
    assert dec.counters["auth_failures"] == 3 and dec.counters["crc_failures"] == 0
    # The forged numbers did not move the window: genuine frames with the same numbers pass.
    assert len(dec.feed(b"".join(send(good, count=3)))) == 3 and dec.counters["replays"] == 0


def test_tampering_with_any_authenticated_field_fails_the_mac_even_with_a_fixed_crc():
    keyring = Keyring.from_masters({1: MASTER})
    frame = send(keyring)[0]
    assert reseal(frame, derive_key(MASTER, 1, Direction.DOWN)) == frame  # the helper agrees with the library
    for offset in range(10, len(frame) - 2):  # time, link seq, security header, payload, MAC
        if offset in (22, 23):  # the SPI: covered below
            continue
        tampered = bytearray(frame)
        tampered[offset] ^= 0x01
        tampered[-2:] = binascii.crc_hqx(tampered[4:-2], 0xFFFF).to_bytes(2, "big")
        tampered = bytes(tampered)
        dec = Deframer(keyring, Direction.DOWN)
        assert dec.feed(tampered) == [] and dec.counters["auth_failures"] == 1, offset


def test_keys_are_separate_per_spi_and_direction():
    keyring = Keyring.from_masters({None: MASTER})
    frame = send(keyring, spi=1)[0]
    other_spi = frame[:22] + (2).to_bytes(2, "big") + frame[24:]
    other_spi = other_spi[:-2] + binascii.crc_hqx(other_spi[4:-2], 0xFFFF).to_bytes(2, "big")
    dec = Deframer(keyring, Direction.DOWN)
    assert dec.feed(other_spi) == [] and dec.counters["auth_failures"] == 1
    # The same bytes re-labelled as an uplink command, MAC'ed with the downlink key.
    up = b"\x19\x20" + frame[6:-2]
    up = ASM + up + binascii.crc_hqx(up, 0xFFFF).to_bytes(2, "big")
    dec = Deframer(keyring, Direction.UP)
    assert dec.feed(up) == [] and dec.counters["auth_failures"] == 1
    assert len(dec.feed(reseal(up, derive_key(MASTER, 1, Direction.UP)))) == 1  # control: right key passes


def test_unknown_spi_is_rejected():
    dec = Deframer(Keyring.from_masters({1: MASTER}), Direction.DOWN)
    assert dec.feed(send(Keyring.from_masters({2: MASTER}), spi=2)[0]) == []
    assert dec.counters["unknown_spi"] == 1 and dec.counters["auth_failures"] == 0


def test_replayed_frames_are_rejected_and_reordering_within_the_window_accepted():
    keyring = Keyring.from_masters({1: MASTER})
    a, b, c = send(keyring, count=3)
    dec = Deframer(keyring, Direction.DOWN, replay_window=64)
    assert [p.security_sequence for p in dec.feed(c + a + a + c + b)] == [3, 1, 2]
    assert dec.counters["replays"] == 2 and dec.replay_windows[1].highest == 3
    late = send(keyring, count=1, start=100)[0]
    old = send(keyring, count=1, start=36)[0]   # 100 - 64 = 36: just outside the window
    edge = send(keyring, count=1, start=37)[0]
    assert len(dec.feed(late + old + edge)) == 2 and dec.counters["replays"] == 3


def test_restored_window_rejects_everything_up_to_the_persisted_highest():
    keyring = Keyring.from_masters({1: MASTER})
    frames = send(keyring, count=5)
    dec = Deframer(keyring, Direction.DOWN)
    dec.replay_window(1).restore(4)
    assert dec.replay_windows[1] is dec.replay_window(1) and dec.replay_window(1).highest == 4
    assert [p.security_sequence for p in dec.feed(b"".join(frames))] == [5]
    assert dec.counters["replays"] == 4


def test_replay_window_rules():
    window = ReplayWindow(size=4)
    assert not window.accept(0) and window.highest == 0
    assert window.accept(5) and not window.accept(5)
    assert not window.accept(1)                      # 1 <= 5 - 4
    assert window.accept(2) and window.accept(4) and not window.accept(4)
    assert window.accept(3) and not window.accept(2)
    assert window.accept(2**32 - 1) and window.highest == 2**32 - 1   # a far jump keeps memory bounded
    assert not window.accept(2**32) and not window.accept(5)
    assert window.accept(2**32 - 2) and window.accept(2**32 - 4) and not window.accept(2**32 - 5)


def test_replay_window_restore():
    window = ReplayWindow(size=8)
    window.restore(100)
    assert window.highest == 100 and not window.accept(100) and not window.accept(95) and window.accept(101)
    window = ReplayWindow(size=8)
    assert window.accept(10)
    window.restore(7)  # below the highest: marks 3..7 seen, keeps 8 and 9 open
    assert not window.accept(7) and not window.accept(5) and window.accept(9) and window.accept(8)
    assert window.highest == 10
    with pytest.raises(LinkError, match=r"replay window highest: -1 is not"):
        window.restore(-1)
    with pytest.raises(LinkError, match=r"replay window size: 0 is not an integer >= 1"):
        ReplayWindow(0)
