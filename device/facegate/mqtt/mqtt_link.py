"""The door's MQTT connection: paho-mqtt 2 at the edge, the outbox behind it.

paho's network thread connects, reconnects with back-off and calls back; a pump thread moves
outbox rows to paho in order while connected and deletes each row when its PUBACK arrives (in
batches, one transaction per batch). paho itself resends QoS 1 messages that were in flight
when a connection dropped, and a restarted process starts again from the outbox's oldest row,
so nothing committed is lost; a subscriber sees at most a few duplicates, same ``event_id``.

Unlike the outbox, health messages are QoS 0 and dropped while disconnected; retained state
(``status``, ``door/state``, ``last_decision``, discovery) is re-published on every connect.
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facegate.config.mqtt import MqttConfig
from facegate.events.outbox import Outbox
from facegate.mqtt.topics import Topics

log = logging.getLogger("facegate.mqtt")

# CONNACK codes a broker gives a protocol version it does not speak (3.1.1: 1; 5: 0x84).
_UNSUPPORTED_VERSION = {1, 0x84}

# After a reconnect, new rows wait at most this long for the resent ones' acknowledgements.
HOLD_AFTER_RECONNECT_S = 10.0


def wants_fallback(setting: str, protocol: int, connack: int) -> bool:
    """Should an ``auto`` client retry with MQTT 3.1.1 after this refused CONNACK?"""
    return setting == "auto" and protocol == mqtt.MQTTv5 and connack in _UNSUPPORTED_VERSION


def make_client(config: MqttConfig, client_id: str, protocol: int) -> mqtt.Client:
    """A paho client with the configured credentials and TLS (the door's and the CLI's)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=protocol,
        reconnect_on_failure=True,
    )
    if config.username is not None:
        client.username_pw_set(config.username, config.password())
    if config.tls is not None:
        use_tls(client, config.tls)
    return client


class TlsFiles(Protocol):
    """The door's ``[mqtt.tls]`` and the dashboard's broker TLS settings alike."""

    ca_file: Path | None
    cert_file: Path | None
    key_file: Path | None


def use_tls(client: mqtt.Client, tls: TlsFiles) -> None:
    """TLS that verifies the broker's certificate (against ``ca_file`` or the system's CAs)."""
    client.tls_set(
        ca_certs=str(tls.ca_file) if tls.ca_file else None,
        certfile=str(tls.cert_file) if tls.cert_file else None,
        keyfile=str(tls.key_file) if tls.key_file else None,
        cert_reqs=ssl.CERT_REQUIRED,
        tls_version=ssl.PROTOCOL_TLS_CLIENT,
    )


