"""MQTT events: how fast the outbox drains to a real broker, and what the durable path costs.

Measured against a real broker (``--broker HOST:PORT``, plain TCP, anonymous); without one a
temporary mosquitto is started on a free 127.0.0.1 port (no persistence, ``max_queued_messages``
as docs/mqtt.md sets it, otherwise its defaults) and stopped afterwards. Every figure is a
receipt at a subscriber on the same machine:

* ``throughput``: N events committed into a fresh outbox first (as after an outage), then an
  :class:`MqttLink` started: the time until the outbox is empty (every PUBACK in, every row
  deleted) and until the subscriber has all of them.
* ``latency``: events sent one by one at a modest rate through the door's real
  :class:`EventRecorder` (journal line + outbox row, both fsynced) and its link: the time of
  ``record()`` alone (of which the journal) and from the call to the subscriber's receipt.
* ``plain``: for reference, in the same run and interleaved with ``latency`` (so that both
  see the same noise), paho's own QoS 1 publish to the same subscriber, with no outbox.

The files go in a fresh temporary directory (under ``--dir`` when given: put it on the disk
the door uses), removed afterwards; ``disk_fsync_ms`` is that disk's cost of one small
write + fsync, the floor under both stores.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from facegate.bench.mqtt_broker import HOST, TemporaryBroker, find_mosquitto
from facegate.bench.mqtt_probe import (
    WAIT_S,
    Receiver,
    TimedJournal,
    bench_config,
    bench_event,
    clear_retained,
    fsync_cost,
    start_link,
    stats,
)
from facegate.errors import FacegateError
from facegate.events.outbox import Outbox
from facegate.events.recorder import EventRecorder, event_payload
from facegate.mqtt.mqtt_link import MqttLink

# The temporary broker and the instruments live in mqtt_broker.py and mqtt_probe.py.
__all__ = ["HOST", "TemporaryBroker", "find_mosquitto", "format_mqtt", "measure_mqtt"]

QUIET_S = 5.0  # the outbox is empty and nothing new arrived for this long: they are lost


# -- the three measurements -----------------------------------------------------------------------


def _throughput(host: str, port: int, work: Path, n: int, receiver: Receiver, device: str) -> dict:
    config = bench_config(host, port, device)
    outbox = Outbox(work / "throughput.sqlite3", max(64 << 20, n * 4096))
    link = MqttLink(config, device, outbox)
    events = [bench_event(i, device) for i in range(n)]
    ids = {e["event_id"] for e in events}
    t0 = time.perf_counter()
    for e in events:
        outbox.add(link.topics.event_topic(e), event_payload(e), e["event_id"])
    commit_s = time.perf_counter() - t0
    timeout = 60.0 + n / 50.0
    t_start = time.perf_counter()
    try:
        start_link(link, f"{host}:{port}")
        connect_s = time.perf_counter() - t_start
        deadline = t_start + timeout
        drained_at = None
        while time.perf_counter() < deadline:
            now = time.perf_counter()
            if drained_at is None and link.drained():
                drained_at = now
            if drained_at is not None:
                if len(receiver.first) >= n:
                    break
                if now - max(drained_at, receiver.last_new) > QUIET_S:
                    break  # the broker has them all and nothing more arrives
            time.sleep(0.002)
        received = sum(1 for i in ids if i in receiver.first)
        if drained_at is None:
            raise FacegateError(
                f"after {timeout:.0f} s the outbox still held {outbox.depth()} of {n} events "
                f"(the subscriber had {received}): {link.last_error}"
            )
        if received < n:
            raise FacegateError(
                f"the broker acknowledged all {n} events but the subscriber received only "
                f"{received}: the broker dropped the rest from the subscriber's queue (in "
                "mosquitto, raise max_queued_messages, 1000 by default; docs/mqtt.md)"
            )
        all_received = max(receiver.first[i] for i in ids)
    finally:
        link.close(2.0)
        outbox.close()
    drain_s = drained_at - t_start
    return {
        "events": n,
        "payload_bytes": round(sum(len(event_payload(e)) for e in events) / n),
        "commit_s": round(commit_s, 3),
        "commit_events_per_s": round(n / commit_s, 1),
        "connect_s": round(connect_s, 4),
        "drain_s": round(drain_s, 3),
        "events_per_s": round(n / drain_s, 1),
        "all_received_s": round(all_received - t_start, 3),
        "received": received,
        "published": link.published,
        "acked": link.acked,
        "status_topic": link.topics.status,
    }


def _latency(
    host: str,
    port: int,
    work: Path,
    n: int,
    rate: float,
    receiver: Receiver,
    device: str,
    warmup: int,
) -> tuple[dict, dict, str]:
    config = bench_config(host, port, device)
    outbox = Outbox(work / "latency.sqlite3", 64 << 20)
    journal = TimedJournal(work / "events.jsonl")
    link = MqttLink(config, device, outbox)
    recorder = EventRecorder(journal, outbox, link.topics.event_topic, on_added=link.wake)
    plain_topic = f"{config.prefix(device)}/plain"
    plain = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"facegate-bench-plain-{secrets.token_hex(4)}",
        protocol=mqtt.MQTTv5,
    )
    record_ms, journal_ms, outbox_e2e, plain_e2e = [], [], [], []
    try:
        start_link(link, f"{host}:{port}")
        plain.connect(host, port, keepalive=30)
        plain.loop_start()

        def via_outbox(i: int, keep: bool) -> None:
            event = bench_event(i, device)
            t0 = time.perf_counter()
            if not recorder.record(event):
                raise FacegateError(f"the recorder could not store an event: {recorder.last_error}")
            t1 = time.perf_counter()
            got = receiver.wait_for_id(event["event_id"])
            end = time.monotonic() + WAIT_S
            while not link.drained() and time.monotonic() < end:  # its delete is synced too
                time.sleep(0.0005)
            if keep:
                record_ms.append((t1 - t0) * 1000)
                journal_ms.append(journal.times_ms[-1])
                outbox_e2e.append((got - t0) * 1000)

        def via_plain(i: int, keep: bool) -> None:
            event = bench_event(i, device)
            payload = event_payload(event)
            t0 = time.perf_counter()
            info = plain.publish(plain_topic, payload, qos=1)
            got = receiver.wait_for_id(event["event_id"])
            info.wait_for_publish(WAIT_S)
            if keep:
                plain_e2e.append((got - t0) * 1000)

        begin = time.perf_counter()
        for k in range(warmup + n):
            slot = begin + k / rate
            pause = slot - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            keep = k >= warmup
            if k == warmup:
                measured_from = time.perf_counter()
            first, second = (via_outbox, via_plain) if k % 2 == 0 else (via_plain, via_outbox)
            first(2 * k, keep)
            second(2 * k + 1, keep)
        elapsed = time.perf_counter() - measured_from
    finally:
        plain.disconnect()
        plain.loop_stop()
        link.close(2.0)
        outbox.close()
        journal.close()
    latency = {
        "events": n,
        "rate_per_s": rate,
        "achieved_rate_per_s": round(n / elapsed, 1),
        "record_ms": stats(record_ms),
        "journal_ms": stats(journal_ms),
        "record_to_received_ms": stats(outbox_e2e),
        "received": len(outbox_e2e),
    }
    plain_result = {
        "events": n,
        "publish_to_received_ms": stats(plain_e2e),
        "received": len(plain_e2e),
    }
    return latency, plain_result, link.topics.status


def measure_mqtt(
    broker: tuple[str, int] | None = None,
    events: int = 5000,
    latency_events: int = 500,
    rate: float = 20.0,
    directory: Path | None = None,
    warmup: int = 10,
) -> dict:
    """All three figures in one run; ``broker`` None: a temporary mosquitto."""
    if directory is not None:
        directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="facegate-bench-mqtt-", dir=directory) as tmp:
        work = Path(tmp)
        temporary = None
        if broker is None:
            (work / "broker").mkdir()
            temporary = TemporaryBroker(work / "broker").start()
            host, port = HOST, temporary.port
        else:
            host, port = broker
        try:
            run = secrets.token_hex(3)
            drain, steady = f"bench-{run}-drain", f"bench-{run}-steady"
            receiver = Receiver(
                host,
                port,
                [f"facegate-bench/{drain}/event/#", f"facegate-bench/{steady}/#"],
            )
            statuses = []
            try:
                fsync = fsync_cost(work)
                throughput = _throughput(host, port, work, events, receiver, drain)
                statuses.append(throughput.pop("status_topic"))
                latency, plain, status = _latency(
                    host, port, work, latency_events, rate, receiver, steady, warmup
                )
                statuses.append(status)
                duplicates = receiver.duplicates
            finally:
                receiver.close()
                if temporary is None and statuses:
                    clear_retained(host, port, statuses)
            version = temporary.version if temporary else None
        finally:
            if temporary is not None:
                temporary.stop()
    p = plain["publish_to_received_ms"]
    e = latency["record_to_received_ms"]
    return {
        "broker": f"{host}:{port}",
        "broker_kind": f"temporary {version}, max_queued_messages 100000" if version else "given",
        "directory": str(directory or Path(tempfile.gettempdir())),
        "disk_fsync_ms": fsync,
        "throughput": throughput,
        "latency": latency,
        "plain": plain,
        "duplicates": duplicates,
        "outbox_over_plain": {
            "p50": round(e["p50"] / p["p50"], 2) if p["p50"] > 0 else None,
            "p95": round(e["p95"] / p["p95"], 2) if p["p95"] > 0 else None,
        },
    }


def format_mqtt(r: dict) -> str:
    t, lat, plain = r["throughput"], r["latency"], r["plain"]
    f, rec, jr = r["disk_fsync_ms"], lat["record_ms"], lat["journal_ms"]
    e2e, pl = lat["record_to_received_ms"], plain["publish_to_received_ms"]
    ratio = r["outbox_over_plain"]

    def row(label: str, s: dict) -> str:
        return f"    {label:<44} {s['p50']:8.2f} {s['p95']:8.2f} {s['max']:8.2f}"

    return "\n".join(
        [
            f"broker {r['broker']} ({r['broker_kind']}), files under {r['directory']}",
            f"  disk: a 401-byte append + fsync: p50 {f['p50']:.2f} ms, p95 {f['p95']:.2f} ms",
            f"  outbox -> broker: {t['events']} events of {t['payload_bytes']} bytes committed "
            f"first ({t['commit_events_per_s']:.0f}/s, one synced transaction each)",
            f"    drained {t['drain_s']:.3f} s after the link started (connect "
            f"{t['connect_s'] * 1000:.1f} ms): {t['events_per_s']:.0f} events/s; "
            f"subscriber had all {t['received']} at {t['all_received_s']:.3f} s",
            f"  one by one, {lat['events']} events at {lat['rate_per_s']:g}/s, "
            "interleaved with plain paho (ms):",
            f"    {'':<44} {'p50':>8} {'p95':>8} {'max':>8}",
            row("record(): journal + outbox, both fsynced", rec),
            row("  of which the journal line", jr),
            row("record() -> received by the subscriber", e2e),
            row("plain paho QoS 1 publish -> received", pl),
            f"  outbox path / plain publish: p50 {ratio['p50']}x, p95 {ratio['p95']}x; "
            f"duplicates seen: {r['duplicates']}",
        ]
    )
