"""Reading back what a device did on gpiozero's mock pins (the demo prints it, tests check it).

``MockPin.states`` stores every change with the time since the previous change, not an absolute
time; this turns that history into on-periods.
"""

from __future__ import annotations

from gpiozero.pins.mock import MockFactory


def on_periods(factory: MockFactory, pin: int) -> list[tuple[float, float | None]]:
    """(start, duration) of each time the pin was high, seconds from the pin's creation;
    the duration is None when it is still high."""
    periods: list[tuple[float, float | None]] = []
    elapsed, since = 0.0, None
    for state in factory.pin(pin).states[1:]:
        elapsed += state.timestamp
        if state.state and since is None:
            since = elapsed
        elif not state.state and since is not None:
            periods.append((since, elapsed - since))
            since = None
    if since is not None:
        periods.append((since, None))
    return periods
