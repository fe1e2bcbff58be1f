"""RecordStore: ordering, dedupe, coalescing, eviction, ARQ bookkeeping, node state, reopen and
crash safety (a real subprocess SIGKILLed at random instants)."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from sbamti.link.errors import LinkError
from sbamti.link.state import StateFile
from sbamti.link.store import COUNTER_NAMES, RecordStore

DET, HK, ACK = 0x100, 0x101, 0x102
BIG = dict(capacity_bytes=10**9, capacity_records=10**6)


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / "store.db")


def _ids(records):
    return [r.record_id for r in records]


def _send(store, now, **kwargs):
    kwargs.setdefault("retransmit_timeout_s", 5.0)
    return store.mark_sent(store.next_to_send(now, **kwargs), now)


def _invariant(store):
    c = store.counters
    return c["records_accepted"] == (store.record_count + c["records_acknowledged"] + c["records_evicted"]
                                     + c["records_coalesced"])


def test_offer_send_acknowledge_round_trip(path):
    with RecordStore(path, **BIG) as store:
        single = store.offer(DET, 200, (10, 5), [b"abc"])
        multi = store.offer(DET, 200, (11, 0), [b"p0", b"p1", b"p2"])
        assert single.accepted and single.record_ids == (1,)
        assert multi.record_ids == (2, 3, 4)
        assert (store.record_count, store.byte_count, store.unsent_count) == (4, 9, 4)
        sent = _send(store, 100.0)
        # Sequence flags: 3 unsegmented, then 1 first, 0 continuation, 2 last.
        assert [(r.record_id, r.link_sequence, r.sequence_flags) for r in sent] == [
            (1, 1, 3), (2, 2, 1), (3, 3, 0), (4, 4, 2)]
        assert sent[0].payload == b"abc" and (sent[0].stamp_sec, sent[0].stamp_nanosec) == (10, 5)
        assert all(r.send_count == 1 and r.last_sent_wall_s == 100.0 for r in sent)
        assert store.in_flight_count == 4 and store.next_link_sequence == 5
        assert store.next_to_send(100.5, retransmit_timeout_s=5.0) == []
        # Cumulative 1 plus the range (3, 4) leave link sequence 2 (record 2) in flight.
        assert store.acknowledge(1, [(3, 4)]) == 3
        assert [(r.record_id, r.link_sequence) for r in store.records()] == [(2, 2)]
        assert (store.record_count, store.byte_count, store.in_flight_count) == (1, 2, 1)
        assert store.acknowledge(1, [(3, 4)]) == 0          # a repeated ACK deletes nothing
        c = store.counters
        assert (c["records_accepted"], c["records_acknowledged"], c["transmissions"]) == (4, 3, 4)
        assert _invariant(store)
        stats = store.stats()
        assert (stats.depth_records, stats.depth_bytes, stats.in_flight_records, stats.records_stored,
                stats.records_acknowledged, stats.next_link_sequence) == (1, 2, 1, 4, 3, 5)


def test_priority_then_fifo_order(path):
    with RecordStore(path, **BIG) as store:
        for i, prio in enumerate([50, 200, 50, 250, 200]):
            store.offer(HK if prio == 50 else DET, prio, (i, 0), [bytes([i])])
        order = store.next_to_send(0.0, retransmit_timeout_s=1.0)
        assert _ids(order) == [4, 2, 5, 1, 3]
        assert _ids(store.next_to_send(0.0, retransmit_timeout_s=1.0, max_records=2)) == [4, 2]


def test_byte_budget_stops_without_skipping(path):
    with RecordStore(path, **BIG) as store:
        for size in (100, 300, 10):
            store.offer(DET, 200, (0, 0), [b"x" * size])
        pick = store.next_to_send(0.0, retransmit_timeout_s=1.0, max_bytes=400, overhead_bytes_per_record=46)
        assert _ids(pick) == [1]                             # 146 + 346 > 400; record 3 is not skipped to
        pick = store.next_to_send(0.0, retransmit_timeout_s=1.0, max_bytes=492, overhead_bytes_per_record=46)
        assert _ids(pick) == [1, 2]
        assert store.next_to_send(0.0, retransmit_timeout_s=1.0, max_bytes=100, overhead_bytes_per_record=1) == []


def test_nak_then_timeout_retransmission_keeps_link_sequence(path):
    with RecordStore(path, **BIG) as store:
        for i in range(5):
            store.offer(DET, 200, (i, 0), [bytes([i])])
        first = _send(store, 100.0, max_records=3)              # link sequences 1..3 at t=100
        assert [r.link_sequence for r in first] == [1, 2, 3]
        store.mark_sent(store.next_to_send(101.0, retransmit_timeout_s=5.0, max_records=1), 101.0)  # seq 4 at 101
        assert store.request_retransmit([(2, 2), (40, 50)]) == 1
        # NAKed first, then unsent; nothing has timed out at t=102 (timeout 5 s).
        nxt = store.next_to_send(102.0, retransmit_timeout_s=5.0)
        assert [(r.record_id, r.link_sequence) for r in nxt] == [(2, 2), (5, None)]
        again = store.mark_sent(nxt[:1], 102.0)
        assert (again[0].link_sequence, again[0].send_count) == (2, 2)
        # At t=105.5: seqs 1 and 3 (sent at 100) are due; 2 was resent at 102 and 4 sent at 101: not yet.
        due = store.next_to_send(105.5, retransmit_timeout_s=5.0, max_in_flight=4)
        assert [r.link_sequence for r in due] == [1, 3]          # max_in_flight=4 holds record 5 back
        due = store.next_to_send(106.0, retransmit_timeout_s=5.0)
        assert [r.link_sequence for r in due] == [1, 3, 4, None]
        # A wall clock stepped back by more than the timeout: everything in flight is due.
        back = store.next_to_send(50.0, retransmit_timeout_s=5.0)
        assert sorted(r.link_sequence for r in back if r.link_sequence) == [1, 2, 3, 4]
        c = store.counters
        assert (c["transmissions"], c["retransmissions"], c["retransmit_requests"]) == (4, 1, 1)


def test_dedupe_survives_delivery_and_reopen_and_is_bounded(path):
    with RecordStore(path, dedupe_memory=3, **BIG) as store:
        assert store.offer(DET, 200, (0, 0), [b"a"], dedupe_key="det:1").accepted
        _send(store, 1.0)
        store.acknowledge(1)
        assert store.record_count == 0
        again = store.offer(DET, 200, (0, 0), [b"a"], dedupe_key="det:1")
        assert again.duplicate and not again.accepted and store.record_count == 0
    with RecordStore(path, dedupe_memory=3, **BIG) as store:
        assert store.offer(DET, 200, (0, 0), [b"a"], dedupe_key="det:1").duplicate
        for k in (2, 3, 4, 5):
            assert store.offer(DET, 200, (0, 0), [b"a"], dedupe_key=f"det:{k}").accepted
        # Only the newest 3 keys (3, 4, 5) are remembered.
        assert [store.offer(DET, 200, (0, 0), [b"b"], dedupe_key=f"det:{k}").duplicate
                for k in (5, 4, 3)] == [True, True, True]
        assert store.offer(DET, 200, (0, 0), [b"b"], dedupe_key="det:2").accepted
        assert store.counters["offers_duplicate"] == 1 + 1 + 3


def test_coalesce_replaces_only_unsent(path):
    with RecordStore(path, **BIG) as store:
        store.offer(HK, 50, (1, 0), [b"hk1"], coalesce_key="hk:node_a")
        other = store.offer(HK, 50, (1, 0), [b"other"], coalesce_key="hk:node_b")
        second = store.offer(HK, 50, (2, 0), [b"hk2"], coalesce_key="hk:node_a")
        assert second.coalesced == 1
        assert [r.payload for r in store.records()] == [b"other", b"hk2"]
        _send(store, 0.0)                                     # both in flight now
        third = store.offer(HK, 50, (3, 0), [b"hk3"], coalesce_key="hk:node_a")
        assert third.coalesced == 0                           # the in-flight hk2 is still delivered
        assert [r.payload for r in store.records()] == [b"other", b"hk2", b"hk3"]
        assert other.record_ids == (2,) and store.counters["records_coalesced"] == 1
        assert _invariant(store)


def test_eviction_lowest_priority_oldest_first(path):
    with RecordStore(path, capacity_bytes=10**6, capacity_records=4) as store:
        for i, (apid, prio) in enumerate([(HK, 50), (HK, 50), (DET, 200), (DET, 200)]):
            store.offer(apid, prio, (i, 0), [bytes([i])])
        result = store.offer(DET, 200, (9, 0), [b"new"])
        assert result.accepted and result.evicted == ((HK, 1),)
        assert _ids(store.records()) == [2, 3, 4, 5]
        low = store.offer(HK, 10, (9, 0), [b"low"])           # strictly the lowest: dropped itself
        assert low.rejected_full and not low.accepted and low.dropped_records == 1
        assert _ids(store.records()) == [2, 3, 4, 5]
        equal = store.offer(HK, 50, (9, 0), [b"eq"])          # equal priority: the older one goes
        assert equal.accepted and equal.evicted == ((HK, 1),) and _ids(store.records()) == [3, 4, 5, 6]
        # A 3-part offer at priority 50 could only evict record 6 (one): atomically rejected.
        multi = store.offer(HK, 50, (9, 0), [b"a", b"b", b"c"])
        assert multi.rejected_full and multi.rejected_records == 3 and _ids(store.records()) == [3, 4, 5, 6]
        assert store.dropped_by_apid == {HK: 1 + 1 + 1 + 3}
        c = store.counters
        assert (c["records_evicted"], c["records_rejected"], c["offers_rejected"]) == (2, 4, 2)
        assert _invariant(store)


def test_eviction_by_bytes_never_touches_in_flight_records(path):
    with RecordStore(path, capacity_bytes=1000, capacity_records=100) as store:
        store.offer(DET, 200, (0, 0), [b"x" * 400])              # 1
        store.offer(HK, 50, (0, 0), [b"y" * 300])                # 2
        store.offer(DET, 200, (0, 0), [b"z" * 200])              # 3
        _send(store, 0.0, max_records=1)                         # record 1 in flight
        # 500 more octets (400 over): record 2 (unsent, prio 50), then record 3 (unsent, prio 200)
        # go, although 1 is older than 3: it is in flight.
        result = store.offer(DET, 200, (1, 0), [b"n" * 500])
        assert result.accepted and result.evicted == ((DET, 1), (HK, 1))
        assert _ids(store.records()) == [1, 4] and store.byte_count == 400 + 500
        # 500 more again: the unsent record 4 goes, the in-flight record 1 stays.
        result = store.offer(DET, 200, (2, 0), [b"m" * 500])
        assert result.evicted == ((DET, 1),) and _ids(store.records()) == [1, 5]
        _send(store, 0.0)
        # Nothing unsent is left: the in-flight records stay and the offer is the one dropped.
        result = store.offer(DET, 200, (3, 0), [b"k" * 200])
        assert result.rejected_full and not result.accepted and result.evicted == ()
        assert _ids(store.records()) == [1, 5] and store.in_flight_count == 2 and store.byte_count == 900
        big = store.offer(DET, 255, (0, 0), [b"q" * 1001])
        assert big.rejected_too_large and store.dropped_by_apid == {DET: 2 + 1 + 1, HK: 1}
        assert _invariant(store)


def test_set_priority_applies_to_queue_and_later_offers_and_persists(path):
    with RecordStore(path, **BIG) as store:
        store.offer(HK, 50, (0, 0), [b"h"])
        store.offer(DET, 200, (0, 0), [b"d"])
        assert store.set_priority(HK, 240) == 1
        store.offer(HK, 50, (1, 0), [b"h2"])                     # the override wins over the default 50
        assert [(r.record_id, r.priority) for r in store.next_to_send(0.0, retransmit_timeout_s=1.0)] == [
            (1, 240), (3, 240), (2, 200)]
    with RecordStore(path, **BIG) as store:
        assert store.priorities() == {HK: 240}
        assert store.offer(HK, 50, (2, 0), [b"h3"]).accepted
        assert store.records()[-1].priority == 240


def test_node_state_reservations_and_commands(path):
    with RecordStore(path, command_memory=2, **BIG) as store:
        assert store.get_state("uplink_replay_highest") is None
        store.put_states({"uplink_replay_highest": 77, "note": "x"})
        assert store.reserve("next_security_sequence", 1024) == 1
        assert store.reserve("next_security_sequence", 1024) == 1025
        store.remember_command(7, 0, "ok")
        store.remember_command(8, 1, "no such area")
        assert store.command_result(8) == (1, "no such area")
        store.remember_command(9, 0, "")
        assert store.command_result(7) is None                   # only the newest 2 are kept
    with RecordStore(path, **BIG) as store:
        assert store.get_state("uplink_replay_highest") == 77 and store.get_state("note") == "x"
        assert store.reserve("next_security_sequence", 1024) == 2049
        assert store.command_result(9) == (0, "") and store.command_result(10) is None


def test_state_file_persists_reserves_and_is_exclusive(tmp_path):
    path = str(tmp_path / "ground.sqlite")
    with StateFile(path) as state:
        assert state.get_state("cumulative:7", 0) == 0
        state.put_state("cumulative:7", 1234)
        state.put_states({"next_command_id": 5, "blob": b"\x00\x01", "ratio": 0.5})
        assert state.reserve("uplink_security:7", 1024) == 1
        with pytest.raises(LinkError, match="state bad: expected int"):
            state.put_state("bad", [1])
    with StateFile(path) as state:
        assert state.state_items() == {"cumulative:7": 1234, "next_command_id": 5, "blob": b"\x00\x01", "ratio": 0.5,
                                 "uplink_security:7": 1025}
        assert state.reserve("uplink_security:7", 1024) == 1025
        code = f"from sbamti.link.state import StateFile\nStateFile({path!r})"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "in use by another process" in result.stderr
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(LinkError, match="garbage.sqlite"):
        RecordStore(str(garbage), **BIG)


def test_reopen_after_clean_close_keeps_everything_and_never_reuses_ids(path):
    with RecordStore(path, **BIG) as store:
        for i in range(6):
            store.offer(DET if i % 2 else HK, 200 if i % 2 else 50, (i, 0), [bytes([i]) * (i + 1)])
        _send(store, 10.0, max_records=4)
        store.acknowledge(0, [(4, 4)])
        before = (store.records(), store.counters, store.dropped_by_apid, store.next_link_sequence,
                  store.record_count, store.byte_count, store.in_flight_count)
    with RecordStore(path, **BIG) as store:
        after = (store.records(), store.counters, store.dropped_by_apid, store.next_link_sequence,
                 store.record_count, store.byte_count, store.in_flight_count)
        assert after == before
        store.acknowledge(3)                                   # delete everything in flight
        ids_left = _ids(store.records())
        assert store.offer(DET, 200, (0, 0), [b"n"]).record_ids == (7,)
        assert max(ids_left) < 7
        assert [r.link_sequence for r in _send(store, 20.0)] == [5, 6, 7]
        store.acknowledge(7)
        assert store.record_count == 0
    with RecordStore(path, **BIG) as store:                    # the highest id was deleted: still not reused
        assert store.offer(DET, 200, (0, 0), [b"n"]).record_ids == (8,)
        assert store.next_link_sequence == 8


def test_second_opener_is_refused(path):
    with RecordStore(path, **BIG) as store:
        store.offer(DET, 200, (0, 0), [b"a"])
        code = f"from sbamti.link.store import RecordStore\nRecordStore({path!r}, capacity_bytes=10, capacity_records=1)"
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert result.returncode != 0 and "in use by another process" in result.stderr


@pytest.mark.parametrize("call, field", [
    (lambda s: s.offer(0x800, 1, (0, 0), [b"a"]), "apid"),
    (lambda s: s.offer(DET, 256, (0, 0), [b"a"]), "priority"),
    (lambda s: s.offer(DET, 1, (0, 1_000_000_000), [b"a"]), "stamp nanosec"),
    (lambda s: s.offer(DET, 1, (0, 0), []), "payloads"),
    (lambda s: s.offer(DET, 1, (0, 0), b"raw"), "payloads"),
    (lambda s: s.offer(DET, 1, (0, 0), ["text"]), "payloads[0]"),
    (lambda s: s.acknowledge(-1), "cumulative"),
    (lambda s: s.acknowledge(0, [(5, 4)]), "ranges"),
    (lambda s: s.request_retransmit([(1,)]), "ranges"),
    (lambda s: s.next_to_send(0.0, retransmit_timeout_s=0.0), "retransmit_timeout_s"),
    (lambda s: s.set_priority(DET, -1), "priority"),
])
def test_errors_name_the_field(path, call, field):
    with RecordStore(path, **BIG) as store:
        with pytest.raises(LinkError, match=field.replace("[", r"\[").replace("]", r"\]")):
            call(store)
    with pytest.raises(LinkError, match="capacity_records"):
        RecordStore(path, capacity_bytes=1, capacity_records=0)


# ---------------------------------------------------------------------------- kill -9

CHILD = textwrap.dedent("""
    import random, sys, time
    from sbamti.link.store import RecordStore
    path, log_path, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rng = random.Random(seed)
    log = open(log_path, "a", buffering=1)
    store = RecordStore(path, capacity_bytes=10**9, capacity_records=10**6)
    printed_links = []
    log.write("READY\\n")
    i = 0
    while True:
        i += 1
        if i % 7 == 0:
            log.write(f"h {i}\\n")
            r = store.offer(0x101, 50, (i, 0), [b"hk" * rng.randint(1, 50)], coalesce_key="hk")
            log.write(f"H {i} {' '.join(map(str, r.record_ids))}\\n")
        key = f"det:{i}"
        r = store.offer(0x100, rng.choice((200, 150)), (i, 0),
                        [bytes([i % 256]) * rng.randint(1, 2000) for _ in range(rng.randint(1, 3))],
                        dedupe_key=key)
        if r.accepted:
            log.write(f"A {key} {' '.join(map(str, r.record_ids))}\\n")
        else:
            log.write(f"D {key}\\n")
        if i % 2 == 0:
            batch = store.next_to_send(time.time(), retransmit_timeout_s=0.02, max_records=rng.randint(1, 6))
            for rec in store.mark_sent(batch, time.time()):
                log.write(f"S {rec.record_id} {rec.link_sequence}\\n")
                printed_links.append(rec.link_sequence)
        if i % 5 == 0 and printed_links:
            cum = rng.choice(printed_links)
            log.write(f"k {cum}\\n")
            store.acknowledge(cum)
        if i % 11 == 0 and printed_links:
            first = rng.choice(printed_links)
            store.request_retransmit([(first, first + 3)])
        if i % 13 == 0:
            log.write(f"R {store.reserve('sec', 1024)}\\n")
