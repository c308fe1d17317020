"""``[service]``: logging, the internal watchdog, the journal."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from facegate.config.base import Section


class ServiceConfig(Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The main loop must report within this time, or the internal watchdog locks the door and
    # stops feeding systemd's watchdog (which then restarts the service).
    stall_s: float = Field(default=5.0, gt=0.5, le=120.0)
    # None: <data_dir>/events.jsonl
    journal_file: Path | None = None
