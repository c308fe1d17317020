"""The durable outbox: access and alarm events wait here until the broker has them.

An event is committed (SQLite, WAL, ``synchronous=FULL``) before anyone tries to publish it
and deleted only when the broker's PUBACK for it arrives; after an outage or a restart the
rows still here go out again in their order. Delivery is therefore at least once; the event's
``event_id`` lets a subscriber drop a duplicate.

The disk bound is SQLite's own ``max_page_count``: an insert past it fails with
``SQLITE_FULL``, exactly as a full disk does, so the two are one code path
(:class:`OutboxFull`). The daemon treats that as "the record cannot be kept" and fails closed
(docs/mqtt.md, "When the outbox fills").
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from facegate.common.sqlite import open_store
from facegate.errors import FacegateError

PAGE_SIZE = 4096

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    event_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class OutboxError(FacegateError):
    """The outbox file cannot be opened or written."""


class OutboxFull(OutboxError):
    """The outbox reached its disk bound, or the disk itself is full."""


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    topic: str
    payload: bytes
    event_id: str


class Outbox:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = Path(path)
        self.max_pages = max(16, max_bytes // PAGE_SIZE)
        self._lock = threading.Lock()
        try:
            self._conn = open_store(self.path, threads=True)
            # The page size must be set before WAL mode (it cannot change afterwards).
            self._conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = FULL")
            # The WAL is truncated back after checkpoints, so it does not outgrow the bound.
            self._conn.execute(f"PRAGMA journal_size_limit = {4 * 1024 * 1024}")
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA max_page_count = {self.max_pages}")
        except sqlite3.DatabaseError as exc:
            raise OutboxError(f"outbox {self.path} cannot be opened: {exc}") from None

    def add(self, topic: str, payload: bytes, event_id: str) -> int:
        """Commit one event; returns its sequence number. Raises OutboxFull when it cannot."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    cur = self._conn.execute(
                        "INSERT INTO outbox (topic, payload, event_id) VALUES (?, ?, ?)",
                        (topic, payload, event_id),
                    )
                    self._conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('last_event_id', ?)", (event_id,)
                    )
                except BaseException:
                    self._conn.rollback()  # SQLITE_FULL may have rolled back already
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if "full" in str(exc):
                    raise OutboxFull(f"outbox {self.path} is full: {exc}") from None
                raise OutboxError(f"outbox {self.path}: {exc}") from None
            return int(cur.lastrowid or 0)

    def mark(self, event_id: str) -> None:
        """Set the last event id without adding an event (a new outbox on an old journal)."""
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO meta VALUES ('last_event_id', ?)", (event_id,)
            )

    @property
    def last_event_id(self) -> str | None:
        """The id of the last event ever added (kept after it is acknowledged)."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM meta WHERE name = 'last_event_id'"
            ).fetchone()
        return row[0] if row else None

    def pending(self, after_seq: int = 0, limit: int = 100) -> list[OutboxItem]:
        """The oldest unacknowledged events after ``after_seq``, in order."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, topic, payload, event_id FROM outbox WHERE seq > ? "
                "ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [OutboxItem(r[0], r[1], bytes(r[2]), r[3]) for r in rows]

    def ack(self, seq: int) -> None:
        """The broker has the event: forget it."""
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))

    def ack_many(self, seqs: list[int]) -> None:
        """Forget a batch in one transaction (one sync instead of one per event)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            except BaseException:
                self._conn.rollback()
                raise
            self._conn.execute("COMMIT")

    def depth(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def fill(self) -> float:
        """The share of the disk bound in use (0..1), free pages not counted."""
        with self._lock:
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            free = self._conn.execute("PRAGMA freelist_count").fetchone()[0]
        return min(1.0, (pages - free) / self.max_pages)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
