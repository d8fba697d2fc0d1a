"""`minirl compare`, the main job: a fast run through the command line, its files, and its table."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from minirl.cli import main
from minirl.experiments import compare as experiment


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_compare_fast_writes_the_figure_and_tables(tmp_path, capfd):
    out = tmp_path / "cmp"
    assert main(["compare", "--fast", "--out", str(out)]) == 0
    captured = capfd.readouterr()              # file-descriptor level: worker processes' output too
    printed = captured.out
    # the learned-model arm warns while its models see few transitions: one summary line, not a stream
    assert "ModelWarning" not in captured.err
    assert "warnings: " in printed and "model seed" in printed and "min_transitions" in printed
    for name in ("compare.png", "curves.csv", "summary.csv"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, f"{name} missing"
        assert str(out / name) in printed, f"the command should say where {name} went"
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    summary = _read(out / "summary.csv")
    assert [r["arm"] for r in summary] == list(experiment.ARMS)
    for r in summary:
        assert int(r["seeds"]) == 2 and int(r["budget_steps"]) == experiment.FAST_STEPS
        assert -1700 < float(r["final_return_mean"]) < 0, "Pendulum returns lie in [-16.3 * 200, 0]"
        assert r["label"] in printed

    curves = _read(out / "curves.csv")
    assert set(curves[0]) == {"arm", "seed", "step", "time_s", "episodes", "return_mean"}
    for arm in experiment.ARMS:
        for seed in ("0", "1"):
            rows = [r for r in curves if r["arm"] == arm and r["seed"] == seed]
            assert rows, f"no curve for {arm} seed {seed}"
            steps = [int(r["step"]) for r in rows]
            assert steps == sorted(steps) and steps[-1] >= experiment.FAST_STEPS
            assert all(float(r["time_s"]) >= 0 for r in rows)


def test_pathwise_arm_on_a_task_without_a_twin_names_the_tasks_with_one(tmp_path, capsys):
    code = main(["compare", "--task", "CartPole-v1", "--arms", "ppo", "pathwise", "--out", str(tmp_path)])
    message = capsys.readouterr().out
    assert code == 2
    assert "minirl/Pendulum-v1" in message and "minirl/CliffCart-v0" in message and "pathwise" in message
    assert not any(tmp_path.iterdir()), "nothing should be written when the request is refused"


def test_unknown_arm_and_bad_numbers_fail_early():
    with pytest.raises(ValueError, match="choose from"):
        experiment.check_request("minirl/Pendulum-v1", ["pathwsie"])
    with pytest.raises(ValueError, match="seeds"):
        experiment.run_comparison("minirl/Pendulum-v1", ["pathwise"], seeds=0)


def _synthetic():
    comp = experiment.Comparison("minirl/Pendulum-v1", -400.0, ["ppo", "pathwise"], [0, 1],
                                 {"ppo": 300, "pathwise": 300})

    def rows(returns, dt):
        return [{"step": 100 * (i + 1), "time_s": dt * (i + 1), "episodes": i + 1, "return_mean": r}
                for i, r in enumerate(returns)]
    comp.runs = [experiment.Run("ppo", 0, rows([-1000, -800, -600], 1.0)),
                 experiment.Run("ppo", 1, rows([-900, -500, -450], 1.0)),
                 experiment.Run("pathwise", 0, rows([-1000, -300, -200], 2.0)),
                 experiment.Run("pathwise", 1, rows([-700, -500, -390], 2.0))]
    return comp


def test_summary_by_hand():
    table = {r["arm"]: r for r in experiment.summarize(_synthetic())}
    assert table["ppo"]["reached"] == 0 and np.isnan(table["ppo"]["steps_to_threshold"])
    assert table["ppo"]["final_return_mean"] == pytest.approx((-600 - 450) / 2)
    # pathwise: seed 0 reaches -400 at step 200 (t = 4 s), seed 1 at step 300 (t = 6 s); medians 250, 5
    assert table["pathwise"]["reached"] == 2
    assert table["pathwise"]["steps_to_threshold"] == pytest.approx(250)
    assert table["pathwise"]["seconds_to_threshold"] == pytest.approx(5.0)
    assert table["pathwise"]["final_return_min"] == -390 and table["pathwise"]["final_return_max"] == -200


def test_figure_has_two_panels_with_one_line_per_arm():
    from minirl.plotting.compare import compare_figure
    import matplotlib.pyplot as plt

    fig = compare_figure(_synthetic())
    steps_ax, time_ax = fig.axes
    assert steps_ax.get_xlabel() == "environment steps" and "seconds" in time_ax.get_xlabel()
    labels = [t.get_text() for t in steps_ax.get_legend().get_texts()]
    assert any("PPO" in s for s in labels) and any("twin" in s for s in labels)
    plt.close(fig)
