"""The door over a real broker: Mosquitto with TLS, passwords and the ACL of the field.

Each test runs a :class:`DoorService` on gpiozero's mock pins in a thread (or ``facegate run``
in a subprocess, for the Last Will) against ``secure_broker`` as ``door-1``, and watches it
as ``admin`` (reads and commands everything) or ``proctor`` (reads only). The camera is an
empty room (:class:`BlankCamera`), so nothing but the broker and the pins makes things happen.

Every message seen on ``event/#``, ``cmd/result`` and ``health`` is checked against
device/facegate/schemas.
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from facegate.common.key_files import create_key_file, read_key_file
from facegate.config import Settings
from facegate.config.mqtt import MqttConfig, TlsConfig
from facegate.door import DoorListener, DoorService
from facegate.hardware.mock_pins import on_periods
from facegate.identity.gallery import open_configured_gallery
from facegate.identity.second_factor import SecondFactorStore
from facegate.mqtt.commands import sign_command
from facegate.mqtt.operator import send_command
from facegate.vision.pipeline import FacePipeline
from facegate.vision.sources.base import Frame
from tests import mosquitto_broker
from tests.event_schemas import validate_event
from tests.mosquitto_broker import SECURE_USERS, Broker

secure_broker = mosquitto_broker.secure_broker

DEVICE = "door-1"
PREFIX = f"facegate/{DEVICE}"
RELAY = 17
CONTACT = 16
EXIT_BUTTON = 5


# --- a camera that sees an empty room ------------------------------------------------------------


class BlankCamera:
    """A live camera (endless, monotonic time) that delivers a black 640x480 frame at 15 fps."""

    name = "blank-camera"
    live = True

    def __init__(self, fps: float = 15.0) -> None:
        self._period = 1.0 / fps
        self._image = np.zeros((480, 640, 3), np.uint8)
        self._index = 0
        self._next = 0.0

    def open(self) -> None:
        self._next = time.monotonic()

    def read(self) -> Frame:
        self._next += self._period
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._index += 1
        return Frame(self._image, time.monotonic(), self._index)

    def close(self) -> None:
        pass


# --- broker clients ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    retain: bool
    at: float

    def json(self) -> dict:
        return json.loads(self.payload)


class Client:
    """A user's MQTT 5 connection over TLS that records every message it is sent."""

    def __init__(self, broker: Broker, user: str, subscribe: Iterable[str] = ()) -> None:
        assert broker.tls is not None
        self.user = user
        self.messages: list[Message] = []
        self.puback: dict[int, object] = {}  # mid -> the broker's PUBACK reason code
        self._cond = threading.Condition()
        self._subacks: queue.Queue[int] = queue.Queue()
        connected: queue.Queue = queue.Queue()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{user}-{secrets.token_hex(4)}",
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(user, SECURE_USERS[user])
        client.tls_set(ca_certs=str(broker.tls.ca_file))
        client.on_connect = lambda c, u, flags, rc, props: connected.put(rc)
        client.on_subscribe = lambda c, u, mid, rcs, props: self._subacks.put(mid)
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.connect(broker.host, broker.port, keepalive=30)
        client.loop_start()
        self._client = client
        rc = connected.get(timeout=10)
        assert not rc.is_failure, f"{user} could not connect: {rc}"
        for topic in subscribe:
            self.subscribe(topic)

    def subscribe(self, topic: str) -> None:
        _, mid = self._client.subscribe(topic, qos=1)
        while self._subacks.get(timeout=10) != mid:
            pass

    def _on_message(self, client, userdata, message) -> None:
        item = Message(
            message.topic, bytes(message.payload), bool(message.retain), time.monotonic()
        )
        with self._cond:
            self.messages.append(item)
            self._cond.notify_all()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._cond:
            self.puback[mid] = reason_code
            self._cond.notify_all()

    def publish(
        self, topic: str, payload: bytes | str, *, qos: int = 1, retain: bool = False
    ) -> mqtt.MQTTMessageInfo:
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def on(self, topic: str) -> list[Message]:
        with self._cond:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(
        self, predicate: Callable[[Message], bool], timeout: float = 10.0, after: int = 0
    ) -> Message:
        """The first message (from index ``after``) that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self.messages[after:]:
                    if predicate(m):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = "\n".join(f"  {m.topic} {m.payload[:120]!r}" for m in self.messages)
                    raise AssertionError(
                        f"{self.user}: no such message within {timeout} s:\n{seen}"
                    )
                self._cond.wait(remaining)

    def mark(self) -> int:
        with self._cond:
            return len(self.messages)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def on_topic(topic: str, payload: bytes | str | None = None) -> Callable[[Message], bool]:
    want = payload.encode() if isinstance(payload, str) else payload
    return lambda m: m.topic == topic and (want is None or m.payload == want)


def retained_now(broker: Broker, topic: str, user: str = "proctor") -> Message:
    """What a subscriber that joins now is given on ``topic`` (its retained message)."""
    late = Client(broker, user, [topic])
    try:
        return late.wait_for(lambda m: m.topic == topic and m.retain, timeout=5)
    finally:
        late.close()


def validate_messages(*clients: Client, skip: Callable[[Message], bool] = lambda m: False) -> int:
    """Check every event, command result and health message against device/facegate/schemas."""
    checked = 0
    for client in clients:
        for m in list(client.messages):
            rest = m.topic.removeprefix(PREFIX + "/")
            if rest == m.topic or skip(m):
                continue
            if rest.startswith("event/") or rest in ("cmd/result", "health"):
                validate_event(m.json())
                checked += 1
    return checked


# --- the door ---------------------------------------------------------------------------------


@dataclass
class Setup:
    settings: Settings
    key: bytes | None
    admin: MqttConfig  # what an operator's ``facegate mqtt command`` connects with


def door_setup(
    tmp_path: Path,
    broker: Broker,
    pipeline: FacePipeline,
    *,
    password: str = SECURE_USERS[DEVICE],
    command_key: bool = True,
    hardware: dict | None = None,
    **mqtt_settings,
) -> Setup:
    """door-1's settings: an empty gallery, mock pins, MQTT over TLS with a password file."""
    assert broker.tls is not None
    data = tmp_path / "data"
    base = Settings()
    settings = Settings.model_validate(
        {
            **base.model_dump(),
            "device": {"id": DEVICE, "room": "r1"},
            "paths": {**base.paths.model_dump(), "data_dir": data, "key_file": None},
            "hardware": {
                **base.hardware.model_dump(),
                "pin_factory": "mock",
                "unlock_s": 1.0,
                **(hardware or {}),
            },
        }
    )
    emb = pipeline.embedder
    if not settings.paths.gallery_path().exists():
        with open_configured_gallery(settings.paths, emb.name, emb.dim, create=True):
            pass
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(exist_ok=True, mode=0o700)
    key_file = secrets_dir / "command.key"
    if not key_file.exists():
        create_key_file(key_file)
    door_pass = secrets_dir / "door.pass"
    door_pass.write_text(password + "\n")
    admin_pass = secrets_dir / "admin.pass"
    admin_pass.write_text(SECURE_USERS["admin"] + "\n")
    tls = {"ca_file": broker.tls.ca_file}
    config = {
        "enabled": True,
        "host": broker.host,
        "port": broker.port,
        "username": DEVICE,
        "password_file": door_pass,
        "tls": tls,
        "keepalive_s": 5,
        "reconnect_min_s": 1.0,
        "reconnect_max_s": 2.0,
        "command_key_file": key_file if command_key else None,
        # This bench has no NTP: commands would be refused until a synchronised clock
        # (test_commands_wait_for_a_synchronised_clock checks that refusal itself).
        "require_clock_sync": False,
        **mqtt_settings,
    }
    settings = settings.model_copy(update={"mqtt": MqttConfig.model_validate(config)})
    admin = MqttConfig(
        enabled=True,
        host=broker.host,
        port=broker.port,
        username="admin",
        password_file=admin_pass,
        tls=TlsConfig(ca_file=broker.tls.ca_file),
    )
    return Setup(settings, read_key_file(key_file), admin)


