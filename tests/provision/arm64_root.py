"""A minimal arm64 Debian root for running the first boot under qemu-user: the .debs of
python3, python3-venv, a shell's tools, the libraries manylinux wheels expect from the system,
systemctl and openssh-server fetched with ``apt-get`` under a private ``APT_CONFIG`` (no change
to the host's apt) and unpacked with ``dpkg -x``. Cached between runs (``$FACEGATE_TEST_CACHE``,
default ``~/.cache/facegate-tests``; a new package list makes a new root); about 15 s each to fetch,
about 150 MB unpacked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGES = ["python3", "python3-venv", "dash", "bash", "coreutils", "grep", "sed", "passwd"]
PACKAGES += ["dpkg", "findutils", "libc-bin", "ca-certificates"]
# What the aarch64 wheels link outside themselves (manylinux: libstdc++, libgcc_s, libz);
# systemctl, which enables units offline in a chroot, and ssh.service (the ssh and service
# steps).
PACKAGES += ["libstdc++6", "libgcc-s1", "zlib1g", "systemd", "openssh-server", "login"]
PACKAGES += ["util-linux"]  # getopt, for systemd-sysv-install (ssh has an init script)
# Not needed to run anything here (perl: only maintainer scripts, never run): dropped to keep
# the cached root small.
PRUNE = ["usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info", "usr/share/perl"]
PRUNE += ["usr/lib/aarch64-linux-gnu/perl"]
BINFMT = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")


def skip_or_fail(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def need_emulation() -> None:
    """arm64 programs run here (binfmt_misc with qemu-aarch64, fix-binary) and we may chroot."""
    if os.environ.get("CI") != "true" and os.environ.get("FACEGATE_EMULATION") != "1":
        pytest.skip(
            "the emulated first boot takes minutes per release: FACEGATE_EMULATION=1 runs it "
            "(CI=true always does)"
        )
    if os.geteuid() != 0:
        skip_or_fail("the emulated first boot needs chroot (root)")
    if not BINFMT.exists() or "enabled" not in BINFMT.read_text():
        skip_or_fail(
            "qemu-aarch64 is not registered with binfmt_misc "
            "(scripts/ensure_provision_tools.sh installs qemu-user-static and registers it)"
        )


def cache_dir() -> Path:
    """Where the emulated tests keep what is slow to fetch (roots, aarch64 wheels)."""
    return Path(os.environ.get("FACEGATE_TEST_CACHE", Path.home() / ".cache" / "facegate-tests"))


def arm64_root(release: str) -> Path:
    """The cached root of ``release`` (bookworm, trixie); built on first use."""
    top = cache_dir() / f"arm64-{release}"
    root = top / "root"
    if (top / "complete").exists() and (top / "complete").read_text() == " ".join(PACKAGES):
        return root
    shutil.rmtree(top, ignore_errors=True)
    apt = top / "apt"
    for sub in ("state/lists/partial", "cache/archives/partial", "etc/apt.conf.d",
                "etc/preferences.d", "etc/trusted.gpg.d"):  # fmt: skip
        (apt / sub).mkdir(parents=True)
    (apt / "status").write_text("")
    (apt / "etc/sources.list").write_text(f"deb http://deb.debian.org/debian {release} main\n")
    config = apt / "apt.conf"
    config.write_text(
        'APT::Architecture "arm64";\nAPT::Architectures "arm64";\n'
        f'Dir::State "{apt}/state";\nDir::State::status "{apt}/status";\n'
        f'Dir::Cache "{apt}/cache";\nDir::Etc "{apt}/etc";\n'
        'Dir::Etc::TrustedParts "/etc/apt/trusted.gpg.d";\nAcquire::Languages "none";\n'
    )
    env = {**os.environ, "APT_CONFIG": str(config), "DEBIAN_FRONTEND": "noninteractive"}
    fetch = ["install", "-y", "--no-install-recommends", "--download-only", *PACKAGES]
    for args in (["update"], fetch):
        done = subprocess.run(
            ["apt-get", "-qq", *args], env=env, capture_output=True, text=True, timeout=600
        )
        if done.returncode != 0:
            skip_or_fail(f"cannot fetch the arm64 {release} packages: {done.stderr[-400:]}")
    root.mkdir()
    for deb in sorted((apt / "cache/archives").glob("*.deb")):
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text(
        "root:x:0:\nsudo:x:27:\nvideo:x:44:\ninput:x:105:\ngpio:x:997:\n"
    )
    (root / "etc/shadow").write_text("root:*:19000:0:99999:7:::\n")
    (root / "etc/gshadow").write_text("root:*::\nsudo:*::\nvideo:*::\ninput:*::\ngpio:*::\n")
    # What ca-certificates' postinst (update-ca-certificates) makes: Trixie's pip loads the
    # bundle even for an offline install.
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    certs = sorted((root / "usr/share/ca-certificates").rglob("*.crt"))
    bundle.write_bytes(b"".join(c.read_bytes() for c in certs))
    (root / "dev").mkdir(exist_ok=True)
    subprocess.run(["mknod", "-m", "666", str(root / "dev/null"), "c", "1", "3"], check=True)
    for folder in PRUNE:
        shutil.rmtree(root / folder, ignore_errors=True)
    shutil.rmtree(apt)
    (top / "complete").write_text(" ".join(PACKAGES))  # a new list makes a new root
    return root
