"""Typed configuration, read from TOML and validated before anything starts.

Every section has safe defaults so that the CLI works without a file; a file that names an
unknown key or a bad value is refused with the key's dotted path and the reason.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from facegate.errors import ConfigError
from facegate.events.mqtt_settings import MqttConfig
from facegate.hardware.settings import HardwareConfig
from facegate.liveness.params import LivenessParams
from facegate.vision.sources.settings import CameraConfig

REPO_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


def default_data_dir() -> Path:
    """systemd's StateDirectory= sets STATE_DIRECTORY; an admin's shell uses XDG."""
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0])
    xdg = os.environ.get("XDG_DATA_HOME")
    return Path(xdg) / "facegate" if xdg else Path.home() / ".local" / "share" / "facegate"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeviceConfig(_Section):
    id: str = Field(default="door-1", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    room: str = Field(default="", max_length=128)


class PathsConfig(_Section):
    data_dir: Path = Field(default_factory=default_data_dir)
    # None: $CREDENTIALS_DIRECTORY/gallery.key under systemd, else <data_dir>/gallery.key.
    key_file: Path | None = None
    models_dir: Path = REPO_MODELS_DIR

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
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if creds and (Path(creds) / "gallery.key").exists():
            return Path(creds) / "gallery.key"
        return self.data_dir / "gallery.key"


class DetectionConfig(_Section):
    # haar: fast, for every door frame; mtcnn: slower, better on hard poses, used for enrolment.
    detector: Literal["haar", "mtcnn"] = "haar"
    # Haar runs on a grey copy scaled to this width; sizes below are in full-frame pixels.
    haar_width: int = Field(default=320, ge=80, le=1920)
    haar_scale_factor: float = Field(default=1.15, gt=1.0, le=2.0)
    haar_min_neighbors: int = Field(default=5, ge=1, le=20)
    haar_min_face_px: int = Field(default=60, ge=12, le=1000)
    mtcnn_min_face_px: int = Field(default=40, ge=12, le=1000)
    mtcnn_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)

    @field_validator("mtcnn_thresholds")
    @classmethod
    def _probabilities(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(0.0 < t < 1.0 for t in v):
            raise ValueError("each MTCNN stage threshold must be between 0 and 1")
        return v


class EmbedderConfig(_Section):
    name: Literal["facenet", "facenet-float", "dlib"] = "facenet"
    threads: int = Field(default=2, ge=1, le=16)


class MatcherConfig(_Section):
    # None: the threshold (and margin) calibrated on this gallery if any, else the shipped ones.
    threshold: float | None = Field(default=None, gt=0.0, lt=2.0)
    # Least gap between the nearest and the second-nearest student (cosine distance).
    margin: float | None = Field(default=None, ge=0.0, lt=2.0)
    # Unused since the SVM was dropped (docs/recognition.md); accepted so old configs load.
    svm_c: float = Field(default=1.0, gt=0.0)


class QualityConfig(_Section):
    min_face_px: int = Field(default=60, ge=20, le=2000)
    # Defaults measured on lfw10 and faces94 (docs/recognition.md, "Quality gate").
    min_sharpness: float = Field(default=12.0, ge=0.0)
    max_yaw_deg: float = Field(default=40.0, gt=0.0, le=90.0)
    max_pitch_deg: float = Field(default=30.0, gt=0.0, le=90.0)
    min_eye_aspect_ratio: float = Field(default=0.12, ge=0.0, le=1.0)


class AccessConfig(_Section):
    # The exam roster (docs/roster.md). None: no session is ever open and the door stays shut.
    roster_file: Path | None = None
    # Search only the current session's students (1:N over a few dozen instead of everyone).
    limit_search_to_session: bool = True
    # How many of the attempt's best frames are embedded and averaged.
    frames_to_embed: int = Field(default=3, ge=1, le=10)
    face_lost_s: float = Field(default=1.0, gt=0.0, le=10.0)
    recognition_timeout_s: float = Field(default=5.0, gt=0.0, le=60.0)
    code_timeout_s: float = Field(default=30.0, gt=1.0, le=300.0)
    cooldown_s: float = Field(default=2.0, ge=0.0, le=60.0)
    # Record who entered, per session (facegate attendance SESSION --csv).
    attendance: bool = True

    @field_validator("roster_file")
    @classmethod
    def _roster_exists(cls, v: Path | None) -> Path | None:
        if v is not None and not v.is_file():
            raise ValueError(f"roster file {v} does not exist")
        return v


class ServiceConfig(_Section):
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # The main loop must report within this time, or the internal watchdog locks the door and
    # stops feeding systemd's watchdog (which then restarts the service).
    stall_s: float = Field(default=5.0, gt=0.5, le=120.0)
    # None: <data_dir>/events.jsonl
    journal_file: Path | None = None


class Settings(_Section):
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    paths: PathsConfig = Field(default_factory=PathsConfig)
    detection: DetectionConfig = Field(default_factory=DetectionConfig)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    matcher: MatcherConfig = Field(default_factory=MatcherConfig)
    quality: QualityConfig = Field(default_factory=QualityConfig)
    liveness: LivenessParams = Field(default_factory=LivenessParams)
    camera: CameraConfig = Field(default_factory=CameraConfig)
    hardware: HardwareConfig = Field(default_factory=HardwareConfig)
    access: AccessConfig = Field(default_factory=AccessConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    mqtt: MqttConfig = Field(default_factory=MqttConfig)

    def journal_path(self) -> Path:
        return self.service.journal_file or self.paths.data_dir / "events.jsonl"


def _describe(error: ValidationError, source: str) -> str:
    lines = [f"invalid configuration in {source}:"]
    for item in error.errors():
        key = ".".join(str(p) for p in item["loc"]) or "(top level)"
        msg = item["msg"]
        if item["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see docs/configuration.md)"
        lines.append(f"  {key}: {msg}")
    return "\n".join(lines)


def settings_from_dict(data: dict, source: str = "<dict>") -> Settings:
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def load_settings(path: Path | None) -> Settings:
    """Read and validate a TOML file; ``None`` gives the defaults."""
    if path is None:
        return Settings()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return settings_from_dict(data, str(path))
