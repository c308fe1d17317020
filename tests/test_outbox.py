"""The outbox, the event recorder and the command store, on real files and no broker.

Disk trouble is produced for real, never mocked: the outbox's bound is SQLite's own
``max_page_count`` (an insert past it fails with SQLITE_FULL, the error a full disk gives),
/dev/full answers every write with ENOSPC from the kernel, and RLIMIT_FSIZE in a child process
makes a write stop part-way (a short write, then EFBIG), which is how a line gets torn.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from facegate.events.access_event import AccessEvent
from facegate.events.alarm_event import AlarmEvent
from facegate.events.journal import JournalSink, read_journal
from facegate.events.outbox import PAGE_SIZE, Outbox, OutboxError, OutboxFull
from facegate.events.recorder import EventRecorder, event_payload
from facegate.mqtt.command_store import CommandStore
from facegate.mqtt.topics import Topics

pytestmark = pytest.mark.timeout(60)

TOPICS = Topics("facegate/door-1")
TINY = 1  # bytes: the outbox rounds it up to its floor of 16 pages (64 KiB)


def access(i: int) -> dict:
    return AccessEvent(
        "door-1", "B-204", f"att-{i}", "denied", ("unknown_face",), scores={"d": 0.61}
    ).to_dict()


def alarm(i: int) -> dict:
    return AlarmEvent("door-1", "B-204", "door_held_open", {"held_s": 30 + i}).to_dict()


def add(outbox: Outbox, event: dict) -> int:
    return outbox.add(TOPICS.event_topic(event), event_payload(event), event["event_id"])


def stored_ids(outbox: Outbox) -> list[str]:
    return [item.event_id for item in outbox.pending(0, 1_000_000)]


def fill_up(outbox: Outbox, start: int = 0) -> list[str]:
    """Add access events until the bound refuses one; the ids that went in, in order."""
    ids = []
    for i in range(start, start + 100_000):
        event = access(i)
        try:
            add(outbox, event)
        except OutboxFull:
            return ids
        ids.append(event["event_id"])
    raise AssertionError("the outbox never reached its bound")


# -- the outbox ----------------------------------------------------------------------------------


def test_order_is_kept_across_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    events = [access(i) if i % 3 else alarm(i) for i in range(60)]
    outbox = Outbox(path, 1 << 20)
    seqs = [add(outbox, e) for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == 60
    outbox.ack_many(seqs[:10])
    outbox.close()

    outbox = Outbox(path, 1 << 20)
    pending = outbox.pending(0, 1000)
    assert [p.event_id for p in pending] == [e["event_id"] for e in events[10:]]
    assert [p.seq for p in pending] == seqs[10:]
    first = pending[0]
    assert first.topic == TOPICS.event_topic(events[10])
    assert json.loads(first.payload) == events[10]
    assert [p.seq for p in outbox.pending(seqs[20], 5)] == seqs[21:26]

    # Even with every row gone a new event never reuses an old number, so a link that
    # remembers the last seq it sent cannot skip it.
    outbox.ack_many(seqs[10:])
    assert outbox.depth() == 0
    outbox.close()
    outbox = Outbox(path, 1 << 20)
    assert add(outbox, access(99)) > seqs[-1]
    outbox.close()


def test_ack_many_forgets_a_batch_and_ignores_unknown_numbers(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", 1 << 20)
    seqs = [add(outbox, access(i)) for i in range(20)]
    outbox.ack_many(seqs[::2])
    assert [p.seq for p in outbox.pending()] == seqs[1::2]
    outbox.ack_many([])
    outbox.ack_many([seqs[0], 10_000])  # already gone, never existed: no error
    outbox.ack(seqs[1])
    assert outbox.depth() == 9
    assert [p.seq for p in outbox.pending()] == seqs[3::2]
    outbox.close()


def test_depth_and_fill(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3", 1 << 20)  # 256 pages
    assert outbox.max_pages == (1 << 20) // PAGE_SIZE
    assert outbox.depth() == 0
    empty = outbox.fill()
    assert 0.0 < empty < 0.05  # the schema's own pages
    seqs = [add(outbox, access(i)) for i in range(300)]
    assert outbox.depth() == 300
    full = outbox.fill()
    assert empty < full <= 1.0
    outbox.ack_many(seqs)
    assert outbox.depth() == 0
    assert outbox.fill() < full  # freed pages are not counted
    outbox.close()


def test_the_disk_bound_refuses_an_event_and_keeps_what_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = Outbox(path, TINY)
    assert outbox.max_pages == 16
    kept = fill_up(outbox)
    assert len(kept) > 20
    before = outbox.pending(0, 100_000)
    assert outbox.fill() > 0.9

    with pytest.raises(OutboxFull, match="full") as refused:
        add(outbox, access(10**6))
    assert str(path) in str(refused.value)
    with pytest.raises(OutboxFull):  # a big one too, and again: no state is left behind
        outbox.add(TOPICS.access, os.urandom(20_000), "big")
    assert outbox.pending(0, 100_000) == before
    assert outbox.depth() == len(kept)
    outbox.close()

    # Reopened, the same rows in the same order, and still full.
    outbox = Outbox(path, TINY)
    assert stored_ids(outbox) == kept
    with pytest.raises(OutboxFull):
        add(outbox, access(10**6 + 1))

    # Acknowledgements free pages; the next add works and comes after everything kept.
    half = [p.seq for p in before[: len(before) // 2]]
    outbox.ack_many(half)
    late = access(10**6 + 2)
    seq = add(outbox, late)
    assert seq > before[-1].seq
    assert stored_ids(outbox) == [*kept[len(half) :], late["event_id"]]
    outbox.close()


def test_outbox_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new" / "outbox.sqlite3"
    outbox = Outbox(path, 1 << 20)
    add(outbox, access(1))
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        if extra.exists():  # SQLite gives its side files the database's own mode
            assert extra.stat().st_mode & 0o077 == 0, extra
    outbox.close()


def test_a_corrupt_outbox_file_is_an_outbox_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    path.write_bytes(random.Random(7).randbytes(3 * PAGE_SIZE))
    with pytest.raises(OutboxError) as err:
        Outbox(path, 1 << 20)
    assert not isinstance(err.value, OutboxFull)
    assert str(path) in str(err.value)
    assert "cannot be opened" in str(err.value)


# -- the recorder ---------------------------------------------------------------------------------


def test_recorder_writes_the_journal_and_the_outbox(tmp_path: Path) -> None:
    journal = JournalSink(tmp_path / "events.jsonl")
    outbox = Outbox(tmp_path / "o.sqlite3", 1 << 20)
    added = []
    recorder = EventRecorder(journal, outbox, TOPICS.event_topic, on_added=lambda: added.append(1))
    events = [access(1), alarm(2), access(3)]
    assert all(recorder.record(e) for e in events)
    assert recorder.healthy and recorder.backlog == 0 and recorder.last_error is None
    assert len(added) == 3
    assert read_journal(journal.path).events == events
    pending = outbox.pending()
    assert [p.topic for p in pending] == [TOPICS.access, TOPICS.alarm, TOPICS.access]
    assert [json.loads(p.payload) for p in pending] == events
    with pytest.raises(ValueError, match="topic"):
        EventRecorder(journal, outbox, None)
    journal.close()
    outbox.close()


def test_a_full_outbox_keeps_the_event_waiting_in_order(tmp_path: Path) -> None:
    journal = JournalSink(tmp_path / "events.jsonl")
    outbox = Outbox(tmp_path / "o.sqlite3", TINY)
    kept = fill_up(outbox)
    recorder = EventRecorder(journal, outbox, TOPICS.event_topic)

    first, second = access(500), alarm(501)
    assert recorder.record(first) is False
    assert not recorder.healthy and recorder.backlog == 1
    assert recorder.last_error and "full" in recorder.last_error
    assert read_journal(journal.path).events == [first]  # the record of last resort has it
    assert recorder.record(second) is False
    recorder.retry()  # still full: nothing moves, nothing is journaled twice
    assert recorder.backlog == 2
    # The journal takes every event at once; only the outbox makes them wait.
    assert read_journal(journal.path).events == [first, second]
    assert stored_ids(outbox) == kept

    half = len(kept) // 2  # appends need whole free pages, so free plenty
    outbox.ack_many([p.seq for p in outbox.pending(0, half)])
    recorder.retry()
    assert recorder.healthy and recorder.backlog == 0 and recorder.last_error is None
    assert stored_ids(outbox) == [*kept[half:], first["event_id"], second["event_id"]]
    assert read_journal(journal.path).events == [first, second]
    third = access(502)
    assert recorder.record(third) is True
    assert stored_ids(outbox)[-1] == third["event_id"]
    journal.close()
    outbox.close()


def test_an_event_behind_a_waiting_one_is_journaled_at_once(tmp_path: Path) -> None:
    """The journal does not depend on the outbox: it should have every event at once."""
    journal = JournalSink(tmp_path / "events.jsonl")
    outbox = Outbox(tmp_path / "o.sqlite3", TINY)
    fill_up(outbox)
    recorder = EventRecorder(journal, outbox, TOPICS.event_topic)
    first, second = access(500), alarm(501)
    recorder.record(first)
    recorder.record(second)
    try:
        assert read_journal(journal.path).events == [first, second]
    finally:
        journal.close()
        outbox.close()


@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="no writable /dev/full")
def test_a_journal_on_a_full_disk_fails_without_raising(tmp_path: Path) -> None:
    """/dev/full: every write gets ENOSPC from the kernel, as on a full file system."""
    journal = JournalSink(Path("/dev/full"))
    outbox = Outbox(tmp_path / "o.sqlite3", 1 << 20)
    recorder = EventRecorder(journal, outbox, TOPICS.event_topic)
    event = access(1)
    assert recorder.record(event) is False
    assert not recorder.healthy and recorder.backlog == 1
    assert recorder.last_error and "No space left on device" in recorder.last_error
    assert outbox.depth() == 0  # the journal comes first: the outbox is not written ahead of it
    recorder.retry()
    assert recorder.backlog == 1
    journal.close()
    outbox.close()


_TORN = r"""
import json, os, resource, signal, sys
from pathlib import Path

