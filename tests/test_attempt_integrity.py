"""Attempt integrity, as an attacker tries it: every way through must pass one check, now.

The door runs for real (Haar, dlib landmarks, liveness, MTCNN, FaceNet int8, the encrypted
gallery, the journal) on gpiozero's mock pins, fed frames synthesised by the demo's actor:

* a live stranger answers the blink challenge, then holds up a printed photo of an enrolled
  student (the face switch): refused as ``face_changed``, the relay never moves;
* lockdown, the end of the session, or a roster reload that drops the student while the
  student types the TOTP code: the correct code no longer opens the door;
* the exit button during lockdown does not release the lock; every press is journaled.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from facegate.config import Settings
from facegate.demo import material
from facegate.demo.actor import PortraitActor
from facegate.demo.roster_file import session_toml
from facegate.door import DoorListener, DoorService
from facegate.evaluation.face_switch import FaceSwitchAttack
from facegate.events.journal import read_journal
from facegate.hardware.mock_pins import on_periods
from facegate.hardware.pin_factory import make_pin_factory
from facegate.identity.enrolment import Enroller
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.second_factor import SecondFactorStore
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate
from facegate.vision.sources.rendered import RenderedSource

RELAY = 17
FPS = 15.0
ROOM = "hall-b"
STUDENT = material.ASTRONAUT.student_id


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, pipeline: FacePipeline) -> Path:
    """Collins enrolled from her portrait, with a TOTP secret (as the demo does)."""
    work = tmp_path_factory.mktemp("integrity")
    settings = door_settings(work / "data", write_roster(work / "r.toml", [STUDENT], False))
    collins = material.load_photo(material.ASTRONAUT)
    with open_configured_gallery(
        settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
    ) as gallery:
        outcome = Enroller(pipeline, QualityGate(settings.quality)).enroll_images(
            gallery, STUDENT, material.ASTRONAUT.name, material.variants(collins, 5, 10), work
        )
    assert outcome.stored >= 4
    with SecondFactorStore.open(
        settings.paths.second_factor_path(), settings.paths.resolved_key_file(), create=True
    ) as store:
        (work / "secret").write_text(store.enroll(STUDENT))
    return work


def door_settings(
    data_dir: Path, roster: Path, blinks: int = 1, challenge: bool = True, **hardware
) -> Settings:
    base = Settings()
    return Settings.model_validate(
        {
            **base.model_dump(),
            "device": {"id": "door-x", "room": ROOM},
            "paths": {**base.paths.model_dump(), "data_dir": data_dir, "key_file": None},
            "hardware": {
                **base.hardware.model_dump(),
                "pin_factory": "mock",
                "unlock_s": 1.0,
                **hardware,
            },
            "access": {**base.access.model_dump(), "roster_file": roster, "code_timeout_s": 10},
            "liveness": {
                **base.liveness.model_dump(),
                "challenge": challenge,
                "challenge_min_blinks": blinks,
                "challenge_max_blinks": blinks,
            },
        }
    )


def write_roster(path: Path, students: list[str], second_factor: bool, minutes: float = 60) -> Path:
    now = datetime.now(UTC)
    path.write_text(
        session_toml(
            "exam-1",
            ROOM,
            now - timedelta(minutes=30),
            now + timedelta(minutes=minutes),
            students,
            second_factor,
        )
    )
    return path


def copy_data(enrolled: Path, tmp_path: Path) -> Path:
    import shutil

    shutil.copytree(enrolled / "data", tmp_path / "data")
    return tmp_path / "data"


class Actor(DoorListener):
    """Answers the door's prompts with the rendered person; types ``code`` when asked."""

    def __init__(self, subject, code=None, on_code=None) -> None:
        self.subject = subject
        self.code = code
        self.on_code = on_code
        self.events: list[dict] = []
        self.service: DoorService | None = None
        self.source: RenderedSource | None = None

    def on_prompt(self, blinks: int) -> None:
        assert self.service is not None
        self.subject.respond(blinks, after=self.service.flow_time)

    def on_ask_code(self, student_id: str) -> None:
        assert self.service is not None
        if self.on_code is not None:
            self.on_code(self.service)
        code = self.code() if callable(self.code) else self.code
        for key in [*(code or ""), "#"]:
            self.service.press_key(key)

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        if event["type"] == "access" and self.source is not None:
            self.source.finish_after(0.5)

    def access(self) -> list[dict]:
        return [e for e in self.events if e["type"] == "access"]


