"""The door service: camera, tracker, access flow, recognition, keypad, relay, events.

One main loop owns all decisions. Other threads (capture, recognition, gpiozero callbacks of
the keypad and door contact, the internal watchdog) only hand data in through queues, so the
flow stays the single-threaded pure logic it was tested as.

Fail secure: the relay is created first and off; it is turned off again on every way out (an
exception, SIGTERM/SIGINT, a stalled main loop, the end of a run). An access event is written
to the journal before the relay pulses.

``lockstep`` runs a finite source (a file, the demo's synthesised clip) frame by frame on the
frames' own clock and waits for each recognition, so a run is reproducible; a camera runs live
on the monotonic clock and drops frames it cannot keep up with.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
from gpiozero import Device
from gpiozero.pins import Factory

from facegate.access.attendance import AttendanceLog
from facegate.access.best_frames import BestFrames
from facegate.access.flow import (
    AccessFlow,
    AskCode,
    ClearPrompt,
    Decided,
    Effect,
    FlowSettings,
    Observation,
    Phase,
    Prompt,
    Recognise,
    Unlock,
)
from facegate.access.roster import Roster, load_roster
from facegate.config import Settings
from facegate.errors import FacegateError, KeyFileError
from facegate.events.alarm_event import AlarmEvent
from facegate.events.commands import Command, Rejection, seal_reply
from facegate.events.door_mqtt import DoorMqtt
from facegate.events.health import health_message
from facegate.events.journal import EventSink, JournalSink
from facegate.events.recorder import EventRecorder
from facegate.hardware.door import DoorRelay
from facegate.hardware.door_sensors import DoorSensors
from facegate.hardware.door_watch import DoorAlarm, DoorEvent, DoorWatch
from facegate.hardware.indicators import Indicators
from facegate.hardware.key_entry import KeyEntry
from facegate.hardware.keypad import EvdevKeypad, MatrixKeypad
from facegate.hardware.pin_factory import GpioError, use_pin_factory
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.recognition_worker import RecognitionJob, RecognitionWorker
from facegate.identity.recognizer import Recognizer
from facegate.identity.second_factor import SecondFactorStore
from facegate.identity.totp import Verdict
from facegate.liveness.samples import FaceSample
from facegate.service.notify import SystemdNotifier
from facegate.vision.capture import CaptureThread
from facegate.vision.haar import HaarFaceDetector
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources import FrameSource, open_source
from facegate.vision.sources.base import Frame
from facegate.vision.tracker import FaceTracker

log = logging.getLogger("facegate.door")

# Past this share of its disk bound, the outbox raises an alarm (the door still works).
FILL_ALARM = 0.8

# Reasons that say the person left or changed, not that they were refused: no red light.
_WALKED_AWAY = ("face_lost", "face_changed")


class DoorListener:
    """What the demo and tests watch; every method is called on the main loop's thread."""

    def on_prompt(self, blinks: int) -> None: ...

    def on_ask_code(self, student_id: str) -> None: ...

    def on_event(self, event: dict) -> None: ...


