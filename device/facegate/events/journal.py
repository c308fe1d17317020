"""The local journal: every access event appended as a JSON line and synced to disk.

It is the record of last resort, kept before any network: a line is written, flushed and
fsynced before ``emit`` returns. A crash can tear at most the line being written; reading skips
such a tail and says so.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class EventSink(Protocol):
    def emit(self, event: dict) -> None: ...


class JournalSink:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
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
        self._torn = False

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


def read_journal_tail(path: Path, max_bytes: int = 65536) -> list[dict]:
    """The complete events in the last ``max_bytes`` of the journal (cheap, for start-up)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            data = fh.read()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    if size > max_bytes:
        lines = lines[1:]  # the first may start mid-line
    events = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    return events
