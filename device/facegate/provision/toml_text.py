"""A small TOML writer for the door config: tables, strings, numbers, booleans, lists.

The standard library reads TOML but does not write it, and the config needs no more than
this; the output is read back with ``tomllib`` before it goes on a card.
"""

from __future__ import annotations

import json
import math
import tomllib


def _value(value: object, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value} cannot be written to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_value(v, where) for v in value) + "]"
    raise ValueError(f"{where}: a {type(value).__name__} cannot be written to TOML")


def _table(data: dict, name: str, out: list[str]) -> None:
    scalars = {k: v for k, v in data.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in data.items() if isinstance(v, dict)}
    if name and (scalars or not tables):
        out.append(f"\n[{name}]")
    for key, value in sorted(scalars.items()):
        out.append(f"{json.dumps(key)} = {_value(value, f'{name}.{key}'.lstrip('.'))}")
    for key, value in sorted(tables.items()):
        _table(value, f"{name}.{json.dumps(key)}".lstrip("."), out)


def dumps(data: dict) -> str:
    """``data`` as TOML text (keys sorted, so the same config gives the same bytes)."""
    out: list[str] = []
    _table(data, "", out)
    text = "\n".join(out).lstrip("\n") + "\n"
    if tomllib.loads(text) != data:
        raise ValueError("the config does not survive a TOML round trip")
    return text