class DoorService:
    def __init__(
        self,
        settings: Settings,
        *,
        source: Callable[[], FrameSource] | None = None,
        lockstep: bool | None = None,
        pipeline: FacePipeline | None = None,
        wall_clock: Callable[[], datetime] | None = None,
        listener: DoorListener | None = None,
        sinks: list[EventSink] | None = None,
        notifier: SystemdNotifier | None = None,
        handle_signals: bool = True,
        pin_factory: Factory | None = None,
    ) -> None:
        self.s = settings
        self._make_source = source or (lambda: open_source(settings.camera))
        self._lockstep = lockstep
        self._pipeline = pipeline
        self._wall = wall_clock or (lambda: datetime.now(UTC))
        self._listener = listener or DoorListener()
        self._extra_sinks = list(sinks or [])
        self._notifier = notifier or SystemdNotifier()
        self._handle_signals = handle_signals
        self._pin_factory = pin_factory
        self._inbox: queue.Queue[tuple] = queue.Queue()
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._heartbeat = time.monotonic()
        self._closers: list[Callable[[], None]] = []
        self._previous_handlers: dict[int, object] = {}
        self._now = 0.0
        self._code_attempt: str | None = None
        self.relay: DoorRelay | None = None
        self.mqtt: DoorMqtt | None = None
        self._started = time.monotonic()
        self._fill_alarmed = self._full_alarmed = False
        self._reject_times: deque[float] = deque()
        self._rejects_suppressed = 0
        self.exit_code = 0
        self.frames = self.attempts = self.granted = 0

    # -- public ------------------------------------------------------------------------------

    def run(self) -> int:
        """Open everything, run until stopped (or a finite source ends), lock the door."""
        try:
            self._open()
            self._loop()
        finally:
            self._shutdown()
        return self.exit_code

    def stop(self) -> None:
        """Lock at once and end the loop (a signal handler calls this too)."""
        if self.relay is not None:
            self.relay.lock()
        self._stop.set()

    @property
    def flow_time(self) -> float:
        """The flow's clock: the last frame's time (a camera's frames carry monotonic time)."""
        return self._now

    def request_reload(self) -> None:
        self._reload.set()

    # -- start-up ----------------------------------------------------------------------------

    def _open(self) -> None:
        hw = self.s.hardware
        if self._pin_factory is not None:
            Device.pin_factory = self._pin_factory  # the demo's and tests' own mock pins
        else:
            if hw.pin_factory == "mock":
                log.warning("GPIO on gpiozero's MOCK pins: this process drives no real door")
            self._closers.append(use_pin_factory(hw.pin_factory).close)
        try:
            self.relay = DoorRelay(hw.relay_pin, hw.relay_active_high, hw.unlock_s)
        except Exception as exc:
            raise GpioError(f"hardware.relay_pin {hw.relay_pin}: {exc}") from None
        self._closers.append(self.relay.close)
        if self._handle_signals:
            self._install_signals()
        self.roster = self._load_roster()  # a bad roster stops the start before any file is made
        self._open_outputs()
        self._open_records()
        self._open_vision()
        self._open_inputs()
        if self.mqtt is not None:
            self.flow.lockdown = self.mqtt.store.lockdown  # a restart does not lift a lockdown
            self.mqtt.start()
        self._start_watchdog()

    def _open_outputs(self) -> None:
        hw = self.s.hardware
        self.indicators = Indicators(
            hw.green_led_pin, hw.red_led_pin, hw.amber_led_pin, hw.rgb_led_pins, hw.buzzer_pin
        )
        self._closers.append(self.indicators.close)
        self.prompter = self.indicators.challenge_prompter(
            show=lambda text: log.info("challenge: %s", text) if text else None
        )

    def _open_records(self) -> None:
        paths = self.s.paths
        key = paths.resolved_key_file()
        if not key.exists():
            # Never made here: a new key would not open the gallery enrolled with the old one.
            raise KeyFileError(
                f"key file {key} is missing (paths.key_file, or systemd's LoadCredential): "
                "the gallery and the TOTP secrets cannot be opened without it"
            )
        paths.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.journal = JournalSink(self.s.journal_path())
        self._closers.append(self.journal.close)
        if self.s.mqtt.enabled:
            self.mqtt = DoorMqtt(
                self.s.mqtt,
                self.s.device.id,
                self.s.device.room,
                paths.data_dir,
                on_command=lambda name, payload: self._inbox.put(("command", name, payload)),
            )
            self._closers.append(self.mqtt.close)
        self.recorder = EventRecorder(
            self.journal,
            self.mqtt.outbox if self.mqtt else None,
            self.mqtt.topics if self.mqtt else None,
            on_added=self.mqtt.link.wake if self.mqtt else None,
        )
        self.recorder.recover()
        self.attendance = (
            AttendanceLog(paths.attendance_path()) if self.s.access.attendance else None
        )
        if self.attendance is not None:
            self._closers.append(self.attendance.close)
        self.second_factor = SecondFactorStore.open(
            paths.second_factor_path(), paths.resolved_key_file(), create=True
        )
        self._closers.append(self.second_factor.close)

    def _open_vision(self) -> None:
        d = self.s.detection
        if self._pipeline is None:
            self._pipeline = FacePipeline.from_settings(self.s)
        haar = HaarFaceDetector(
            d.haar_width, d.haar_min_neighbors, d.haar_min_face_px, d.haar_scale_factor
        )
        self.tracker = FaceTracker(haar, self._pipeline.landmarks)
        self.recognizer = self._load_recognizer()
        self._worker = RecognitionWorker(lambda: self.recognizer)
        self._closers.append(self._worker.close)
        self.best = BestFrames(self.s.access.frames_to_embed)
        a = self.s.access
        self.flow = AccessFlow(
            FlowSettings(
                device_id=self.s.device.id,
                room=self.s.device.room,
                liveness=self.s.liveness,
                face_lost_s=a.face_lost_s,
                recognition_timeout_s=a.recognition_timeout_s,
                code_timeout_s=a.code_timeout_s,
                cooldown_s=a.cooldown_s,
            ),
            roster=lambda: self.roster,
            wall_clock=self._wall,
            verify_code=self._verify_code,
        )
        source = self._make_source()
        if self._lockstep is None:
            self._lockstep = not source.live
        self.capture = CaptureThread(
            lambda: source,
            lockstep=self._lockstep,
            reopen_initial_s=self.s.camera.reopen_initial_s,
            reopen_max_s=self.s.camera.reopen_max_s,
            dead_after_s=self.s.camera.dead_after_s,
            on_alarm=lambda kind, detail: self._inbox.put(("alarm", kind, detail)),
        )
        self._closers.append(self.capture.stop)

    def _open_inputs(self) -> None:
        hw = self.s.hardware
        self.entry = KeyEntry(max_digits=hw.code_digits, min_digits=hw.code_digits)
        self.door_watch = DoorWatch(hw.held_open_s)
        keypad: MatrixKeypad | EvdevKeypad | None = None
        if hw.keypad == "matrix" and hw.keypad_rows and hw.keypad_cols:
            keypad = MatrixKeypad(hw.keypad_rows, hw.keypad_cols, self.press_key)
        elif hw.keypad == "usb" and hw.keypad_device:
            keypad = EvdevKeypad(hw.keypad_device, self.press_key)
        if keypad is not None:
            self._closers.append(keypad.close)
        self.sensors = DoorSensors(
            hw.door_contact_pin,
            hw.exit_button_pin,
            on_contact=lambda opened: self._inbox.put(("contact", opened, time.monotonic())),
            on_exit=lambda: self._inbox.put(("exit", time.monotonic())),
        )
        self._closers.append(self.sensors.close)

    def press_key(self, key: str) -> None:
        """A key from any keypad (gpiozero or evdev thread): handled on the main loop."""
        self._inbox.put(("key", key, time.monotonic()))

    def _load_roster(self) -> Roster:
        path: Path | None = self.s.access.roster_file
        return load_roster(path) if path is not None else Roster()

    def _load_recognizer(self) -> Recognizer:
        assert self._pipeline is not None
        emb = self._pipeline.embedder
        with open_configured_gallery(self.s.paths, emb.name, emb.dim) as gallery:
            return Recognizer(self._pipeline, gallery, self.s)

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        handlers = {
            signal.SIGTERM: lambda *_: self.stop(),
            signal.SIGINT: lambda *_: self.stop(),
            signal.SIGHUP: lambda *_: self.request_reload(),
        }
        for sig, handler in handlers.items():
            self._previous_handlers[sig] = signal.signal(sig, handler)

    def _start_watchdog(self) -> None:
        """If the main loop stops beating, lock the door and stop feeding systemd's watchdog."""
        stall_s = self.s.service.stall_s

        def watch() -> None:
            fired = False
            while not self._stop.wait(min(0.5, stall_s / 4)):
                stalled = time.monotonic() - self._heartbeat > stall_s
                if stalled and not fired:
                    fired = True
                    if self.relay is not None:
                        self.relay.lock()
                    log.critical("main loop stalled for %.1f s: door locked", stall_s)
                    self._emit_alarm("watchdog_stall", {"stall_s": stall_s})
                elif not stalled:
                    fired = False

        self._watchdog = threading.Thread(target=watch, name="door-watchdog", daemon=True)
        self._watchdog.start()

    # -- the loop ----------------------------------------------------------------------------

    def _loop(self) -> None:
        roster_note = (
            f"{len(self.roster.session)} sessions" if self.s.access.roster_file else "none"
        )
        status = (
            f"door {self.s.device.id} ready: {len(self.recognizer.matcher.classes)} students "
            f"enrolled, roster {roster_note}, camera {self.capture.source_name}"
        )
        log.info(status)
        self._notifier.ready(status)
        last_ping = last_status = last_health = time.monotonic()
        frames_at_status = frames_at_health = 0
        while not self._stop.is_set():
            self._heartbeat = time.monotonic()
            if self._heartbeat - last_ping >= 1.0:
                self._notifier.watchdog()
                last_ping = self._heartbeat
                self._check_records()
            if self.mqtt is not None and (
                self._heartbeat - last_health >= self.s.mqtt.health_interval_s
            ):
                fps = (self.frames - frames_at_health) / (self._heartbeat - last_health)
                self._publish_health(fps)
                last_health, frames_at_health = self._heartbeat, self.frames
            if self._heartbeat - last_status >= 10.0:
                fps = (self.frames - frames_at_status) / (self._heartbeat - last_status)
                self._notifier.status(
                    f"{fps:.1f} frames/s, {self.attempts} attempts, {self.granted} granted"
                )
                last_status, frames_at_status = self._heartbeat, self.frames
            if self._reload.is_set():
                self._reload.clear()
                self._reload_data()
            frame = self.capture.get(timeout=0.2)
            if frame is not None:
                self._now = frame.t
                self._on_frame(frame)
            elif self.capture.ended:
                self._finish_stream()
                return
            elif not self._lockstep:
                self._now = max(self._now, time.monotonic())
                self._apply(self.flow.on_tick(self._now))
            self._drain_inbox()
            for result in self._worker.poll():
                self._apply(self.flow.on_recognition(result, self._now))
            for alarm in self.door_watch.tick(time.monotonic()):
                self._door_event(alarm)

    def _on_frame(self, frame: Frame) -> None:
        self.frames += 1
        h, w = frame.image.shape[:2]
        grey = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        tracked = self.tracker.update(grey, frame.t)
        if tracked is not None and self.flow.phase is Phase.IDLE and not self.recorder.healthy:
            tracked = None  # out of service: no attempt starts while events cannot be kept
        if tracked is None:
            obs = Observation(frame.t, None, 0, 0)
        else:
            sample = FaceSample(frame.t, tracked.landmarks, tracked.box, (w, h))
            obs = Observation(frame.t, sample, tracked.track_id, tracked.faces_in_view)
            if self.flow.phase in (Phase.IDLE, Phase.LIVENESS):
                self.best.offer(sample, frame.image, tracked.track_id)
        self._apply(self.flow.on_frame(obs))

    def _finish_stream(self) -> None:
        """A finite source ended: let the attempt under way run out on its own clock."""
        end = self._now + 120.0
        while self.flow.phase not in (Phase.IDLE, Phase.COOLDOWN) and self._now < end:
            self._now += 0.1
            self._drain_inbox()
            self._apply(self.flow.on_tick(self._now))
        if self.relay is not None:
            deadline = time.monotonic() + self.s.hardware.unlock_s + 1.0
            while self.relay.unlocked and time.monotonic() < deadline and not self._stop.is_set():
                self._heartbeat = time.monotonic()  # waiting here is not a stall
                time.sleep(0.02)

    def _drain_inbox(self) -> None:
        while True:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return
            kind = item[0]
            if kind == "key":
                self._on_key(item[1], item[2])
            elif kind == "contact":
                for alarm in self.door_watch.contact(item[1], item[2]):
                    self._door_event(alarm)
            elif kind == "exit":
                log.info("request-to-exit pressed: door unlocked")
                self._unlock(item[1])
            elif kind == "alarm":
                self._emit_alarm(item[1], item[2])
                if item[1] == "camera_error":
                    self._apply(self.flow.abort(self._now, "camera_error"))
            elif kind == "command":
                self._on_command(item[1], item[2])

    def _on_key(self, key: str, t: float) -> None:
        if self.flow.phase is not Phase.SECOND_FACTOR or self._code_attempt is None:
            return  # keys typed when no code is asked for are ignored
        result = self.entry.press(key, t)
        if result is None:
            return
        if result.error:
            log.info("keypad entry refused: %s", result.error)
        if result.code is not None:
            self._apply(self.flow.on_code(self._code_attempt, result.code, self._now))

    def _verify_code(self, student_id: str, code: str) -> Verdict:
        return self.second_factor.verify(student_id, code, self._wall().timestamp())

    # -- effects -----------------------------------------------------------------------------

    def _apply(self, effects: list[Effect]) -> None:
        kept = True
        for effect in effects:
            if isinstance(effect, Prompt):
                self.indicators.busy()
                self.prompter.prompt(effect.challenge)
                self._listener.on_prompt(effect.challenge.blinks)
            elif isinstance(effect, ClearPrompt):
                self.prompter.clear()
            elif isinstance(effect, Recognise):
                self._recognise(effect)
            elif isinstance(effect, AskCode):
                self._code_attempt = effect.attempt_id
                self.entry.reset()
                self.indicators.busy()
                self._listener.on_ask_code(effect.student_id)
            elif isinstance(effect, Unlock):
                if kept:
                    self._unlock(time.monotonic())
                else:  # fail closed: no door opens on an event that is not on disk
                    self._emit_alarm(
                        "event_store_failed",
                        {"unlocked": False, "error": self.recorder.last_error},
                        effect.attempt_id,
                    )
            elif isinstance(effect, Decided):
                kept = self._decided(effect.event.to_dict())

    def _recognise(self, effect: Recognise) -> None:
        frames = self.best.best() if self.best.track_id == effect.track_id else []
        session = self.roster.current(self.s.device.room, self._wall())
        limit = self.s.access.limit_search_to_session and session is not None
        candidates = session.students if limit and session is not None else None
        self._worker.submit(RecognitionJob(effect.attempt_id, frames, candidates))
        if self._lockstep:
            result = self._worker.wait(timeout=60.0)
            if result is not None:
                self._apply(self.flow.on_recognition(result, self._now))

    def _unlock(self, t: float) -> None:
        assert self.relay is not None
        self.relay.pulse()
        for event in self.door_watch.granted(t, self.s.hardware.unlock_s):
            self._door_event(event)
        self.indicators.granted(self.s.hardware.unlock_s)

    def _decided(self, event: dict) -> bool:
        kept = self._emit(event)
        if self.mqtt is not None:
            self.mqtt.last_decision(event)
        self.attempts += 1
        self.granted += event["decision"] == "granted"
        self.best.reset()
        self._code_attempt = None
        reasons = event["reasons"]
        log.info(
            "attempt %s %s: %s%s",
            event["attempt_id"],
            event["decision"],
            ",".join(reasons),
            f" (student {event['student_id']})" if event.get("student_id") else "",
        )
        if event["decision"] == "granted":
            if self.attendance is not None and event.get("session_id") and event["student_id"]:
                self.attendance.record(
                    event["session_id"], event["student_id"], self._wall(), event["attempt_id"]
                )
        elif reasons[0] not in _WALKED_AWAY:
            self.indicators.denied()
        if "spoof_static" in reasons:
            self._emit_alarm("spoof_attempt", {"reasons": reasons}, event["attempt_id"])
        if "locked_out" in reasons:
            self._emit_alarm(
                "locked_out", {"student_id": event.get("student_id")}, event["attempt_id"]
            )
        return kept

    def _door_event(self, event: DoorEvent) -> None:
        if not isinstance(event, DoorAlarm):
            log.info("door %s", event.status)
            if self.mqtt is not None:
                self.mqtt.door_state(str(event.status))
            return
        self._emit_alarm(event.kind, {"open_for_s": round(event.open_for_s, 1)})
        self.indicators.alarm()

    def _emit_alarm(self, kind: str, detail: dict, attempt_id: str | None = None) -> bool:
        event = AlarmEvent(self.s.device.id, self.s.device.room, kind, detail, attempt_id)
        log.warning("alarm %s %s", kind, detail)
        return self._emit(event.to_dict())

    def _emit(self, event: dict) -> bool:
        """Journal and outbox first (both synced); False when the event had to wait in memory.

        A failing extra sink must not lose the stored copies.
        """
        kept = self.recorder.record(event)
        for sink in self._extra_sinks:
            try:
                sink.emit(event)
            except Exception:
                log.exception("event sink %s failed; the event is in the journal", sink)
        self._listener.on_event(event)
        return kept

    # -- records, health and remote commands --------------------------------------------------

    def _check_records(self) -> None:
        """Once a second: retry events waiting in memory; say when the outbox fills."""
        was_healthy = self.recorder.healthy
        self.recorder.retry()
        if was_healthy and not self.recorder.healthy:
            self.indicators.denied()
        if self.mqtt is None:
            return
        self._expire_rejects()
        if self._rejects_suppressed and not self._reject_times:
            # A flood ended: the refusals not yet reported get their own summary alarm.
            self._emit_alarm("command_rejected", {"suppressed": self._rejects_suppressed})
            self._rejects_suppressed = 0
        fill = self.mqtt.outbox.fill()
        if fill >= FILL_ALARM and not self._fill_alarmed:
            self._fill_alarmed = True
            depth = self.mqtt.outbox.depth()
            self._emit_alarm(
                "outbox_full", {"fill": round(fill, 3), "depth": depth, "out_of_service": False}
            )
        elif not self.recorder.healthy and not self._full_alarmed:
            self._full_alarmed = True
            self._emit_alarm(
                "outbox_full",
                {"fill": round(fill, 3), "out_of_service": True, "error": self.recorder.last_error},
            )
        if fill < FILL_ALARM / 2:
            self._fill_alarmed = False
        if self.recorder.healthy:
            self._full_alarmed = False

    def _publish_health(self, fps: float) -> None:
        assert self.mqtt is not None
        link = self.mqtt.link
        self.mqtt.health(
            health_message(
                self.s.device.id,
                uptime_s=time.monotonic() - self._started,
                fps=fps,
                outbox_depth=self.mqtt.outbox.depth() + self.recorder.backlog,
                outbox_fill=self.mqtt.outbox.fill(),
                last_error=self.recorder.last_error or link.last_error,
                mqtt_connected=link.connected,
                lockdown=self.flow.lockdown,
                attempts=self.attempts,
                granted=self.granted,
            )
        )

    def _on_command(self, name: str, payload: bytes) -> None:
        """A ``cmd/<name>`` message: checked, answered on ``cmd/result``, never fatal."""
        assert self.mqtt is not None
        verdict = self.mqtt.check(name, payload, self._wall().timestamp())
        if isinstance(verdict, Rejection):
            log.warning("command %s refused: %s (%s)", name[:40], verdict.reason, verdict.detail)
            self.mqtt.answer(verdict.name, verdict.nonce, False, verdict.reason, verdict.detail)
            self._rejected_alarm(verdict)
            return
        try:
            detail, result = self._run_command(verdict)
        except (FacegateError, OSError) as exc:
            self.mqtt.answer(verdict.name, verdict.nonce, False, "failed", str(exc))
            return
        log.warning("remote command %s: %s", verdict.name, detail)
        self.mqtt.answer(verdict.name, verdict.nonce, True, "ok", detail, result)

    def _run_command(self, cmd: Command) -> tuple[str, dict | None]:
        audit = {"cmd": cmd.name, "nonce": cmd.nonce, "operator": cmd.operator}
        if cmd.name == "unlock":
            if self.flow.lockdown:
                raise FacegateError("lockdown is on: no one is let in")
            seconds = float(cmd.args.get("seconds", self.s.hardware.unlock_s))
            if not self._emit_alarm("remote_command", {**audit, "seconds": seconds}):
                raise FacegateError("the event cannot be recorded: the door stays locked")
            assert self.relay is not None
            self.relay.pulse(seconds)
            now = time.monotonic()
            for event in self.door_watch.granted(now, seconds):
                self._door_event(event)
            self.indicators.granted(seconds)
            return f"unlocked for {seconds:g} s", None
        if cmd.name == "lockdown":
            on = bool(cmd.args["on"])
            assert self.mqtt is not None
            self.mqtt.store.lockdown = on
            self.flow.lockdown = on
            if on and self.relay is not None:
                self.relay.lock()
            self._emit_alarm("remote_command", {**audit, "on": on})
            return f"lockdown {'on' if on else 'off'}", None
        if cmd.name == "reload":
            what = cmd.args.get("what", "all")
            self._emit_alarm("remote_command", {**audit, "what": what})
            self._reload_data(what)
            return f"reloaded {what}", None
        student = cmd.args["student_id"]
        expires = self._wall().timestamp() + int(cmd.args.get("valid_s", 3600))
        code = self.second_factor.install_override(student, expires)
        when = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
        self._emit_alarm("remote_command", {**audit, "student_id": student, "expires": when})
        assert self.mqtt is not None and self.mqtt.key is not None
        sealed = seal_reply(self.mqtt.key, cmd.nonce, code)
        return f"override code installed for {student}", {
            "student_id": student,
            "expires": when,
            "sealed_code": sealed,
        }

    def _expire_rejects(self) -> None:
        now = time.monotonic()
        while self._reject_times and now - self._reject_times[0] > 60.0:
            self._reject_times.popleft()

    def _rejected_alarm(self, verdict: Rejection) -> None:
        """An alarm per refused command, at most 10 a minute; the rest are counted in."""
        self._expire_rejects()
        if len(self._reject_times) >= 10:
            self._rejects_suppressed += 1
            return
        self._reject_times.append(time.monotonic())
        detail = {"cmd": verdict.name, "reason": verdict.reason, "detail": verdict.detail}
        if self._rejects_suppressed:
            detail["suppressed"] = self._rejects_suppressed
            self._rejects_suppressed = 0
        self._emit_alarm("command_rejected", detail)

    # -- reload and shutdown -----------------------------------------------------------------

    def _reload_data(self, what: str = "all") -> None:
        if what in ("roster", "all"):
            try:
                self.roster = self._load_roster()
                log.info("roster reloaded: %d sessions", len(self.roster.session))
            except FacegateError as exc:
                log.error("roster not reloaded, the previous one stays: %s", exc)
                self._emit_alarm("roster_invalid", {"error": str(exc)})
        if what in ("gallery", "all"):
            try:
                self.recognizer = self._load_recognizer()
                log.info("gallery reloaded: %d students", len(self.recognizer.matcher.classes))
            except FacegateError as exc:
                log.error("gallery not reloaded, the previous one stays: %s", exc)

    def _shutdown(self) -> None:
        self._stop.set()
        if self.relay is not None:
            self.relay.lock()
        self._notifier.stopping()
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("while shutting down")
        self._closers.clear()
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()
