"""The challenge prompt on gpiozero devices, with gpiozero's own mock pins."""

from __future__ import annotations

import time
from itertools import pairwise

import pytest
from gpiozero import LED, Buzzer

from facegate.hardware.challenge_signals import SignalPrompter
from facegate.liveness.challenge import Challenge


def _flashes(pin) -> int:
    states = [s.state for s in pin.states]
    return sum(1 for a, b in pairwise(states) if not a and b)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_led_flashes_and_buzzer_beeps_the_requested_count(factory, count: int) -> None:
    shown: list[str] = []
    with LED(17) as led, Buzzer(27) as buzzer:
        prompter = SignalPrompter(led, buzzer, shown.append, flash_s=0.02)
        prompter.prompt(Challenge(count, 0.0, 5.0, 0.5))
        time.sleep(0.04 * count + 0.3)
        assert _flashes(factory.pin(17)) == count
        assert _flashes(factory.pin(27)) == count
        assert not led.is_lit and not buzzer.is_active
    assert shown == [f"Blink {'once' if count == 1 else f'{count} times'} now"]


def test_clear_stops_the_signals_at_once(factory) -> None:
    shown: list[str] = []
    with LED(17) as led, Buzzer(27) as buzzer:
        prompter = SignalPrompter(led, buzzer, shown.append, flash_s=1.0)
        prompter.prompt(Challenge(3, 0.0, 5.0, 0.5))
        prompter.clear()
        assert not led.is_lit and not buzzer.is_active
    assert shown[-1] == ""


def test_prompter_works_with_text_only() -> None:
    shown: list[str] = []
    SignalPrompter(show=shown.append).prompt(Challenge(2, 0.0, 5.0, 0.5))
    assert shown == ["Blink 2 times now"]
