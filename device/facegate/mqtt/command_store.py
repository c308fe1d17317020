"""What remote commands leave behind, kept on disk: used nonces and the lockdown switch.

Nonces survive a restart so a replay is refused then too; a nonce only needs remembering while
its timestamp could still pass the window check, so rows older than twice the window are
pruned. Lockdown survives a restart because a lockdown that a power cycle lifts is no
lockdown.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from facegate.common.sqlite import open_store


class CommandStore:
    def __init__(self, path: Path, window_s: float) -> None:
        self.path = Path(path)
        self._horizon = 2 * window_s
        self._lock = threading.Lock()
        self._conn = open_store(self.path, wal=True, threads=True)
        self._conn.execute("CREATE TABLE IF NOT EXISTS nonces (nonce TEXT PRIMARY KEY, ts INT)")
        self._conn.execute("CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY, value INT)")

    def remember_nonce(self, nonce: str, ts: int) -> bool:
        """Record ``nonce``; False when it was already there (a replay)."""
        with self._lock:
            self._conn.execute("DELETE FROM nonces WHERE ts < ?", (ts - self._horizon,))
            try:
                self._conn.execute("INSERT INTO nonces VALUES (?, ?)", (nonce, ts))
            except sqlite3.IntegrityError:
                return False
            return True

    @property
    def lockdown(self) -> bool:
        with self._lock:
            row = self._conn.execute("SELECT value FROM flags WHERE name = 'lockdown'").fetchone()
        return bool(row and row[0])

    @lockdown.setter
    def lockdown(self, on: bool) -> None:
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO flags VALUES ('lockdown', ?)", (int(on),))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
