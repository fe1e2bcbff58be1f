"""Persistent store-and-forward queue of the downlink (sqlite3, survives kill -9).

The onboard ``downlink_tx`` node offers every reliable packet payload to a :class:`RecordStore`
and transmits from it; a record is forgotten only when the ground acknowledges its link
sequence. The store is one sqlite3 file in WAL mode with ``synchronous=NORMAL``: every committed
transaction survives an application crash (kill -9 at any instant), which is the requirement.
Surviving a power loss or kernel crash as well would need ``synchronous=FULL`` (an fsync per
commit, several times slower). Each public mutating call is one transaction.

Ordering: priority 0..255, higher first; within a priority, oldest record (``record_id``) first.
Link sequence numbers (u32, from 1) are assigned at a record's FIRST transmission by
:meth:`RecordStore.mark_sent`, which commits before returning (write-ahead): after a crash the
same record is retransmitted with the same link sequence, so the ground can de-duplicate.
``record_id`` values and link sequences are never reused.

The store also keeps the node's small persistent state: a key/value table (security sequence
reservations, replay-window highest value), the results of executed commands (so a retransmitted
command is answered but not executed twice) and per-APID priority overrides. Pure Python, no ROS.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sbamti.link.errors import LinkError, check_int
from sbamti.link.state import KeyValueState

__all__ = ["COUNTER_NAMES", "OfferResult", "Record", "RecordStore", "StoreStats"]

SCHEMA_VERSION = 1
MAX_APID = 0x7FF
MAX_LINK_SEQUENCE = 0xFFFF_FFFF
# CCSDS sequence flags (values of sbamti.link.packets.SequenceFlags; plain ints here).
_CONTINUATION, _FIRST, _LAST, _UNSEGMENTED = 0, 1, 2, 3

#: Persistent counters (all start at 0). Invariant, checked by the tests:
#: records_accepted == records stored + records_acknowledged + records_evicted + records_coalesced.
COUNTER_NAMES = (
    "offers_accepted",          # offers stored (all parts)
    "offers_duplicate",         # offers ignored because their dedupe_key was accepted before
    "offers_rejected",          # offers dropped: lowest priority of a full store, or larger than the capacity
    "records_accepted",         # records (parts) stored
    "records_rejected",         # parts of rejected offers
    "records_evicted",          # stored records dropped to make room (unsent or in flight)
    "records_coalesced",        # unsent records replaced by a newer offer with the same coalesce_key
    "records_acknowledged",     # records deleted by an acknowledgement
    "transmissions",            # first transmissions (a link sequence was assigned)
    "retransmissions",          # later transmissions of a record
    "retransmit_requests",      # records flagged by request_retransmit (NAK)
)

_RECORD_COLUMNS = ("record_id, apid, priority, stamp_sec, stamp_nanosec, sequence_flags, payload, "
                   "link_sequence, send_count, last_sent_wall_s")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    record_id INTEGER PRIMARY KEY AUTOINCREMENT,
    apid INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    stamp_sec INTEGER NOT NULL,
    stamp_nanosec INTEGER NOT NULL,
    sequence_flags INTEGER NOT NULL,
    size_bytes INTEGER NOT NULL,
    payload BLOB NOT NULL,
    coalesce_key TEXT,
    link_sequence INTEGER,
    send_count INTEGER NOT NULL DEFAULT 0,
    last_sent_wall_s REAL,
    retransmit INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_unsent ON records(priority DESC, record_id) WHERE link_sequence IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS records_link ON records(link_sequence) WHERE link_sequence IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_sent_time ON records(last_sent_wall_s, link_sequence) WHERE link_sequence IS NOT NULL;
CREATE INDEX IF NOT EXISTS records_nak ON records(link_sequence) WHERE retransmit = 1;
CREATE INDEX IF NOT EXISTS records_coalesce ON records(coalesce_key)
    WHERE coalesce_key IS NOT NULL AND link_sequence IS NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dropped (apid INTEGER PRIMARY KEY, records INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS priorities (apid INTEGER PRIMARY KEY, priority INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dedupe (seq INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS commands (seq INTEGER PRIMARY KEY, command_id INTEGER NOT NULL UNIQUE,
                                     status INTEGER NOT NULL, message TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Record:
    """One stored payload, as handed to the sender.

    ``link_sequence`` is None until the first transmission; ``last_sent_wall_s`` is the wall
    time (``time.time()``) of the latest transmission, None before the first.
    """

    record_id: int
    apid: int
    priority: int
    stamp_sec: int
    stamp_nanosec: int
    sequence_flags: int
    payload: bytes
    link_sequence: int | None
    send_count: int
    last_sent_wall_s: float | None

    @property
    def size_bytes(self) -> int:
        return len(self.payload)


@dataclass(frozen=True, slots=True)
class OfferResult:
    """Outcome of :meth:`RecordStore.offer`.

    accepted: all parts stored (``record_ids`` in part order). duplicate: ignored, the
    dedupe_key was accepted before. rejected_full: dropped because the store is full and the
    offer has the lowest priority (nothing evictable at or below it). rejected_too_large: the
    offer alone exceeds a capacity; rejected_records is then the number of its parts.
    evicted: (apid, records) dropped to make room, by APID. coalesced: older unsent records
    replaced through ``coalesce_key``.
    """

    accepted: bool
    record_ids: tuple[int, ...] = ()
    duplicate: bool = False
    rejected_full: bool = False
    rejected_too_large: bool = False
    rejected_records: int = 0
    evicted: tuple[tuple[int, int], ...] = ()
    coalesced: int = 0

    @property
    def dropped_records(self) -> int:
        """Records lost because of this offer: evicted ones, or the offer's own parts if rejected."""
        return self.rejected_records + sum(n for _, n in self.evicted)


