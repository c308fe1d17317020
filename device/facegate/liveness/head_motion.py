"""How the head moved across an eye dip: a turn (steady, lasting) or a disturbance.

People blink as they turn their head. Judged against the head at rest before the dip, the
blink detector's pitch and landmark-jump checks refused those blinks (`pitch_change`,
`landmarks_jumped`). Here the head's pose at rest just before the dip is compared with
its pose just after the reopening (the judgment waits ``head_after_s`` for it): a head that
turned passes, on its way, through the poses between the two (its pitch and yaw stay inside
that range, give or take the pose noise a closing lid adds), and its jaw, brows and nose
change shape by the parallax of the turn, more the faster it turns. A glance down and back
leaves that range and returns (the pitch goes out and comes back to where it was), and so
does a pose thrown by a finger passed over a photo's eyes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facegate.liveness.eye_frame import EyeFrame


@dataclass(frozen=True)
class HeadMotion:
    """Degrees. ``pitch_out`` and ``yaw_out`` are how far the pose went outside the range
    between its rest before the dip and the reopening; ``deg_per_frame`` is the turn's rate."""

    net_pitch: float
    net_yaw: float
    pitch_out: float
    yaw_out: float
    deg_per_frame: float


def _outside(values: list[float], a: float, b: float) -> float:
    low, high = min(a, b), max(a, b)
    return max(max(low - v, v - high, 0.0) for v in values)


def head_motion(
    rest: list[EyeFrame], span: list[EyeFrame], after: list[EyeFrame] | None = None
) -> HeadMotion:
    """The head's motion over ``span`` (the dip's frames up to the reopening), from its pose
    at rest just before (the median of ``rest``; the span's first frame when empty) to its
    pose after (the median of ``after``; the reopening frame when there is none)."""
    ref, post = rest or span[:1], after or span[-1:]
    pitch0 = float(np.median([f.pitch for f in ref]))
    yaw0 = float(np.median([f.yaw for f in ref]))
    pitch1 = float(np.median([f.pitch for f in post]))
    yaw1 = float(np.median([f.yaw for f in post]))
    d_pitch, d_yaw = pitch1 - pitch0, yaw1 - yaw0
    return HeadMotion(
        net_pitch=d_pitch,
        net_yaw=d_yaw,
        pitch_out=_outside([f.pitch for f in span], pitch0, pitch1),
        yaw_out=_outside([f.yaw for f in span], yaw0, yaw1),
        deg_per_frame=float(np.hypot(d_pitch, d_yaw)) / max(len(span) - 1, 1),
    )
