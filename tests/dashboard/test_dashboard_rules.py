"""Pure parts, no I/O: login limiter, alarm rules, command arguments and confirmation, CSV
cells, the settings' errors, and the vendored htmx files against their recorded sha256."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from facegate.dashboard.alarms.rules import close_refusal, collapses, raises_alarm
from facegate.dashboard.attendance.sheet import safe_cell, to_csv
from facegate.dashboard.auth.rate_limit import LoginLimiter
from facegate.dashboard.auth.roles import allows
from facegate.dashboard.commands.args import BadCommand, Plan, command_args, plans
from facegate.dashboard.commands.confirmations import Confirmations
from facegate.dashboard.settings import settings_from_dict
from facegate.errors import ConfigError

VENDOR = Path(__file__).resolve().parents[2] / "device/facegate/dashboard/web/static/vendor"


def test_login_limiter_blocks_a_name_then_frees_it_after_the_window() -> None:
    limiter = LoginLimiter(failures=3, window_s=60)
    keys = ["user:ada", "addr:10.0.0.1"]
    for t in range(3):
        assert limiter.blocked(keys, float(t)) == 0
        limiter.failed(keys, float(t))
    assert limiter.blocked(keys, 3.0) == pytest.approx(57.0)
    assert limiter.blocked(["user:bob", "addr:10.0.0.1"], 3.0) == 0  # the address allows more
    assert limiter.blocked(keys, 61.0) == 0


def test_roles_are_ordered_and_unknown_roles_have_no_rights() -> None:
    assert allows("admin", "exam_office") and allows("exam_office", "proctor")
    assert not allows("proctor", "exam_office") and not allows("root", "proctor")


def test_alarm_rules() -> None:
    assert not raises_alarm("remote_command") and raises_alarm("door_forced")
    assert collapses(100.0, 150.0, 60.0) and not collapses(100.0, 161.0, 60.0)
    assert not collapses(None, 1.0, 60.0)
    assert close_refusal("door_forced", "OPEN", True)
    assert close_refusal("door_held_open", "LOCKED", False)  # offline: state unknown
    assert close_refusal("door_forced", "LOCKED", True) is None
    assert close_refusal("camera_error", None, False) is None


@pytest.mark.parametrize(
    ("cmd", "form", "problem"),
    [
        ("unlock", {"seconds": "61"}, "seconds must be from 0.5"),
        ("unlock", {"seconds": "nan"}, "seconds must be from 0.5"),
        ("unlock", {"seconds": "x"}, "a number"),
        ("lockdown", {"on": "maybe"}, "on or off"),
        ("reload", {"what": "keys"}, "gallery, roster or all"),
        ("override", {"student_id": "../etc"}, "student id"),
        ("override", {"student_id": "s1", "valid_s": "59"}, "60 to 86400"),
        ("open_everything", {}, "unknown command"),
    ],
)
def test_bad_command_arguments_are_refused_before_anything_is_signed(cmd, form, problem):
    with pytest.raises(BadCommand, match=problem):
        command_args(cmd, form, 10.0)


def test_all_doors_only_for_lockdown_and_reload_and_only_known_doors() -> None:
    doors = ["a", "b"]
    assert len(plans("lockdown", "*", doors, {"on": "on"}, 10)) == 2
    with pytest.raises(BadCommand, match="one door at a time"):
        plans("unlock", "*", doors, {}, 10)
    with pytest.raises(BadCommand, match="unknown door"):
        plans("unlock", "c", doors, {}, 10)


def test_a_confirmation_is_for_its_user_once_and_expires() -> None:
    c = Confirmations()
    plan = [Plan("a", "unlock", {})]
    token = c.ask(1, plan, now=0.0)
    assert c.take(token, 2, now=1.0) is None  # another user
    assert c.take(token, 1, now=1.0) == tuple(plan)
    assert c.take(token, 1, now=2.0) is None  # used
    late = c.ask(1, plan, now=0.0)
    assert c.take(late, 1, now=121.0) is None


def test_csv_cells_cannot_become_formulas() -> None:
    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert safe_cell("-1+2") == "'-1+2" and safe_cell("s1234") == "s1234"
    assert to_csv(["a"], [["@SUM(1)"]]) == "a\r\n'@SUM(1)\r\n"


def test_settings_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"broker\.port"):
        settings_from_dict({"broker": {"port": 0}})
    with pytest.raises(ConfigError, match=r"server\.colour: unknown key"):
        settings_from_dict({"server": {"colour": "red"}})
    with pytest.raises(ConfigError, match=r"database\.url"):
        settings_from_dict({"database": {"url": "mysql://x"}})


def test_vendored_htmx_matches_the_recorded_sha256() -> None:
    table = (VENDOR / "VENDORED.md").read_text()
    recorded = dict(re.findall(r"^\| (\S+\.js) \| .*? \| ([0-9a-f]{64}) \|$", table, re.M))
    assert set(recorded) == {"htmx-2.0.11.min.js", "htmx-ext-sse-2.2.4.min.js"}
    for name, digest in recorded.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest


def test_the_door_cli_does_not_load_the_dashboard_extra() -> None:
    """The door's `facegate` starts without starlette, sqlalchemy, argon2 or uvicorn."""
    import subprocess
    import sys

    code = (
        "import sys, facegate.cli\n"
        "heavy = {'starlette', 'sqlalchemy', 'uvicorn', 'argon2', 'jinja2', 'aiosqlite'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
