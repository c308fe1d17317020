"""The MQTT benchmark's instruments: a subscriber that notes arrival times, the events it
sends, the door's journal with its emit times noted, and small helpers (no measurement here)."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.config.mqtt import MqttConfig
from facegate.errors import FacegateError
from facegate.events.access_event import AccessEvent
from facegate.events.journal import JournalSink
from facegate.mqtt.mqtt_link import MqttLink

WAIT_S = 10.0  # bounds a wait for one message; only a failure ever waits this long


class Receiver:
    """A QoS 1 subscriber that notes when each event id first arrived (perf_counter)."""

    def __init__(self, host: str, port: int, topics: list[str]) -> None:
        self.first: dict[str, float] = {}
        self.duplicates = 0
        self.last_new = 0.0
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._topics = topics
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"facegate-bench-sub-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        try:
            self.client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise FacegateError(f"cannot connect to the broker at {host}:{port}: {exc}") from None
        self.client.loop_start()
        if not self._subscribed.wait(WAIT_S):
            self.close()
            raise FacegateError(f"the bench's subscriber could not subscribe on {host}:{port}")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe([(topic, 1) for topic in self._topics])

    def _on_message(self, client, userdata, message) -> None:
        t = time.perf_counter()
        try:
            event_id = json.loads(message.payload)["event_id"]
        except (ValueError, KeyError, TypeError):
            return
        with self._cond:
            if event_id in self.first:
                self.duplicates += 1
            else:
                self.first[event_id] = t
                self.last_new = t
            self._cond.notify_all()

    def wait(self, done: Callable[[], bool], timeout: float) -> bool:
        with self._cond:
            return self._cond.wait_for(done, timeout)

    def wait_for_id(self, event_id: str, timeout: float = WAIT_S) -> float:
        if not self.wait(lambda: event_id in self.first, timeout):
            raise FacegateError(f"event {event_id} did not reach the subscriber in {timeout} s")
        return self.first[event_id]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- helpers --------------------------------------------------------------------------------------


def bench_event(i: int, device_id: str) -> dict:
    """An access event shaped like the door's (about 500 bytes of JSON)."""
    return AccessEvent(
        device_id,
        "B-204",
        f"att-{i:06d}",
        "denied",
        ("liveness_failed",),
        session_id="exam-2026-11-22-am",
        student_id="s1234567",
        scores={"distance": 0.512, "margin": 0.143, "quality": 0.81},
        liveness={"blinks": 0, "static_face": False, "frames": 63},
        latencies_ms={"liveness": 2104.2, "recognition": 151.7, "total": 2290.4},
    ).to_dict()


def stats(values: list[float]) -> dict:
    return {
        "p50": round(float(np.percentile(values, 50)), 2),
        "p95": round(float(np.percentile(values, 95)), 2),
        "max": round(float(max(values)), 2),
    }


def fsync_cost(directory: Path, rounds: int = 200) -> dict:
    """One short appended line + fsync, as the journal does: the disk's floor."""
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    line = b"x" * 400 + b"\n"
    times = []
    try:
        for _ in range(rounds):
            t0 = time.perf_counter()
            os.write(fd, line)
            os.fsync(fd)
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return stats(times)


class TimedJournal(JournalSink):
    """The real journal, with the time of each emit noted (the split of ``record()``)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.times_ms: list[float] = []

    def emit(self, event: dict) -> None:
        t0 = time.perf_counter()
        super().emit(event)
        self.times_ms.append((time.perf_counter() - t0) * 1000)


def bench_config(host: str, port: int, device_id: str) -> MqttConfig:
    return MqttConfig(
        enabled=True,
        host=host,
        port=port,
        topic_prefix=f"facegate-bench/{device_id}",
        ha_discovery=False,
        reconnect_min_s=1.0,
        reconnect_max_s=2.0,
    )


def start_link(link: MqttLink, where: str) -> None:
    link.start()
    if not link.wait_connected(WAIT_S):
        link.close(0)
        raise FacegateError(f"cannot connect to the broker at {where}: {link.last_error}")


def clear_retained(host: str, port: int, topics: list[str]) -> None:
    """Leave no retained ``status`` of the bench's doors behind on someone's broker."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    try:
        client.connect(host, port, keepalive=30)
        client.loop_start()
        for topic in topics:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(WAIT_S)
    except (OSError, RuntimeError, ValueError):
        pass
    finally:
        client.disconnect()
        client.loop_stop()
