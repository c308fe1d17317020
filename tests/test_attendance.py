"""The attendance log and its export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from facegate.access.attendance import AttendanceLog
from facegate.cli import cli

CET = timezone(timedelta(hours=1))


def test_entries_are_kept_in_order_and_once_per_attempt(tmp_path: Path) -> None:
    path = tmp_path / "a.sqlite3"
    with AttendanceLog(path) as log:
        log.record("exam", "s2", datetime(2026, 11, 23, 9, 5, tzinfo=CET), "a2")
        log.record("exam", "s1", datetime(2026, 11, 23, 9, 1, tzinfo=CET), "a1")
        log.record("exam", "s1", datetime(2026, 11, 23, 9, 1, tzinfo=CET), "a1")
        log.record("other", "s3", datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "a3")
        with pytest.raises(ValueError, match="timezone-aware"):
            log.record("exam", "s4", datetime(2026, 11, 23, 9, 0), "a4")
    assert (path.stat().st_mode & 0o777) == 0o600
    with AttendanceLog(path) as log:
        assert [r[1] for r in log.entries("exam")] == ["s1", "s2"]
        rows = list(csv.reader(io.StringIO(log.to_csv("exam"))))
    assert rows[0] == ["session_id", "student_id", "entered_at", "attempt_id"]
    assert rows[1] == ["exam", "s1", "2026-11-23T08:01:00+00:00", "a1"]  # stored in UTC


def test_attendance_cli(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    missing = runner.invoke(cli, ["--data-dir", str(data), "attendance", "exam"])
    assert missing.exit_code != 0 and "no attendance log" in str(missing.exception)
    with AttendanceLog(data / "attendance.sqlite3") as log:
        log.record("exam", "s1", datetime(2026, 11, 23, 9, 1, tzinfo=CET), "a1")
    shown = runner.invoke(cli, ["--data-dir", str(data), "attendance", "exam", "--csv"])
    assert shown.exit_code == 0
    assert shown.output.splitlines()[1] == "exam,s1,2026-11-23T08:01:00+00:00,a1"
    out = tmp_path / "exam.csv"
    written = runner.invoke(cli, ["--data-dir", str(data), "attendance", "exam", "--out", str(out)])
    assert written.exit_code == 0 and out.read_text() == shown.output
    assert (out.stat().st_mode & 0o777) == 0o600
    unknown = runner.invoke(cli, ["--data-dir", str(data), "attendance", "nope"])
    assert unknown.exit_code != 0 and "exam" in str(unknown.exception)
    as_json = runner.invoke(cli, ["--data-dir", str(data), "attendance", "exam", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == {
        "session_id": "exam",
        "entries": [
            {"student_id": "s1", "entered_at": "2026-11-23T08:01:00+00:00", "attempt_id": "a1"}
        ],
    }
    both = runner.invoke(cli, ["--data-dir", str(data), "attendance", "exam", "--json", "--csv"])
    assert both.exit_code == 2


def test_attendance_export_refuses_a_link_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with AttendanceLog(data / "attendance.sqlite3") as log:
        log.record("exam", "s1", datetime(2026, 11, 23, 9, 1, tzinfo=CET), "a1")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "exam.csv"
    link.symlink_to(victim)
    args = ["--data-dir", str(data), "attendance", "exam", "--out", str(link)]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code != 0 and "link" in str(refused.exception)
    assert victim.read_text() == "keep me\n" and link.is_symlink()


def test_retention_prunes_old_entries_and_a_student_can_be_forgotten(tmp_path: Path) -> None:
    with AttendanceLog(tmp_path / "a.sqlite3") as log:
        log.record("old", "s1", datetime(2026, 1, 5, 9, 0, tzinfo=CET), "a1")
        log.record("new", "s1", datetime(2026, 11, 23, 9, 0, tzinfo=CET), "a2")
        log.record("new", "s2", datetime(2026, 11, 23, 9, 5, tzinfo=CET), "a3")
        assert log.prune(datetime(2026, 6, 1, tzinfo=UTC)) == 1
        assert log.sessions() == ["new"]
        assert log.remove_student("s1") == 1
        assert [r[1] for r in log.entries("new")] == ["s2"]
