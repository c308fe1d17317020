"""The door contact and the request-to-exit button, as gpiozero ``Button`` callbacks.

Both inputs use the internal pull-up and switch to ground. A usual reed contact is closed
while the door is shut, so the pin reads low when shut and high when open
(``contact_open_when_high=True``); set it False for a contact wired the other way. The
meaning of each edge is :class:`facegate.hardware.door_watch.DoorWatch`'s job. Callbacks run
on gpiozero's event thread and must return quickly.
"""

from __future__ import annotations

from collections.abc import Callable

from gpiozero import Button


class DoorSensors:
    def __init__(
        self,
        contact_pin: int | None,
        exit_pin: int | None,
        on_contact: Callable[[bool], None],
        on_exit: Callable[[], None],
        contact_open_when_high: bool = True,
        bounce_s: float = 0.05,
    ) -> None:
        self._contact: Button | None = None
        self._exit: Button | None = None
        self._open_when_high = contact_open_when_high
        try:
            if contact_pin is not None:
                self._contact = Button(contact_pin, pull_up=True, bounce_time=bounce_s)
                contact = self._contact

                def opened() -> None:
                    on_contact(True)

                def shut() -> None:
                    on_contact(False)

                # Button "pressed" means the pin reads low.
                if contact_open_when_high:
                    contact.when_released, contact.when_pressed = opened, shut
                else:
                    contact.when_pressed, contact.when_released = opened, shut
            if exit_pin is not None:
                self._exit = Button(exit_pin, pull_up=True, bounce_time=bounce_s)
                self._exit.when_pressed = on_exit
        except Exception:
            self.close()
            raise

    @property
    def contact_open(self) -> bool | None:
        """The door's position now (None without a contact): callbacks only report edges."""
        if self._contact is None:
            return None
        return self._contact.is_pressed != self._open_when_high

    def close(self) -> None:
        for button in (self._contact, self._exit):
            if button is not None:
                button.close()

    def __enter__(self) -> DoorSensors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
