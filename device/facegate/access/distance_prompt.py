"""Whether to ask the student at the door to come closer, from the face's size frame by frame.

A face smaller than ``liveness.min_face_px`` gives no blink evidence (its landmark noise looks
like a blink), so a student standing too far away would only be refused with ``no_blink`` +
``face_too_small`` at the end of the attempt. Told at once, they step closer and blink in
time. The state changes only after it has held for a few frames, so a face on the edge of the
limit does not make the LED flicker.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ComeCloser:
    """The flow's effect: the face is too small (``on``), or close enough again."""

    on: bool


class DistancePrompt:
    """Tracks one attempt's face size; says when "come closer" should start or stop."""

    def __init__(self, min_face_px: int, frames_to_change: int = 5) -> None:
        self._min = min_face_px
        self._needed = frames_to_change
        self.on = False
        self._streak = 0

    def update(self, face_px: float) -> ComeCloser | None:
        """The effect to show when the state flips on this frame, else None."""
        too_small = self._min > 0 and face_px < self._min
        if too_small == self.on:
            self._streak = 0
            return None
        self._streak += 1
        if self._streak < self._needed:
            return None
        self.on, self._streak = too_small, 0
        return ComeCloser(too_small)
