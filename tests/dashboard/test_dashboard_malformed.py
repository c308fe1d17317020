"""Malformed messages on facegate/# are counted and shown under diagnostics; none stops the
ingest (a valid event after them is stored and shown)."""

from __future__ import annotations

import json

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.events.access_event import AccessEvent
from tests.dashboard.conftest import PASSWORDS, USERS, db_rows


def valid_event(device: str = "door-1") -> dict:
    return AccessEvent(
        device_id=device,
        room="r1",
        attempt_id=f"{device}-1-abcdef",
        decision="denied",
        reasons=("unknown_face",),
        scores={"distance": 0.9, "threshold": 0.35, "match": "unknown_face"},
        latencies_ms={"total": 1500},
    ).to_dict()


def test_malformed_messages_are_counted_and_shown_and_the_ingest_goes_on(
    dash_broker, dashboards, browsers
):
    dash = dashboards(dash_broker)
    dash.add_users()
    dash.start()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="malformed", protocol=mqtt.MQTTv5)
    client.username_pw_set("operator", USERS["operator"])
    client.tls_set(ca_certs=str(dash_broker.tls.ca_file))
    client.connect(dash_broker.host, dash_broker.port)
    client.loop_start()
    schema_bad = dict(valid_event(), decision="maybe")
    other_door = valid_event("door-2")  # a door's event published under another door's topic
    sent = [
        ("facegate/door-1/event/access", b"{not json"),
        ("facegate/door-1/event/access", b"\xff\xfe\x00"),
        ("facegate/door-1/event/access", b"[" * 100_000 + b"]" * 100_000),  # huge and deep
        ("facegate/door-1/event/access", json.dumps(schema_bad).encode()),
        ("facegate/door-1/event/alarm", json.dumps({"type": "alarm"}).encode()),
        ("facegate/door-1/health", b"{}"),
        ("facegate/door-1/door/state", b"AJAR"),
        ("facegate/door-1/event/access", json.dumps(other_door).encode()),
        ("facegate/bad door!/status", b"online"),
        ("facegate/door-1/something/else", b"x"),
        ("facegate/door-1/cmd/result", b'{"type": "command_result"}'),
    ]
    good = valid_event()
    try:
        for topic, payload in sent:
            client.publish(topic, payload, qos=1).wait_for_publish(10)
        client.publish("facegate/door-1/event/access", json.dumps(good), qos=1).wait_for_publish(10)
    finally:
        client.disconnect()
        client.loop_stop()

    admin = browsers(dash.url, "admin")
    admin.login("admin", PASSWORDS["admin"])
    admin.wait(lambda: admin.css(f"#ev-{good['event_id']}"), 30, "the good event after the bad")
    assert dash.process.poll() is None
    problems = db_rows(
        dash.database_url(), "SELECT problem, count(*) FROM bad_messages GROUP BY problem"
    )
    counts = dict(problems)
    assert counts == {"json": 2, "huge": 1, "schema": 5, "unknown_door": 1, "topic": 2}, counts
    assert db_rows(dash.database_url(), "SELECT count(*) FROM events")[0][0] == 1

    admin.get("/diagnostics")
    shown: dict[str, int] = {}
    for r in admin.css("#bad-counts tbody tr[data-problem]"):
        problem = r.get_attribute("data-problem")
        shown[problem] = shown.get(problem, 0) + int(r.text.split()[-1])
    assert sum(shown.values()) == len(sent) and shown["schema"] == 5
    assert admin.one("#bad-total").text == str(len(sent))
    assert "facegate/door-1/event/access" in admin.one("#topics").text
    latest = admin.one("#bad-latest").text
    assert "decision" in latest and "differs from the topic" in latest
