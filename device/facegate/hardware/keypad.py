"""Keypads at the door: a 3x4 matrix keypad on GPIO and a USB numeric keypad.

Both report single keys (``0-9``, ``*``, ``#``) to an ``on_key`` callback; turning keys into a
code is :class:`facegate.hardware.key_entry.KeyEntry`'s job. Neither logs the keys.

Matrix wiring (active low): each row line is a gpiozero ``DigitalOutputDevice`` with
``active_high=False``, so an idle row sits high and the row being scanned is pulled low; each
column is a gpiozero ``Button`` with the internal pull-up, so it reads pressed (low) only while a
key joins it to the low row. Rows are driven one at a time. Two keys held in one column join a
high row to the low row: put a 1 kOhm resistor in series with each row line to bound that
current.
"""

from __future__ import annotations

import contextlib
import logging
import select
import threading
import time
from collections.abc import Callable, Sequence
from types import ModuleType

from gpiozero import Button, DigitalOutputDevice

from facegate.common.backoff import Backoff
from facegate.errors import FacegateError

log = logging.getLogger(__name__)

PHONE_LAYOUT = ("123", "456", "789", "*0#")


class KeypadError(FacegateError):
    """A keypad cannot be opened or is configured inconsistently."""


class KeyDebouncer:
    """Reports a key once per press: the set of held keys must be steady for ``debounce_s``.

    Pure logic with the time passed in, so that bounce is tested without threads. A key that
    joins the steady set is reported (in scan order), which also keeps a fast typist's rollover
    (the next key down before the last is up).
    """

    def __init__(self, debounce_s: float) -> None:
        self._debounce_s = debounce_s
        self._stable: tuple[str, ...] = ()
        self._candidate: tuple[str, ...] = ()
        self._since = 0.0

    def update(self, held: tuple[str, ...], t: float) -> list[str]:
        if held != self._candidate:
            self._candidate, self._since = held, t
            return []
        if held == self._stable or t - self._since < self._debounce_s:
            return []
        new = [k for k in held if k not in self._stable]
        self._stable = held
        return new


class MatrixKeypad:
    """A row/column scanned keypad built from gpiozero devices, scanned on a background thread."""

    def __init__(
        self,
        rows: Sequence[int],
        cols: Sequence[int],
        on_key: Callable[[str], None],
        *,
        layout: Sequence[str] = PHONE_LAYOUT,
        scan_interval_s: float = 0.01,
        debounce_s: float = 0.05,
    ) -> None:
        if len(layout) != len(rows) or any(len(line) != len(cols) for line in layout):
            raise KeypadError(
                f"keypad layout is {len(layout)}x{len(layout[0]) if layout else 0} keys "
                f"but {len(rows)} row and {len(cols)} column pins were given"
            )
        if scan_interval_s <= 0 or debounce_s < 0:
            raise ValueError("scan_interval_s must be positive and debounce_s not negative")
        self._layout = tuple(layout)
        self._on_key = on_key
        self._interval = scan_interval_s
        self._debouncer = KeyDebouncer(debounce_s)
        self._rows: list[DigitalOutputDevice] = []
        self._cols: list[Button] = []
        try:
            for pin in rows:
                self._rows.append(DigitalOutputDevice(pin, active_high=False, initial_value=False))
            for pin in cols:
                self._cols.append(Button(pin, pull_up=True, bounce_time=None))
        except Exception:
            self._close_devices()
            raise
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="matrix-keypad", daemon=True)
        self._thread.start()

    def _scan(self) -> tuple[str, ...]:
        """The keys held now, found by pulling each row low in turn and reading the columns."""
        held: list[str] = []
        for r, row in enumerate(self._rows):
            row.on()
            try:
                held.extend(
                    self._layout[r][c] for c, col in enumerate(self._cols) if col.is_pressed
                )
            finally:
                row.off()
        return tuple(held)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                keys = self._debouncer.update(self._scan(), time.monotonic())
            except Exception:
                if self._stop.is_set():
                    return  # devices closed under the scan while stopping
                log.exception("matrix keypad scan failed; keypad stopped")
                return
            for key in keys:
                try:
                    self._on_key(key)
                except Exception:
                    log.exception("keypad on_key handler failed")
            self._stop.wait(self._interval)

    @property
    def running(self) -> bool:
        """False once the scan thread has stopped (closed, or a GPIO failure it logged)."""
        return self._thread.is_alive()

    def _close_devices(self) -> None:
        for device in (*self._cols, *self._rows):
            device.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=1.0)
        self._close_devices()

    def __enter__(self) -> MatrixKeypad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_EVDEV_KEYS: dict[str, str] = {
    **{f"KEY_KP{d}": str(d) for d in range(10)},
    **{f"KEY_{d}": str(d) for d in range(10)},
    "KEY_KPENTER": "#",
    "KEY_ENTER": "#",
    "KEY_BACKSPACE": "*",
    "KEY_KPASTERISK": "*",
    "KEY_ESC": "*",
}


