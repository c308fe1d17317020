"""``facegate demo``: the door service end to end, on gpiozero's mock pins, with no camera.

The same :class:`~facegate.door.DoorService` that ``facegate run`` starts, fed with frames
synthesised from public-domain portraits (:mod:`facegate.demo.actor`): Eileen Collins is
enrolled from her photo, put on the exam roster and given a TOTP secret; she looks at the door,
blinks as often as the door asks, types her code on the keypad and the relay opens. Then a
printed photo of her, Grace Hopper (live, never enrolled), and Collins again typing the code
she has already used: the door stays shut each time, for the reason printed.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from gpiozero.pins.mock import MockFactory

from facegate.config import Settings
from facegate.config.mqtt import MqttConfig
from facegate.demo import material
from facegate.demo.actor import PortraitActor
from facegate.demo.staging import STUDENT, enrol_collins, write_session
from facegate.door import DoorListener, DoorService
from facegate.evaluation.photo_attack import held_photo_frames, printed_face
from facegate.hardware.mock_pins import on_periods
from facegate.hardware.pin_factory import make_pin_factory
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources.rendered import RenderedSource

FPS = 15.0
ROOM = "hall-b"
SESSION = "math-101"


@dataclass
class Narrator(DoorListener):
    """Prints what a student at the door and a proctor at the dashboard would see."""

    echo: Callable[[str], None]
    source: RenderedSource
    actor: PortraitActor | None = None
    service: DoorService | None = None
    code: Callable[[], str] | None = None
    events: list[dict] = field(default_factory=list)

    def on_prompt(self, blinks: int) -> None:
        times = {1: "once", 2: "twice"}.get(blinks, f"{blinks} times")
        self.echo(f"   door: amber LED flashes {blinks}x and beeps: 'blink {times} now'")
        if self.actor is not None:
            at = self.service.flow_time if self.service else 0.0
            self.actor.respond(blinks, after=at)
            self.echo(f"   student blinks {blinks}x")

    def on_come_closer(self, on: bool) -> None:
        if on:
            self.echo("   door: amber LED blinks fast: 'come closer'")
        else:
            self.echo("   door: amber LED steady: close enough")

    def on_ask_code(self, student_id: str) -> None:
        self.echo(f"   door: face accepted as {student_id}; keypad asks for the TOTP code")
        if self.code is None or self.service is None:
            return
        code = self.code()
        self.echo(f"   student types {'*' * len(code)} #")
        for key in [*code, "#"]:
            self.service.press_key(key)

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        if event["type"] == "alarm":
            self.echo(f"   ALARM {event['kind']}")
            return
        self.source.finish_after(0.5)
        reasons = ", ".join(event["reasons"])
        live = event.get("liveness") or {}
        scores = event.get("scores") or {}
        parts = [f"blinks {len(live.get('blinks') or [])}"]
        if scores.get("distance") is not None:
            parts.append(f"distance {scores['distance']:.3f} (limit {scores['threshold']:.3f})")
        if event.get("second_factor"):
            parts.append(f"code {event['second_factor']}")
        parts.append(f"{event['latencies_ms'].get('total', 0)} ms")
        self.echo(f"   event: {event['decision'].upper()} [{reasons}]  " + ", ".join(parts))


class SceneClock:
    """The demo's wall clock follows its frames, not the machine: each scene's time is the
    frames' own (lockstep), one scene after the other from the demo's start. A loaded machine
    that takes minutes to render the scenes then shows the same codes and sessions as a fast
    one (her app's code is read off this clock too)."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.offset = 0.0
        self.service: DoorService | None = None

    def now(self) -> datetime:
        seconds = self.offset + (self.service.flow_time if self.service else 0.0)
        return self.start + timedelta(seconds=seconds)

    def next_scene(self) -> None:
        self.offset += (self.service.flow_time if self.service else 0.0) + 1.0


@dataclass
class SceneResult:
    label: str
    expected: tuple[str, ...]
    reasons: tuple[str, ...]
    relay_on_s: float

    @property
    def ok(self) -> bool:
        granted = self.expected == ("granted",)
        return self.reasons == self.expected and (self.relay_on_s > 0) == granted


def relay_report(factory: MockFactory, relay_pin: int) -> tuple[list[str], float]:
    """The relay's transitions as recorded on its mock pin, and how long it was on in all."""
    periods = on_periods(factory, relay_pin)
    lines = []
    for _, duration in periods:
        lines.append(f"   relay GPIO{relay_pin}: ON  (door unlocked)")
        if duration is not None:
            lines.append(f"   relay GPIO{relay_pin}: OFF (door locked) after {duration:.2f} s")
    if not periods:
        lines.append(f"   relay GPIO{relay_pin}: stayed OFF (door locked)")
    return lines, sum(d or 0.0 for _, d in periods)


def demo_settings(
    base: Settings, data_dir: Path, roster: Path, mqtt: MqttConfig | None = None
) -> Settings:
    mqtt_section: dict = {"enabled": False}
    if mqtt is not None:  # the whole section: a real broker's user, password file and TLS too
        # Mock pins and a frames' clock: the demo takes commands without waiting for NTP.
        mqtt_section = {**mqtt.model_dump(), "enabled": True, "require_clock_sync": False}
    return base.model_validate(
        {
            **base.model_dump(),
            "mqtt": mqtt_section,
            "device": {"id": "demo-door", "room": ROOM},
            "paths": {**base.paths.model_dump(), "data_dir": data_dir, "key_file": None},
            "hardware": {**base.hardware.model_dump(), "pin_factory": "mock", "keypad": "none"},
            "access": {**base.access.model_dump(), "roster_file": roster, "code_timeout_s": 10},
        }
    )


def run_door_demo(
    base: Settings, echo: Callable[[str], None], mqtt: MqttConfig | None = None
) -> list[SceneResult]:
    """The scenes; with ``mqtt`` every event also goes to that broker (else the journal only)."""
    work = Path(tempfile.mkdtemp(prefix="facegate-door-demo-"))
    try:
        roster = write_session(work / "roster.toml", SESSION, ROOM, [STUDENT], True)
        settings = demo_settings(base, work / "data", roster, mqtt)
        echo("facegate demo: the door service on gpiozero mock pins, frames synthesised from")
        echo("public-domain portraits (scikit-image astronaut.png, matplotlib grace_hopper.jpg)")
        if mqtt is not None:
            prefix = settings.mqtt.prefix(settings.device.id)
            echo(f"events go to the journal and to mqtt://{mqtt.host}:{mqtt.port} {prefix}/#\n")
        else:
            echo("events go to the local journal (--broker HOST:PORT also publishes them)\n")
        pipeline = FacePipeline.from_settings(settings)
        collins = material.load_photo(material.ASTRONAUT)
        hopper = material.load_photo(material.HOPPER)

        echo(f"1. Enrol {STUDENT} ({material.ASTRONAUT.name}) from her photo")
        staged = enrol_collins(settings, pipeline, work)
        secret = staged.secret
        echo(f"   {staged.templates} templates stored, encrypted; no photo kept")
        echo("   TOTP secret created and sealed (her authenticator app would scan its QR code)")
        echo(f"   roster: session {SESSION} in room {ROOM}, open now, second factor required\n")

        clock = SceneClock(datetime.now(UTC))
        totp, typed = pyotp.TOTP(secret), []

        def read_app() -> str:  # the code her app shows as she types it
            typed.append(totp.at(clock.now()))
            return typed[-1]

        def typed_before() -> str:
            return typed[0]

        photo = [f for _, f in held_photo_frames(printed_face(collins), 7, 6.0, FPS)]
        scenes = [
            (
                f"{material.ASTRONAUT.name}, live: answers the challenge, types her code",
                PortraitActor(collins, seed=1),
                ("granted",),
                read_app,
            ),
            (
                f"{material.ASTRONAUT.name} again, typing the code she has just used",
                PortraitActor(collins, seed=3),
                ("totp_replayed",),
                typed_before,
            ),
            (
                f"a printed photo of {material.ASTRONAUT.name} held up to the camera",
                photo,
                ("spoof_static",),
                read_app,
            ),
            (
                f"{material.HOPPER.name}, live, never enrolled",
                PortraitActor(hopper, seed=2),
                ("unknown_face",),
                read_app,
            ),
        ]
        factory = make_pin_factory("mock")
        results = []
        for number, (label, subject, expected, code) in enumerate(scenes, start=2):
            echo(f"{number}. {label}")
            if isinstance(subject, PortraitActor):
                source = RenderedSource(
                    lambda _i, t, a=subject: a.frame(t), round(30 * FPS), FPS, "actor"
                )
                narrator = Narrator(echo, source, subject, code=code)
            else:
                source = RenderedSource.of(subject, FPS, "photo")
                narrator = Narrator(echo, source, code=code)
            service = DoorService(
                settings,
                wall_clock=clock.now,
                source=lambda s=source: s,
                lockstep=True,
                pipeline=pipeline,
                listener=narrator,
                handle_signals=False,
                pin_factory=factory,
            )
            narrator.service = clock.service = service
            service.run()
            clock.next_scene()
            lines, on_s = relay_report(factory, settings.hardware.relay_pin)
            factory.reset()
            for line in lines:
                echo(line)
            access = [e for e in narrator.events if e["type"] == "access"]
            reasons = tuple(access[-1]["reasons"]) if access else ()
            results.append(SceneResult(label, expected, reasons, on_s))
            echo("")
        ok = sum(r.ok for r in results)
        echo(f"{ok}/{len(results)} scenes ended as expected")
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)
