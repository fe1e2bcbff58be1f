"""ARQ bookkeeping of the link: what the ground received, what to acknowledge and NAK, and the
ground's retransmission of uplink commands. Pure Python, no ROS, no I/O.

Link sequence numbers are u32 and start at 1 (0 means "not ARQ-tracked"). Ranges are inclusive
(first, last) pairs, as carried by LINK_ACK and LINK_NAK. Times (``now_s``) are the caller's
clock in seconds (monotonic or sim time); only differences matter.
"""

from __future__ import annotations

import bisect
import collections
import heapq
from dataclasses import dataclass

from sbamti.link.errors import LinkError, check_int

__all__ = ["MAX_REPORTED_RANGES", "CommandTracker", "PendingCommand", "ReceiveLedger", "ReorderBuffer"]

MAX_LINK_SEQUENCE = 0xFFFF_FFFF
MAX_REPORTED_RANGES = 256      # ranges one LINK_ACK / LINK_NAK carries (payloads.MAX_COUNT)


def _non_negative(field: str, value: float) -> float:
    value = float(value)
    if not value >= 0 or value == float("inf"):
        raise LinkError(f"{field}: {value!r} must be finite and >= 0")
    return value


class _Gap:
    """A run of missing link sequences with its NAK history (split gaps inherit it)."""

    __slots__ = ("first", "last", "born_s", "last_nak_s", "naks")

    def __init__(self, first: int, last: int, born_s: float, last_nak_s: float | None = None,
                 naks: int = 0) -> None:
        self.first, self.last, self.born_s, self.last_nak_s, self.naks = first, last, born_s, last_nak_s, naks

    def copy(self, first: int, last: int) -> _Gap:
        return _Gap(first, last, self.born_s, self.last_nak_s, self.naks)


