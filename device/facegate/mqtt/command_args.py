"""The arguments of the four remote commands, in one place (pure; no numpy, no MQTT).

``command_args`` turns what an operator typed (the CLI's ``VALUE`` and options, the
dashboard's form) into a command's ``args``; ``args_problem`` is the door's check of the args
it received (``CommandVerifier``). The JSON Schema (``schemas/command.schema.json``) describes
the same shapes for other clients.
"""

from __future__ import annotations

import math

from facegate.common.ids import STUDENT_ID, is_student_id
from facegate.mqtt.topics import COMMANDS

# The argument names each command may carry.
ARGUMENTS: dict[str, frozenset[str]] = {
    "unlock": frozenset({"seconds"}),
    "lockdown": frozenset({"on"}),
    "reload": frozenset({"what"}),
    "override": frozenset({"student_id", "valid_s"}),
}
RELOADABLE = ("gallery", "roster", "all")
OVERRIDE_VALID_S = (60, 86400)
STUDENT_ID_HINT = "letters, digits, _ . @ -; 1-64"


class BadCommand(ValueError):
    """What an operator typed does not make a valid command; the message says why."""


def command_args(cmd: str, form: dict[str, str], max_unlock_s: float) -> dict:
    """The args of ``cmd`` from text fields: ``seconds`` (unlock; empty: the door's default),
    ``on`` ("on"/"off"), ``what`` (reload; empty: all), ``student_id`` and ``valid_s``."""
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
        if what not in RELOADABLE:
            raise BadCommand("reload what: gallery, roster or all")
        return {"what": what}
    student = (form.get("student_id") or "").strip()
    if not STUDENT_ID.fullmatch(student):
        raise BadCommand(f"override needs a student id ({STUDENT_ID_HINT})")
    try:
        valid_s = int(form.get("valid_s") or 3600)
    except ValueError:
        raise BadCommand("valid_s must be a whole number of seconds") from None
    low, high = OVERRIDE_VALID_S
    if not low <= valid_s <= high:
        raise BadCommand(f"valid_s must be from {low} to {high}")
    return {"student_id": student, "valid_s": valid_s}


def args_problem(name: str, args: dict, max_unlock_s: float) -> str | None:
    """Why the door refuses ``args`` received for command ``name`` (None: they are good)."""
    extra = set(args) - ARGUMENTS[name]
    if extra:
        return f"unknown argument(s) {sorted(extra)[:3]}"
    if name == "unlock" and "seconds" in args:
        s = args["seconds"]
        ok = isinstance(s, int | float) and not isinstance(s, bool) and abs(s) < 1e6
        if not ok or not math.isfinite(s) or not 0.5 <= s <= max_unlock_s:
            return f"seconds must be a number from 0.5 to {max_unlock_s:g}"
    if name == "lockdown" and not isinstance(args.get("on"), bool):
        return "lockdown needs on: true or false"
    if name == "reload" and args.get("what", "all") not in RELOADABLE:
        return "what must be gallery, roster or all"
    if name == "override":
        if not is_student_id(args.get("student_id")):
            return f"override needs a student id ({STUDENT_ID_HINT})"
        valid = args.get("valid_s", 3600)
        low, high = OVERRIDE_VALID_S
        if not isinstance(valid, int) or isinstance(valid, bool) or not low <= valid <= high:
            return f"valid_s must be an integer from {low} to {high}"
    return None