class Events(DoorListener):
    def __init__(self) -> None:
        self.events: list[dict] = []

    def on_event(self, event: dict) -> None:
        self.events.append(event)

    def alarms(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["type"] == "alarm" and e["kind"] == kind]


class Door:
    """A DoorService running in a thread until :meth:`stop`."""

    def __init__(self, settings: Settings, factory, pipeline: FacePipeline) -> None:
        self.listener = Events()
        self.service = DoorService(
            settings,
            source=BlankCamera,
            pipeline=pipeline,
            listener=self.listener,
            handle_signals=False,
            pin_factory=factory,
        )
        self.exit_code: int | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="door-service", daemon=True)

    def _run(self) -> None:
        try:
            self.exit_code = self.service.run()
        except BaseException as exc:  # reported by stop(), and by alive() in the meantime
            self.error = exc

    def start(self, watcher: Client | None = None, timeout: float = 15.0) -> Door:
        """Start; with a ``watcher``, return once the door's command subscription is active.

        The door subscribes to ``cmd/+`` and then publishes ``door/state``; the broker handles
        one connection's packets in order, so a live ``door/state`` means the subscription is in.
        """
        mark = watcher.mark() if watcher is not None else 0
        self.thread.start()
        deadline = time.monotonic() + timeout
        while self.service.frames == 0:
            assert self.alive(), "the door service ended during its start"
            assert time.monotonic() < deadline, "the door service did not start"
            time.sleep(0.02)
        if watcher is not None:
            state = f"{PREFIX}/door/state"
            watcher.wait_for(lambda m: m.topic == state and not m.retain, timeout, after=mark)
        return self

    def alive(self) -> bool:
        if self.error is not None:
            raise AssertionError(f"the door service crashed: {self.error!r}") from self.error
        return self.thread.is_alive()

    def stop(self, timeout: float = 20.0) -> int:
        assert self.alive(), "the door service ended before it was stopped"
        self.service.stop()
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the door service did not stop"
        if self.error is not None:
            raise AssertionError(f"the door service crashed: {self.error!r}") from self.error
        assert self.exit_code is not None
        return self.exit_code


