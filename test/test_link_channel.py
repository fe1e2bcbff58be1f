"""Seeded channel impairments: identity, empirical rates, determinism, ordering, outages."""

import math

import pytest

from sbamti.link.channel import Channel, Impairments
from sbamti.link.errors import LinkError

N = 20_000


def _within(count, n, p, z=5.0):
    """``count`` successes of ``n`` trials agree with probability ``p`` (|z| < 5, normal approximation)."""
    sigma = math.sqrt(n * p * (1 - p))
    return abs(count - n * p) < z * sigma


def _datagram(i):
    return i.to_bytes(4, "big") + bytes(12)


def test_zero_impairments_are_the_identity():
    channel = Channel(Impairments())
    out = []
    for i in range(100):
        channel.submit(_datagram(i), now_s=i * 0.01)
        out += channel.due(i * 0.01)
    assert out == [_datagram(i) for i in range(100)] and channel.pending == 0
    assert channel.counters["delivered"] == 100


def test_latency_delays_everything_by_the_same_amount():
    channel = Channel(Impairments(latency_s=0.25))
    channel.submit(b"a", 1.0)
    channel.submit(b"b", 1.1)
    assert channel.due(1.2) == []
    assert channel.due(1.25) == [b"a"] and channel.next_due_s == pytest.approx(1.35)
    assert channel.due(2.0) == [b"b"]


@pytest.mark.parametrize("name, p", [("loss", 0.1), ("duplication", 0.05), ("corruption", 0.2), ("reorder", 0.3)])
def test_empirical_rates_match_the_probabilities(name, p):
    channel = Channel(Impairments(**{name: p}, reorder_delay_s=1.0, seed=11))
    for i in range(N):
        channel.submit(_datagram(i), 0.0)
    delivered = channel.due(10.0)
    counter = {"loss": "lost", "duplication": "duplicated", "corruption": "corrupted", "reorder": "reordered"}[name]
    assert _within(channel.counters[counter], N, p)
    if name == "loss":
        assert len(delivered) == N - channel.counters["lost"]
    if name == "duplication":
        assert len(delivered) == N + channel.counters["duplicated"]
    if name == "corruption":
        flips = [sum(bin(a ^ b).count("1") for a, b in zip(d, _datagram(i))) for i, d in enumerate(delivered)]
        assert sum(f > 0 for f in flips) == channel.counters["corrupted"]
        assert {f for f in flips if f} == {1, 2, 3}          # 1 to 3 bits, all three occur
        assert all(len(d) == 16 for d in delivered)


def test_reordered_datagrams_are_overtaken():
    channel = Channel(Impairments(reorder=0.5, reorder_delay_s=5.0, seed=3))
    arrivals = []                        # (arrival time, datagram index) in delivery order
    for t in range(300):
        if t < 200:
            channel.submit(_datagram(t), float(t))
        arrivals += [(t, int.from_bytes(d[:4], "big")) for d in channel.due(float(t))]
    assert sorted(i for _, i in arrivals) == list(range(200))
    # Each datagram arrives on time or exactly reorder_delay_s late ...
    late = [i for t, i in arrivals if t == i + 5]
    assert all(t in (i, i + 5) for t, i in arrivals)
    assert len(late) == channel.counters["reordered"] and _within(len(late), 200, 0.5)
    # ... and in order of arrival time, then submission: so the late ones are overtaken.
    assert arrivals == sorted(arrivals)
    assert [i for _, i in arrivals] != list(range(200))


def test_duplicate_follows_its_original():
    channel = Channel(Impairments(duplication=1.0))
    channel.submit(b"x", 0.0)
    channel.submit(b"y", 0.0)
    assert channel.due(0.0) == [b"x", b"x", b"y", b"y"]


def test_addressed_datagrams_keep_their_destination():
    channel = Channel(Impairments(duplication=1.0, latency_s=1.0))
    channel.submit_addressed(b"to-a", ("10.0.0.1", 5000), 0.0)
    channel.submit(b"plain", 0.5)
    assert channel.due_addressed(1.0) == [(b"to-a", ("10.0.0.1", 5000))] * 2
    assert channel.due_addressed(1.5) == [(b"plain", None)] * 2


def test_same_seed_same_deliveries_other_seed_differs():
    def run(seed):
        channel = Channel(Impairments(loss=0.2, corruption=0.2, duplication=0.1, reorder=0.2,
                                      reorder_delay_s=0.03, latency_s=0.01, seed=seed))
        out = []
        for i in range(500):
            channel.submit(_datagram(i), i * 0.01)
            out += channel.due(i * 0.01)
        return out + channel.due(1e9), channel.counters

    assert run(5) == run(5)
    assert run(5)[0] != run(6)[0]


def test_outages_drop_everything_inside_and_nothing_outside():
    channel = Channel(Impairments(outages=[(2.0, 3.0), (0.5, 1.0)]))
    times = [0.49, 0.5, 0.99, 1.0, 2.5, 3.0]
    for i, t in enumerate(times):
        channel.submit(_datagram(i), t)
    assert [int.from_bytes(d[:4], "big") for d in channel.due(10.0)] == [0, 3, 5]
    assert channel.counters["outage_dropped"] == 3
    assert channel.impairments.outages == ((0.5, 1.0), (2.0, 3.0))


@pytest.mark.parametrize("kwargs, field", [
    (dict(loss=1.5), "loss"),
    (dict(corruption=-0.1), "corruption"),
    (dict(duplication=float("nan")), "duplication"),
    (dict(reorder=2), "reorder"),
    (dict(reorder_delay_s=-1.0), "reorder_delay_s"),
    (dict(latency_s=float("inf")), "latency_s"),
    (dict(outages=[(3.0, 2.0)]), r"outages\[0\]"),
    (dict(outages=[(1.0,)]), r"outages\[0\]"),
    (dict(seed=1.5), "seed"),
])
def test_invalid_impairments_name_the_field(kwargs, field):
    with pytest.raises(LinkError, match=field):
        Impairments(**kwargs)
