"""The enrolment quality gate: is this photo good enough to become a template?

Pure logic over what the pipeline measured (detections, landmarks, the image); every refusal
carries a code and a sentence an admin can act on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from facegate.config import QualityConfig
from facegate.vision.crops import grey_face
from facegate.vision.detection import Detection
from facegate.vision.ear import eyes_aspect_ratio
from facegate.vision.head_pose import head_pose


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class QualityReport:
    face: Detection | None
    refusals: tuple[Refusal, ...]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refusals

    def reason(self) -> str:
        return "; ".join(r.message for r in self.refusals)


def sharpness(image_bgr: np.ndarray, detection: Detection) -> float:
    """Variance of the Laplacian of the face at a fixed 128 px, independent of resolution."""
    return float(cv2.Laplacian(grey_face(image_bgr, detection.box), cv2.CV_64F).var())


def enrollable_faces(detections: list[Detection], min_face_px: int) -> list[Detection]:
    return [d for d in detections if d.box.size >= min_face_px]


class QualityGate:
    """Exactly one face, big enough, sharp, roughly frontal, eyes open."""

    def __init__(self, config: QualityConfig) -> None:
        self.config = config

    def faces_check(self, detections: list[Detection]) -> QualityReport:
        """The checks that need only the detections (before landmarks are computed)."""
        c = self.config
        if not detections:
            return QualityReport(None, (Refusal("no_face", "no face found"),))
        big = enrollable_faces(detections, c.min_face_px)
        if len(big) > 1:
            return QualityReport(
                None,
                (
                    Refusal(
                        "several_faces", f"{len(big)} faces in the photo; exactly one is needed"
                    ),
                ),
            )
        if not big:
            largest = max(detections, key=lambda d: d.box.size)
            return QualityReport(
                largest,
                (
                    Refusal(
                        "face_too_small",
                        f"face is {largest.box.size:.0f} px, at least {c.min_face_px} px needed",
                    ),
                ),
                {"face_px": largest.box.size},
            )
        return QualityReport(big[0], (), {"face_px": big[0].box.size})

    def check(self, image_bgr: np.ndarray, face: Detection, landmarks: np.ndarray) -> QualityReport:
        """The checks on the one face: sharpness, pose and open eyes."""
        c = self.config
        height, width = image_bgr.shape[:2]
        sharp = sharpness(image_bgr, face)
        pose = head_pose(landmarks, width, height)
        ear_r, ear_l = eyes_aspect_ratio(landmarks)
        metrics = {
            "face_px": face.box.size,
            "sharpness": sharp,
            "yaw_deg": pose.yaw,
            "pitch_deg": pose.pitch,
            "roll_deg": pose.roll,
            "ear_right": ear_r,
            "ear_left": ear_l,
        }
        refusals = []
        if sharp < c.min_sharpness:
            refusals.append(
                Refusal(
                    "blurry", f"face is blurred (sharpness {sharp:.0f} < {c.min_sharpness:.0f})"
                )
            )
        if not (abs(pose.yaw) <= c.max_yaw_deg and abs(pose.pitch) <= c.max_pitch_deg):
            refusals.append(
                Refusal(
                    "not_frontal",
                    f"face is turned (yaw {pose.yaw:+.0f}°, pitch {pose.pitch:+.0f}°; "
                    f"limits ±{c.max_yaw_deg:.0f}° and ±{c.max_pitch_deg:.0f}°)",
                )
            )
        if min(ear_r, ear_l) < c.min_eye_aspect_ratio:
            refusals.append(
                Refusal(
                    "eyes_closed",
                    f"eyes look closed (eye aspect ratio {min(ear_r, ear_l):.2f} "
                    f"< {c.min_eye_aspect_ratio:.2f})",
                )
            )
        return QualityReport(face, tuple(refusals), metrics)
