"""Nothing lost, nothing twice: a 1,000-event burst from the door's own recording path
(tests/event_producer.py: journal, outbox, QoS 1) while the dashboard is SIGKILLed, or the
broker restarted, in the middle. The dashboard acknowledges a message only after the batch
holding it was committed, and its session outlives it at the broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.dashboard.conftest import db_rows, door_config, new_key

COUNT = 1000


def stored(url: str) -> int:
    try:
        return db_rows(url, "SELECT count(*) FROM events")[0][0]
    except Exception:  # the file or table not there yet
        return 0


def burst(tmp_path, broker) -> subprocess.Popen:
    key = new_key(tmp_path / "keys" / "door-1.key")
    config = door_config(tmp_path, broker, "door-1", key)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.event_producer",
            "--config",
            str(config),
            "--count",
            str(COUNT),
            "--rate",
            "250",
            "--drain-timeout",
            "120",
        ],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "producer.log").open("wb"),
        text=True,
    )


def wait_stored(url: str, at_least: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    n = stored(url)
    while n < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        n = stored(url)
    return n


def check_all_once(url: str) -> None:
    rows = db_rows(url, "SELECT event_id, payload FROM events")
    attempts = sorted(int(json.loads(p)["attempt_id"].split("-")[1]) for _, p in rows)
    assert len(rows) == COUNT, f"{len(rows)} stored"
    assert attempts == list(range(COUNT)), "an attempt is missing or stored twice"


def finish(producer: subprocess.Popen, url: str) -> dict:
    out, _ = producer.communicate(timeout=240)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["drained"], result
    n = wait_stored(url, COUNT, 120)
    time.sleep(1.0)  # anything more that was going to arrive, would have
    assert stored(url) == n
    return result


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_dashboard_sigkilled_mid_burst_keeps_exactly_1000(
    tmp_path, dash_broker, dashboards, backend, request
):
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        name = f"burst_{int(time.time() * 1000) % 10**9}"
        dash = dashboards(
            dash_broker,
            database_url=pg.create_database(name),
            database_password_file=pg.password_file,
        )
        url = pg.url_with_password(dash.database_url())
    else:
        dash = dashboards(dash_broker)
        url = dash.database_url()
    dash.start()  # subscribed: from now on the broker keeps the dashboard's queue
    producer = burst(tmp_path, dash_broker)
    killed_at = wait_stored(url, 150, 60)
    assert 150 <= killed_at < COUNT, f"{killed_at} stored before the kill"
    dash.kill()
    time.sleep(1.0)
    dash.start()
    finish(producer, url)
    check_all_once(url)
    print(f"{backend}: SIGKILL after {killed_at} stored; {COUNT} stored, none twice")


def test_broker_restarted_mid_burst_keeps_exactly_1000(tmp_path, dash_broker, dashboards):
    dash = dashboards(dash_broker)
    url = dash.database_url()
    dash.start()
    producer = burst(tmp_path, dash_broker)
    restarted_at = wait_stored(url, 150, 60)
    assert restarted_at < COUNT
    dash_broker.restart()
    finish(producer, url)
    check_all_once(url)
    print(f"broker restarted after {restarted_at} stored; {COUNT} stored, none twice")
