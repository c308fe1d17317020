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

from facegate.config.recognition import MatcherConfig
from facegate.identity.matcher import OpenSetRule

SHIPPED_RULES: dict[str, OpenSetRule] = {
    "facenet": OpenSetRule(0.23, 0.12, slope=0.045, reference_size=300, max_threshold=0.35),
    "facenet-float": OpenSetRule(0.23, 0.12, slope=0.045, reference_size=300, max_threshold=0.35),
    # Measured on the first 60 people of celeba278 only (dlib at ~100 ms a face here made the
    # whole set too slow to embed on this shared machine): 1% of strangers at 0.058 for 10
    # students, 0.046 for 60; capped by faces94's 0.049. docs/recognition.md, "dlib or FaceNet?"
    "dlib": OpenSetRule(0.045, 0.0, slope=0.0067, reference_size=60, max_threshold=0.049),
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
    "dlib": 0.045,
}


def binding_limit(embedder: str) -> float:
    return SHIPPED_BINDING_LIMITS[embedder]


def rule_with_overrides(
    embedder: str, matcher: MatcherConfig, threshold: float | None, margin: float | None
) -> OpenSetRule:
    """The shipped rule of ``embedder`` with the config's, then the command line's, overrides
    (what the evaluations score with; the door also reads the gallery's calibration)."""
    rule = shipped_rule(embedder)
    fixed = threshold if threshold is not None else matcher.threshold
    if fixed is not None:  # one threshold whatever the number of students
        rule = OpenSetRule(fixed, rule.margin)
    if margin is None:
        margin = matcher.margin
    if margin is not None:
        rule = OpenSetRule(
            rule.threshold, margin, rule.slope, rule.reference_size, rule.max_threshold
        )
    return rule


def pair_threshold(embedder: str, matcher: MatcherConfig, override: float | None) -> float:
    """The threshold for comparing two faces (one candidate: the shipped rule's largest)."""
    if override is not None:
        return override
    return matcher.threshold or shipped_rule(embedder).threshold_for(1)
