"""SVG(H) through learned models of black-box Pendulum: contract, bad input, a seeded learning test."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minirl.algos import model_based as mb
from minirl.policies import GaussianPolicy

ENV = "minirl/Pendulum-v1"    # the black box (same dynamics as Gymnasium's Pendulum-v1)
# the learning test's cheaper setting (defaults: 150 model steps, 40 policy updates, 400 random steps)
FAST = {"model_steps": 100, "policy_updates": 20, "initial_random_steps": 1000}


def test_collect_random_and_policy_data():
    rng = np.random.default_rng(0)
    data, returns = mb.collect(ENV, None, rng, n_steps=450)
    assert len(data) == 450 and len(returns) == 2             # 2 full episodes + 50 steps of a third
    assert data.obs.shape == (450, 3) and data.act.shape == (450, 1) and data.next_obs.shape == (450, 3)
    assert np.all(np.abs(data.act) <= 2.0)
    np.testing.assert_array_equal(np.unique(data.episode), [0, 1, 2])
    # consecutive steps of one episode chain: next_obs[t] == obs[t + 1]
    same = data.episode[:-1] == data.episode[1:]
    np.testing.assert_allclose(data.next_obs[:-1][same], data.obs[1:][same])
    assert returns[0] == pytest.approx(data.rew[data.episode == 0].sum(), rel=1e-6)
    policy = GaussianPolicy(3, 1, rng=rng)
    d2, r2 = mb.collect(ENV, policy, rng, n_episodes=1)
    assert len(d2) == 200 and len(r2) == 1


@pytest.mark.parametrize("what", ["observation", "reward"])
def test_collection_stops_on_a_non_finite_observation_or_reward(what):
    """A broken simulator is named, as the vector env names it, not learned from."""
    import gymnasium as gym
    from minirl.algos.model_fitting import collect

    class Broken(gym.Wrapper):
        steps = 0

        def step(self, action):
            obs, r, te, tr, info = self.env.step(action)
            self.steps += 1
            if self.steps > 30:
                obs, r = (obs * np.nan, r) if what == "observation" else (obs, float("inf"))
            return obs, r, te, tr, info

    with pytest.raises(FloatingPointError, match=f"non-finite {what}"):
        collect(Broken(gym.make("Pendulum-v1")), None, np.random.default_rng(0), n_steps=100)


def test_train_rows_follow_the_contract_and_are_reproducible():
    cfg = {"initial_random_steps": 400, "model_steps": 5, "policy_updates": 2, "horizon": 3,
           "min_transitions": 0}
    rows = mb.train(ENV, seed=3, total_steps=1000, config=cfg)
    for key in ("step", "time_s", "episodes", "return_mean"):
        assert all(key in r for r in rows)
    steps = [r["step"] for r in rows]
    # the first row comes after the warm-up (400 random steps) and the first iteration (one 200-step episode)
    assert steps[0] == 600 and steps[-1] == 1000 and all(np.diff(steps) > 0)
    assert [r["episodes"] for r in rows] == [3, 4, 5]
    assert all("imagined_return" in r for r in rows), "every row has the model columns (progress.csv's header)"
    assert all(np.diff([r["time_s"] for r in rows]) >= 0)
    again = mb.train(ENV, seed=3, total_steps=1000, config=cfg)
    assert [r["return_mean"] for r in rows] == [r["return_mean"] for r in again]     # same seed, same run


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match=r"reward_model must be one of \('regression', 'preferences'\), got 'human'"):
        mb.ModelBasedConfig(reward_model="human")
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['horizn'\]"):
        mb.train(ENV, seed=0, total_steps=10, config={"horizn": 5})
    with pytest.raises(ValueError, match="horizon must be an integer >= 1, got 0"):
        mb.ModelBasedConfig(horizon=0)
    with pytest.raises(ValueError, match="total_steps must be a positive integer"):
        mb.train(ENV, seed=0, total_steps=0)
    with pytest.raises(ValueError, match=r"bounded, symmetric Box action space .*Discrete"):
        mb.train("CartPole-v1", seed=0, total_steps=10)


def test_too_little_data_warns_during_training():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mb.train(ENV, seed=0, total_steps=300, config={"initial_random_steps": 200, "model_steps": 2,
                                                       "policy_updates": 1, "horizon": 2})
    messages = [str(w.message) for w in caught if issubclass(w.category, mb.ModelWarning)]
    assert any("dynamics model" in m and "held-out normalised MSE is" in m for m in messages), messages
    assert any("reward model" in m and "held-out MSE / Var(r) is" in m for m in messages), messages


@pytest.mark.slow
def test_svg_through_learned_models_improves_the_true_return():
    """Seeded learning test. Pendulum, 5000 real steps (1000 random + 20 policy episodes), seed 0.

    Both policies are scored deterministically (mean action) on the TRUE env from the same 5 start
    states. The initial policy (torque ~ 0) scores about -1300; the trained one must gain at least
    600 and end above -450 (measured: -1314 before, -158 after).
    """
    rows, agent = mb.run(ENV, seed=0, total_steps=5000, config=FAST)
    initial = GaussianPolicy(3, 1, rng=np.random.default_rng(0), log_std_init=-0.5)   # the same init as run()
    before = mb.evaluate(ENV, initial, np.random.default_rng(100), n_episodes=5).mean()
    after = mb.evaluate(ENV, agent.policy, np.random.default_rng(100), n_episodes=5).mean()
    assert rows[-1]["step"] == 5000
    assert after > before + 600, f"true return {before:.0f} -> {after:.0f}: improved by less than 600"
    assert after > -450, f"true return after training {after:.0f} <= -450"
    # the models fitted the data they were trained on (held-out one-step error, normalised)
    assert rows[-1]["dyn_val_error"] < 0.01


# ------------------------------------------------------------------------------ the model-error experiment
def _mean_by_value(points, field):
    values = sorted({p.value for p in points}, key=[p.value for p in points].index)
    return values, [float(np.mean([getattr(p, field) for p in points if p.value == v])) for v in values]


@pytest.mark.slow
def test_planning_gap_grows_with_less_data():
    """Fast setting, 3 seeds averaged: plans optimised through models fitted on 4000 / 400 / 100
    random transitions lose more and more true return against plans optimised in the true dynamics
    (measured return gaps: about 25, 52, 69; optimism 27, 61, 148)."""
    from minirl.experiments import model_error as me

    points = me.run_planning_gap("n_transitions", (4000, 400, 100), seeds=(0, 1, 2))
    _, gap = _mean_by_value(points, "return_gap")
    assert gap[0] < gap[1] < gap[2], f"mean return gap {gap} does not grow as the data shrinks"
    _, optimism = _mean_by_value(points, "optimism")
    assert optimism[0] < optimism[1] < optimism[2], f"the model's optimism {optimism} does not grow"
    _, err = _mean_by_value(points, "dyn_error")
    assert err[0] < err[1] < err[2]
    assert all(p.warnings > 0 for p in points if p.value < 500)        # too little data: warned
    assert all(p.warnings == 0 for p in points if p.value == 4000)


@pytest.mark.slow
def test_planning_gap_grows_with_observation_noise():
    """Same probe, 3 seeds averaged, noise std 0 / 0.1 / 0.3 on the logged observations
    (measured return gaps: about 25, 30, 54)."""
    from minirl.experiments import model_error as me

    points = me.run_planning_gap("obs_noise", (0.0, 0.1, 0.3), seeds=(0, 1, 2))
    _, gap = _mean_by_value(points, "return_gap")
    assert gap[0] < gap[1] < gap[2], f"mean return gap {gap} does not grow with the noise"
    rows = me.summarise(points)
    assert [r["value"] for r in rows] == [0.0, 0.1, 0.3] and all(r["seeds"] == 3 for r in rows)


def test_model_error_experiment_plumbing_and_figure(tmp_path):
    """A tiny online sweep (not a learning claim): the rows, the gap bookkeeping and the figure."""
    from minirl.experiments import model_error as me
    from minirl.plotting.model_error import model_error_figure
    from minirl.plotting import save_figure

    cfg = {"initial_random_steps": 200, "model_steps": 3, "policy_updates": 1, "horizon": 2, "min_transitions": 0}
    points = me.run_model_error("obs_noise", (0.0, 0.5), seeds=(0,), total_steps=400, config=cfg, n_eval=2,
                                horizon=5)
    assert [p.value for p in points] == [0.0, 0.5]
    assert points[0].return_gap == 0.0
    assert points[1].return_gap == pytest.approx(points[0].true_return - points[1].true_return)
    assert all(np.isfinite([p.true_return, p.imagined_return, p.dyn_error]).all() for p in points)
    path = save_figure(model_error_figure(points), str(tmp_path / "model_error.png"))
    assert (tmp_path / "model_error.png").stat().st_size > 0 and path.endswith(".png")
    fig = model_error_figure(points, return_label="return of the 30-step plan", error_label="error on the plan's path")
    top, bottom = fig.axes                                  # one knob: one column of two panels
    assert top.get_ylabel() == "return of the 30-step plan" and bottom.get_ylabel() == "error on the plan's path"
    assert all(ax.get_legend().get_title().get_text() == "1 seed (no band)" for ax in (top, bottom))
    import matplotlib.pyplot as plt
    plt.close(fig)
    with pytest.raises(ValueError, match="unknown knob 'noise'; choose from"):
        me.run_model_error("noise")
    with pytest.raises(ValueError, match="no differentiable twin for 'Pendulum-v1'"):
        me.run_planning_gap("obs_noise", env="Pendulum-v1")


def test_planning_probe_gradient_through_the_true_dynamics_matches_finite_differences():
    """The probe's reference plans backprop through the twin from observations (angle via atan2)."""
    from minirl.envs import make_twin
    from minirl.experiments import model_error as me
    from minirl.gradcheck import gradient_check

    twin = make_twin("minirl/Pendulum-v1")
    dyn, rew = me._true_model(twin)
    start = twin.observe(twin.reset(np.random.default_rng(0), 2)).data                  # (2, 3)
    acts = np.random.default_rng(1).uniform(-1.5, 1.5, size=(2, 3, 1))                   # inside the torque limits
    assert max(gradient_check(lambda a: me._plan_return(dyn, rew, start, a), [acts])) < 1e-6
    # the true-model plan beats doing nothing
    plan, _ = me.plan_actions(dyn, rew, start, 10, iters=30)
    zero = me._plan_return(dyn, rew, start, np.zeros((2, 10, 1))).item()
    assert me._plan_return(dyn, rew, start, plan).item() > zero


