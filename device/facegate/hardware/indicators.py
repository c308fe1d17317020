"""What the student at the door sees and hears: LEDs and a buzzer, all through gpiozero.

Either separate green/red/amber ``LED``s (each optional) or one ``RGBLED`` (green, red, amber
as red+green, blue for the challenge), plus an optional active ``Buzzer``. The RGB LED is
driven on/off (``pwm=False``): seven colours are enough and it works on every pin factory.
Every method returns at once; timed patterns run on gpiozero's background blink threads, and
each method first stops whatever pattern was running.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from gpiozero import LED, RGBLED, Buzzer

from facegate.hardware.challenge_signals import SignalPrompter

Colour = tuple[int, int, int]
OFF: Colour = (0, 0, 0)
RED: Colour = (1, 0, 0)
GREEN: Colour = (0, 1, 0)
AMBER: Colour = (1, 1, 0)
BLUE: Colour = (0, 0, 1)


class _RGBFlasher:
    """Lets :class:`SignalPrompter` flash an RGB LED in blue as if it were a single LED."""

    def __init__(self, rgb: RGBLED) -> None:
        self._rgb = rgb

    def blink(
        self, on_time: float, off_time: float, n: int | None = None, background: bool = True
    ) -> None:
        self._rgb.blink(on_time, off_time, on_color=BLUE, n=n, background=background)

    def off(self) -> None:
        self._rgb.off()


class Indicators:
    def __init__(
        self,
        green_pin: int | None = None,
        red_pin: int | None = None,
        amber_pin: int | None = None,
        rgb_pins: tuple[int, int, int] | None = None,
        buzzer_pin: int | None = None,
        *,
        beep_s: float = 0.1,
        denied_s: float = 2.0,
        alarm_blink_s: float = 0.25,
    ) -> None:
        if rgb_pins is not None and any(p is not None for p in (green_pin, red_pin, amber_pin)):
            raise ValueError("use either an RGB LED or separate green/red/amber LEDs, not both")
        self._beep_s = beep_s
        self._denied_s = denied_s
        self._alarm_s = alarm_blink_s
        self._come_closer_s = 0.1
        self._leds: dict[str, LED] = {}
        self._rgb: RGBLED | None = None
        self._buzzer: Buzzer | None = None
        try:
            for name, pin in (("green", green_pin), ("red", red_pin), ("amber", amber_pin)):
                if pin is not None:
                    self._leds[name] = LED(pin, initial_value=False)
            if rgb_pins is not None:
                self._rgb = RGBLED(*rgb_pins, pwm=False, initial_value=OFF)
            if buzzer_pin is not None:
                self._buzzer = Buzzer(buzzer_pin, initial_value=False)
        except Exception:
            self.close()
            raise

    def _show(
        self, colour: Colour, seconds: float | None = None, blink_s: float | None = None
    ) -> None:
        """Light one colour: steady, for ``seconds`` once, or blinking (``blink_s`` on, as long
        off) until the next call."""
        if self._rgb is not None:
            if blink_s is not None:
                self._rgb.blink(blink_s, blink_s, on_color=colour)
            elif seconds is not None:
                self._rgb.blink(seconds, 0, on_color=colour, n=1)
            else:
                self._rgb.value = colour
            return
        wanted = {GREEN: "green", RED: "red", AMBER: "amber"}.get(colour)
        for name, led in self._leds.items():
            if name != wanted:
                led.off()
            elif blink_s is not None:
                led.blink(blink_s, blink_s)
            elif seconds is not None:
                led.blink(seconds, 0, n=1)
            else:
                led.on()

    def _beep(self, n: int | None, on_s: float | None = None) -> None:
        if self._buzzer is None:
            return
        if n == 0:
            self._buzzer.off()
        else:
            on_s = on_s or self._beep_s
            self._buzzer.beep(on_s, on_s, n=n)

    def idle(self) -> None:
        self._show(OFF)
        self._beep(0)

    def busy(self) -> None:
        """An attempt is in progress: amber on."""
        self._show(AMBER)
        self._beep(0)

    def come_closer(self) -> None:
        """The face is too small for blink evidence: amber blinking fast, silent, until the
        next call (a steady amber again once close enough)."""
        self._show(AMBER, blink_s=self._come_closer_s)
        self._beep(0)

    def granted(self, seconds: float) -> None:
        """Green for the unlock time, one short beep."""
        self._show(GREEN, seconds)
        self._beep(1)

    def denied(self) -> None:
        """Red for ``denied_s``, two short beeps."""
        self._show(RED, self._denied_s)
        self._beep(2)

    def alarm(self) -> None:
        """Red blinking and a slow beep until :meth:`idle` (forced or held-open door)."""
        self._show(RED, blink_s=self._alarm_s)
        self._beep(None, self._alarm_s * 2)

    def challenge_prompter(self, show: Callable[[str], None] | None = None) -> SignalPrompter:
        """The blink challenge on the amber LED (blue on an RGB LED) and the buzzer."""
        led: LED | None = self._leds.get("amber")
        if self._rgb is not None:
            led = cast(LED, _RGBFlasher(self._rgb))  # duck-typed: blink() and off()
        return SignalPrompter(led, self._buzzer, show)

    def close(self) -> None:
        for device in (*self._leds.values(), self._rgb, self._buzzer):
            if device is not None:
                device.close()

    def __enter__(self) -> Indicators:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
