"""LEDs and buzzer at the door, recorded on gpiozero's own mock pins."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from gpiozero import LED

from facegate.hardware.indicators import Indicators
from facegate.liveness.challenge import Challenge

GREEN, RED, AMBER, BUZZER = 22, 27, 23, 24
RGB = (5, 6, 13)


def lit(factory, pin: int) -> bool:
    return factory.pin(pin).state


def rises(factory, pin: int) -> int:
    states = [s.state for s in factory.pin(pin).states]
    return sum(1 for a, b in pairwise(states) if not a and b)


def clear(factory, *pins: int) -> None:
    for pin in pins:
        factory.pin(pin).clear_states()


def wait_until(condition, timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.005)
    return condition()


@pytest.fixture
def leds(factory):
    timing = {"beep_s": 0.02, "denied_s": 0.15, "alarm_blink_s": 0.03}
    with Indicators(GREEN, RED, AMBER, buzzer_pin=BUZZER, **timing) as ind:
        yield ind


def test_busy_then_granted_then_idle(factory, leds) -> None:
    assert not any(lit(factory, p) for p in (GREEN, RED, AMBER, BUZZER))
    leds.busy()
    assert lit(factory, AMBER) and not lit(factory, GREEN) and not lit(factory, RED)
    clear(factory, BUZZER)
    leds.granted(0.2)
    assert lit(factory, GREEN) and not lit(factory, AMBER)
    time.sleep(0.1)
    assert lit(factory, GREEN)
    assert wait_until(lambda: not lit(factory, GREEN))  # off by itself after the unlock time
    assert rises(factory, BUZZER) == 1 and not lit(factory, BUZZER)
    leds.idle()
    assert not any(lit(factory, p) for p in (GREEN, RED, AMBER, BUZZER))


def test_denied_is_red_for_a_while_and_two_beeps(factory, leds) -> None:
    clear(factory, RED, BUZZER)
    leds.denied()
    assert lit(factory, RED) and not lit(factory, GREEN)
    assert wait_until(lambda: not lit(factory, RED))
    time.sleep(0.05)
    assert rises(factory, RED) == 1
    assert rises(factory, BUZZER) == 2 and not lit(factory, BUZZER)


def test_alarm_blinks_and_beeps_until_idle(factory, leds) -> None:
    clear(factory, RED, BUZZER)
    leds.alarm()
    time.sleep(0.3)
    assert rises(factory, RED) >= 3 and rises(factory, BUZZER) >= 2
    leds.idle()
    assert not lit(factory, RED) and not lit(factory, BUZZER)
    clear(factory, RED, BUZZER)
    time.sleep(0.15)
    assert rises(factory, RED) == 0 and rises(factory, BUZZER) == 0


def test_a_new_state_stops_the_previous_pattern(factory, leds) -> None:
    leds.alarm()
    leds.busy()
    clear(factory, RED, BUZZER)
    time.sleep(0.15)
    assert rises(factory, RED) == 0 and rises(factory, BUZZER) == 0
    assert lit(factory, AMBER)


def test_challenge_flashes_amber(factory, leds) -> None:
    shown: list[str] = []
    prompter = leds.challenge_prompter(shown.append)
    clear(factory, AMBER)
    prompter.prompt(Challenge(3, 0.0, 5.0, 0.5))
    assert wait_until(lambda: rises(factory, AMBER) == 3 and not lit(factory, AMBER))
    assert shown == ["Blink 3 times now"]


def test_rgb_led_colours(factory) -> None:
    r, g, b = RGB
    with Indicators(rgb_pins=RGB, beep_s=0.02) as ind:
        ind.busy()
        assert (lit(factory, r), lit(factory, g), lit(factory, b)) == (True, True, False)
        ind.granted(0.1)
        assert (lit(factory, r), lit(factory, g), lit(factory, b)) == (False, True, False)
        assert wait_until(lambda: not lit(factory, g))
        ind.denied()
        assert (lit(factory, r), lit(factory, g)) == (True, False)
        ind.idle()
        assert not any(lit(factory, p) for p in RGB)
        clear(factory, r, g, b)
        ind.challenge_prompter().prompt(Challenge(2, 0.0, 5.0, 0.5))
        assert wait_until(lambda: rises(factory, b) == 2 and not lit(factory, b))
        assert rises(factory, r) == 0 and rises(factory, g) == 0  # blue only


def test_rgb_and_separate_leds_are_exclusive(factory) -> None:
    with pytest.raises(ValueError, match="not both"):
        Indicators(green_pin=GREEN, rgb_pins=RGB)


def test_no_devices_at_all_is_harmless(factory) -> None:
    with Indicators() as ind:
        ind.busy()
        ind.granted(1.0)
        ind.denied()
        ind.alarm()
        ind.idle()


def test_close_frees_the_pins(factory) -> None:
    Indicators(GREEN, RED, AMBER, buzzer_pin=BUZZER).close()
    for pin in (GREEN, RED, AMBER, BUZZER):
        LED(pin).close()  # would raise GPIOPinInUse if still held


def test_come_closer_blinks_amber_fast_and_silently_until_the_next_state(factory, leds) -> None:
    clear(factory, AMBER, BUZZER)
    leds.come_closer()
    assert wait_until(lambda: rises(factory, AMBER) >= 3, timeout=5.0)
    assert not lit(factory, RED) and not lit(factory, GREEN) and rises(factory, BUZZER) == 0
    leds.busy()  # close enough: steady amber again
    clear(factory, AMBER)
    time.sleep(0.3)
    assert rises(factory, AMBER) == 0 and lit(factory, AMBER)


def test_come_closer_on_an_rgb_led_blinks_amber(factory) -> None:
    with Indicators(rgb_pins=RGB) as ind:
        clear(factory, *RGB)
        ind.come_closer()
        assert wait_until(lambda: rises(factory, RGB[0]) >= 2 and rises(factory, RGB[1]) >= 2)
        assert rises(factory, RGB[2]) == 0  # red + green: amber, never blue (the challenge)
