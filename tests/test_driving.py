"""`minirl driving`: the experiment in fast mode from the shipped data, its pieces, and its errors.

The fast run (one seed, small budgets, one real episode per planner arm of 8 steps when the
[driving] extra is installed) takes about 8 s of CPU time.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from minirl.cli import main
from minirl.experiments.driving import data as dd
from minirl.experiments.driving.collect import driving_extra_missing
from minirl.experiments.driving import planner as dp
from minirl.experiments.driving.experiment import DrivingConfig, run_driving


def _summary(path) -> dict:
    with open(path) as fh:
        return {r["quantity"]: r for r in csv.DictReader(fh)}


@pytest.mark.slow
def test_fast_experiment_from_the_shipped_data(tmp_path, capsys):
    out = tmp_path / "driving"
    assert main(["driving", "--out", str(out), "--fast"]) == 0
    printed = capsys.readouterr().out
    for name in ("summary.csv", "reward.csv", "toy_reward.csv", "world_model.csv", "overopt.csv",
                 "toy_overopt.csv", "reward.png", "world_model.png", "overopt.png", "planner.png"):
        assert (out / name).is_file(), name
    rows = _summary(out / "summary.csv")
    value = lambda q, col="driving": float(rows[q][col])                      # noqa: E731
    # item 1: privileged features make the reward learnable, observations less so; crash pairs are harder
    assert value("R^2 of the reward, mlp on privileged") > 0.95
    assert value("R^2 of the reward, mlp on privileged") > value("R^2 of the reward, mlp on observation")
    assert value("BT pair accuracy, mlp on observation, crash pairs") < \
        value("BT pair accuracy, mlp on observation, no-crash pairs")
    assert 0.5 < value("BT pair accuracy, mlp on observation, all pairs", "toy_language") < 1.0
    # item 2: the world model's error per component is reported, and the toy column is exact
    assert -1.0 < value("one-step R^2 of the change, mlp, others y") < 1.0
    assert value("one-step R^2 of the change, mlp, others y", "toy_language") == 1.0
    if driving_extra_missing() is None:                                         # item 4 ran in the real env
        assert (out / "planner.csv").is_file()
        assert "IDLE (env baseline): crash rate" in rows and "careful driver: return paid" in rows
    else:
        assert "skipped the planner's real-env evaluation" in printed
    assert "reward learnability:" in printed and "toy lang." in printed


def test_without_the_extra_the_planner_step_is_skipped_with_one_line(monkeypatch):
    import minirl.experiments.driving.collect as dc

    monkeypatch.setattr(dc, "driving_extra_missing", lambda: "highway-env is not installed (test)")
    data = dd.load_shipped().episodes(np.arange(40))
    config = DrivingConfig(seeds=(0,), pair_counts=(50,), n_test_pairs=100, reg_steps=5, bt_steps=5, dyn_steps=5,
                           toy_rm_steps=5, bon_n=(1, 4), eval_episodes=1, eval_duration=3)
    result = run_driving(data, config)
    assert result.skipped == "highway-env is not installed (test)" and result.planner_rows == []
    assert result.reward_rows and result.world_rows and result.bon_rows and result.toy_bon_rows


def test_true_reward_formula_matches_the_env_on_crash_free_steps():
    """highway-env's reward formula, read off the observation, equals the paid reward where nothing
    crashed and the speed and lane are settled (a check of the formula and the denormalisation)."""
    data = dd.load_shipped()
    ok = ~data.crashed & (np.abs(data.heading) < 1e-3)
    pred = dp.true_reward_from_obs(data.next_obs[ok])
    assert np.corrcoef(pred, data.reward[ok])[0, 1] > 0.95


def test_shooting_plan_picks_the_best_first_action():
    rng = np.random.default_rng(0)

    def dynamics(o, a):                                # the ego's x-speed rises with action 3 (FASTER)
        o = o.copy()
        o[:, 3] += 0.01 * a[:, 3]
        return o

    obs = np.zeros(25)
    obs[0], obs[3] = 1.0, 0.3                          # present, 24 m/s
    action, predicted = dp.shooting_plan(obs, dynamics, dp.true_reward_from_obs, horizon=2, n_candidates=64, rng=rng)
    assert action == 3 and predicted > float(dp.true_reward_from_obs(obs[None])[0])


def test_output_path_errors_are_one_line(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert main(["driving", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minirl driving: error:") and "\n" not in err
    assert main(["driving", "collect", "--out", str(tmp_path / "data.txt")]) == 2
    err = capsys.readouterr().err.strip()
    assert ".npz" in err and "\n" not in err
    assert main(["driving", "--data", str(tmp_path / "none.npz"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "minirl driving collect" in err and "\n" not in err
