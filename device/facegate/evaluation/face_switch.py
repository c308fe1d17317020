"""The face-switch attack, as frames: a live stranger blinks, then holds up an enrolled photo.

A person who is not enrolled stands back from the camera (face about 160 px), answers the
door's blink challenge, and a moment after the last blink (``delay_s``, 0.45 s in the attack
that was found) holds a printed photo of an enrolled student in front of their face, closer
(face about 240 px), shaken a little by the hand. Against a door that embeds only the
attempt's best frames (largest, frontal, eyes open), the photo's frames win and the stranger
is let in as the photographed student. The renderer answers the challenge the way the demo's
actor does, so it drives the real door end to end.
"""

from __future__ import annotations

import numpy as np

from facegate.demo.actor import CLOSE_S, HOLD_S, OPEN_S, PortraitActor, photo_landmarks
from facegate.evaluation.photo_attack import FRAME_SIZE, HeldPhoto, printed_face, seed_for
from facegate.vision.tracker import box_from_landmarks

BLINK_S = CLOSE_S + HOLD_S + OPEN_S


class FaceSwitchAttack:
    """Frames of ``stranger`` (a :class:`PortraitActor`) until ``delay_s`` after their last
    answered blink, then the printed ``photo_bgr`` held over them, its face ``photo_face_px``.

    ``respond`` is the listener's answer to the door's prompt; ``frame(t)`` must be called in
    time order (the hand's tremor is a random walk).
    """

    def __init__(
        self,
        stranger: PortraitActor,
        photo_bgr: np.ndarray,
        photo_face_px: float = 240.0,
        delay_s: float = 0.45,
        seed: int = 0,
    ) -> None:
        self.stranger = stranger
        self.delay_s = delay_s
        sheet = printed_face(photo_bgr)
        face = box_from_landmarks(photo_landmarks(sheet))
        w, h = FRAME_SIZE
        # The sheet is held where the stranger's face is, its face centred on theirs.
        sheet_centre = np.array([sheet.shape[1] / 2, sheet.shape[0] / 2])
        scale = photo_face_px / face.w
        offset = (sheet_centre - np.array(face.center)) * scale
        centre = (w / 2 + offset[0], 0.45 * h + offset[1])
        self._held = HeldPhoto(
            sheet, seed_for(f"switch-{seed}"), stranger.fps, None, (), scale, centre
        )
        self.switch_at: float | None = None

    def respond(self, n: int, after: float) -> list[float]:
        """The stranger blinks ``n`` times; the photo comes up ``delay_s`` after the last."""
        times = self.stranger.respond(n, after)
        if times:
            self.switch_at = times[-1] + BLINK_S + self.delay_s
        return times

    def frame(self, t: float) -> np.ndarray:
        live = self.stranger.frame(t)
        if self.switch_at is None or t < self.switch_at:
            return live
        return self._held.next(live)[1]
