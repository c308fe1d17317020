"""Everything a running door has opened, in one place for the loop and its handlers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from facegate.access.flow import AccessFlow, Place
from facegate.config import Settings
from facegate.door.data import DoorData
from facegate.door.desk import EventDesk
from facegate.door.effects import AttemptEffects
from facegate.door.inbox import Inbox
from facegate.door.lockdown import Lockdown
from facegate.door.opener import DoorOpener
from facegate.door.outbox_watch import OutboxWatch
from facegate.events.journal import JournalSink
from facegate.hardware.door_watch import DoorWatch
from facegate.hardware.indicators import Indicators
from facegate.hardware.key_entry import KeyEntry
from facegate.identity.attempt_frames import AttemptFrames
from facegate.identity.recognition_worker import RecognitionWorker
from facegate.identity.second_factor import SecondFactorStore
from facegate.mqtt.door_mqtt import DoorMqtt
from facegate.service.notify import SystemdNotifier
from facegate.vision.capture import CaptureThread
from facegate.vision.perception import Perception


@dataclass
class DoorParts:
    settings: Settings
    place: Place
    inbox: Inbox
    notifier: SystemdNotifier
    wall_clock: Callable[[], datetime]
    indicators: Indicators
    lockdown: Lockdown
    watch: DoorWatch
    opener: DoorOpener
    journal: JournalSink
    desk: EventDesk
    outbox_watch: OutboxWatch
    mqtt: DoorMqtt | None
    second_factor: SecondFactorStore
    data: DoorData
    perception: Perception
    frames: AttemptFrames
    worker: RecognitionWorker
    flow: AccessFlow
    entry: KeyEntry
    effects: AttemptEffects
    capture: CaptureThread
