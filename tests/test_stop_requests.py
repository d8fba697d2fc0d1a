"""Stop requests with real processes and real signals (issue 23): one request however many copies arrive.

* systemd (`KillMode=control-group`), Slurm and `timeout` signal every process of a job. A sweep's
  worker then receives SIGTERM itself *and* from its parent. Before: the second copy meant "stop at
  once": the trial dropped its steps (stop_reason SIGINT, final step 0) or was recorded as failed,
  while the sweep said every trial stopped with a checkpoint. Now: each trial ends at its next row
  with a checkpoint, and the sweep's message says, trial by trial, where it stopped.
* Three Ctrl-C within 100 ms of `minirl train`. Before: sometimes no summary.json, a stray
  `summary.json.tmp.<pid>` and exit code -2 (a KeyboardInterrupt while the final files were being
  written). Now: always exit 130, and log, checkpoint and summary agree.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_run_folder import _assert_consistent, _json, _train_cmd, _wait_for_rows
from test_sweep import _descendants, _gated_sweep, _log, wait_at_gate

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, real signals")

TRIALS = [f"ppo-sweep_gate_GatedCartPole-v0/s{seed}" for seed in (0, 1)]


def _signal_every_process(pids: list[int], copies: int) -> None:
    for _ in range(copies):
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.mark.slow
def test_sigterm_to_every_process_of_a_sweep_ten_times_keeps_every_trials_work(tmp_path):
    orders = ["parent first", "workers first", "parent last, twice each", "three copies each"] * 3
    for attempt, order in enumerate(orders[:10]):
        work = tmp_path / f"try{attempt}"
        work.mkdir()
        out = work / "sw"
        gate, proc, _, _ = _gated_sweep(work, out, "--jobs", "2")
        wait_at_gate(gate, proc, work)
        workers = sorted(_descendants(proc.pid))
        if order == "parent first":
            _signal_every_process([proc.pid, *workers], 1)
        elif order == "workers first":
            _signal_every_process([*workers, proc.pid], 1)
        elif order == "parent last, twice each":
            _signal_every_process([*workers, proc.pid], 2)
        else:
            _signal_every_process([proc.pid, *workers], 3)
        time.sleep(0.3)
        (gate / "closed").unlink()                     # let the trials reach the end of their update
        code = proc.wait(timeout=180)
        log = _log(work)
        assert code == 143, f"try {attempt} ({order}): exit {code}\n{log[-3000:]}"
        assert not (out / "failures.json").exists(), f"try {attempt} ({order}): a trial was recorded as failed\n{log[-3000:]}"
        for name in TRIALS:
            folder = out / name
            summary = _json(folder / "summary.json")
            assert summary["stop_reason"] == "SIGTERM" and not summary.get("stopped_at_once"), (attempt, order, summary)
            assert summary["final_step"] > 0, f"try {attempt} ({order}): {name} lost its steps: {summary}"
            _assert_consistent(folder)
            assert f"{name} at step {summary['final_step']}" in log, log[-3000:]
        assert "stopped at their next update with a checkpoint" in log, log[-3000:]
        row, = csv.DictReader(open(out / "report.csv"))
        assert (row["finished"], row["failed"], row["pending"]) == ("0", "0", "2")


def _agree(run: Path) -> None:
    """Log, checkpoint and summary describe one state; after a stop at once that may be step 0, no rows."""
    from minirl.checkpoint import load_checkpoint
    from minirl.logger import read_csv
    summary, ck = _json(run / "summary.json"), load_checkpoint(run / "checkpoint.npz")
    steps = read_csv(run / "progress.csv").get("step", [])
    assert ck.step == summary["final_step"] == (int(steps[-1]) if len(steps) else 0), (ck.step, summary, steps)
    assert int(ck.state["counters.updates"]) == len(steps)


def _leftovers(run: Path) -> list[str]:
    return sorted(p.name for p in run.iterdir() if ".tmp" in p.name)


@pytest.mark.slow
def test_three_ctrl_c_within_100_ms_always_leave_agreeing_files_and_exit_130(tmp_path):
    gaps = [0.0, 0.01, 0.05] * 3
    for attempt, gap in enumerate(gaps):
        run = tmp_path / f"run{attempt}"
        proc = subprocess.Popen(_train_cmd(run), env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        _wait_for_rows(proc, run, rows=2)
        for _ in range(3):
            proc.send_signal(signal.SIGINT)
            time.sleep(gap)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, f"try {attempt}: exit {proc.returncode}\n{err[-2000:]}"
        assert (run / "summary.json").exists() and not _leftovers(run), (attempt, _leftovers(run), err[-2000:])
        _agree(run)
        summary = _json(run / "summary.json")
        assert summary["interrupted"] and summary["stop_reason"] == "SIGINT", summary
        assert "Traceback" not in err, err[-2000:]


def test_copies_of_sigterm_are_one_request_and_a_second_ctrl_c_stops_at_once_only_while_armed():
    from minirl.runs.signals import stop_requests

    with stop_requests("testing") as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGINT)              # not armed: a copy, nothing happens
        assert stop.name == "SIGTERM" and not stop.at_once
        with pytest.raises(KeyboardInterrupt):
            with stop.armed():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.5)
        with stop.armed():
            os.kill(os.getpid(), signal.SIGINT)          # only once: the files are being written
        with stop_requests("inner") as inner:            # nested: the same request
            assert inner is stop and inner.name == "SIGTERM"
    assert signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None) or callable(signal.getsignal(signal.SIGTERM))


def test_a_request_passed_on_by_a_parent_is_seen_through_the_source():
    from minirl.runs.signals import stop_requests

    asked = {"value": 0}
    with stop_requests("testing", source=lambda: asked["value"] or None) as stop:
        assert stop.signum is None
        asked["value"] = int(signal.SIGINT)
        assert stop.name == "SIGINT"
        stop.clear()
        asked["value"] = 0
        assert stop.signum is None
