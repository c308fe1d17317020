"""The one base of every configuration section: unknown keys are errors, values are frozen."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def credential(name: str) -> Path | None:
    """The file systemd's ``LoadCredential=NAME:...`` put in ``$CREDENTIALS_DIRECTORY``."""
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if directory:
        path = Path(directory) / name
        if path.is_file():
            return path
    return None
