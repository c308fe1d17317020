"""The [hardware] section: bad pins and inconsistent choices are refused, naming the key."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from facegate.config.hardware import HardwareConfig


def errors(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        HardwareConfig.model_validate(data)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors()]


def test_defaults_are_a_valid_reference_wiring() -> None:
    hw = HardwareConfig()
    assert hw.pin_factory == "lgpio" and hw.relay_pin == 17 and hw.relay_active_high
    assert hw.keypad == "none" and hw.code_digits == 6
    assert dict(hw.pin_uses()) == {
        "relay_pin": 17,
        "green_led_pin": 22,
        "red_led_pin": 27,
        "amber_led_pin": 23,
        "buzzer_pin": 24,
    }


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"relay_pin": 0}, "relay_pin"),
        ({"relay_pin": 28}, "relay_pin"),
        ({"green_led_pin": 1}, "green_led_pin"),
        ({"buzzer_pin": 40}, "buzzer_pin"),
        ({"door_contact_pin": -3}, "door_contact_pin"),
        ({"rgb_led_pins": [5, 6, 30]}, "rgb_led_pins.2"),
        (
            {"keypad": "matrix", "keypad_rows": [5, 6, 13, 99], "keypad_cols": [16, 20, 21]},
            "keypad_rows.3",
        ),
    ],
)
def test_pins_outside_bcm_2_27_name_the_key(data: dict, key: str) -> None:
    [(loc, msg)] = errors(data)
    assert loc == key
    assert "BCM" in msg and "2-27" in msg


@pytest.mark.parametrize(
    ("data", "first", "second"),
    [
        ({"relay_pin": 22}, "relay_pin", "green_led_pin"),
        ({"buzzer_pin": 23}, "amber_led_pin", "buzzer_pin"),
        ({"door_contact_pin": 25, "exit_button_pin": 25}, "door_contact_pin", "exit_button_pin"),
        (
            {"keypad": "matrix", "keypad_rows": [5, 6, 13, 19], "keypad_cols": [16, 17, 21]},
            "relay_pin",
            "keypad_cols[1]",
        ),
        (
            {"keypad": "matrix", "keypad_rows": [5, 6, 5, 19], "keypad_cols": [16, 20, 21]},
            "keypad_rows[0]",
            "keypad_rows[2]",
        ),
        ({"rgb_led_pins": [5, 6, 24]}, "rgb_led_pins[2]", "buzzer_pin"),
    ],
)
def test_a_pin_used_twice_names_both_uses(data: dict, first: str, second: str) -> None:
    [(_, msg)] = errors(data)
    assert "used twice" in msg and first in msg and second in msg


def test_matrix_keypad_needs_rows_and_cols() -> None:
    [(_, msg)] = errors({"keypad": "matrix", "keypad_rows": [5, 6, 13, 19]})
    assert "keypad_rows" in msg and "keypad_cols" in msg
    assert errors({"keypad_rows": [5, 6, 13, 19], "keypad_cols": [16, 20, 21]})
    [(loc, _)] = errors(
        {"keypad": "matrix", "keypad_rows": [5, 6, 13], "keypad_cols": [16, 20, 21]}
    )
    assert loc == "keypad_rows.3"  # the missing fourth row pin
    hw = HardwareConfig(keypad="matrix", keypad_rows=(5, 6, 13, 19), keypad_cols=(16, 20, 21))
    assert ("keypad_cols[2]", 21) in hw.pin_uses()


def test_usb_keypad_needs_a_device_path() -> None:
    [(_, msg)] = errors({"keypad": "usb"})
    assert "keypad_device" in msg
    [(loc, _)] = errors({"keypad": "usb", "keypad_device": "keypad0"})
    assert loc == "keypad_device"
    assert errors({"keypad_device": "/dev/input/by-id/usb-x-event-kbd"})  # keypad is "none"
    hw = HardwareConfig(keypad="usb", keypad_device="/dev/input/by-id/usb-x-event-kbd")
    assert hw.keypad_device == "/dev/input/by-id/usb-x-event-kbd"


def test_rgb_led_replaces_the_default_leds_but_not_explicit_ones() -> None:
    hw = HardwareConfig(rgb_led_pins=(5, 6, 13))
    assert hw.green_led_pin is None and hw.red_led_pin is None and hw.amber_led_pin is None
    [(_, msg)] = errors({"rgb_led_pins": [5, 6, 13], "red_led_pin": 27})
    assert "rgb_led_pins" in msg and "red_led_pin" in msg


def test_false_means_not_fitted_in_toml() -> None:
    data = tomllib.loads("buzzer_pin = false\namber_led_pin = false\nrelay_pin = 23\n")
    hw = HardwareConfig.model_validate(data)
    assert hw.buzzer_pin is None and hw.amber_led_pin is None and hw.relay_pin == 23
    [(loc, msg)] = errors({"buzzer_pin": True})
    assert loc == "buzzer_pin" and "false" in msg


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"unlock_s": 0.1}, "unlock_s"),
        ({"unlock_s": 60}, "unlock_s"),
        ({"held_open_s": 0}, "held_open_s"),
        ({"code_digits": 3}, "code_digits"),
        ({"pin_factory": "rpigpio"}, "pin_factory"),
        ({"keypad": "wiegand"}, "keypad"),
        ({"relay_pins": 17}, "relay_pins"),
        ({"relay_pin": "seventeen"}, "relay_pin"),
    ],
)
def test_other_bad_values_name_the_key(data: dict, key: str) -> None:
    assert [loc for loc, _ in errors(data)] == [key]


def test_section_is_frozen() -> None:
    with pytest.raises(ValidationError):
        HardwareConfig().relay_pin = 5  # type: ignore[misc]