class ReceiveLedger:
    """Link sequences received from one sender (one SPI): duplicates, cumulative ACK, gaps.

    State: ``cumulative`` (every sequence 1..cumulative received), ``highest`` (highest seen) and
    the gaps (missing runs) between them, kept sorted. Memory is bounded by ``max_gaps``: when a
    new gap would exceed it, the OLDEST gap is abandoned (treated as received and counted in
    ``counters["abandoned"]``), which advances ``cumulative``; a record of it that still arrives
    later is then reported as a duplicate. The received ranges above ``cumulative`` are the
    complement of the gaps and number at most ``max_gaps``; builders cap what they report.

    The ledger is not persisted by itself: :meth:`restore` re-seeds it from a saved
    ``cumulative`` (sequences above it that had been received will then be new once more).
    """

    def __init__(self, *, max_gaps: int = 4096) -> None:
        self.max_gaps = check_int("max_gaps", max_gaps, 1, 2**31)
        self._cumulative = 0
        self._highest = 0
        self._gaps: list[_Gap] = []
        self._firsts: list[int] = []   # gap.first of each gap, for bisect
        self.counters = {"received": 0, "duplicates": 0, "abandoned": 0, "gaps_overflowed": 0}

    @property
    def cumulative(self) -> int:
        """Highest n such that every link sequence 1..n has been received (0: none)."""
        return self._cumulative

    @property
    def highest(self) -> int:
        """Highest link sequence received (0: none)."""
        return self._highest

    @property
    def received_count(self) -> int:
        """New (non-duplicate) link sequences received so far: changes whenever an ACK would."""
        return self.counters["received"]

    @property
    def gap_count(self) -> int:
        return len(self._gaps)

    def restore(self, cumulative: int) -> None:
        """Forget everything and treat 1..``cumulative`` as received (state saved across restarts)."""
        self._cumulative = self._highest = check_int("cumulative", cumulative, 0, MAX_LINK_SEQUENCE)
        self._gaps.clear()
        self._firsts.clear()

    def receive(self, link_sequence: int, now_s: float = 0.0) -> bool:
        """Note a received link sequence; True if new, False if a duplicate (including <= cumulative).

        ``now_s`` dates a gap that this sequence reveals (for the NAK holdoff).
        """
        seq = check_int("link_sequence", link_sequence, 1, MAX_LINK_SEQUENCE)
        if seq <= self._cumulative:
            self.counters["duplicates"] += 1
            return False
        if seq > self._highest:
            if seq > self._highest + 1:
                self._gaps.append(_Gap(self._highest + 1, seq - 1, float(now_s)))
                self._firsts.append(self._highest + 1)
                if len(self._gaps) > self.max_gaps:
                    self.counters["gaps_overflowed"] += 1
                    self._abandon_first()
            self._highest = seq
            self._update_cumulative()
            self.counters["received"] += 1
            return True
        index = bisect.bisect_right(self._firsts, seq) - 1
        if index < 0 or self._gaps[index].last < seq:
            self.counters["duplicates"] += 1
            return False
        gap = self._gaps[index]
        if gap.first == gap.last:
            del self._gaps[index]
            del self._firsts[index]
        elif seq == gap.first:
            gap.first += 1
            self._firsts[index] += 1
        elif seq == gap.last:
            gap.last -= 1
        else:
            upper = gap.copy(seq + 1, gap.last)
            gap.last = seq - 1
            self._gaps.insert(index + 1, upper)
            self._firsts.insert(index + 1, seq + 1)
            if len(self._gaps) > self.max_gaps:
                self.counters["gaps_overflowed"] += 1
                self._abandon_first()
        self._update_cumulative()
        self.counters["received"] += 1
        return True

    def _update_cumulative(self) -> None:
        self._cumulative = self._gaps[0].first - 1 if self._gaps else self._highest

    def _abandon_first(self) -> None:
        gap = self._gaps.pop(0)
        self._firsts.pop(0)
        self.counters["abandoned"] += gap.last - gap.first + 1
        self._update_cumulative()

    def missing_ranges(self, limit: int | None = None) -> list[tuple[int, int]]:
        """Gaps below ``highest``, lowest first (at most ``limit`` of them)."""
        gaps = self._gaps if limit is None else self._gaps[:limit]
        return [(g.first, g.last) for g in gaps]

    def received_ranges(self, limit: int | None = None) -> list[tuple[int, int]]:
        """Received runs above ``cumulative``, lowest first (at most ``limit`` of them)."""
        ranges = []
        for index, gap in enumerate(self._gaps):
            if limit is not None and len(ranges) >= limit:
                break
            upper = self._gaps[index + 1].first - 1 if index + 1 < len(self._gaps) else self._highest
            ranges.append((gap.last + 1, upper))
        return ranges

    def ack_content(self, max_ranges: int = MAX_REPORTED_RANGES, *,
                    withheld: list[int] = ()) -> tuple[int, list[tuple[int, int]]]:
        """LINK_ACK content: (cumulative, the lowest ``max_ranges`` received ranges above it).

        ``withheld``: sorted received sequences not to acknowledge yet (above ``cumulative``), e.g.
        those a :class:`ReorderBuffer` still holds: the sender keeps a record until it was
        delivered, so a receiver that dies while holding it loses nothing. Records above the
        reported ranges stay unacknowledged for now; the sender retransmits them after its timeout
        and a later ACK (the ledger then reports them as duplicates but includes them) releases them.
        """
        max_ranges = check_int("max_ranges", max_ranges, 0, 2**31)
        if not withheld:
            return self._cumulative, self.received_ranges(max_ranges)
        ranges = _subtract(self.received_ranges(max_ranges + len(withheld)), withheld)
        return self._cumulative, ranges[:max_ranges]

    def gaps_to_nak(self, now_s: float, *, holdoff_s: float, repeat_s: float,
                    max_ranges: int = MAX_REPORTED_RANGES) -> list[tuple[int, int]]:
        """Gaps to NAK now (LINK_NAK content), lowest first, and note that they were NAKed.

        A gap is NAKed once it is at least ``holdoff_s`` old (younger ones may just be
        reordered) and again every ``repeat_s`` while it stays open; a gap split by a late
        arrival keeps its history. At most ``max_ranges`` ranges.
        """
        holdoff_s = _non_negative("holdoff_s", holdoff_s)
        repeat_s = _non_negative("repeat_s", repeat_s)
        max_ranges = check_int("max_ranges", max_ranges, 0, 2**31)
        due = []
        for gap in self._gaps:
            if len(due) >= max_ranges:
                break
            if now_s - gap.born_s < holdoff_s:
                continue  # gaps are born in order, but splits keep old births: keep scanning
            if gap.last_nak_s is not None and now_s - gap.last_nak_s < repeat_s:
                continue
            gap.last_nak_s = now_s
            gap.naks += 1
            due.append((gap.first, gap.last))
        return due

    def abandon(self, *, now_s: float, max_age_s: float | None = None,
                max_naks: int | None = None) -> list[tuple[int, int]]:
        """Give up on gaps older than ``max_age_s`` or NAKed at least ``max_naks`` times.

        Returns the abandoned ranges (counted in ``counters["abandoned"]``). Needed because a
        sender may have evicted a record that was in flight: its sequence would otherwise hold
        ``cumulative`` back for ever.
        """
        if max_age_s is not None:
            max_age_s = _non_negative("max_age_s", max_age_s)
        if max_naks is not None:
            max_naks = check_int("max_naks", max_naks, 1, 2**31)
        kept, abandoned = [], []
        for gap in self._gaps:
            stale = ((max_age_s is not None and now_s - gap.born_s >= max_age_s)
                     or (max_naks is not None and gap.naks >= max_naks))
            (abandoned if stale else kept).append(gap)
        if abandoned:
            self._gaps = kept
            self._firsts = [g.first for g in kept]
            self.counters["abandoned"] += sum(g.last - g.first + 1 for g in abandoned)
            self._update_cumulative()
        return [(g.first, g.last) for g in abandoned]


