"""Which GPIO backend drives the pins: lgpio on a Pi 5, gpiozero's mock pins in the demo.

gpiozero 2.0.1 picks a backend by itself and on a Pi 5 falls back to RPi.GPIO, which crashes
there; so facegate always names the factory. A production run asks for "lgpio" and stops with a
clear error when it is not available: it never drops to mock pins silently.
"""

from __future__ import annotations

from typing import Literal

from gpiozero import Device
from gpiozero.pins import Factory

from facegate.errors import FacegateError

PinBackend = Literal["lgpio", "mock"]


class GpioError(FacegateError):
    """The GPIO backend or a pin cannot be used."""


def make_pin_factory(backend: PinBackend) -> Factory:
    if backend == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    if backend == "lgpio":
        try:
            from gpiozero.pins.lgpio import LGPIOFactory

            return LGPIOFactory()
        except Exception as exc:  # ImportError, or lgpio failing to open /dev/gpiochip*
            raise GpioError(
                f"GPIO backend lgpio is not usable here ({type(exc).__name__}: {exc}); on a "
                "Raspberry Pi 5 install python3-lgpio and add the service user to group gpio. "
                "facegate does not fall back to mock pins outside the demo."
            ) from None
    raise GpioError(f"unknown GPIO backend {backend!r} (lgpio or mock)")


def use_pin_factory(backend: PinBackend) -> Factory:
    """Make the factory and install it for every device created afterwards."""
    factory = make_pin_factory(backend)
    Device.pin_factory = factory
    return factory
