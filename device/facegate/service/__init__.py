"""Running as a systemd service: sd_notify (READY, STATUS, WATCHDOG, STOPPING) and journal logs.

Both adapters are no-ops or plain fallbacks outside systemd, so the daemon also runs from a shell.
The unit file is systemd/facegate.service (see systemd/README.md).
"""

from facegate.service.logging_setup import setup_logging
from facegate.service.notify import SystemdNotifier

__all__ = ["SystemdNotifier", "setup_logging"]
