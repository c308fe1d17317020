"""The blink challenge shown at the door: N flashes of an LED, N beeps, and a text line.

A student at the door has no screen to read; the count must come across in light and sound.
The devices are gpiozero's ``LED`` and ``Buzzer`` (any ``OutputDevice`` with ``blink``/
``beep``), so tests drive them on gpiozero's own ``MockFactory`` pins.
"""

from __future__ import annotations

from collections.abc import Callable

from gpiozero import LED, Buzzer

from facegate.liveness.challenge import Challenge, prompt_text


class SignalPrompter:
    """A :class:`~facegate.liveness.challenge.ChallengePrompter` for LEDs and a buzzer."""

    def __init__(
        self,
        led: LED | None = None,
        buzzer: Buzzer | None = None,
        show: Callable[[str], None] | None = None,
        flash_s: float = 0.25,
    ) -> None:
        self._led = led
        self._buzzer = buzzer
        self._show = show
        self._flash_s = flash_s

    def prompt(self, challenge: Challenge) -> None:
        """Start the signals in the background: the camera loop must not wait for them."""
        n = challenge.blinks
        if self._led is not None:
            self._led.blink(self._flash_s, self._flash_s, n=n, background=True)
        if self._buzzer is not None:
            self._buzzer.beep(self._flash_s / 2, self._flash_s * 1.5, n=n, background=True)
        if self._show is not None:
            self._show(prompt_text(challenge))

    def clear(self) -> None:
        if self._led is not None:
            self._led.off()
        if self._buzzer is not None:
            self._buzzer.off()
        if self._show is not None:
            self._show("")
