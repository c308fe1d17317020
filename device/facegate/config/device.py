"""``[device]``: which door this is."""

from __future__ import annotations

from pydantic import Field

from facegate.config.base import Section


class DeviceConfig(Section):
    id: str = Field(default="door-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    room: str = Field(default="", max_length=128)
