"""The operator's side of remote commands: sign one, publish it, wait for the door's answer.

Used by ``facegate mqtt command ...`` on an admin's machine that holds the door's command key
(the same file as the door's ``mqtt.command_key_file``).
"""

from __future__ import annotations

import json
import queue
import secrets
import time

import paho.mqtt.client as mqtt

from facegate.config.mqtt import MqttConfig
from facegate.errors import FacegateError
from facegate.mqtt.commands import open_reply, sign_command
from facegate.mqtt.mqtt_link import make_client
from facegate.mqtt.topics import Topics


def send_command(
    config: MqttConfig,
    device_id: str,
    key: bytes,
    name: str,
    args: dict | None = None,
    timeout: float = 10.0,
    operator: str | None = None,
) -> dict:
    """Publish a signed command and return the door's ``cmd/result`` for it.

    ``operator`` names who asks (a version 2 body); the door records it in its audit event.

    An override's sealed code is opened here and returned as ``result["code"]``.
    """
    topics = Topics(config.prefix(device_id))
    nonce = secrets.token_hex(16)
    answers: queue.Queue[dict] = queue.Queue()
    subscribed = queue.Queue[bool]()

    def on_message(client, userdata, message) -> None:
        try:
            answer = json.loads(message.payload)
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("nonce") == nonce:
            answers.put(answer)

    protocol = mqtt.MQTTv311 if config.protocol == "3.1.1" else mqtt.MQTTv5
    client = make_client(config, f"facegate-operator-{nonce[:8]}", protocol)
    client.on_message = on_message
    client.on_subscribe = lambda *a: subscribed.put(True)
    try:
        client.connect(config.host, config.port, config.keepalive_s)
    except (OSError, ValueError) as exc:
        raise FacegateError(f"cannot reach the broker {config.host}:{config.port}: {exc}") from None
    client.loop_start()
    try:
        client.subscribe(topics.command_result, qos=1)
        try:
            subscribed.get(timeout=timeout)
        except queue.Empty:
            raise FacegateError("the broker did not confirm the subscription") from None
        payload = sign_command(
            key, device_id, name, args, ts=int(time.time()), nonce=nonce, operator=operator
        )
        client.publish(topics.command(name), payload, qos=1).wait_for_publish(timeout)
        try:
            answer = answers.get(timeout=timeout)
        except queue.Empty:
            raise FacegateError(
                f"no answer from {device_id} within {timeout:g} s (is it online? does the "
                "broker's ACL let this user publish on its cmd/ topics?)"
            ) from None
    finally:
        client.disconnect()
        client.loop_stop()
    sealed = (answer.get("result") or {}).get("sealed_code")
    if sealed:
        answer["result"]["code"] = open_reply(key, nonce, sealed)
        del answer["result"]["sealed_code"]
    return answer
