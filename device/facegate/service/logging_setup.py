"""Log lines for the journal under systemd, timestamped lines everywhere else.

systemd connects a service's stderr to journald and sets ``$JOURNAL_STREAM`` to that stream's
``device:inode``. When stderr is that stream, every line is prefixed with its syslog priority
``<N>`` (sd-daemon(3)), which journald strips and stores as PRIORITY, so ``journalctl -p warning``
works; journald adds the time and the identifier itself. Elsewhere lines carry a timestamp.

Whatever is logged ends up in the journal: never log templates, embeddings, keys, TOTP secrets
or codes; log student ids only where an access decision needs them.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

# logging level -> syslog priority (sd-daemon.h: SD_CRIT 2, SD_ERR 3, SD_WARNING 4, SD_INFO 6,
# SD_DEBUG 7).
_PRIORITIES = ((logging.CRITICAL, 2), (logging.ERROR, 3), (logging.WARNING, 4), (logging.INFO, 6))

PLAIN_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
JOURNAL_FORMAT = "%(name)s: %(message)s"


def syslog_priority(levelno: int) -> int:
    for threshold, priority in _PRIORITIES:
        if levelno >= threshold:
            return priority
    return 7


class JournalFormatter(logging.Formatter):
    """Prefixes every line of a record (tracebacks included) with its ``<N>`` priority."""

    def __init__(self) -> None:
        super().__init__(JOURNAL_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        prefix = f"<{syslog_priority(record.levelno)}>"
        return "\n".join(prefix + line for line in super().format(record).splitlines() or [""])


def stream_is_journal(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """True when ``stream`` is the journal stream systemd named in ``$JOURNAL_STREAM``."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM", "")
    dev, sep, ino = value.partition(":")
    if not (sep and dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))


def parse_level(level: str) -> int:
    value = logging.getLevelName(level.strip().upper())
    if not isinstance(value, int):
        raise ValueError(f"unknown log level {level!r} (debug, info, warning, error or critical)")
    return value


def setup_logging(
    level: str = "info",
    *,
    stream: TextIO | None = None,
    journal: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> logging.Handler:
    """Configure the root logger once (calling again replaces facegate's handler).

    ``journal`` None: detect it from ``$JOURNAL_STREAM`` and the stream; True/False forces it.
    Returns the installed handler.
    """
    numeric = parse_level(level)
    out = sys.stderr if stream is None else stream
    use_journal = stream_is_journal(out, environ) if journal is None else journal
    handler = logging.StreamHandler(out)
    handler.set_name("facegate")
    handler.setFormatter(JournalFormatter() if use_journal else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "facegate"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    return handler
