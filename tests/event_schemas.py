"""Validating messages against device/facegate/schemas (jsonschema is a test-only dependency)."""

from __future__ import annotations

import json
from functools import cache

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource

from facegate.events.schemas import SCHEMA_FOR_TYPE, load_schema

SCHEMA_NAMES = (*SCHEMA_FOR_TYPE.values(), "command")


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        load_schema(name), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@cache
def _command_body_validator() -> Draft202012Validator:
    schema = load_schema("command")
    registry = Registry().with_resource(schema["$id"], Resource.from_contents(schema))
    return Draft202012Validator(
        {"$ref": f"{schema['$id']}#/$defs/body"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate_event(message: dict) -> None:
    """Check a published message against the schema its ``type`` names.

    Raises :class:`jsonschema.ValidationError` (also for a missing or unknown type).
    """
    kind = message.get("type") if isinstance(message, dict) else None
    if kind not in SCHEMA_FOR_TYPE:
        raise ValidationError(f"no schema for a message of type {kind!r}")
    validator(SCHEMA_FOR_TYPE[kind]).validate(message)


def validate_command(message: dict) -> dict:
    """Check a signed command and the JSON inside its body; return the parsed body.

    The schema only: the signature is not verified here.
    """
    validator("command").validate(message)
    try:
        body = json.loads(message["body"])
    except ValueError as exc:
        raise ValidationError(f"body is not JSON: {exc}") from None
    _command_body_validator().validate(body)
    return body
