"""The real door, on gpiozero's mock pins, fed a finite scene in lockstep: what the attack and
table evaluations run (``DoorService`` itself, not a copy of its steps)."""

from __future__ import annotations

from typing import Protocol

from facegate.config import Settings
from facegate.door import DoorListener, DoorService
from facegate.hardware.mock_pins import on_periods
from facegate.hardware.pin_factory import make_pin_factory
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources.base import FrameSource


class Scene(Protocol):
    """A rendered person who answers the door's prompt ("blink N times")."""

    def respond(self, n: int, after: float) -> list[float]: ...


class _Watch(DoorListener):
    def __init__(self, scene: Scene | None, source: FrameSource) -> None:
        self.scene = scene
        self.source = source
        self.events: list[dict] = []
        self.service: DoorService | None = None

    def on_prompt(self, blinks: int) -> None:
        if self.scene is not None and self.service is not None:
            self.scene.respond(blinks, after=self.service.flow_time)

    def on_event(self, event: dict) -> None:
        self.events.append(event)
        finish = getattr(self.source, "finish_after", None)
        if event["type"] == "access" and finish is not None:
            finish(0.5)  # the person walks on once the door has decided


def run_door(
    settings: Settings,
    pipeline: FacePipeline,
    source: FrameSource,
    scene: Scene | None = None,
) -> tuple[list[dict], list]:
    """(every event the door made, the relay's on-periods read back from its mock pin)."""
    watch = _Watch(scene, source)
    factory = make_pin_factory("mock")
    service = DoorService(
        settings,
        source=lambda: source,
        lockstep=True,
        pipeline=pipeline,
        listener=watch,
        handle_signals=False,
        pin_factory=factory,
    )
    watch.service = service
    service.run()
    periods = on_periods(factory, settings.hardware.relay_pin)
    factory.reset()
    return watch.events, periods
