"""Everything one dashboard process holds, wired once at start (no logic of its own)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.auth.rate_limit import LoginLimiter
from facegate.dashboard.commands.confirmations import Confirmations
from facegate.dashboard.commands.sender import CommandSender
from facegate.dashboard.ingest.mqtt_client import DashboardMqtt
from facegate.dashboard.ingest.writer import IngestWriter
from facegate.dashboard.settings import DashboardSettings
from facegate.dashboard.web.hub import Hub

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def template_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


@dataclass
class Runtime:
    settings: DashboardSettings
    engine: AsyncEngine
    hub: Hub
    env: Environment
    limiter: LoginLimiter
    confirmations: Confirmations
    clock: Callable[[], float] = time.time
    mqtt: DashboardMqtt | None = None
    writer: IngestWriter | None = None
    sender: CommandSender | None = None
    started: float = field(default_factory=time.time)
    # Doors whose card every page has (a new door's card is appended to the grid live).
    announced: set[str] | None = None
