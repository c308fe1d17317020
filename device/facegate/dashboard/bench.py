"""``facegate dashboard bench``: the dashboard's figures, measured on this machine.

* ``ingest_events_per_s``: events published at QoS 1 as fast as a client can, to the time
  they are all committed (and only then acknowledged) by a running ``dashboard serve``;
* ``publish_to_page_ms_p50/p95``: from ``publish()`` to the row appearing in headless
  chromium's DOM (a MutationObserver stamps it), at ``rate`` events/s;
* ``rss_mb``: the serve process's resident memory at the end, with ``doors`` doors and
  ``stored`` events in its database and a browser connected (``rss_peak_mb``: its peak).

Everything runs locally: a Mosquitto of its own, the dashboard as a subprocess, SQLite.
Chromium and Selenium come from the test setup (scripts/ensure_dashboard_deps.sh, the
``test`` extra).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from facegate.dashboard.demo import free_port, start_broker
from facegate.errors import FacegateError
from facegate.events.access_event import AccessEvent

PASSWORD = "bench-password-1"
OBSERVER = """
window.__seen = {};
new MutationObserver(function (records) {
  var now = Date.now();
  records.forEach(function (r) {
    r.addedNodes.forEach(function (n) {
      if (n.dataset && n.dataset.eventId && !window.__seen[n.dataset.eventId]) {
        window.__seen[n.dataset.eventId] = now;
      }
    });
  });
}).observe(document.getElementById('live-events'), {childList: true});
"""


def _event(door: int, n: int, at_ms: int) -> dict:
    event = AccessEvent(
        device_id=f"door-{door:03d}",
        room=f"room-{door:03d}",
        attempt_id=f"door-{door:03d}-{n:x}-bench0",
        decision="denied",
        reasons=("unknown_face",),
        scores={"distance": 0.91, "threshold": 0.35, "match": "unknown_face"},
        latencies_ms={"total": 1500},
        event_id=f"{at_ms:012x}{n:016x}",
    ).to_dict()
    return event


def prefill(db: Path, stored: int, doors: int) -> None:
    """``stored`` events over ``doors`` doors, and the doors' retained state, written
    straight into the dashboard's tables (the schema comes from the dashboard itself)."""
    conn = sqlite3.connect(db)
    start_ms = int((time.time() - 30 * 86400) * 1000)

    first = _event(0, 0, start_ms)
    template = json.dumps(first).replace(first["event_id"], "@ID@").replace("door-000", "@DOOR@")
    at = time.time()

    def rows():
        for n in range(stored):
            door = f"door-{n % doors:03d}"
            event_id = f"{start_ms + n:012x}{n:016x}"
            payload = template.replace("@ID@", event_id).replace("@DOOR@", door)
            yield (
                event_id,
                door,
                "access",
                first["ts"],
                "denied",
                None,
                "unknown_face",
                None,
                None,
                payload,
                at,
            )

    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows())
        health = {"outbox_depth": 0, "fps": 15.0, "cpu_temp_c": 52.0, "lockdown": False}
        conn.executemany(
            "INSERT INTO doors (device_id, room, status, status_at, state, state_at, health, "
            "health_at) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    f"door-{d:03d}",
                    f"room-{d:03d}",
                    "online",
                    time.time(),
                    "LOCKED",
                    time.time(),
                    json.dumps(health),
                    time.time(),
                )
                for d in range(doors)
            ],
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _rss(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def _count(db: Path) -> int:
    """Rows stored: max(rowid), a lookup, not a scan that would take a core from the server
    it measures (rows are only appended during the bench)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT coalesce(max(rowid), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


def _publisher(port: int):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-doors")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _browser(url: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    if not binary or not os.access(driver, os.X_OK):
        raise FacegateError(
            "the latency bench needs chromium and chromium-driver "
            "(scripts/ensure_dashboard_deps.sh)"
        )
    profile = tempfile.mkdtemp(prefix="facegate-bench-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.get(url + "/login")
    browser.find_element("name", "name").send_keys("admin")
    browser.find_element("name", "password").send_keys(PASSWORD)
    browser.find_element("css selector", "form button[type=submit]").click()
    deadline = time.monotonic() + 60
    while not browser.find_elements("id", "live-events"):
        if time.monotonic() > deadline:
            raise FacegateError("the bench browser could not sign in")
        time.sleep(0.2)
    return browser, profile


def measure(
    events: int,
    stored: int,
    doors: int,
    latency_events: int,
    rate: float,
    directory: Path | None,
) -> dict:
    work = Path(tempfile.mkdtemp(prefix="facegate-dashboard-bench-", dir=directory))
    broker, broker_port = start_broker(work)
    serve = None
    browser = profile = None
    try:
        port = free_port()
        config = work / "dashboard.toml"
        config.write_text(
            f'state_dir = "{work / "state"}"\n[server]\nport = {port}\n'
            f'[broker]\nport = {broker_port}\nhost = "127.0.0.1"\n'
        )
        base = [sys.executable, "-m", "facegate", "dashboard", "--config", str(config)]
        pw = work / "pw"
        pw.write_text(PASSWORD)
        subprocess.run(
            [*base, "add-user", "admin", "--role", "admin", "--password-file", str(pw)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        db = work / "state" / "dashboard.sqlite3"
        t0 = time.monotonic()
        prefill(db, stored, doors)
        prefill_s = time.monotonic() - t0
        os.sync()  # the prefill's writeback must not land in the measured fsyncs
        serve = subprocess.Popen(
            [*base, "serve", "--log-level", "warning"],
            stdout=(work / "serve.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/login", timeout=2).read()
                break
            except OSError:
                if serve.poll() is not None or time.monotonic() > deadline:
                    raise FacegateError(
                        "the dashboard did not start: " + (work / "serve.log").read_text()[-2000:]
                    ) from None
                time.sleep(0.2)
        time.sleep(2.0)  # subscribed
        publisher = _publisher(broker_port)

        # ingest: as fast as the broker takes them, until all are committed
        now_ms = int(time.time() * 1000)
        payloads = [
            (
                f"facegate/door-{n % doors:03d}/event/access",
                json.dumps(_event(n % doors, stored + n, now_ms)),
            )
            for n in range(events)
        ]
        before = _count(db)
        t0 = time.monotonic()
        for topic, payload in payloads:
            publisher.publish(topic, payload, qos=1)
        target = before + events
        while _count(db) < target:
            if time.monotonic() - t0 > 600:
                raise FacegateError("ingest did not finish within 600 s")
            time.sleep(0.2)
        ingest_s = time.monotonic() - t0
        os.sync()

        # publish to page, in a real browser
        browser, profile = _browser(url)
        # measure from a settled page: the stream's first frames (every door card) are sent
        settled = time.monotonic() + 30
        while browser.find_element("id", "live-state").text != "live":
            if time.monotonic() > settled:
                raise FacegateError("the page's live stream did not open")
            time.sleep(0.2)
        time.sleep(3.0)
        browser.execute_script(OBSERVER)
        sent: dict[str, float] = {}
        start = time.monotonic()
        base_ms = int(time.time() * 1000)
        for n in range(latency_events):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            e = _event(n % doors, stored + events + n, base_ms + n)
            sent[e["event_id"]] = time.time() * 1000
            publisher.publish(f"facegate/{e['device_id']}/event/access", json.dumps(e), qos=1)
        deadline = time.monotonic() + 60
        seen: dict = {}
        while time.monotonic() < deadline:
            seen = browser.execute_script("return window.__seen")
            if sum(1 for k in sent if k in seen) >= len(sent):
                break
            time.sleep(0.5)
        latencies = sorted(seen[k] - v for k, v in sent.items() if k in seen)
        if len(latencies) < len(sent):
            raise FacegateError(f"only {len(latencies)} of {len(sent)} events reached the page")
        rss, peak = _rss(serve.pid)
        publisher.disconnect()
        publisher.loop_stop()
        return {
            "ingest_events_per_s": round(events / ingest_s, 1),
            "publish_to_page_ms_p50": round(statistics.median(latencies), 1),
            "publish_to_page_ms_p95": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "publish_to_page_ms_max": round(latencies[-1], 1),
            "rss_mb": round(rss, 1),
            "rss_peak_mb": round(peak, 1),
            "doors": doors,
            "stored_events": _count(db),
            "ingest_events": events,
            "latency_events": latency_events,
            "latency_rate_per_s": rate,
            "prefill_s": round(prefill_s, 1),
            "database": "sqlite (WAL, synchronous=FULL)",
            "cpu_count": os.cpu_count(),
        }
    finally:
        if browser is not None:
            browser.quit()
        if profile is not None:
            shutil.rmtree(profile, ignore_errors=True)
        if serve is not None and serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(20)
            except subprocess.TimeoutExpired:
                serve.kill()
        broker.send_signal(signal.SIGTERM)
        broker.wait(10)
        shutil.rmtree(work, ignore_errors=True)


def format_bench(r: dict) -> str:
    return "\n".join(
        [
            f"dashboard with {r['doors']} doors and {r['stored_events']:,} stored events "
            f"({r['database']}, {r['cpu_count']} cores)",
            f"  ingest, acknowledged after commit: {r['ingest_events_per_s']:.0f} events/s "
            f"({r['ingest_events']} events)",
            f"  publish to page (chromium): p50 {r['publish_to_page_ms_p50']:.0f} ms, "
            f"p95 {r['publish_to_page_ms_p95']:.0f} ms, max {r['publish_to_page_ms_max']:.0f} ms "
            f"({r['latency_events']} events at {r['latency_rate_per_s']:g}/s)",
            f"  memory of the serve process: {r['rss_mb']:.0f} MB (peak {r['rss_peak_mb']:.0f} MB)",
        ]
    )
