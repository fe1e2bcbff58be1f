"""ARQ helpers: receive ledger (duplicates, cumulative, ranges, NAK timing, bounds), token bucket,
uplink command tracker."""

import random

import pytest

from sbamti.link.arq import CommandTracker, ReceiveLedger
from sbamti.link.errors import LinkError


def _ledger(sequence, **kwargs):
    ledger = ReceiveLedger(**kwargs)
    results = [ledger.receive(s) for s in sequence]
    return ledger, results


def test_in_order_reception_advances_cumulative():
    ledger, results = _ledger([1, 2, 3])
    assert results == [True] * 3
    assert (ledger.cumulative, ledger.highest) == (3, 3)
    assert ledger.missing_ranges() == [] and ledger.received_ranges() == []
    assert ledger.ack_content() == (3, [])


def test_gaps_duplicates_and_ranges():
    ledger, results = _ledger([1, 2, 5, 6, 9, 5, 2, 7])
    assert results == [True, True, True, True, True, False, False, True]
    assert ledger.cumulative == 2 and ledger.highest == 9
    assert ledger.missing_ranges() == [(3, 4), (8, 8)]
    assert ledger.received_ranges() == [(5, 7), (9, 9)]
    assert ledger.ack_content(1) == (2, [(5, 7)])       # capped at one range
    assert ledger.received_count == 6
    assert ledger.receive(4) and ledger.missing_ranges() == [(3, 3), (8, 8)]
    assert ledger.receive(3) and ledger.cumulative == 7  # the gap closed: cumulative jumps to 7
    assert ledger.receive(8) and ledger.cumulative == 9 and ledger.gap_count == 0
    assert ledger.counters == {"received": 9, "duplicates": 2, "abandoned": 0, "gaps_overflowed": 0}


def test_filling_the_middle_of_a_gap_splits_it():
    ledger, _ = _ledger([1, 10])
    assert ledger.receive(5)
    assert ledger.missing_ranges() == [(2, 4), (6, 9)]
    assert ledger.received_ranges() == [(5, 5), (10, 10)]
    assert not ledger.receive(5) and not ledger.receive(1)


def test_matches_a_set_model_under_random_reception():
    rng = random.Random(7)
    ledger = ReceiveLedger(max_gaps=10**6)
    seen = set()
    for _ in range(5000):
        seq = rng.randint(1, 3000)
        assert ledger.receive(seq) == (seq not in seen)
        seen.add(seq)
    cumulative = 0
    while cumulative + 1 in seen:
        cumulative += 1
    assert ledger.cumulative == cumulative and ledger.highest == max(seen)
    missing = [(a, b) for a, b in ledger.missing_ranges()]
    expanded = {s for a, b in missing for s in range(a, b + 1)}
    assert expanded == set(range(1, max(seen) + 1)) - seen
    received = {s for a, b in ledger.received_ranges() for s in range(a, b + 1)}
    assert received == {s for s in seen if s > cumulative}


def test_nak_holdoff_repeat_and_split_history():
    ledger = ReceiveLedger()
    ledger.receive(1, now_s=0.0)
    ledger.receive(5, now_s=10.0)       # gap 2..4 born at 10.0
    ledger.receive(9, now_s=10.5)       # gap 6..8 born at 10.5
    kwargs = dict(holdoff_s=0.25, repeat_s=2.0, max_ranges=8)
    assert ledger.gaps_to_nak(10.125, **kwargs) == []                  # younger than the holdoff
    assert ledger.gaps_to_nak(10.25, **kwargs) == [(2, 4)]
    assert ledger.gaps_to_nak(10.75, **kwargs) == [(6, 8)]
    assert ledger.gaps_to_nak(11.0, **kwargs) == []                    # both NAKed recently
    ledger.receive(3, now_s=11.0)                                   # splits 2..4; halves keep the NAK time
    assert ledger.gaps_to_nak(12.125, **kwargs) == []
    assert ledger.gaps_to_nak(12.25, **kwargs) == [(2, 2), (4, 4)]
    assert ledger.gaps_to_nak(12.75, max_ranges=1, holdoff_s=0.25, repeat_s=2.0) == [(6, 8)]


def test_abandon_stale_gaps_advances_cumulative():
    ledger = ReceiveLedger()
    for seq, t in ((1, 0.0), (4, 1.0), (8, 5.0)):
        ledger.receive(seq, now_s=t)
    for t in (2.0, 4.0, 6.0):
        ledger.gaps_to_nak(t, holdoff_s=0.0, repeat_s=1.0, max_ranges=8)
    # gap 2..3: 3 NAKs; gap 5..7: 1 NAK (born at 5).
    assert ledger.abandon(now_s=6.0, max_naks=3) == [(2, 3)]
    assert ledger.cumulative == 4 and ledger.counters["abandoned"] == 2
    assert ledger.abandon(now_s=6.0, max_age_s=2.0) == []
    assert ledger.abandon(now_s=7.0, max_age_s=2.0) == [(5, 7)]
    assert ledger.cumulative == 8 and not ledger.receive(6)


def test_gap_count_is_bounded_by_abandoning_the_oldest():
    ledger, _ = _ledger([2 * k for k in range(1, 11)], max_gaps=4)  # gaps 1,3,5,...: 10 of them
    assert ledger.gap_count == 4
    assert ledger.missing_ranges() == [(13, 13), (15, 15), (17, 17), (19, 19)]
    assert ledger.cumulative == 12 and ledger.counters["abandoned"] == 6
    assert ledger.counters["gaps_overflowed"] == 6


