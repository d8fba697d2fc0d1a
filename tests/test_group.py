"""Groups (minirl.runs.group): trials that differ only by seed train stacked in one process, and every
folder is exactly what one process per trial writes (rows, checkpoints, summaries; resume; stop_return)."""

import csv
import json
import os
import signal

import numpy as np
import pytest

from minirl.checkpoint import load_checkpoint
from minirl.runs import sweep as sw
from minirl.runs.driver import load_run
from minirl.runs.executor import Outcome
from minirl.runs.sweep_run import run_sweep
from minirl.runs.trials import Trial, plan_units, run_group

TIMING_COLUMNS = {"time_s", "rollout_s", "update_s", "steps_per_s"}
TIMING_KEYS = {"solved_time_s", "solved_eval_time_s", "total_time_s", "eval_time_s", "steps_per_s",
               "session_steps_per_s", "last_row", "time_s"}


class _Serial:
    """A local executor that runs each task here, one after the other."""

    remote, jobs, stopped = False, 1, None

    def __init__(self):
        self.tasks = []

    def run(self, fn, tasks):
        for key, args in tasks.items():
            self.tasks.append(args[0])
            yield Outcome(key, True, fn(*args), None, 1)


def _rows(folder):
    with open(os.path.join(folder, "progress.csv")) as f:
        return [{k: v for k, v in r.items() if k not in TIMING_COLUMNS} for r in csv.DictReader(f)]


def assert_same_folder(a, b):
    """Everything but the timings: config.json, progress.csv, summary.json, the checkpoint's arrays."""
    assert json.loads(open(os.path.join(a, "config.json")).read()) == json.loads(open(os.path.join(b, "config.json")).read())
    assert _rows(a) == _rows(b)
    sa, sb = (json.loads(open(os.path.join(x, "summary.json")).read()) for x in (a, b))
    assert _untimed(sa) == _untimed(sb)
    ca, cb = (load_checkpoint(os.path.join(x, "checkpoint.npz")) for x in (a, b))
    assert ca.state.keys() == cb.state.keys() and ca.step == cb.step
    for k in ca.state:
        if k != "counters.train_time":
            np.testing.assert_array_equal(ca.state[k], cb.state[k], err_msg=k)
    assert _untimed(ca.extra) == _untimed(cb.extra)


def _untimed(book):
    out = {k: v for k, v in book.items() if k not in TIMING_KEYS and k != "row"}
    out["row"] = {k: v for k, v in (book.get("row") or {}).items() if k not in TIMING_COLUMNS}
    return out


def _sweep(out, stack, algo="ppo", env="CartPole-v1", eval_every="1024", **flags):
    sweep = sw.sweep_from_flags(algo=algo, env=env, eval_every=eval_every, **flags)
    trials = sw.expand(sweep)
    executor = _Serial()
    result = run_sweep(str(out), trials, executor, stack=stack)
    return trials, result, executor


def test_a_stacked_sweep_writes_what_one_process_per_trial_writes(tmp_path):
    trials, result, executor = _sweep(tmp_path / "stacked", True, seeds="0-2", total_steps="2048")
    assert len(executor.tasks) == 1 and len(executor.tasks[0]) == 3, "the three seeds are one task"
    assert sorted(result.done) == sorted(t.name for t in trials)
    _, _, alone = _sweep(tmp_path / "alone", False, seeds="0-2", total_steps="2048")
    assert len(alone.tasks) == 3
    for t in trials:
        assert_same_folder(tmp_path / "stacked" / t.name, tmp_path / "alone" / t.name)
    # a stacked seed's folder is an ordinary run: loadable (minirl eval) and resumable alone
    agent, info, ckpt = load_run(str(tmp_path / "stacked" / trials[1].name))
    assert info["seed"] == 1 and agent.global_step == ckpt.step == 2048
    agent.close()


def test_a_larger_budget_resumes_the_group_as_single_runs_resume(tmp_path):
    for out, stack in ((tmp_path / "stacked", True), (tmp_path / "alone", False)):
        _sweep(out, stack, seeds="0-1", total_steps="1024")
        trials, result, _ = _sweep(out, stack, seeds="0-1", total_steps="2048")
        assert sorted(result.done) == sorted(t.name for t in trials)
    for t in trials:
        assert_same_folder(tmp_path / "stacked" / t.name, tmp_path / "alone" / t.name)
        steps = [int(r["step"]) for r in _rows(tmp_path / "stacked" / t.name)]
        assert steps == [512, 1024, 1536, 2048]