def run(settings: Settings, pipeline: FacePipeline, actor: Actor, seconds: float = 14.0, **kw):
    source = RenderedSource(lambda _i, t: actor.subject.frame(t), round(seconds * FPS), FPS, "x")
    actor.source = source
    factory = make_pin_factory("mock")
    service = DoorService(
        settings,
        source=lambda: source,
        lockstep=True,
        pipeline=pipeline,
        listener=actor,
        handle_signals=False,
        pin_factory=factory,
        **kw,
    )
    actor.service = service
    service.run()
    periods = on_periods(factory, settings.hardware.relay_pin)
    factory.reset()
    return periods


# -- 1. the face that blinked is the face that is recognised ----------------------------------


@pytest.mark.parametrize(("blinks", "seed"), [(1, 1), (2, 2), (3, 3)])
def test_a_stranger_who_blinks_then_holds_up_an_enrolled_photo_is_refused(
    enrolled, tmp_path, pipeline, demo_photos, blinks, seed
):
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(data, write_roster(tmp_path / "r.toml", [STUDENT], False), blinks)
    stranger = PortraitActor(demo_photos["hopper"], seed=seed, face_px=160)
    attack = FaceSwitchAttack(stranger, demo_photos["astronaut"], 240, 0.45, seed)
    actor = Actor(attack)
    relay = run(settings, pipeline, actor)
    decisions = actor.access()
    assert decisions, "the attack must reach a decision"
    assert all(e["decision"] == "denied" for e in decisions), decisions
    assert decisions[0]["reasons"] == ["face_changed"]
    assert relay == []


def test_the_genuine_student_at_the_same_distance_is_granted(
    enrolled, tmp_path, pipeline, demo_photos
):
    """The control: the same scene with Collins herself is let in (the test can fail)."""
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(data, write_roster(tmp_path / "r.toml", [STUDENT], False), 2)
    actor = Actor(PortraitActor(demo_photos["astronaut"], seed=4, face_px=160))
    relay = run(settings, pipeline, actor)
    assert actor.access()[0]["decision"] == "granted"
    assert len(relay) == 1


# -- 2. lockdown, the session and the roster hold at the moment of the grant --------------------


def _code(enrolled: Path):
    """The code her app shows when she types it (however slowly a loaded machine runs)."""
    totp = pyotp.TOTP((enrolled / "secret").read_text())
    return totp.now


def test_lockdown_while_the_student_types_the_code_refuses_the_grant(
    enrolled, tmp_path, pipeline, demo_photos
):
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(data, write_roster(tmp_path / "r.toml", [STUDENT], True))
    actor = Actor(
        PortraitActor(demo_photos["astronaut"], seed=5),
        code=_code(enrolled),
        on_code=lambda service: service.set_lockdown(True),
    )
    relay = run(settings, pipeline, actor)
    first = actor.access()[0]
    assert first["decision"] == "denied" and first["reasons"] == ["lockdown"]
    assert relay == []


def test_a_session_that_ends_while_the_student_types_the_code_refuses_the_grant(
    enrolled, tmp_path, pipeline, demo_photos
):
    data = copy_data(enrolled, tmp_path)
    roster = write_roster(tmp_path / "r.toml", [STUDENT], True, minutes=10)
    settings = door_settings(data, roster)
    clock = {"skew": timedelta(0)}
    totp = pyotp.TOTP((enrolled / "secret").read_text())

    def end_the_session(_service) -> None:
        clock["skew"] = timedelta(minutes=11)  # the exam's end passes while the code is typed

    actor = Actor(
        PortraitActor(demo_photos["astronaut"], seed=6),
        code=lambda: totp.at(datetime.now(UTC) + clock["skew"]),  # the code of that moment
        on_code=end_the_session,
    )
    relay = run(settings, pipeline, actor, wall_clock=lambda: datetime.now(UTC) + clock["skew"])
    first = actor.access()[0]
    assert first["decision"] == "denied" and first["reasons"] == ["no_session"]
    assert relay == []


