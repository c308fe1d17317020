"""Fan-out of live updates to every open page (server-sent events).

Each page's stream has a bounded queue; a page that cannot keep up (a stalled tab) is cut
off and its browser reconnects and gets the current state again, rather than the server
holding an ever-growing backlog for it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Update:
    event: str  # the SSE event name (htmx sse-swap)
    html: str
    id: str | None = None  # sent as the SSE id (access events: a reconnect resumes after it)
    role: str = "proctor"  # the least role a page must have to be sent this


def sse_frame(update: Update) -> str:
    lines = [f"event: {update.event}"]
    if update.id:
        lines.append(f"id: {update.id}")
    lines += [f"data: {line}" for line in update.html.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


class Hub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[asyncio.Queue[Update | None]] = set()
        self._size = queue_size

    @property
    def listeners(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> asyncio.Queue[Update | None]:
        queue: asyncio.Queue[Update | None] = asyncio.Queue(self._size)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Update | None]) -> None:
        self._subscribers.discard(queue)

    def publish(self, update: Update) -> None:
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(update)
            except asyncio.QueueFull:
                self._subscribers.discard(queue)
                # a None tells the stream to end; make room for it
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(None)

    def close(self) -> None:
        for queue in list(self._subscribers):
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(None)
        self._subscribers.clear()
