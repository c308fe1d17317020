"""Fault test: 1,000 access events through broker outages and a SIGKILLed door process.

The door is ``tests/event_producer.py`` in a subprocess, recording through the daemon's own path
(JournalSink + DoorMqtt + EventRecorder). While it records 1,000 events at 200/s the broker is
stopped and started twice and the producer is killed with SIGKILL once and restarted. A
subscriber with a persistent session (MQTT 5, clean_start=False, session expiry) and a QoS 1
subscription stays connected throughout, reconnecting by itself, and must end up with every
event_id in the journal: 0 lost. Duplicates (at-least-once) and late deliveries (an event that
arrives after a later one) are counted and reported, not forbidden: paho resends the QoS 1
messages in flight at a disconnect only after ``on_connect`` returns, and MqttLink's pump may
publish newer outbox rows as soon as ``on_connect`` marks the link connected, so the resent ones
can arrive after them (rare here; certain when ``on_connect`` takes ~50 ms).

Reporting that does not depend on ``-s``: ``record_property`` (junit XML), the assertion
messages, ``<tmp_path>/mqtt_fault_report.json`` and, when ``FACEGATE_FAULT_REPORT`` names a
file, a JSON line appended to it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facegate.events.journal import read_journal
from tests import mosquitto_broker
from tests.mosquitto_broker import Broker

try:
    from tests.event_schemas import validate_event
except ImportError:  # jsonschema not installed: the payloads are only parsed
    validate_event = None

broker = mosquitto_broker.broker

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[1]
DEVICE = "door-1"
COUNT = 1000
RATE = 200.0
# (recorded events, action): two broker outages around one SIGKILL of the door process.
SCHEDULE = ((150, "stop"), (300, "start"), (450, "kill"), (600, "stop"), (750, "start"))
WAIT = 30.0  # seconds; bounds a failure, every wait ends on an event


class Subscriber:
    """A proctor's dashboard: persistent MQTT 5 session, QoS 1, reconnects on its own."""

    def __init__(self, server: Broker, topic: str) -> None:
        self.topic = topic
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id="fault-subscriber",
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.lock = threading.Lock()
        self.arrivals: list[str] = []  # event_ids, in arrival order, duplicates included
        self.dup_flagged = 0  # arrivals with the DUP flag (a broker's resend)
        self.bad_payloads: list[str] = []
        self.connects: list[bool] = []  # session_present of each CONNACK
        self.changed = threading.Condition(self.lock)
        self.subscribed = threading.Event()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        self.client.connect(
            server.host, server.port, keepalive=10, clean_start=False, properties=props
        )
        self.client.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            return
        with self.lock:
            self.connects.append(flags.session_present)
        if not flags.session_present:
            client.subscribe(self.topic, qos=1)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        if all(not rc.is_failure for rc in reason_codes):
            self.subscribed.set()

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        try:
            event = json.loads(message.payload)
            event_id = event["event_id"]
        except Exception as exc:
            with self.lock:
                self.bad_payloads.append(f"{exc!r}: {message.payload[:200]!r}")
            return
        if validate_event is not None:
            try:
                validate_event(event)
            except Exception as exc:
                with self.lock:
                    self.bad_payloads.append(f"{exc!r}: {message.payload[:200]!r}")
        with self.changed:
            self.arrivals.append(event_id)
            self.dup_flagged += bool(message.dup)
            self.changed.notify_all()

    def wait_for(self, wanted: set[str], timeout: float) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: wanted <= set(self.arrivals), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Producer:
    """One run of tests/event_producer.py, its stdout followed by a thread."""

    def __init__(
        self, config: Path, log: Path, progress: Progress, extra: tuple[str, ...] = ()
    ) -> None:
        self.progress = progress
        self.result: dict | None = None
        command = [sys.executable, "-m", "tests.event_producer", "--config", str(config)]
        command += ["--count", str(COUNT), "--rate", str(RATE), *extra]
        with log.open("ab") as stderr:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True
            )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("recorded "):
                self.progress.update(int(line.split()[1]))
            elif line.startswith("holding "):
                self.progress.hold()
            elif line.startswith("{"):
                self.result = json.loads(line)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self._reader.join(5)

    def wait(self, timeout: float) -> int:
        code = self.process.wait(timeout)
        self._reader.join(5)
        return code


