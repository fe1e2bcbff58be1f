"""The onboard store-and-forward: records per second in and out, against a bare sqlite3 baseline.

``RecordStore.offer`` (one 2,545-octet payload, a 20-detection dwell, with its dedupe key: one
transaction each), then the send cycle ``next_to_send`` + ``mark_sent`` (write-ahead link
sequences) + ``acknowledge`` in batches of 1, 16 and 64 records. Baseline, in the same run and
the same directory: a bare sqlite3 file with the same durability (WAL, synchronous=NORMAL,
exclusive lock) doing one ``INSERT`` + ``COMMIT`` per record, and the send cycle's minimum, one
``UPDATE`` and one ``DELETE`` per batch. The ratios say what the store's bookkeeping (priorities,
eviction planning, counters, dedupe keys) costs over the database writes it cannot avoid.

A dwell rate of 10 Hz per satellite needs 10 offers and 10 records out per second; the numbers
below are the headroom.

Run: ``.venv/bin/python bench/bench_link_store.py [--records 3000]``
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time

from benchlib import format_table

from sbamti.link.store import RecordStore

PAYLOAD = os.urandom(2545)


def _bare(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA locking_mode=EXCLUSIVE")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY, payload BLOB, seq INTEGER, sent REAL)")
    return db


def bare_rates(directory: str, records: int, batch: int) -> tuple[float, float]:
    """(inserts/s with a commit each, records/s through one UPDATE + one DELETE per batch)."""
    db = _bare(os.path.join(directory, f"bare-{batch}.sqlite"))
    start = time.perf_counter()
    for _ in range(records):
        db.execute("BEGIN")
        db.execute("INSERT INTO r (payload) VALUES (?)", (PAYLOAD,))
        db.execute("COMMIT")
    insert_rate = records / (time.perf_counter() - start)
    start = time.perf_counter()
    for first in range(1, records + 1, batch):
        last = min(first + batch - 1, records)
        db.execute("BEGIN")
        db.execute("UPDATE r SET seq = id, sent = ? WHERE id BETWEEN ? AND ?", (time.time(), first, last))
        db.execute("COMMIT")
        db.execute("BEGIN")
        db.execute("DELETE FROM r WHERE id BETWEEN ? AND ?", (first, last))
        db.execute("COMMIT")
    cycle_rate = records / (time.perf_counter() - start)
    db.close()
    return insert_rate, cycle_rate


def store_rates(directory: str, records: int, batch: int) -> tuple[float, float]:
    """(offers/s, records/s through next_to_send + mark_sent + acknowledge in batches of ``batch``)."""
    with RecordStore(os.path.join(directory, f"store-{batch}.sqlite"), capacity_bytes=1 << 34,
                     capacity_records=10 * records) as store:
        start = time.perf_counter()
        for i in range(records):
            store.offer(0x100, 200, (1_830_297_600 + i, 0), [PAYLOAD], dedupe_key=f"det:{i}")
        offer_rate = records / (time.perf_counter() - start)
        start = time.perf_counter()
        sent = 0
        while sent < records:
            now = time.time()
            batch_records = store.mark_sent(store.next_to_send(now, retransmit_timeout_s=60.0, max_records=batch), now)
            last = batch_records[-1].link_sequence
            store.acknowledge(last)
            sent += len(batch_records)
        cycle_rate = records / (time.perf_counter() - start)
        assert store.record_count == 0
    return offer_rate, cycle_rate


def run(records: int = 3000) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory(prefix="sbamti-bench-store-") as directory:
        for batch in (1, 16, 64):
            offer, cycle = store_rates(directory, records, batch)
            bare_insert, bare_cycle = bare_rates(directory, records, batch)
            results.append({"batch": batch, "offer": offer, "cycle": cycle, "bare_insert": bare_insert,
                            "bare_cycle": bare_cycle})
    return results


def report(results: list[dict]) -> str:
    offer = sum(r["offer"] for r in results) / len(results)
    bare = sum(r["bare_insert"] for r in results) / len(results)
    rows = [[f"batch of {r['batch']}", r["cycle"], r["bare_cycle"], r["bare_cycle"] / r["cycle"]] for r in results]
    return "\n".join([
        f"offer (one 2,545-octet record, dedupe key, one transaction): {offer:,.0f}/s; bare INSERT + COMMIT "
        f"{bare:,.0f}/s; bare/offer {bare / offer:.2f} (mean of {len(results)} runs)", "",
        format_table(["records per second out", "next_to_send + mark_sent + acknowledge", "bare UPDATE + DELETE",
                      "bare/store"], rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3000, help="records per measurement")
    args = parser.parse_args()
    print(report(run(args.records)))


if __name__ == "__main__":
    sys.exit(main())
