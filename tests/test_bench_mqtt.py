"""`facegate bench mqtt` runs against a real broker and reports every figure (speed unasserted)."""

from __future__ import annotations

import json
import queue
import socket
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from click.testing import CliRunner
from paho.mqtt.enums import CallbackAPIVersion

from facegate.bench.mqtt_throughput import format_mqtt, measure_mqtt
from facegate.cli import cli
from tests import mosquitto_broker
from tests.mosquitto_broker import Broker

broker = mosquitto_broker.broker

pytestmark = pytest.mark.timeout(120)

STATS = {"p50", "p95", "max"}


def check_result(r: dict, events: int, latency_events: int) -> None:
    assert set(r) >= {
        "broker",
        "broker_kind",
        "directory",
        "disk_fsync_ms",
        "throughput",
        "latency",
        "plain",
        "duplicates",
        "outbox_over_plain",
    }
    t = r["throughput"]
    assert t["events"] == events and t["received"] == events  # every event arrived
    assert t["published"] >= events and t["acked"] >= events
    assert t["drain_s"] > 0 and t["events_per_s"] > 0 and t["payload_bytes"] > 300
    lat, plain = r["latency"], r["plain"]
    assert lat["events"] == lat["received"] == latency_events
    assert plain["events"] == plain["received"] == latency_events
    for s in (
        r["disk_fsync_ms"],
        lat["record_ms"],
        lat["journal_ms"],
        lat["record_to_received_ms"],
        plain["publish_to_received_ms"],
    ):
        assert set(s) == STATS and 0 <= s["p50"] <= s["p95"] <= s["max"]
    # A receipt comes after the durable write it waited for.
    assert lat["record_to_received_ms"]["max"] >= lat["record_ms"]["p50"]
    assert set(r["outbox_over_plain"]) == {"p50", "p95"}
    assert r["duplicates"] >= 0
    text = format_mqtt(r)
    assert "events/s" in text and "plain paho" in text


def retained_under(server: Broker, prefix: str) -> list[str]:
    """Retained topics under ``prefix``: a sentinel published after SUBACK ends the list."""
    got: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, msg: got.put(msg)
    client.on_subscribe = lambda *_: subscribed.put(True)
    client.connect(server.host, server.port)
    client.loop_start()
    try:
        client.subscribe(f"{prefix}/#", qos=1)
        subscribed.get(timeout=10)
        client.publish(f"{prefix}/sentinel", b"end", qos=1)
        topics = []
        while True:
            msg = got.get(timeout=10)
            if msg.topic == f"{prefix}/sentinel":
                return topics
            if msg.retain and msg.payload:
                topics.append(msg.topic)
    finally:
        client.disconnect()
        client.loop_stop()


def test_bench_against_a_given_broker(broker: Broker, tmp_path: Path) -> None:
    work = tmp_path / "bench"
    r = measure_mqtt(
        (broker.host, broker.port),
        events=60,
        latency_events=6,
        rate=200.0,
        directory=work,
        warmup=2,
    )
    check_result(r, 60, 6)
    assert r["broker"] == broker.url and r["broker_kind"] == "given"
    assert list(work.iterdir()) == []  # outbox, journal and probe files are removed
    assert retained_under(broker, "facegate-bench") == []  # no bench door left "offline"


def test_bench_command_with_its_own_temporary_mosquitto(tmp_path: Path) -> None:
    mosquitto_broker.find_mosquitto()  # skip without mosquitto (fail under CI)
    args = ["bench", "mqtt", "--events", "30", "--latency-events", "4", "--rate", "200"]
    result = CliRunner().invoke(cli, [*args, "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    r = json.loads(result.output)
    check_result(r, 30, 4)
    assert r["broker_kind"].startswith("temporary mosquitto")
    host, _, port = r["broker"].rpartition(":")
    with pytest.raises(OSError):  # the temporary broker was stopped
        socket.create_connection((host, int(port)), timeout=2).close()
    assert list(tmp_path.iterdir()) == []


def test_bench_command_refuses_a_bad_broker_address() -> None:
    result = CliRunner().invoke(cli, ["bench", "mqtt", "--broker", "localhost"])
    assert result.exit_code != 0 and "HOST:PORT" in result.output
