"""The door service: camera, tracker, access flow, recognition, keypad, relay, events.

``builder`` opens the parts in a fail-secure order; ``service`` runs them and takes them down
again; ``loop`` is the main loop that owns every decision; ``effects`` carries out what the
access flow asks for; ``opener`` is the one way the relay opens; ``desk`` records every event;
``commands`` is the table of remote command handlers; ``inbox`` the typed messages other
threads hand in.
"""

from facegate.door.listener import DoorListener
from facegate.door.service import DoorService

__all__ = ["DoorListener", "DoorService"]
