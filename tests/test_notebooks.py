"""Every Jupyter lesson executes top to bottom in fast mode, its figures are readable, what it says
about its runs is computed or checked, and it is committed without outputs.

Readable: every figure a notebook shows fits the site's text column (`notebook_cache.COLUMN_INCHES`) and
has no text below 8 pt at that size, and a legend next to a shaded band says what the band is
(`docs/notebook_cache.py` injects the check into every execution, the site's too).

True: a lesson states the results of its runs through a `minirl.claims.Chapter` (sentences built from
the numbers with `chapter.say`, claims checked with `chapter.check`, listed by `chapter.report()` in
its last code cell). The fast mode checks that the chapter reports; the claims themselves are decided
by the full-mode run:

    MINIRL_FULL=1 pytest -m notebook tests/test_notebooks.py -k full

executes every notebook in full mode (or reuses its full-mode outputs in build/notebooks/full/ while
they are fresh: the same notebook and minirl sources; they were stored only if every claim held) and
fails on any claim its run does not show. `make site` executes the same full-mode runs, so the claims
are checked there too. CI runs the fast mode.

One test per `notebooks/*.ipynb` (found on disk, so new lessons are picked up), run with nbclient in
the `python3` kernel of this interpreter, working directory `notebooks/`, `MINIRL_FAST=1`, and a
per-cell timeout. Select them with `-m notebook`, skip them with `-m "not notebook"`. Each executed
notebook is written to build/notebooks/<mode>/ (`docs/notebook_cache.py`), where `make site` picks
it up instead of executing the lesson again.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "docs"))
import notebook_cache  # noqa: E402  (docs/notebook_cache.py: where the site build finds these outputs)

from minirl.claims import METADATA_KEY  # noqa: E402

NOTEBOOK_DIR = REPO / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
FULL = os.environ.get("MINIRL_FULL") == "1"
# Lessons whose claims are not yet made through a Chapter (issue 20): none is left; a new lesson
# without one fails test_notebook_reports_what_it_checked.
CLAIMS_PENDING: set[str] = set()


def _ids(paths):
    return [p.stem for p in paths]


def _lesson(path: Path) -> str:
    return path.name.split("_", 1)[0]


def _uses_chapter(nb) -> bool:
    return any(c.cell_type == "code" and "Chapter(" in c.source for c in nb.cells)


def _claims_summary(nb) -> dict | None:
    """The summary `Chapter.report()` attached to its output, or None when the notebook has none."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = out.get("metadata", {}).get(METADATA_KEY)
            if meta is not None:
                return meta
    return None


def _execute(path: Path, mode: str):
    nbclient = pytest.importorskip("nbclient")
    try:
        node, _ = notebook_cache.execute(path, mode)
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name} failed in {mode} mode:\n{str(exc)[-4000:]}", pytrace=False)
    except nbclient.exceptions.CellTimeoutError as exc:
        pytest.fail(f"{path.name}: a cell ran longer than {notebook_cache.TIMEOUT_S[mode]} s in {mode} mode: "
                    f"{exc}", pytrace=False)
    return node


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes_in_fast_mode(path):
    pytest.importorskip("nbformat")
    node = _execute(path, "fast")
    if _uses_chapter(node):
        summary = _claims_summary(node)
        assert summary is not None and summary["mode"] == "fast", \
            f"{path.name}: its last code cell should call chapter.report() (minirl.claims)"


@pytest.mark.notebook
@pytest.mark.slow
@pytest.mark.skipif(not FULL, reason="full-mode runs take minutes each: MINIRL_FULL=1 runs them")
@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_claims_hold_in_full_mode(path):
    """Every claim the lesson checks holds in its full-mode run (a failing one stops the run)."""
    pytest.importorskip("nbformat")
    node = notebook_cache.load_fresh(path, "full") or _execute(path, "full")
    summary = _claims_summary(node)
    if summary is None:
        assert not _uses_chapter(node), f"{path.name}: its last code cell should call chapter.report()"
        pytest.skip(f"{path.name} checks no claims (lesson {_lesson(path)})")
    assert summary["mode"] == "full" and summary["failed"] == [], summary
    assert summary["checked"] > 0, f"{path.name}: its Chapter checks no claim"


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
    from minirl.about import DISTRIBUTION
    assert "make lab" in proc.stderr and "pip install -e ." in proc.stderr and f"pip install {DISTRIBUTION}" in proc.stderr, (
        f"{path.name}: the first code cell should fail with 'install minirl: run `make lab` or "
        f"`pip install -e .` from a clone's root (without a clone: `pip install {DISTRIBUTION}`)', got: {last}")


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


@pytest.mark.skipif(not NOTEBOOKS, reason="no notebooks yet")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_reports_what_it_checked(path):
    """A lesson makes its claims about its runs through a minirl.claims.Chapter: made in a code cell,
    reported by `.report()` in the last code cell (which the notebook tests read)."""
    nbformat = pytest.importorskip("nbformat")
    nb = nbformat.read(path, as_version=4)
    if not _uses_chapter(nb):
        assert _lesson(path) in CLAIMS_PENDING, (
            f"{path.name}: state the results of its runs through minirl.claims.Chapter (say / check / "
            "report); see CONTRIBUTING.md, Notebooks")
        pytest.skip(f"lesson {_lesson(path)}: its claims are converted by the helper that owns it")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert re.search(r"\w+\.report\(\)", code[-1]), f"{path.name}: the last code cell should call chapter.report()"
    assert "MINIRL_FAST" in "".join(code) and "fast=FAST" in "".join(code), \
        f"{path.name}: make the Chapter with fast=FAST, so the fast mode says what it cannot show"