def _subtract(ranges: list[tuple[int, int]], points: list[int]) -> list[tuple[int, int]]:
    """Sorted disjoint inclusive ``ranges`` without the sorted ``points``."""
    out = []
    i = 0
    for first, last in ranges:
        while i < len(points) and points[i] < first:
            i += 1
        while i < len(points) and points[i] <= last:
            if points[i] > first:
                out.append((first, points[i] - 1))
            first = points[i] + 1
            i += 1
        if first <= last:
            out.append((first, last))
    return out


class ReorderBuffer:
    """Puts newly received packets back into link-sequence order, holding each at most ``hold_s``.

    Link sequences are given at first transmission, so their order is the order the satellite
    sent its data in (priority, then age). After a loss or an outage, retransmissions of older
    records arrive after newer ones; the buffer holds the newer ones until the gap below them is
    repaired (NAK and retransmission take a round trip) or ``hold_s`` has passed, then releases in
    order. A record of a gap given up on is released the moment it arrives (late, never dropped).
    Feed it only new sequences (after :class:`ReceiveLedger` removed duplicates).
    """

    def __init__(self, hold_s: float, *, next_expected: int = 1) -> None:
        self.hold_s = _non_negative("hold_s", hold_s)
        self.next_expected = check_int("next_expected", next_expected, 1, MAX_LINK_SEQUENCE + 1)
        self._heap: list[tuple[int, object]] = []            # (link sequence, item), smallest first
        self._arrivals: collections.deque[tuple[float, int]] = collections.deque()   # (arrival s, sequence)
        self.counters = {"in_order": 0, "held": 0, "released_late": 0, "gaps_skipped": 0}

    def __len__(self) -> int:
        return len(self._heap)

    def held(self) -> list[int]:
        """The sequences held now, sorted."""
        return sorted(seq for seq, _ in self._heap)

    def push(self, link_sequence: int, item: object, now_s: float) -> list[object]:
        """Add one new packet; return the items now deliverable, in order."""
        seq = check_int("link_sequence", link_sequence, 1, MAX_LINK_SEQUENCE)
        if seq < self.next_expected:                        # its gap was skipped: deliver it now
            self.counters["released_late"] += 1
            return [item]
        heapq.heappush(self._heap, (seq, item))
        if seq != self.next_expected:
            self.counters["held"] += 1
            self._arrivals.append((float(now_s), seq))
        return self._drain()

    def release(self, now_s: float) -> list[object]:
        """Release every item held ``hold_s`` or longer, and all items before it, in order; the gaps
        below them are skipped (their records are delivered late if they still come)."""
        through = 0
        while self._arrivals and now_s - self._arrivals[0][0] >= self.hold_s:
            through = max(through, self._arrivals.popleft()[1])
        out: list[object] = []
        while self._heap and self._heap[0][0] <= through:
            seq, item = heapq.heappop(self._heap)
            if seq > self.next_expected:
                self.counters["gaps_skipped"] += 1
            self.next_expected = seq + 1
            self.counters["in_order"] += 1
            out.append(item)
        return out + self._drain()

    def _drain(self) -> list[object]:
        out = []
        while self._heap and self._heap[0][0] == self.next_expected:
            out.append(heapq.heappop(self._heap)[1])
            self.next_expected += 1
            self.counters["in_order"] += 1
        return out