def test_shac_seeds_train_stacked_and_resume_as_single_runs(tmp_path):
    shac = dict(algo="shac", env="minirl/Pendulum-v1", eval_every="320", seeds="0-2")
    for out, stack in ((tmp_path / "stacked", True), (tmp_path / "alone", False)):
        _, _, executor = _sweep(out, stack, total_steps="320", **shac)
        assert [len(task) for task in executor.tasks] == ([3] if stack else [1, 1, 1])
        trials, result, _ = _sweep(out, stack, total_steps="640", **shac)     # resumed: a fresh episode each
        assert sorted(result.done) == sorted(t.name for t in trials)
    for t in trials:
        assert_same_folder(tmp_path / "stacked" / t.name, tmp_path / "alone" / t.name)
    cliff = [Trial(f"cliff-s{s}", "shac", "minirl/CliffCart-v0", s) for s in range(2)]
    assert [len(u) for u in plan_units(cliff, stack=True)] == [1, 1], "CliffCart's rollouts end early: alone"


def test_a_seed_that_reaches_stop_return_ends_alone(tmp_path):
    flags = dict(seeds="0-2", total_steps="6144", stop_return="24")
    trials, result, _ = _sweep(tmp_path / "stacked", True, **flags)
    _sweep(tmp_path / "alone", False, **flags)
    ends = []
    for t in trials:
        assert_same_folder(tmp_path / "stacked" / t.name, tmp_path / "alone" / t.name)
        summary = json.loads(open(tmp_path / "stacked" / t.name / "summary.json").read())
        ends.append((summary["stop_reason"], summary["final_step"]))
    assert len(set(ends)) > 1 and ("stop_return" in {e[0] for e in ends}), ends


def test_sigterm_stops_every_seed_of_a_group_with_a_checkpoint(tmp_path, monkeypatch):
    from minirl.runs import group
    original = group.RunRecorder.record

    def record_then_sigterm(self, raw, stopping=False):
        out = original(self, raw, stopping)
        if raw["step"] >= 1024 and not stopping:
            os.kill(os.getpid(), signal.SIGTERM)
        return out
    monkeypatch.setattr(group.RunRecorder, "record", record_then_sigterm)
    trials = [Trial(f"s{s}", "ppo", "CartPole-v1", s, total_steps=4096, eval_every=0) for s in range(2)]
    results = run_group(trials, str(tmp_path))
    assert [r.exit_code for r in results] == [143, 143]
    for t in trials:
        summary = json.loads(open(tmp_path / t.name / "summary.json").read())
        assert summary["stop_reason"] == "SIGTERM" and summary["final_step"] == 1024
        assert load_checkpoint(str(tmp_path / t.name / "checkpoint.npz")).step == 1024


def _trial(name, algo="ppo", seed=0, **kw):
    return Trial(name, algo, "minirl/Pendulum-v1", seed, **kw)


def test_plan_units_groups_seeds_splits_for_workers_and_puts_the_longest_first():
    trials = ([_trial(f"reinforce-s{s}", "reinforce", s, total_steps=200_000) for s in range(2)]
              + [_trial(f"ppo-s{s}", seed=s, total_steps=150_000) for s in range(3)]
              + [_trial("ppo-lr-s0", overrides={"learning_rate": "1e-3"}, total_steps=150_000),
                 _trial("ppo-kl-s0", overrides={"target_kl": "0.02"}, total_steps=150_000)])
    names = [[t.name for t in u] for u in plan_units(trials, stack=True, jobs=2)]
    # cost = trials x steps x the algorithm's cost per step (REINFORCE and PPO: the same per step)
    assert names == [["ppo-s0", "ppo-s1", "ppo-s2"], ["reinforce-s0"], ["reinforce-s1"], ["ppo-lr-s0"],
                     ["ppo-kl-s0"]], "REINFORCE has no stacked learner, target_kl cannot be stacked, another " \
                                     "setting is another group"
    assert [len(u) for u in plan_units(trials[2:5], stack=True, jobs=2)] == [2, 1], "split: a task per worker"
    assert [len(u) for u in plan_units(trials[2:5], stack=True, jobs=1)] == [3]
    assert all(len(u) == 1 for u in plan_units(trials, stack=False))
