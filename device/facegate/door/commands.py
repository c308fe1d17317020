"""Remote commands, checked and answered: one handler per command in a table.

Every ``cmd/<name>`` message gets exactly one answer on ``cmd/result``. A refusal changes
nothing and raises a (rate-limited) ``command_rejected`` alarm. An accepted command is audited
as a ``remote_command`` alarm with the operator's name *before* it acts; a remote unlock whose
audit cannot be stored does not unlock. Commands are refused until the door's clock has been
synchronised once since boot (their freshness is judged by it).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from facegate.door.desk import EventDesk
from facegate.door.lockdown import Lockdown
from facegate.door.opener import DoorOpener
from facegate.errors import FacegateError
from facegate.identity.second_factor import SecondFactorStore
from facegate.mqtt.commands import Command, Rejection, seal_reply
from facegate.mqtt.door_mqtt import DoorMqtt
from facegate.service.clock import ClockSync

log = logging.getLogger("facegate.door")

Outcome = tuple[str, dict | None]  # what the answer's detail says, and its result (or None)


@dataclass
class CommandParts:
    mqtt: DoorMqtt
    desk: EventDesk
    opener: DoorOpener
    lockdown: Lockdown
    second_factor: SecondFactorStore
    clock: ClockSync
    unlock_s: float
    set_lockdown: Callable[[bool, str], None]
    reload: Callable[[str], str]
    wall_clock: Callable[[], datetime]


class CommandHandlers:
    def __init__(self, parts: CommandParts) -> None:
        self.p = parts
        self._table: dict[str, Callable[[Command, dict], Outcome]] = {
            "unlock": self._unlock,
            "lockdown": self._lockdown,
            "reload": self._reload,
            "override": self._override,
        }

    @property
    def clock_synchronised(self) -> bool:
        return self.p.clock.synchronised

    def handle(self, name: str, payload: bytes) -> None:
        """A ``cmd/<name>`` message: checked, answered, never fatal."""
        mqtt = self.p.mqtt
        verdict = mqtt.check(name, payload, self.p.wall_clock().timestamp())
        if isinstance(verdict, Command) and not self.p.clock.synchronised:
            verdict = Rejection(
                "clock_unsynchronised",
                "the door's clock has not been synchronised since boot (NTP)",
                verdict.name,
                verdict.nonce,
            )
        if isinstance(verdict, Rejection):
            log.warning("command %s refused: %s (%s)", name[:40], verdict.reason, verdict.detail)
            mqtt.answer(verdict.name, verdict.nonce, False, verdict.reason, verdict.detail)
            detail = {"cmd": verdict.name, "reason": verdict.reason, "detail": verdict.detail}
            self.p.desk.alarm("command_rejected", detail)
            return
        # Who sent it, as the signed body says (None: a version-1 body, which names nobody).
        audit = {"cmd": verdict.name, "nonce": verdict.nonce, "operator": verdict.operator}
        try:
            detail, result = self._table[verdict.name](verdict, audit)
        except (FacegateError, OSError) as exc:
            mqtt.answer(verdict.name, verdict.nonce, False, "failed", str(exc))
            return
        log.warning("remote command %s: %s", verdict.name, detail)
        mqtt.answer(verdict.name, verdict.nonce, True, "ok", detail, result)

    def _unlock(self, cmd: Command, audit: dict) -> Outcome:
        if self.p.lockdown.on:
            raise FacegateError("lockdown is on: no one is let in")
        seconds = float(cmd.args.get("seconds", self.p.unlock_s))
        if not self.p.desk.alarm("remote_command", {**audit, "seconds": seconds}):
            raise FacegateError("the event cannot be recorded: the door stays locked")
        if not self.p.opener.open_for(seconds, time.monotonic()):
            raise FacegateError("lockdown is on: no one is let in")
        return f"unlocked for {seconds:g} s", None

    def _lockdown(self, cmd: Command, audit: dict) -> Outcome:
        on = bool(cmd.args["on"])
        self.p.desk.alarm("remote_command", {**audit, "on": on})
        self.p.set_lockdown(on, "remote command")
        return f"lockdown {'on' if on else 'off'}", None

    def _reload(self, cmd: Command, audit: dict) -> Outcome:
        what = cmd.args.get("what", "all")
        self.p.desk.alarm("remote_command", {**audit, "what": what})
        return self.p.reload(what), None

    def _override(self, cmd: Command, audit: dict) -> Outcome:
        student = cmd.args["student_id"]
        expires = self.p.wall_clock().timestamp() + int(cmd.args.get("valid_s", 3600))
        code = self.p.second_factor.install_override(student, expires)
        when = datetime.fromtimestamp(expires, UTC).isoformat(timespec="seconds")
        self.p.desk.alarm("remote_command", {**audit, "student_id": student, "expires": when})
        key = self.p.mqtt.key
        assert key is not None  # a signed command was verified with it
        sealed = seal_reply(key, cmd.nonce, code)
        return f"override code installed for {student}", {
            "student_id": student,
            "expires": when,
            "sealed_code": sealed,
        }
