"""The proctors' dashboard: every door live in a browser (``facegate dashboard serve``).

A second service, on a school server or a laptop beside the broker, never on a door. It needs
the ``dashboard`` extra (``pip install 'facegate[dashboard]'``); the door never imports it.
Operators' guide and architecture: docs/dashboard.md.
"""
