"""Executed notebooks, kept in build/notebooks/<mode>/ so the test suite and the site share them.

`tests/test_notebooks.py` executes every lesson in fast mode and stores the result here; `make site
FAST=1` then takes those outputs instead of executing the notebooks a second time, and `make site`
(full mode) executes only what is missing or stale.

A stored notebook is *fresh* when it was executed from the same notebook text, in the same mode,
with the same minirl sources: the key is a SHA-256 over the mode, the notebook's bytes and every
`minirl/**/*.py` (path and bytes). Modification times are not used: a git checkout resets them, and a
library change can alter a notebook's outputs without touching the notebook.

| name | what |
|---|---|
| `MODES` | "fast" (`MINIRL_FAST=1`, what the tests run) and "full" (every budget as written) |
| `cache_path(nb, mode)` | build/notebooks/<mode>/<nb name> |
| `source_key(nb, mode)` | the freshness key (hex string) |
| `store(nb_node, nb, mode, seconds, key)` | write an executed notebook with its key and run time |
| `load_fresh(nb, mode)` | the stored notebook if its key matches, else None |
| `execute(nb, mode)` | run a notebook with nbclient (as the tests do), store it, return (node, seconds) |

Standard library plus nbformat/nbclient (the `dev` or `docs` extra); minirl does not import this.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "build" / "notebooks"
MODES = ("fast", "full")
META_KEY = "minirl_executed"      # notebook metadata: {"mode", "key", "seconds"}
TIMEOUT_S = {"fast": 180, "full": 3600}   # per cell


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def cache_path(notebook: Path, mode: str, build: Path = BUILD) -> Path:
    _check_mode(mode)
    return Path(build) / mode / Path(notebook).name


def source_key(notebook: Path, mode: str) -> str:
    """SHA-256 over the mode, the notebook's bytes and every minirl source file (path and bytes)."""
    _check_mode(mode)
    h = hashlib.sha256(mode.encode())
    h.update(Path(notebook).read_bytes())
    package = REPO / "minirl"
    for path in sorted(package.rglob("*.py")):
        h.update(str(path.relative_to(package)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def store(nb_node, notebook: Path, mode: str, seconds: float, key: str | None = None,
          build: Path = BUILD) -> Path:
    """Write the executed `nb_node` of `notebook` atomically (parallel test workers are safe).

    `key` is `source_key(notebook, mode)` taken *before* executing (the default takes it now).
    Refuses a node whose cells are not the lesson's own (the site shows what is stored: a cell a
    test injected would appear on the lesson's page).
    """
    import nbformat
    lesson = [c.source for c in nbformat.read(notebook, as_version=4).cells]
    if [c.source for c in nb_node.cells] != lesson:
        raise ValueError(f"{Path(notebook).name}: the executed notebook's cells differ from the lesson's "
                         f"({len(nb_node.cells)} against {len(lesson)}): store the lesson as written, "
                         "without injected cells")
    nb_node.metadata[META_KEY] = {"mode": mode, "key": key or source_key(notebook, mode),
                                  "seconds": round(float(seconds), 1)}
    out = cache_path(notebook, mode, build)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    nbformat.write(nb_node, tmp)
    os.replace(tmp, out)
    return out


def load_fresh(notebook: Path, mode: str, build: Path = BUILD):
    """The stored executed notebook when its key matches the current sources, else None."""
    import nbformat
    path = cache_path(notebook, mode, build)
    if not path.is_file():
        return None
    try:
        nb_node = nbformat.read(path, as_version=4)
    except Exception:                       # a truncated or foreign file: execute again
        return None
    meta = nb_node.metadata.get(META_KEY, {})
    return nb_node if meta.get("key") == source_key(notebook, mode) else None


def kernel_environ(mode: str) -> dict:
    """The environment a lesson's kernel runs in: this interpreter's bin first, one BLAS thread."""
    _check_mode(mode)
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PATH=bin_dir + os.pathsep + env.get("PATH", ""))
    env.pop("MINIRL_FULL", None)
    if mode == "fast":
        env["MINIRL_FAST"] = "1"
    else:
        env.pop("MINIRL_FAST", None)
    return env


def execute(notebook: Path, mode: str, build: Path = BUILD):
    """Execute `notebook` top to bottom (working directory notebooks/), store it; (node, seconds).

    Raises nbclient's CellExecutionError / CellTimeoutError: a lesson that fails is not published.
    """
    import nbclient
    import nbformat
    notebook = Path(notebook)
    key = source_key(notebook, mode)
    nb_node = nbformat.read(notebook, as_version=4)
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(kernel_environ(mode))
    try:
        client = nbclient.NotebookClient(nb_node, timeout=TIMEOUT_S[mode], kernel_name="python3",
                                         resources={"metadata": {"path": str(notebook.parent)}})
        start = time.perf_counter()
        client.execute()
        seconds = time.perf_counter() - start
    finally:
        os.environ.clear()
        os.environ.update(saved)
    store(nb_node, notebook, mode, seconds, key=key, build=build)
    return nb_node, seconds
