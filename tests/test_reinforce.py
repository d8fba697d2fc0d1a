"""REINFORCE: probes for every baseline and both action types, config checks, checkpoints."""

import numpy as np
import pytest

from minirl.algos.reinforce import Reinforce, ReinforceConfig
from minirl.autograd import no_grad
from minirl.envs import probes

BASELINES = ["none", "mean", "value", "loo"]


def _config(**changes):
    # log_std_init=-1: with sigma = 1 most samples of the continuous probes would be clipped at the
    # bound of [-1, 1], and clipping moves the optimum of E[r(clip(a))] towards the bound.
    base = dict(num_envs=8, episodes_per_env=4, learning_rate=1e-2, value_learning_rate=1e-2,
                hidden_sizes=(32,), gamma=0.9, log_std_init=-1.0)
    return ReinforceConfig(**{**base, **changes})


@pytest.mark.parametrize("baseline", BASELINES)
def test_probe_action_reward_discrete(baseline):
    agent = Reinforce(lambda: probes.ActionReward(), _config(baseline=baseline), seed=0)
    list(agent.learn_iter(2000))
    with no_grad():
        assert agent.policy.dist(np.zeros((1, 1))).probs[0, 1] > 0.95


@pytest.mark.parametrize("baseline", ["mean", "value", "loo"])
def test_probe_observation_and_action_reward_continuous(baseline):
    agent = Reinforce(lambda: probes.ObsActionReward(continuous=True), _config(baseline=baseline), seed=0)
    list(agent.learn_iter(6000))
    np.testing.assert_allclose(agent.act(np.array([[-1.0], [1.0]])).ravel(), [-0.5, 0.5], atol=0.1)
    assert agent._return_mean() > 0.95


@pytest.mark.parametrize("reward_to_go", [True, False])
def test_probe_observation_and_action_reward_discrete(reward_to_go):
    agent = Reinforce(lambda: probes.ObsActionReward(), _config(reward_to_go=reward_to_go, baseline="loo"),
                      seed=0)
    list(agent.learn_iter(3000))
    assert agent.act(np.array([[-1.0], [1.0]])).tolist() == [0, 1]


def test_probe_action_reward_continuous():
    agent = Reinforce(lambda: probes.ActionReward(continuous=True), _config(norm_adv=True), seed=0)
    list(agent.learn_iter(6000))
    assert abs(agent.act(np.zeros(1))[0] - 0.5) < 0.1


def test_value_baseline_bootstraps_truncation():
    """Survive: reward 1 forever, cut at 20 steps; the critic's target bootstraps: V = 1 / (1 - 0.9) = 10."""
    agent = Reinforce(lambda: probes.Survive(horizon=20), _config(episodes_per_env=1), seed=0)
    list(agent.learn_iter(5000))
    with no_grad():
        assert abs(agent.value(np.zeros((1, 1))).data[0] - 10.0) < 0.5


def test_batches_are_complete_episodes_and_rows_continue():
    agent = Reinforce(lambda: probes.Survive(horizon=5), _config(num_envs=3, episodes_per_env=2), seed=0)
    rows = list(agent.learn_iter(60))
    assert [r["step"] for r in rows] == [30, 60] and [r["episodes"] for r in rows] == [6, 12]
    assert rows[-1]["return_mean"] == 5.0
    assert [r["step"] for r in agent.learn_iter(90)] == [90]


@pytest.mark.parametrize("field, value", [
    ("baseline", "median"), ("learning_rate", 0.0), ("gamma", 1.01), ("episodes_per_env", 0),
    ("value_iters", 0), ("max_grad_norm", 0.0)])
def test_invalid_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ReinforceConfig(**{field: value})
    with pytest.raises(ValueError, match="loo"):
        ReinforceConfig(baseline="loo", num_envs=1, episodes_per_env=1)


def test_checkpoint_round_trip(tmp_path):
    cfg = _config(normalize_obs=True)
    agent = Reinforce("CartPole-v1", cfg, seed=0)
    list(agent.learn_iter(300))
    np.savez(tmp_path / "c.npz", **agent.state_dict())
    other = Reinforce("CartPole-v1", cfg, seed=1)
    with np.load(tmp_path / "c.npz") as f:
        other.load_state_dict(dict(f))
    obs = np.random.default_rng(0).standard_normal((32, 4))
    np.testing.assert_array_equal(other.act(obs), agent.act(obs))
    np.testing.assert_array_equal(other.act(obs, deterministic=False), agent.act(obs, deterministic=False))
    from minirl.algos.ppo import PPO
    with pytest.raises(ValueError, match="refused"):
        PPO("CartPole-v1", None, seed=0).load_state_dict(agent.state_dict())


@pytest.mark.parametrize("baseline", ["none", "loo", "value"])
def test_score_function_gradient_matches_the_exact_gradient(baseline):
    """Three-armed bandit, pi = softmax(theta): dJ/dtheta_k = pi_k (r_k - J) by hand. The REINFORCE loss
    -mean(log pi(a) (G - b)) averaged over many one-step episodes must give minus that gradient."""
    from minirl.autograd import Tensor
    from minirl.distributions import Categorical
    from minirl.returns import policy_gradient_weights

    rng = np.random.default_rng(0)
    theta0, rewards = np.array([0.2, -0.3, 0.5]), np.array([1.0, 3.0, 2.0])
    pi = np.exp(theta0) / np.exp(theta0).sum()
    exact = pi * (rewards - pi @ rewards)                                 # dJ/dtheta
    B = 40_000
    actions = rng.choice(3, size=B, p=pi)
    returns = [np.array([rewards[a]]) for a in actions]                  # one-step episodes
    values = [np.array([1.5])] * B                                       # any state-only baseline
    w = np.concatenate(policy_gradient_weights(returns, True, baseline, values))
    theta = Tensor(np.tile(theta0, (B, 1)), requires_grad=True)
    loss = -(Categorical(theta).log_prob(actions) * w).mean()
    loss.backward()
    estimate = -theta.grad.sum(axis=0)                                   # (3,)
    np.testing.assert_allclose(estimate, exact, atol=0.03)
