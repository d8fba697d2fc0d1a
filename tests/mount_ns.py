"""Test helper (not a test): a real full disk or a real read-only file, for one command, in a mount namespace.

    done = in_mount_namespace(["mount -t tmpfs -o size=8k tmpfs /tmp/x"], [python, "-m", "minirl", ...])

`unshare -m` gives the command its own mounts (root only, as the Ray tests need root for
`unshare -n`): a small tmpfs fills up for real (ENOSPC), and a file bind-mounted read-only refuses
writes even to root (EROFS), which a chmod does not. Nothing outside the namespace sees the mounts.
Without `unshare` or the right to use it, the test is skipped (and fails under CI).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import pytest


def _usable() -> str | None:
    if not shutil.which("unshare"):
        return "needs unshare (util-linux)"
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=4k tmpfs /mnt"], capture_output=True,
                           text=True)
    if probe.returncode != 0:
        return f"cannot make a mount namespace here (root needed): {probe.stderr.strip()[:200]}"
    return None


def in_mount_namespace(setup: list[str], argv: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    """Run `argv` after the shell commands `setup`, in a mount namespace of its own; skip if that cannot be."""
    reason = _usable()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run this test")
        pytest.skip(reason)
    script = " && ".join([*setup, "exec " + shlex.join(argv)])
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=timeout,
                          **kwargs)


def tmpfs(folder, size: str) -> str:
    """The shell command mounting a tmpfs of `size` (e.g. "8k") on `folder`."""
    return f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(folder))}"


def read_only(path) -> list[str]:
    """The shell commands that make the file or folder `path` read-only (a read-only bind mount of itself)."""
    quoted = shlex.quote(str(path))
    return [f"mount --bind {quoted} {quoted}", f"mount -o remount,ro,bind {quoted}"]
