"""Every Jupyter lesson executes top to bottom in fast mode, its figures are readable, and it is
committed without outputs.

Readable: every figure a notebook shows has no text below 8 pt as it appears in a notebook cell
(a figure wider than 11 inches is shrunk to that width), and a legend next to a shaded band says
what the band is.

One test per `notebooks/*.ipynb` (found on disk, so new lessons are picked up), run with nbclient in
the `python3` kernel of this interpreter, working directory `notebooks/`, `MINIRL_FAST=1`, and a
per-notebook timeout. Select them with `-m notebook`, skip them with `-m "not notebook"`.

Each executed notebook is also written to build/notebooks/fast/ (`docs/notebook_cache.py`), where
`make site FAST=1` picks it up instead of executing the lesson again.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "docs"))
import notebook_cache  # noqa: E402  (docs/notebook_cache.py: where the site build finds these outputs)

NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
TIMEOUT_S = 180          # per notebook; each should take under 60 s in fast mode
MIN_POINTS = 8.0         # no text smaller than this on screen
SCREEN_INCHES = 11.0     # a wider figure is shrunk to about this width by the notebook's cell

# Injected before the notebook's first cell: every figure the notebook shows is checked as it is
# drawn (fonts scaled by how much a wide figure is shrunk on screen; a legend beside a bootstrap
# band must say what the band is); the last injected cell fails with the list of problems.
FIGURE_CHECK = f"""
import matplotlib.backend_bases as _minirl_bb, matplotlib.text as _minirl_text
from matplotlib.collections import PolyCollection as _minirl_Poly
_MINIRL_FIGURE_PROBLEMS = []
_minirl_print_figure = _minirl_bb.FigureCanvasBase.print_figure
def _minirl_checked_print_figure(self, *args, **kwargs):
    fig = self.figure
    width = fig.get_figwidth()
    scale = min(1.0, {SCREEN_INCHES} / width)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    where = repr(titles[0][:50]) if titles else f"a figure with {{len(fig.axes)}} axes"
    small = [(t.get_fontsize() * scale, t.get_text()[:40]) for t in fig.findobj(_minirl_text.Text)
             if t.get_visible() and t.get_text().strip()]
    small = min(small) if small else None
    if small and small[0] < {MIN_POINTS} - 1e-9:
        _MINIRL_FIGURE_PROBLEMS.append(
            f"{{where}}: text {{small[1]!r}} is {{small[0]:.1f}} pt on screen (a {{width:.1f}}-inch-wide "
            f"figure is shown about {SCREEN_INCHES:g} inches wide; need {MIN_POINTS:g} pt)")
    for ax in fig.axes:
        legend = ax.get_legend()
        bands = [c for c in ax.collections if isinstance(c, _minirl_Poly)]
        if legend is not None and bands:
            words = " ".join(t.get_text() for t in legend.get_texts()) + " " + ax.get_title() + " " \
                + legend.get_title().get_text()
            if "band" not in words:
                _MINIRL_FIGURE_PROBLEMS.append(f"{{where}}: a shaded band whose legend does not say what it is")
    return _minirl_print_figure(self, *args, **kwargs)
_minirl_bb.FigureCanvasBase.print_figure = _minirl_checked_print_figure
"""
FIGURE_VERDICT = """
_problems = sorted(set(_MINIRL_FIGURE_PROBLEMS))
assert not _problems, "figures a learner cannot read:\\n" + "\\n".join(_problems)
"""


def _ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(scope="module")
def kernel_env():
    """Run the kernel from this interpreter's environment, in fast mode, on one BLAS thread."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(notebook_cache.kernel_environ("fast"))     # what the site build runs them in
    try:
        yield nbformat, nbclient
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes_in_fast_mode(path, kernel_env, tmp_path):
    nbformat, nbclient = kernel_env
    key = notebook_cache.source_key(path, "fast")
    nb = nbformat.read(path, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(FIGURE_CHECK))
    nb.cells.append(nbformat.v4.new_code_cell(FIGURE_VERDICT))
    client = nbclient.NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name="python3",
        # jupyter_client starts a "python ..." kernelspec with this interpreter (sys.executable)
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} failed in fast mode:\n{str(exc)[-4000:]}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as exc:
        pytest.fail(f"{path.name}: a cell ran longer than {TIMEOUT_S} s in fast mode: {exc}", pytrace=False)
    seconds = time.perf_counter() - start
    notebook_cache.store(_without_checks(nb), path, "fast", seconds, key=key)


