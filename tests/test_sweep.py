"""`minirl sweep` on the local backend: expansion, the two forms, resume, the report, bad input, faults.

The fault tests run the sweep as a separate process on `sweep_gate:GatedCartPole-v0` (tests/sweep_gate.py):
CartPole whose first step in each worker process waits at a gate, so a test knows the worker is
inside its trial when it kills it (a real SIGKILL of the worker process).
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

import numpy as np
import pytest

from minirl.cli import main
from minirl.runs import sweep as sw
from minirl.runs.sweep_report import format_report, sweep_report
from minirl.runs.trials import Trial

HERE = Path(__file__).resolve().parent
GATE_ENV = "sweep_gate:GatedCartPole-v0"


def _names(trials):
    return [t.name for t in trials]


# ------------------------------------------------------------------------------------------------
# Expansion
# ------------------------------------------------------------------------------------------------

def test_expansion_by_hand():
    sweep = sw.sweep_from_flags(algo="ppo", env="CartPole-v1", seeds="0-2",
                                grid=["learning_rate=1e-3,3e-4", "clip_coef=0.1,0.2"], sets=["gamma=0.95"],
                                total_steps="2e4")
    trials = sw.expand(sweep)
    settings = ["clip_coef=0.1,learning_rate=0.001", "clip_coef=0.2,learning_rate=0.001",
                "clip_coef=0.1,learning_rate=0.0003", "clip_coef=0.2,learning_rate=0.0003"]
    assert _names(trials) == [f"ppo-CartPole-v1/{s}/s{seed}" for seed in (0, 1, 2) for s in settings]
    first = trials[0]
    assert first == Trial("ppo-CartPole-v1/clip_coef=0.1,learning_rate=0.001/s0", "ppo", "CartPole-v1", 0,
                          total_steps=20000, overrides={"gamma": 0.95, "learning_rate": 0.001, "clip_coef": 0.1})
    assert isinstance(first.overrides["learning_rate"], float) and isinstance(first.total_steps, int)
    assert {t.seed for t in trials} == {0, 1, 2} and len({t.name for t in trials}) == 12


def test_grid_over_run_settings_algo_env_and_tuples():
    sweep = sw.sweep_from_flags(algo="ppo", seeds="4", grid=["env=CartPole-v1,Acrobot-v1", "total_steps=1000,2e3",
                                                             "hidden_sizes=[32,32],[16]"])
    trials = sw.expand(sweep)
    assert len(trials) == 8
    assert trials[0].name == "ppo-CartPole-v1/hidden_sizes=32x32,total_steps=1000/s4"
    assert trials[0].overrides == {"hidden_sizes": [32, 32]} and trials[0].total_steps == 1000
    assert trials[-1].name == "ppo-Acrobot-v1/hidden_sizes=16,total_steps=2000/s4"
    assert trials[-1].env_id == "Acrobot-v1" and trials[-1].total_steps == 2000
    # no grid: no settings level
    plain = sw.expand(sw.sweep_from_flags(algo="ppo", env="minirl/Pendulum-v1", seeds="0,2"))
    assert _names(plain) == ["ppo-minirl_Pendulum-v1/s0", "ppo-minirl_Pendulum-v1/s2"]


def test_seeds_and_value_splitting():
    assert sw.parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    assert sw.parse_seeds([5, 1]) == [5, 1]
    assert sw.split_values("a, [1,2],(3,4) ,b") == ["a", "[1,2]", "(3,4)", "b"]
    for bad in ("3-1", "x", "", "1,1", [-1], [True]):
        with pytest.raises(sw.SweepError):
            sw.parse_seeds(bad)


def test_flag_form_and_file_forms_give_the_same_trials(tmp_path):
    flags = sw.expand(sw.sweep_from_flags(algo="ppo", env="CartPole-v1", seeds="0-2", total_steps="5000",
                                          grid=["learning_rate=1e-3,3e-4", "clip_coef=0.1,0.2"],
                                          sets=["hidden_sizes=32,32"]))
    (tmp_path / "s.json").write_text(json.dumps({
        "algo": "ppo", "env": "CartPole-v1", "seeds": [0, 1, 2], "total_steps": 5000,
        "grid": {"learning_rate": [0.001, 0.0003], "clip_coef": [0.1, 0.2]}, "set": {"hidden_sizes": [32, 32]}}))
    (tmp_path / "s.toml").write_text(
        'algo = "ppo"\nenv = "CartPole-v1"\nseeds = "0-2"\ntotal_steps = 5000\n'
        '[grid]\nlearning_rate = [1e-3, 3e-4]\nclip_coef = [0.1, 0.2]\n[set]\nhidden_sizes = "32,32"\n')
    assert sw.expand(sw.sweep_from_file(tmp_path / "s.json")) == flags
    if sys.version_info >= (3, 11):
        assert sw.expand(sw.sweep_from_file(tmp_path / "s.toml")) == flags
    else:
        with pytest.raises(sw.SweepError, match="Python >= 3.11"):
            sw.sweep_from_file(tmp_path / "s.toml")


# ------------------------------------------------------------------------------------------------
# Bad input: one line, rc 2, nothing written
# ------------------------------------------------------------------------------------------------

BASE = ["--algo", "ppo", "--env", "CartPole-v1"]


@pytest.mark.parametrize("argv,needle", [
    (BASE + ["--seeds", "3-1"], "cannot read seeds"),
    (BASE + ["--seeds", ""], "cannot read seeds ''"),
    (BASE + ["--seeds", "0-99", "--grid", "clip_coef=" + ",".join(f"0.{i}" for i in range(1, 10)) + ",0.91,0.92",
             "gamma=" + ",".join(f"0.9{i}" for i in range(11))], "100 seed(s) x 121 setting(s) = 12,100 trials"),
    (BASE + ["--grid", "hidden_sizes=[" + ",".join(["64"] * 100) + "]"], "folder name of 312 bytes"),
    (BASE + ["--grid", "learning_rate"], "expects NAME=V1,V2"),
    (BASE + ["--grid", "learning_rat=1,2"], "unknown hyperparameter"),
    (BASE + ["--grid", "learning_rate=abc"], "cannot read learning_rate"),
    (BASE + ["--grid", "learning_rate=1e-3,0.001"], "more than once"),
    (BASE + ["--grid", "seed=1,2"], "--seeds"),
    (BASE + ["--grid", "learning_rate=1e-3", "--set", "learning_rate=1e-3"], "both fixed and in the grid"),
    (BASE + ["--set", "total_steps=5"], "cannot be set with --set"),
    (BASE + ["--total-steps", "0"], "total_steps must be >= 1"),
    (BASE + ["--threshold", "nan"], "finite"),
    (BASE + ["--jobs", "0"], "--jobs must be an integer"),
    (BASE + ["--jobs", "2", "--ray"], "--jobs counts local"),
    (BASE + ["--ray", "not an address"], "give 'auto'"),
    (["--env", "CartPole-v1"], "no algo"),
    (["--algo", "nope", "--env", "CartPole-v1"], "unknown algo"),
    (["--algo", "ppo", "--env", "Nope-v0"], "unknown env"),
    (["--algo", "sac", "--env", "CartPole-v1"], "continuous (Box)"),
    (["--algo", "shac", "--env", "Pendulum-v1"], "differentiable twin"),
    (["--file", "x.json", "--algo", "ppo"], "either as flags or as --file"),
    (["--file", "missing.json"], "cannot read sweep file"),
    (["--file", "sweep.yaml"], "name it .json or .toml"),
])
def test_bad_input_fails_in_one_line_before_any_work(tmp_path, capsys, argv, needle):
    out = tmp_path / "out"
    code = main(["sweep", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1, err
    assert err.startswith("minirl sweep: error: ")
    assert not out.exists(), "nothing may be written when the request is refused"


def test_an_absurd_seed_range_is_refused_at_once_saying_how_many_trials(tmp_path):
    """Before: `--seeds 0-99999999` hung (a quadratic scan for repeats over a list of 10^8 seeds)."""
    out = tmp_path / "out"
    done = subprocess.run([sys.executable, "-m", "minirl", "sweep", *BASE, "--seeds", "0-99999999", "--out", str(out)],
                          capture_output=True, text=True, timeout=60)
    err = done.stderr.strip()
    assert done.returncode == 2 and len(err.splitlines()) == 1, err
    assert "100,000,000 seeds" in err and "at most 10,000" in err and not out.exists()
    assert sw.parse_seeds("0-9999") == list(range(10_000))          # the largest sweep, read at once
    with pytest.raises(sw.SweepError, match=r"seed\(s\) \[3, 4, 5\] given more than once"):
        sw.parse_seeds("0-5,3-9")


def test_a_non_finite_threshold_is_refused_with_a_file_and_with_report_too(tmp_path, capsys):
    """Before: the command parsed --threshold itself and let 'nan' through with --file and --report."""
    plan = tmp_path / "sweep.json"
    plan.write_text('{"algo": "ppo", "env": "CartPole-v1"}')
    for argv in (["--file", str(plan), "--out", str(tmp_path / "out")], ["--report", str(tmp_path)]):
        assert main(["sweep", *argv, "--threshold", "nan"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("minirl sweep: error: ") and "finite" in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("content,needle", [
    ("{not json", "not valid JSON"),
    ('{"algo": "ppo", "env": "CartPole-v1", "learning_rate": 1}', "unknown key(s) ['learning_rate']"),
    ('{"algo": "ppo", "env": "CartPole-v1", "grid": {"clip_coef": []}}', "non-empty list"),
    ('[1, 2]', "not an object"),
])
def test_bad_sweep_files(tmp_path, capsys, content, needle):
    (tmp_path / "s.json").write_text(content)
    assert main(["sweep", "--file", str(tmp_path / "s.json"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1, err


def test_out_and_report_paths(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("mine")
    assert main(["sweep", *BASE, "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "mine"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    assert main(["sweep", *BASE, "--out", str(tmp_path / "other")]) == 2
    assert "holds no sweep.json" in capsys.readouterr().err
    for argv, needle in ((["--report", str(tmp_path / "other")], "holds no sweep.json"),
                         (["--report", str(tmp_path / "nope")], "is not a folder"),
                         (["--report", str(tmp_path), "--algo", "ppo"], "would be ignored")):
        assert main(["sweep", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert needle in err and len(err.splitlines()) == 1, err


# ------------------------------------------------------------------------------------------------
# A real (tiny) sweep: run, resume, report
# ------------------------------------------------------------------------------------------------

TINY = ["--algo", "ppo", "--env", "CartPole-v1", "--seeds", "0-1", "--grid", "clip_coef=0.1,0.2",
        "--total-steps", "1024", "--eval-every", "512", "--eval-episodes", "2"]


@pytest.mark.slow
def test_a_sweep_runs_then_a_rerun_skips_finished_trials(tmp_path, capsys):
    out = tmp_path / "sw"
    assert main(["sweep", *TINY, "--jobs", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    plan = json.loads((out / "sweep.json").read_text())
    names = [t["name"] for t in plan["trials"]]
    assert len(names) == 4 and names[0] == "ppo-CartPole-v1/clip_coef=0.1/s0"
    for name in names:
        summary = json.loads((out / name / "summary.json").read_text())
        assert summary["stop_reason"] == "budget" and summary["final_step"] >= 1024
        assert summary["final_eval_return_mean"] is not None
    rows = list(csv.DictReader(open(out / "report.csv")))
    assert [r["setting"] for r in rows] == ["ppo-CartPole-v1/clip_coef=0.1", "ppo-CartPole-v1/clip_coef=0.2"]
    assert all(r["finished"] == "2" and r["failed"] == "0" and r["clip_coef"] in ("0.1", "0.2") for r in rows)
    assert (out / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ppo-CartPole-v1/clip_coef=0.2" in printed and str(out / "report.csv") in printed

    before = {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")}
    assert main(["sweep", *TINY, "--jobs", "2", "--out", str(out)]) == 0
    assert "4 finished already" in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")} == before, "a finished trial ran again"
    # the plan file is a sweep file: the same sweep, nothing to run
    assert main(["sweep", "--file", str(out / "sweep.json"), "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in out.rglob("checkpoint.npz")} == before
    capsys.readouterr()
    # another sweep into the same folder is refused, naming the way to continue this one
    assert main(["sweep", *TINY[:-2], "--eval-episodes", "3", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds another sweep" in err and "--file" in err
    # the report on its own, any time
    (out / "report.csv").unlink()
    assert main(["sweep", "--report", str(out)]) == 0 and (out / "report.csv").exists()
    assert "ray" not in sys.modules, "the local backend must never import Ray"


# ------------------------------------------------------------------------------------------------
# The report, by hand, on synthetic trial folders
# ------------------------------------------------------------------------------------------------

def _fake_trial(folder: Path, evals, final_return, stop_reason="budget"):
    """A trial folder as `minirl train` leaves it: config.json (its setting and seed), progress.csv, summary.json."""
    folder.mkdir(parents=True)
    setting = {k: json.loads(v) for k, v in (part.split("=") for part in folder.parent.name.split(",") if "=" in part)}
    config = {"algo": "ppo", "env_id": "CartPole-v1", "seed": int(folder.name[1:]), "config": setting}
    with open(folder / "progress.csv", "w") as f:
        f.write("step,time_s,episodes,return_mean,eval_return_mean,eval_return_std\n")
        for i, e in enumerate(evals):
            ret = final_return if i == len(evals) - 1 else 0.0
            f.write(f"{1000 * (i + 1)},{i},{10 * i},{ret},{e},0\n")
    (folder / "summary.json").write_text(json.dumps({"stop_reason": stop_reason}))
    (folder / "config.json").write_text(json.dumps(config))


def test_report_numbers_by_hand(tmp_path):
    out = tmp_path / "sw"
    sweep = sw.sweep_from_flags(algo="ppo", env="CartPole-v1", seeds="0-5", grid=["clip_coef=0.1,0.2"],
                                threshold="100")
    trials = sw.expand(sweep)
    sw.write_plan(str(out), sw.plan_record(sweep, trials))
    a, b = "ppo-CartPole-v1/clip_coef=0.1", "ppo-CartPole-v1/clip_coef=0.2"
    # setting a: five finished seeds, seed 5 failed (failures.json)
    finals = [10.0, 20.0, 30.0, 40.0, 1000.0]
    evals = [[50, 120, 90], [50, 60, 70], [150, 200, 300], [90, 100, 110], [20, 30, 101]]
    for seed in range(5):
        _fake_trial(out / a / f"s{seed}", evals[seed], finals[seed])
    (out / "failures.json").write_text(json.dumps({f"{a}/s5": {"error": "worker died", "attempts": 2}}))
    # setting b: one finished, one stopped by a NaN, the rest never started
    _fake_trial(out / b / "s0", [10, 20], 5.0)
    _fake_trial(out / b / "s1", [10], 1.0, stop_reason="nan")

    report = sweep_report(str(out))
    ra, rb = report.rows
    assert (ra["setting"], ra["trials"], ra["finished"], ra["failed"], ra["pending"]) == (a, 6, 5, 1, 0)
    assert (rb["finished"], rb["failed"], rb["pending"]) == (1, 1, 4)
    # IQM of 5 values: drop floor(5/4) = 1 from each end -> mean(20, 30, 40) = 30
    assert ra["final_return_iqm"] == pytest.approx(30.0)
    # final evaluations 90, 70, 300, 110, 101 -> sorted 70, 90, 101, 110, 300 -> mean(90, 101, 110)
    assert ra["final_eval_iqm"] == pytest.approx((90 + 101 + 110) / 3)
    assert ra["final_return_low"] <= 30.0 <= ra["final_return_high"]
    from minirl.stats import bootstrap_ci
    centre, low, high = bootstrap_ci(np.array(finals), "iqm", n_boot=2000, rng=np.random.default_rng(0))
    assert (ra["final_return_low"], ra["final_return_high"]) == (pytest.approx(low), pytest.approx(high))
    # first evaluation >= 100: seed 0 at 2000, seed 1 never, seed 2 at 1000, seed 3 at 2000, seed 4 at 3000
    assert ra["steps_per_seed"] == "2000 never 1000 2000 3000" and ra["reached"] == 4
    assert ra["steps_to_threshold"] == 2000.0               # median of 1000, 2000, 2000, 3000, inf
    assert rb["reached"] == 0 and np.isnan(rb["steps_to_threshold"]) and rb["final_return_iqm"] == 5.0
    assert ra["clip_coef"] == 0.1 and ra["threshold"] == 100.0
    table = format_report(report)
    line = next(t for t in table.splitlines() if t.startswith(a + " "))
    assert "5/6" in line and "30.0 [" in line and "2,000 (>= 100)" in line
    assert [len(c) for c in report.curves[a]] == [2] * 5 and len(report.curves[b]) == 1


# ------------------------------------------------------------------------------------------------
# Faults: a real kill of a worker process, and of the sweep's own process
# ------------------------------------------------------------------------------------------------

def _gated_sweep(tmp_path, out, *extra):
    gate = tmp_path / "gate"
    gate.mkdir(exist_ok=True)
    (gate / "closed").write_text("")
    env = {**os.environ, "MINIRL_TEST_GATE": str(gate), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    argv = [sys.executable, "-m", "minirl", "sweep", "--algo", "ppo", "--env", GATE_ENV, "--seeds", "0-1",
            "--total-steps", "1024", "--eval-every", "1024", "--eval-episodes", "2", "--out", str(out),
            "--env-module", "sweep_gate", *extra]
    # output to files, not pipes: orphaned workers would hold a pipe open and block communicate()
    log = open(tmp_path / "sweep.log", "w")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    log.close()
    return gate, proc, env, argv


def _log(tmp_path) -> str:
    return (tmp_path / "sweep.log").read_text()


def wait_at_gate(gate: Path, proc, log_dir: Path, workers: int = 2) -> None:
    """Wait until `workers` worker processes of the gated sweep `proc` are inside their trials."""
    deadline = time.monotonic() + 120
    while len(list(gate.glob("at-*"))) < workers:
        assert proc.poll() is None and time.monotonic() < deadline, _log(log_dir)[-2000:]
        time.sleep(0.02)


@pytest.mark.slow
def test_a_killed_worker_is_retried_once_then_the_trial_is_recorded_failed(tmp_path):
    from sweep_gate import watch_gate
    out = tmp_path / "sw"
    gate, proc, _, _ = _gated_sweep(tmp_path, out, "--jobs", "2")
    kills = []

    def decide(pid):                     # kill the first three workers that reach the gate, let the fourth go
        kills.append(pid)
        return "kill" if len(kills) <= 3 else "open"
    answers = watch_gate(gate, proc, decide)
    proc.wait()
    stdout = _log(tmp_path)
    assert [a for _, a in answers] == ["kill"] * 3 + ["open"], answers
    # two trials, three deaths: one trial died twice (failed), the other died once and finished on its retry
    assert proc.returncode == 1, stdout[-2000:]
    failures = json.loads((out / "failures.json").read_text())
    assert len(failures) == 1
    (failed, record), = failures.items()
    assert record["attempts"] == 2 and "worker process died (exit code -9)" in record["error"]
    names = [f"ppo-sweep_gate_GatedCartPole-v0/s{seed}" for seed in (0, 1)]
    assert failed in names
    other = next(n for n in names if n != failed)
    summary = json.loads((out / other / "summary.json").read_text())
    assert summary["stop_reason"] == "budget" and summary["final_step"] >= 1024
    assert f"failed: {failed}" in stdout
    row, = csv.DictReader(open(out / "report.csv"))
    assert (row["trials"], row["finished"], row["failed"], row["pending"]) == ("2", "1", "1", "0")


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux only")
def test_killing_the_sweep_leaves_no_worker_behind_and_a_rerun_resumes(tmp_path):
    out = tmp_path / "sw"
    gate, proc, env, argv = _gated_sweep(tmp_path, out, "--jobs", "2")
    wait_at_gate(gate, proc, tmp_path)
    workers = _descendants(proc.pid)
    gated = {int(p.name[3:]) for p in gate.glob("at-*")}
    assert gated <= workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (gate / "closed").unlink()                         # let the orphans reach the end of their update
    deadline = time.monotonic() + 60
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [p for p in workers if _alive(p)]
    for p in left:
        os.kill(p, signal.SIGKILL)
    assert not left, f"processes of the killed sweep still running: {left}"
    # each worker got SIGTERM from the kernel when its parent died: it stopped with a checkpoint
    for seed in (0, 1):
        summary = json.loads((out / f"ppo-sweep_gate_GatedCartPole-v0/s{seed}" / "summary.json").read_text())
        assert summary["stop_reason"] == "SIGTERM", summary
    # the same command again continues both interrupted trials to the end
    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    for seed in (0, 1):
        folder = out / f"ppo-sweep_gate_GatedCartPole-v0/s{seed}"
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["stop_reason"] == "budget" and summary["final_step"] >= 1024
        steps = [int(r["step"]) for r in csv.DictReader(open(folder / "progress.csv"))]
        assert steps == sorted(set(steps)) and steps[-1] == summary["final_step"]


class _InProcessRemote:
    """An executor that says `remote = True` but runs each task here: the remote path without Ray."""

    remote = True

    def __init__(self):
        self.sent = {}

    def run(self, fn, tasks):
        from minirl.runs.executor import Outcome
        for key, args in tasks.items():
            self.sent[key] = args
            yield Outcome(key, True, fn(*args), None, 1)


def test_the_remote_path_sends_the_files_and_writes_back_what_comes_back(tmp_path):
    from minirl.runs.sweep_run import run_sweep
    from minirl.runs.driver import start_run
    out = tmp_path / "sw"
    sweep = sw.sweep_from_flags(algo="ppo", env="CartPole-v1", seeds="0-1", total_steps="1024", eval_every="0")
    trials = sw.expand(sweep)
    # seed 1 was interrupted half-way: its files must travel with the task and the run resume from them
    first = trials[1]

    def stop_half_way(agent, row):
        if row["step"] >= 512:
            os.kill(os.getpid(), signal.SIGTERM)
    assert start_run(str(out / first.name), first.spec(), progress=False, callback=stop_half_way) == 143
    executor = _InProcessRemote()
    result = run_sweep(str(out), trials, executor)
    assert sorted(result.done) == sorted(t.name for t in trials) and not result.failed
    # the two seeds are one task (a group: it trains them apart, as they are at different steps)
    payload = executor.sent[trials[0].name][1]
    assert payload[trials[0].name] == {}, "a new trial travels without files"
    sent = payload[first.name]
    assert set(sent) == {"config.json", "progress.csv", "checkpoint.npz", "summary.json"}
    for t in trials:
        summary = json.loads((out / t.name / "summary.json").read_text())
        assert summary["stop_reason"] == "budget" and summary["final_step"] >= 1024
    steps = [int(r["step"]) for r in csv.DictReader(open(out / first.name / "progress.csv"))]
    assert steps == [512, 1024], "the interrupted trial resumed after its first update (written back here)"


@pytest.mark.slow
def test_sigterm_to_the_sweep_stops_every_trial_with_a_checkpoint(tmp_path):
    out = tmp_path / "sw"
    gate, proc, _, _ = _gated_sweep(tmp_path, out, "--jobs", "2")
    wait_at_gate(gate, proc, tmp_path)
    proc.send_signal(signal.SIGTERM)                   # the sweep forwards it to its busy workers
    time.sleep(0.5)
    (gate / "closed").unlink()
    assert proc.wait(timeout=120) == 143, _log(tmp_path)[-2000:]
    for seed in (0, 1):
        summary = json.loads((out / f"ppo-sweep_gate_GatedCartPole-v0/s{seed}" / "summary.json").read_text())
        assert summary["stop_reason"] == "SIGTERM" and summary["interrupted"], summary
    assert "SIGTERM: 2 trial(s) stopped at their next update with a checkpoint" in _log(tmp_path)
    row, = csv.DictReader(open(out / "report.csv"))
    assert (row["finished"], row["failed"], row["pending"]) == ("0", "0", "2")


def test_compare_takes_the_remote_path_too(tmp_path):
    from minirl.experiments.compare import run_comparison
    executor = _InProcessRemote()
    comp = run_comparison("minirl/Pendulum-v1", ["ppo"], seeds=1, total_steps=1024, fast=True,
                          out=str(tmp_path / "runs"), executor=executor)
    (run,) = comp.runs
    assert run.error is None and run.rows and run.rows[-1]["step"] >= 1024
    assert executor.sent["ppo-s0"][1] == {"ppo-s0": {}}, "the remote path sends the folder's files (none yet)"
    assert (tmp_path / "runs" / "ppo-s0" / "checkpoint.npz").is_file(), "written back by the driver"
