"""Validators for docs/schemas, compiled once; the first error as one line."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from facegate.events.schemas import load_schema

NAMES = ("access_event", "alarm_event", "health", "command_result")


class SchemaValidator:
    def __init__(self) -> None:
        self._validators = {}
        for name in NAMES:
            schema = load_schema(name)
            Draft202012Validator.check_schema(schema)
            self._validators[name] = Draft202012Validator(schema)

    def __call__(self, name: str, message: dict) -> str | None:
        error = next(iter(self._validators[name].iter_errors(message)), None)
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(top)"
        return f"{name}: {where}: {error.message[:300]}"
