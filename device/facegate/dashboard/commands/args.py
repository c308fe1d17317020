"""A command form turned into the door's arguments, with the door's own limits (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from facegate.common.ids import STUDENT_ID

COMMANDS = ("unlock", "lockdown", "reload", "override")


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


class BadCommand(ValueError):
    pass


def command_args(cmd: str, form: dict[str, str], max_unlock_s: float) -> dict:
    if cmd not in COMMANDS:
        raise BadCommand(f"unknown command {cmd[:20]!r}")
    if cmd == "unlock":
        raw = (form.get("seconds") or "").strip()
        if not raw:
            return {}
        try:
            seconds = float(raw)
        except ValueError:
            raise BadCommand("seconds must be a number") from None
        if not math.isfinite(seconds) or not 0.5 <= seconds <= max_unlock_s:
            raise BadCommand(f"seconds must be from 0.5 to {max_unlock_s:g}")
        return {"seconds": seconds}
    if cmd == "lockdown":
        value = form.get("on")
        if value not in ("on", "off"):
            raise BadCommand("lockdown needs on or off")
        return {"on": value == "on"}
    if cmd == "reload":
        what = form.get("what") or "all"
        if what not in ("gallery", "roster", "all"):
            raise BadCommand("reload what: gallery, roster or all")
        return {"what": what}
    student = (form.get("student_id") or "").strip()
    if not STUDENT_ID.fullmatch(student):
        raise BadCommand("override needs a student id (letters, digits, _ . @ -; 1-64)")
    try:
        valid_s = int(form.get("valid_s") or 3600)
    except ValueError:
        raise BadCommand("valid_s must be a whole number of seconds") from None
    if not 60 <= valid_s <= 86400:
        raise BadCommand("valid_s must be from 60 to 86400")
    return {"student_id": student, "valid_s": valid_s}


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
