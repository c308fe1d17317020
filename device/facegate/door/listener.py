"""What the demo, the tests and the evaluation watch of a running door."""

from __future__ import annotations


class DoorListener:
    """Every method is called on the main loop's thread, except ``on_event`` for the internal
    watchdog's ``watchdog_stall`` alarm, which comes from the watchdog's thread."""

    def on_prompt(self, blinks: int) -> None: ...

    def on_ask_code(self, student_id: str) -> None: ...

    def on_come_closer(self, on: bool) -> None: ...

    def on_event(self, event: dict) -> None: ...
