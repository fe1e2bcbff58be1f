"""UDP endpoint on loopback: ephemeral bind, send/receive, draining, bounds and errors."""

import socket
import time

import pytest

from sbamti.link.errors import LinkError
from sbamti.link.udp import MAX_DATAGRAM_BYTES, UdpEndpoint


def _receive(endpoint, count, timeout_s=2.0, **kwargs):
    out = []
    deadline = time.monotonic() + timeout_s
    while len(out) < count and time.monotonic() < deadline:
        out += endpoint.receive_all(**kwargs)
        if len(out) < count:
            time.sleep(0.001)
    return out


def test_loopback_round_trip_with_ephemeral_ports():
    with UdpEndpoint("127.0.0.1", 0) as ground, UdpEndpoint("127.0.0.1", 0, peer=None) as sat:
        host, port = ground.address
        assert host == "127.0.0.1" and 1024 <= port <= 65535 and port != sat.address[1]
        assert ground.receive_all() == []                       # non-blocking: nothing queued
        payloads = [bytes([i]) * (i + 1) for i in range(50)] + [b"\xab" * MAX_DATAGRAM_BYTES]
        for p in payloads:
            assert sat.send(p, ground.address)
        got = _receive(ground, len(payloads))
        assert [d for d, _ in got] == payloads                  # loopback keeps order, no loss
        assert {a for _, a in got} == {sat.address}
        assert ground.counters["received"] == 51 and sat.counters["sent"] == 51
        # The sender address returned by receive_all works as a destination for the answer.
        assert ground.send(b"ack", got[0][1])
        assert [d for d, _ in _receive(sat, 1)] == [b"ack"]


def test_peer_default_destination_and_max_datagrams():
    ground = UdpEndpoint("127.0.0.1", 0)
    sat = UdpEndpoint("127.0.0.1", 0, peer=ground.address)
    for i in range(10):
        assert sat.send(i.to_bytes(2, "big"))
    time.sleep(0.05)
    first = ground.receive_all(max_datagrams=4)
    rest = _receive(ground, 6)
    assert [int.from_bytes(d, "big") for d, _ in first + rest] == list(range(10)) and len(first) == 4
    ground.close()
    ground.close()                                              # idempotent
    assert ground.closed
    with pytest.raises(LinkError, match="closed"):
        ground.receive_all()
    sat.close()


def test_receive_buffer_is_enlarged_best_effort():
    with UdpEndpoint("127.0.0.1", 0, receive_buffer_bytes=4 * 1024 * 1024) as big, \
            UdpEndpoint("127.0.0.1", 0, receive_buffer_bytes=4096) as small:
        assert big.receive_buffer_bytes > small.receive_buffer_bytes


def test_sending_to_a_closed_port_does_not_raise():
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    dead = probe.getsockname()
    probe.close()
    with UdpEndpoint("127.0.0.1", 0) as endpoint:
        for _ in range(3):
            endpoint.send(b"x", dead)
        assert endpoint.receive_all() == []                     # ICMP refusals are not datagrams


def test_errors_name_host_and_port():
    with pytest.raises(LinkError, match="bind_port"):
        UdpEndpoint("127.0.0.1", 70000)
    with pytest.raises(LinkError, match="bind_port"):
        UdpEndpoint("127.0.0.1", "80")
    with pytest.raises(LinkError, match="bind_host.*no-such-host.invalid"):
        UdpEndpoint("no-such-host.invalid", 0)
    with pytest.raises(LinkError, match="bind_host"):
        UdpEndpoint("", 0)
    with UdpEndpoint("127.0.0.1", 0) as taken:
        with pytest.raises(LinkError, match=f"bind_host, bind_port: .*{taken.address[1]}"):
            UdpEndpoint("127.0.0.1", taken.address[1])
        with pytest.raises(LinkError, match="addr"):
            taken.send(b"x")                                   # no peer configured
        with pytest.raises(LinkError, match="addr port"):
            taken.send(b"x", ("127.0.0.1", 0))
        with pytest.raises(LinkError, match="datagram: 65508"):
            taken.send(bytes(MAX_DATAGRAM_BYTES + 1), taken.address)
    with pytest.raises(LinkError, match="peer"):
        UdpEndpoint("127.0.0.1", 0, peer=("127.0.0.1",))
