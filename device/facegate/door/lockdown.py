"""Lockdown, held in one place: nobody is let in while it is on, by face, code or command.

Persisted with the remote-command state when MQTT is on (a lockdown that a power cycle lifts is
no lockdown), in memory otherwise. The access flow reads it at the moment of every grant, and
the opener refuses to pulse the relay while it is on.
"""

from __future__ import annotations

from facegate.mqtt.command_store import CommandStore


class Lockdown:
    def __init__(self, store: CommandStore | None = None) -> None:
        self._store = store
        self._on = store.lockdown if store is not None else False

    @property
    def on(self) -> bool:
        return self._on

    def set(self, on: bool) -> bool:
        """Switch it; True when that changed anything."""
        changed = on != self._on
        if self._store is not None:
            self._store.lockdown = on
        self._on = on
        return changed
