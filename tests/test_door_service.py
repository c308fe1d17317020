"""The door service end to end: real clips through the real pipeline on gpiozero's mock pins.

A person is enrolled from frames of their own clip (d18), then the clip is played through
:class:`DoorService` from an OpenCV file source: real Haar, dlib landmarks, liveness, MTCNN,
FaceNet int8, the encrypted gallery and second-factor store, the roster and the journal.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from facegate.access.attendance import AttendanceLog
from facegate.config import Settings
from facegate.demo.roster_file import session_toml
from facegate.door import DoorListener, DoorService
from facegate.door.loop import DoorLoop
from facegate.evaluation.photo_attack import held_photo_frames
from facegate.events.journal import read_journal
from facegate.hardware.mock_pins import on_periods
from facegate.hardware.pin_factory import make_pin_factory
from facegate.identity.enrolment import Enroller
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.second_factor import SecondFactorStore
from facegate.vision.pipeline import FacePipeline
from facegate.vision.quality import QualityGate
from facegate.vision.sources import OpenCVSource
from facegate.vision.sources.rendered import RenderedSource
from facegate.vision.video import video_frames
from tests.conftest import shared

RELAY = 17
UNLOCK_S = 1.0
STUDENT = "stu-d18"


@pytest.fixture(scope="module")
def enrolled(tmp_path_factory, pipeline: FacePipeline) -> Path:
    """A data dir with d18 enrolled from 6 frames of the clip, and a TOTP secret."""
    clip = shared("blink", "liveportrait", "d18.mp4")
    work = tmp_path_factory.mktemp("enrolled")
    settings = make_settings(work / "data", None)
    with open_configured_gallery(
        settings.paths, pipeline.embedder.name, pipeline.embedder.dim, create=True
    ) as gallery:
        outcome = Enroller(pipeline, QualityGate(settings.quality)).enroll_images(
            gallery, STUDENT, "D18", video_frames(clip, every=40), work
        )
    assert outcome.stored >= 4
    with SecondFactorStore.open(
        settings.paths.second_factor_path(), settings.paths.resolved_key_file(), create=True
    ) as store:
        (work / "secret").write_text(store.enroll(STUDENT))
    return work


def make_settings(data_dir: Path, roster: Path | None, challenge: bool = False) -> Settings:
    base = Settings()
    return Settings.model_validate(
        {
            **base.model_dump(),
            "device": {"id": "test-door", "room": "r1"},
            "paths": {**base.paths.model_dump(), "data_dir": data_dir, "key_file": None},
            "hardware": {**base.hardware.model_dump(), "pin_factory": "mock", "unlock_s": UNLOCK_S},
            "access": {**base.access.model_dump(), "roster_file": roster, "code_timeout_s": 2.0},
            "liveness": {
                **base.liveness.model_dump(),
                "challenge": challenge,
                "challenge_min_blinks": 1,
                "challenge_max_blinks": 1,
            },
        }
    )


def write_roster(path: Path, students: list[str], second_factor: bool, hours: float = 0) -> Path:
    """One session in room r1 around now (shifted by ``hours``)."""
    now = datetime.now(UTC) + timedelta(hours=hours)
    start, end = now - timedelta(minutes=30), now + timedelta(minutes=30)
    path.write_text(session_toml("exam-1", "r1", start, end, students, second_factor))
    return path


def prepared(enrolled: Path, tmp_path: Path, students=(STUDENT,), **hardware) -> Settings:
    """A copy of the enrolled data, a session for ``students`` open now, hardware overrides."""
    data = tmp_path / "data"
    shutil.copytree(enrolled / "data", data)
    settings = make_settings(data, write_roster(tmp_path / "r.toml", list(students), False))
    return settings.model_copy(update={"hardware": settings.hardware.model_copy(update=hardware)})


class Recorder(DoorListener):
    """Collects events; types ``code`` when the door asks for one."""

    def __init__(self, code: str | None = None) -> None:
        self.events: list[dict] = []
        self.code = code
        self.service: DoorService | None = None

    def on_ask_code(self, student_id: str) -> None:
        assert self.service is not None
        for key in [*(self.code or ""), "#"]:
            self.service.press_key(key)

    def on_event(self, event: dict) -> None:
        self.events.append(event)

    def access(self) -> list[dict]:
        return [e for e in self.events if e["type"] == "access"]


def run_door(
    enrolled: Path,
    tmp_path: Path,
    pipeline: FacePipeline,
    source,
    students: list[str] | None = None,
    second_factor: bool = False,
    hours: float = 0,
    code: str | None = None,
    challenge: bool = False,
    wall_clock=None,
):
    data = tmp_path / "data"
    shutil.copytree(enrolled / "data", data)
    roster = write_roster(tmp_path / "roster.toml", students or [STUDENT], second_factor, hours)
    settings = make_settings(data, roster, challenge)
    factory = make_pin_factory("mock")
    recorder = Recorder(code)
    service = DoorService(
        settings,
        wall_clock=wall_clock,
        source=lambda: source,
        pipeline=pipeline,
        listener=recorder,
        handle_signals=False,
        pin_factory=factory,
    )
    recorder.service = service
    service.run()
    return recorder, on_periods(factory, RELAY), settings


def d18() -> OpenCVSource:
    return OpenCVSource(shared("blink", "liveportrait", "d18.mp4"))


def test_enrolled_live_student_is_granted_and_the_relay_pulses(enrolled, tmp_path, pipeline):
    recorder, relay, settings = run_door(enrolled, tmp_path, pipeline, d18())
    first = recorder.access()[0]
    assert first["decision"] == "granted" and first["student_id"] == STUDENT
    assert first["session_id"] == "exam-1" and len(first["liveness"]["blinks"]) >= 1
    assert first["scores"]["distance"] < first["scores"]["threshold"]
    # One grant for the one person in view (no second attempt for the same track), one pulse.
    assert len(recorder.access()) == 1
    ((_, duration),) = relay
    assert duration == pytest.approx(UNLOCK_S, abs=0.3)
    journal = read_journal(settings.journal_path())
    assert [e["event_id"] for e in journal.events] == [e["event_id"] for e in recorder.events]
    with AttendanceLog(settings.paths.attendance_path()) as log:
        assert [row[1] for row in log.entries("exam-1")] == [STUDENT]


def test_a_real_blink_answers_a_one_blink_challenge(enrolled, tmp_path, pipeline):
    """d18 blinks at 3.1 s and 6.2 s; a 'blink once' challenge over 0-6 s sees one blink."""
    recorder, relay, _ = run_door(enrolled, tmp_path, pipeline, d18(), challenge=True)
    (event,) = recorder.access()
    assert event["decision"] == "granted"
    assert event["liveness"]["challenge"]["blinks"] == 1
    assert len(relay) == 1


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("photo", "spoof_static"),
        ("unknown", "unknown_face"),
        ("not_on_roster", "not_on_roster"),
        ("outside_session", "no_session"),
        ("wrong_code", "totp_invalid"),
    ],
)
def test_denials_never_turn_the_relay_on(enrolled, tmp_path, pipeline, case, reason):
    kwargs: dict = {}
    source = d18()
    if case == "photo":
        still = next(video_frames(shared("blink", "liveportrait", "d18.mp4")))
        frames = [f for _, f in held_photo_frames(still, seed=3, seconds=5.0)]
        source = RenderedSource.of(frames, 15.0, "photo")
    elif case == "unknown":
        source = OpenCVSource(shared("blink", "liveportrait", "d12.mp4"))
    elif case == "not_on_roster":
        kwargs["students"] = ["someone-else"]
    elif case == "outside_session":
        kwargs["hours"] = -3
    elif case == "wrong_code":
        kwargs.update(second_factor=True, code="000000")
    recorder, relay, _ = run_door(enrolled, tmp_path, pipeline, source, **kwargs)
    first = recorder.access()[0]
    assert first["decision"] == "denied" and first["reasons"][0] == reason
    assert all(e["decision"] == "denied" for e in recorder.access())
    assert relay == []
    if case == "photo":
        assert [e["kind"] for e in recorder.events if e["type"] == "alarm"] == ["spoof_attempt"]
    if case == "not_on_roster":
        assert first["student_id"] is None  # not named at a door that is not their exam


def test_right_code_grants_and_the_same_code_again_is_a_replay(enrolled, tmp_path, pipeline):
    # Both runs see the moment the code was read off the app, however long a loaded machine
    # takes to play the clip twice: the second entry is then inside the same time step.
    moment = datetime.now(UTC)
    code = pyotp.TOTP((enrolled / "secret").read_text()).at(moment)
    recorder, relay, settings = run_door(
        enrolled,
        tmp_path,
        pipeline,
        d18(),
        second_factor=True,
        code=code,
        wall_clock=lambda: moment,
    )
    first = recorder.access()[0]
    assert first["decision"] == "granted" and first["second_factor"] == "totp_ok"
    assert len(relay) == 1
    # The same door, a second run on the same store: the code of that time step is spent.
    again = tmp_path / "again"
    again.mkdir()
    shutil.copytree(settings.paths.data_dir, again / "enrolled" / "data")
    recorder, relay, _ = run_door(
        again / "enrolled",
        again,
        pipeline,
        d18(),
        second_factor=True,
        code=code,
        wall_clock=lambda: moment,
    )
    assert recorder.access()[0]["reasons"] == ["totp_replayed"]
    assert relay == []


class Interrupt(DoorListener):
    """Once the door is open, act on the service from outside the flow."""

    def __init__(self, action) -> None:
        self.action = action
        self.events: list[dict] = []

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        if event.get("decision") == "granted":
            threading.Timer(0.2, self.action).start()


def test_sigterm_mid_unlock_locks_at_once(enrolled, tmp_path, pipeline):
    settings = prepared(enrolled, tmp_path, unlock_s=10.0)
    factory = make_pin_factory("mock")
    listener = Interrupt(lambda: os.kill(os.getpid(), signal.SIGTERM))
    previous = signal.getsignal(signal.SIGTERM)
    service = DoorService(
        settings, source=d18, pipeline=pipeline, listener=listener, pin_factory=factory
    )
    started = time.monotonic()
    service.run()
    assert signal.getsignal(signal.SIGTERM) is previous  # handlers restored
    ((_, duration),) = on_periods(factory, RELAY)
    assert duration is not None and duration < 5.0  # cut short of the 10 s unlock
    assert not factory.pin(RELAY).state
    assert time.monotonic() - started < 20


def test_an_exception_mid_unlock_locks_the_door(enrolled, tmp_path, pipeline, monkeypatch):
    settings = prepared(enrolled, tmp_path, unlock_s=10.0)
    factory = make_pin_factory("mock")
    service = DoorService(
        settings, source=d18, pipeline=pipeline, pin_factory=factory, handle_signals=False
    )
    original = DoorLoop.on_frame

    def explode(loop, frame):  # a bug anywhere in the loop while the door is open
        if service.relay is not None and service.relay.unlocked:
            raise RuntimeError("injected fault while unlocked")
        original(loop, frame)

    monkeypatch.setattr(DoorLoop, "on_frame", explode)
    with pytest.raises(RuntimeError, match="injected fault"):
        service.run()
    ((_, duration),) = on_periods(factory, RELAY)
    assert duration is not None and duration < 5.0
    assert not factory.pin(RELAY).state


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ("[hardware]\nrelay_pin = 40\n", "hardware.relay_pin"),
        ("[hardware]\nrelay_pin = 22\n", "BCM pin 22 is used twice"),
        ("[camera]\nfps = 0\n", "camera.fps"),
        ("[access]\nroster_file = '/nonexistent/roster.toml'\n", "access.roster_file"),
        ("[acess]\nroster_file = 'x'\n", "acess"),
        (
            "[hardware]\npin_factory = 'mock'\n[paths]\nkey_file = '/nonexistent/gallery.key'\n",
            "key file /nonexistent/gallery.key is missing",
        ),
    ],
)
def test_a_bad_config_is_named_and_run_exits_nonzero(tmp_path, toml, named):
    config = tmp_path / "facegate.toml"
    config.write_text(toml)
    done = subprocess.run(
        [sys.executable, "-m", "facegate", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert named in done.stderr


def test_door_opened_without_a_grant_is_a_forced_alarm(enrolled, tmp_path, pipeline):
    settings = prepared(enrolled, tmp_path, ["someone-else"], door_contact_pin=16)
    factory = make_pin_factory("mock")

    class ForceAfterDenial(Recorder):
        def on_event(self, event: dict) -> None:
            super().on_event(event)
            if event.get("decision") == "denied" and len(self.events) == 1:
                contact = factory.pin(16)
                contact.drive_low()  # reed contact closed: the door is shut
                time.sleep(0.1)  # longer than the contact's debounce
                contact.drive_high()  # and opened with no grant and no exit request
                time.sleep(0.1)
                contact.drive_low()  # and shut again (held open would be another alarm)

    recorder = ForceAfterDenial()
    service = DoorService(
        settings,
        source=d18,
        pipeline=pipeline,
        listener=recorder,
        pin_factory=factory,
        handle_signals=False,
    )
    service.run()
    alarms = [e for e in recorder.events if e["type"] == "alarm"]
    assert [a["kind"] for a in alarms] == ["door_forced"]
    assert on_periods(factory, RELAY) == []


def test_an_invalid_roster_stops_the_start_and_check_config_names_it(tmp_path):
    roster = tmp_path / "roster.toml"
    roster.write_text(
        '[[session]]\nid = "exam-9"\nroom = "r1"\nstart = 2026-01-01T10:00:00+01:00\n'
        'end = 2026-01-01T09:00:00+01:00\nstudents = ["a"]\n'
    )
    config = tmp_path / "facegate.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{tmp_path / "data"}"\n[hardware]\npin_factory = "mock"\n'
        f'[access]\nroster_file = "{roster}"\n'
    )
    for command in (["check-config", str(config)], ["--config", str(config), "run"]):
        done = subprocess.run(
            [sys.executable, "-m", "facegate", *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 78, command  # EX_CONFIG: systemd does not restart it
        assert "exam-9" in done.stderr and "end must be after start" in done.stderr, done.stderr
    # Nothing was touched: no journal, no relay driven.
    assert not (tmp_path / "data" / "events.jsonl").exists()


def test_a_dead_camera_is_an_alarm_not_a_crash(enrolled, tmp_path, pipeline):
    settings = prepared(enrolled, tmp_path)
    settings = settings.model_copy(
        update={
            "camera": settings.camera.model_copy(
                update={"dead_after_s": 0.5, "reopen_initial_s": 0.1, "reopen_max_s": 0.2}
            )
        }
    )
    factory = make_pin_factory("mock")

    class StopAfterAlarm(Recorder):
        def on_event(self, event: dict) -> None:
            super().on_event(event)
            assert self.service is not None
            threading.Timer(0.5, self.service.stop).start()

    recorder = StopAfterAlarm()
    service = DoorService(
        settings,
        source=lambda: OpenCVSource(tmp_path / "unplugged-camera.mp4"),  # cannot be opened
        lockstep=False,
        pipeline=pipeline,
        listener=recorder,
        pin_factory=factory,
        handle_signals=False,
    )
    recorder.service = service
    bound = threading.Timer(30.0, service.stop)  # should the alarm never come
    bound.start()
    try:
        assert service.run() == 0
    finally:
        bound.cancel()
    (alarm,) = [e for e in recorder.events if e["type"] == "alarm"]
    assert alarm["kind"] == "camera_error" and "unplugged-camera.mp4" in alarm["detail"]["error"]
    assert read_journal(settings.journal_path()).events == recorder.events
    assert on_periods(factory, RELAY) == []


def test_sighup_reloads_the_roster_and_a_bad_one_keeps_the_old(enrolled, tmp_path, pipeline):
    """d18 blinks at 3.1 s and 6.2 s: refused as not on the roster, the admin adds them and
    sends SIGHUP, the next attempt of the same person is granted."""
    settings = prepared(enrolled, tmp_path, ["someone-else"])
    roster = settings.access.roster_file
    assert roster is not None
    factory = make_pin_factory("mock")

    class AdminReloads(Recorder):
        def on_event(self, event: dict) -> None:
            super().on_event(event)
            if event.get("reasons") == ["not_on_roster"]:
                roster.write_text("[[session]]\nid = 'broken'\n")
                os.kill(os.getpid(), signal.SIGHUP)  # refused: the old roster stays
            elif event.get("kind") == "roster_invalid":
                write_roster(roster, [STUDENT], False)
                os.kill(os.getpid(), signal.SIGHUP)

    recorder = AdminReloads()
    service = DoorService(
        settings, source=d18, pipeline=pipeline, listener=recorder, pin_factory=factory
    )
    service.run()
    kinds = [e["reasons"][0] if e["type"] == "access" else e["kind"] for e in recorder.events]
    assert kinds == ["not_on_roster", "roster_invalid", "granted"]
    assert len(on_periods(factory, RELAY)) == 1
