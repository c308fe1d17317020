"""A stand-in door for the MQTT fault test: access events through the daemon's own recording path.

Run as ``python -m tests.event_producer --config CONFIG.toml --count 1000 --rate 200``. It opens
what ``DoorService._open_records`` opens (JournalSink, DoorMqtt, EventRecorder with
``on_added=door_mqtt.link.wake``) and records ``AccessEvent``s with attempt ids
``fault-0 .. fault-<count-1>`` at about ``--rate`` per second, each through
``EventRecorder.record`` exactly as the daemon's ``_emit`` does.

It resumes after a SIGKILL: the journal says which attempts were recorded, and it goes on from
the highest + 1. Output on stdout, one line each, flushed:

* ``start <n>``: the first attempt number this run records;
* ``recorded <N>``: attempts 0..N-1 are recorded (journal and outbox, both synced);
* ``holding <n>``: with ``--hold-before-outbox n``, attempt n is in the journal (synced) and
  its outbox commit waits ``--hold-s`` seconds, so a SIGKILL lands between the two for sure;
* a final JSON object with the counts, once the outbox drained or ``--drain-timeout`` passed.

At start it calls ``EventRecorder.recover()`` as the daemon does, which queues again the
journal's events after the outbox's last event id: a SIGKILL between the journal's fsync and the
outbox's commit leaves such an event. Before that, it checks for the case independently (each
journal event led to exactly one outbox INSERT, and the outbox's AUTOINCREMENT counter in
``sqlite_sequence`` counts INSERTs even after the rows are acknowledged and deleted) and reports
it as ``tail_missing_from_outbox``, next to what ``recover()`` returned.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sqlite3
import sys
import time
from pathlib import Path

from facegate.config import Settings, load_settings
from facegate.events.access_event import AccessEvent
from facegate.events.journal import JournalSink, read_journal
from facegate.events.recorder import EventRecorder
from facegate.mqtt.door_mqtt import DoorMqtt

ATTEMPT = re.compile(r"^fault-(\d+)$")


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def journal_events(path: Path) -> list[dict]:
    return read_journal(path).events if path.exists() else []


def next_attempt(events: list[dict]) -> int:
    """One past the highest ``fault-<n>`` in the journal (0 for an empty journal)."""
    numbers = [int(m.group(1)) for e in events if (m := ATTEMPT.match(str(e.get("attempt_id"))))]
    return max(numbers) + 1 if numbers else 0


def outbox_inserts(path: Path) -> int:
    """How many rows were ever added to the outbox (AUTOINCREMENT's high-water mark)."""
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    except sqlite3.OperationalError:
        row = None
    finally:
        conn.close()
    return int(row[0]) if row else 0


def hold_at(door: DoorMqtt, attempt_id: str, seconds: float) -> None:
    """Delay the outbox commit of one attempt; EventRecorder has journaled it by then."""
    add = door.outbox.add

    def held_add(topic: str, payload: bytes, event_id: str) -> int:
        if json.loads(payload).get("attempt_id") == attempt_id:
            say(f"holding {attempt_id.rpartition('-')[2]}")
            time.sleep(seconds)
        return add(topic, payload, event_id)

    door.outbox.add = held_add  # type: ignore[method-assign]


def outbox_path(settings: Settings) -> Path:
    return settings.mqtt.outbox_file or settings.paths.data_dir / "outbox.sqlite3"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.event_producer")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--drain-timeout", type=float, default=30.0)
    parser.add_argument(
        "--hold-before-outbox",
        type=int,
        metavar="N",
        help="pause attempt N between its journal line and its outbox row (to be killed there)",
    )
    parser.add_argument("--hold-s", type=float, default=30.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )

    settings = load_settings(args.config)
    settings.paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    journal_path = settings.journal_path()
    before = journal_events(journal_path)
    first = next_attempt(before)
    say(f"start {first}")

    journal = JournalSink(journal_path)
    door = DoorMqtt(
        settings.mqtt,
        settings.device.id,
        settings.device.room,
        settings.paths.data_dir,
        on_command=lambda *a: None,
    )
    recorder = EventRecorder(journal, door.outbox, door.topics.event_topic, on_added=door.link.wake)

    # Every journal event so far should have given exactly one outbox INSERT.
    inserts = outbox_inserts(outbox_path(settings))
    missing = [e["event_id"] for e in before[inserts:]]
    if missing:
        logging.warning("journal events %s never reached the outbox", missing)
    elif len(before) != inserts:
        logging.error("journal has %d events but the outbox had %d inserts", len(before), inserts)
    recovered = recorder.recover()  # as DoorService._open_records, before the link starts
    if args.hold_before_outbox is not None:
        hold_at(door, f"fault-{args.hold_before_outbox}", args.hold_s)

    door.start()
    started = time.monotonic()
    not_kept = 0
    for i, n in enumerate(range(first, args.count)):
        delay = started + i / args.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        event = AccessEvent(
            device_id=settings.device.id,
            room=settings.device.room,
            attempt_id=f"fault-{n}",
            decision="denied",
            reasons=("unknown_face",),
            # What AccessFlow._finish gives an unknown face seen live (schema-valid).
            scores={"distance": 0.91, "threshold": 0.62, "match": "unknown_face"},
            latencies_ms={"total": 1500 + n % 500, "liveness": 1200, "recognition": 180},
        )
        if not recorder.record(event.to_dict()):
            not_kept += 1
            while not recorder.healthy:  # as the daemon's once-a-second _check_records
                time.sleep(0.1)
                recorder.retry()
        say(f"recorded {n + 1}")

    deadline = time.monotonic() + args.drain_timeout
    while not door.link.drained() and time.monotonic() < deadline:
        door.link.wake()
        time.sleep(0.05)
    drained = door.link.drained()
    result = {
        "first": first,
        "recorded_this_run": max(0, args.count - first),
        "journal_events_at_start": len(before),
        "outbox_inserts_at_start": inserts,
        "tail_missing_from_outbox": missing,
        "recovered": recovered,
        "not_kept": not_kept,
        "published": door.link.published,
        "acked": door.link.acked,
        "drained": drained,
        "outbox_depth": door.outbox.depth(),
        "last_error": door.link.last_error,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
    door.close()
    journal.close()
    say(json.dumps(result, sort_keys=True))
    return 0 if drained else 1


if __name__ == "__main__":
    sys.exit(main())
