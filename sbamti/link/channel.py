"""Seeded fault injection for link datagrams: loss, bit errors, duplication, reordering, latency
and outages. Pure and deterministic: the same seed and the same sequence of calls give the same
deliveries. With all impairments zero it is the identity, in order and immediate.

Times are the caller's clock in seconds (the node's sim time).
"""

from __future__ import annotations

import heapq
import math
import random
from dataclasses import dataclass, field

from sbamti.link.errors import LinkError

__all__ = ["Channel", "Impairments"]


@dataclass(frozen=True)
class Impairments:
    """Per-datagram impairments of a :class:`Channel`.

    loss, corruption, duplication, reorder: probabilities in [0, 1], drawn independently per
    datagram (corruption and reorder per delivered copy). corruption flips 1 to 3 distinct
    random bits. reorder delays a copy by an extra ``reorder_delay_s``, so later datagrams
    overtake it. ``latency_s`` is a fixed delay of every copy. ``outages``: (start_s, end_s)
    intervals, start inclusive and end exclusive, during which every submitted datagram is
    dropped (judged at submission). ``seed`` seeds the channel's own random generator.
    """

    loss: float = 0.0
    corruption: float = 0.0
    duplication: float = 0.0
    reorder: float = 0.0
    reorder_delay_s: float = 0.0
    latency_s: float = 0.0
    outages: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("loss", "corruption", "duplication", "reorder"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise LinkError(f"{name}: {value!r} must be a probability in [0, 1]")
        for name in ("reorder_delay_s", "latency_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not (value >= 0 and math.isfinite(value)):
                raise LinkError(f"{name}: {value!r} must be finite and >= 0")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise LinkError(f"seed: {self.seed!r} must be an integer")
        outages = []
        for index, interval in enumerate(self.outages):
            try:
                start_s, end_s = (float(t) for t in interval)
            except (TypeError, ValueError):
                raise LinkError(f"outages[{index}]: {interval!r} must be a (start_s, end_s) pair") from None
            if not (math.isfinite(start_s) and math.isfinite(end_s) and start_s < end_s):
                raise LinkError(f"outages[{index}]: {interval!r} must have finite start_s < end_s")
            outages.append((start_s, end_s))
        object.__setattr__(self, "outages", tuple(sorted(outages)))

    def in_outage(self, now_s: float) -> bool:
        return any(start_s <= now_s < end_s for start_s, end_s in self.outages)


class Channel:
    """A one-way datagram channel applying :class:`Impairments`.

    ``submit`` hands a datagram to the channel at ``now_s``; ``due`` returns the copies whose
    delivery time is <= ``now_s``, ordered by delivery time, then submission order (duplicates
    right after their original). Counters: submitted, delivered, lost, corrupted, duplicated,
    reordered, outage_dropped.
    """

    def __init__(self, impairments: Impairments | None = None) -> None:
        self.impairments = impairments if impairments is not None else Impairments()
        self._rng = random.Random(self.impairments.seed)
        self._queue: list[tuple[float, int, bytes, object]] = []
        self._order = 0
        self.counters = dict.fromkeys(
            ("submitted", "delivered", "lost", "corrupted", "duplicated", "reordered", "outage_dropped"), 0)

    def submit(self, datagram: bytes, now_s: float) -> None:
        """Offer one datagram to the channel at time ``now_s``."""
        self.submit_addressed(datagram, None, now_s)

    def submit_addressed(self, datagram: bytes, addr: object, now_s: float) -> None:
        """Like :meth:`submit`, carrying ``addr`` (e.g. the UDP destination) to :meth:`due_addressed`."""
        if not isinstance(datagram, (bytes, bytearray, memoryview)):
            raise LinkError(f"datagram: expected bytes, received {type(datagram).__name__}")
        imp = self.impairments
        self.counters["submitted"] += 1
        if imp.outages and imp.in_outage(now_s):
            self.counters["outage_dropped"] += 1
            return
        rng = self._rng
        if imp.loss and rng.random() < imp.loss:
            self.counters["lost"] += 1
            return
        copies = 1
        if imp.duplication and rng.random() < imp.duplication:
            copies = 2
            self.counters["duplicated"] += 1
        for _ in range(copies):
            data = bytes(datagram)
            if imp.corruption and data and rng.random() < imp.corruption:
                data = self._flip_bits(data)
                self.counters["corrupted"] += 1
            delay_s = imp.latency_s
            if imp.reorder and rng.random() < imp.reorder:
                delay_s += imp.reorder_delay_s
                self.counters["reordered"] += 1
            heapq.heappush(self._queue, (now_s + delay_s, self._order, data, addr))
            self._order += 1

    def _flip_bits(self, data: bytes) -> bytes:
        buffer = bytearray(data)
        nbits = len(buffer) * 8
        for bit in self._rng.sample(range(nbits), min(self._rng.randint(1, 3), nbits)):
            buffer[bit >> 3] ^= 0x80 >> (bit & 7)
        return bytes(buffer)

    def due(self, now_s: float) -> list[bytes]:
        """Datagrams delivered by ``now_s``, in delivery order (each returned once)."""
        return [data for data, _ in self.due_addressed(now_s)]

    def due_addressed(self, now_s: float) -> list[tuple[bytes, object]]:
        """(datagram, addr) pairs delivered by ``now_s``, in delivery order (addr None if not given)."""
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now_s:
            _, _, data, addr = heapq.heappop(queue)
            out.append((data, addr))
        self.counters["delivered"] += len(out)
        return out

    @property
    def pending(self) -> int:
        """Copies in transit."""
        return len(self._queue)

    @property
    def next_due_s(self) -> float | None:
        """Delivery time of the next copy in transit, or None."""
        return self._queue[0][0] if self._queue else None
