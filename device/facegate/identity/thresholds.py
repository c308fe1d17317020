"""The open-set rule shipped with facegate, one per embedder (cosine distances).

A probe is accepted as the nearest enrolled student when its distance to that student's
centroid is at or below the threshold for the number of students who may be accepted (the
roster, else the gallery: ``threshold`` at ``reference_size`` students, ``slope`` lower for
each e-fold more, never above ``max_threshold``) and the second-nearest student is at least
``margin`` further away. The slope was measured on celeba278 (10-278 people), the cap on
faces94 (18 people in one sitting, where strangers come closer than celeba278's line says).

How they were calibrated: see docs/recognition.md, "The shipped rule".

An admin can re-calibrate on the enrolled gallery (``facegate gallery calibrate``) or set
``matcher.threshold`` / ``matcher.margin`` in the config.
"""

from __future__ import annotations

from facegate.identity.matcher import OpenSetRule

SHIPPED_RULES: dict[str, OpenSetRule] = {
    "facenet": OpenSetRule(0.24, 0.12, slope=0.045, reference_size=300, max_threshold=0.35),
    "facenet-float": OpenSetRule(0.24, 0.12, slope=0.045, reference_size=300, max_threshold=0.35),
    "dlib": OpenSetRule(0.049, 0.0),
}


def shipped_rule(embedder: str) -> OpenSetRule:
    return SHIPPED_RULES[embedder]


def shipped_threshold(embedder: str) -> float:
    return SHIPPED_RULES[embedder].threshold


# The largest cosine distance between an attempt's frames (best frames and the frames around
# its blinks) that still counts as one person; measured on the real clips (same person across
# a blink against different people: docs/liveness.md, "One face per attempt").
SHIPPED_BINDING_LIMITS: dict[str, float] = {
    "facenet": 0.30,
    "facenet-float": 0.30,
    "dlib": 0.05,
}


def binding_limit(embedder: str) -> float:
    return SHIPPED_BINDING_LIMITS[embedder]
