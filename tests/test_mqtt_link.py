"""The MQTT link and the recorder against a real Mosquitto: protocols, order, recovery."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from facegate.config.mqtt import MqttConfig
from facegate.events.access_event import AccessEvent
from facegate.events.journal import JournalSink, read_journal
from facegate.events.outbox import Outbox
from facegate.events.recorder import EventRecorder
from facegate.mqtt.mqtt_link import MqttLink
from facegate.mqtt.topics import Topics
from tests import mosquitto_broker
from tests.event_schemas import validate_event

broker = mosquitto_broker.broker


class Subscriber:
    """A plain paho client collecting what arrives under a topic filter."""

    def __init__(self, b: mosquitto_broker.Broker, topic: str) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self._ready = threading.Event()
        # A persistent session: what arrives while the broker restarts is kept for it.
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="test-sub", clean_session=False
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_message = lambda c, u, m: self.messages.append(m)
        self.client.on_subscribe = lambda *a: self._ready.set()
        self.client.connect(b.host, b.port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()
        assert self._ready.wait(5)

    def payloads(self, topic: str) -> list[dict]:
        return [json.loads(m.payload) for m in list(self.messages) if m.topic == topic]

    def wait_for(self, topic: str, n: int, timeout: float = 10.0) -> list[dict]:
        end = time.monotonic() + timeout
        while len(self.payloads(topic)) < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.payloads(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def event(n: int) -> dict:
    return AccessEvent(
        "door-1", "r1", f"a-{n}", "denied", ("unknown_face",), latencies_ms={"total": 900 + n}
    ).to_dict()


@pytest.mark.parametrize("protocol", ["3.1.1", "5", "auto"])
def test_events_go_out_in_order_on_each_protocol(broker, tmp_path: Path, protocol: str) -> None:
    config = MqttConfig(enabled=True, host=broker.host, port=broker.port, protocol=protocol)
    topics = Topics(config.prefix("door-1"))
    sub = Subscriber(broker, "facegate/#")
    outbox = Outbox(tmp_path / "outbox.sqlite3", 8 * 1024 * 1024)
    link = MqttLink(config, "door-1", outbox)
    with JournalSink(tmp_path / "events.jsonl") as journal:
        recorder = EventRecorder(journal, outbox, topics.event_topic, on_added=link.wake)
        sent = [event(n) for n in range(50)]
        for e in sent[:25]:
            assert recorder.record(e)
        link.start()
        for e in sent[25:]:
            assert recorder.record(e)
        got = sub.wait_for(topics.access, 50)
        link.close()
    sub.close()
    assert [e["event_id"] for e in got] == [e["event_id"] for e in sent]
    for e in got:
        validate_event(e)
    assert outbox.depth() == 0
    statuses = [m.payload for m in sub.messages if m.topic == topics.status]
    assert statuses[0] == b"online" and statuses[-1] == b"offline"


def test_a_crash_between_journal_and_outbox_is_recovered_at_start(broker, tmp_path: Path) -> None:
    """The journal is written first; what never reached the outbox is queued at the next start."""
    config = MqttConfig(enabled=True, host=broker.host, port=broker.port)
    topics = Topics(config.prefix("door-1"))
    outbox = Outbox(tmp_path / "outbox.sqlite3", 8 * 1024 * 1024)
    with JournalSink(tmp_path / "events.jsonl") as journal:
        recorder = EventRecorder(journal, outbox, topics.event_topic)
        for n in range(3):
            recorder.record(event(n))
        # The process dies after the journal's fsync and before the outbox commit: twice.
        lost = [event(3), event(4)]
        for e in lost:
            journal.emit(e)
    outbox.close()

    sub = Subscriber(broker, topics.access)
    outbox = Outbox(tmp_path / "outbox.sqlite3", 8 * 1024 * 1024)
    with JournalSink(tmp_path / "events.jsonl") as journal:
        recorder = EventRecorder(journal, outbox, topics.event_topic)
        assert recorder.recover() == 2
        assert recorder.recover() == 0  # once only
        recorder.record(event(5))
        link = MqttLink(config, "door-1", outbox)
        link.start()
        got = sub.wait_for(topics.access, 6)
        link.close()
    sub.close()
    assert [e["attempt_id"] for e in got] == [f"a-{n}" for n in range(6)]
    assert len(read_journal(tmp_path / "events.jsonl").events) == 6


def test_a_new_outbox_does_not_resend_an_old_journal(tmp_path: Path) -> None:
    """Turning MQTT on at a door with a year of journal publishes from now on, not the past."""
    with JournalSink(tmp_path / "events.jsonl") as journal:
        for n in range(5):
            journal.emit(event(n))
        outbox = Outbox(tmp_path / "outbox.sqlite3", 8 * 1024 * 1024)
        recorder = EventRecorder(journal, outbox, Topics("facegate/door-1").event_topic)
        assert recorder.recover() == 0 and outbox.depth() == 0
        recorder.record(event(5))
        assert [i.event_id for i in outbox.pending()] == [recorder_last(tmp_path)]


def recorder_last(tmp_path: Path) -> str:
    return read_journal(tmp_path / "events.jsonl").events[-1]["event_id"]


def test_an_unreachable_broker_keeps_events_and_delivers_them_later(broker, tmp_path: Path) -> None:
    config = MqttConfig(
        enabled=True, host=broker.host, port=broker.port, reconnect_min_s=1, reconnect_max_s=1
    )
    topics = Topics(config.prefix("door-1"))
    sub = Subscriber(broker, topics.access)
    broker.stop()
    outbox = Outbox(tmp_path / "outbox.sqlite3", 8 * 1024 * 1024)
    link = MqttLink(config, "door-1", outbox)
    link.start()
    with JournalSink(tmp_path / "events.jsonl") as journal:
        recorder = EventRecorder(journal, outbox, topics.event_topic, on_added=link.wake)
        for n in range(10):
            assert recorder.record(event(n))  # stored, though nothing is connected
        time.sleep(0.5)
        assert outbox.depth() == 10 and not link.connected
        broker.start()
        got = sub.wait_for(topics.access, 10, timeout=15)
        link.close()
        sub.close()
    assert [e["attempt_id"] for e in got] == [f"a-{n}" for n in range(10)]
    assert outbox.depth() == 0
