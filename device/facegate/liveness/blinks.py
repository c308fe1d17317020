"""Blinks found in time from both eyes' EAR against a per-person open-eye baseline.

A fixed EAR threshold (the papers use 0.2-0.3) fails for people whose open eyes read low
(heavy lids, glasses, a smile) or high. Here each eye has its own baseline, the median of its
recent open-eye values, and a blink is judged relative to it:

* the eyes *close* when the mean EAR falls below ``closed_ratio`` x baseline (the baseline is
  frozen from then on) and *reopen* when it climbs back half way from its minimum to the
  baseline; the dip runs from the last open sample (above ``open_ratio`` x baseline) before
  the closing to the reopening;
* it is a blink when both eyes fell below ``closed_ratio`` x their own baseline, the time
  below the closed level (interpolated between samples, so independent of the frame rate) is
  ``min_closed_s``..``max_closed_s``, the lids went from open to closed within
  ``max_closing_s`` (a smile or a squint narrows the eyes slowly), the whole dip is at most
  ``max_dip_s``, the head did not
  pitch, no frames are missing and jaw, brows and nose did not jump (a finger or a hand
  over the eyes disturbs them; a blink barely does);
* a face smaller than ``min_face_px`` gives no evidence: its frames are left out, and a dip
  with such a frame in it or just before it is refused as ``face_too_small`` (on a small face
  the landmarks' jitter makes blink-shaped dips).

Every dip that is not a blink is kept with the reason, for the attempt's evidence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from facegate.config.liveness import LivenessConfig
from facegate.liveness.eye_frame import EyeFrame
from facegate.liveness.head_motion import HeadMotion, head_motion


@dataclass(frozen=True)
class Blink:
    """A blink (or, with ``reason`` set, a dip that was not one); times in seconds."""

    start: float
    end: float
    closed_start: float
    closed_end: float
    depth: float
    min_right: float
    min_left: float
    baseline_right: float
    baseline_left: float
    reason: str = ""

    @property
    def closed_s(self) -> float:
        return self.closed_end - self.closed_start

    def as_evidence(self) -> dict:
        out = {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "closed_s": round(self.closed_s, 3),
            "depth": round(self.depth, 3),
            "min_ear": [round(self.min_right, 3), round(self.min_left, 3)],
            "baseline_ear": [round(self.baseline_right, 3), round(self.baseline_left, 3)],
        }
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class _Pending:
    """A dip that is a blink only if the head turned: judged once the pose after it is seen."""

    blink: Blink
    rest: list[EyeFrame]
    span: list[EyeFrame]
    checks: dict
    until: float


def _crossing(a: EyeFrame, b: EyeFrame, level: float) -> float:
    """When the mean EAR passed ``level`` between samples a and b (linear in time)."""
    if a.mean == b.mean:
        return b.t
    f = (level - a.mean) / (b.mean - a.mean)
    return a.t + float(np.clip(f, 0.0, 1.0)) * (b.t - a.t)


class BlinkDetector:
    """Feed :class:`EyeFrame` samples in time order; :meth:`add` returns each judged dip."""

    def __init__(self, params: LivenessConfig | None = None) -> None:
        self.p = params or LivenessConfig()
        self._history: deque[EyeFrame] = deque()
        self._dip: list[EyeFrame] = []
        self._frozen: tuple[float, float] | None = None
        self._long = False
        self._last_end = float("-inf")
        self._last_closure_end = float("-inf")
        self._closed_since = 0.0
        self._last_t = float("-inf")
        self._last_small = float("-inf")
        self.frames = 0
        self._pending: _Pending | None = None
        self.small_frames = 0
        self.blinks: list[Blink] = []
        self.rejected: list[Blink] = []

    def baseline(self) -> tuple[float, float] | None:
        """(right, left) open-eye EAR, or None until ``min_history_s`` of samples is seen.

        The median of every sample in the window: a blink covers a few of them and does not
        move it, a smile or squint that lasts a second or more does.
        """
        if self._frozen is not None:
            return self._frozen
        if not self._history or self._history[-1].t - self._history[0].t < self.p.min_history_s:
            return None
        return (
            float(np.median([f.right for f in self._history])),
            float(np.median([f.left for f in self._history])),
        )

    def closing_since(self) -> float | None:
        """When the eyes closed, if they are closed now (an attempt must not end mid-blink).

        Across a long closure this stays the time they first closed; a dip waiting for the
        head's pose after it counts as closed until it is judged."""
        if self._dip:
            return self._closed_since
        return self._pending.blink.closed_start if self._pending else None

    def settle(self, now: float) -> Blink | None:
        """Judge a dip that waits for the head's pose after it once ``now`` is late enough
        (the caller's clock: at a deadline, or at the end of a recording with ``inf``)."""
        if self._pending is None or now < self._pending.until:
            return None
        pending, self._pending = self._pending, None
        post = [f for f in self._history if f.t > pending.blink.end]
        head = head_motion(pending.rest, pending.span, post)
        result = replace(pending.blink, reason=self._reason(pending.blink, head, **pending.checks))
        (self.rejected if result.reason else self.blinks).append(result)
        return result

    def add(self, frame: EyeFrame) -> Blink | None:
        if frame.t <= self._last_t:
            raise ValueError(f"samples out of order: {frame.t} after {self._last_t}")
        self._last_t = frame.t
        self.frames += 1
        if frame.face_px is not None and frame.face_px < self.p.min_face_px:
            self.small_frames += 1
            self._last_small = frame.t
            return self.settle(frame.t)
        result = None
        if self._dip:
            result = self._continue(frame)
        else:
            base = self.baseline()
            if base is not None and frame.mean < self.p.closed_ratio * (base[0] + base[1]) / 2:
                self._frozen = base
                self._dip = [frame]
                self._closed_since = frame.t
        self._history.append(frame)
        while self._history and frame.t - self._history[0].t > self.p.baseline_window_s:
            self._history.popleft()
        return result or self.settle(frame.t)

    def _continue(self, frame: EyeFrame) -> Blink | None:
        assert self._frozen is not None
        base = sum(self._frozen) / 2
        lowest = min(f.mean for f in self._dip)
        reopened = frame.mean >= lowest + 0.5 * (base - lowest)
        too_long = frame.t - self._dip[0].t > self.p.max_dip_s
        if not reopened and not too_long:
            self._dip.append(frame)
            return None
        dip, eyes = self._dip, self._frozen
        self._dip, self._frozen = [], None
        self.settle(float("inf"))
        result = self._judge(dip, frame, eyes, reopened)
        self._last_end = frame.t
        if result is not None:
            if result.reason == "long_closure":
                self._last_closure_end = frame.t
            (self.rejected if result.reason else self.blinks).append(result)
        if not reopened:
            # Still closed: wait for the eyes to open before another dip can start.
            self._frozen = eyes
            self._dip = [frame]
            self._long = True
        return result

    def _opened_before(self, first: EyeFrame, base: float) -> EyeFrame | None:
        """The last sample before ``first`` with the eyes open, within ``max_dip_s``."""
        for f in reversed(self._history):
            if f.t >= first.t:
                continue
            if first.t - f.t > self.p.max_dip_s or f.t < self._last_end:
                return None
            if f.mean >= self.p.open_ratio * base:
                return f
        return None

    def _judge(
        self, dip: list[EyeFrame], after: EyeFrame, eyes: tuple[float, float], reopened: bool
    ) -> Blink | None:
        """The dip judged, or None when it waits for the head's pose after it (a blink only if
        the head turned through it)."""
        p = self.p
        right0, left0 = eyes
        base = (right0 + left0) / 2
        closed_level = p.closed_ratio * base
        opened = self._opened_before(dip[0], base)
        before = next((f for f in reversed(self._history) if f.t < dip[0].t), None)
        lead = [f for f in self._history if opened is not None and opened.t <= f.t < dip[0].t]
        start = dip[0].t
        if opened is not None:
            start = _crossing(opened, lead[1] if len(lead) > 1 else dip[0], p.open_ratio * base)
        closed_start = _crossing(before, dip[0], closed_level) if before else dip[0].t
        closed_end = closed_start
        closed = [i for i, f in enumerate(dip) if f.mean < closed_level]
        if closed:
            nxt = dip[closed[-1] + 1] if closed[-1] + 1 < len(dip) else after
            closed_end = _crossing(dip[closed[-1]], nxt, closed_level)
        blink = Blink(
            start=start,
            end=after.t,
            closed_start=closed_start,
            closed_end=closed_end,
            depth=1.0 - min(f.mean for f in dip) / base,
            min_right=min(f.right for f in dip),
            min_left=min(f.left for f in dip),
            baseline_right=right0,
            baseline_left=left0,
        )
        continued, self._long = self._long, False
        reclosed = blink.closed_start - self._last_closure_end < self.p.closure_refractory_s
        if continued or not reopened or reclosed:
            return replace(blink, reason="long_closure")
        span = [*lead, *dip, after]
        first = (opened or dip[0]).t
        rest = [f for f in self._history if first - p.head_rest_s <= f.t < first]
        head = head_motion(rest, span)
        usual = [f.jump for f in self._history if first - 1.0 <= f.t < first - 0.05]
        gaps = np.diff([f.t for f in ([before] if before else []) + [*dip, after]])
        checks = {
            "opened_before": opened is not None,
            "max_gap": float(max(gaps)),
            "max_jump": max(f.jump for f in span),
            "usual_jump": float(np.percentile(usual, 75)) if len(usual) >= 5 else None,
            "small_face": self._last_small >= first - p.max_gap_s,
        }
        at_rest = self._reason(blink, head, turning=False, **checks)
        if not at_rest or self._reason(blink, head, **checks):
            return replace(blink, reason=at_rest)
        self._pending = _Pending(blink, rest, span, checks, after.t + p.head_after_s)
        return None

    def _reason(
        self,
        b: Blink,
        head: HeadMotion,
        opened_before: bool,
        max_gap: float,
        max_jump: float,
        usual_jump: float | None,
        small_face: bool = False,
        turning: bool = True,
    ) -> str:
        """Why a dip is not a blink, or "" when it is one.

        A head that turned through the dip (its pitch and yaw within ``max_turn_out_deg``
        of the range between its rest before and its pose after the reopening) may change
        its pitch by up to ``max_pitch_turn_deg``, of which only what left that range counts
        against ``max_pitch_change_deg``, and its landmarks are expected to jump
        ``turn_jump_per_deg`` per degree it turns per frame. ``turning=False`` judges it
        against the head at rest."""
        p = self.p
        turning = turning and max(head.pitch_out, head.yaw_out) <= p.max_turn_out_deg
        if usual_jump is not None and turning:
            usual_jump = max(usual_jump, p.turn_jump_per_deg * head.deg_per_frame)
        pitch_change = head.pitch_out + (0.0 if turning else abs(head.net_pitch))
        right_closed = b.min_right < p.closed_ratio * b.baseline_right
        left_closed = b.min_left < p.closed_ratio * b.baseline_left
        other_open = (
            b.min_right > p.wink_open_ratio * b.baseline_right
            or b.min_left > p.wink_open_ratio * b.baseline_left
        )
        checks = [
            (small_face, "face_too_small"),
            (max_gap > p.max_gap_s, "frames_missing"),
            (max_jump > p.max_landmark_jump, "landmarks_jumped"),
            (
                usual_jump is not None
                and max_jump > p.landmark_jump_floor
                and max_jump > p.landmark_jump_ratio * usual_jump,
                "landmarks_jumped",
            ),
            (pitch_change > p.max_pitch_change_deg, "pitch_change"),
            (abs(head.net_pitch) > p.max_pitch_turn_deg, "pitch_change"),
            (not opened_before, "not_open_before"),
            (right_closed != left_closed and other_open, "wink"),
            (not (right_closed and left_closed), "one_eye"),
            (b.closed_s > p.max_closed_s or b.end - b.start > p.max_dip_s, "long_closure"),
            (b.closed_start - b.start > p.max_closing_s, "slow_closing"),
            (b.closed_s < p.min_closed_s, "too_short"),
        ]
        return next((reason for failed, reason in checks if failed), "")
