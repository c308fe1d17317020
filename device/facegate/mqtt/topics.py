"""The topic API of one door, under its prefix (docs/mqtt.md)."""

from __future__ import annotations

from dataclasses import dataclass

COMMANDS = ("unlock", "lockdown", "reload", "override")


@dataclass(frozen=True)
class Topics:
    prefix: str

    @property
    def status(self) -> str:
        """Retained ``online``/``offline``; ``offline`` is also the Last Will."""
        return f"{self.prefix}/status"

    @property
    def access(self) -> str:
        return f"{self.prefix}/event/access"

    @property
    def alarm(self) -> str:
        return f"{self.prefix}/event/alarm"

    @property
    def door_state(self) -> str:
        """Retained ``LOCKED``/``UNLOCKED``/``OPEN``."""
        return f"{self.prefix}/door/state"

    @property
    def health(self) -> str:
        return f"{self.prefix}/health"

    @property
    def last_decision(self) -> str:
        """Retained: the last access decision, for dashboards that join late."""
        return f"{self.prefix}/last_decision"

    @property
    def commands(self) -> str:
        """The subscription for every command."""
        return f"{self.prefix}/cmd/+"

    def command(self, name: str) -> str:
        return f"{self.prefix}/cmd/{name}"

    @property
    def command_result(self) -> str:
        return f"{self.prefix}/cmd/result"

    def event_topic(self, event: dict) -> str:
        return self.access if event.get("type") == "access" else self.alarm

    def command_name(self, topic: str) -> str | None:
        """The command a ``cmd/<name>`` topic carries, or None for any other topic."""
        head = f"{self.prefix}/cmd/"
        if not topic.startswith(head):
            return None
        name = topic[len(head) :]
        return None if name == "result" else name
