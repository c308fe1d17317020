"""The real door (``facegate run`` on mock pins) seen and commanded from the browser."""

from __future__ import annotations

import json
import re
import time

from selenium.webdriver.support.ui import Select

from tests.dashboard.conftest import PASSWORDS, db_rows, door_config, make_gallery, new_key
from tests.dashboard.http_client import HttpSession


def card(b, door: str):
    return b.one(f"#door-{door}")


def card_is(b, door: str, status: str, state: str | None = None) -> bool:
    c = card(b, door)
    ok = c.get_attribute("data-status") == status
    return ok and (state is None or c.get_attribute("data-state") == state)


def command(b, door: str, cmd: str, **fields: str) -> str:
    """Fill the command form, review, send; returns the command page's status text."""
    b.get("/commands")
    Select(b.one("#cmd-door")).select_by_value(door)
    Select(b.one("#cmd-name")).select_by_value(cmd)
    for name, value in fields.items():
        element = b.one(f"[name={name}]")
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        else:
            element.clear()
            element.send_keys(value)
    b.one(".command-form button[type=submit]").click()
    b.wait(lambda: b.css("#confirm"), 10, "the confirmation step")
    summary = b.one("#plans").text
    b.one("#confirm").click()
    return summary


def wait_answer(b, timeout: float = 60.0) -> str:
    """The command page's answer once it is no longer pending (arrives over the stream)."""
    read = (
        "const e = document.querySelector('.cmd-state');"
        "return e && [e.dataset.state, e.textContent]"
    )

    def answered():
        found = b.driver.execute_script(read)
        return found if found and found[0] != "pending" else None

    return b.wait(answered, timeout, "the door's answer")[1].strip()


def test_the_real_door_live_commanded_killed_and_the_dashboard_restarted(
    tmp_path, dash_broker, dashboards, doors, browsers, pipeline
):
    """One door and one dashboard for the whole story (each costs seconds to start):
    retained state at page load; unlock, lockdown on/off, override, a wrong key; the door
    SIGKILLed (grey card, a command times out); the dashboard restarted (the page reconnects
    and shows the same state); the audit, on both sides, names the operator."""
    key = new_key(tmp_path / "keys" / "door-1.key")
    config = door_config(tmp_path, dash_broker, "door-1", key)
    make_gallery(config, pipeline)
    door = doors(config, tmp_path / "door-1.log")
    dash = dashboards(dash_broker)
    dash.add_users()
    dash.add_key("door-1", key)
    # the door comes up first: the dashboard learns it from the broker's retained messages
    deadline = time.monotonic() + 90
    while b"online" not in (tmp_path / "door-1.log").read_bytes() and time.monotonic() < deadline:
        time.sleep(0.3)
    dash.start()
    proctor = browsers(dash.url, "proctor")
    proctor.login("proctor", PASSWORDS["proctor"])
    proctor.wait(lambda: card_is(proctor, "door-1", "online", "LOCKED"), 60, "door-1 online")
    assert "offline" not in card(proctor, "door-1").get_attribute("class")
    proctor.wait(lambda: "s ago" in card(proctor, "door-1").text, 20, "a health message")

    office = browsers(dash.url, "office")
    office.login("office", PASSWORDS["office"])
    assert command(office, "door-1", "unlock", seconds="2") == "unlock door-1 for 2.0 s"
    assert wait_answer(office).startswith("accepted")
    assert "unlocked for 2 s" in office.one(".cmd-state").text

    assert "lockdown ON on door-1" in command(office, "*", "lockdown", on="on")
    assert wait_answer(office).startswith("accepted")
    proctor.wait(lambda: "LOCKDOWN" in card(proctor, "door-1").text, 20, "the lockdown badge")
    assert command(office, "door-1", "unlock") == "unlock door-1 for the default s"
    assert wait_answer(office).startswith("refused (failed): lockdown is on")
    command(office, "door-1", "lockdown", on="off")
    assert wait_answer(office).startswith("accepted")

    # An override: the code is shown once, to the operator who asked, and is not kept.
    command(office, "door-1", "override", student_id="s-77", valid_s="600")
    assert wait_answer(office).startswith("accepted")
    nonce = office.driver.current_url.rsplit("/", 1)[1]
    office.one("#reveal").click()
    # The code comes back from the reveal request: wait for it, the click does not.
    shown = office.wait(
        lambda: [e.text.strip() for e in office.css("#override-code") if e.text.strip()],
        20,
        "the revealed code",
    )
    code = shown[0]
    assert re.fullmatch(r"\d{6}", code)
    row = db_rows(
        dash.database_url(),
        "SELECT sealed_code, code_shown FROM commands WHERE nonce = :n",
        {"n": nonce},
    )[0]
    assert tuple(row) == (None, 1)
    assert code.encode() not in (dash.dir / "state" / "dashboard.sqlite3").read_bytes()
    admin = HttpSession(dash.url)
    admin.login("admin", PASSWORDS["admin"])
    other = admin.get(f"/commands/{nonce}")
    assert other.status == 200 and 'id="reveal"' not in other.body and code not in other.body
    assert admin.post(f"/commands/{nonce}/reveal", {"csrf": admin.csrf()}).status == 403
    office.get(f"/commands/{nonce}")
    assert not office.css("#reveal") and code not in office.driver.page_source

    # A wrong key: the door's own refusal comes back.
    dash.add_key("door-1", new_key(tmp_path / "keys" / "wrong.key"))
    command(office, "door-1", "unlock")
    assert wait_answer(office).startswith("refused (bad_signature)")
    dash.add_key("door-1", key)

    # SIGKILL: the broker sends the door's Last Will; the card greys; a command times out.
    door.kill()
    proctor.wait(lambda: card_is(proctor, "door-1", "offline", "LOCKED"), 20, "door-1 offline")
    grey = card(proctor, "door-1")
    assert "offline" in grey.get_attribute("class")
    assert "last known state, not current" in grey.text
    assert grey.value_of_css_property("filter") == "grayscale(1)"
    command(office, "door-1", "unlock")
    assert wait_answer(office, 30).startswith("timeout")

    # The dashboard goes away and comes back: the same page reconnects by itself. The broken
    # stream is reported in the console: the refused reconnects and htmx's own sseError log.
    for b in (proctor, office):
        b.allowed += [
            "/stream",
            "ERR_CONNECTION_REFUSED",
            "ERR_INCOMPLETE_CHUNKED",
            "[object Event]",
        ]
    dash.stop()
    proctor.wait(lambda: proctor.one("#live-state").text != "live", 20, "the stream to end")
    dash.start()
    proctor.wait(lambda: proctor.one("#live-state").text == "live", 30, "the stream again")
    proctor.wait(lambda: card_is(proctor, "door-1", "offline", "LOCKED"), 10, "the same state")
    assert "offline" in card(proctor, "door-1").get_attribute("class")

    # The audit lists every command with its operator, door, arguments and answer.
    office.get("/audit")
    rows = [r.text for r in office.css("#commands tbody tr")]
    assert len(rows) == 7, rows
    assert all(" office door-1 " in r for r in rows)
    assert sum("accepted" in r for r in rows) == 4
    assert any("timeout" in r for r in rows) and any("bad_signature" in r for r in rows)
    # ...and the door itself recorded who it was, in its remote_command audit events.
    audits = db_rows(
        dash.database_url(), "SELECT payload FROM events WHERE kind = 'remote_command'"
    )
    details = [json.loads(p[0])["detail"] for p in audits]
    assert sorted(d["cmd"] for d in details) == ["lockdown", "lockdown", "override", "unlock"]
    assert {d["operator"] for d in details} == {"office"}
