"""Keypads and code entry: the matrix scan on gpiozero's mock pins, the USB key map, KeyEntry."""

from __future__ import annotations

import sys
import threading
import time

import pytest
from gpiozero import Button, DigitalOutputDevice
from gpiozero.pins.mock import MockPin

from facegate.hardware.key_entry import EntryResult, KeyEntry
from facegate.hardware.keypad import (
    PHONE_LAYOUT,
    EvdevKeypad,
    KeyDebouncer,
    KeypadError,
    MatrixKeypad,
    key_from_evdev,
)

ROWS = (5, 6, 13, 19)
COLS = (16, 20, 21)


class _RowPin(MockPin):
    """A mock row pin that tells the key matrix whenever the keypad drives it."""

    def __init__(self, factory, info, matrix: KeyMatrix) -> None:
        super().__init__(factory, info)
        self.matrix = matrix

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed:
            self.matrix.settle()
        return changed


class KeyMatrix:
    """The keypad's wiring, simulated: a held key joins its column to its row.

    A column is pulled up; it reads low while a held key joins it to a row the keypad drives
    low. The row pins report every change, so the column follows at once, as the copper does.
    """

    def __init__(self, factory, rows=ROWS, cols=COLS, layout=PHONE_LAYOUT) -> None:
        self._lock = threading.RLock()
        self._held: set[tuple[int, int]] = set()
        self._where = {key: (r, c) for r, line in enumerate(layout) for c, key in enumerate(line)}
        self._rows = [factory.pin(p, pin_class=_RowPin, matrix=self) for p in rows]
        self._cols = [factory.pin(p) for p in cols]

    def settle(self) -> None:
        with self._lock:
            for c, col in enumerate(self._cols):
                if col.function != "input":
                    continue
                low = any(
                    self._rows[r].function == "output" and not self._rows[r].state
                    for r, cc in self._held
                    if cc == c
                )
                if low:
                    col.drive_low()
                else:
                    col.drive_high()

    def hold(self, key: str) -> None:
        with self._lock:
            self._held.add(self._where[key])
            self.settle()

    def release(self, key: str) -> None:
        with self._lock:
            self._held.discard(self._where[key])
            self.settle()

    def tap(self, key: str, hold_s: float = 0.08, gap_s: float = 0.06, bounces: int = 0) -> None:
        """Press and release one key; ``bounces`` contact chatters at each edge."""
        for _ in range(bounces):
            self.hold(key)
            time.sleep(0.002)
            self.release(key)
            time.sleep(0.002)
        self.hold(key)
        time.sleep(hold_s)
        for _ in range(bounces):
            self.release(key)
            time.sleep(0.002)
            self.hold(key)
            time.sleep(0.002)
        self.release(key)
        time.sleep(gap_s)


def _keypad(factory, on_key) -> tuple[KeyMatrix, MatrixKeypad]:
    matrix = KeyMatrix(factory)
    pad = MatrixKeypad(ROWS, COLS, on_key, scan_interval_s=0.005, debounce_s=0.025)
    return matrix, pad


def test_typing_a_code_on_the_matrix_gives_it_through_key_entry(factory) -> None:
    entry = KeyEntry()
    results: list[EntryResult | None] = []
    matrix, pad = _keypad(factory, lambda k: results.append(entry.press(k, time.monotonic())))
    with pad:
        for key in "123456#":
            matrix.tap(key)
    assert results[:-1] == [None] * 6
    assert results[-1] == EntryResult(code="123456")


def test_each_press_is_reported_once_despite_contact_bounce(factory) -> None:
    keys: list[str] = []
    matrix, pad = _keypad(factory, keys.append)
    with pad:
        for key in "5*0#9":
            matrix.tap(key, bounces=4)
    assert "".join(keys) == "5*0#9"


def test_rows_idle_high_and_close_frees_every_pin(factory) -> None:
    keys: list[str] = []
    _matrix, pad = _keypad(factory, keys.append)
    time.sleep(0.03)
    pad.close()
    assert not pad.running
    assert all(factory.pin(p).state for p in ROWS)  # active low: idle rows sit high
    for pin in ROWS:
        DigitalOutputDevice(pin).close()  # would raise GPIOPinInUse if still held
    for pin in COLS:
        Button(pin).close()


