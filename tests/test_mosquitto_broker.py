"""The real-Mosquitto helper: TLS, passwords, ACLs, restarts and persistent sessions work.

Every test starts its own broker process (tests/mosquitto_broker.py); nothing is mocked.
"""

from __future__ import annotations

import queue
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from tests import mosquitto_broker
from tests.mosquitto_broker import SECURE_USERS, Broker, TestPKI, make_pki

# pytest takes fixtures from a module's globals. Bound by assignment rather than imported by
# name, ruff does not see the test parameters of the same name as redefinitions (F811).
broker = mosquitto_broker.broker
secure_broker = mosquitto_broker.secure_broker

pytestmark = pytest.mark.timeout(30)

WAIT = 5.0  # seconds; every wait is on an event, this only bounds a failure


class Peer:
    """A paho-mqtt 2 client on its own network thread, with events to wait on (no sleeps)."""

    def __init__(
        self,
        server: Broker,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca: Path | None = None,
        cert: tuple[Path, Path] | None = None,
        protocol: mqtt.MQTTProtocolVersion = mqtt.MQTTv311,
        clean: bool = True,
    ) -> None:
        self.server = server
        self.protocol = protocol
        self.clean = clean
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=protocol,
            clean_session=clean if protocol != mqtt.MQTTv5 else None,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if ca is not None or cert is not None:
            certfile, keyfile = cert if cert else (None, None)
            self.client.tls_set(
                ca_certs=str(ca) if ca else None,
                certfile=str(certfile) if certfile else None,
                keyfile=str(keyfile) if keyfile else None,
            )
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connack: ReasonCode | None = None
        self.session_present = False
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._acks: dict[int, list[ReasonCode]] = {}
        self._ack_events: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_subscribe = self._on_ack
        self.client.on_publish = self._on_publish

    # callbacks (network thread)

    def _on_connect(self, _c: Any, _u: Any, flags: Any, reason: ReasonCode, _p: Any) -> None:
        self.connack = reason
        self.session_present = bool(flags.session_present)
        self._connected.set()

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, _r: ReasonCode, _p: Any) -> None:
        self._disconnected.set()

    def _event(self, mid: int) -> threading.Event:
        with self._lock:
            return self._ack_events.setdefault(mid, threading.Event())

    def _on_ack(self, _c: Any, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        self._acks[mid] = list(reasons)
        self._event(mid).set()

    def _on_publish(self, _c: Any, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self._on_ack(_c, _u, mid, [reason], _p)

    # actions (test thread)

    def connect(self) -> ReasonCode:
        """Connect and wait for the CONNACK; only an accepted client gets a network thread.

        Until then the test thread drives the loop, so a refused client is not retried in the
        background and a connection dropped before any CONNACK raises ConnectionError.
        """
        self._connected.clear()
        self._disconnected.clear()
        self.connack = None
        options: dict[str, Any] = {}
        if self.protocol == mqtt.MQTTv5:
            options["clean_start"] = self.clean
            options["properties"] = Properties(PacketTypes.CONNECT)
            if not self.clean:
                options["properties"].SessionExpiryInterval = 300  # keep the session while away
        self.client.connect(self.server.host, self.server.port, keepalive=30, **options)
        deadline = time.monotonic() + WAIT
        while not self._connected.is_set():
            rc = self.client.loop(timeout=0.05)
            if rc != mqtt.MQTT_ERR_SUCCESS and not self._connected.is_set():
                raise ConnectionError(f"connection lost before CONNACK: {mqtt.error_string(rc)}")
            if time.monotonic() > deadline:
                pytest.fail(f"no CONNACK\n{self.server.log_tail()}")
        assert self.connack is not None
        if self.connack.is_failure:
            self.client.disconnect()
            self.client.loop(timeout=0.05)  # sees the broker's close and closes the socket
        else:
            self.client.loop_start()
        return self.connack

    def subscribe(self, topic: str, qos: int = 1) -> list[ReasonCode]:
        """Subscribe and return the SUBACK's reason codes (granted QoS or a refusal)."""
        result, mid = self.client.subscribe(topic, qos)
        assert result == mqtt.MQTT_ERR_SUCCESS
        assert self._event(mid).wait(WAIT), f"no SUBACK for {topic}"
        return self._acks[mid]

    def publish(self, topic: str, payload: bytes | str, qos: int = 1) -> ReasonCode:
        """Publish and wait for the PUBACK; MQTT 5 carries the broker's verdict in it."""
        info = self.client.publish(topic, payload, qos)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS
        assert self._event(info.mid).wait(WAIT), f"no PUBACK for {topic}"
        return self._acks[info.mid][0]

    def publish_many(self, topic: str, payloads: list[bytes], qos: int = 1) -> None:
        """Pipeline many publishes and wait until every one is acknowledged."""
        infos = [self.client.publish(topic, p, qos) for p in payloads]
        for info in infos:
            info.wait_for_publish(WAIT)
            assert info.is_published()

    def receive(self, count: int = 1, timeout: float = WAIT) -> list[mqtt.MQTTMessage]:
        got = []
        for _ in range(count):
            try:
                got.append(self.messages.get(timeout=timeout))
            except queue.Empty:
                pytest.fail(f"got {len(got)} of {count} messages\n{self.server.log_tail()}")
        return got

    def disconnect(self) -> None:
        """A clean DISCONNECT, then wait until the network thread has seen it."""
        if self.client.is_connected():
            self.client.disconnect()
            self._disconnected.wait(WAIT)
        self.client.loop_stop()


@pytest.fixture
def peers() -> Any:
    """Make Peers and disconnect them all at the end, whatever the test did."""
    made: list[Peer] = []

    def make(*args: Any, **kwargs: Any) -> Peer:
        peer = Peer(*args, **kwargs)
        made.append(peer)
        return peer

    yield make
    for peer in made:
        peer.disconnect()


def login(server: Broker, user: str, client_id: str | None = None, **kwargs: Any) -> dict:
    """Keyword arguments for a Peer with `user`'s password over TLS trusting the test CA."""
    assert server.tls is not None
    return {
        "client_id": client_id or f"{user}-client",
        "username": user,
        "password": SECURE_USERS[user],
        "ca": server.tls.ca_file,
        **kwargs,
    }


# --- plain broker ------------------------------------------------------------------------------


def test_qos1_round_trip(broker: Broker, peers: Any) -> None:
    sub = peers(broker, "sub")
    pub = peers(broker, "pub")
    assert sub.connect() == "Success"
    assert pub.connect() == "Success"
    assert [rc.value for rc in sub.subscribe("facegate/door-1/events")] == [1]

    assert pub.publish("facegate/door-1/events", b"granted alice") == "Success"

    [msg] = sub.receive()
    assert (msg.topic, msg.payload, msg.qos) == ("facegate/door-1/events", b"granted alice", 1)
    assert broker.running and broker.url == f"127.0.0.1:{broker.port}"


# --- TLS, passwords and the ACL ----------------------------------------------------------------


def test_door_connects_over_tls_and_the_acl_holds(secure_broker: Broker, peers: Any) -> None:
    door = peers(secure_broker, **login(secure_broker, "door-1", protocol=mqtt.MQTTv5))
    admin = peers(secure_broker, **login(secure_broker, "admin"))
    proctor = peers(secure_broker, **login(secure_broker, "proctor"))
    for peer in (door, admin, proctor):
        assert peer.connect() == "Success"
    assert door.client.socket().version() in ("TLSv1.2", "TLSv1.3")

    # The door takes commands addressed to it.
    assert [rc.value for rc in door.subscribe("facegate/door-1/cmd/#")] == [1]
    assert admin.publish("facegate/door-1/cmd/unlock", b"5") == "Success"
    [cmd] = door.receive()
    assert (cmd.topic, cmd.payload) == ("facegate/door-1/cmd/unlock", b"5")

    # Its events and Home Assistant state reach the proctor's dashboard.
    assert proctor.subscribe("facegate/#")[0].value == 1
    assert proctor.subscribe("homeassistant/#")[0].value == 1
    assert door.publish("facegate/door-1/events", b"granted") == "Success"
    own = "homeassistant/binary_sensor/facegate_door-1/lock/config"
    assert door.publish(own, b"{}") == "Success"
    got = {(m.topic, m.payload) for m in proctor.receive(2)}
    assert got == {("facegate/door-1/events", b"granted"), (own, b"{}")}

    # It may neither speak for another door nor read Home Assistant's tree.
    assert door.publish("facegate/door-2/cmd/unlock", b"5") == "Not authorized"
    other = "homeassistant/binary_sensor/facegate_door-2/lock/config"
    assert door.publish(other, b"{}") == "Not authorized"
    # Mosquitto grants the subscription but delivers only what the ACL lets the door read:
    # of two messages it sends in order, only the second comes back to it.
    door.subscribe("homeassistant/#")
    door.subscribe("facegate/door-1/echo")
    assert door.publish(own, b"{}") == "Success"
    assert door.publish("facegate/door-1/echo", b"marker") == "Success"
    [echo] = door.receive()
    assert echo.topic == "facegate/door-1/echo"
    assert door.messages.empty()


def test_wrong_password_is_refused(secure_broker: Broker, peers: Any) -> None:
    intruder = peers(
        secure_broker,
        **login(secure_broker, "door-1", client_id="intruder", password="guess"),
    )
    reason = intruder.connect()
    assert reason.is_failure
    assert reason == "Not authorized"  # CONNACK return code 5 under MQTT 3.1.1


def test_client_that_does_not_trust_the_ca_fails_the_handshake(
    secure_broker: Broker, tmp_path: Path
) -> None:
    other = make_pki(tmp_path / "other-pki")  # a CA the broker's cert is not signed by
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="stranger")
    client.username_pw_set("door-1", SECURE_USERS["door-1"])
    client.tls_set(ca_certs=str(other.ca_file))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect(secure_broker.host, secure_broker.port)
    assert secure_broker.running


def test_required_client_cert(tmp_path: Path, peers: Any) -> None:
    pki: TestPKI = make_pki(tmp_path / "pki")
    with Broker(
        tmp_path / "broker", users=SECURE_USERS, tls=pki, require_client_cert=True
    ) as server:
        door = peers(server, **login(server, "door-1", cert=(pki.client_cert, pki.client_key)))
        assert door.connect() == "Success"

        bare = peers(server, **login(server, "door-1", client_id="no-cert"))
        # TLS 1.2 fails in the handshake; TLS 1.3 reports the missing cert on the first read.
        with pytest.raises((ssl.SSLError, ConnectionError)):
            bare.connect()
        assert "peer did not return a certificate" in server.log_tail()
        door.disconnect()  # before the broker goes, or paho waits to reconnect


def test_proctor_cannot_unlock_a_door(secure_broker: Broker, peers: Any) -> None:
    admin = peers(secure_broker, **login(secure_broker, "admin"))
    proctor = peers(secure_broker, **login(secure_broker, "proctor", protocol=mqtt.MQTTv5))
    assert admin.connect() == "Success"
    assert proctor.connect() == "Success"
    assert admin.subscribe("facegate/door-1/cmd/#")[0].value == 1

    # The broker answers the PUBACK only after applying the ACL, so once it arrives the
    # message is either queued for admin or dropped; the marker then settles which.
    assert proctor.publish("facegate/door-1/cmd/unlock", b"5") == "Not authorized"
    assert admin.publish("facegate/door-1/cmd/marker", b"after") == "Success"

    [first] = admin.receive()
    assert first.topic == "facegate/door-1/cmd/marker"
    assert admin.messages.empty()


# --- restarts and persistent sessions ----------------------------------------------------------

N_QUEUED = 2000


def payloads(n: int, tag: str) -> list[bytes]:
    return [f"{tag}-{i}".encode() for i in range(n)]


def test_stop_start_keeps_the_port(broker: Broker) -> None:
    port, pid = broker.port, broker.pid
    broker.stop()
    assert not broker.running
    broker.start()
    assert broker.running and broker.port == port and broker.pid != pid
    broker.kill()
    assert not broker.running
    broker.restart()
    assert broker.running and broker.port == port


def test_persistent_session_gets_what_was_published_while_away(broker: Broker, peers: Any) -> None:
    sub = peers(broker, "dashboard", clean=False)
    assert sub.connect() == "Success"
    assert sub.subscribe("facegate/door-1/events")[0].value == 1
    sub.disconnect()

    pub = peers(broker, "door-1")
    assert pub.connect() == "Success"
    sent = payloads(N_QUEUED, "away")
    pub.publish_many("facegate/door-1/events", sent)

    assert sub.connect() == "Success"
    assert sub.session_present
    assert [m.payload for m in sub.receive(N_QUEUED)] == sent


@pytest.mark.parametrize("protocol", [mqtt.MQTTv311, mqtt.MQTTv5], ids=["mqtt311", "mqtt5"])
def test_persistent_session_survives_a_broker_restart(
    broker: Broker, peers: Any, protocol: mqtt.MQTTProtocolVersion
) -> None:
    sub = peers(broker, "dashboard", clean=False, protocol=protocol)
    assert sub.connect() == "Success"
    assert sub.subscribe("facegate/door-1/events")[0].value == 1
    sub.disconnect()

    pub = peers(broker, "door-1")
    assert pub.connect() == "Success"
    sent = payloads(N_QUEUED, "before-restart")
    pub.publish_many("facegate/door-1/events", sent)
    pub.disconnect()

    port = broker.port
    broker.stop()  # SIGTERM: mosquitto writes the session and its queue to the db
    assert (broker.directory / "db" / "mosquitto.db").stat().st_size > 0
    broker.start()
    assert broker.port == port

    assert sub.connect() == "Success"
    assert sub.session_present
    assert [m.payload for m in sub.receive(N_QUEUED)] == sent
