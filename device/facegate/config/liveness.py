"""The liveness settings: one typed model, used by the config file and by the pure logic.

Defaults were measured on ../shared/data/blink (docs/liveness.md says how); times are in
seconds so that the logic works the same at 10, 15, 30 or 60 frames per second.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from facegate.config.base import Section


class LivenessConfig(Section):
    # Open-eye baseline: per eye, the median EAR of the last baseline_window_s outside dips.
    baseline_window_s: float = Field(default=2.0, gt=0.2, le=30.0)
    min_history_s: float = Field(default=0.3, ge=0.0, le=5.0)
    # A dip starts when the mean EAR falls below open_ratio x baseline and ends when it is back.
    open_ratio: float = Field(default=0.85, gt=0.0, lt=1.0)
    # The eyes close below closed_ratio x baseline; both must (a wink closes one).
    closed_ratio: float = Field(default=0.65, gt=0.0, lt=1.0)
    # The other eye of a wink stays above this share of its baseline.
    wink_open_ratio: float = Field(default=0.80, gt=0.0, le=1.0)
    # Eyes below the closed level for longer than this are a deliberate closure, not a blink.
    max_closed_s: float = Field(default=0.20, gt=0.0, le=2.0)
    # Eyes closing again this soon after a deliberate closure continue it (a squeeze series
    # with the eyes half reopened in between), they do not blink.
    closure_refractory_s: float = Field(default=0.5, ge=0.0, le=5.0)
    # A blink's lids fall from open to closed in about 100 ms; a smile narrows the eyes slowly.
    max_closing_s: float = Field(default=0.15, gt=0.0, le=2.0)
    # Shorter than this below the closed level is landmark jitter (interpolated, so a 100 ms
    # blink seen on a single frame at 10 fps still counts).
    min_closed_s: float = Field(default=0.04, ge=0.0, le=1.0)
    # The whole dip, from the last open sample to the reopening.
    max_dip_s: float = Field(default=0.60, gt=0.0, le=5.0)
    # A dip with a hole between samples longer than this is not judged (frames were dropped).
    max_gap_s: float = Field(default=0.25, gt=0.0, le=5.0)
    # Looking down lowers the lids: a dip with a larger pitch change is a glance, not a blink.
    max_pitch_change_deg: float = Field(default=12.0, gt=0.0, le=90.0)
    # ... judged against the head's own motion: its pose at rest (head_rest_s before the dip)
    # and after the reopening (head_after_s later; only dips that need it wait for it). A
    # head whose pitch and yaw stay within max_turn_out_deg of the range between the two is
    # turning (people blink as they turn): its pitch may move across that range, by at most
    # max_pitch_turn_deg, and its landmarks may jump turn_jump_per_deg x the degrees it turns
    # per frame (the parallax of a 3-D head) before the jump checks below apply.
    head_rest_s: float = Field(default=0.3, gt=0.0, le=5.0)
    head_after_s: float = Field(default=0.15, ge=0.0, le=2.0)
    max_turn_out_deg: float = Field(default=6.0, ge=0.0, le=90.0)
    max_pitch_turn_deg: float = Field(default=30.0, gt=0.0, le=90.0)
    turn_jump_per_deg: float = Field(default=0.007, ge=0.0, le=1.0)
    # Jaw, brows and nose jumping between two samples (as a share of the eye distance) means
    # the landmarks were disturbed (a finger or hand over the eyes), not a blink: more than
    # landmark_jump_ratio x their usual jump of the last second (75th percentile) and more
    # than landmark_jump_floor, or more than max_landmark_jump at all.
    max_landmark_jump: float = Field(default=0.15, gt=0.0, le=5.0)
    landmark_jump_ratio: float = Field(default=4.0, gt=1.0, le=100.0)
    landmark_jump_floor: float = Field(default=0.04, ge=0.0, le=5.0)
    # A face smaller than this (the box's side, px) gives no blink evidence: its landmark noise
    # looks like a blink. The student is asked to come closer (reason face_too_small).
    min_face_px: int = Field(default=130, ge=0, le=2000)

    # Photo attack: over static_window_s the EAR stays flat and the face moves only rigidly.
    static_window_s: float = Field(default=2.5, gt=0.2, le=30.0)
    static_ear_spread: float = Field(default=0.12, ge=0.0, le=1.0)
    static_nonrigid: float = Field(default=0.013, ge=0.0, le=1.0)

    # Random challenge: blink a number of times drawn from [min, max] in the window.
    challenge: bool = True
    challenge_min_blinks: int = Field(default=1, ge=1, le=5)
    challenge_max_blinks: int = Field(default=3, ge=1, le=5)
    challenge_window_s: float = Field(default=6.0, gt=0.5, le=60.0)
    # After the requested count, this long without another blink before accepting.
    challenge_settle_s: float = Field(default=0.8, ge=0.0, le=10.0)
    # Without a challenge: how long to wait for a blink at all.
    timeout_s: float = Field(default=8.0, gt=0.5, le=120.0)

    @model_validator(mode="after")
    def _consistent(self) -> LivenessConfig:
        if self.closed_ratio >= self.open_ratio:
            raise ValueError("closed_ratio must be below open_ratio")
        if self.challenge_min_blinks > self.challenge_max_blinks:
            raise ValueError("challenge_min_blinks must not exceed challenge_max_blinks")
        if self.min_closed_s >= self.max_closed_s:
            raise ValueError("min_closed_s must be below max_closed_s")
        return self
