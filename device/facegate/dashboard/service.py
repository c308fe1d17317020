"""``facegate dashboard serve``: wire the store, the ingest, the commands and the web app,
and run them in one uvicorn process (one worker: the SSE hub and the MQTT session are
per process)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette

from facegate.dashboard.auth.rate_limit import LoginLimiter
from facegate.dashboard.commands.confirmations import Confirmations
from facegate.dashboard.commands.sender import CommandSender
from facegate.dashboard.ingest.mqtt_client import DashboardMqtt
from facegate.dashboard.ingest.schemas import SchemaValidator
from facegate.dashboard.ingest.writer import IngestWriter
from facegate.dashboard.settings import DashboardSettings, read_secret
from facegate.dashboard.store.engine import open_engine
from facegate.dashboard.store.retention import apply_retention
from facegate.dashboard.web.app import build_app
from facegate.dashboard.web.hub import Hub
from facegate.dashboard.web.live import command_update, publish_written
from facegate.dashboard.web.runtime import Runtime, template_env

log = logging.getLogger("facegate.dashboard")
RETENTION_EVERY_S = 3600.0


async def open_database(settings: DashboardSettings):
    password = None
    if settings.database.password_file is not None:
        password = read_secret(settings.database.password_file, "database.password_file")
    return await open_engine(settings.database_url(), password)


def _runtime(settings: DashboardSettings, engine) -> Runtime:
    return Runtime(
        settings=settings,
        engine=engine,
        hub=Hub(),
        env=template_env(),
        limiter=LoginLimiter(settings.auth.login_failures, settings.auth.login_window_s),
        confirmations=Confirmations(),
    )


def _connect(rt: Runtime) -> None:
    """The MQTT side: ingest writer, broker session, command sender."""
    s = rt.settings
    pw_file = s.broker_password_file()
    password = read_secret(pw_file, "broker.password_file") if pw_file else None

    async def on_written(written) -> None:
        await publish_written(rt, written)

    writer = IngestWriter(
        rt.engine,
        SchemaValidator(),
        root=s.broker.topic_root,
        known_doors=frozenset(),
        batch_max=s.broker.batch_max,
        batch_wait_s=s.broker.batch_wait_ms / 1000.0,
        flood_window_s=s.alarms.flood_window_s,
        ack=lambda token: mqtt.ack(token),
        on_written=on_written,
    )
    mqtt = DashboardMqtt(s.broker, password, writer.deliver, time.time)

    async def on_command(nonce: str) -> None:
        for update in await command_update(rt, nonce):
            rt.hub.publish(update)

    rt.writer, rt.mqtt = writer, mqtt
    rt.sender = CommandSender(
        rt.engine,
        lambda topic, payload: mqtt.publish(topic, payload),
        s.key_dir(),
        s.commands.timeout_s,
        s.broker.topic_root,
        time.time,
        on_command,
    )


async def _retention(rt: Runtime) -> None:
    while True:
        try:
            removed = await apply_retention(
                rt.engine,
                rt.clock(),
                rt.settings.database.retention_days,
                rt.settings.database.diagnostics_days,
            )
            log.info("retention: removed %s", removed)
        except Exception:
            log.exception("retention failed; trying again in an hour")
        await asyncio.sleep(RETENTION_EVERY_S)


def make_app(settings: DashboardSettings, with_broker: bool = True) -> Starlette:
    """The ASGI app; the database opens and the ingest starts in its lifespan."""
    holder: dict[str, Runtime] = {}

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = await open_database(settings)
        rt = _runtime(settings, engine)
        app.state.rt = rt
        holder["rt"] = rt
        tasks = [asyncio.create_task(_retention(rt))]
        if with_broker:
            _connect(rt)
            assert rt.writer is not None and rt.mqtt is not None
            rt.writer.bind(asyncio.get_running_loop())
            tasks.append(asyncio.create_task(rt.writer.run()))
            rt.mqtt.start()
        try:
            yield
        finally:
            rt.hub.close()
            if rt.mqtt is not None:
                rt.mqtt.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await engine.dispose()

    return build_app(None, lifespan)  # type: ignore[arg-type]


def serve(settings: DashboardSettings, log_level: str = "info") -> None:
    app = make_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.server.host,
        port=settings.server.port,
        workers=1,
        log_level=log_level,
        proxy_headers=bool(settings.server.trusted_proxies),
        forwarded_allow_ips=list(settings.server.trusted_proxies) or None,
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    uvicorn.Server(config).run()