class MqttLink:
    def __init__(
        self,
        config: MqttConfig,
        device_id: str,
        outbox: Outbox,
        *,
        on_command: Callable[[str, bytes], None] | None = None,
        on_connected: Callable[[], None] | None = None,
        window: int = 200,
    ) -> None:
        self.c = config
        self.device_id = device_id
        self.topics = Topics(config.prefix(device_id))
        self.outbox = outbox
        self._on_command = on_command
        self._on_connected = on_connected
        self._window = window
        self._protocol = mqtt.MQTTv311 if config.protocol == "3.1.1" else mqtt.MQTTv5
        self._lock = threading.Lock()
        self._inflight: dict[int, int] = {}  # paho mid -> outbox seq
        self._early: dict[int, tuple[bool, str]] = {}  # mid -> (failed, why): PUBACKs first
        self._acked: list[int] = []
        self._last_sent = 0
        self._connected = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._fallback = threading.Event()
        self._backoff_until = 0.0
        self._hold_until = 0.0
        self.last_error: str | None = None
        self.published = self.acked = 0
        self._client = self._make_client()
        self._pump = threading.Thread(target=self._run_pump, name="mqtt-pump", daemon=True)

    # -- public ------------------------------------------------------------------------------

    def start(self) -> None:
        self._connect(self._client)
        self._pump.start()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def wake(self) -> None:
        """A new outbox row: publish it now rather than at the next poll."""
        self._wake.set()

    def publish_retained(self, topic: str, payload: bytes | str) -> None:
        """State that a late subscriber must see; re-sent by ``on_connected`` after an outage."""
        if self.connected:
            self._client.publish(topic, payload, qos=1, retain=True)

    def publish_now(self, topic: str, payload: bytes | str, qos: int = 0) -> bool:
        """Best effort (health, command results): dropped when not connected."""
        if not self.connected:
            return False
        info = self._client.publish(topic, payload, qos=qos)
        return info.rc == mqtt.MQTT_ERR_SUCCESS

    def drained(self) -> bool:
        with self._lock:
            return not self._inflight and not self._acked and self.outbox.depth() == 0

    def close(self, timeout: float = 2.0) -> None:
        """Give pending events ``timeout`` to go out, say ``offline`` (retained), disconnect.

        Whatever is still unacknowledged stays in the outbox for the next start.
        """
        end = time.monotonic() + timeout
        while self.connected and not self.drained() and time.monotonic() < end:
            self._wake.set()
            time.sleep(0.02)
        self._stop.set()
        self._wake.set()
        if self._pump.is_alive():
            self._pump.join(timeout)
        client = self._client
        if self.connected:
            info = client.publish(self.topics.status, "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        client.disconnect()
        client.loop_stop()
        self._flush_acks()

    # -- paho --------------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        client = make_client(self.c, self.c.client_id or self.device_id, self._protocol)
        client.max_inflight_messages_set(50)
        client.reconnect_delay_set(
            max(1, round(self.c.reconnect_min_s)), max(1, round(self.c.reconnect_max_s))
        )
        client.will_set(self.topics.status, "offline", qos=1, retain=True)
        client.on_connect = self._paho_connect
        client.on_disconnect = self._paho_disconnect
        client.on_publish = self._paho_publish
        client.on_message = self._paho_message
        return client

    def _connect(self, client: mqtt.Client) -> None:
        props = None
        if self._protocol == mqtt.MQTTv5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 0
        client.connect_async(self.c.host, self.c.port, self.c.keepalive_s, properties=props)
        client.loop_start()

    def _paho_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("MQTT %s:%d: %s", self.c.host, self.c.port, self.last_error)
            if wants_fallback(self.c.protocol, self._protocol, reason_code.value):
                self._fallback.set()
                self._wake.set()
            return
        log.info("MQTT connected to %s:%d", self.c.host, self.c.port)
        with self._lock:
            if self._hold_until:
                self._hold_until = time.monotonic() + HOLD_AFTER_RECONNECT_S
        client.publish(self.topics.status, "online", qos=1, retain=True)
        client.subscribe(self.topics.commands, qos=1)
        self._connected.set()
        if self._on_connected is not None:
            try:
                self._on_connected()
            except Exception:
                log.exception("while announcing state after connecting")
        self._wake.set()

    def _paho_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        with self._lock:
            # paho resends what was in flight only after on_connect returns; newer rows wait
            # for those acknowledgements so that subscribers see events in order.
            self._hold_until = time.monotonic() + 3600.0 if self._inflight else 0.0
        if self._connected.is_set() and not self._stop.is_set():
            log.warning("MQTT connection lost (%s); events wait in the outbox", reason_code)
            self.last_error = f"connection lost: {reason_code}"
        self._connected.clear()

    def _paho_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            seq = self._inflight.pop(mid, None)
            if seq is None:
                # The PUBACK beat _send_pending to recording the mid (paho calls this under
                # its own lock, so that thread cannot hold ours across publish()).
                self._early[mid] = (reason_code.is_failure, str(reason_code))
                return
            self._settle(seq, reason_code.is_failure, str(reason_code))
        self._wake.set()

    def _settle(self, seq: int, failed: bool, why: str) -> None:
        """The broker's PUBACK for outbox row ``seq`` (the caller holds the lock)."""
        if failed:
            # Kept in the outbox; resent from here after a pause, in order.
            self.last_error = f"broker refused event {seq}: {why}"
            self._last_sent = min(self._last_sent, seq - 1)
            self._backoff_until = time.monotonic() + 5.0
        else:
            self._acked.append(seq)

    def _paho_message(self, client, userdata, message) -> None:
        name = self.topics.command_name(message.topic)
        if name is None or message.retain:
            return  # a retained "command" is never acted on: it would replay on every connect
        if self._on_command is not None:
            self._on_command(name, bytes(message.payload))

    # -- pump --------------------------------------------------------------------------------

    def _run_pump(self) -> None:
        while True:
            self._wake.wait(0.5)
            self._wake.clear()
            self._flush_acks()
            if self._stop.is_set():
                return
            if self._fallback.is_set():
                self._switch_to_311()
            elif self.connected and time.monotonic() >= self._backoff_until:
                try:
                    self._send_pending()
                except Exception as exc:
                    self.last_error = f"outbox: {exc}"
                    log.exception("while publishing from the outbox")

    def _send_pending(self) -> None:
        with self._lock:
            if self._hold_until:
                if self._inflight and time.monotonic() < self._hold_until:
                    return
                self._hold_until = 0.0
            room = self._window - len(self._inflight)
            after = self._last_sent
        if room <= 0:
            return
        for item in self.outbox.pending(after, room):
            if not self.connected:
                return
            info = self._client.publish(item.topic, item.payload, qos=1)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                self.last_error = f"publish failed: {mqtt.error_string(info.rc)}"
                return
            with self._lock:
                self._last_sent = item.seq
                self.published += 1
                early = self._early.pop(info.mid, None)
                if early is None:
                    self._inflight[info.mid] = item.seq
                    continue
                self._settle(item.seq, *early)
                if early[0]:
                    return

    def _flush_acks(self) -> None:
        with self._lock:
            done, self._acked = self._acked, []
        if done:
            self.outbox.ack_many(done)
            self.acked += len(done)

    def _switch_to_311(self) -> None:
        log.warning("broker refused MQTT 5: falling back to MQTT 3.1.1")
        self._fallback.clear()
        old = self._client
        old.loop_stop()
        old.disconnect()
        self._protocol = mqtt.MQTTv311
        with self._lock:
            self._inflight.clear()
            self._early.clear()
            self._last_sent = 0  # the new client starts again from the oldest row
            self._client = self._make_client()
        self._connect(self._client)
