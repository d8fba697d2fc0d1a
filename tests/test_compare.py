"""`minirl compare`, the main job: a fast run through the command line, its files, and its table."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from minirl.cli import main
from minirl.experiments import compare as experiment


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_compare_fast_writes_the_figure_tables_and_run_folders(tmp_path, capfd):
    out = tmp_path / "cmp"
    arms = list(experiment.ARMS)
    assert main(["compare", "--fast", "--out", str(out)]) == 0
    captured = capfd.readouterr()              # file-descriptor level: worker processes' output too
    printed = captured.out
    # the learned-model arm warns while its models see few transitions: one summary line, not a stream
    assert "ModelWarning" not in captured.err
    assert "warnings: " in printed and "svg seed" in printed and "min_transitions" in printed
    for name in ("compare.png", "curves.csv", "summary.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, f"{name} missing"
        assert str(out / name) in printed, f"the command should say where {name} went"
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for arm in arms:                           # every arm is a `minirl train` run folder
        for seed in (0, 1):
            folder = out / "runs" / f"{arm}-s{seed}"
            for name in ("config.json", "progress.csv", "checkpoint.npz", "summary.json"):
                assert (folder / name).is_file(), f"{folder}/{name} missing"

    summary = _read(out / "summary.csv")
    assert [r["arm"] for r in summary] == arms
    for r in summary:
        assert int(r["seeds"]) == 2 and int(r["budget_steps"]) == experiment.FAST_STEPS
        assert -1700 < float(r["final_eval_mean"]) < 0, "Pendulum returns lie in [-16.3 * 200, 0]"
        assert r["label"] in printed and int(r["failed"]) == 0

    curves = _read(out / "curves.csv")
    assert set(curves[0]) == {"arm", "seed", "step", "time_s", "episodes", "return_mean", "eval_return_mean",
                              "eval_return_std"}
    for arm in arms:
        for seed in ("0", "1"):
            rows = [r for r in curves if r["arm"] == arm and r["seed"] == seed]
            assert rows, f"no curve for {arm} seed {seed}"
            steps = [int(float(r["step"])) for r in rows]
            assert steps == sorted(steps) and steps[-1] >= experiment.FAST_STEPS
            assert all(float(r["time_s"]) >= 0 for r in rows)
            # an evaluation at the first row past each multiple of eval_every, and at the last row
            every, previous = experiment.FAST_EVAL_EVERY, 0
            for i, r in enumerate(rows):
                step = int(float(r["step"]))
                due = step // every > previous // every or i == len(rows) - 1
                assert (r["eval_return_mean"] != "nan") == due, f"{arm} seed {seed} at step {step}"
                previous = step
    # the same command again: every run is finished, so nothing is trained again
    before = {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("checkpoint.npz")}
    assert main(["compare", "--fast", "--out", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in (out / "runs").rglob("checkpoint.npz")} == before


@pytest.mark.parametrize("argv,needle", [
    (["--task", "CartPole-v1", "--arms", "ppo", "shac"], "minirl/CliffCart-v0"),   # no twin: names those with one
    (["--task", "CartPole-v1", "--arms", "ppo", "svg"], "continuous (Box) actions"),
    (["--arms", "ppo", "ppo"], "more than once"),
    (["--threshold", "nan"], "finite"),
])
def test_bad_requests_fail_in_one_line_before_any_work(tmp_path, capsys, argv, needle):
    out = tmp_path / "out"
    code = main(["compare", *argv, "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not out.exists(), "nothing should be written when the request is refused"


def test_an_out_that_is_a_file_fails_before_any_work(tmp_path, capsys):
    target = tmp_path / "file"
    target.write_text("mine")
    assert main(["compare", "--fast", "--out", str(target)]) == 2
    assert "is a file" in capsys.readouterr().err and target.read_text() == "mine"


def test_unknown_arm_and_bad_numbers_fail_early():
    with pytest.raises(ValueError, match="choose from"):
        experiment.check_request("minirl/Pendulum-v1", ["shak"])
    with pytest.raises(ValueError, match="seeds"):
        experiment.run_comparison("minirl/Pendulum-v1", ["shac"], seeds=0)


def _synthetic():
    comp = experiment.Comparison("minirl/Pendulum-v1", -400.0, ["ppo", "shac"], [0, 1],
                                 {"ppo": 300, "shac": 300})

    def rows(evals, dt):
        return [{"step": 100 * (i + 1), "time_s": dt * (i + 1), "episodes": i + 1, "return_mean": r - 50,
                 "eval_return_mean": r, "eval_return_std": 10.0} for i, r in enumerate(evals)]
    comp.runs = [experiment.Run("ppo", 0, rows([-1000, -800, -600], 1.0)),
                 experiment.Run("ppo", 1, rows([-900, -500, -450], 1.0)),
                 experiment.Run("shac", 0, rows([-1000, -300, -200], 2.0)),
                 experiment.Run("shac", 1, rows([-700, -500, -390], 2.0))]
    return comp


def test_summary_by_hand():
    table = {r["arm"]: r for r in experiment.summarize(_synthetic())}
    assert table["ppo"]["reached"] == 0 and np.isnan(table["ppo"]["steps_to_threshold"])
    assert table["ppo"]["final_eval_mean"] == pytest.approx((-600 - 450) / 2)
    assert table["ppo"]["final_train_mean"] == pytest.approx((-650 - 500) / 2)
    # shac: seed 0 reaches -400 at step 200 (t = 4 s), seed 1 at step 300 (t = 6 s); medians 250, 5
    assert table["shac"]["reached"] == 2 and table["shac"]["steps_per_seed"] == "200 300"
    assert table["shac"]["steps_to_threshold"] == pytest.approx(250)
    assert table["shac"]["seconds_to_threshold"] == pytest.approx(5.0)
    assert table["shac"]["final_eval_min"] == -390 and table["shac"]["final_eval_max"] == -200


def test_a_seed_that_never_reaches_the_threshold_counts_as_the_slowest():
    """Before: the median was over the seeds that reached it, so an arm reaching it on 2 of 3 seeds
    (100 and 300 steps) showed 200, faster than its own median seed; now 300, and 'never' when the
    median seed never got there."""
    from minirl.stats import median_time_to
    assert median_time_to([100, math.nan, 300]) == 300
    assert math.isnan(median_time_to([100, math.nan, math.inf])) and math.isnan(median_time_to([]))
    assert median_time_to([100, 200, 300, math.nan]) == 250
    comp = _synthetic()
    comp.seeds = [0, 1, 2]
    comp.runs.append(experiment.Run("shac", 2, [{"step": 100, "time_s": 1.0, "episodes": 1, "return_mean": -900,
                                                 "eval_return_mean": -900, "eval_return_std": 1.0}]))
    shac = {r["arm"]: r for r in experiment.summarize(comp)}["shac"]
    assert shac["reached"] == 2 and shac["steps_per_seed"] == "200 300 never"
    assert shac["steps_to_threshold"] == 300 and shac["seconds_to_threshold"] == pytest.approx(6.0)


def test_figure_has_two_panels_with_one_line_per_arm():
    from minirl.plotting.compare import compare_figure
    import matplotlib.pyplot as plt

    fig = compare_figure(_synthetic())
    steps_ax, time_ax = fig.axes
    assert steps_ax.get_xlabel().startswith("environment steps") and steps_ax.get_xscale() == "log"
    assert "seconds" in time_ax.get_xlabel()
    assert steps_ax.get_ylabel() == "evaluation return (deterministic, 10 episodes)"   # Pendulum's protocol
    legend = fig.legends[0]
    labels = [t.get_text() for t in legend.get_texts()]
    assert any("PPO" in s for s in labels) and any("twin" in s for s in labels)
    assert "IQM over 2 seeds" in legend.get_title().get_text() and "bootstrap" in legend.get_title().get_text()
    plt.close(fig)


@pytest.mark.slow
def test_a_rerun_with_a_smaller_budget_is_refused_rather_than_reporting_the_longer_runs(tmp_path, capsys):
    """Before: the rerun skipped the finished runs and reported their curves and final evaluation, trained
    to 1000 steps, under the budget of 600."""
    out = tmp_path / "cmp"
    argv = ["compare", "--fast", "--arms", "svg", "--seeds", "1", "--jobs", "1", "--out", str(out)]
    assert main([*argv, "--total-steps", "1000"]) == 0
    before = {name: (out / name).read_bytes() for name in ("summary.csv", "curves.csv")}
    capsys.readouterr()
    assert main([*argv, "--total-steps", "600"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minirl compare: error: ") and len(err.splitlines()) == 1, err
    assert "trained to step 1000" in err and "budget of 600" in err and "--total-steps 1000" in err, err
    assert {name: (out / name).read_bytes() for name in before} == before, "nothing may be rewritten"
    # a copied run folder is not a second seed of its original: refused in one line, naming the difference
    import shutil
    shutil.copytree(out / "runs" / "svg-s0", out / "runs" / "svg-s1")
    assert main(["compare", "--fast", "--arms", "svg", "--seeds", "2", "--out", str(out), "--total-steps", "1000"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "svg-s1 holds a run with other settings (seed differ)" in err, err
