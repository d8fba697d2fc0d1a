"""Sweep folders that are shared, damaged, copied or left behind by a kill (issue 23).

Each test states what happened before the fix. The sweeps are real (`python -m minirl sweep`, tiny
CartPole budgets); the gated ones wait at tests/sweep_gate.py's gate so that a second command meets
the first one mid-run.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minirl.cli import main
from test_sweep import _gated_sweep, _log, wait_at_gate

TINY = ["--algo", "ppo", "--env", "CartPole-v1", "--seeds", "0-1", "--total-steps", "512", "--eval-every", "512",
        "--eval-episodes", "1", "--jobs", "1", "--set", "num_envs=2", "--set", "num_steps=128"]
NAMES = ["ppo-CartPole-v1/s0", "ppo-CartPole-v1/s1"]


def _sweep(out: Path, capsys, *extra) -> tuple[int, str, str]:
    code = main(["sweep", *TINY, "--out", str(out), *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _report_row(out: Path) -> dict:
    row, = csv.DictReader(open(out / "report.csv"))
    return row


@pytest.fixture
def finished_sweep(tmp_path, capsys):
    out = tmp_path / "sw"
    code, printed, err = _sweep(out, capsys)
    assert code == 0, err[-2000:]
    return out


@pytest.mark.slow
def test_the_report_counts_a_damaged_or_copied_trial_as_its_failed_lines_say(finished_sweep, capsys):
    """Before: a finished trial whose config.json was damaged failed on the rerun ("failed:" line) while the
    report counted it finished, and a copied folder counted as a second seed of its original."""
    out = finished_sweep
    (out / NAMES[1] / "config.json").write_text("garbage")
    code, printed, err = _sweep(out, capsys)
    failed_lines = [line for line in printed.splitlines() if line.startswith("failed: ")]
    row = _report_row(out)
    assert code == 1 and int(row["failed"]) == len(failed_lines) == 1, (row, printed, err[-2000:])
    assert failed_lines[0].startswith(f"failed: {NAMES[1]}: ") and row["finished"] == "1"
    # the original of a copy stays counted once: s1's folder replaced by a copy of s0's
    shutil.rmtree(out / NAMES[1])
    shutil.copytree(out / NAMES[0], out / NAMES[1])
    (out / "failures.json").unlink()
    assert main(["sweep", "--report", str(out)]) == 1
    printed = capsys.readouterr().out
    failed_lines = [line for line in printed.splitlines() if line.startswith("failed: ")]
    row = _report_row(out)
    assert (row["finished"], row["failed"]) == ("1", "1") and len(failed_lines) == 1, (row, printed)
    assert NAMES[1] in failed_lines[0] and "seed 0" in failed_lines[0] and "copied folder" in failed_lines[0]


@pytest.mark.slow
def test_failures_json_says_what_is_failed_now_after_a_clean_rerun(finished_sweep, capsys):
    """Before: an entry for a trial finished since (by another sweep, or by hand) stayed in failures.json for
    good, and every rerun exited 1 reporting it failed."""
    out = finished_sweep
    (out / "failures.json").write_text(json.dumps({NAMES[0]: {"error": "the worker process died", "attempts": 2},
                                                   "ppo-CartPole-v1/s7": {"error": "not in this sweep", "attempts": 1}}))
    code, printed, err = _sweep(out, capsys)
    assert code == 0 and "failed:" not in printed, printed
    assert not (out / "failures.json").exists()
    assert (_report_row(out)["finished"], _report_row(out)["failed"]) == ("2", "0")


@pytest.mark.slow
def test_temporary_files_left_by_a_kill_are_removed_by_the_next_sweep_and_resume(finished_sweep, capsys, tmp_path):
    out = finished_sweep
    left = [out / NAMES[0] / ".checkpoint-abc123.npz.tmp", out / NAMES[1] / "summary.json.tmp.99999",
            out / "failures.json.tmp.4242", out / "sweep.json.tmp.4242"]
    for path in left:
        path.write_text("partial")
    code, _, err = _sweep(out, capsys)
    assert code == 0, err[-2000:]
    assert not [p for p in left if p.exists()], [p.name for p in left if p.exists()]
    # a run folder on its own: `minirl train --resume`
    run = out / NAMES[0]
    (run / ".checkpoint-def456.npz.tmp").write_text("partial")
    (run / "progress.csv.tmp").write_text("partial")
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert not list(run.glob("*.tmp*")) and not list(run.glob(".*.tmp*"))


@pytest.mark.slow
def test_a_second_sweep_into_the_same_folder_is_refused_while_the_first_runs(tmp_path):
    """Before: both sweeps ran; each reported the trials the other held as "failed" and exited 1."""
    out = tmp_path / "sw"
    gate, first, env, argv = _gated_sweep(tmp_path, out, "--jobs", "2")
    try:
        wait_at_gate(gate, first, tmp_path)
        second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
        err = second.stderr.strip()
        assert second.returncode == 2 and len(err.splitlines()) == 1, err[-2000:]
        assert f"is being swept by pid {first.pid}" in err, err
    finally:
        (gate / "closed").unlink()
    assert first.wait(timeout=180) == 0, _log(tmp_path)[-2000:]
    assert not (out / "failures.json").exists() and "failed:" not in _log(tmp_path)