def test_restore_and_errors():
    ledger = ReceiveLedger()
    ledger.restore(100)
    assert not ledger.receive(100) and ledger.receive(101) and ledger.cumulative == 101
    with pytest.raises(LinkError, match="link_sequence"):
        ledger.receive(0)
    with pytest.raises(LinkError, match="link_sequence"):
        ledger.receive(2**32)
    with pytest.raises(LinkError, match="holdoff_s"):
        ledger.gaps_to_nak(0.0, holdoff_s=-1.0, repeat_s=1.0, max_ranges=1)
    with pytest.raises(LinkError, match="max_gaps"):
        ReceiveLedger(max_gaps=0)


def test_command_tracker_retries_until_acknowledged():
    tracker = CommandTracker(retry_s=2.0, max_pending=2, max_attempts=3)
    tracker.add("sat-1", 7, b"cmd7", now_s=0.0)
    assert [c.command_id for c in tracker.due(0.0)] == [7]
    assert [c.command_id for c in tracker.due(0.5)] == [7]       # not sent (no link yet): still due
    tracker.sent(tracker.due(1.0)[0], 1.0)
    assert tracker.due(2.9) == []
    tracker.add("sat-2", 7, b"other satellite, same id")
    due = tracker.due(3.0)
    assert [(c.destination, c.command_id, c.attempts) for c in due] == [("sat-1", 7, 1), ("sat-2", 7, 0)]
    for c in due:
        tracker.sent(c, 3.0)
    with pytest.raises(LinkError, match="max_pending"):
        tracker.add("sat-1", 9, b"x")
    with pytest.raises(LinkError, match="command_id: 7 is already pending"):
        tracker.add("sat-1", 7, b"again")
    assert tracker.acknowledge("sat-2", 7).payload == b"other satellite, same id"
    assert tracker.acknowledge("sat-2", 7) is None and ("sat-1", 7) in tracker
    tracker.sent(tracker.due(5.0)[0], 5.0)                        # third attempt
    assert tracker.due(6.9) == [] and len(tracker) == 1
    assert tracker.due(7.0) == [] and len(tracker) == 0           # given up instead of a fourth send
    failed = tracker.take_failed()
    assert [(c.command_id, c.attempts, c.first_sent_s, c.last_sent_s) for c in failed] == [(7, 3, 1.0, 5.0)]
    assert tracker.take_failed() == []


# ---------------------------------------------------------------- ReorderBuffer
from sbamti.link.arq import ReorderBuffer  # noqa: E402


def _shuffled(seed: int) -> list[int]:
    """1..500 shuffled within windows of 20 (as retransmissions after an outage arrive)."""
    rng = random.Random(seed)
    order = list(range(1, 501))
    for start in range(0, 500, 20):
        window = order[start:start + 20]
        rng.shuffle(window)
        order[start:start + 20] = window
    return order


def test_reorder_buffer_delivers_in_sequence_order_once_gaps_fill():
    buf = ReorderBuffer(hold_s=1.0)
    assert buf.push(1, "a", 0.0) == ["a"]
    assert buf.push(3, "c", 0.1) == [] and buf.push(4, "d", 0.2) == []      # 2 missing: held
    assert buf.release(0.5) == []                                           # not held long enough
    assert buf.push(2, "b", 0.6) == ["b", "c", "d"]                         # repaired: all in order
    assert buf.next_expected == 5 and len(buf) == 0
    assert buf.counters["held"] == 2 and buf.counters["gaps_skipped"] == 0


def test_reorder_buffer_gives_up_on_a_gap_after_the_hold_and_delivers_a_late_record_at_once():
    buf = ReorderBuffer(hold_s=1.0, next_expected=10)
    assert buf.push(12, "m", 0.0) == [] and buf.push(11, "l", 0.5) == []     # 10 missing
    assert buf.push(15, "p", 0.7) == []                                      # 13, 14 missing too
    # At 1.0 the record that waited longest (12) expired: release through 12, skipping 10.
    assert buf.release(1.0) == ["l", "m"] and buf.next_expected == 13
    assert buf.release(1.69) == []                                           # 15 waits its own hold
    assert buf.push(10, "j", 1.7) == ["j"]                                   # late, never dropped
    assert buf.release(1.7) == ["p"] and buf.next_expected == 16
    assert buf.counters["gaps_skipped"] == 2 and buf.counters["released_late"] == 1


def test_reorder_buffer_with_zero_hold_is_arrival_order_after_the_first_release():
    buf = ReorderBuffer(hold_s=0.0)
    assert buf.push(2, "b", 0.0) == []
    assert buf.release(0.0) == ["b"]
    assert buf.push(1, "a", 0.0) == ["a"]


def test_reorder_buffer_recovers_order_of_a_shuffled_stream():
    order = _shuffled(5)
    assert order != sorted(order)
    buf = ReorderBuffer(hold_s=10.0)
    out = []
    for i, seq in enumerate(order):
        out += buf.push(seq, seq, i * 0.001)
    assert out == list(range(1, 501)) and len(buf) == 0


def test_reorder_buffer_rejects_bad_sequences():
    with pytest.raises(LinkError, match="link_sequence: 0 outside"):
        ReorderBuffer(1.0).push(0, "x", 0.0)
    with pytest.raises(LinkError, match="hold_s: -1.0"):
        ReorderBuffer(-1.0)


def test_ack_content_withholds_what_the_reorder_buffer_still_holds():
    ledger = ReceiveLedger()
    for seq in (1, 2, 3, 5, 6, 7, 9, 12):
        ledger.receive(seq, 0.0)
    assert ledger.ack_content() == (3, [(5, 7), (9, 9), (12, 12)])
    assert ledger.ack_content(withheld=[5, 7, 12]) == (3, [(6, 6), (9, 9)])
    assert ledger.ack_content(withheld=[6]) == (3, [(5, 5), (7, 7), (9, 9), (12, 12)])
    assert ledger.ack_content(max_ranges=1, withheld=[5]) == (3, [(6, 7)])
