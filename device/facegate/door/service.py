"""The door service's life: open every part in a fail-secure order, run the loop, lock on exit.

Fail secure: the relay is created first and off; the roster is validated before any file is
made; the relay is turned off again on every way out (an exception, SIGTERM/SIGINT, a stalled
main loop, the end of a run). ``lockstep`` runs a finite source (a file, the demo's clip) frame
by frame on the frames' own clock and waits for each recognition, so a run is reproducible; a
camera runs live on the monotonic clock and drops frames it cannot keep up with.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from gpiozero import Device
from gpiozero.pins import Factory

from facegate.access.flow import AccessFlow
from facegate.config import Settings
from facegate.door.builder import DoorBuilder
from facegate.door.desk import EventDesk
from facegate.door.inbox import KeyPressed, SetLockdown
from facegate.door.listener import DoorListener
from facegate.door.lockdown import Lockdown
from facegate.door.loop import DoorLoop
from facegate.door.watchdog import LoopWatchdog
from facegate.events.journal import EventSink
from facegate.hardware.door import DoorRelay
from facegate.hardware.pin_factory import GpioError, use_pin_factory
from facegate.mqtt.door_mqtt import DoorMqtt
from facegate.service.notify import SystemdNotifier
from facegate.vision.capture import CaptureThread
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources import FrameSource

log = logging.getLogger("facegate.door")


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
        self._handle_signals = handle_signals
        self._pin_factory = pin_factory
        self._notifier = notifier or SystemdNotifier()
        self._stop = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self._previous_handlers: dict[int, object] = {}
        self._builder = DoorBuilder(
            settings,
            source=source,
            lockstep=lockstep,
            pipeline=pipeline,
            wall_clock=wall_clock or (lambda: datetime.now(UTC)),
            listener=listener or DoorListener(),
            sinks=list(sinks or []),
            notifier=self._notifier,
            closers=self._closers,
        )
        self.relay: DoorRelay | None = None
        self.loop: DoorLoop | None = None
        self.exit_code = 0

    # -- public ------------------------------------------------------------------------------

    def run(self) -> int:
        """Open everything, run until stopped (or a finite source ends), lock the door."""
        try:
            self._open()
            assert self.loop is not None
            parts = self._builder.parts
            self._notifier.ready(self._builder.ready_status())
            log.info(self._builder.ready_status())
            parts.notifier.watchdog()
            self.loop.run()
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
        return self.loop.now if self.loop is not None else 0.0

    @property
    def mqtt(self) -> DoorMqtt | None:
        return self._builder.mqtt

    @property
    def desk(self) -> EventDesk | None:
        parts = getattr(self._builder, "parts", None)
        return parts.desk if parts is not None else None

    @property
    def lockdown(self) -> Lockdown | None:
        parts = getattr(self._builder, "parts", None)
        return parts.lockdown if parts is not None else None

    @property
    def frames(self) -> int:
        """Frames the main loop has taken so far."""
        return self.loop.frames_seen if self.loop is not None else 0

    @property
    def flow(self) -> AccessFlow | None:
        return self._builder.flow

    @property
    def capture(self) -> CaptureThread | None:
        parts = getattr(self._builder, "parts", None)
        return parts.capture if parts is not None else None

    def request_reload(self) -> None:
        """SIGHUP or ``systemctl reload``: roster now, gallery in the background."""
        self._builder.request_reload()

    def press_key(self, key: str) -> None:
        """A key from any keypad (gpiozero or evdev thread): handled on the main loop."""
        self._builder.inbox.put(KeyPressed(key, self._builder.monotonic()))

    def set_lockdown(self, on: bool, by: str = "local") -> None:
        """Lockdown from any thread; the main loop applies it (and ends an attempt under way)."""
        self._builder.inbox.put(SetLockdown(on, by))

    # -- start-up and shutdown ---------------------------------------------------------------

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
        parts = self._builder.build(self.relay)
        self.loop = self._builder.make_loop(self._stop)
        desk = parts.desk
        relay = self.relay
        LoopWatchdog(
            self.s.service.stall_s,
            lambda: self.loop.heartbeat if self.loop is not None else 0.0,
            relay.lock,
            lambda stall_s: desk.alarm("watchdog_stall", {"stall_s": stall_s}),
            self._stop,
        ).start()

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
