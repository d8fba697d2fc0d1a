"""What this minirl is and where it runs: the distribution's name, install hints, a run's environment.

The import package and the command are `minirl`; the distribution on PyPI is **minirl-numpy**
(`minirl` there is an unrelated project). So every hint names the real distribution:

    install_hint("box2d")     # "pip install 'minirl-numpy[box2d]'"      (a wheel or sdist install)
                              # "pip install -e '.[box2d]'"              (a clone: keep the editable install)

`environment()` is what a run records in its config.json beside its settings (`RunSpec.info`):

| key | example |
|---|---|
| `minirl_version` | "0.2.0" |
| `git_commit` | "d13967f0..." (a clone only; "+dirty" when files differ from it), else absent |
| `python` | "3.11.7" |
| `numpy`, `gymnasium` | "2.4.6", "1.4.0" |
| `platform` | "Linux-6.1.0-x86_64-with-glibc2.36" |
| `blas` | "openblas 0.3.30 (Haswell, 1 thread)" (threadpoolctl), or "unknown" |
"""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["DISTRIBUTION", "install_hint", "from_clone", "environment", "git_commit"]

DISTRIBUTION = "minirl-numpy"
_REPO = Path(__file__).resolve().parent.parent


def from_clone() -> bool:
    """True when minirl runs from a clone of its repository (an editable install)."""
    return (_REPO / "pyproject.toml").is_file() and (_REPO / ".git").exists()


def install_hint(extra: str | None = None) -> str:
    """The command that installs minirl with `extra`, for how this minirl was installed."""
    if from_clone():
        return f"pip install -e '.[{extra}]'" if extra else "pip install -e ."
    return f"pip install '{DISTRIBUTION}[{extra}]'" if extra else f"pip install {DISTRIBUTION}"


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The clone's commit ("+dirty" if tracked files differ from it); None outside a git checkout."""
    if not from_clone():
        return None
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=_REPO, capture_output=True, text=True,
                              timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=_REPO,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.returncode == 0 and dirty.stdout.strip() else "")


def _version_of(name: str) -> str | None:
    module = sys.modules.get(name)
    if module is not None and getattr(module, "__version__", None):
        return str(module.__version__)
    from importlib import metadata
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _blas() -> str:
    """The BLAS NumPy uses, from threadpoolctl (loaded libraries only), e.g. "openblas 0.3.30 (Haswell, 1 thread)"."""
    try:
        import numpy  # noqa: F401  (loads NumPy's BLAS so threadpoolctl can see it)
        from threadpoolctl import threadpool_info
        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    except Exception:                      # threadpoolctl missing or failing: the run goes on
        return "unknown"
    if not pools:
        return "unknown"
    p = pools[0]
    core = f"{p['architecture']}, " if p.get("architecture") else ""
    threads = p.get("num_threads")
    return f"{p.get('internal_api', '?')} {p.get('version') or '?'} ({core}{threads} thread{'s' if threads != 1 else ''})"


def environment() -> dict:
    """What a run records about the software and machine it ran on (module doc)."""
    from . import __version__
    info = {"minirl_version": __version__}
    commit = git_commit()
    if commit:
        info["git_commit"] = commit
    info.update(python=platform.python_version(), numpy=_version_of("numpy"), gymnasium=_version_of("gymnasium"),
                platform=platform.platform(), machine=platform.machine(), cpu_count=os.cpu_count(),
                blas=_blas())
    return info
