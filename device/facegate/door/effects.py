"""Carrying out what the access flow asks for, in the order it asks.

A decision is stored before the door acts on it: an ``Unlock`` whose ``Decided`` event could
not be kept opens nothing (``event_store_failed``). Attendance follows the door actually
opening for a stored grant; if the attendance store fails, that is an alarm, not a crash.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from facegate.access.attendance import AttendanceLog
from facegate.access.flow import (
    WALKED_AWAY,
    AccessFlow,
    AskCode,
    BlinkSeen,
    ClearPrompt,
    ComeCloser,
    Decided,
    Effect,
    Prompt,
    Recognise,
    Unlock,
)
from facegate.access.roster import Roster
from facegate.config.access import AccessConfig
from facegate.door.desk import EventDesk
from facegate.door.listener import DoorListener
from facegate.door.opener import DoorOpener
from facegate.hardware.challenge_signals import SignalPrompter
from facegate.hardware.indicators import Indicators
from facegate.hardware.key_entry import KeyEntry
from facegate.identity.attempt_frames import AttemptFrames
from facegate.identity.recognition import FACE_CHANGED, RecognitionJob
from facegate.identity.recognition_worker import RecognitionWorker

log = logging.getLogger("facegate.door")


@dataclass
class EffectParts:
    flow: AccessFlow
    desk: EventDesk
    opener: DoorOpener
    indicators: Indicators
    prompter: SignalPrompter
    listener: DoorListener
    frames: AttemptFrames
    worker: RecognitionWorker
    entry: KeyEntry
    attendance: AttendanceLog | None
    access: AccessConfig
    room: str
    unlock_s: float
    bind_limit: float
    roster: Callable[[], Roster]
    wall_clock: Callable


class AttemptEffects:
    def __init__(
        self,
        parts: EffectParts,
        flow_time: Callable[[], float],
        lockstep: bool,
        beat: Callable[[], None] = lambda: None,
    ) -> None:
        self.p = parts
        self._flow_time = flow_time
        self._lockstep = lockstep
        self._beat = beat
        self.code_attempt: str | None = None
        self._granted: dict | None = None

    def apply(self, effects: list[Effect]) -> None:
        kept = True
        for effect in effects:
            match effect:
                case Prompt(challenge):
                    self.p.indicators.busy()
                    self.p.prompter.prompt(challenge)
                    self.p.listener.on_prompt(challenge.blinks)
                case ClearPrompt():
                    self.p.prompter.clear()
                case ComeCloser(on):
                    if on:
                        self.p.prompter.clear()
                        self.p.indicators.come_closer()
                    else:
                        self.p.indicators.busy()
                    self.p.listener.on_come_closer(on)
                case BlinkSeen(attempt_id, start, end):
                    witness = self.p.frames.blink(start, end)
                    if witness is not None:
                        self.p.worker.prepare(attempt_id, [witness])
                case Recognise(attempt_id, track_id):
                    self._recognise(attempt_id, track_id)
                case AskCode(attempt_id, student_id, _until):
                    self.code_attempt = attempt_id
                    self.p.entry.reset()
                    self.p.indicators.busy()
                    self.p.listener.on_ask_code(student_id)
                case Unlock(attempt_id):
                    self._unlock(attempt_id, kept)
                case Decided(event):
                    kept = self._decided(event.to_dict())

    def _recognise(self, attempt_id: str, track_id: int) -> None:
        frames = self.p.frames
        mine = frames.track_id == track_id
        session = self.p.roster().current(self.p.room, self.p.wall_clock())
        limit = self.p.access.limit_search_to_session and session is not None
        job = RecognitionJob(
            attempt_id,
            frames.best() if mine else [],
            session.students if limit and session is not None else None,
            frames.witnesses() if mine else [],
            self.p.bind_limit,
        )
        self.p.worker.submit(job)
        if self._lockstep:  # a file run waits for its answer: that wait is not a stall
            deadline = time.monotonic() + 60.0
            result = None
            while result is None and time.monotonic() < deadline:
                self._beat()
                result = self.p.worker.wait(timeout=0.5)
            if result is not None:
                self.apply(self.p.flow.on_recognition(result, self._flow_time()))

    def _unlock(self, attempt_id: str, kept: bool) -> None:
        if not kept:  # fail closed: no door opens on an event that is not on disk
            self.p.desk.alarm(
                "event_store_failed",
                {"unlocked": False, "error": self.p.desk.recorder.last_error},
                attempt_id,
            )
            return
        if not self.p.opener.open_for(self.p.unlock_s, time.monotonic()):
            log.error("attempt %s: the grant was refused at the relay (lockdown)", attempt_id)
            return
        granted, self._granted = self._granted, None
        if self.p.attendance is None or granted is None or not granted.get("session_id"):
            return
        try:
            self.p.attendance.record(
                granted["session_id"], granted["student_id"], self.p.wall_clock(), attempt_id
            )
        except Exception as exc:  # the door has opened; the record is what failed
            log.exception("attendance not recorded for attempt %s", attempt_id)
            self.p.desk.alarm(
                "attendance_failed",
                {
                    "session_id": granted["session_id"],
                    "student_id": granted["student_id"],
                    "error": str(exc)[:200],
                },
                attempt_id,
            )

    def _decided(self, event: dict) -> bool:
        kept = self.p.desk.decided(event)
        self.p.frames.reset()
        self.code_attempt = None
        reasons = event["reasons"]
        match_reason = (event.get("scores") or {}).get("match")
        if event["decision"] == "granted":
            self._granted = event
        elif reasons[0] not in WALKED_AWAY or match_reason == FACE_CHANGED:
            self.p.indicators.denied()
        if "spoof_static" in reasons or match_reason == FACE_CHANGED:
            self.p.desk.alarm("spoof_attempt", {"reasons": reasons}, event["attempt_id"])
        if "locked_out" in reasons:
            self.p.desk.alarm(
                "locked_out", {"student_id": event.get("student_id")}, event["attempt_id"]
            )
        return kept