def _without_checks(nb):
    """The executed lesson as a learner runs it, for the site: the injected figure-check cells removed
    and the execution counts renumbered from 1."""
    nb.cells = nb.cells[1:-1]
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.get("execution_count"):
            cell.execution_count -= 1
            for out in cell.get("outputs", []):
                if out.get("execution_count"):
                    out.execution_count -= 1
    return nb


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean(path):
    """No outputs and no execution counts: notebooks are sources, their results come from running them."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(nb.cells)
             if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} carry outputs or execution counts; clear them "
                       "before committing (Jupyter: Edit > Clear Outputs of All Cells, or `jupyter "
                       "nbconvert --clear-output --inplace`)")
    first = nb.cells[0] if nb.cells else None
    assert first is not None and first.cell_type == "markdown", \
        f"{path.name}: the first cell must be markdown saying what the lesson teaches, how long it runs, what to expect"
    assert "MINIRL_FAST" in "".join(c.source for c in nb.cells if c.cell_type == "code"), \
        f"{path.name}: no cell reads MINIRL_FAST, so the fast mode cannot shrink its budgets"


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_without_minirl_says_how_to_install(path, tmp_path):
    """The first code cell, run where `import minirl` fails, stops with the install instructions."""
    import subprocess
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    first = next(c.source for c in nb.cells if c.cell_type == "code")
    first = "\n".join(line for line in first.splitlines() if not line.lstrip().startswith(("%", "!")))
    script = tmp_path / "first_cell.py"
    # sys.modules["minirl"] = None makes `import minirl` raise ImportError, as if it were not installed
    script.write_text("import sys\nsys.modules['minirl'] = None\n" + first, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], cwd=NOTEBOOK_DIR, capture_output=True, text=True,
                          env=dict(os.environ, MPLBACKEND="Agg"))
    assert proc.returncode != 0, f"{path.name}: the first code cell runs even though minirl cannot be imported"
    last = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
    assert "make lab" in proc.stderr and "pip install -e ." in proc.stderr, (
        f"{path.name}: the first code cell should fail with 'install minirl: run `make lab` or "
        f"`pip install -e .` from the repository root', got: {last}")


# ------------------------------------------------------------------------------ the learner's conventions
def _markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def _exercise_functions(path: Path) -> list[str]:
    """The functions a lesson's learner writes (from its stub's NotImplementedError messages)."""
    from minirl import exercises
    for lesson in exercises.LESSONS:
        if REPO / lesson.notebook == path:
            stub = exercises.lesson_stub(lesson) or ""
            names = re.findall(r'raise NotImplementedError\("lesson \d\d: implement ([\w.]+),', stub)
            return list(dict.fromkeys(n.removesuffix(".backward") for n in names))
    return []


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_has_a_plan_answers_and_hints(path):
    """Difficulty, study time and run time up front; a revealable answer after every "Predict" and
    for every end-of-lesson question; two hints and a solution sketch for every exercise function."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    md = _markdown(nb)
    missing = [key for key in ("**Difficulty.**", "**Study time.**", "**How long it runs.**") if key not in md[0]]
    assert not missing, f"{path.name}: the first cell should state {missing}"
    problems = []
    for k, text in enumerate(md):
        following = md[k + 1] if k + 1 < len(md) else ""
        if "**Predict" in text and "<summary>Answer" not in following:
            problems.append(f"a 'Predict' prompt ({text.split('**Predict')[1][:60]!r}...) has no "
                            "<details><summary>Answer... in the next markdown cell")
        heading = re.search(r"^\W*Questions\b.*$", text, flags=re.M)
        if heading:                                   # numbered questions after a "Questions" line
            for n in re.findall(r"^\s*(\d+)\. ", text[heading.end():], flags=re.M):
                if f"<summary>Answer to question {n}</summary>" not in following:
                    problems.append(f"question {n} has no <summary>Answer to question {n}</summary> in "
                                    "the next markdown cell")
    text = "\n".join(md)
    for name in _exercise_functions(path):
        for step in ("Hint 1", "Hint 2", "Solution sketch"):
            if f"<summary>{step} for <code>{name}</code></summary>" not in text:
                problems.append(f"the exercise {name} has no '{step}' (<summary>{step} for <code>{name}</code>)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
