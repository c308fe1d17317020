"""``[detection]``: finding faces, per frame (Haar) and for enrolment and embedding (MTCNN)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from facegate.config.base import Section


class DetectionConfig(Section):
    # haar: fast, for every door frame; mtcnn: slower, better on hard poses, used for enrolment.
    detector: Literal["haar", "mtcnn"] = "haar"
    # Haar runs on a grey copy scaled to this width; sizes below are in full-frame pixels.
    haar_width: int = Field(default=320, ge=80, le=1920)
    haar_scale_factor: float = Field(default=1.15, gt=1.0, le=2.0)
    haar_min_neighbors: int = Field(default=5, ge=1, le=20)
    haar_min_face_px: int = Field(default=60, ge=12, le=1000)
    # The tracker searches the whole frame this often (to count the faces in view, so that a
    # second face ends an attempt); in between only near the tracked face.
    rescan_s: float = Field(default=0.33, gt=0.0, le=10.0)
    mtcnn_min_face_px: int = Field(default=40, ge=12, le=1000)
    mtcnn_thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8)

    @field_validator("mtcnn_thresholds")
    @classmethod
    def _probabilities(cls, v: tuple[float, float, float]) -> tuple[float, float, float]:
        if not all(0.0 < t < 1.0 for t in v):
            raise ValueError("each MTCNN stage threshold must be between 0 and 1")
        return v
