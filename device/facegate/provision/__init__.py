"""SD-image provisioning for a fleet of doors: ``facegate provision ...``.

Pure logic (the fleet file, the per-door payload, broker lines) is apart from the adapters
that touch disk images (``partitions``, ``fat``, ``ext4``) or run pip (``wheelhouse``), so the
rules can be read without e2fsprogs or mtools in mind. Nothing here is imported by a door.
"""