""")


def _parse(log_text):
    lines = log_text.split("\n")[:-1]          # the last piece has no newline: possibly torn
    return [line.split() for line in lines]


def test_survives_kill_9_at_random_instants(tmp_path):
    path = str(tmp_path / "crash.db")
    log_path = str(tmp_path / "log.txt")
    rng = random.Random(20261125)
    accepted = {}            # record_id -> (run, kind, key)
    link_of = {}             # record_id -> link sequence as printed (or found stored after a kill)
    used_links = set()
    ack_intents = []         # cumulative values possibly acknowledged
    hk_intents = []          # (run, i) of coalescing offers (an older unsent hk may be gone)
    accepted_keys = {}       # key -> run
    reservations = []
    max_link_before_run = 0
    for run in range(6):
        offset = os.path.getsize(log_path) if os.path.exists(log_path) else 0
        child = subprocess.Popen([sys.executable, "-c", CHILD, path, log_path, str(rng.randrange(10**6))])
        deadline = time.monotonic() + 30
        while True:
            text = open(log_path).read()[offset:] if os.path.exists(log_path) else ""
            if "READY" in text:
                break
            assert child.poll() is None and time.monotonic() < deadline, "child did not start"
            time.sleep(0.01)
        time.sleep(rng.uniform(0.2, 1.2))
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        with open(log_path) as f:
            f.seek(offset)
            events = _parse(f.read())
        seen_this_run = set()
        for ev in events:
            kind = ev[0]
            if kind in ("A", "H"):
                for rid in map(int, ev[2:]):
                    assert rid not in accepted, f"record_id {rid} reused"
                    accepted[rid] = (run, kind, ev[1])
                if kind == "A":
                    assert ev[1] not in accepted_keys, f"{ev[1]} accepted twice"
                    accepted_keys[ev[1]] = run
            elif kind == "D":
                seen_this_run.add(ev[1])
            elif kind == "S":
                rid, link = int(ev[1]), int(ev[2])
                if rid in link_of:
                    assert link_of[rid] == link, f"record {rid} changed link sequence"
                else:
                    # A first transmission: a fresh link sequence, never one used before.
                    assert link > max_link_before_run and link not in used_links, link
                    link_of[rid] = link
                    used_links.add(link)
            elif kind == "k":
                ack_intents.append(int(ev[1]))
            elif kind == "h":
                hk_intents.append((run, int(ev[1])))
            elif kind == "R":
                reservations.append(int(ev[1]))
        # Keys accepted in earlier runs come back as duplicates (each run restarts at det:1).
        earlier = {k for k, r in accepted_keys.items() if r < run}
        reoffered = {ev[1] for ev in events if ev[0] in ("A", "D")} & earlier
        assert all(k in seen_this_run for k in reoffered)
        assert len(reoffered) > 0 or run == 0
        # Reopen and check every invariant.
        with RecordStore(path, **BIG) as store:
            stored = {r.record_id: r for r in store.records()}
            max_ack = max(ack_intents, default=0)
            for rid, (run_accepted, kind, tag) in accepted.items():
                if rid in stored:
                    rec = stored[rid]
                    if rid in link_of:
                        assert rec.link_sequence == link_of[rid]
                    elif rec.link_sequence is not None:   # sent just before the kill, not logged
                        assert rec.link_sequence > max_link_before_run and rec.link_sequence not in used_links
                        link_of[rid] = rec.link_sequence
                        used_links.add(rec.link_sequence)
                    continue
                # Gone: only an acknowledgement or (housekeeping) coalescing may have removed it.
                acked = rid in link_of and link_of[rid] <= max_ack
                coalesced = kind == "H" and any(h > (run_accepted, int(tag)) for h in hk_intents)
                assert acked or coalesced, f"accepted record {rid} ({kind} {tag}) lost"
            links = [r.link_sequence for r in stored.values() if r.link_sequence is not None]
            assert len(links) == len(set(links))
            assert all(link < store.next_link_sequence for link in links)
            assert max(link_of.values(), default=0) < store.next_link_sequence
            c = store.counters
            assert set(c) == set(COUNTER_NAMES)
            assert _invariant(store)
            assert c["transmissions"] == store.next_link_sequence - 1
            assert c["records_evicted"] == 0 and c["records_rejected"] == 0
            assert store.record_count == len(stored)
            assert store.byte_count == sum(len(r.payload) for r in stored.values())
            assert store.in_flight_count == len(links)
            max_link_before_run = store.next_link_sequence - 1
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
    assert len(accepted_keys) > 50 and len(link_of) > 20 and len(ack_intents) > 5
    assert reservations == sorted(set(reservations))
    assert all(b - a >= 1024 for a, b in zip(reservations, reservations[1:]))
    # Finally deliver everything: the store empties and the books balance.
    with RecordStore(path, **BIG) as store:
        while store.record_count:
            sent = _send(store, time.time() + 1e6, max_records=1000)
            store.acknowledge(max(r.link_sequence for r in sent))
        assert store.in_flight_count == 0 and store.byte_count == 0 and _invariant(store)


def test_sequence_reservation_never_hands_out_a_number_twice_across_restarts(path):
    from sbamti.link.state import SequenceReservation
    with StateFile(path) as state:
        seq = SequenceReservation(state, "security", block=4)
        assert seq.first == 1
        seq.cover(1, 4)                                  # 1..4: inside the first block, no write
        assert state.get_state("security") == 5
        seq.cover(4, 3)                                  # 4..6 crosses into the next block
        assert state.get_state("security") == 9
    with StateFile(path) as state:                       # a restart (or crash) after using up to 6
        again = SequenceReservation(state, "security", block=4)
        assert again.first == 9                          # past everything ever reserved
