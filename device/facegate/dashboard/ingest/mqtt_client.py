"""The dashboard's broker connection: paho-mqtt with manual acknowledgements.

paho's network thread hands each message to :meth:`on_message`; nothing is acknowledged
there (``manual_ack_set(True)``). The writer acknowledges a QoS 1 message with :meth:`ack`
only after the batch that holds it was committed. A fixed client id, ``clean_start=False``
and a session expiry make the broker keep our queue while we are away, and resend what we
never acknowledged after we come back (a SIGKILL, a restart, a network cut).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from facegate.dashboard.ingest.messages import Incoming
from facegate.dashboard.settings import BrokerSettings
from facegate.mqtt.mqtt_link import use_tls

log = logging.getLogger("facegate.dashboard.mqtt")

# (message, (generation, mid, qos)) for the writer; the generation names the connection
Deliver = Callable[[Incoming, tuple[int, int, int]], None]


class DashboardMqtt:
    def __init__(
        self,
        settings: BrokerSettings,
        password: str | None,
        deliver: Deliver,
        clock: Callable[[], float],
    ) -> None:
        self.s = settings
        self._deliver = deliver
        self._clock = clock
        self.connected = threading.Event()
        # Bumped on every connect: a message id is only ours to acknowledge on the connection
        # it came on. After a reconnect the broker resends it (same session) and that copy is
        # acknowledged instead; acking the old id could settle another message.
        self.generation = 0
        self.last_error: str | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=True,
            manual_ack=True,
        )
        client.manual_ack_set(True)
        if settings.username is not None:
            client.username_pw_set(settings.username, password)
        if settings.tls is not None:
            use_tls(client, settings.tls)
        client.reconnect_delay_set(1, 30)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.s.session_expiry_s
        # No receive maximum below the broker's inflight window: messages flow while we batch.
        props.ReceiveMaximum = 1000
        self.client.connect_async(
            self.s.host,
            self.s.port,
            self.s.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.last_error = f"broker refused the connection: {reason_code}"
            log.error("%s", self.last_error)
            return
        log.info(
            "connected to %s:%d (session present: %s)",
            self.s.host,
            self.s.port,
            flags.session_present,
        )
        self.generation += 1
        client.subscribe(f"{self.s.topic_root}/#", qos=1)
        self.last_error = None
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if reason_code.is_failure:
            self.last_error = f"disconnected: {reason_code}"
            log.warning("broker connection lost (%s); paho reconnects", reason_code)

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        incoming = Incoming(
            message.topic, bytes(message.payload), bool(message.retain), self._clock()
        )
        self._deliver(incoming, (self.generation, message.mid, message.qos))

    def ack(self, token: tuple[int, int, int]) -> None:
        generation, mid, qos = token
        if qos > 0 and generation == self.generation:
            self.client.ack(mid, qos)

    def publish(self, topic: str, payload: bytes) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1)
