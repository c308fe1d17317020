"""The FAT boot partition, read and written with mtools (``-i IMG@@OFFSET``): no mount.

Only public settings go here (``config.txt``): anyone holding the card can read FAT, and it
has no owners or modes, so no secret is ever written to it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from facegate.provision.errors import ProvisionError


class FatBoot:
    def __init__(self, image: Path, offset: int, epoch: int) -> None:
        self.image = image
        self.spec = f"{image}@@{offset}"
        self.epoch = epoch

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "LC_ALL": "C"}
        return subprocess.run(args, capture_output=True, env=env, timeout=120)

    def read(self, name: str) -> bytes | None:
        done = self._run(["mcopy", "-n", "-i", self.spec, f"::{name}", "-"])
        return done.stdout if done.returncode == 0 else None

    def names(self) -> list[str]:
        done = self._run(["mdir", "-b", "-i", self.spec, "::"])
        if done.returncode != 0:
            raise ProvisionError(f"{self.image}: the boot partition is not a FAT file system")
        return [line.removeprefix("::/") for line in done.stdout.decode().splitlines()]

    def write(self, name: str, data: bytes) -> None:
        """Replace ``name``; its time is the build's pinned time."""
        with tempfile.TemporaryDirectory(prefix="facegate-fat-") as tmp:
            source = Path(tmp) / name
            source.write_bytes(data)
            os.utime(source, (self.epoch, self.epoch))
            done = self._run(["mcopy", "-o", "-m", "-i", self.spec, str(source), f"::{name}"])
        if done.returncode != 0:
            raise ProvisionError(
                f"{self.image}: writing {name} to the boot partition failed: "
                f"{done.stderr.decode(errors='replace').strip()}"
            )