@dataclass(frozen=True)
class StoreStats:
    """Snapshot of :meth:`RecordStore.stats`.

    depth_records / depth_bytes: records (and payload octets) stored, unsent or in flight.
    records_stored: records accepted since the store was created; dropped_by_apid: records
    evicted or rejected when full, per APID; counters: every persistent counter.
    """

    depth_records: int
    depth_bytes: int
    in_flight_records: int
    records_stored: int
    records_acknowledged: int
    dropped_by_apid: dict[int, int]
    counters: dict[str, int]
    next_link_sequence: int


@dataclass
class _Delta:
    """In-memory mirror changes of one transaction, applied only after it commits."""

    records: int = 0
    bytes: int = 0
    in_flight: int = 0
    counters: dict[str, int] = field(default_factory=dict)
    dropped: dict[int, int] = field(default_factory=dict)
    next_link_sequence: int | None = None
    priorities: dict[int, int] = field(default_factory=dict)

    def count(self, name: str, n: int = 1) -> None:
        if n:
            self.counters[name] = self.counters.get(name, 0) + n

    def drop(self, apid: int, n: int) -> None:
        if n:
            self.dropped[apid] = self.dropped.get(apid, 0) + n


def _ranges(field_name: str, ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    checked = []
    for pair in ranges:
        try:
            first, last = pair
        except (TypeError, ValueError):
            raise LinkError(f"{field_name}: expected (first, last) pairs, received {pair!r}") from None
        first = check_int(f"{field_name} first", first, 0, MAX_LINK_SEQUENCE)
        last = check_int(f"{field_name} last", last, 0, MAX_LINK_SEQUENCE)
        if first > last:
            raise LinkError(f"{field_name}: range ({first}, {last}) has first > last")
        checked.append((first, last))
    return checked


def _sequence_flags(part: int, parts: int) -> int:
    if parts == 1:
        return _UNSEGMENTED
    if part == 0:
        return _FIRST
    return _LAST if part == parts - 1 else _CONTINUATION


class RecordStore(KeyValueState):
    """Priority store-and-forward queue of downlink records in one sqlite3 file.

    Parameters
    ----------
    path : sqlite3 file (created if missing; ``":memory:"`` for a throw-away store). Opened in
        exclusive locking mode, so a second process opening the same file gets a LinkError.
    capacity_bytes : bound on the summed payload octets of stored records (sent or not).
    capacity_records : bound on the number of stored records.
    dedupe_memory : how many of the newest accepted ``dedupe_key`` values are remembered.
    command_memory : how many of the newest executed command results are remembered.

    Not re-entrant across processes; safe to call from several threads of one process (a lock
    serialises the calls).
    """

    def __init__(self, path: str, *, capacity_bytes: int, capacity_records: int,
                 dedupe_memory: int = 1_000_000, command_memory: int = 100_000) -> None:
        self.path = str(path)
        self.capacity_bytes = check_int("capacity_bytes", capacity_bytes, 1, 2**62)
        self.capacity_records = check_int("capacity_records", capacity_records, 1, 2**62)
        self.dedupe_memory = check_int("dedupe_memory", dedupe_memory, 0, 2**62)
        self.command_memory = check_int("command_memory", command_memory, 0, 2**62)
        super().__init__(self.path, "a record store")
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    # ------------------------------------------------------------------ set-up
    def _open(self) -> None:
        db = self._db
        assert db is not None
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            version = db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None:
                db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                db.execute("INSERT INTO meta VALUES ('next_link_sequence', 1)")
            elif version[0] != SCHEMA_VERSION:  # (a LinkError here closes the file in __init__)
                raise LinkError(f"path: {self.path!r} has schema_version {version[0]}, "
                                f"this code reads {SCHEMA_VERSION}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._records, self._bytes = db.execute(
            "SELECT COUNT(*), COALESCE(SUM(size_bytes), 0) FROM records").fetchone()
        self._in_flight = db.execute(
            "SELECT COUNT(*) FROM records WHERE link_sequence IS NOT NULL").fetchone()[0]
        self._next_link_sequence = db.execute(
            "SELECT value FROM meta WHERE key = 'next_link_sequence'").fetchone()[0]
        self._counters = dict.fromkeys(COUNTER_NAMES, 0)
        self._counters.update(db.execute("SELECT name, value FROM counters"))
        self._dropped = dict(db.execute("SELECT apid, records FROM dropped"))
        self._priorities = dict(db.execute("SELECT apid, priority FROM priorities"))

    @contextmanager
    def _transaction(self) -> Iterator[tuple[sqlite3.Connection, _Delta]]:
        with self._lock:
            db = self._db
            if db is None:
                raise LinkError(f"path: record store {self.path!r} is closed")
            delta = _Delta()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db, delta
                self._write_counters(db, delta)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            self._apply(delta)

    @staticmethod
    def _write_counters(db: sqlite3.Connection, delta: _Delta) -> None:
        if delta.counters:
            db.executemany("INSERT INTO counters VALUES (?, ?) "
                           "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
                           delta.counters.items())
        if delta.dropped:
            db.executemany("INSERT INTO dropped VALUES (?, ?) "
                           "ON CONFLICT(apid) DO UPDATE SET records = records + excluded.records",
                           delta.dropped.items())
        if delta.next_link_sequence is not None:
            db.execute("UPDATE meta SET value = ? WHERE key = 'next_link_sequence'",
                       (delta.next_link_sequence,))

    def _apply(self, delta: _Delta) -> None:
        self._records += delta.records
        self._bytes += delta.bytes
        self._in_flight += delta.in_flight
        for name, n in delta.counters.items():
            self._counters[name] = self._counters.get(name, 0) + n
        for apid, n in delta.dropped.items():
            self._dropped[apid] = self._dropped.get(apid, 0) + n
        if delta.next_link_sequence is not None:
            self._next_link_sequence = delta.next_link_sequence
        self._priorities.update(delta.priorities)

    # ------------------------------------------------------------------ offers
    def offer(self, apid: int, priority: int, stamp: tuple[int, int], payloads: Sequence[bytes], *,
              dedupe_key: str | None = None, coalesce_key: str | None = None) -> OfferResult:
        """Store the parts of one message atomically (all parts or none), in one transaction.

        ``priority`` is the caller's default for ``apid``; an override set by
        :meth:`set_priority` wins. ``stamp`` is (sec, nanosec) of the content. Parts get CCSDS
        sequence flags (3 unsegmented; 1 first, 0 continuation, 2 last).

        dedupe_key: if a key equal to it was accepted before (among the newest
        ``dedupe_memory``), the offer is ignored, even if those records were delivered and
        deleted long ago. coalesce_key: older UNSENT records with the same key are replaced
        (in-flight ones stay and are delivered).

        When full, room is made by evicting unsent records with priority <= the offer's, lowest
        priority first and oldest first within a priority. In-flight records (sent, not yet
        acknowledged) are never evicted: the ground may hold them already, and a link sequence
        that vanished onboard would leave a gap the ground could never close. If that does not
        make room (the offer has strictly the lowest priority, or the rest is in flight), the
        offer is dropped and nothing is evicted. Every dropped record is counted per APID
        (:attr:`dropped_by_apid`).
        """
        apid = check_int("apid", apid, 0, MAX_APID)
        priority = check_int("priority", priority, 0, 255)
        try:
            stamp_sec, stamp_nanosec = stamp
        except (TypeError, ValueError):
            raise LinkError(f"stamp: expected (sec, nanosec), received {stamp!r}") from None
        stamp_sec = check_int("stamp sec", stamp_sec, 0, 2**63 - 1)
        stamp_nanosec = check_int("stamp nanosec", stamp_nanosec, 0, 999_999_999)
        if isinstance(payloads, (bytes, bytearray, memoryview)) or not len(payloads):
            raise LinkError(f"payloads: expected a non-empty list of bytes, received {type(payloads).__name__} "
                            f"of length {len(payloads) if hasattr(payloads, '__len__') else '?'}")
        parts = []
        for index, payload in enumerate(payloads):
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise LinkError(f"payloads[{index}]: expected bytes, received {type(payload).__name__}")
            parts.append(bytes(payload))
        for name, key in (("dedupe_key", dedupe_key), ("coalesce_key", coalesce_key)):
            if key is not None and not isinstance(key, str):
                raise LinkError(f"{name}: expected str or None, received {key!r}")
        size = sum(len(p) for p in parts)
        count = len(parts)
        with self._transaction() as (db, delta):
            priority = self._priorities.get(apid, priority)
            if dedupe_key is not None and db.execute(
                    "SELECT 1 FROM dedupe WHERE key = ?", (dedupe_key,)).fetchone():
                delta.count("offers_duplicate")
                return OfferResult(accepted=False, duplicate=True)
            if size > self.capacity_bytes or count > self.capacity_records:
                self._reject(delta, apid, count)
                return OfferResult(accepted=False, rejected_too_large=True, rejected_records=count)
            replaced = []
            if coalesce_key is not None:
                replaced = db.execute("SELECT record_id, size_bytes FROM records "
                                      "WHERE coalesce_key = ? AND link_sequence IS NULL",
                                      (coalesce_key,)).fetchall()
            need_bytes = self._bytes - sum(s for _, s in replaced) + size - self.capacity_bytes
            need_records = self._records - len(replaced) + count - self.capacity_records
            victims: list[tuple[int, int, int]] = []
            if need_bytes > 0 or need_records > 0:
                excluded = {rid for rid, _ in replaced}
                planned = self._plan_eviction(db, priority, need_bytes, need_records, excluded)
                if planned is None:
                    self._reject(delta, apid, count)
                    return OfferResult(accepted=False, rejected_full=True, rejected_records=count)
                victims = planned
            # Writes.
            gone = [(rid,) for rid, _ in replaced] + [(v[0],) for v in victims]
            if gone:
                db.executemany("DELETE FROM records WHERE record_id = ?", gone)
            delta.count("records_coalesced", len(replaced))
            evicted: dict[int, int] = {}
            for _, victim_apid, _ in victims:
                evicted[victim_apid] = evicted.get(victim_apid, 0) + 1
            delta.count("records_evicted", len(victims))
            for victim_apid, n in evicted.items():
                delta.drop(victim_apid, n)
            record_ids = []
            for index, payload in enumerate(parts):
                cursor = db.execute(
                    "INSERT INTO records (apid, priority, stamp_sec, stamp_nanosec, sequence_flags, "
                    "size_bytes, payload, coalesce_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (apid, priority, stamp_sec, stamp_nanosec, _sequence_flags(index, count),
                     len(payload), payload, coalesce_key))
                record_ids.append(cursor.lastrowid)
            if dedupe_key is not None and self.dedupe_memory:
                seq = db.execute("INSERT INTO dedupe (key) VALUES (?)", (dedupe_key,)).lastrowid
                if seq > self.dedupe_memory:
                    db.execute("DELETE FROM dedupe WHERE seq <= ?", (seq - self.dedupe_memory,))
            delta.records += count - len(gone)
            delta.bytes += size - sum(s for _, s in replaced) - sum(v[2] for v in victims)
            delta.count("offers_accepted")
            delta.count("records_accepted", count)
            return OfferResult(accepted=True, record_ids=tuple(record_ids),
                               evicted=tuple(sorted(evicted.items())), coalesced=len(replaced))

    @staticmethod
    def _reject(delta: _Delta, apid: int, count: int) -> None:
        delta.count("offers_rejected")
        delta.count("records_rejected", count)
        delta.drop(apid, count)

    @staticmethod
    def _plan_eviction(db: sqlite3.Connection, priority: int, need_bytes: int, need_records: int,
                       excluded: set[int]) -> list[tuple[int, int, int]] | None:
        """Unsent victims (record_id, apid, size) freeing enough room, or None if impossible."""
        victims: list[tuple[int, int, int]] = []
        freed_bytes = freed_records = 0

        level = -1
        while True:  # unsent, one priority level at a time (uses the records_unsent index)
            row = db.execute("SELECT priority FROM records WHERE link_sequence IS NULL AND priority > ? "
                             "AND priority <= ? ORDER BY priority LIMIT 1", (level, priority)).fetchone()
            if row is None:
                break
            level = row[0]
            for record_id, apid, size in db.execute("SELECT record_id, apid, size_bytes FROM records "
                                                    "WHERE link_sequence IS NULL AND priority = ? ORDER BY record_id",
                                                    (level,)):
                if record_id in excluded:
                    continue
                victims.append((record_id, apid, size))
                freed_bytes += size
                freed_records += 1
                if freed_bytes >= need_bytes and freed_records >= need_records:
                    return victims
        return None   # in-flight records are never evicted (see offer)

    # ------------------------------------------------------------------ sending
    def next_to_send(self, now_wall_s: float, *, retransmit_timeout_s: float, max_records: int = 64,
                     max_bytes: int | None = None, overhead_bytes_per_record: int = 0,
                     max_in_flight: int | None = None) -> list[Record]:
        """Records to transmit now, in transmission order (read only; call :meth:`mark_sent` next).

        Order: records whose retransmission was requested (NAK), by link sequence; then in-flight
        records last sent at or before ``now_wall_s - retransmit_timeout_s``, by link sequence (the
        order they were first sent in, so the ground's reorder wait is short)
        (then those stamped more than the timeout in the future, after a wall-clock step back); then unsent records,
        priority high to low, oldest first. Fresh records are added only while fewer than
        ``max_in_flight`` records are in flight (None: no bound). At most ``max_records`` records;
        if ``max_bytes`` is given, the list stops before the first record whose payload plus
        ``overhead_bytes_per_record`` would exceed it (no skipping: order is kept, so a token bucket
        must hold at least one largest record). ``now_wall_s`` is a wall clock persisted with the
        records, so it must stay comparable across process restarts: ``time.time()``, or
        ``time.monotonic()`` (one boot; after a reboot its stamps look "in the future" and are
        therefore retransmitted at once).
        """
        max_records = check_int("max_records", max_records, 0, 2**31)
        if retransmit_timeout_s != retransmit_timeout_s or retransmit_timeout_s <= 0:
            raise LinkError(f"retransmit_timeout_s: {retransmit_timeout_s!r} must be > 0")
        if max_in_flight is not None:
            max_in_flight = check_int("max_in_flight", max_in_flight, 0, 2**62)
        with self._lock:
            db = self._require_open()
            chosen: list[tuple] = []
            if max_records and self._in_flight:
                chosen = db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE retransmit = 1 "
                                    "ORDER BY link_sequence LIMIT ?", (max_records,)).fetchall()
                if len(chosen) < max_records:
                    seen = {row[0] for row in chosen}
                    limit = max_records + len(seen)
                    due = db.execute(
                        f"SELECT {_RECORD_COLUMNS} FROM records WHERE link_sequence IS NOT NULL AND "
                        "last_sent_wall_s <= ? ORDER BY link_sequence LIMIT ?",
                        (now_wall_s - retransmit_timeout_s, limit)).fetchall()
                    due += db.execute(
                        f"SELECT {_RECORD_COLUMNS} FROM records WHERE link_sequence IS NOT NULL AND "
                        "last_sent_wall_s > ? ORDER BY last_sent_wall_s, link_sequence LIMIT ?",
                        (now_wall_s + retransmit_timeout_s, limit)).fetchall()
                    chosen += [row for row in due if row[0] not in seen][:max_records - len(chosen)]
            fresh = max_records - len(chosen)
            if max_in_flight is not None:
                fresh = min(fresh, max_in_flight - self._in_flight)
            if fresh > 0 and self._records > self._in_flight:
                chosen += db.execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE link_sequence IS NULL "
                                     "ORDER BY priority DESC, record_id LIMIT ?", (fresh,)).fetchall()
        records = [Record(*row) for row in chosen]
        if max_bytes is not None:
            budget = max_bytes
            for index, record in enumerate(records):
                budget -= len(record.payload) + overhead_bytes_per_record
                if budget < 0:
                    return records[:index]
        return records

    def mark_sent(self, records: Sequence[Record], now_wall_s: float) -> list[Record]:
        """Record the transmission of ``records`` (one transaction) and return them updated.

        A record sent for the first time gets the next link sequence, in the order given; the
        transaction commits before this returns, so transmit only after it (write-ahead).
        Records no longer stored (acknowledged or evicted meanwhile) are left out of the result.
        The NAK flag is cleared; send_count and last_sent_wall_s are updated.
        """
        updated = []
        with self._transaction() as (db, delta):
            next_link = self._next_link_sequence
            for record in records:
                row = db.execute("SELECT link_sequence, send_count FROM records WHERE record_id = ?",
                                 (record.record_id,)).fetchone()
                if row is None:
                    continue
                link_sequence, send_count = row
                if link_sequence is None:
                    if next_link > MAX_LINK_SEQUENCE:
                        raise LinkError(f"link_sequence: {next_link} exhausts the u32 link sequence space")
                    link_sequence = next_link
                    next_link += 1
                    delta.in_flight += 1
                    delta.count("transmissions")
                else:
                    delta.count("retransmissions")
                db.execute("UPDATE records SET link_sequence = ?, send_count = ?, last_sent_wall_s = ?, "
                           "retransmit = 0 WHERE record_id = ?",
                           (link_sequence, send_count + 1, now_wall_s, record.record_id))
                updated.append(dataclasses.replace(record, link_sequence=link_sequence,
                                                   send_count=send_count + 1, last_sent_wall_s=now_wall_s))
            if next_link != self._next_link_sequence:
                delta.next_link_sequence = next_link
        return updated

    def acknowledge(self, cumulative: int, ranges: Iterable[tuple[int, int]] = ()) -> int:
        """Delete the records the ground acknowledged; returns how many were deleted.

        ``cumulative``: every link sequence <= it was received (0: none). ``ranges``: inclusive
        (first, last) link-sequence ranges received above it (the content of a LINK_ACK).
        """
        cumulative = check_int("cumulative", cumulative, 0, MAX_LINK_SEQUENCE)
        checked = _ranges("ranges", ranges)
        with self._transaction() as (db, delta):
            sizes = []
            if cumulative:
                sizes += db.execute("DELETE FROM records WHERE link_sequence IS NOT NULL AND link_sequence <= ? "
                                    "RETURNING size_bytes", (cumulative,)).fetchall()
            for first, last in checked:
                if last > cumulative:
                    sizes += db.execute("DELETE FROM records WHERE link_sequence IS NOT NULL AND "
                                        "link_sequence BETWEEN ? AND ? RETURNING size_bytes",
                                        (max(first, cumulative + 1), last)).fetchall()
            deleted = len(sizes)
            delta.records -= deleted
            delta.in_flight -= deleted
            delta.bytes -= sum(s for (s,) in sizes)
            delta.count("records_acknowledged", deleted)
        return deleted

    def request_retransmit(self, ranges: Iterable[tuple[int, int]]) -> int:
        """Flag stored records in the inclusive link-sequence ``ranges`` (a LINK_NAK) for sending first.

        Returns how many records were flagged; sequences no longer stored are ignored.
        """
        checked = _ranges("ranges", ranges)
        with self._transaction() as (db, delta):
            flagged = 0
            for first, last in checked:
                flagged += db.execute("UPDATE records SET retransmit = 1 WHERE link_sequence IS NOT NULL "
                                      "AND link_sequence BETWEEN ? AND ? AND retransmit = 0",
                                      (first, last)).rowcount
            delta.count("retransmit_requests", flagged)
        return flagged

    # ------------------------------------------------------------------ priorities
    def set_priority(self, apid: int, priority: int) -> int:
        """Override the priority of ``apid`` (persistent): later offers and every queued record of it.

        Returns how many stored records were changed.
        """
        apid = check_int("apid", apid, 0, MAX_APID)
        priority = check_int("priority", priority, 0, 255)
        with self._transaction() as (db, delta):
            db.execute("INSERT INTO priorities VALUES (?, ?) ON CONFLICT(apid) DO UPDATE SET priority = "
                       "excluded.priority", (apid, priority))
            changed = db.execute("UPDATE records SET priority = ? WHERE apid = ? AND priority != ?",
                                 (priority, apid, priority)).rowcount
            delta.priorities[apid] = priority
        return changed

    def priorities(self) -> dict[int, int]:
        """Priority overrides by APID (set by :meth:`set_priority`)."""
        return dict(self._priorities)

    # ------------------------------------------------------------------ node state
    @contextmanager
    def _state_transaction(self) -> Iterator[sqlite3.Connection]:
        """Key/value writes (``put_state``, ``reserve``) share the store's transactions."""
        with self._transaction() as (db, _):
            yield db

    def remember_command(self, command_id: int, status: int, message: str = "") -> None:
        """Persist the result of an executed uplink command (the newest ``command_memory`` are kept)."""
        command_id = check_int("command_id", command_id, 0, 0xFFFF_FFFF)
        status = check_int("status", status, 0, 255)
        with self._transaction() as (db, _):
            db.execute("DELETE FROM commands WHERE command_id = ?", (command_id,))
            seq = db.execute("INSERT INTO commands (command_id, status, message) VALUES (?, ?, ?)",
                             (command_id, status, str(message))).lastrowid
            if seq > self.command_memory:
                db.execute("DELETE FROM commands WHERE seq <= ?", (seq - self.command_memory,))

    def command_result(self, command_id: int) -> tuple[int, str] | None:
        """(status, message) of an executed command, or None if it was not executed (or forgotten)."""
        command_id = check_int("command_id", command_id, 0, 0xFFFF_FFFF)
        with self._lock:
            row = self._require_open().execute(
                "SELECT status, message FROM commands WHERE command_id = ?", (command_id,)).fetchone()
        return None if row is None else (row[0], row[1])

    # ------------------------------------------------------------------ inspection
    @property
    def record_count(self) -> int:
        """Records stored (unsent and in flight)."""
        return self._records

    @property
    def byte_count(self) -> int:
        """Payload octets stored."""
        return self._bytes

    @property
    def in_flight_count(self) -> int:
        """Records sent at least once and not acknowledged."""
        return self._in_flight

    @property
    def unsent_count(self) -> int:
        return self._records - self._in_flight

    @property
    def next_link_sequence(self) -> int:
        """The link sequence the next first transmission will get."""
        return self._next_link_sequence

    @property
    def counters(self) -> dict[str, int]:
        """Persistent counters (names in :data:`COUNTER_NAMES`)."""
        return dict(self._counters)

    @property
    def dropped_by_apid(self) -> dict[int, int]:
        """Records dropped (evicted, or rejected offers' parts) per APID, persistent."""
        return dict(self._dropped)

    def stats(self) -> StoreStats:
        """A consistent snapshot of the depth and the persistent counters (for LinkStatus)."""
        with self._lock:
            return StoreStats(depth_records=self._records, depth_bytes=self._bytes, in_flight_records=self._in_flight,
                              records_stored=self._counters["records_accepted"],
                              records_acknowledged=self._counters["records_acknowledged"],
                              dropped_by_apid=dict(self._dropped), counters=dict(self._counters),
                              next_link_sequence=self._next_link_sequence)

    def records(self) -> list[Record]:
        """Every stored record by record_id (diagnostics and tests; reads all payloads)."""
        with self._lock:
            rows = self._require_open().execute(
                f"SELECT {_RECORD_COLUMNS} FROM records ORDER BY record_id").fetchall()
        return [Record(*row) for row in rows]
