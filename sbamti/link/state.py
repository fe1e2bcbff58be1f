"""Small persistent key/value state in sqlite3 (WAL, synchronous=NORMAL: survives kill -9).

:class:`KeyValueState` is the file handling shared by the onboard :class:`~sbamti.link.store.RecordStore`
(which keeps its node state in the same file as its records) and :class:`StateFile`, the ground's
link state (ARQ cumulative numbers, replay windows, uplink security counters). A file is exclusive
to one process: a second opener gets a LinkError. Surviving power loss as well would need
``synchronous=FULL``. Pure Python, no ROS.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from sbamti.link.errors import LinkError, check_int

__all__ = ["KeyValueState", "SequenceReservation", "StateFile"]

_LOCK_TIMEOUT_S = 1.0      # how long to wait for a file another process holds before refusing it


def _connect(path: str, what: str) -> sqlite3.Connection:
    """Open ``path`` in WAL mode, synchronous=NORMAL, exclusive locking; LinkError naming the path."""
    try:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=_LOCK_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise LinkError(f"path: cannot open {path!r} as {what}: {exc}") from None
    try:
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("BEGIN IMMEDIATE")      # takes the exclusive lock now: a second opener fails here
        db.execute("COMMIT")
    except sqlite3.Error as exc:
        db.close()
        if "locked" in str(exc):
            raise LinkError(f"path: {path!r} is in use by another process") from None
        raise LinkError(f"path: cannot use {path!r} as {what}: {exc}") from None
    return db


_STATE_TABLE = "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value) WITHOUT ROWID"
_StateValue = int | float | str | bytes


def _check_state(values: Mapping[str, _StateValue]) -> None:
    for key, value in values.items():
        if not isinstance(key, str):
            raise LinkError(f"state key: expected str, received {key!r}")
        if not isinstance(value, (int, float, str, bytes)):
            raise LinkError(f"state {key}: expected int, float, str or bytes, received {type(value).__name__}")


def _put_state(db: sqlite3.Connection, values: Mapping[str, _StateValue]) -> None:
    db.executemany("INSERT INTO state VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   values.items())


def _reserve(db: sqlite3.Connection, key: str, count: int, first: int) -> int:
    row = db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
    start = first if row is None else row[0]
    if not isinstance(start, int) or start < 0:
        raise LinkError(f"state {key}: {start!r} is not a counter (a non-negative integer)")
    _put_state(db, {key: start + count})
    return start


class KeyValueState:
    """A sqlite3 file with a ``state`` table of int, float, str or bytes values.

    Thread-safe within one process (one lock serialises the calls); one transaction per call.
    """

    def __init__(self, path: str, what: str = "a state file") -> None:
        self.path = str(path)
        self._what = what
        self._lock = threading.RLock()
        self._db: sqlite3.Connection | None = _connect(self.path, what)
        try:
            self._db.execute(_STATE_TABLE)
        except sqlite3.Error as exc:
            self.close()
            raise LinkError(f"path: cannot use {self.path!r} as {what}: {exc}") from None

    @contextmanager
    def _state_transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = self._require_open()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def get_state(self, key: str, default: object = None) -> object:
        """Value stored under ``key``, or ``default``."""
        with self._lock:
            row = self._require_open().execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def put_state(self, key: str, value: _StateValue) -> None:
        """Store one value (one transaction)."""
        self.put_states({key: value})

    def put_states(self, values: Mapping[str, _StateValue]) -> None:
        """Store several values in one transaction."""
        _check_state(values)
        with self._state_transaction() as db:
            _put_state(db, values)

    def reserve(self, key: str, count: int, *, first: int = 1) -> int:
        """Reserve ``count`` consecutive numbers of the counter ``key``; returns the first one.

        The counter starts at ``first``. The caller may use [returned, returned + count) and must
        reserve again before going beyond; after a crash, numbering resumes after the last
        reservation, so no number is used twice (e.g. a security sequence, in blocks of 1024).
        """
        count = check_int("count", count, 1, 2**62)
        with self._state_transaction() as db:
            return _reserve(db, key, count, first)

    def state_items(self) -> dict[str, object]:
        """Every stored key and value."""
        with self._lock:
            return dict(self._require_open().execute("SELECT key, value FROM state"))

    def _require_open(self) -> sqlite3.Connection:
        if self._db is None:
            raise LinkError(f"path: {self._what} {self.path!r} is closed")
        return self._db

    def close(self) -> None:
        """Close the file (idempotent). Everything committed is already durable."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StateFile(KeyValueState):
    """The ground's persistent link state: a :class:`KeyValueState` file of its own."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "a state file")


class SequenceReservation:
    """Numbers that must never repeat across restarts (a security sequence), reserved ``block`` at a
    time in a :class:`KeyValueState` so that only one number in ``block`` costs a write.

    ``first`` is where counting may start; before using numbers ``next_value .. next_value + count - 1``
    call :meth:`cover`, which reserves further blocks when needed. Blocks of one key are consecutive,
    so a counter simply runs on from one block into the next.
    """

    def __init__(self, state: KeyValueState, key: str, block: int = 1024) -> None:
        self._state, self._key, self._block = state, key, block
        self.first = state.reserve(key, block)
        self._end = self.first + block

    def cover(self, next_value: int, count: int = 1) -> None:
        """Make sure ``next_value .. next_value + count - 1`` are reserved (durably) before use."""
        while next_value + count > self._end:
            self._end = self._state.reserve(self._key, self._block) + self._block

