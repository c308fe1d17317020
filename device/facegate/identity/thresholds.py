"""The open-set thresholds shipped with facegate, one per embedder (cosine distance).

A probe is accepted as the predicted student only if its cosine distance to the centroid of
that student's templates is at or below the threshold.

How they were calibrated (docs/recognition.md, "The shipped threshold"): on faces94, every
person is left out of the gallery in turn and all their photos are shown as strangers
(``facegate eval identities ../shared/data/identities/faces94 --embedder NAME``); the largest
threshold that keeps the strangers' accept rate at or below 1% (``threshold_at_far_1pct``:
0.3549 for facenet, 0.0491 for dlib) is rounded down. lfw10 played no part: its figures are
the out-of-sample check. faces94 shows people in one setting (same wall, light and camera),
as a door does, which brings strangers closer than in news photos.

An admin can re-calibrate on the enrolled gallery (``facegate gallery calibrate``) or set
``matcher.threshold`` in the config.
"""

from __future__ import annotations

SHIPPED_THRESHOLDS: dict[str, float] = {
    "facenet": 0.35,
    "facenet-float": 0.35,
    "dlib": 0.049,
}


def shipped_threshold(embedder: str) -> float:
    return SHIPPED_THRESHOLDS[embedder]


# The largest cosine distance between an attempt's frames (best frames and the frames around
# its blinks) that still counts as one person; measured on the real clips (same person across
# a blink against different people: docs/liveness.md, "One face per attempt").
SHIPPED_BINDING_LIMITS: dict[str, float] = {
    "facenet": 0.30,
    "facenet-float": 0.30,
    "dlib": 0.045,
}


def binding_limit(embedder: str) -> float:
    return SHIPPED_BINDING_LIMITS[embedder]
