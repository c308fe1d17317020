"""Opening a door's parts, in the order that keeps it safe, and nothing else.

The relay is already created (off) when this starts. Then: the roster (a bad one stops the
start before any file is made), outputs, records (key file first: it is never made here),
vision and recognition, the flow, inputs, MQTT. Each part that must be closed is added to
``closers``, so the service can take down whatever was opened if a later step fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from facegate.access.attendance import AttendanceLog
from facegate.access.flow import AccessFlow, Place
from facegate.access.roster import Roster, load_roster
from facegate.config import Settings
from facegate.door.commands import CommandHandlers, CommandParts
from facegate.door.data import DoorData
from facegate.door.desk import EventDesk
from facegate.door.effects import AttemptEffects, EffectParts
from facegate.door.inbox import (
    ContactChanged,
    DeviceAlarm,
    ExitPressed,
    Inbox,
    KeyPressed,
    RemoteCommand,
)
from facegate.door.listener import DoorListener
from facegate.door.lockdown import Lockdown
from facegate.door.loop import DoorLoop
from facegate.door.opener import DoorOpener
from facegate.door.outbox_watch import OutboxWatch
from facegate.door.parts import DoorParts
from facegate.door.retention import Retention
from facegate.errors import KeyFileError
from facegate.events.journal import EventSink, JournalSink
from facegate.events.recorder import EventRecorder
from facegate.hardware.door import DoorRelay
from facegate.hardware.door_sensors import DoorSensors
from facegate.hardware.door_watch import DoorEvent, DoorWatch
from facegate.hardware.indicators import Indicators
from facegate.hardware.key_entry import KeyEntry
from facegate.hardware.keypad import EvdevKeypad, MatrixKeypad
from facegate.identity.attempt_frames import AttemptFrames
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.recognition_worker import RecognitionWorker
from facegate.identity.recognizer import Recognizer
from facegate.identity.second_factor import SecondFactorStore
from facegate.identity.thresholds import binding_limit
from facegate.identity.totp import Verdict
from facegate.mqtt.door_mqtt import DoorMqtt
from facegate.service.clock import ClockSync
from facegate.service.notify import SystemdNotifier
from facegate.vision.capture import CaptureThread
from facegate.vision.perception import Perception
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources import FrameSource, open_source

log = logging.getLogger("facegate.door")


class DoorBuilder:
    def __init__(
        self,
        settings: Settings,
        *,
        source: Callable[[], FrameSource] | None,
        lockstep: bool | None,
        pipeline: FacePipeline | None,
        wall_clock: Callable[[], datetime],
        listener: DoorListener,
        sinks: list[EventSink],
        notifier: SystemdNotifier,
        closers: list[Callable[[], None]],
    ) -> None:
        self.s = settings
        self._make_source = source or (lambda: open_source(settings.camera))
        self._lockstep = lockstep
        self._pipeline = pipeline
        self._wall = wall_clock
        self._listener = listener
        self._sinks = sinks
        self._notifier = notifier
        self._closers = closers
        self.inbox = Inbox()
        self.mqtt: DoorMqtt | None = None
        self.parts: DoorParts
        self._loop: DoorLoop | None = None
        self.flow: AccessFlow | None = None
        self.monotonic = time.monotonic

    def build(self, relay: DoorRelay) -> DoorParts:
        s, closers = self.s, self._closers
        place = Place(s.device.id, s.device.room)
        roster = self._load_roster()  # a bad roster stops the start before any file is made
        hw = s.hardware
        indicators = Indicators(
            hw.green_led_pin, hw.red_led_pin, hw.amber_led_pin, hw.rgb_led_pins, hw.buzzer_pin
        )
        closers.append(indicators.close)
        key = s.paths.resolved_key_file()
        if not key.exists():
            # Never made here: a new key would not open the gallery enrolled with the old one.
            raise KeyFileError(
                f"key file {key} is missing (paths.key_file, or systemd's LoadCredential): "
                "the gallery and the TOTP secrets cannot be opened without it"
            )
        s.paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        r = s.retention
        journal = JournalSink(s.journal_path(), int(r.journal_max_mb * 1024 * 1024), r.journal_days)
        closers.append(journal.close)
        if s.mqtt.enabled:
            self.mqtt = DoorMqtt(
                s.mqtt,
                s.device.id,
                s.device.room,
                s.paths.data_dir,
                on_command=lambda name, payload: self.inbox.put(RemoteCommand(name, payload)),
            )
            closers.append(self.mqtt.close)
        mqtt = self.mqtt
        recorder = EventRecorder(
            journal,
            mqtt.outbox if mqtt else None,
            mqtt.topics.event_topic if mqtt else None,
            on_added=mqtt.link.wake if mqtt else None,
        )
        recorder.recover()
        desk = EventDesk(recorder, place, self._listener, self._sinks, mqtt)
        attendance = AttendanceLog(s.paths.attendance_path()) if s.access.attendance else None
        if attendance is not None:
            closers.append(attendance.close)
        second_factor = SecondFactorStore.open(s.paths.second_factor_path(), key, create=True)
        closers.append(second_factor.close)
        lockdown = Lockdown(mqtt.store if mqtt else None)  # a restart does not lift a lockdown
        watch = DoorWatch(hw.held_open_s)
        opener = DoorOpener(relay, watch, indicators, lockdown, self._door_event)

        if self._pipeline is None:
            self._pipeline = FacePipeline.load(s.detection, s.embedder, s.paths.models_dir)
        pipeline = self._pipeline
        data = DoorData(
            roster,
            self._load_roster,
            self._load_recognizer,
            self._notifier.reloading,
            self._notifier.ready,
        )
        perception = Perception.from_config(s.detection, pipeline.landmarks)
        frames = AttemptFrames(s.access.frames_to_embed)
        worker = RecognitionWorker(lambda: data.recognizer)
        closers.append(worker.close)
        flow = AccessFlow(
            place,
            s.access,
            s.liveness,
            roster=lambda: data.roster,
            wall_clock=self._wall,
            verify_code=lambda student, code: self._verify(second_factor, student, code),
            lockdown=lambda: lockdown.on,
        )
        self.flow = flow
        entry = KeyEntry(max_digits=hw.code_digits, min_digits=hw.code_digits)
        source = self._make_source()  # may look at the service's relay and flow (benchmarks)
        if self._lockstep is None:
            self._lockstep = not source.live
        effects = AttemptEffects(
            EffectParts(
                flow,
                desk,
                opener,
                indicators,
                indicators.challenge_prompter(
                    show=lambda text: log.info("challenge: %s", text) if text else None
                ),
                self._listener,
                frames,
                worker,
                entry,
                attendance,
                s.access,
                s.device.room,
                hw.unlock_s,
                s.access.binding_limit or binding_limit(pipeline.embedder.name),
                lambda: data.roster,
                self._wall,
            ),
            lambda: self._loop.now if self._loop is not None else 0.0,
            self._lockstep,
            beat=self._beat,
        )
        capture = CaptureThread(
            lambda: source,
            lockstep=self._lockstep,
            reopen_initial_s=s.camera.reopen_initial_s,
            reopen_max_s=s.camera.reopen_max_s,
            dead_after_s=s.camera.dead_after_s,
            on_alarm=lambda kind, detail: self.inbox.put(DeviceAlarm(kind, detail)),
        )
        closers.append(capture.stop)
        self.parts = DoorParts(
            settings=s,
            place=place,
            inbox=self.inbox,
            notifier=self._notifier,
            wall_clock=self._wall,
            indicators=indicators,
            lockdown=lockdown,
            watch=watch,
            opener=opener,
            journal=journal,
            desk=desk,
            outbox_watch=OutboxWatch(desk, indicators, mqtt),
            mqtt=mqtt,
            second_factor=second_factor,
            data=data,
            perception=perception,
            frames=frames,
            worker=worker,
            flow=flow,
            entry=entry,
            effects=effects,
            capture=capture,
        )
        self._retention = Retention(s.retention, journal, attendance, second_factor, self._wall)
        self._retention.prune()
        self._open_inputs()
        if mqtt is not None:
            mqtt.start()
        return self.parts

    def make_loop(self, stop: threading.Event) -> DoorLoop:
        commands = None
        if self.mqtt is not None:
            p = self.parts
            commands = CommandHandlers(
                CommandParts(
                    self.mqtt,
                    p.desk,
                    p.opener,
                    p.lockdown,
                    p.second_factor,
                    ClockSync(self.s.mqtt.require_clock_sync),
                    self.s.hardware.unlock_s,
                    lambda on, by: self._loop.set_lockdown(on, by) if self._loop else None,
                    p.data.reload,
                    self._wall,
                )
            )
        assert self._lockstep is not None
        self._loop = DoorLoop(self.parts, commands, self._lockstep, stop, self._retention.prune)
        return self._loop

    def _beat(self) -> None:
        if self._loop is not None:
            self._loop.heartbeat = time.monotonic()

    def request_reload(self) -> None:
        if self._loop is not None:
            self._loop.reload_wanted = "all"  # a plain store: safe from a signal handler

    def ready_status(self) -> str:
        p = self.parts
        roster_note = (
            f"{len(p.data.roster.session)} sessions" if self.s.access.roster_file else "none"
        )
        return (
            f"door {self.s.device.id} ready: {len(p.data.recognizer.matcher.classes)} students "
            f"enrolled, roster {roster_note}, camera {p.capture.source_name}"
        )

    # -- pieces ------------------------------------------------------------------------------

    def _open_inputs(self) -> None:
        hw, inbox = self.s.hardware, self.inbox
        keypad: MatrixKeypad | EvdevKeypad | None = None
        press = self._press
        if hw.keypad == "matrix" and hw.keypad_rows and hw.keypad_cols:
            keypad = MatrixKeypad(hw.keypad_rows, hw.keypad_cols, press)
        elif hw.keypad == "usb" and hw.keypad_device:
            keypad = EvdevKeypad(
                hw.keypad_device,
                press,
                on_alarm=lambda kind, detail: inbox.put(DeviceAlarm(kind, detail)),
            )
        if keypad is not None:
            self._closers.append(keypad.close)
        sensors = DoorSensors(
            hw.door_contact_pin,
            hw.exit_button_pin,
            on_contact=lambda opened: inbox.put(ContactChanged(opened, time.monotonic())),
            on_exit=lambda: inbox.put(ExitPressed(time.monotonic())),
        )
        self._closers.append(sensors.close)

    def _press(self, key: str) -> None:
        self.inbox.put(KeyPressed(key, time.monotonic()))

    def _door_event(self, event: DoorEvent) -> None:
        if self._loop is not None:
            self._loop.door_event(event)

    def _verify(self, store: SecondFactorStore, student_id: str, code: str) -> Verdict:
        return store.verify(student_id, code, self._wall().timestamp())

    def _load_roster(self) -> Roster:
        path: Path | None = self.s.access.roster_file
        return load_roster(path) if path is not None else Roster()

    def _load_recognizer(self) -> Recognizer:
        assert self._pipeline is not None
        emb = self._pipeline.embedder
        with open_configured_gallery(self.s.paths, emb.name, emb.dim) as gallery:
            return Recognizer(self._pipeline, gallery, self.s)
