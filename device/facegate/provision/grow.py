"""Growing the ext4 root of an image file when the payload does not fit: no root, no loop device.

``resize2fs`` does not take debugfs's ``IMG?offset=N`` (it would treat the whole image file as
the file system and cut it to the new size), so the partition is copied out to a file of its
new size, checked with ``e2fsck -fy`` (resize2fs demands a fresh check), grown with
``resize2fs``, and written back; ``sfdisk -N 2`` then moves the partition's end in the image's
own table. Only the staged copy of the base image is grown; times are pinned like every other
write (``E2FSPROGS_FAKE_TIME``), so two builds still give the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from facegate.provision.errors import ProvisionError
from facegate.provision.partitions import PiLayout, read_layout

MIB = 1 << 20
ALIGN = 4 * MIB
# New block groups cost inode tables and descriptors (up to a few % with the small-fs inode
# ratio): grow by more than the shortfall, plus a fixed slack.
OVERHEAD = 1.25
SLACK = 16 * MIB


def growth_for(need: int, free: int) -> int:
    """Bytes to add to the root partition so ``need`` bytes fit (0 when they already do)."""
    if need <= free:
        return 0
    extra = int((need - free) * OVERHEAD) + SLACK
    return -(-extra // ALIGN) * ALIGN


def _run(
    args: list[str], epoch: int, what: str, ok: tuple[int, ...] = (0,), stdin: str = ""
) -> str:
    # e2fsck stamps the check time from E2FSCK_TIME, the library from E2FSPROGS_FAKE_TIME.
    env = {**os.environ, "E2FSPROGS_FAKE_TIME": str(epoch), "E2FSCK_TIME": str(epoch)}
    env["LC_ALL"] = "C"
    try:
        done = subprocess.run(
            args, input=stdin, capture_output=True, text=True, env=env, timeout=1800
        )
    except OSError as exc:
        raise ProvisionError(f"{what}: {args[0]}: {exc.strerror}") from None
    if done.returncode not in ok:
        detail = " ".join((done.stderr + done.stdout).split())[-400:]
        raise ProvisionError(f"{what} ({args[0]} exited with {done.returncode}): {detail}")
    return done.stdout


def _check_table(image: Path, layout: PiLayout) -> None:
    """Only a DOS table (Raspberry Pi OS) whose last partition is the root is grown."""
    table = json.loads(_run(["sfdisk", "--json", str(image)], 0, f"{image}: reading the table"))
    table = table["partitiontable"]
    if table.get("label") != "dos":
        raise ProvisionError(
            f"{image}: growing the root is done on DOS partition tables (Raspberry Pi OS's); "
            f"this one is {table.get('label')}: grow partition 2 first"
        )
    sector = int(table.get("sectorsize", 512))
    for number, part in enumerate(table["partitions"], start=1):
        if number != layout.root.number and int(part["start"]) * sector >= layout.root.end:
            raise ProvisionError(
                f"{image}: partition {number} lies after the root partition, which therefore "
                "cannot grow: grow partition 2 first"
            )


def grow_root(image: Path, layout: PiLayout, extra: int, epoch: int) -> PiLayout:
    """Add ``extra`` bytes to the root partition and its file system; the new layout."""
    _check_table(image, layout)
    root = layout.root
    new_size = root.size + extra
    scratch = image.with_name(f"{image.name}.root.ext4")
    try:
        try:
            _run(
                ["dd", f"if={image}", f"of={scratch}", "bs=1M", f"skip={root.start}",
                 f"count={root.size}", "iflag=skip_bytes,count_bytes", "conv=sparse",
                 "status=none"],
                epoch, f"{image}: copying the root partition out",
            )  # fmt: skip
            os.truncate(scratch, new_size)
            what = f"{image}: the root file system has errors e2fsck cannot repair"
            _run(["e2fsck", "-fy", str(scratch)], epoch, what, ok=(0, 1))
            _run(["resize2fs", str(scratch)], epoch, f"{image}: resize2fs failed")
            # The root is the last partition: cutting the image at its start leaves a hole
            # there, so a sparse write-back cannot leave old bytes under new zeros.
            os.truncate(image, root.start)
            _run(
                ["dd", f"if={scratch}", f"of={image}", "bs=1M", f"seek={root.start}",
                 "oflag=seek_bytes", "conv=sparse,notrunc", "status=none"],
                epoch, f"{image}: writing the grown root back",
            )  # fmt: skip
            os.truncate(image, root.start + new_size)
        except OSError as exc:
            raise ProvisionError(
                f"{image}: no room to grow the root by {extra // MIB} MiB in {image.parent}: "
                f"{exc.strerror}"
            ) from None
    finally:
        scratch.unlink(missing_ok=True)
    _run(
        ["sfdisk", "-q", "--no-reread", "--no-tell-kernel", "-N", str(root.number), str(image)],
        epoch,
        f"{image}: moving the end of partition {root.number}",
        stdin=f", {new_size // 512}\n",  # start and type kept
    )
    return read_layout(image)
