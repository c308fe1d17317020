"""The local journal: every access event appended as a JSON line and synced to disk.

It is the record of last resort, kept before any network: a line is written, flushed and
fsynced before ``emit`` returns. A crash can tear at most the line being written; reading skips
such a tail and says so.

It does not grow without bound: past ``max_bytes`` the file is renamed with the UTC time
(``events.jsonl.20261202T091500Z``) and a new one begun; rotated files older than
``keep_days`` are deleted, except the newest (crash recovery may need its tail). Events are
also in the outbox until the broker has them, and on the broker after that.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class EventSink(Protocol):
    def emit(self, event: dict) -> None: ...


class JournalSink:
    def __init__(
        self, path: Path, max_bytes: int | None = None, keep_days: float | None = None
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.keep_days = keep_days
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._open()
        self.prune()

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = os.fstat(self._fd).st_size
        self._torn = False  # a write failed part-way (disk full): start the next on a new line
        # A torn last line (a crash mid-write) must not glue itself to the next event.
        size = os.fstat(self._fd).st_size
        if size:
            with open(self.path, "rb") as fh:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    os.write(self._fd, b"\n")

    def emit(self, event: dict) -> None:
        line = json.dumps(event, separators=(",", ":"), sort_keys=True) + "\n"
        data = (b"\n" if self._torn else b"") + line.encode("utf-8")
        written = 0
        try:
            while written < len(data):
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
        except OSError:
            self._torn = self._torn or written > 0
            raise
        finally:
            self._size += written
        self._torn = False
        if self.max_bytes is not None and self._size >= self.max_bytes and self.path.is_file():
            self.rotate()

    def rotate(self) -> Path:
        """Close this file under a dated name and begin a new one; returns the dated name."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        rotated = self.path.with_name(f"{self.path.name}.{stamp}")
        os.close(self._fd)
        self._fd = -1
        os.rename(self.path, rotated)
        self._open()
        _sync_dir(self.path.parent)
        self.prune()
        return rotated

    def rotated(self) -> list[Path]:
        """The rotated files, oldest first (their names sort by time)."""
        return rotated_files(self.path)

    def prune(self, now: float | None = None) -> list[Path]:
        """Delete rotated files older than ``keep_days`` (never the newest); returns them."""
        if self.keep_days is None:
            return []
        limit = (time.time() if now is None else now) - self.keep_days * 86400.0
        old = [p for p in self.rotated()[:-1] if p.stat().st_mtime < limit]
        for path in old:
            path.unlink(missing_ok=True)
        return old

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> JournalSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class JournalContents:
    events: list[dict]
    damaged_lines: list[int]


def read_journal(path: Path) -> JournalContents:
    """All events in order; lines that are not complete JSON objects are listed, not fatal."""
    events, damaged = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                damaged.append(number)
                continue
            if isinstance(event, dict):
                events.append(event)
            else:
                damaged.append(number)
    return JournalContents(events, damaged)


def _sync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rotated_files(path: Path) -> list[Path]:
    prefix = f"{path.name}."
    return sorted(p for p in path.parent.glob(f"{path.name}.*") if p.name.startswith(prefix))


def _lines_backwards(path: Path, chunk: int = 65536) -> Iterator[bytes]:
    """The file's complete lines, last first, read in chunks from the end."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed in finally
    except FileNotFoundError:
        return
    try:
        fh.seek(0, os.SEEK_END)
        position = fh.tell()
        rest = b""
        while position > 0:
            step = min(chunk, position)
            position -= step
            fh.seek(position)
            block = fh.read(step) + rest
            lines = block.split(b"\n")
            rest = lines[0]
            yield from reversed(lines[1:])
        if rest:
            yield rest
    finally:
        fh.close()


def _event(line: bytes) -> dict | None:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) else None


def last_event(path: Path) -> dict | None:
    """The journal's newest complete event (in the newest file that has one)."""
    for file in [path, *reversed(rotated_files(path))]:
        for line in _lines_backwards(file):
            event = _event(line)
            if event is not None and "event_id" in event:
                return event
    return None


def events_after(path: Path, event_id: str) -> list[dict] | None:
    """The journal's events after ``event_id`` (across rotated files), oldest first.

    Reads backwards from the end and stops at ``event_id``, so recovery after a crash costs
    what was written since, not the whole history. ``""`` means from the very beginning of
    what the journal still holds. None when ``event_id`` is not in the journal at all.
    """
    newer: list[dict] = []
    for file in [path, *reversed(rotated_files(path))]:
        for line in _lines_backwards(file):
            event = _event(line)
            if event is None:
                continue
            if event_id and event.get("event_id") == event_id:
                newer.reverse()
                return newer
            newer.append(event)
    if event_id == "":
        newer.reverse()
        return newer
    return None
