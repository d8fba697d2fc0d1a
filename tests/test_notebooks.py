"""Every Jupyter lesson executes top to bottom in fast mode, and is committed without outputs.

One test per `notebooks/*.ipynb` (found on disk, so new lessons are picked up), run with nbclient in
the `python3` kernel of this interpreter, working directory `notebooks/`, `MINIRL_FAST=1`, and a
per-notebook timeout. Select them with `-m notebook`, skip them with `-m "not notebook"`.

Each executed notebook is also written to build/notebooks/fast/ (`docs/notebook_cache.py`), where
`make site FAST=1` picks it up instead of executing the lesson again.
"""

from __future__ import annotations

import os
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


def _ids(paths):
    return [p.stem for p in paths]


@pytest.fixture(scope="module")
def kernel_env():
    """Run the kernel from this interpreter's environment, in fast mode, on one BLAS thread."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    saved = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    os.environ.update(MINIRL_FAST="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                      PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    os.environ.pop("MINIRL_FULL", None)
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
    notebook_cache.store(nb, path, "fast", time.perf_counter() - start, key=key)


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