def key_from_evdev(code_name: str) -> str | None:
    """A keypad key for an evdev key name (``KEY_KP7`` -> ``7``), None for any other key."""
    return _EVDEV_KEYS.get(code_name)


def _import_evdev() -> ModuleType:
    try:
        import evdev
    except ImportError:
        raise KeypadError(
            "the USB keypad needs python-evdev, which is not installed; on the Raspberry Pi "
            "install it with `sudo apt install python3-evdev` (the venv uses "
            "--system-site-packages)"
        ) from None
    return evdev


class EvdevKeypad:
    """A USB numeric keypad read through ``evdev.InputDevice`` on a background thread.

    The device is grabbed so its keys reach only facegate, not a console login on the Pi.
    """

    def __init__(
        self,
        device_path: str,
        on_key: Callable[[str], None],
        grab: bool = True,
        on_alarm: Callable[[str, dict], None] | None = None,
        reopen_initial_s: float = 0.5,
        reopen_max_s: float = 30.0,
    ) -> None:
        self._evdev = _import_evdev()
        self._path = device_path
        self._grab = grab
        self._device = self._open()  # a keypad missing at start stops the start, named
        self._on_key = on_key
        self._on_alarm = on_alarm or (lambda _kind, _detail: None)
        self._backoff = Backoff(reopen_initial_s, reopen_max_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="usb-keypad", daemon=True)
        self._thread.start()

    def _open(self):  # type: ignore[no-untyped-def]
        try:
            device = self._evdev.InputDevice(self._path)
        except OSError as exc:
            raise KeypadError(
                f"cannot open keypad {self._path}: {exc.strerror}; check the path "
                "(/dev/input/by-id/...) and that the service user is in group input"
            ) from None
        if self._grab:
            try:
                device.grab()
            except OSError as exc:
                device.close()
                raise KeypadError(
                    f"cannot take keypad {self._path} for facegate alone: {exc.strerror} "
                    "(another program has grabbed it?)"
                ) from None
        return device

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._read()
            except OSError as exc:
                if self._stop.is_set():
                    return
                log.warning("USB keypad %s lost: %s; reopening", self._path, exc)
                self._on_alarm("keypad_error", {"device": self._path, "error": str(exc)})
                self._reopen()

    def _reopen(self) -> None:
        """Retry with back-off until the keypad is back (or the door stops)."""
        with contextlib.suppress(OSError):
            self._device.close()
        lost = time.monotonic()
        self._backoff.reset()
        while not self._stop.wait(self._backoff.next()):
            try:
                self._device = self._open()
            except KeypadError:
                continue
            down = round(time.monotonic() - lost, 1)
            log.info("USB keypad %s is back after %.1f s", self._path, down)
            self._on_alarm("keypad_restored", {"device": self._path, "down_s": down})
            return

    def _read(self) -> None:
        ecodes, key_down = self._evdev.ecodes, self._evdev.KeyEvent.key_down
        while not self._stop.is_set():
            ready, _, _ = select.select([self._device], [], [], 0.2)
            for event in list(self._device.read()) if ready else []:
                if event.type != ecodes.EV_KEY:
                    continue
                key_event = self._evdev.categorize(event)
                if key_event.keystate != key_down:
                    continue
                names = key_event.keycode
                for name in [names] if isinstance(names, str) else names:
                    key = key_from_evdev(name)
                    if key is not None:
                        self._dispatch(key)
                        break

    @property
    def running(self) -> bool:
        """False once the read thread has stopped (closed)."""
        return self._thread.is_alive()

    def _dispatch(self, key: str) -> None:
        try:
            self._on_key(key)
        except Exception:
            log.exception("keypad on_key handler failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=1.0)
        with contextlib.suppress(OSError):
            self._device.close()

    def __enter__(self) -> EvdevKeypad:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
