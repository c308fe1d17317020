"""What other threads hand to the main loop: one typed message per kind of input.

Capture, gpiozero callbacks (keypad, door contact, exit button), the MQTT link, signal handlers
and the gallery loader never act themselves; they put a message here and the main loop, the
only thread that decides, takes it in order (``match`` on the type).
"""

from __future__ import annotations

import queue
from dataclasses import dataclass


@dataclass(frozen=True)
class KeyPressed:
    key: str
    t: float


@dataclass(frozen=True)
class ContactChanged:
    opened: bool
    t: float


@dataclass(frozen=True)
class ExitPressed:
    t: float


@dataclass(frozen=True)
class DeviceAlarm:
    """A part's own alarm (camera lost or back, keypad unplugged or back)."""

    kind: str
    detail: dict


@dataclass(frozen=True)
class RemoteCommand:
    name: str
    payload: bytes


@dataclass(frozen=True)
class SetLockdown:
    on: bool
    by: str


Message = KeyPressed | ContactChanged | ExitPressed | DeviceAlarm | RemoteCommand | SetLockdown


class Inbox:
    def __init__(self) -> None:
        self._queue: queue.Queue[Message] = queue.Queue()

    def put(self, message: Message) -> None:
        self._queue.put(message)

    def drain(self) -> list[Message]:
        out: list[Message] = []
        while True:
            try:
                out.append(self._queue.get_nowait())
            except queue.Empty:
                return out
