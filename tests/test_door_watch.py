"""Door contact logic (forced, held open, normal entry) and its gpiozero inputs on mock pins."""

from __future__ import annotations

import pytest

from facegate.hardware.door_sensors import DoorSensors
from facegate.hardware.door_watch import DoorAlarm, DoorState, DoorStatus, DoorWatch

LOCKED, UNLOCKED, OPEN = DoorStatus.LOCKED, DoorStatus.UNLOCKED, DoorStatus.OPEN


def test_normal_entry_raises_no_alarm() -> None:
    w = DoorWatch(held_open_s=15)
    assert w.status is LOCKED
    assert w.granted(100.0, 3.0) == [DoorState(UNLOCKED, 100.0)]
    assert w.contact(True, 101.0) == [DoorState(OPEN, 101.0)]
    assert w.tick(104.0) == []  # relay relocked while open: still OPEN
    assert w.contact(False, 106.0) == [DoorState(LOCKED, 106.0)]
    assert w.tick(200.0) == []


def test_grant_that_nobody_uses_relocks_on_tick() -> None:
    w = DoorWatch()
    w.granted(10.0, 3.0)
    assert w.tick(12.0) == []
    assert w.tick(13.5) == [DoorState(LOCKED, 13.5)]


def test_opening_without_a_grant_is_forced() -> None:
    w = DoorWatch()
    assert w.contact(True, 50.0) == [DoorAlarm("door_forced", 50.0), DoorState(OPEN, 50.0)]
    assert w.contact(True, 50.1) == []  # a repeated report changes nothing
    assert w.contact(False, 52.0) == [DoorState(LOCKED, 52.0)]


def test_opening_after_the_window_closed_is_forced() -> None:
    w = DoorWatch()
    w.granted(10.0, 3.0)
    events = w.contact(True, 14.0)
    assert events == [
        DoorState(LOCKED, 14.0),
        DoorAlarm("door_forced", 14.0),
        DoorState(OPEN, 14.0),
    ]


def test_held_open_alarm_once_per_opening() -> None:
    w = DoorWatch(held_open_s=15)
    w.granted(0.0, 3.0)
    w.contact(True, 1.0)
    assert w.tick(15.9) == []
    assert w.tick(16.5) == [DoorAlarm("door_held_open", 16.5, 15.5)]
    assert w.tick(30.0) == [] and w.tick(60.0) == []
    assert w.contact(False, 61.0) == [DoorState(LOCKED, 61.0)]
    w.granted(70.0, 3.0)
    w.contact(True, 71.0)
    assert w.tick(90.0) == [DoorAlarm("door_held_open", 90.0, 19.0)]


def test_held_open_is_caught_up_when_no_tick_came() -> None:
    w = DoorWatch(held_open_s=5)
    w.granted(0.0, 3.0)
    w.contact(True, 1.0)
    assert w.contact(False, 20.0) == [
        DoorAlarm("door_held_open", 20.0, 19.0),
        DoorState(LOCKED, 20.0),
    ]


def test_request_to_exit_is_a_window_and_reentry_inside_it_is_fine() -> None:
    w = DoorWatch()
    w.granted(0.0, 3.0)  # request-to-exit pressed
    w.contact(True, 0.5)
    assert w.contact(False, 1.0) == [DoorState(UNLOCKED, 1.0)]  # relay still energised
    assert w.contact(True, 2.0) == [DoorState(OPEN, 2.0)]
    w.contact(False, 2.5)
    assert w.tick(3.5) == [DoorState(LOCKED, 3.5)]


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        DoorWatch(held_open_s=0)
    with pytest.raises(ValueError):
        DoorWatch().granted(0.0, 0.0)


def test_contact_and_exit_button_callbacks(factory) -> None:
    contact: list[bool] = []
    exits: list[str] = []
    with DoorSensors(25, 26, contact.append, lambda: exits.append("rte")) as sensors:
        factory.pin(25).drive_low()  # reed closed: door shut
        assert sensors.contact_open is False
        factory.pin(25).drive_high()
        assert sensors.contact_open is True
        factory.pin(25).drive_low()
        factory.pin(26).drive_low()  # button to ground pressed
        factory.pin(26).drive_high()
    assert contact == [False, True, False]
    assert exits == ["rte"]


def test_contact_wired_open_when_low(factory) -> None:
    contact: list[bool] = []
    with DoorSensors(25, None, contact.append, lambda: None, contact_open_when_high=False) as s:
        factory.pin(25).drive_low()
        assert s.contact_open is True
        factory.pin(25).drive_high()
    assert contact == [True, False]


def test_sensors_feed_the_watch(factory) -> None:
    watch = DoorWatch()
    events: list[DoorAlarm | DoorState] = []
    clock = [100.0]

    def on_contact(opened: bool) -> None:
        events.extend(watch.contact(opened, clock[0]))

    def on_exit() -> None:
        events.extend(watch.granted(clock[0], 3.0))

    with DoorSensors(25, 26, on_contact, on_exit):
        factory.pin(25).drive_low()
        clock[0] = 101.0
        factory.pin(25).drive_high()  # nobody pressed exit: forced
        clock[0] = 102.0
        factory.pin(25).drive_low()
        clock[0] = 110.0
        factory.pin(26).drive_low()  # request-to-exit, then the door opens
        clock[0] = 111.0
        factory.pin(25).drive_high()
    assert [getattr(e, "kind", None) or e.status for e in events] == [
        "door_forced",
        OPEN,
        LOCKED,
        UNLOCKED,
        OPEN,
    ]


def test_no_sensors_fitted(factory) -> None:
    with DoorSensors(None, None, print, print) as sensors:
        assert sensors.contact_open is None