class Progress:
    def __init__(self) -> None:
        self.recorded = 0
        self.holding = threading.Event()
        self._cond = threading.Condition()

    def hold(self) -> None:
        self.holding.set()

    def update(self, n: int) -> None:
        with self._cond:
            self.recorded = max(self.recorded, n)
            self._cond.notify_all()

    def wait_for(self, n: int, timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self.recorded >= n, timeout)


def write_config(path: Path, data_dir: Path, server: Broker) -> None:
    path.write_text(
        f"""\
[device]
id = "{DEVICE}"
room = "A101"

[paths]
data_dir = "{data_dir}"

[mqtt]
enabled = true
host = "{server.host}"
port = {server.port}
reconnect_min_s = 1.0
reconnect_max_s = 2.0
"""
    )


def wait_until(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def door_connections(server: Broker) -> int:
    """How many times the door's client connected to this broker (its log survives restarts)."""
    try:
        text = server.log_file.read_text(errors="replace")
    except FileNotFoundError:
        return 0
    return text.count(f" as {DEVICE} (")


def late_deliveries(first_arrivals: list[str], order: dict[str, int]) -> int:
    """Arrivals of an event after a later event (journal order) had already arrived."""
    late, highest = 0, -1
    for event_id in first_arrivals:
        index = order[event_id]
        if index < highest:
            late += 1
        highest = max(highest, index)
    return late


def outbox_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM outbox").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize(
    "kill_in_window",
    [
        pytest.param(False, id="kill-anywhere"),
        # The worst moment: the event is journaled, its outbox row not committed. Only
        # EventRecorder.recover() at the restart can still publish it.
        pytest.param(True, id="kill-between-journal-and-outbox"),
    ],
)
def test_no_event_lost_through_outages_and_sigkill(
    broker: Broker, tmp_path: Path, record_property, kill_in_window: bool
) -> None:
    began = time.monotonic()
    data_dir = tmp_path / "door"
    config = tmp_path / "facegate.toml"
    write_config(config, data_dir, broker)
    log = tmp_path / "producer.log"
    subscriber = Subscriber(broker, f"facegate/{DEVICE}/event/access")
    producers: list[Producer] = []
    actions: list[tuple[str, int, float]] = []  # (what, events recorded then, seconds in)
    try:
        assert subscriber.subscribed.wait(10), "the subscriber's SUBACK never came"
        progress = Progress()
        kill_at = next(n for n, action in SCHEDULE if action == "kill")
        hold = ("--hold-before-outbox", str(kill_at)) if kill_in_window else ()
        producers.append(Producer(config, log, progress, hold))
        seen = 0  # the door's connections in the broker log when the last fault began
        for threshold, action in SCHEDULE:
            if action == "kill" and kill_in_window:
                reached = progress.holding.wait(WAIT)
            else:
                reached = progress.wait_for(threshold, WAIT)
            assert reached, (
                f"the producer stalled at {progress.recorded} before {action}:\n"
                + log.read_text(errors="replace")[-3000:]
            )
            if action in ("stop", "kill"):
                # Each fault interrupts live traffic: the door (reconnect delay >= 1 s) and
                # the subscriber are connected again before the next one.
                assert wait_until(lambda n=seen: door_connections(broker) > n, WAIT), (
                    f"the door did not reconnect before {action}:\n{broker.log_tail()}"
                )
                assert wait_until(subscriber.client.is_connected, WAIT), "subscriber offline"
            actions.append((action, progress.recorded, round(time.monotonic() - began, 2)))
            seen = door_connections(broker)
            if action == "stop":
                broker.stop()
            elif action == "start":
                broker.start()
            else:
                producers[-1].kill()
                producers.append(Producer(config, log, progress))
        code = producers[-1].wait(60)
        result = producers[-1].result
        assert code == 0 and result is not None and result["drained"], (
            f"the producer did not drain its outbox (exit {code}, {result}):\n"
            + log.read_text(errors="replace")[-3000:]
        )

        journal = read_journal(data_dir / "events.jsonl")
        order = {e["event_id"]: i for i, e in enumerate(journal.events)}
        attempts = Counter(e["attempt_id"] for e in journal.events)
        assert not journal.damaged_lines, journal.damaged_lines
        assert len(order) == len(journal.events) == COUNT
        assert set(attempts) == {f"fault-{n}" for n in range(COUNT)}

        subscriber.wait_for(set(order), 15)
    finally:
        for p in producers:
            if p.process.poll() is None:
                p.kill()
        subscriber.close()
    elapsed = time.monotonic() - began

    with subscriber.lock:
        arrivals = list(subscriber.arrivals)
        dup_flagged = subscriber.dup_flagged
        bad = list(subscriber.bad_payloads)
        connects = list(subscriber.connects)
    counts = Counter(arrivals)
    lost = sorted(set(order) - set(counts), key=order.__getitem__)
    unknown = sorted(set(counts) - set(order))
    first_arrivals = list(dict.fromkeys(arrivals))
    runs = [p.result for p in producers if p.result is not None]
    report = {
        "events": COUNT,
        "kill": "between journal and outbox" if kill_in_window else "anywhere",
        "received": len(arrivals),
        "distinct": len(counts),
        "lost": len(lost),
        "duplicates": len(arrivals) - len(counts),
        "duplicates_dup_flag": dup_flagged,
        "events_received_twice_or_more": sum(1 for c in counts.values() if c > 1),
        "late_deliveries": late_deliveries([e for e in first_arrivals if e in order], order),
        "subscriber_connects": len(connects),
        "subscriber_session_resumed": connects[1:].count(True),
        "faults": actions,
        "producer_runs": [p.result for p in producers],
        # Events the SIGKILL left in the journal only, and what EventRecorder.recover() re-queued.
        "journal_only_at_restart": sum(len(r["tail_missing_from_outbox"]) for r in runs),
        "recovered_at_restart": sum(r["recovered"] for r in runs),
        "schema_validated": validate_event is not None,
        "elapsed_s": round(elapsed, 1),
    }
    for key, value in report.items():
        record_property(key, value)
    text = json.dumps(report, sort_keys=True)
    (tmp_path / "mqtt_fault_report.json").write_text(text + "\n")
    if os.environ.get("FACEGATE_FAULT_REPORT"):
        with open(os.environ["FACEGATE_FAULT_REPORT"], "a") as fh:
            fh.write(text + "\n")
    print(f"\nMQTT fault test: {text}")
    summary = (
        f"lost {report['lost']}, duplicates {report['duplicates']}, "
        f"late {report['late_deliveries']} (report: {text})"
    )

    assert not bad, f"{len(bad)} payloads failed validation, first: {bad[0]}; {summary}"
    assert not unknown, f"received event_ids not in the journal: {unknown[:5]}; {summary}"
    assert not lost, (
        f"{len(lost)} of {COUNT} events never reached the subscriber, first "
        f"{[journal.events[order[e]]['attempt_id'] for e in lost[:10]]}; {summary}\n"
        + broker.log_tail()
    )
    # Every reconnect after the first found the persistent session (the broker kept it).
    assert len(connects) >= 3 and all(connects[1:]), f"CONNACK session_present: {connects}"
    assert outbox_rows(data_dir / "outbox.sqlite3") == 0, f"outbox not empty; {summary}"
    assert report["recovered_at_restart"] == report["journal_only_at_restart"], summary
    if kill_in_window:
        assert report["journal_only_at_restart"] == 1, f"the kill missed the window; {summary}"
