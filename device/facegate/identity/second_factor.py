"""Where TOTP secrets, override codes and each student's attempt state are kept.

A SQLite file beside the gallery (``second_factor.sqlite3``), created readable by its owner
only. Secrets are sealed with the gallery's key (AES-256-GCM) and bound to their student id,
so a secret copied onto another row does not open. Each keypad entry is judged and its state
written in one transaction: two doors sharing the file cannot both accept the same code.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pyotp

from facegate.common.key_files import create_key_file, read_key_file
from facegate.common.sqlite import open_store, transaction
from facegate.errors import GalleryError, KeyFileError
from facegate.identity.gallery import validate_student_id
from facegate.identity.sealing import Sealer, SealError
from facegate.identity.totp import (
    DIGITS,
    STEP_S,
    FactorState,
    Override,
    Verdict,
    check_code,
)

# Version 2 added attempts.updated (when the row last changed), for the retention period.
SCHEMA_VERSION = 2
_READABLE = ("1", "2")
_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE totp (student_id TEXT PRIMARY KEY, secret BLOB NOT NULL);
CREATE TABLE attempts (
  student_id TEXT PRIMARY KEY,
  last_step INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  locked_until REAL NOT NULL,
  updated REAL NOT NULL DEFAULT 0
);
CREATE TABLE overrides (
  student_id TEXT PRIMARY KEY,
  secret BLOB NOT NULL,
  counter INTEGER NOT NULL,
  expires REAL NOT NULL
)
"""


def _context(kind: str, student_id: str) -> bytes:
    return f"{kind}:{student_id}".encode()


