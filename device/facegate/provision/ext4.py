"""The ext4 root file system of an image, edited in place with e2fsprogs: no mount, no root.

``debugfs -w 'IMG?offset=N'`` writes files and then sets their owner, mode and times
(``sif``); ``e2fsck -fn`` checks the result. Times are pinned to ``SOURCE_DATE_EPOCH``
(``E2FSPROGS_FAKE_TIME`` for what debugfs stamps itself) so two builds give the same bytes.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path, PurePosixPath

from facegate.provision.errors import ProvisionError
from facegate.provision.payload import Entry

BANNER = re.compile(r"^debugfs \d")
# {folder: {name: (mode, uid, gid)}}; a folder that does not exist maps to {}.
Listing = dict[str, dict[str, tuple[int, int, int]]]
SAFE_PATH = re.compile(r"^/[A-Za-z0-9_.,+@=:/-]+$")


class Ext4Root:
    def __init__(self, image: Path, offset: int, epoch: int) -> None:
        self.image = image
        self.spec = f"{image}?offset={offset}"
        self.epoch = epoch

    def _env(self) -> dict[str, str]:
        return {**os.environ, "E2FSPROGS_FAKE_TIME": str(self.epoch), "LC_ALL": "C"}

    def _debugfs(self, script: str, write: bool = False) -> tuple[str, list[str]]:
        args = ["debugfs", *(["-w"] if write else []), "-f", "-", self.spec]
        done = subprocess.run(
            args, input=script, capture_output=True, text=True, env=self._env(), timeout=600
        )
        errors = [line for line in done.stderr.splitlines() if line and not BANNER.match(line)]
        if done.returncode != 0:
            errors.append(f"debugfs exited with {done.returncode}")
        return done.stdout, errors

    def cat(self, path: str) -> bytes | None:
        """A file's bytes, or None when it does not exist."""
        done = subprocess.run(
            ["debugfs", "-R", f"cat {path}", self.spec], capture_output=True, env=self._env()
        )
        if b"File not found" in done.stderr or done.returncode != 0:
            return None
        return done.stdout

    def listing(self, directories: list[str]) -> Listing:
        """``{dir: {name: (mode, uid, gid)}}`` for each directory that exists."""
        script = "".join(f"ls -p {d}\n" for d in directories)
        out, _ = self._debugfs(script)
        found: Listing = {}
        current = None
        for line in out.splitlines():
            if line.startswith("debugfs: ls -p "):
                current = line.removeprefix("debugfs: ls -p ")
            elif line.startswith("/") and current is not None:
                fields = line.split("/")
                found.setdefault(current, {})[fields[5]] = (
                    int(fields[2], 8),
                    int(fields[3]),
                    int(fields[4]),
                )
        return found

    def free_bytes(self) -> int:
        out, errors = self._debugfs("stats\n")
        if errors:
            raise ProvisionError(f"{self.image}: the root is not a readable ext4 file system")
        fields = dict(re.findall(r"^(Free blocks|Block size):\s+(\d+)", out, re.M))
        return int(fields["Free blocks"]) * int(fields["Block size"])

    def apply(self, entries: list[Entry], known: Listing | None = None) -> None:
        """Write every entry (parents first) in one debugfs run; existing files are replaced,
        folders kept.

        ``known`` caches what the folders held before any write. The doors' images are copies
        of one staged image, so one cache serves every door: the folders are listed on the
        first door only, and each further door costs a single debugfs process.
        """
        for e in entries:
            if not SAFE_PATH.match(e.path) or "/../" in e.path:
                raise ProvisionError(f"refusing an unusual path on the card: {e.path!r}")
        ancestors = {str(a) for e in entries for a in PurePosixPath(e.path).parents}
        parents = sorted(ancestors | {str(PurePosixPath(e.path).parent) for e in entries})
        existing = {} if known is None else known
        unlisted = [p for p in parents if p not in existing]
        if unlisted:
            found = self.listing(unlisted)
            existing.update({p: found.get(p, {}) for p in unlisted})

        def exists(path: str) -> bool:
            p = PurePosixPath(path)
            return p == p.parent or p.name in existing.get(str(p.parent), {})

        named = {e.path for e in entries}
        missing = sorted(
            (a for a in ancestors if not exists(a) and a not in named), key=lambda a: a.count("/")
        )
        entries = [Entry(a, "dir", 0o755) for a in missing] + entries

        with tempfile.TemporaryDirectory(prefix="facegate-debugfs-") as tmp:
            lines = []
            for i, e in enumerate(entries):
                if e.kind == "dir":
                    if not exists(e.path):
                        lines.append(f"mkdir {e.path}")
                elif e.kind == "link":
                    if exists(e.path):
                        lines.append(f"rm {e.path}")
                    lines.append(f"symlink {e.path} {e.target}")
                    continue
                else:
                    source = e.source or Path(tmp) / str(i)
                    if e.source is None:
                        source.write_bytes(e.data or b"")
                    if exists(e.path):
                        lines.append(f"rm {e.path}")
                    lines.append(f"write {source} {e.path}")
                kind = 0o040000 if e.kind == "dir" else 0o100000
                lines += [
                    f"sif {e.path} mode 0{kind | e.mode:o}",
                    f"sif {e.path} uid {e.uid}",
                    f"sif {e.path} gid {e.gid}",
                    *(f"sif {e.path} {t} @{self.epoch}" for t in ("atime", "mtime", "ctime")),
                ]
            _, errors = self._debugfs("\n".join(lines) + "\n", write=True)
        if errors:
            raise ProvisionError(f"{self.image}: writing the root failed: {'; '.join(errors[:5])}")

    def fsck(self) -> None:
        done = subprocess.run(
            ["e2fsck", "-fn", self.spec], capture_output=True, text=True, env=self._env()
        )
        if done.returncode != 0:
            raise ProvisionError(
                f"{self.image}: e2fsck found errors in the root file system: "
                + " ".join(done.stdout.split()[-40:])
            )
