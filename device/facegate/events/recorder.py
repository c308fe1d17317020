"""Where every access and alarm event goes: the journal, then the outbox, both on disk.

``record`` returns only when both copies are synced. When either cannot be written (the
outbox at its bound, the disk full) the event is kept in memory, in order, and retried by
``retry``; until that backlog is empty the recorder is *not healthy* and the door starts no
new attempt and opens the door for no one (docs/mqtt.md, "When the outbox fills").

Safe for concurrent use: the internal watchdog records its alarm from its own thread, maybe
while the main loop sits in a slow fsync; one lock keeps the backlog and the order whole.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from facegate.events.journal import JournalSink, events_after, last_event
from facegate.events.outbox import Outbox, OutboxError

log = logging.getLogger("facegate.events")


@dataclass
class _Pending:
    event: dict
    journaled: bool = False


def event_payload(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode("utf-8")


class EventRecorder:
    def __init__(
        self,
        journal: JournalSink,
        outbox: Outbox | None = None,
        topic_for: Callable[[dict], str] | None = None,
        on_added: Callable[[], None] | None = None,
    ) -> None:
        if (outbox is None) != (topic_for is None):
            raise ValueError("an outbox needs the topic of each event")
        self.journal = journal
        self.outbox = outbox
        self.topic_for = topic_for
        self._on_added = on_added
        self._backlog: deque[_Pending] = deque()
        self._lock = threading.RLock()
        self.last_error: str | None = None

    @property
    def healthy(self) -> bool:
        return not self._backlog

    @property
    def backlog(self) -> int:
        return len(self._backlog)

    def recover(self) -> int:
        """At start: queue again the journal's events that never reached the outbox.

        Events are journaled first, so a crash (or a restart while the outbox was full) can
        leave journaled events the outbox never had. They are the ones after the outbox's last
        event id; they go out in order, as the next ones. Returns how many.
        """
        if self.outbox is None:
            return 0
        with self._lock:
            return self._recover(self.outbox)

    def _recover(self, outbox: Outbox) -> int:
        marker = outbox.last_event_id
        if marker is None:
            # A new outbox: the journal's past stays local (MQTT was just turned on). "" marks
            # an empty journal, so that a crash before the very first commit is caught too.
            last = last_event(self.journal.path)
            outbox.mark(last["event_id"] if last else "")
            return 0
        after = events_after(self.journal.path, marker)
        if after is None:
            log.warning("outbox's last event %s is not in the journal: nothing re-sent", marker)
            return 0
        missing = [e for e in after if e.get("type") in ("access", "alarm")]
        for event in missing:
            self._backlog.append(_Pending(event, journaled=True))
        self.retry()
        if missing:
            log.warning("%d journaled event(s) had not reached the outbox: queued", len(missing))
        return len(missing)

    def record(self, event: dict) -> bool:
        """Keep ``event``; True when it is on disk in every store, False when it waits."""
        with self._lock:
            self._backlog.append(_Pending(event))
            self._retry()
            return all(p.event is not event for p in self._backlog)

    def retry(self) -> None:
        """Write what waits: every event to the journal first, then to the outbox, in order.

        The journal goes first for all of them, so an event behind one the outbox refuses is
        still on disk (and re-queued by ``recover`` after a crash).
        """
        with self._lock:
            self._retry()

    def _retry(self) -> None:
        try:
            for pending in self._backlog:
                if not pending.journaled:
                    self.journal.emit(pending.event)
                    pending.journaled = True
            while self._backlog:
                pending = self._backlog[0]
                if self.outbox is not None and self.topic_for is not None:
                    self.outbox.add(
                        self.topic_for(pending.event),
                        event_payload(pending.event),
                        pending.event["event_id"],
                    )
                self._backlog.popleft()
                if self._on_added is not None:
                    self._on_added()
        except (OSError, OutboxError) as exc:
            if self.last_error is None:
                log.critical("event %s not stored: %s", pending.event["event_id"], exc)
            self.last_error = str(exc)
            return
        self.last_error = None
