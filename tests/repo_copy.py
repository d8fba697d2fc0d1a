"""A copy of the repository as git knows it (tracked and new files, not ignored ones), for tests that
must not see what the working tree holds besides (a learner's lessons/, runs/, build/)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def copy_git_files(dest: Path, repo: Path = REPO) -> Path:
    """Copy the files git knows, as they are in the working tree, into `dest`; return `dest`."""
    names = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=repo, capture_output=True, text=True, check=True).stdout.split("\0")
    for name in filter(None, names):
        src = repo / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest
