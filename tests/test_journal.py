"""The access event and the local journal: nothing lost, even when the process is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from facegate.events.access_event import AccessEvent, new_event_id
from facegate.events.journal import JournalSink, read_journal


def event(i: int, decision: str = "denied") -> AccessEvent:
    reasons = ("granted",) if decision == "granted" else ("unknown_face",)
    return AccessEvent("door-1", "B-204", f"att-{i}", decision, reasons, scores={"d": 0.5})


def test_event_shape_and_rules() -> None:
    e = event(1).to_dict()
    assert e["schema_version"] == 1 and e["reasons"] == ["unknown_face"]
    assert e["ts"].endswith("+00:00") and len(e["event_id"]) == 28
    with pytest.raises(ValueError, match="granted or denied"):
        AccessEvent("d", "r", "a", "maybe", ("x",))
    with pytest.raises(ValueError, match="at least one reason"):
        AccessEvent("d", "r", "a", "denied", ())
    with pytest.raises(ValueError, match="single reason"):
        AccessEvent("d", "r", "a", "granted", ("granted", "no_blink"))


def test_event_ids_sort_by_time_and_are_unique() -> None:
    ids = [new_event_id(1_800_000_000 + i / 1000) for i in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == 1000
    same_ms = {new_event_id(1_800_000_000.0) for _ in range(1000)}
    assert len(same_ms) == 1000


def test_journal_keeps_every_event_in_order(tmp_path: Path) -> None:
    path = tmp_path / "journal" / "events.jsonl"
    with JournalSink(path) as sink:
        for i in range(500):
            sink.emit(event(i).to_dict())
    with JournalSink(path) as sink:  # reopened: appends
        sink.emit(event(500, "granted").to_dict())
    assert (path.stat().st_mode & 0o777) == 0o600
    got = read_journal(path)
    assert got.damaged_lines == []
    assert [e["attempt_id"] for e in got.events] == [f"att-{i}" for i in range(501)]
    assert got.events[-1]["decision"] == "granted"


def test_a_torn_last_line_is_reported_and_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with JournalSink(path) as sink:
        sink.emit(event(1).to_dict())
    with open(path, "ab") as fh:
        fh.write(b'{"attempt_id": "att-2", "deci')  # a crash mid-write
    with JournalSink(path) as sink:
        sink.emit(event(3).to_dict())
    got = read_journal(path)
    assert [e["attempt_id"] for e in got.events] == ["att-1", "att-3"]
    assert got.damaged_lines == [2]


def test_events_survive_sigkill_right_after_emit(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    code = (
        "import os, signal, sys\n"
        "from facegate.events.journal import JournalSink\n"
        f"sink = JournalSink({str(path)!r})\n"
        "for i in range(200):\n"
        "    sink.emit({'attempt_id': i})\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert done.returncode == -signal.SIGKILL
    got = read_journal(path)
    assert [e["attempt_id"] for e in got.events] == list(range(200))


def test_events_are_json_without_names_or_images(tmp_path: Path) -> None:
    e = event(1).to_dict()
    text = json.dumps(e)
    for forbidden in ("name", "image", "template", "secret", "landmarks"):
        assert forbidden not in text
    assert os.sep not in e["attempt_id"]