class SecondFactorStore:
    def __init__(self, conn: sqlite3.Connection, path: Path, sealer: Sealer) -> None:
        self._conn = conn
        self.path = path
        self._sealer = sealer

    @classmethod
    def open(cls, path: Path, key_path: Path, create: bool = False) -> SecondFactorStore:
        path = Path(path)
        if not path.exists():
            if not create:
                raise GalleryError(
                    f"no second-factor store at {path}; enrol a student first "
                    "(facegate totp enroll ID)"
                )
            if not key_path.exists():
                create_key_file(key_path)
            sealer = Sealer(read_key_file(key_path))
            conn = open_store(path)
            try:
                with transaction(conn):
                    for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                        conn.execute(statement)
                    conn.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?), ('key_check', ?)",
                        (str(SCHEMA_VERSION), sealer.seal(b"facegate", b"key_check").hex()),
                    )
            except BaseException:
                conn.close()
                path.unlink(missing_ok=True)
                raise
            return cls(conn, path, sealer)
        if not key_path.exists():
            raise KeyFileError(f"key file {key_path} is missing: {path} cannot be opened")
        sealer = Sealer(read_key_file(key_path))
        try:
            conn = open_store(path, create=False)
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            conn.execute("SELECT student_id FROM totp LIMIT 1").fetchall()
            conn.execute("SELECT student_id FROM overrides LIMIT 1").fetchall()
            conn.execute("SELECT student_id FROM attempts LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise GalleryError(f"{path} is not a facegate second-factor store ({exc})") from None
        if meta.get("schema_version") not in _READABLE:
            raise GalleryError(f"{path} has schema version {meta.get('schema_version')}")
        try:
            sealer.open(bytes.fromhex(meta.get("key_check", "")), b"key_check")
        except (SealError, ValueError):
            raise KeyFileError(f"key file {key_path} does not open {path}") from None
        if meta["schema_version"] == "1":
            _migrate_to_2(conn)
        return cls(conn, path, sealer)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> SecondFactorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def enroll(self, student_id: str, replace_existing: bool = False) -> str:
        """Create a student's TOTP secret (base32) and return it, once, for the QR code."""
        student_id = validate_student_id(student_id)
        secret = pyotp.random_base32()
        sealed = self._sealer.seal(secret.encode(), _context("totp", student_id))
        with transaction(self._conn):
            exists = self._conn.execute(
                "SELECT 1 FROM totp WHERE student_id = ?", (student_id,)
            ).fetchone()
            if exists and not replace_existing:
                raise GalleryError(
                    f"{student_id} already has a TOTP secret; use --replace to issue a new one "
                    "(the old authenticator entry stops working)"
                )
            self._conn.execute(
                "INSERT OR REPLACE INTO totp(student_id, secret) VALUES (?, ?)",
                (student_id, sealed),
            )
        return secret

    def remove(self, student_id: str) -> bool:
        with transaction(self._conn):
            cur = self._conn.execute("DELETE FROM totp WHERE student_id = ?", (student_id,))
            self._conn.execute("DELETE FROM overrides WHERE student_id = ?", (student_id,))
            self._conn.execute("DELETE FROM attempts WHERE student_id = ?", (student_id,))
        return cur.rowcount > 0

    def enrolled(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT student_id FROM totp ORDER BY 1")]

    def install_override(self, student_id: str, expires: float) -> str:
        """Issue a one-time override code for one student (replaces an unused one)."""
        student_id = validate_student_id(student_id)
        secret = pyotp.random_base32()
        counter = int.from_bytes(os.urandom(4), "big")
        sealed = self._sealer.seal(secret.encode(), _context("override", student_id))
        with transaction(self._conn):
            self._conn.execute(
                "INSERT OR REPLACE INTO overrides VALUES (?, ?, ?, ?)",
                (student_id, sealed, counter, expires),
            )
        return pyotp.HOTP(secret, digits=DIGITS).at(counter)

    def verify(self, student_id: str, code: str, now: float) -> Verdict:
        """Judge a keypad entry for ``student_id`` at ``now`` (Unix seconds) and remember it."""
        with transaction(self._conn):
            row = self._conn.execute(
                "SELECT secret FROM totp WHERE student_id = ?", (student_id,)
            ).fetchone()
            secret = self._open(row[0], "totp", student_id) if row else None
            seen = self._conn.execute(
                "SELECT last_step, failures, locked_until FROM attempts WHERE student_id = ?",
                (student_id,),
            ).fetchone()
            state = FactorState(*seen) if seen else FactorState()
            over = self._conn.execute(
                "SELECT secret, counter, expires FROM overrides WHERE student_id = ?",
                (student_id,),
            ).fetchone()
            override = None
            if over is not None:
                override = Override(self._open(over[0], "override", student_id), over[1], over[2])
            verdict = check_code(code, now, state, secret, override)
            if verdict.override_used:
                self._conn.execute("DELETE FROM overrides WHERE student_id = ?", (student_id,))
            if verdict.state != state:
                s = verdict.state
                self._conn.execute(
                    "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?)",
                    (student_id, s.last_step, s.failures, s.locked_until, now),
                )
        return verdict

    def prune_attempts(self, before: float) -> int:
        """Forget keypad attempt records not touched since ``before`` (Unix seconds) and not
        locked out now; TOTP secrets stay. Returns how many."""
        with transaction(self._conn):
            cur = self._conn.execute(
                "DELETE FROM attempts WHERE updated < ? AND locked_until < ?", (before, before)
            )
        return cur.rowcount

    def _open(self, sealed: bytes, kind: str, student_id: str) -> str:
        try:
            return self._sealer.open(sealed, _context(kind, student_id)).decode()
        except SealError:
            raise GalleryError(
                f"the {kind} secret of {student_id} in {self.path} does not open (altered, or "
                "copied from another student)"
            ) from None


def _migrate_to_2(conn: sqlite3.Connection) -> None:
    """Version 1 stores gain ``attempts.updated``, set to now (their age is unknown)."""
    with transaction(conn):
        conn.execute("ALTER TABLE attempts ADD COLUMN updated REAL NOT NULL DEFAULT 0")
        conn.execute("UPDATE attempts SET updated = ?", (time.time(),))
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")


def provisioning_uri(secret: str, student_id: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads (from the QR code)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_S).provisioning_uri(
        name=student_id, issuer_name=issuer
    )
