"""Who entered which exam session, when: appended by the door, exported by admins.

A SQLite file in the data directory; one row per granted entry. A student entering twice
(going out and back in) has two rows: the log is what happened, the export says so.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

from facegate.common.sqlite import open_store, transaction

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attendance (
  session_id TEXT NOT NULL,
  student_id TEXT NOT NULL,
  entered_at TEXT NOT NULL,
  attempt_id TEXT NOT NULL UNIQUE
)
"""
COLUMNS = ("session_id", "student_id", "entered_at", "attempt_id")


class AttendanceLog:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._conn = open_store(self.path)
        self._conn.execute(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> AttendanceLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, session_id: str, student_id: str, at: datetime, attempt_id: str) -> None:
        """One entry; the same attempt recorded twice (a retry after a crash) is kept once."""
        if at.tzinfo is None:
            raise ValueError("attendance times must be timezone-aware")
        with transaction(self._conn):
            self._conn.execute(
                "INSERT OR IGNORE INTO attendance VALUES (?, ?, ?, ?)",
                (
                    session_id,
                    student_id,
                    at.astimezone(UTC).isoformat(timespec="seconds"),
                    attempt_id,
                ),
            )

    def prune(self, before: datetime) -> int:
        """Delete entries older than ``before`` (the retention period); returns how many."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM attendance WHERE entered_at < ?",
                (_utc(before),),
            )
        return cur.rowcount

    def remove_student(self, student_id: str) -> int:
        """Delete a student's entries (the student was removed from the gallery)."""
        with transaction(self._conn):
            cur = self._conn.execute("DELETE FROM attendance WHERE student_id = ?", (student_id,))
        return cur.rowcount

    def entries(self, session_id: str) -> list[tuple[str, str, str, str]]:
        return self._conn.execute(
            "SELECT * FROM attendance WHERE session_id = ? ORDER BY entered_at, rowid",
            (session_id,),
        ).fetchall()

    def sessions(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT session_id FROM attendance")]

    def to_csv(self, session_id: str) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self.entries(session_id))
        return out.getvalue()


def _utc(at: datetime) -> str:
    """Times are stored in UTC, so that they compare as text (retention)."""
    return at.astimezone(UTC).isoformat(timespec="seconds")
