"""The door relay on gpiozero's own mock pins: off at start, pulses, off on every way out."""

from __future__ import annotations

import time

import pytest

from facegate.hardware.door import DoorRelay
from facegate.hardware.mock_pins import on_periods
from facegate.hardware.pin_factory import GpioError, make_pin_factory


def levels(factory, pin: int) -> list[bool]:
    return [s.state for s in factory.pin(pin).states]


def test_relay_is_off_at_start_and_pulses_for_the_unlock_time(factory) -> None:
    with DoorRelay(17, unlock_s=0.2) as relay:
        assert not relay.unlocked and levels(factory, 17)[-1] is False
        started = time.monotonic()
        relay.pulse()
        assert relay.unlocked
        while relay.unlocked and time.monotonic() - started < 2:
            time.sleep(0.01)
        held = time.monotonic() - started
    assert 0.18 <= held < 0.6
    ((_, duration),) = on_periods(factory, 17)
    assert duration == pytest.approx(0.2, abs=0.1)


def test_active_low_relay_idles_high(factory) -> None:
    with DoorRelay(22, active_high=False, unlock_s=5) as relay:
        assert levels(factory, 22)[-1] is True  # off = high on an active-low board
        relay.pulse()
        assert levels(factory, 22)[-1] is False
    assert levels(factory, 22)[-1] is True


def test_an_exception_mid_unlock_leaves_the_relay_off(factory) -> None:
    with pytest.raises(RuntimeError), DoorRelay(17, unlock_s=30) as relay:
        relay.pulse()
        assert relay.unlocked
        raise RuntimeError("camera died")
    assert levels(factory, 17)[-1] is False


def test_lock_cancels_a_pulse_and_a_new_pulse_restarts_it(factory) -> None:
    with DoorRelay(17, unlock_s=0.3) as relay:
        relay.pulse()
        relay.lock()
        assert not relay.unlocked
        time.sleep(0.4)
        assert not relay.unlocked
        relay.pulse(0.2)
        time.sleep(0.1)
        relay.pulse(0.3)  # extends: locks 0.3 s after the second pulse
        time.sleep(0.25)
        assert relay.unlocked
        time.sleep(0.2)
        assert not relay.unlocked


def test_production_backend_never_falls_back_to_mock() -> None:
    """lgpio is absent on this x86 machine: a clear error, not mock pins."""
    try:
        import lgpio  # noqa: F401
    except ImportError:
        with pytest.raises(GpioError, match="does not fall back to mock pins"):
            make_pin_factory("lgpio")
    else:
        pytest.skip("lgpio is installed here")
    with pytest.raises(GpioError, match="unknown GPIO backend"):
        make_pin_factory("rpigpio")  # type: ignore[arg-type]


def test_invalid_unlock_time(factory) -> None:
    with pytest.raises(ValueError, match="unlock_s"):
        DoorRelay(17, unlock_s=0)
