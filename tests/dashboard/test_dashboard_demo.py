"""The door demo (``facegate demo --broker``) publishing through the TLS broker, watched live
by two browser sessions: events without reload, a duplicate shown once, the spoof alarm's
toast and its acknowledgement, and attendance from the imported roster."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.dashboard.attendance.sheet import attendance
from facegate.demo.door_demo import ROOM, SESSION, STUDENT
from facegate.demo.roster_file import session_toml
from facegate.events.access_event import new_event_id
from tests.dashboard.conftest import PASSWORDS, USERS, db_rows, secret_file
from tests.dashboard.http_client import HttpSession

ABSENT = "s-never-came"


def operator_client(broker) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="operator-test", protocol=mqtt.MQTTv5
    )
    client.username_pw_set("operator", USERS["operator"])
    client.tls_set(ca_certs=str(broker.tls.ca_file))
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def demo_config(tmp_path, broker):
    pw = secret_file(tmp_path / "demo-secrets", "mqtt.pass", USERS["demo-door"])
    config = tmp_path / "demo.toml"
    config.write_text(
        f'[mqtt]\nhost = "{broker.host}"\nport = {broker.port}\nusername = "demo-door"\n'
        f'password_file = "{pw}"\nhealth_interval_s = 2\n\n'
        f'[mqtt.tls]\nca_file = "{broker.tls.ca_file}"\n'
    )
    return config


def test_the_door_demo_live_in_two_browsers_with_alarms_and_attendance(
    tmp_path, dash_broker, dashboards, browsers
):
    dash = dashboards(dash_broker)
    dash.add_users()
    now = datetime.now(UTC)
    roster = tmp_path / "roster.toml"
    roster.write_text(
        session_toml(
            SESSION,
            ROOM,
            now - timedelta(minutes=30),
            now + timedelta(hours=2),
            [STUDENT, ABSENT],
            True,
        )
    )
    assert "1 sessions imported" in dash.cli("import-roster", str(roster), "--by", "office").stdout
    dash.start()

    admin = browsers(dash.url, "admin")
    admin.login("admin", PASSWORDS["admin"])
    admin.driver.execute_script("window.__sameDocument = true")
    proctor = browsers(dash.url, "proctor")
    proctor.login("proctor", PASSWORDS["proctor"])
    proctor.get("/alarms")
    proctor.driver.execute_script("window.__sameDocument = true")

    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "facegate",
            "--config",
            str(demo_config(tmp_path, dash_broker)),
            "demo",
            "--broker",
            dash_broker.url,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        # The grant shows on the open page, without a reload.
        granted = admin.wait(
            lambda: [r for r in admin.css("#live-events tr.decision-granted") if STUDENT in r.text],
            180,
            "the demo's grant on the live page",
        )[0]
        assert "math-101" in granted.text and "totp_ok" in granted.text
        assert admin.driver.execute_script("return window.__sameDocument === true")
        # The printed photo raises a spoof alarm: a toast in the proctor's session, and the
        # alarm row in the inbox, live.
        toast = proctor.wait(lambda: proctor.css(".toast"), 120, "the spoof alarm's toast")[0]
        assert "Spoof attempt" in toast.text and "demo-door" in toast.text
        row = proctor.wait(lambda: proctor.css("article.alarm[data-kind=spoof_attempt]"), 10)[0]
        alarm_id = row.get_attribute("data-alarm-id")
        assert proctor.driver.execute_script("return window.__sameDocument === true")
        assert demo.wait(240) == 0, (tmp_path / "demo.log").read_text()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(10)
    admin.wait(lambda: "unknown_face" in admin.one("#live-events").text, 30, "the last scene")
    assert len(admin.css("#live-events tr")) == 4

    # The admin acknowledges with a note; the proctor sees it arrive in their open page.
    admin.get("/alarms")
    admin.one(f"#alarm-{alarm_id} input[name=note]").send_keys("photo taken from the student")
    admin.one(f"#alarm-{alarm_id} form[action$='/ack'] button").click()
    proctor.wait(
        lambda: "photo taken from the student" in proctor.one(f"#alarm-{alarm_id}").text,
        20,
        "the acknowledgement in the second session",
    )
    acked = proctor.one(f"#alarm-{alarm_id}")
    assert acked.get_attribute("data-state") == "acked" and "admin" in acked.text
    assert proctor.driver.execute_script("return window.__sameDocument === true")

    # At least once: the door's grant delivered again is stored and shown once.
    payload = db_rows(dash.database_url(), "SELECT payload FROM events WHERE decision = 'granted'")[
        0
    ][0]
    event_id = json.loads(payload)["event_id"]
    sentinel = dict(json.loads(payload), event_id=new_event_id(), attempt_id="demo-door-sentinel")
    op = operator_client(dash_broker)
    try:
        op.publish("facegate/demo-door/event/access", payload, qos=1).wait_for_publish(10)
        op.publish("facegate/demo-door/event/access", json.dumps(sentinel), qos=1).wait_for_publish(
            10
        )
    finally:
        op.disconnect()
        op.loop_stop()
    admin.get("/")
    admin.wait(lambda: admin.css(f"#ev-{sentinel['event_id']}"), 20, "the event sent after")
    assert len(admin.css(f"#ev-{event_id}")) == 1
    assert (
        db_rows(
            dash.database_url(), "SELECT count(*) FROM events WHERE event_id = :e", {"e": event_id}
        )[0][0]
        == 1
    )

    # Attendance: the grant is an entry, the other student is missing; the CSV is the rows.
    office = browsers(dash.url, "office")
    office.login("office", PASSWORDS["office"])
    office.get(f"/attendance/{SESSION}")
    entered = office.one(f"tr[data-student='{STUDENT}']")
    assert entered.get_attribute("data-status") == "entered" and "demo-door" in entered.text
    assert office.one(f"tr[data-student='{ABSENT}']").get_attribute("data-status") == "missing"
    assert office.one("#n-entered").text == "1" and office.one("#n-missing").text == "1"
    http = HttpSession(dash.url)
    http.login("office", PASSWORDS["office"])
    reply = http.get(f"/attendance/{SESSION}.csv")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    got = list(csv.reader(io.StringIO(reply.body)))
    rows = db_rows(
        dash.database_url(),
        "SELECT student_id, decision, ts, device_id, reasons "
        "FROM events WHERE session_id = :s AND type = 'access' ORDER BY ts, event_id",
        {"s": SESSION},
    )
    stored = attendance([STUDENT, ABSENT], [dict(r._mapping) for r in rows])
    assert got[0] == ["student_id", "status", "first_entry", "door", "refusals", "last_reason"]
    assert got[1:] == [
        [
            x.student_id,
            x.status,
            x.first_entry or "",
            x.door or "",
            str(x.refusals),
            x.last_reason or "",
        ]
        for x in stored
    ]
    first = next(x for x in stored if x.student_id == STUDENT)
    assert first.status == "entered" and first.first_entry == json.loads(payload)["ts"]