from facegate.events.journal import JournalSink
from facegate.events.recorder import EventRecorder

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit: EFBIG, not a killed process
path = Path(sys.argv[1])
events = json.loads(sys.argv[2])
recorder = EventRecorder(JournalSink(path))
out = {"first": recorder.record(events[0])}
size = path.stat().st_size
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (size + 40, hard))
out["second"] = recorder.record(events[1])
out["torn_size"] = path.stat().st_size - size
out["error"] = recorder.last_error
out["healthy_while_torn"] = recorder.healthy
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
recorder.retry()
out["healthy_after_retry"] = recorder.healthy
out["third"] = recorder.record(events[2])
print(json.dumps(out))
"""


def test_a_torn_journal_write_is_reported_and_the_next_event_is_intact(tmp_path: Path) -> None:
    """A write that stops part-way (a short write, then EFBIG) tears one line, nothing more."""
    path = tmp_path / "events.jsonl"
    events = [access(1), access(2), access(3)]
    done = subprocess.run(
        [sys.executable, "-c", _TORN, str(path), json.dumps(events)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["first"] is True and out["second"] is False
    assert out["torn_size"] == 40  # really part of a line, cut by the kernel
    assert "File too large" in out["error"]
    assert out["healthy_while_torn"] is False
    assert out["healthy_after_retry"] is True and out["third"] is True

    got = read_journal(path)
    # The torn fragment stands alone on line 2; the retried event and the next follow it whole.
    assert got.events == events
    assert got.damaged_lines == [2]
    lines = path.read_bytes().split(b"\n")
    assert lines[1] == event_payload(events[1])[:40]


# -- the command store -------------------------------------------------------------------------


def test_a_used_nonce_is_refused_also_after_reopening(tmp_path: Path) -> None:
    path = tmp_path / "commands.sqlite3"
    store = CommandStore(path, window_s=30)
    assert store.remember_nonce("a" * 32, 1_000)
    assert not store.remember_nonce("a" * 32, 1_000)
    assert not store.remember_nonce("a" * 32, 1_010)  # same nonce, another time: still a replay
    assert store.remember_nonce("b" * 32, 1_000)
    store.close()
    assert path.stat().st_mode & 0o777 == 0o600

    store = CommandStore(path, window_s=30)
    assert not store.remember_nonce("a" * 32, 1_020)
    assert not store.remember_nonce("b" * 32, 1_020)
    assert store.remember_nonce("c" * 32, 1_020)
    store.close()


def test_pruning_keeps_the_nonce_table_small(tmp_path: Path) -> None:
    path = tmp_path / "commands.sqlite3"
    store = CommandStore(path, window_s=30)
    for i in range(2_000):
        assert store.remember_nonce(f"nonce-{i:012d}", 1_000_000 + 5 * i)
    store.close()
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT ts FROM nonces ORDER BY ts").fetchall()
    newest = 1_000_000 + 5 * 1_999
    # Only nonces whose timestamp could still pass the window check (twice the window) stay.
    assert len(rows) <= 2 * 30 // 5 + 1
    assert rows[0][0] >= newest - 60


def test_lockdown_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "commands.sqlite3"
    store = CommandStore(path, window_s=30)
    assert store.lockdown is False
    store.lockdown = True
    store.close()
    store = CommandStore(path, window_s=30)
    assert store.lockdown is True
    store.lockdown = False
    store.close()
    store = CommandStore(path, window_s=30)
    assert store.lockdown is False
    store.close()
