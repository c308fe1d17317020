"""``[embedder]``, ``[matcher]`` and ``[quality]``: turning a face into an identity."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from facegate.config.base import Section


class EmbedderConfig(Section):
    name: Literal["facenet", "facenet-float", "dlib"] = "facenet"
    threads: int = Field(default=2, ge=1, le=16)


class MatcherConfig(Section):
    # None: the threshold (and margin) calibrated on this gallery if any, else the shipped ones.
    threshold: float | None = Field(default=None, gt=0.0, lt=2.0)
    # Least gap between the nearest and the second-nearest student (cosine distance).
    margin: float | None = Field(default=None, ge=0.0, lt=2.0)
    # Unused since the SVM was dropped (docs/recognition.md); accepted so old configs load.
    svm_c: float = Field(default=1.0, gt=0.0)


class QualityConfig(Section):
    min_face_px: int = Field(default=60, ge=20, le=2000)
    # Defaults measured on lfw10 and faces94 (docs/recognition.md, "Quality gate").
    min_sharpness: float = Field(default=12.0, ge=0.0)
    max_yaw_deg: float = Field(default=40.0, gt=0.0, le=90.0)
    max_pitch_deg: float = Field(default=30.0, gt=0.0, le=90.0)
    min_eye_aspect_ratio: float = Field(default=0.12, ge=0.0, le=1.0)
