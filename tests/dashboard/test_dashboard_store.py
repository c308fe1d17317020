"""The storage part on both databases: SQLite (WAL) and a real PostgreSQL started by the test.

Batches are written exactly as the ingest writes them (parse, then write_batch in one
transaction); the rules checked: de-duplication, door state, flood collapse, command answers,
attendance, history filters and paging, retention."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from sqlalchemy import select

from facegate.dashboard.attendance.roster_store import (
    import_roster,
    parse_roster_text,
    session_data,
)
from facegate.dashboard.attendance.sheet import attendance
from facegate.dashboard.ingest.messages import Incoming, parse
from facegate.dashboard.ingest.schemas import SchemaValidator
from facegate.dashboard.store import queries
from facegate.dashboard.store.engine import open_engine
from facegate.dashboard.store.ingest_writes import write_batch
from facegate.dashboard.store.retention import apply_retention
from facegate.dashboard.store.tables import alarms, commands, doors, events
from facegate.events.access_event import AccessEvent, new_event_id
from facegate.events.alarm_event import AlarmEvent

VALIDATE = SchemaValidator()


def access(
    student: str | None,
    decision: str = "denied",
    session: str | None = "exam-1",
    at: float | None = None,
) -> dict:
    granted = decision == "granted"
    return AccessEvent(
        device_id="door-1",
        room="r1",
        attempt_id="door-1-1-abcdef",
        decision=decision,
        reasons=("granted",) if granted else ("totp_invalid",),
        session_id=session,
        student_id=student,
        scores={"distance": 0.2, "threshold": 0.35, "match": "match"},
        liveness={}
        if not granted
        else {
            "samples": 20,
            "blinks": [],
            "rejected_dips": [],
            "ear_baseline": None,
            "ear_min": 0.2,
            "pitch_range": None,
            "yaw_range": None,
            "static": None,
            "challenge": None,
        },
        second_factor="totp_ok" if granted else "totp_invalid",
        latencies_ms={"total": 900, "liveness": 500, "recognition": 100}
        if granted
        else {"total": 900},
        event_id=new_event_id(at),
    ).to_dict()


def alarm(kind: str = "camera_error") -> dict:
    return AlarmEvent(
        "door-1", "r1", kind, {"source": "cam", "error": "gone", "down_s": 3.0}
    ).to_dict()


def msg(topic: str, payload: dict | str, at: float) -> Incoming:
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return Incoming(f"facegate/door-1/{topic}", raw.encode(), False, at)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite3'}"
        password = None
    else:
        pg = request.getfixturevalue("postgres")
        url = pg.create_database(f"store_{time.time_ns() % 10**12}")
        password = pg.password
    loop = asyncio.new_event_loop()
    eng = loop.run_until_complete(open_engine(url, password))
    yield loop, eng
    loop.run_until_complete(eng.dispose())
    loop.close()


def write(loop, eng, messages: list[Incoming], window: float = 60.0):
    async def go():
        parsed = [(m, parse(m, "facegate", VALIDATE)) for m in messages]
        async with eng.begin() as conn:
            return await write_batch(conn, parsed, window)

    return loop.run_until_complete(go())


def rows(loop, eng, stmt):
    async def go():
        async with eng.connect() as conn:
            return (await conn.execute(stmt)).all()

    return loop.run_until_complete(go())


def test_duplicates_are_dropped_within_and_across_batches(engine):
    loop, eng = engine
    e = access("s1")
    first = write(loop, eng, [msg("event/access", e, 1.0), msg("event/access", e, 1.1)])
    again = write(loop, eng, [msg("event/access", e, 2.0)])
    assert [x["event_id"] for x in first.new_events] == [e["event_id"]]
    assert again.new_events == []
    assert len(rows(loop, eng, select(events))) == 1


def test_door_state_alarms_flood_and_command_answers(engine):
    loop, eng = engine
    write(
        loop,
        eng,
        [
            Incoming("facegate/door-1/status", b"online", True, 1.0),
            Incoming("facegate/door-1/door/state", b"OPEN", True, 1.0),
        ],
    )
    out = write(
        loop,
        eng,
        [
            msg("event/alarm", alarm(), 10.0),
            msg("event/alarm", alarm(), 20.0),
            msg(
                "event/alarm",
                alarm("remote_command")
                | {
                    "detail": {"cmd": "reload", "nonce": "n" * 16, "operator": "ada", "what": "all"}
                },
                21.0,
            ),
        ],
    )
    assert len(out.alarms_new) == 1 and out.alarms_changed == [out.alarms_new[0]]
    later = write(loop, eng, [msg("event/alarm", alarm(), 200.0)])  # past the flood window
    assert len(later.alarms_new) == 1
    counts = sorted(r.count for r in rows(loop, eng, select(alarms)))
    assert counts == [1, 2]  # the remote_command audit is history, not an inbox alarm
    door = rows(loop, eng, select(doors))[0]
    assert (door.status, door.state) == ("online", "OPEN")

    async def pending():
        async with eng.begin() as conn:
            await conn.execute(
                commands.insert().values(
                    nonce="a" * 32,
                    device_id="door-1",
                    cmd="unlock",
                    args="{}",
                    operator="ada",
                    created_at=1.0,
                    state="pending",
                    code_shown=False,
                )
            )

    loop.run_until_complete(pending())
    answer = {
        "type": "command_result",
        "schema_version": 1,
        "ts": "2026-11-23T09:00:00.000+00:00",
        "device_id": "door-1",
        "cmd": "unlock",
        "nonce": "a" * 32,
        "accepted": False,
        "reason": "bad_signature",
        "detail": "signature does not match",
    }
    out = write(loop, eng, [msg("cmd/result", answer, 3.0)])
    assert out.answers == ["a" * 32]
    row = rows(loop, eng, select(commands))[0]
    assert (row.state, row.reason) == ("refused", "bad_signature")
    spoofed = dict(answer, device_id="door-2")  # another door cannot answer for door-1
    assert write(loop, eng, [msg("cmd/result", spoofed, 4.0)]).bad == 1


def test_attendance_history_paging_and_retention(engine):
    loop, eng = engine
    roster = parse_roster_text(
        '[[session]]\nid = "exam-1"\nroom = "r1"\nstart = 2020-01-01T09:00:00+00:00\n'
        'end = 2040-01-01T11:00:00+00:00\nstudents = ["s1", "s2", "s3"]\n'
    )
    loop.run_until_complete(import_roster(eng, roster, "office"))
    old = access("s9", at=time.time() - 500 * 86400)
    batch = [access("s1"), access("s1", "granted"), access("s1", "granted"), access("s2"), old]
    write(loop, eng, [msg("event/access", e, 5.0) for e in batch])
    _, expected, evs = loop.run_until_complete(session_data(eng, "exam-1"))
    lines = {x.student_id: x for x in attendance(expected, evs)}
    assert lines["s1"].status == "entered" and lines["s1"].first_entry == batch[1]["ts"]
    assert lines["s1"].refusals == 1 and lines["s2"].status == "refused"
    assert lines["s3"].status == "missing"

    f = queries.HistoryFilter(student_id="s1")
    page = loop.run_until_complete(queries.history(eng, f, limit=2))
    assert [r.event_id for r in page] == sorted((e["event_id"] for e in batch[:3]), reverse=True)[
        :2
    ]
    rest = loop.run_until_complete(
        queries.history(eng, queries.HistoryFilter(student_id="s1", before=page[-1].event_id))
    )
    assert len(rest) == 1
    denied = loop.run_until_complete(
        queries.history(eng, queries.HistoryFilter(decision="denied", reason="totp_invalid"))
    )
    assert len(denied) == 3

    removed = loop.run_until_complete(apply_retention(eng, time.time(), 400, 14))
    assert removed["events"] == 1
    assert len(rows(loop, eng, select(events))) == 4