def test_terminating_env_collects_whole_short_episodes_per_iteration():
    """CliffCart ends an episode when the cart falls: an iteration keeps collecting whole episodes
    until it has at least `min_steps_per_iter` steps, and the row count follows."""
    cfg = {"initial_random_steps": 300, "model_steps": 3, "policy_updates": 1, "horizon": 3,
           "min_steps_per_iter": 120, "min_transitions": 0}
    rows = mb.train("minirl/CliffCart-v0", seed=0, total_steps=900, config=cfg)
    steps = np.array([r["step"] for r in rows])
    assert steps[-1] == 900
    assert np.all(np.diff(steps)[:-1] >= 120)          # the last iteration may be cut by the budget
    assert rows[-1]["episodes"] > len(rows)            # several (short) episodes per iteration


def test_preference_reward_model_in_the_loop():
    """reward_model="preferences": the loop runs on judged pairs only and logs the judge agreement."""
    cfg = {"reward_model": "preferences", "initial_random_steps": 400, "model_steps": 5, "policy_updates": 1,
           "horizon": 3, "n_pairs": 200, "judge_temperature": 1.0, "min_transitions": 0}
    rows = mb.train(ENV, seed=0, total_steps=600, config=cfg)
    assert rows[-1]["step"] == 600
    assert 0.0 <= rows[-1]["rew_val_accuracy"] <= 1.0 and "rew_val_error" not in rows[-1]
    with pytest.raises(ValueError, match="data_fraction < 1 would cut the judged segments apart"):
        mb.ModelBasedConfig(reward_model="preferences", data_fraction=0.5)
