"""``[paths]``: where the door keeps its data and finds its key and models."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from facegate.config.base import Section, credential


def default_data_dir() -> Path:
    """systemd's StateDirectory= sets STATE_DIRECTORY; an admin's shell uses XDG."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "facegate" if xdg else Path.home() / ".local" / "share" / "facegate"


class PathsConfig(Section):
    data_dir: Path = Field(default_factory=default_data_dir)
    # None: systemd's credential gallery.key, else <data_dir>/gallery.key.
    key_file: Path | None = None
    # None: the models shipped inside the facegate package.
    models_dir: Path | None = None

    def gallery_path(self) -> Path:
        return self.data_dir / "gallery.sqlite3"

    def attendance_path(self) -> Path:
        return self.data_dir / "attendance.sqlite3"

    def second_factor_path(self) -> Path:
        """TOTP secrets, override codes and attempt state (sealed with the same key)."""
        return self.data_dir / "second_factor.sqlite3"

    def resolved_key_file(self) -> Path:
        if self.key_file is not None:
            return self.key_file
        return credential("gallery.key") or self.data_dir / "gallery.key"