@pytest.fixture
def clients():
    opened: list[Client] = []

    def connect(broker: Broker, user: str, subscribe: Iterable[str] = ()) -> Client:
        client = Client(broker, user, subscribe)
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.close()


@pytest.fixture
def doors():
    """Doors a test started; any still running at the end are stopped."""
    started: list[Door] = []

    def make(settings: Settings, factory, pipeline: FacePipeline) -> Door:
        door = Door(settings, factory, pipeline)
        started.append(door)
        return door

    yield make
    for door in started:
        if door.thread.is_alive():
            door.service.stop()
            door.thread.join(20)


# --- status and the Last Will ------------------------------------------------------------------


def test_status_is_online_while_running_and_offline_after_a_clean_stop(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    setup = door_setup(tmp_path, secure_broker, pipeline)
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    status = retained_now(secure_broker, f"{PREFIX}/status")
    assert status.payload == b"online"
    assert door.stop() == 0
    admin.wait_for(on_topic(f"{PREFIX}/status", "offline"))
    assert retained_now(secure_broker, f"{PREFIX}/status").payload == b"offline"
    validate_messages(admin)


def write_door_config(tmp_path: Path, setup: Setup) -> Path:
    """A TOML config for ``facegate run``: mock pins, and a camera that is not plugged in.

    The camera's file does not exist, so the capture thread retries for ever (and raises a
    camera_error alarm after dead_after_s) while the door stays up: an endless run with no
    camera and no frames to process.
    """
    s = setup.settings
    m = s.mqtt
    assert m.tls is not None and m.tls.ca_file is not None
    text = f"""
[device]
id = "{DEVICE}"
room = "r1"

[paths]
data_dir = "{s.paths.data_dir}"

[hardware]
pin_factory = "mock"

[camera]
kind = "opencv"
device = "{tmp_path / "unplugged-camera.mp4"}"
dead_after_s = 60

[mqtt]
enabled = true
host = "{m.host}"
port = {m.port}
username = "{m.username}"
password_file = "{m.password_file}"
keepalive_s = 5
command_key_file = "{m.command_key_file}"
require_clock_sync = false

[mqtt.tls]
ca_file = "{m.tls.ca_file}"
"""
    config = tmp_path / "facegate.toml"
    config.write_text(text)
    return config


def start_door_process(tmp_path: Path, setup: Setup, watcher: Client) -> subprocess.Popen:
    config = write_door_config(tmp_path, setup)
    log = (tmp_path / "door.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "facegate", "--config", str(config), "run"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        watcher.wait_for(on_topic(f"{PREFIX}/status", "online"), timeout=30)
    except AssertionError:
        process.kill()
        process.wait(5)
        raise AssertionError((tmp_path / "door.log").read_text(errors="replace")) from None
    return process


def test_a_killed_door_is_declared_offline_by_its_last_will(
    tmp_path, secure_broker, pipeline, clients
):
    """SIGKILL: the kernel closes the socket, and Mosquitto sends the will at once."""
    setup = door_setup(tmp_path, secure_broker, pipeline)
    proctor = clients(secure_broker, "proctor", [f"{PREFIX}/status"])
    process = start_door_process(tmp_path, setup, proctor)
    mark = proctor.mark()
    killed = time.monotonic()
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    offline = proctor.wait_for(on_topic(f"{PREFIX}/status", "offline"), timeout=10, after=mark)
    delay = offline.at - killed
    print(f"Last Will after SIGKILL: {delay:.3f} s")
    assert delay < 2.0  # not 1.5 keepalives (7.5 s): the closed socket is noticed at once
    assert retained_now(secure_broker, f"{PREFIX}/status").payload == b"offline"


def test_a_hung_door_is_declared_offline_after_one_and_a_half_keepalives(
    tmp_path, secure_broker, pipeline, clients
):
    """SIGSTOP: the socket stays open and silent; the broker waits 1.5 x keepalive (5 s)."""
    setup = door_setup(tmp_path, secure_broker, pipeline)
    proctor = clients(secure_broker, "proctor", [f"{PREFIX}/status"])
    process = start_door_process(tmp_path, setup, proctor)
    mark = proctor.mark()
    try:
        stopped = time.monotonic()
        os.kill(process.pid, signal.SIGSTOP)
        offline = proctor.wait_for(on_topic(f"{PREFIX}/status", "offline"), timeout=15, after=mark)
    finally:
        process.kill()
        process.wait(10)
    delay = offline.at - stopped
    print(f"Last Will after SIGSTOP with keepalive 5 s: {delay:.3f} s")
    # 1.5 x 5 s after the door's last packet, nominally; Mosquitto 2.0.11 was seen to take up
    # to 9 s, and the door's last packet (its connect) came just before the SIGSTOP here.
    assert 2.5 <= delay <= 12.0
    assert retained_now(secure_broker, f"{PREFIX}/status").payload == b"offline"


# --- commands ---------------------------------------------------------------------------------


def test_door_state_and_a_signed_remote_unlock(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    setup = door_setup(tmp_path, secure_broker, pipeline)
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    state = f"{PREFIX}/door/state"
    assert retained_now(secure_broker, state).payload == b"LOCKED"
    mark = admin.mark()
    assert setup.key is not None
    answer = send_command(setup.admin, DEVICE, setup.key, "unlock", {"seconds": 1.5}, timeout=5)
    assert answer["accepted"] is True and answer["reason"] == "ok", answer
    assert answer["detail"] == "unlocked for 1.5 s"
    admin.wait_for(on_topic(state, "UNLOCKED"), after=mark)
    locked = admin.wait_for(on_topic(state, "LOCKED"), timeout=5, after=mark)
    states = [m.payload for m in admin.on(state)[-2:]]
    assert states == [b"UNLOCKED", b"LOCKED"]
    assert locked.at > admin.wait_for(on_topic(state, "UNLOCKED"), after=mark).at
    alarm = admin.wait_for(on_topic(f"{PREFIX}/event/alarm"), after=mark).json()
    assert alarm["kind"] == "remote_command"
    # a version 1 body (send_command without an operator): the audit says operator null
    assert alarm["detail"] == {
        "cmd": "unlock",
        "nonce": answer["nonce"],
        "operator": None,
        "seconds": 1.5,
    }
    assert door.stop() == 0
    ((_, held),) = on_periods(factory, RELAY)
    assert held == pytest.approx(1.5, abs=0.3)
    assert validate_messages(admin) == 2  # the answer and the remote_command alarm


def test_commands_wait_for_a_synchronised_clock(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    """With mqtt.require_clock_sync (the default), a correctly signed command is refused as
    clock_unsynchronised until the kernel reports the clock synchronised; health says which.
    The kernel is asked for real: on a machine whose clock is synchronised the command goes
    through, on one without NTP (this bench, a Pi before its first sync) it is refused."""
    from facegate.service.clock import kernel_clock_synchronised

    setup = door_setup(
        tmp_path, secure_broker, pipeline, require_clock_sync=True, health_interval_s=1.0
    )
    assert setup.key is not None
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    synced = kernel_clock_synchronised()
    answer = send_command(setup.admin, DEVICE, setup.key, "unlock", {"seconds": 1.0}, timeout=5)
    health = admin.wait_for(on_topic(f"{PREFIX}/health"), timeout=10).json()
    assert door.stop() == 0
    assert health["clock_synchronised"] is synced
    if synced:
        assert answer["accepted"] is True
    else:
        assert (answer["accepted"], answer["reason"]) == (False, "clock_unsynchronised")
        assert on_periods(factory, RELAY) == []


def test_lockdown_refuses_unlocks_and_survives_a_restart(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    setup = door_setup(tmp_path, secure_broker, pipeline, health_interval_s=1.0)
    assert setup.key is not None
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])

    def command(name: str, args: dict | None = None) -> dict:
        return send_command(setup.admin, DEVICE, setup.key, name, args, timeout=5)

    door = doors(setup.settings, factory, pipeline).start(admin)
    answer = command("lockdown", {"on": True})
    assert (answer["accepted"], answer["reason"], answer["detail"]) == (True, "ok", "lockdown on")
    refused = command("unlock")
    assert (refused["accepted"], refused["reason"]) == (False, "failed")
    assert "lockdown" in refused["detail"]
    assert door.stop() == 0

    mark = admin.mark()
    again = doors(setup.settings, factory, pipeline).start(admin)
    assert again.service.lockdown.on is True
    health = f"{PREFIX}/health"
    assert admin.wait_for(on_topic(health), timeout=5, after=mark).json()["lockdown"] is True
    assert command("unlock")["reason"] == "failed"
    lifted = command("lockdown", {"on": False})
    assert (lifted["accepted"], lifted["detail"]) == (True, "lockdown off")
    assert again.service.lockdown.on is False
    mark = admin.mark()
    assert admin.wait_for(on_topic(health), timeout=5, after=mark).json()["lockdown"] is False
    assert again.stop() == 0
    assert on_periods(factory, RELAY) == []
    assert validate_messages(admin) >= 5


def test_an_override_code_reaches_only_the_key_holder_and_works_once(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    setup = door_setup(tmp_path, secure_broker, pipeline)
    assert setup.key is not None
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    proctor = clients(secure_broker, "proctor", [f"{PREFIX}/cmd/result"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    answer = send_command(
        setup.admin, DEVICE, setup.key, "override", {"student_id": "stu-42", "valid_s": 600}
    )
    assert answer["accepted"] is True, answer
    code = answer["result"]["code"]
    assert re.fullmatch(r"[0-9]{6}", code)
    assert answer["result"]["student_id"] == "stu-42"
    seen = proctor.wait_for(lambda m: m.json().get("nonce") == answer["nonce"])
    assert code.encode() not in seen.payload
    assert "code" not in seen.json()["result"]
    alarm = admin.wait_for(on_topic(f"{PREFIX}/event/alarm"))
    assert alarm.json()["detail"]["student_id"] == "stu-42"
    assert code.encode() not in alarm.payload
    assert door.stop() == 0
    paths = setup.settings.paths
    with SecondFactorStore.open(paths.second_factor_path(), paths.resolved_key_file()) as store:
        first = store.verify("stu-42", code, time.time())
        assert first.accepted and first.override_used
        assert not store.verify("stu-42", code, time.time() + 1).accepted
    assert on_periods(factory, RELAY) == []
    validate_messages(admin, proctor)


def test_reload_is_accepted(tmp_path, secure_broker, pipeline, factory, clients, doors):
    setup = door_setup(tmp_path, secure_broker, pipeline)
    assert setup.key is not None
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    answer = send_command(setup.admin, DEVICE, setup.key, "reload", timeout=5)
    # The gallery loads in a thread (the loop keeps serving the camera): the answer says so.
    expected = (True, "ok", "roster reloaded, gallery loading")
    assert (answer["accepted"], answer["reason"], answer["detail"]) == expected
    alarm = admin.wait_for(on_topic(f"{PREFIX}/event/alarm")).json()
    assert alarm["kind"] == "remote_command" and alarm["detail"]["what"] == "all"
    assert door.stop() == 0
    validate_messages(admin)


def test_health_is_published(tmp_path, secure_broker, pipeline, factory, clients, doors):
    setup = door_setup(tmp_path, secure_broker, pipeline, health_interval_s=1.0)
    admin = clients(secure_broker, "admin", [f"{PREFIX}/health"])
    door = doors(setup.settings, factory, pipeline).start()
    first = admin.wait_for(on_topic(f"{PREFIX}/health"), timeout=5)
    second = admin.wait_for(on_topic(f"{PREFIX}/health"), timeout=5, after=admin.mark())
    assert 0.5 < second.at - first.at < 2.0
    health = second.json()
    assert health["device_id"] == DEVICE and health["mqtt_connected"] is True
    assert isinstance(health["outbox_depth"], int) and health["outbox_depth"] >= 0
    assert health["lockdown"] is False and health["last_error"] is None
    assert health["fps"] > 5  # the blank camera runs at 15 fps
    assert door.stop() == 0
    assert validate_messages(admin) >= 2


def test_home_assistant_discovery(tmp_path, secure_broker, pipeline, factory, clients, doors):
    setup = door_setup(tmp_path, secure_broker, pipeline)
    admin = clients(secure_broker, "admin", [f"{PREFIX}/door/state"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    proctor = clients(secure_broker, "proctor", ["homeassistant/#"])
    node = "facegate_door-1"
    expected = {
        f"homeassistant/binary_sensor/{node}/lock/config",
        f"homeassistant/binary_sensor/{node}/door/config",
        f"homeassistant/binary_sensor/{node}/online/config",
        f"homeassistant/sensor/{node}/last_decision/config",
        f"homeassistant/sensor/{node}/outbox_depth/config",
        f"homeassistant/event/{node}/access/config",
    }
    deadline = time.monotonic() + 5
    while {m.topic for m in proctor.messages} < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    configs = {m.topic: m for m in proctor.messages}
    assert set(configs) == expected
    for topic, message in configs.items():
        assert message.retain, topic
        config = message.json()
        assert config["availability_topic"] == f"{PREFIX}/status", topic
        assert config["unique_id"].startswith(node)
    lock = configs[f"homeassistant/binary_sensor/{node}/lock/config"].json()
    assert lock["state_topic"] == f"{PREFIX}/door/state" and lock["device_class"] == "lock"
    depth = configs[f"homeassistant/sensor/{node}/outbox_depth/config"].json()
    assert depth["state_topic"] == f"{PREFIX}/health"
    # Access decisions as an HA event entity; HA 2026.4 reads default_entity_id, not object_id.
    access = configs[f"homeassistant/event/{node}/access/config"].json()
    assert access["state_topic"] == f"{PREFIX}/event/access"
    assert "granted" in access["event_types"] and "object_id" not in access
    assert access["default_entity_id"].startswith("event.")
    assert access["origin"]["name"] == "facegate"
    assert door.stop() == 0


def test_a_proctor_cannot_command_the_door_even_with_a_valid_signature(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    """The ACL is the first check: the proctor's signed unlock never reaches the door."""
    setup = door_setup(tmp_path, secure_broker, pipeline)
    assert setup.key is not None
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    proctor = clients(secure_broker, "proctor", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    nonce = secrets.token_hex(16)
    payload = sign_command(setup.key, DEVICE, "unlock", ts=int(time.time()), nonce=nonce)
    info = proctor.publish(f"{PREFIX}/cmd/unlock", payload)
    info.wait_for_publish(5)
    refusal = proctor.puback[info.mid]
    # The proctor does not even see its own message: the broker dropped it.
    time.sleep(2.0)
    assert not [m for m in admin.messages if m.topic.startswith(f"{PREFIX}/cmd/unlock")]
    assert not [m for m in admin.messages if nonce.encode() in m.payload]
    assert door.service.mqtt is not None
    # The door is up and answering: the admin's own command gets its answer.
    answer = send_command(setup.admin, DEVICE, setup.key, "reload", {"what": "roster"}, timeout=5)
    assert answer["accepted"] is True
    assert door.stop() == 0
    assert on_periods(factory, RELAY) == []
    assert str(refusal) == "Not authorized"
    validate_messages(admin, proctor)


def test_a_door_with_a_wrong_broker_password_still_works_locally(
    tmp_path, secure_broker, pipeline, factory, doors
):
    setup = door_setup(
        tmp_path,
        secure_broker,
        pipeline,
        password="not-the-door-pass",
        hardware={"door_contact_pin": CONTACT, "exit_button_pin": EXIT_BUTTON},
    )
    door = doors(setup.settings, factory, pipeline).start()
    mqtt_side = door.service.mqtt
    assert mqtt_side is not None
    deadline = time.monotonic() + 5
    while mqtt_side.link.last_error is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not mqtt_side.link.connected
    assert "refused" in str(mqtt_side.link.last_error), mqtt_side.link.last_error
    # The door forced open: an alarm, kept in the outbox for when the broker lets the door in.
    contact = factory.pin(CONTACT)
    contact.drive_low()  # shut
    time.sleep(0.1)
    contact.drive_high()  # opened with no grant
    deadline = time.monotonic() + 5
    while not door.listener.alarms("door_forced") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert door.listener.alarms("door_forced")
    pending = mqtt_side.outbox.pending()
    assert [item.topic for item in pending] == [f"{PREFIX}/event/alarm"]
    contact.drive_low()
    # The request-to-exit button still opens the door.
    button = factory.pin(EXIT_BUTTON)
    button.drive_low()
    time.sleep(0.1)
    button.drive_high()
    deadline = time.monotonic() + 5
    while not [p for p in on_periods(factory, RELAY) if p[1]] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert door.alive()
    assert door.stop() == 0
    ((_, held),) = on_periods(factory, RELAY)
    assert held == pytest.approx(1.0, abs=0.3)
    assert mqtt_side.outbox.path.exists()
    # What the health message would say (it is not sent while the broker refuses the door).
    assert door.service.desk.recorder.last_error is None
    assert "refused" in str(mqtt_side.link.last_error)


def test_a_door_without_a_command_key_refuses_every_command(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    setup = door_setup(tmp_path, secure_broker, pipeline, command_key=False)
    assert setup.key is not None  # the operator has a key; the door was given none
    admin = clients(secure_broker, "admin", [f"{PREFIX}/#"])
    door = doors(setup.settings, factory, pipeline).start(admin)
    # Published by hand: `facegate mqtt command` waits for an answer carrying its nonce, and
    # a refusal before the signature check carries none (see the report on operator.py).
    for name, args in [
        ("unlock", {"seconds": 2}),
        ("lockdown", {"on": True}),
        ("reload", None),
        ("override", {"student_id": "stu-42"}),
    ]:
        mark = admin.mark()
        payload = sign_command(setup.key, DEVICE, name, args, ts=int(time.time()))
        admin.publish(f"{PREFIX}/cmd/{name}", payload).wait_for_publish(5)
        answer = admin.wait_for(on_topic(f"{PREFIX}/cmd/result"), timeout=5, after=mark).json()
        assert (answer["cmd"], answer["accepted"], answer["reason"]) == (name, False, "unsigned")
        assert "commands are off" in answer["detail"]
    assert door.stop() == 0
    assert on_periods(factory, RELAY) == []
    rejected = door.listener.alarms("command_rejected")
    assert [a["detail"]["reason"] for a in rejected] == ["unsigned"] * 4
    assert validate_messages(admin) >= 4


def test_the_operator_cli_signs_commands_and_prints_the_answers(
    tmp_path, secure_broker, pipeline, factory, clients, doors
):
    """`facegate mqtt command ...` with an operator's own config (admin user, TLS, the key)."""
    from click.testing import CliRunner

    from facegate.cli import cli

    setup = door_setup(tmp_path, secure_broker, pipeline)
    m, a = setup.settings.mqtt, setup.admin
    assert a.tls is not None
    operator = tmp_path / "operator.toml"
    operator.write_text(
        f'[device]\nid = "{DEVICE}"\n\n[mqtt]\nhost = "{a.host}"\nport = {a.port}\n'
        f'username = "admin"\npassword_file = "{a.password_file}"\n'
        f'command_key_file = "{m.command_key_file}"\n\n[mqtt.tls]\nca_file = "{a.tls.ca_file}"\n'
    )
    door = doors(setup.settings, factory, pipeline).start()

    def run(*args: str):
        return CliRunner().invoke(cli, ["--config", str(operator), "mqtt", "command", *args])

    on = run("lockdown", "on", "--operator", "Ada Proctor")
    assert on.exit_code == 0 and "lockdown accepted: lockdown on" in on.output, on.output
    audit = door.listener.alarms("remote_command")
    assert [a["detail"]["operator"] for a in audit] == ["Ada Proctor"]
    refused = run("unlock", "--seconds", "2")
    assert refused.exit_code == 1 and "REFUSED (failed)" in refused.output
    assert run("lockdown", "off").exit_code == 0
    override = run("override", "stu-7", "--valid-s", "600")
    assert override.exit_code == 0, override.output
    assert re.search(r"one-time override code for stu-7: \d{6} \(valid until ", override.output)
    bad = run("lockdown", "maybe")
    assert bad.exit_code == 2 and "lockdown needs on or off" in bad.output
    answer = run("reload", "roster", "--json")
    assert answer.exit_code == 0, answer.output
    parsed = json.loads(answer.stdout)
    assert parsed["accepted"] is True and parsed["device_id"] == DEVICE
    assert parsed["cmd"] == "reload"
    operators = [a["detail"]["operator"] for a in door.listener.alarms("remote_command")]
    assert operators[0] == "Ada Proctor" and all(operators[1:]), operators  # the local user
    assert door.stop() == 0
    assert on_periods(factory, setup.settings.hardware.relay_pin) == []
