"""The main loop: the only thread that decides.

Each turn: beat (for the watchdog), run what is due (systemd's watchdog, the outbox check,
health, status, retention), take a frame through perception into the access flow, take in what
other threads handed over (inbox), collect recognitions, and let the door watch see the time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from facegate.access.flow import Observation, Phase
from facegate.door.commands import CommandHandlers
from facegate.door.inbox import (
    ContactChanged,
    DeviceAlarm,
    ExitPressed,
    KeyPressed,
    Message,
    RemoteCommand,
    SetLockdown,
)
from facegate.door.parts import DoorParts
from facegate.hardware.door_watch import DoorAlarm, DoorEvent
from facegate.mqtt.health import health_message
from facegate.vision.sources.base import Frame

log = logging.getLogger("facegate.door")


@dataclass
class _Every:
    """A job run every ``period`` seconds of the monotonic clock."""

    period: float
    run: Callable[[float], None]
    last: float = 0.0


class DoorLoop:
    def __init__(
        self,
        parts: DoorParts,
        commands: CommandHandlers | None,
        lockstep: bool,
        stop: threading.Event,
        retention: Callable[[], None],
    ) -> None:
        self.p = parts
        self._commands = commands
        self._lockstep = lockstep
        self._stop = stop
        self.heartbeat = time.monotonic()
        self.now = 0.0  # the flow's clock: the last frame's time
        self.frames_seen = 0
        self.reload_wanted: str | None = None  # set by SIGHUP (a plain store is signal-safe)
        self._started = time.monotonic()
        self._fps_marks: dict[str, tuple[float, int]] = {}
        jobs = [
            _Every(1.0, self._each_second),
            _Every(10.0, self._status),
            _Every(3600.0, lambda _now: retention()),
        ]
        if parts.mqtt is not None:
            jobs.append(_Every(parts.settings.mqtt.health_interval_s, self._health))
        start = time.monotonic()
        for job in jobs:
            job.last = start
        self._jobs = jobs

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        p = self.p
        while not self._stop.is_set():
            self.heartbeat = time.monotonic()
            for job in self._jobs:
                if self.heartbeat - job.last >= job.period:
                    job.last = self.heartbeat
                    job.run(self.heartbeat)
            frame = p.capture.get(timeout=0.2)
            if frame is not None:
                self.now = frame.t
                self.on_frame(frame)
            elif p.capture.ended:
                self._finish_stream()
                return
            elif not self._lockstep:
                self.now = max(self.now, time.monotonic())
                p.effects.apply(p.flow.on_tick(self.now))
            self.drain()
            for result in p.worker.poll():
                p.effects.apply(p.flow.on_recognition(result, self.now))
            for event in p.watch.tick(time.monotonic()):
                self.door_event(event)

    def on_frame(self, frame: Frame) -> None:
        p = self.p
        self.frames_seen += 1
        face = p.perception.step(frame.image, frame.t)
        if face is not None and p.flow.phase is Phase.IDLE and not p.desk.recorder.healthy:
            face = None  # out of service: no attempt starts while events cannot be kept
        if face is not None and p.flow.phase in (Phase.IDLE, Phase.LIVENESS):
            p.frames.offer(face, frame.image)
        p.effects.apply(p.flow.on_frame(Observation(frame.t, face)))

    def _finish_stream(self) -> None:
        """A finite source ended: let the attempt under way run out on its own clock."""
        p = self.p
        end = self.now + 120.0
        while p.flow.phase not in (Phase.IDLE, Phase.COOLDOWN) and self.now < end:
            self.now += 0.1
            self.drain()
            p.effects.apply(p.flow.on_tick(self.now))
        deadline = time.monotonic() + p.settings.hardware.unlock_s + 1.0
        while p.opener.relay.unlocked and time.monotonic() < deadline and not self._stop.is_set():
            self.heartbeat = time.monotonic()  # waiting here is not a stall
            time.sleep(0.02)

    # -- what other threads handed in ----------------------------------------------------------

    def drain(self) -> None:
        """A reload asked for before a message was handed in is done before the message is
        handled (a roster reload and the code typed after it come in that order)."""
        if self.reload_wanted is not None:
            what, self.reload_wanted = self.reload_wanted, None
            self.p.data.reload(what)
        for message in self.p.inbox.drain():
            self.handle(message)

    def handle(self, message: Message) -> None:
        p = self.p
        match message:
            case KeyPressed(key, t):
                self._key(key, t)
            case ContactChanged(opened, t):
                for event in p.watch.contact(opened, t):
                    self.door_event(event)
            case ExitPressed(t):
                self._exit(t)
            case DeviceAlarm(kind, detail):
                p.desk.alarm(kind, detail)
                if kind == "camera_error":
                    p.effects.apply(p.flow.abort(self.now, "camera_error"))
            case RemoteCommand(name, payload):
                if self._commands is not None:
                    self._commands.handle(name, payload)
            case SetLockdown(on, by):
                self.set_lockdown(on, by)

    def set_lockdown(self, on: bool, by: str) -> None:
        """Lockdown on: the relay locks and the attempt under way ends at once."""
        p = self.p
        p.lockdown.set(on)
        log.warning("lockdown %s (%s)", "on" if on else "off", by)
        if on:
            p.opener.lock()
            p.effects.apply(p.flow.abort(self.now, "lockdown"))

    def _key(self, key: str, t: float) -> None:
        p = self.p
        attempt = p.effects.code_attempt
        if p.flow.phase is not Phase.SECOND_FACTOR or attempt is None:
            return  # keys typed when no code is asked for are ignored
        result = p.entry.press(key, t)
        if result is None:
            return
        if result.error:
            log.info("keypad entry refused: %s", result.error)
        if result.code is not None:
            p.effects.apply(p.flow.on_code(attempt, result.code, self.now))

    def _exit(self, t: float) -> None:
        """Request-to-exit: the lock releases unless lockdown is on (egress is mechanical,
        systemd/README.md); every press is journaled either way."""
        p = self.p
        unlock_s = p.settings.hardware.unlock_s
        opened = p.opener.open_for(unlock_s, t)
        detail: dict = {"unlocked": opened}
        if not opened:
            detail["reason"] = "lockdown"
        p.desk.alarm("exit_request", detail)
        log.info("request-to-exit pressed: %s", "unlocked" if opened else "refused (lockdown)")

    def door_event(self, event: DoorEvent) -> None:
        p = self.p
        if not isinstance(event, DoorAlarm):
            log.info("door %s", event.status)
            if p.mqtt is not None:
                p.mqtt.door_state(str(event.status))
            return
        p.desk.alarm(event.kind, {"open_for_s": round(event.open_for_s, 1)})
        p.indicators.alarm()

    # -- what is due ---------------------------------------------------------------------------

    def _each_second(self, _now: float) -> None:
        p = self.p
        p.notifier.watchdog()
        p.outbox_watch.check()
        for problem in p.data.poll():
            p.desk.alarm(problem.kind, {"error": problem.error})

    def _fps(self, since: str) -> float:
        """Frames per second since this reader's last call (status and health read apart)."""
        now, frames = time.monotonic(), self.frames_seen
        then, before = self._fps_marks.get(since, (self._started, 0))
        self._fps_marks[since] = (now, frames)
        return (frames - before) / max(now - then, 1e-6)

    def _status(self, _now: float) -> None:
        desk = self.p.desk
        self.p.notifier.status(
            f"{self._fps('status'):.1f} frames/s, {desk.attempts} attempts, {desk.granted} granted"
        )

    def _health(self, _now: float) -> None:
        p = self.p
        assert p.mqtt is not None
        link, recorder = p.mqtt.link, p.desk.recorder
        p.mqtt.health(
            health_message(
                p.place.device_id,
                uptime_s=time.monotonic() - self._started,
                fps=self._fps("health"),
                outbox_depth=p.mqtt.outbox.depth() + recorder.backlog,
                outbox_fill=p.mqtt.outbox.fill(),
                last_error=recorder.last_error or link.last_error,
                mqtt_connected=link.connected,
                lockdown=p.lockdown.on,
                attempts=p.desk.attempts,
                granted=p.desk.granted,
                clock_synchronised=self._commands.clock_synchronised if self._commands else None,
            )
        )
