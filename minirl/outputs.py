"""Checks on the paths a command writes to, made before any work starts.

A command that trains for minutes and then fails to write its figure has lost the minutes. So every
command that writes (`train`, `compare`, `rlhf`, `estimators`, `plot`, `sweep`, `driving`) checks
its output path first, by *trying*: it creates the folder and writes and removes a probe file in it.
Trying is the only check that is right everywhere: `os.access` says "writable" to root on a
read-only bind mount, and says nothing about a path whose parent is a file.

    check_out_dir("runs/compare")                  # a folder that will hold several files
    check_out_file("curves.png", suffix=".png")    # one file; its folder must be writable

Both raise `OutputPathError` (a ValueError) whose message is one line naming the path, what is wrong
and what to do.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["OutputPathError", "check_out_dir", "check_out_file"]


class OutputPathError(ValueError):
    """An output path that cannot be written; the message is one line with the fix."""


def _first_existing_ancestor(path: str) -> str:
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    return probe


def check_out_dir(path, flag: str = "--out") -> str:
    """Create folder `path` if needed and prove it writable; return it. Raises OutputPathError."""
    path = os.fspath(path)
    if not path:
        raise OutputPathError(f"{flag} is empty: give a folder path, e.g. {flag} runs/x")
    if os.path.exists(path) and not os.path.isdir(path):
        raise OutputPathError(f"{flag} {path} is a file, not a folder: choose a folder path "
                              f"(or remove the file)")
    ancestor = _first_existing_ancestor(path)
    if not os.path.isdir(ancestor):
        raise OutputPathError(f"{flag} {path} lies under {ancestor}, which is a file: choose a path "
                              f"whose parents are folders")
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".minirl-write-test-", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputPathError(f"{flag} {path} cannot be written ({reason}): choose a folder you can "
                              f"write to") from None
    return path


def check_out_file(path, suffix: str | None = None, flag: str = "--out") -> str:
    """Check that file `path` can be written (its folder is created); return the path actually used.

    With `suffix` (e.g. ".png"), a path without that ending gets it appended (`curves` ->
    `curves.png`); a path with another ending (`x.txt`) is refused.
    """
    path = os.fspath(path)
    if not path or path.endswith(os.sep):
        raise OutputPathError(f"{flag} {path!r} is not a file name: give one, e.g. {flag} curves{suffix or ''}")
    if os.path.isdir(path):
        raise OutputPathError(f"{flag} {path} is a folder: give a file name inside it, "
                              f"e.g. {os.path.join(path, 'figure' + (suffix or ''))}")
    if suffix is not None:
        ext = os.path.splitext(path)[1]
        if not ext:
            path = path + suffix
        elif ext.lower() != suffix:
            raise OutputPathError(f"{flag} {path} ends in {ext}, but this command writes a {suffix} file: "
                                  f"use a name ending in {suffix}")
    check_out_dir(os.path.dirname(path) or ".", flag=f"{flag} {path}: its folder")
    return path
