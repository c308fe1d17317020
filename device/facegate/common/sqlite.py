"""The one way facegate opens its SQLite stores (gallery, second factor, attendance, outbox,
command nonces): created owner-only, integrity-checked when opened, durable settings in one
place, and one transaction helper.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from facegate.common.files import create_private_file


def open_store(
    path: Path,
    *,
    create: bool = True,
    wal: bool = False,
    threads: bool = False,
    timeout: float = 5.0,
) -> sqlite3.Connection:
    """Open (and when ``create``, make owner-only) the database at ``path``.

    Autocommit mode (``isolation_level=None``): writes go through :func:`transaction`.
    ``wal`` with ``synchronous=FULL`` for stores written on the door's hot path (outbox,
    nonces): a commit survives a power cut. ``threads`` lets a store be used from the thread
    that did not open it (the caller serialises access). Raises ``sqlite3.DatabaseError`` for a
    file that is not a database.
    """
    if not path.exists():
        if not create:
            raise FileNotFoundError(path)
        create_private_file(path)
    conn = sqlite3.connect(
        f"file:{path}?mode=rw",
        uri=True,
        isolation_level=None,
        timeout=timeout,
        check_same_thread=not threads,
    )
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        if wal:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError:
        conn.close()
        raise
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """One atomic write (``BEGIN IMMEDIATE``): a failure part-way rolls everything back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
