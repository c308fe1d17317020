"""The JSON Schemas (draft 2020-12) of what facegate publishes, shipped in the package.

They live in ``facegate/schemas/`` (package data, found with ``importlib.resources``) because
the dashboard validates what doors send against them at run time. Only where they are and how
to load them here: validating needs ``jsonschema``, which the door itself does not install.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

SCHEMA_DIR = Path(str(importlib.resources.files("facegate") / "schemas"))

# A message's "type" -> the schema that describes it (<name>.schema.json).
SCHEMA_FOR_TYPE = {
    "access": "access_event",
    "alarm": "alarm_event",
    "command_result": "command_result",
    "health": "health",
}


def load_schema(name: str) -> dict:
    """The schema ``facegate/schemas/<name>.schema.json`` as a dict."""
    return json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text(encoding="utf-8"))
