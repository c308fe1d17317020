"""The ``[hardware]`` configuration section: which BCM pin does what at this door.

Validated before any pin is touched: pins must be BCM 2-27, no pin may serve two purposes,
and the keypad and LED choices must be complete. TOML has no null, so an optional device
with a default pin (the LEDs and the buzzer) is switched off with ``false``
(``buzzer_pin = false``). Setting ``rgb_led_pins`` replaces the default separate LEDs; naming
both an RGB LED and a separate LED is an error.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from facegate.config.base import Section

_SEPARATE_LEDS = ("green_led_pin", "red_led_pin", "amber_led_pin")


def _bcm(pin: int) -> int:
    if not 2 <= pin <= 27:
        raise ValueError(
            f"{pin} is not a usable BCM GPIO number: use 2-27 (GPIO 0 and 1 are the HAT "
            "EEPROM bus; BCM numbers, not physical header pin numbers)"
        )
    return pin


BcmPin = Annotated[int, AfterValidator(_bcm)]


class HardwareConfig(Section):
    # lgpio on the Pi 5; mock only for the demo and tests (never a silent fallback).
    pin_factory: Literal["lgpio", "mock"] = "lgpio"
    # Door relay (BCM); active_high False for relay boards that switch on a low input.
    relay_pin: BcmPin = 17
    relay_active_high: bool = True
    # How long a grant (or request-to-exit) keeps the relay energised.
    unlock_s: float = Field(default=3.0, ge=0.5, le=30.0)
    # Separate status LEDs (false: not fitted): green granted, red denied/alarm, amber busy.
    green_led_pin: BcmPin | None = 22
    red_led_pin: BcmPin | None = 27
    amber_led_pin: BcmPin | None = 23
    # An RGB LED (red, green, blue pins) instead of the separate LEDs.
    rgb_led_pins: tuple[BcmPin, BcmPin, BcmPin] | None = None
    # Active buzzer (false: not fitted).
    buzzer_pin: BcmPin | None = 24
    # Door contact (reed switch to ground, open = high); unset: no contact fitted.
    door_contact_pin: BcmPin | None = None
    # Request-to-exit button (to ground); unset: none fitted.
    exit_button_pin: BcmPin | None = None
    # Seconds the door may stay open before a door_held_open alarm.
    held_open_s: float = Field(default=15.0, ge=1.0, le=3600.0)
    # Keypad for the second factor: none, a 3x4 matrix on GPIO, or a USB keypad (evdev).
    keypad: Literal["none", "matrix", "usb"] = "none"
    # Matrix keypad row pins (top to bottom) and column pins (left to right).
    keypad_rows: tuple[BcmPin, BcmPin, BcmPin, BcmPin] | None = None
    keypad_cols: tuple[BcmPin, BcmPin, BcmPin] | None = None
    # USB keypad event device; a stable /dev/input/by-id/... path, not /dev/input/eventN.
    keypad_device: str | None = None
    # Digits in a keypad code (TOTP: 6).
    code_digits: int = Field(default=6, ge=4, le=10)

    @field_validator(
        "green_led_pin",
        "red_led_pin",
        "amber_led_pin",
        "buzzer_pin",
        "door_contact_pin",
        "exit_button_pin",
        "rgb_led_pins",
        mode="before",
    )
    @classmethod
    def _false_is_not_fitted(cls, v: Any) -> Any:
        if v is True:
            raise ValueError("give a BCM pin number, or false for not fitted")
        return None if v is False else v

    @field_validator("keypad_device")
    @classmethod
    def _device_path(cls, v: str | None) -> str | None:
        if v is not None and not v.startswith("/dev/"):
            raise ValueError("must be an absolute device path such as /dev/input/by-id/...-kbd")
        return v

    @model_validator(mode="before")
    @classmethod
    def _rgb_replaces_default_leds(cls, data: Any) -> Any:
        if not isinstance(data, dict) or data.get("rgb_led_pins") in (None, False):
            return data
        named = [k for k in _SEPARATE_LEDS if data.get(k) not in (None, False)]
        if named:
            raise ValueError(
                f"rgb_led_pins and {', '.join(named)} are both set: wire either an RGB LED or "
                "separate LEDs"
            )
        return {**data, **{k: None for k in _SEPARATE_LEDS}}

    @model_validator(mode="after")
    def _consistent(self) -> HardwareConfig:
        if self.keypad == "matrix" and (self.keypad_rows is None or self.keypad_cols is None):
            raise ValueError(
                'keypad = "matrix" needs keypad_rows (4 BCM pins) and keypad_cols (3 BCM pins)'
            )
        if self.keypad != "matrix" and (self.keypad_rows or self.keypad_cols):
            raise ValueError('keypad_rows and keypad_cols are only used with keypad = "matrix"')
        if self.keypad == "usb" and self.keypad_device is None:
            raise ValueError('keypad = "usb" needs keypad_device (/dev/input/by-id/...)')
        if self.keypad != "usb" and self.keypad_device is not None:
            raise ValueError('keypad_device is only used with keypad = "usb"')
        used: dict[int, str] = {}
        for key, pin in self.pin_uses():
            if pin in used:
                raise ValueError(f"BCM pin {pin} is used twice: by {used[pin]} and by {key}")
            used[pin] = key
        return self

    def pin_uses(self) -> list[tuple[str, int]]:
        """Every configured pin with the key that claims it, e.g. ``("keypad_rows[2]", 6)``."""
        uses: list[tuple[str, int]] = [("relay_pin", self.relay_pin)]
        for key in (*_SEPARATE_LEDS, "buzzer_pin", "door_contact_pin", "exit_button_pin"):
            pin = getattr(self, key)
            if pin is not None:
                uses.append((key, pin))
        for key in ("rgb_led_pins", "keypad_rows", "keypad_cols"):
            pins = getattr(self, key)
            if pins is not None:
                uses.extend((f"{key}[{i}]", pin) for i, pin in enumerate(pins))
        return uses
