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
| `execute(nb, mode)` | run a notebook with nbclient, its figures checked (below), store it, return (node, seconds) |

Every execution, the tests' and the site's, checks each figure the notebook draws, as it is drawn
(`FIGURE_CHECK`, a cell injected before the lesson's first and removed before storing): it is at most
`COLUMN_INCHES` wide, the width of the site's text column on a 1280 px screen at 100 dpi, so it is shown
at its own size; no text on it is below `MIN_POINTS`; a legend beside a shaded band says what the band
is. Each PNG is stamped with its smallest text size (the PNG text chunk `MIN_TEXT_KEY`), from which the
site (docs/site_hooks.py) works out how narrow it may be shown before its text falls below `MIN_POINTS`.

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
MIN_POINTS = 8.0                  # no text smaller than this at the size the figure is shown
COLUMN_INCHES = 9.6               # the site's text column at 1280 px (docs/assets/site.css), at 100 dpi
MIN_TEXT_KEY = "minirl:min-text-pt"

# Injected before the notebook's first cell: every figure is checked as it is drawn (IPython's inline
# backend and savefig both go through print_figure); the last injected cell fails with the problems.
FIGURE_CHECK = f"""
import io as _minirl_io, struct as _minirl_struct
import matplotlib.backend_bases as _minirl_bb, matplotlib.text as _minirl_text
from matplotlib.collections import PolyCollection as _minirl_Poly
_MINIRL_FIGURE_PROBLEMS = []
_minirl_print_figure = _minirl_bb.FigureCanvasBase.print_figure
def _minirl_checked_print_figure(self, *args, **kwargs):
    fig = self.figure
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    where = repr(titles[0][:50]) if titles else f"a figure with {{len(fig.axes)}} axes"
    sizes = [(t.get_fontsize(), t.get_text()[:40]) for t in fig.findobj(_minirl_text.Text)
             if t.get_visible() and t.get_text().strip()]
    small = min(sizes) if sizes else None
    if small and small[0] < {MIN_POINTS} - 1e-9:
        _MINIRL_FIGURE_PROBLEMS.append(f"{{where}}: text {{small[1]!r}} is {{small[0]:.1f}} pt (need {MIN_POINTS:g} pt)")
    for ax in fig.axes:
        legend = ax.get_legend()
        bands = [c for c in ax.collections if isinstance(c, _minirl_Poly)]
        if legend is not None and bands:
            words = " ".join(t.get_text() for t in legend.get_texts()) + " " + ax.get_title() + " " \\
                + legend.get_title().get_text()
            if "band" not in words:
                _MINIRL_FIGURE_PROBLEMS.append(f"{{where}}: a shaded band whose legend does not say what it is")
    target = args[0] if args else kwargs.get("fname")
    png = kwargs.get("format") == "png" or (isinstance(target, str) and target.endswith(".png"))
    if png and small:
        kwargs["metadata"] = dict(kwargs.get("metadata") or {{}}, **{{{MIN_TEXT_KEY!r}: f"{{small[0]:.2f}}"}})
    result = _minirl_print_figure(self, *args, **kwargs)
    if png and isinstance(target, _minirl_io.BytesIO) and target.getvalue()[:8] == b"\\x89PNG\\r\\n\\x1a\\n":
        width_px = _minirl_struct.unpack(">I", target.getvalue()[16:20])[0]
        inches = width_px / float(kwargs.get("dpi") or fig.dpi)
        if inches > {COLUMN_INCHES} + 0.05:
            _MINIRL_FIGURE_PROBLEMS.append(
                f"{{where}}: {{inches:.1f}} inches wide as saved, wider than the site's column "
                f"({COLUMN_INCHES:g} inches at 1280 px): draw it narrower or stack its panels")
    return result
_minirl_bb.FigureCanvasBase.print_figure = _minirl_checked_print_figure
"""
FIGURE_VERDICT = """
_problems = sorted(set(_MINIRL_FIGURE_PROBLEMS))
assert not _problems, "figures a learner cannot read:\\n" + "\\n".join(_problems)
"""


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


def without_checks(nb_node):
    """The executed lesson as a learner runs it: the injected figure-check cells removed and the
    execution counts renumbered from 1."""
    nb_node.cells = nb_node.cells[1:-1]
    for cell in nb_node.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            cell.execution_count -= 1
            for out in cell.get("outputs", []):
                if out.get("execution_count"):
                    out.execution_count -= 1
    return nb_node


def execute(notebook: Path, mode: str, build: Path = BUILD):
    """Execute `notebook` top to bottom (working directory notebooks/) with its figures checked,
    store it without the check cells; (node, seconds).

    Raises nbclient's CellExecutionError / CellTimeoutError: a lesson that fails (a cell, a claim of
    its text that its run does not show, an illegible figure) is not published.
    """
    import nbclient
    import nbformat
    notebook = Path(notebook)
    key = source_key(notebook, mode)
    nb_node = nbformat.read(notebook, as_version=4)
    nb_node.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_CHECK))
    nb_node.cells.append(nbformat.v4.new_code_cell(FIGURE_VERDICT))
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
    without_checks(nb_node)
    store(nb_node, notebook, mode, seconds, key=key, build=build)
    return nb_node, seconds
