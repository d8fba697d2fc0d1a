"""A path the tests cannot write to, for the "--out cannot be written" checks of several commands.

Root ignores folder permissions, so a chmod-ed folder is tried first and a read-only /sys second;
without either the test is skipped.
"""

from __future__ import annotations

import os
import stat
import tempfile

import pytest


def writable(folder) -> bool:
    """Try it (os.access says yes to root even where the kernel says no)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.remove(probe)
    return True


def unwritable_path(tmp_path, name: str) -> str:
    """`name` inside a folder that exists and cannot be written."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if not writable(folder):
        return str(folder / name)
    if os.path.isdir("/sys") and not writable("/sys"):     # root ignores permissions, not a read-only sysfs
        return f"/sys/{name}"
    pytest.skip("running as root without a read-only folder to try")
