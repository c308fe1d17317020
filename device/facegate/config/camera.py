"""``[camera]``: which camera to read, at what size and rate, and how hard to retry."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, field_validator, model_validator

from facegate.config.base import Section


class CameraConfig(Section):
    """Which camera to read, at what size and rate, and how hard to try when it fails."""

    kind: Literal["picamera2", "opencv", "folder"] = "picamera2"
    # picamera2: camera number; opencv: webcam index, video file or rtsp/http URL; folder: path.
    device: str = "0"
    width: int = Field(default=640, ge=160, le=1920)
    height: int = Field(default=480, ge=120, le=1080)
    # Blinks last 100-400 ms: liveness wants 15 fps or more.
    fps: float = Field(default=15.0, ge=1.0, le=60.0)
    reopen_initial_s: float = Field(default=0.5, gt=0.0, le=60.0)
    reopen_max_s: float = Field(default=30.0, gt=0.0, le=600.0)
    # A camera_error alarm is raised after this long without a frame.
    dead_after_s: float = Field(default=10.0, gt=0.0, le=3600.0)

    @field_validator("device")
    @classmethod
    def _device_given(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("must name a camera number, webcam index, file, URL or folder")
        return v

    @field_validator("width", "height")
    @classmethod
    def _even(cls, v: int) -> int:
        if v % 2:
            raise ValueError(f"must be even (the Pi camera's ISP needs even sizes), not {v}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.kind == "picamera2" and not self.device.isdigit():
            raise ValueError(
                f"device must be the Pi camera number (0, 1, ...) when kind is picamera2, "
                f"not {self.device!r}"
            )
        if self.reopen_max_s < self.reopen_initial_s:
            raise ValueError(
                f"reopen_max_s ({self.reopen_max_s}) must not be below "
                f"reopen_initial_s ({self.reopen_initial_s})"
            )
        return self
