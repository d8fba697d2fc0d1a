"""Run folders written before the house moved (`tests/data/legacy_runs/`, commit 84a99d0) still work:
`minirl eval` reproduces what it printed then, `minirl plot` draws them, and `--resume` continues them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from minirl.cli import main

DATA = Path(__file__).parent / "data" / "legacy_runs"
EXPECTED = json.loads((DATA / "expected.json").read_text())


@pytest.fixture(params=sorted(EXPECTED))
def legacy(request, tmp_path):
    folder = tmp_path / request.param
    shutil.copytree(DATA / request.param, folder)
    return request.param, folder


def test_eval_reproduces_what_the_old_code_printed(legacy, capsys):
    name, folder = legacy
    want = EXPECTED[name]
    assert main(["eval", str(folder), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"(\w+) on .*\(checkpoint at step (\d+)\), 2 deterministic episodes: return (\S+) ± (\S+)", out)
    assert m, out
    assert m.group(1) == want["algo"] and int(m.group(2)) == want["step"]
    # float32 kernels differ between CPUs: the same policy gives the same return to a small tolerance
    assert float(m.group(3)) == pytest.approx(want["eval_mean"], rel=1e-2, abs=0.5), out
    assert float(m.group(4)) == pytest.approx(want["eval_std"], rel=5e-2, abs=0.5), out


def test_plot_draws_an_old_run(legacy, tmp_path):
    _, folder = legacy
    figure = tmp_path / "curve.png"
    assert main(["plot", str(folder), "--out", str(figure)]) == 0
    assert figure.stat().st_size > 0


@pytest.mark.slow
def test_resume_continues_an_old_run(legacy, capsys):
    name, folder = legacy
    steps = EXPECTED[name]["step"]
    assert main(["train", "--resume", str(folder), "--total-steps", str(steps * 2), "--no-progress"]) == 0
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["stop_reason"] == "budget" and summary["final_step"] >= steps * 2
    rows = (folder / "progress.csv").read_text().splitlines()
    assert len(rows) > 2 and int(float(rows[-1].split(",")[0])) >= steps * 2
