"""SQLite helpers shared by the gallery and the second-factor store."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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


def create_private_file(path: Path) -> None:
    """Create an empty file only its owner can read, in a folder only its owner can enter;
    an existing file is never overwritten (FileExistsError)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
