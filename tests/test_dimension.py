"""The dimension study (`minirl compare --dims`, lesson 13): its summary by hand, its checks, its figure
and a smoke run of the command."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import pytest

import minirl  # noqa: F401
from minirl.experiments import dimension
from minirl.experiments.compare import Run


def _run(arm, seed, hits_at=None, steps=(500, 1000, 1500, 2000)):
    """A fake run whose evaluation return is -100 until `hits_at`, then -50 (threshold -60)."""
    rows = [{"step": float(s), "time_s": s / 1000, "episodes": 1.0, "return_mean": -80.0,
             "eval_return_mean": -50.0 if hits_at is not None and s >= hits_at else -100.0} for s in steps]
    return Run(arm, seed, rows)


def _study():
    study = dimension.plan_dimensions("minirl/PendulumRow", [1, 16], ["ppo", "shac"], seeds=3)
    study.budgets = {"ppo": 2000, "shac": 2000}
    study.runs = [(1, _run("ppo", 0, 1000)), (1, _run("ppo", 1, 1500)), (1, _run("ppo", 2, None)),
                  (1, _run("shac", 0, 500)), (1, _run("shac", 1, 500)), (1, _run("shac", 2, 1000)),
                  (16, _run("ppo", 0, None)), (16, _run("ppo", 1, None)), (16, _run("ppo", 2, 2000)),
                  (16, _run("shac", 0, 1000)), (16, _run("shac", 1, 500)), (16, _run("shac", 2, 1500))]
    study.snr_rows = [{"d": d, "seed": s, "estimator": e, "snr": snr, "cosine": cos, "rollouts": 8, "repeats": 4,
                       "steps": 16, "parameters": 10}
                      for d, e, snr, cos in ((1, "score", 0.05, 0.4), (1, "pathwise", 14.0, 0.99),
                                             (16, "score", -0.01, 0.02), (16, "pathwise", 0.4, 0.5))
                      for s in range(3)]
    return study


def test_summary_and_ratios_by_hand():
    summary = dimension.summarize(_study())
    by = {(r["arm"], r["d"]): r for r in summary}
    # PPO d=1: 1000, 1500, never -> median 1500 (never counts as slowest); IQM of (1000, 1500, 2000 = budget)
    assert by["ppo", 1]["median_steps"] == 1500 and by["ppo", 1]["reached"] == 2 and by["ppo", 1]["censored"] == 1
    assert by["ppo", 1]["iqm_steps"] == pytest.approx(1500.0)
    assert by["ppo", 1]["steps_per_seed"] == "1000 1500 never"
    assert math.isnan(by["ppo", 16]["median_steps"]), "two of three seeds never: the median seed did not get there"
    assert by["shac", 1]["median_steps"] == 500 and by["shac", 16]["median_steps"] == 1000
    ratios = {r["d"]: r for r in dimension.ratio_rows(summary)}
    assert ratios[1]["ratio"] == pytest.approx(3.0) and not ratios[1]["lower_bound"]
    assert ratios[16]["ratio"] == pytest.approx(2.0) and ratios[16]["lower_bound"], \
        "PPO never at d=16: its budget (2000) over SHAC's 1000 is a lower bound"


def test_trials_are_named_and_evaluated_as_the_task_says():
    study = dimension.plan_dimensions("minirl/PendulumRow", [2, 4], ["sac", "shac"], seeds=2)
    trials = dimension.trials_for(study)
    assert [t.name for t in trials[:4]] == ["sac-d2-s0", "sac-d2-s1", "shac-d2-s0", "shac-d2-s1"]
    assert {t.env_id for t in trials} == {"minirl/PendulumRow-d2-v0", "minirl/PendulumRow-d4-v0"}
    assert trials[0].spec().eval_every == 500 and study.thresholds == {2: -60.0, 4: -60.0}
    assert study.budgets == {a: dimension.FAMILIES["minirl/PendulumRow"]["total_steps"][a] for a in ("sac", "shac")}


@pytest.mark.parametrize("kwargs, match", [
    (dict(family="minirl/PendulumRow", dims=[1, 3]), "PendulumRow-d3-v0' is not registered"),
    (dict(family="minirl/Nothing", dims=None), "no dims given"),
    (dict(family="minirl/PendulumRow", dims=[2, 2]), "more than once"),
    (dict(family="minirl/PendulumRow", dims=[1], seeds=0), "seeds must be a positive integer"),
    (dict(family="minirl/PendulumRow", dims=[1], arms=["dqn"]), "unknown arms"),
])
def test_bad_requests_fail_before_any_work(kwargs, match):
    with pytest.raises(ValueError, match=match):
        dimension.plan_dimensions(**kwargs)


def test_the_figure_draws_censored_points_and_lost_snr():
    from minirl.plotting.dimension import dimension_figure
    study = _study()
    summary = dimension.summarize(study)
    fig = dimension_figure(study, summary, dimension.ratio_rows(summary))
    assert len(fig.axes) == 4
    assert fig.axes[0].get_yscale() == "log" and fig.axes[2].get_yscale() == "log"


def _minirl(*args, timeout=600):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "minirl", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


@pytest.mark.slow
def test_the_fast_study_writes_its_tables_and_figure(tmp_path):
    """The CI version of the study (`benchmarks/bench_dimension.py --fast` times it): every arm, every d,
    one seed, tiny budgets; about a minute of CPU."""
    out = tmp_path / "dims"
    proc = _minirl("compare", "--task", "minirl/PendulumRow", "--dims", "1,2,4,8,16", "--fast", "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("dimension.png", "dimension.csv", "ratios.csv", "snr.csv", "curves.csv"):
        assert (out / name).exists(), name
    assert "PPO/SHAC" in proc.stdout and "d = 16" in proc.stdout and "pathwise" in proc.stdout
    runs = sorted(os.listdir(out / "runs"))
    assert len(runs) == 5 * 5 and "svg-d16-s0" in runs and "reinforce-d1-s0" in runs
    snr = (out / "snr.csv").read_text().splitlines()
    assert len(snr) == 1 + 5 * 2, "one row per d and estimator (one seed)"
    table = (out / "dimension.csv").read_text()
    assert table.count("\n") == 1 + 5 * 5, "one row per arm and d"


@pytest.mark.parametrize("args, match", [
    (["--dims", "1,3"], "PendulumRow-d3-v0"),
    (["--dims", "x"], "--dims must be comma-separated positive integers"),
    (["--dims", "1", "--threshold", "-50"], "--threshold does not apply to --dims"),
    (["--no-snr"], "--no-snr applies only with --dims"),
])
def test_bad_dims_arguments_are_one_line_errors(tmp_path, args, match):
    proc = _minirl("compare", *args, "--fast", "--out", str(tmp_path / "x"), timeout=120)
    assert proc.returncode == 2 and match in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_the_benchmark_report_names_missing_ratios_and_lower_bounds(tmp_path, capsys, monkeypatch):
    """bench_dimension's report: a d where SHAC never got there is said in words (it printed "nanx"),
    a ratio whose PPO never got there is a lower bound, and "grows with d" is judged on measured ratios."""
    from pathlib import Path
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    import bench_dimension
    (tmp_path / "ratios.csv").write_text("d,numerator,denominator,ratio,lower_bound\n1,ppo,shac,32.0,False\n"
                                         "2,ppo,shac,64.0,False\n8,ppo,shac,53.2,True\n16,ppo,shac,nan,False\n")
    (tmp_path / "snr.csv").write_text("d,seed,estimator,snr\n")
    (tmp_path / "dimension.csv").write_text("label,d,reached,seeds,median_steps,steps_per_seed\n")
    bench_dimension.report(tmp_path, {"wall_s": 1.0, "cpu_s": 2.0, "exit_code": 0}, fast=False)
    out = capsys.readouterr().out
    assert "nan" not in out, out
    assert "d=1: 32.0x, d=2: 64.0x, d=8: >= 53.2x, d=16: none (SHAC, the denominator, never reached the threshold)" in out, out
    assert "grows with d over the 2 measured ratios: yes; lower bounds only (PPO never got there) at d = 8" in out