@dataclass
class PendingCommand:
    """An uplink command awaiting its CommandAck from ``destination`` (e.g. the satellite id)."""

    destination: str
    command_id: int
    payload: bytes
    added_s: float
    first_sent_s: float | None = None
    last_sent_s: float | None = None
    attempts: int = 0


class CommandTracker:
    """Ground side of the reliable uplink: resend each command every ``retry_s`` until acknowledged.

    Commands are keyed by (destination, command_id); at most ``max_pending`` are pending.
    :meth:`due` lists what should go out now (never sent, or last sent ``retry_s`` ago) without
    changing anything; :meth:`sent` records an actual transmission (a command whose destination
    cannot be reached yet simply stays due). A command sent ``max_attempts`` times without an
    acknowledgement is given up at its next due time (returned once by :meth:`take_failed`).
    Keep the payload, not the frame: every transmission is framed afresh (new security sequence).
    """

    def __init__(self, *, retry_s: float, max_pending: int = 1024, max_attempts: int | None = None) -> None:
        self.retry_s = _non_negative("retry_s", retry_s)
        if self.retry_s == 0:
            raise LinkError("retry_s: 0.0 must be > 0")
        self.max_pending = check_int("max_pending", max_pending, 1, 2**31)
        self.max_attempts = None if max_attempts is None else check_int("max_attempts", max_attempts, 1, 2**31)
        self._pending: dict[tuple[str, int], PendingCommand] = {}
        self._failed: list[PendingCommand] = []

    def add(self, destination: str, command_id: int, payload: bytes, now_s: float = 0.0) -> PendingCommand:
        """Queue a command (due at once); LinkError if (destination, command_id) is pending or the tracker is full."""
        command_id = check_int("command_id", command_id, 0, 0xFFFF_FFFF)
        key = (destination, command_id)
        if key in self._pending:
            raise LinkError(f"command_id: {command_id} is already pending for {destination!r}")
        if len(self._pending) >= self.max_pending:
            raise LinkError(f"max_pending: {self.max_pending} commands already pending, cannot add {command_id}")
        command = self._pending[key] = PendingCommand(destination, command_id, bytes(payload), float(now_s))
        return command

    def due(self, now_s: float) -> list[PendingCommand]:
        """Commands to send now, oldest first (read only, except giving up exhausted ones)."""
        out = []
        for key, command in list(self._pending.items()):
            if command.last_sent_s is not None and now_s - command.last_sent_s < self.retry_s:
                continue
            if self.max_attempts is not None and command.attempts >= self.max_attempts:
                del self._pending[key]
                self._failed.append(command)
                continue
            out.append(command)
        return out

    def sent(self, command: PendingCommand, now_s: float) -> None:
        """Record that ``command`` was transmitted at ``now_s``."""
        if command.first_sent_s is None:
            command.first_sent_s = now_s
        command.last_sent_s = now_s
        command.attempts += 1

    def acknowledge(self, destination: str, command_id: int) -> PendingCommand | None:
        """Remove an acknowledged command; returns it, or None if it was not pending (a repeated ack)."""
        return self._pending.pop((destination, command_id), None)

    def take_failed(self) -> list[PendingCommand]:
        """Commands given up since the last call (max_attempts sends, no acknowledgement)."""
        failed, self._failed = self._failed, []
        return failed

    def __contains__(self, key: object) -> bool:
        """``(destination, command_id) in tracker``."""
        return key in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    @property
    def pending(self) -> list[PendingCommand]:
        return list(self._pending.values())