def test_debouncer_needs_a_steady_reading() -> None:
    d = KeyDebouncer(0.05)
    readings = [((), 0.0), (("1",), 0.01), ((), 0.02), (("1",), 0.03), (("1",), 0.05)]
    assert all(d.update(held, t) == [] for held, t in readings)
    assert d.update(("1",), 0.09) == ["1"]
    assert d.update(("1",), 0.5) == []  # still held: not repeated
    assert d.update((), 0.51) == [] and d.update(("1",), 0.52) == []  # release bounce
    assert d.update(("1",), 0.6) == []
    assert d.update((), 0.7) == [] and d.update((), 0.8) == []
    assert d.update(("1", "2"), 0.9) == [] and d.update(("1", "2"), 1.0) == ["1", "2"]


def test_layout_must_match_the_pins(factory) -> None:
    with pytest.raises(KeypadError, match="4 row and 2 column"):
        MatrixKeypad(ROWS, COLS[:2], print)


def test_key_entry_star_clears_and_hash_submits() -> None:
    entry = KeyEntry()
    for i, key in enumerate("98*123456"):
        assert entry.press(key, i) is None
    assert entry.typed == 6
    result = entry.press("#", 10)
    assert result is not None and result.ok and result.code == "123456"
    assert "123456" not in repr(result) and "123456" not in repr(entry)
    assert entry.typed == 0


def test_key_entry_pause_discards_the_partial_code() -> None:
    entry = KeyEntry(key_timeout_s=10.0)
    for i, key in enumerate("123"):
        entry.press(key, float(i))
    assert not entry.expire(12.0)
    assert entry.expire(12.5)
    for t, key in enumerate("999", start=30):
        entry.press(key, float(t))
    for t, key in enumerate("123456", start=60):  # the 999 expired before these
        entry.press(key, float(t))
    assert entry.press("#", 66.0) == EntryResult(code="123456")


@pytest.mark.parametrize("key", ["a", "A", "", "12", "+", " ", "\n", "٣"])
def test_key_entry_refuses_other_keys_and_keeps_the_entry(key: str) -> None:
    entry = KeyEntry()
    for t, k in enumerate("123"):
        entry.press(k, float(t))
    result = entry.press(key, 3.0)
    assert result is not None and not result.ok and "invalid key" in str(result.error)
    assert entry.typed == 3


def test_key_entry_wrong_lengths() -> None:
    entry = KeyEntry(min_digits=6, max_digits=6)
    for t, k in enumerate("12345"):
        entry.press(k, float(t))
    short = entry.press("#", 6.0)
    assert short is not None and short.error is not None and "too short" in short.error
    assert "5 digits typed, 6 needed" in short.error
    empty = entry.press("#", 7.0)
    assert empty is not None and empty.error is not None and "0 digits" in empty.error
    for t, k in enumerate("123456", start=10):
        assert entry.press(k, float(t)) is None
    long = entry.press("7", 17.0)
    assert long is not None and long.error is not None and "too many digits" in long.error
    assert entry.typed == 0
    with pytest.raises(ValueError):
        KeyEntry(min_digits=7, max_digits=6)


def test_key_entry_variable_length() -> None:
    entry = KeyEntry(min_digits=4, max_digits=8)
    for t, k in enumerate("1234"):
        entry.press(k, float(t))
    assert entry.press("#", 5.0) == EntryResult(code="1234")
    entry.press("1", 6.0)
    result = entry.press("#", 7.0)
    assert result is not None and result.error is not None and "at least 4" in result.error


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("KEY_KP0", "0"),
        ("KEY_KP9", "9"),
        ("KEY_0", "0"),
        ("KEY_7", "7"),
        ("KEY_KPENTER", "#"),
        ("KEY_ENTER", "#"),
        ("KEY_BACKSPACE", "*"),
        ("KEY_KPASTERISK", "*"),
        ("KEY_ESC", "*"),
        ("KEY_A", None),
        ("KEY_KPPLUS", None),
        ("KEY_NUMLOCK", None),
        ("", None),
    ],
)
def test_evdev_key_names(name: str, key: str | None) -> None:
    assert key_from_evdev(name) == key


def test_usb_keypad_without_python_evdev_is_a_clear_error(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "evdev", None)  # import evdev now raises ImportError
    with pytest.raises(KeypadError, match="apt install python3-evdev"):
        EvdevKeypad("/dev/input/by-id/usb-keypad-event-kbd", print)