def test_a_roster_reload_that_drops_the_student_refuses_the_grant(
    enrolled, tmp_path, pipeline, demo_photos
):
    data = copy_data(enrolled, tmp_path)
    roster = write_roster(tmp_path / "r.toml", [STUDENT], True)
    settings = door_settings(data, roster)

    def drop_the_student(service) -> None:
        write_roster(roster, ["someone-else"], True)
        service.request_reload()

    actor = Actor(
        PortraitActor(demo_photos["astronaut"], seed=7),
        code=_code(enrolled),
        on_code=drop_the_student,
    )
    relay = run(settings, pipeline, actor)
    first = actor.access()[0]
    assert first["decision"] == "denied" and first["reasons"] == ["not_on_roster"]
    assert relay == []


# -- 3. the exit button --------------------------------------------------------------------------

EXIT = 5
CONTACT = 16


def _exit_scene(settings: Settings, lockdown: bool):
    """An empty room; the exit button pressed once, then the door opened and closed."""
    factory = make_pin_factory("mock")
    events: list[dict] = []

    class Watch(DoorListener):
        def on_event(self, event: dict) -> None:
            events.append(event)

    blank = RenderedSource(
        lambda _i, _t: __import__("numpy").zeros((480, 640, 3), "uint8"), 10**6, FPS, "empty"
    )
    service = DoorService(
        settings,
        source=lambda: blank,
        lockstep=False,
        listener=Watch(),
        handle_signals=False,
        pin_factory=factory,
    )
    done = threading.Event()

    def press() -> None:
        import time

        while service.frames == 0:  # the door is up: its inputs exist
            time.sleep(0.05)
        if lockdown:
            service.set_lockdown(True)
        contact = factory.pin(CONTACT)
        contact.drive_low()  # the door is shut
        time.sleep(0.2)
        button = factory.pin(EXIT)
        button.drive_low()  # pressed (pull-up: low when pressed)
        time.sleep(0.2)
        button.drive_high()
        time.sleep(0.3)
        contact.drive_high()  # the door opens
        time.sleep(0.3)
        contact.drive_low()
        time.sleep(0.5)
        service.stop()
        done.set()

    threading.Thread(target=press, daemon=True).start()
    service.run()
    done.wait(10)
    periods = on_periods(factory, settings.hardware.relay_pin)
    factory.reset()
    return events, periods


def test_the_exit_button_under_lockdown_keeps_the_lock_and_is_journaled(enrolled, tmp_path):
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(
        data,
        write_roster(tmp_path / "r.toml", [STUDENT], False),
        exit_button_pin=EXIT,
        door_contact_pin=CONTACT,
    )
    events, relay = _exit_scene(settings, lockdown=True)
    assert relay == []
    kinds = [e.get("kind") for e in events if e["type"] == "alarm"]
    assert "exit_request" in kinds and "door_forced" in kinds
    exit_event = next(e for e in events if e.get("kind") == "exit_request")
    assert exit_event["detail"]["unlocked"] is False
    journal = read_journal(settings.journal_path()).events
    assert any(e.get("kind") == "exit_request" for e in journal)


def test_the_exit_button_otherwise_unlocks_and_is_journaled(enrolled, tmp_path):
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(
        data,
        write_roster(tmp_path / "r.toml", [STUDENT], False),
        exit_button_pin=EXIT,
        door_contact_pin=CONTACT,
    )
    events, relay = _exit_scene(settings, lockdown=False)
    assert len(relay) == 1
    kinds = [e.get("kind") for e in events if e["type"] == "alarm"]
    assert "exit_request" in kinds and "door_forced" not in kinds
    exit_event = next(e for e in events if e.get("kind") == "exit_request")
    assert exit_event["detail"]["unlocked"] is True


# -- 4. a slow disk during a grant: the watchdog fires, nothing is written twice, no crash -----


def _grant_settings(enrolled: Path, tmp_path: Path, **service) -> Settings:
    data = copy_data(enrolled, tmp_path)
    settings = door_settings(data, write_roster(tmp_path / "r.toml", [STUDENT], False), 1)
    return settings.model_copy(
        update={"service": settings.service.model_copy(update=service)} if service else {}
    )


