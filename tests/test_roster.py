"""Exam rosters: which session is open in a room, who may enter, bad files named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from facegate.access.roster import load_roster
from facegate.errors import ConfigError

ROSTER = """
[[session]]
id = "math-101-final"
room = "B-204"
start = 2026-11-23T09:00:00+01:00
end = 2026-11-23T11:00:00+01:00
students = ["s1234", "s5678"]
second_factor = true

[[session]]
id = "physics-mid"
room = "B-204"
start = 2026-11-23T11:00:00+01:00
end = 2026-11-23T12:30:00+01:00
students = ["s5678"]

[[session]]
id = "math-101-final-b"
room = "C-001"
start = 2026-11-23T09:00:00+01:00
end = 2026-11-23T11:00:00+01:00
students = ["s9999"]
"""
CET = timezone(timedelta(hours=1))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.toml"
    path.write_text(text)
    return path


def test_current_session_by_room_and_time(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, ROSTER))
    at = datetime(2026, 11, 23, 10, 0, tzinfo=CET)
    s = roster.current("B-204", at)
    assert s is not None and s.id == "math-101-final" and s.second_factor
    assert s.allows("s1234") and not s.allows("s9999")
    assert roster.current("C-001", at).id == "math-101-final-b"
    # The same instant in UTC is the same session.
    assert roster.current("B-204", at.astimezone(UTC)).id == "math-101-final"
    # End is exclusive; the next session starts then.
    assert roster.current("B-204", datetime(2026, 11, 23, 11, 0, tzinfo=CET)).id == "physics-mid"
    assert roster.current("B-204", datetime(2026, 11, 23, 8, 59, tzinfo=CET)) is None
    assert roster.current("A-000", at) is None
    with pytest.raises(ValueError, match="timezone-aware"):
        roster.current("B-204", datetime(2026, 11, 23, 10, 0))


@pytest.mark.parametrize(
    "change,message",
    [
        (("start = 2026-11-23T09:00:00+01:00", "start = 2026-11-23T09:00:00"), "UTC offset"),
        (('students = ["s1234", "s5678"]', 'students = ["s1234", "s1234"]'), "listed twice"),
        (('students = ["s1234", "s5678"]', "students = []"), "students"),
        (('students = ["s1234", "s5678"]', 'students = ["bad id!"]'), "students"),
        (("second_factor = true", "second_factr = true"), "unknown key"),
        (
            (
                "end = 2026-11-23T11:00:00+01:00\nstudents",
                "end = 2026-11-23T08:00:00+01:00\nstudents",
            ),
            "end must be after start",
        ),
        (('id = "physics-mid"', 'id = "math-101-final"'), "used twice"),
        (("start = 2026-11-23T11:00:00+01:00", "start = 2026-11-23T10:30:00+01:00"), "overlap"),
    ],
)
def test_bad_rosters_are_named(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = ROSTER.replace(*change, 1)
    assert text != ROSTER
    with pytest.raises(ConfigError, match=message) as err:
        load_roster(write(tmp_path, text))
    assert "roster" in str(err.value)


def test_error_names_the_session(tmp_path: Path) -> None:
    text = ROSTER.replace("second_factor = true", "second_factor = 3")
    with pytest.raises(ConfigError, match=r"session 'math-101-final' \(second_factor\)"):
        load_roster(write(tmp_path, text))


def test_unreadable_or_missing_roster(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_roster(tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_roster(write(tmp_path, "[[session]\nid="))


def test_empty_roster_keeps_every_door_shut(tmp_path: Path) -> None:
    roster = load_roster(write(tmp_path, ""))
    assert roster.current("B-204", datetime.now(UTC)) is None
