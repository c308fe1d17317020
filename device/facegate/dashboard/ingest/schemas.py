"""Validators for facegate/schemas (draft 2020-12), compiled once; the first error as one line.

jsonschema-rs, not the pure-Python jsonschema: on this machine the access event's schema took
1.6-2.5 ms per message with jsonschema 4.26 (a ceiling near 400 events/s on one core, before
any database work), and 0.011 ms with jsonschema-rs.
"""

from __future__ import annotations

import jsonschema_rs

from facegate.events.schemas import load_schema

NAMES = ("access_event", "alarm_event", "health", "command_result")


class SchemaValidator:
    def __init__(self) -> None:
        self._validators = {name: jsonschema_rs.validator_for(load_schema(name)) for name in NAMES}

    def __call__(self, name: str, message: dict) -> str | None:
        validator = self._validators[name]
        if validator.is_valid(message):
            return None
        try:
            error = next(iter(validator.iter_errors(message)))
        except StopIteration:  # pragma: no cover - is_valid said otherwise
            return f"{name}: invalid"
        where = "/".join(str(p) for p in error.instance_path) or "(top)"
        return f"{name}: {where}: {error.message[:300]}"
