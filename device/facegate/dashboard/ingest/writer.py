"""The ingest loop: messages from paho's thread, committed in batches, then acknowledged.

A batch is everything waiting, up to ``batch_max``, after waiting ``batch_wait_ms`` for more:
one commit per batch instead of per message is what makes 500 events/s possible on a small
machine (one fsync each). If a commit fails the batch is not acknowledged: the broker keeps
it and the writer retries after a pause; the process dying loses nothing either.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from facegate.dashboard.ingest.messages import Incoming, Validator, parse
from facegate.dashboard.store.ingest_writes import TopicTally, Written, write_batch

log = logging.getLogger("facegate.dashboard.ingest")

Token = tuple[int, int, int]


class IngestWriter:
    def __init__(
        self,
        engine: AsyncEngine,
        validate: Validator,
        *,
        root: str,
        known_doors: frozenset[str],
        batch_max: int,
        batch_wait_s: float,
        flood_window_s: float,
        ack: Callable[[Token], None],
        on_written: Callable[[Written], Awaitable[None]],
    ) -> None:
        self.engine = engine
        self._validate = validate
        self._root = root
        self._known = known_doors
        self._max = batch_max
        self._wait = batch_wait_s
        self._flood = flood_window_s
        self._ack = ack
        self._on_written = on_written
        self._queue: asyncio.Queue[tuple[Incoming, Token]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.stored = 0
        self.batches = 0
        self.bad = 0
        self.last_error: str | None = None
        self._tally = TopicTally()
        self._rooms: dict[str, str] = {}

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def deliver(self, message: Incoming, token: Token) -> None:
        """Called on paho's thread."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._queue.put_nowait, (message, token))

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    async def run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            deadline = asyncio.get_running_loop().time() + self._wait
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - asyncio.get_running_loop().time()
                if remaining <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Incoming, Token]]) -> None:
        parsed = [(m, parse(m, self._root, self._validate, self._known)) for m, _ in batch]
        while True:
            try:
                async with self.engine.begin() as conn:
                    written = await write_batch(conn, parsed, self._flood, self._tally, self._rooms)
                break
            except Exception as exc:  # the database away or full: keep the batch, retry
                self._tally = TopicTally()  # counts since the last flush are lost, not wrong
                self.last_error = f"commit failed: {exc}"[:300]
                log.error("ingest %s; retrying in 2 s (nothing acknowledged)", self.last_error)
                await asyncio.sleep(2.0)
        self.last_error = None
        self._rooms.update(written.rooms)
        for _, token in batch:
            self._ack(token)
        self.stored += len(written.new_events)
        self.batches += 1
        self.bad += written.bad
        try:
            await self._on_written(written)
        except Exception:  # a live page must never stop the ingest
            log.exception("live update failed")