def test_a_slow_fsync_during_a_grant_fires_the_watchdog_without_corrupting_the_record(
    enrolled, tmp_path, pipeline, demo_photos, monkeypatch
):
    """One fsync of 3 s (a slow SD card) while the grant is journaled, stall limit 1 s: the
    internal watchdog locks the door and raises its alarm from its own thread while the main
    loop is inside the recorder; the run must end normally with every event journaled once."""
    import os as os_module
    import time

    from facegate.events import journal as journal_module

    settings = _grant_settings(enrolled, tmp_path, stall_s=1.0)
    real_fsync = os_module.fsync
    real_emit = journal_module.JournalSink.emit
    armed = {"slow": False, "done": False}

    def slow_fsync(fd: int) -> None:
        if armed["slow"]:
            armed["slow"] = False
            time.sleep(3.0)
        real_fsync(fd)

    def emit(self, event: dict) -> None:
        if event.get("decision") == "granted" and not armed["done"]:
            armed["slow"] = armed["done"] = True
        real_emit(self, event)

    monkeypatch.setattr(journal_module.os, "fsync", slow_fsync)
    monkeypatch.setattr(journal_module.JournalSink, "emit", emit)
    actor = Actor(PortraitActor(demo_photos["astronaut"], seed=8))
    run(settings, pipeline, actor)
    assert armed["done"], "the grant was never journaled"
    journal = read_journal(settings.journal_path()).events
    ids = [e["event_id"] for e in journal]
    assert len(ids) == len(set(ids)), "an event was journaled twice"
    assert [e["decision"] for e in journal if e["type"] == "access"] == ["granted"]
    assert "watchdog_stall" in [e.get("kind") for e in journal]


# -- 5. attendance follows the stored event; its failure is an alarm, not a crash --------------


def test_a_grant_whose_event_cannot_be_stored_opens_nothing_and_records_no_attendance(
    enrolled, tmp_path, pipeline, demo_photos, monkeypatch
):
    import errno

    from facegate.access.attendance import AttendanceLog
    from facegate.events import journal as journal_module

    settings = _grant_settings(enrolled, tmp_path)
    real_emit = journal_module.JournalSink.emit

    def emit(self, event: dict) -> None:
        if event.get("decision") == "granted":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_emit(self, event)

    monkeypatch.setattr(journal_module.JournalSink, "emit", emit)
    actor = Actor(PortraitActor(demo_photos["astronaut"], seed=9))
    relay = run(settings, pipeline, actor, seconds=8.0)
    assert relay == []
    assert any(e.get("kind") == "event_store_failed" for e in actor.events)
    path = settings.paths.attendance_path()
    if path.exists():
        with AttendanceLog(path) as log:
            assert log.entries("exam-1") == []


def test_an_attendance_store_that_fails_is_an_alarm_and_the_door_keeps_working(
    enrolled, tmp_path, pipeline, demo_photos
):
    """Another process holds the attendance database locked: the grant still opens the door
    (its event is stored), the failure is an ``attendance_failed`` alarm, the loop goes on."""
    import sqlite3

    from facegate.access.attendance import AttendanceLog

    settings = _grant_settings(enrolled, tmp_path)
    path = settings.paths.attendance_path()
    AttendanceLog(path).close()
    holder = sqlite3.connect(path, isolation_level=None, timeout=0.1)

    class LockWhilePrompted(Actor):
        def on_prompt(self, blinks: int) -> None:
            holder.execute("BEGIN EXCLUSIVE")  # the door is up; its store is now locked
            super().on_prompt(blinks)

    try:
        actor = LockWhilePrompted(PortraitActor(demo_photos["astronaut"], seed=10))
        relay = run(settings, pipeline, actor)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert actor.access()[0]["decision"] == "granted"
    assert len(relay) == 1
    alarm = next(e for e in actor.events if e.get("kind") == "attendance_failed")
    assert alarm["detail"]["student_id"] == STUDENT and alarm["detail"]["session_id"] == "exam-1"
