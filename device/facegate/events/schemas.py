"""The JSON Schemas (draft 2020-12) of what facegate publishes, kept in docs/schemas.

Only where they are and how to load them: validating against them needs ``jsonschema``, a
test-only dependency, so this module does not import it.
"""

from __future__ import annotations

import json
from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "docs" / "schemas"

# A message's "type" -> the schema that describes it (<name>.schema.json).
SCHEMA_FOR_TYPE = {
    "access": "access_event",
    "alarm": "alarm_event",
    "command_result": "command_result",
    "health": "health",
}


def load_schema(name: str) -> dict:
    """The schema ``docs/schemas/<name>.schema.json`` as a dict."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
