"""A command form turned into the door's arguments, with the door's own limits (pure)."""

from __future__ import annotations

from dataclasses import dataclass

# One source for the arguments, shared with the CLI and checked the same way by the door.
from facegate.mqtt.command_args import BadCommand, command_args
from facegate.mqtt.topics import COMMANDS

__all__ = ["COMMANDS", "BadCommand", "Plan", "command_args", "plans"]


@dataclass(frozen=True)
class Plan:
    """One command for one door, as the operator confirmed it."""

    device_id: str
    cmd: str
    args: dict

    def summary(self) -> str:
        a = self.args
        if self.cmd == "unlock":
            return f"unlock {self.device_id} for {a.get('seconds', 'the default')} s"
        if self.cmd == "lockdown":
            return f"lockdown {'ON' if a['on'] else 'OFF'} on {self.device_id}"
        if self.cmd == "reload":
            return f"reload {a['what']} on {self.device_id}"
        return f"one-time override code for {a['student_id']} at {self.device_id}"


def plans(cmd: str, target: str, doors: list[str], form: dict[str, str], max_unlock_s: float):
    """One plan per door: ``target`` is a door id or ``*`` (lockdown and reload only)."""
    args = command_args(cmd, form, max_unlock_s)
    if target == "*":
        if cmd not in ("lockdown", "reload"):
            raise BadCommand(f"{cmd} goes to one door at a time")
        if not doors:
            raise BadCommand("no doors known yet")
        return [Plan(d, cmd, args) for d in doors]
    if target not in doors:
        raise BadCommand(f"unknown door {target[:64]!r}")
    return [Plan(target, cmd, args)]
