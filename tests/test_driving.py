"""`minirl driving`: the experiment in fast mode from the shipped data, its pieces, and its errors.

The fast run (one seed, small budgets, a few short real episodes and two candidate pools when the
[driving] extra is installed) takes about 20 s of CPU time.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from minirl.cli import main
from minirl.experiments.driving import data as dd
from minirl.experiments.driving import planner as dp
from minirl.experiments.driving.collect import driving_extra_missing
from minirl.experiments.driving.experiment import DrivingConfig, run_driving


def _rows(path) -> list[dict]:
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
def test_fast_experiment_from_the_shipped_data(tmp_path, capsys):
    out = tmp_path / "driving"
    assert main(["driving", "--out", str(out), "--fast"]) == 0
    printed = capsys.readouterr().out
    for name in ("rewards.csv", "inputs.csv", "world_model.csv", "overopt.csv", "reward_runs.csv",
                 "rewards.png", "world_model.png", "overopt.png"):
        assert (out / name).is_file(), name
    inputs = {r["quantity"]: float(r["value"]) for r in _rows(out / "inputs.csv")}
    # which inputs: privileged features make the reward learnable, observations less so
    assert inputs["R^2 of a mlp regression on privileged"] > 0.95 > inputs["R^2 of a mlp regression on observation"]
    # the world model's "other cars" error is mostly bookkeeping: with stable identities x is predictable
    world = {(r["predictor"], r["target"], r["rows"], r["car"], r["feature"]): r for r in _rows(out / "world_model.csv")}
    tracked = float(world["world model", "next_tracked", "all rows", "others", "x"]["r2"])
    nearest = float(world["world model", "next_obs", "all rows", "others", "x"]["r2"])
    assert tracked > nearest + 0.1, (tracked, nearest)
    assert 0.05 < float(world["rows that switch car", "next_obs", "all rows", "others", "-"]["switch_rate"]) < 0.4
    rewards = _rows(out / "rewards.csv")
    assert {r["world"] for r in rewards} == {"driving", "toy language"}
    if driving_extra_missing() is None:                                         # the real-env half ran
        policies = {r["arm"]: r for r in _rows(out / "policies.csv")}
        assert set(policies) == {*dp.BASELINES, "planner: exact copy + env reward",
                                 "planner: world model + env formula", "planner: world model + learned reward"}
        for r in policies.values():                                            # every rate has n and an interval
            assert float(r["crash_low"]) <= float(r["crash_rate"]) <= float(r["crash_high"]) and int(r["n"]) >= 1
        blame = _rows(out / "blame.csv")
        assert len(blame) == 4 * len(DrivingConfig.fast().bon_n)
        top = max(int(r["N"]) for r in blame)
        at_top = {(r["dynamics"], r["score"]): float(r["paid"]) for r in blame if int(r["N"]) == top}
        assert at_top["exact copy", "env reward"] == max(at_top.values()), "the oracle is an upper bound"
        assert {r["scored_on"] for r in rewards} == {"recorded segments", "one start state", "one prompt"}
        assert (out / "blame.png").is_file() and (out / "policies.png").is_file()
    else:
        assert "skipped everything that needs the real env" in printed
    assert "which inputs make the reward learnable" in printed and "CPU time" in printed


def test_without_the_extra_the_real_env_parts_are_skipped_with_one_line(monkeypatch):
    import minirl.experiments.driving.collect as dc

    monkeypatch.setattr(dc, "driving_extra_missing", lambda: "highway-env is not installed (test)")
    data = dd.load_shipped().episodes(np.arange(40))
    config = DrivingConfig(seeds=(0,), pair_counts=(50,), n_test_pairs=100, reg_steps=5, bt_steps=5, dyn_steps=5,
                           baseline_episodes=1, planner_episodes=1, starts=1, candidates=4, bon_n=(1, 4))
    result = run_driving(data, config)
    assert result.skipped == "highway-env is not installed (test)"
    assert result.episode_rows == [] and result.pools == [] and result.ppo_rows == []
    assert result.reward_rows and result.world_rows and result.input_rows and result.toy_bon_rows


def test_true_reward_formula_matches_the_env_on_crash_free_steps():
    """highway-env's reward formula, read off the observation, equals the paid reward where nothing
    crashed and the speed and lane are settled (a check of the formula and the denormalisation)."""
    data = dd.load_shipped()
    ok = ~data.crashed & (np.abs(data.heading) < 1e-3)
    pred = dp.true_reward_from_obs(data.next_obs[ok])
    assert np.corrcoef(pred, data.reward[ok])[0, 1] > 0.95


def test_planner_through_a_model_picks_the_best_first_action():
    rng = np.random.default_rng(0)

    def dynamics(o, a):                                # the ego's x-speed rises with action 3 (FASTER)
        o = o.copy()
        o[:, 3] += 0.01 * a[:, 3]
        return o

    obs = np.zeros(25)
    obs[0], obs[3] = 1.0, 0.3                          # present, 24 m/s
    action, predicted = dp.plan_through_model(obs, dynamics, dp.true_reward_from_obs, horizon=2, n_candidates=64,
                                              rng=rng)
    assert action == 3 and predicted > float(dp.true_reward_from_obs(obs[None])[0])


def test_constant_velocity_moves_cars_by_their_velocity():
    from minirl.experiments.driving.models import constant_velocity

    obs = np.zeros((5, 5))
    obs[1] = [1.0, 0.1, 0.0, -0.05, 0.0]               # 20 m ahead, closing at 4 m/s
    nxt = constant_velocity(obs)
    assert nxt[1, 1] == pytest.approx((20.0 - 4.0) / dd.X_RANGE) and nxt[1, 3] == pytest.approx(-0.05)
    assert np.all(nxt[2:] == 0), "empty rows stay empty"


def test_output_path_and_argument_errors_are_one_line(tmp_path, capsys):
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
    assert main(["driving", "--workers", "0", "--out", str(tmp_path / "out")]) == 2
    assert "--workers" in capsys.readouterr().err


def test_a_garbage_data_file_is_refused_in_one_line(tmp_path, capsys):
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x80\x04 not a data set at all")
    assert main(["driving", "--data", str(garbage), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is not a driving data set" in err and "pickle" not in err.lower(), err
