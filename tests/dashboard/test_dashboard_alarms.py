"""A forced door's alarm: acknowledged with a note, closable only once the door says LOCKED
again; the same alarm again and again collapses into one row."""

from __future__ import annotations

import json
import re

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.events.alarm_event import AlarmEvent
from tests.dashboard.conftest import PASSWORDS, USERS, db_rows
from tests.dashboard.http_client import HttpSession


def publisher(broker) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id="door-1-standin", protocol=mqtt.MQTTv5
    )
    client.username_pw_set("operator", USERS["operator"])
    client.tls_set(ca_certs=str(broker.tls.ca_file))
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def send(client: mqtt.Client, topic: str, payload: str, retain: bool = False) -> None:
    client.publish(f"facegate/door-1/{topic}", payload, qos=1, retain=retain).wait_for_publish(10)


def wait_rows(url: str, sql: str, n: int) -> list:
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = db_rows(url, sql)
        if len(rows) >= n:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"fewer than {n} rows for {sql}")


def test_a_forced_door_closes_only_when_locked_and_floods_collapse(dash_broker, dashboards):
    dash = dashboards(dash_broker)
    dash.add_users()
    dash.start()
    url = dash.database_url()
    door = publisher(dash_broker)
    try:
        send(door, "status", "online", retain=True)
        send(door, "door/state", "OPEN", retain=True)
        for _ in range(3):  # the door reports it again and again while it stays open
            alarm = AlarmEvent("door-1", "r1", "door_forced", {"open_for_s": 4.0}).to_dict()
            send(door, "event/alarm", json.dumps(alarm))
        rows = wait_rows(url, "SELECT id, count, state FROM alarms", 1)
        wait_rows(url, "SELECT 1 FROM events WHERE kind = 'door_forced'", 3)
        assert [(r.count, r.state) for r in db_rows(url, "SELECT count, state FROM alarms")] == [
            (3, "open")
        ]
        alarm_id = rows[0].id

        proctor = HttpSession(dash.url)
        proctor.login("proctor", PASSWORDS["proctor"])
        token = proctor.csrf()
        page = proctor.get("/alarms").body
        assert "Door forced open" in page and "×3" in page
        too_soon = proctor.post(f"/alarms/{alarm_id}/close", {"csrf": token})
        assert too_soon.status == 409 and "OPEN" in too_soon.body
        assert proctor.post(f"/alarms/{alarm_id}/ack", {"csrf": token, "note": ""}).status == 400
        acked = proctor.post(
            f"/alarms/{alarm_id}/ack", {"csrf": token, "note": "went there, door pushed shut"}
        )
        assert acked.status == 303
        still_open = proctor.post(f"/alarms/{alarm_id}/close", {"csrf": token})
        assert still_open.status == 409  # acknowledged, but the door is not LOCKED yet

        send(door, "door/state", "LOCKED", retain=True)
        wait_rows(url, "SELECT 1 FROM doors WHERE state = 'LOCKED'", 1)
        closed = proctor.post(f"/alarms/{alarm_id}/close", {"csrf": token})
        assert closed.status == 303
        row = db_rows(url, "SELECT state, closed_by FROM alarms")[0]
        assert tuple(row) == ("closed", "proctor")
        note = db_rows(url, "SELECT user_name, note FROM alarm_acks")
        assert [tuple(n) for n in note] == [("proctor", "went there, door pushed shut")]
        assert not re.search(r'id="alarm-\d+"', proctor.get("/alarms").body)
    finally:
        door.disconnect()
        door.loop_stop()
