"""Learned models of a black box: losses (hand values, finite differences), fits on Pendulum data."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minirl.algos import model_based as mb
from minirl.algos import world_models as wm
from minirl.autograd import Tensor
from minirl.gradcheck import gradient_check, relative_error
from minirl.policies import GaussianPolicy

ENV = "Pendulum-v1"   # the black box; Gymnasium's own Pendulum (same dynamics as minirl's twin)


# ------------------------------------------------------------------------------ hand-computed losses
def test_dynamics_loss_hand_value():
    pred = Tensor(np.array([[1.0, 2.0], [0.0, -1.0]]))
    target = np.array([[0.0, 2.0], [2.0, 0.0]])
    # squared errors 1, 0, 4, 1 -> mean 1.5
    assert wm.dynamics_loss(pred, target).item() == pytest.approx(1.5)


def test_bradley_terry_loss_hand_values():
    a, b = Tensor(np.array([0.0, 2.0, 2.0])), Tensor(np.array([0.0, 0.0, 0.0]))
    y = np.array([1.0, 1.0, 0.0])
    # equal scores: -log(1/2); d = 2 chosen: -log sigmoid(2); d = 2 rejected: -log sigmoid(-2)
    expected = np.mean([np.log(2.0), np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))])
    assert wm.bradley_terry_loss(a, b, y).item() == pytest.approx(expected, rel=1e-12)


def test_bradley_terry_loss_is_finite_for_huge_margins():
    a, b = Tensor(np.array([800.0])), Tensor(np.array([0.0]))
    assert wm.bradley_terry_loss(a, b, np.array([1.0])).item() == pytest.approx(0.0, abs=1e-12)
    assert wm.bradley_terry_loss(a, b, np.array([0.0])).item() == pytest.approx(800.0)


def test_preference_probability_is_the_sigmoid_of_the_margin():
    p = wm.preference_probability(np.array([1.0, 0.0, -3.0]), np.array([0.0, 0.0, 0.0]))
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-np.array([1.0, 0.0, -3.0]))), rtol=1e-12)


# ------------------------------------------------------------------------------ finite differences
def test_loss_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    assert max(gradient_check(lambda p, t: wm.dynamics_loss(p, t), [pred, target])) < 1e-7
    r_pred, r_true = rng.standard_normal(6), rng.standard_normal(6)
    assert max(gradient_check(lambda p, t: wm.reward_regression_loss(p, t), [r_pred, r_true])) < 1e-7
    sa, sb = 3 * rng.standard_normal(7), 3 * rng.standard_normal(7)
    y = np.array([1, 0, 1, 1, 0, 0.3, 0.5])          # hard and soft labels
    assert max(gradient_check(lambda a, b: wm.bradley_terry_loss(a, b, y), [sa, sb])) < 1e-7


def _small_models(seed=0):
    rng = np.random.default_rng(seed)
    policy = GaussianPolicy(3, 1, rng=rng, hidden=(8,), head_gain=1.0)
    dyn = wm.DynamicsModel(3, 1, rng=rng, hidden=(8,))
    rew = wm.RewardModel(3, 1, rng=rng, hidden=(8,))
    data = rng.standard_normal((50, 3))
    dyn.fit_normalisers(data, rng.standard_normal((50, 1)), data + 0.1 * rng.standard_normal((50, 3)))
    rew.fit_normalisers(data, rng.standard_normal((50, 1)))
    return policy, dyn, rew, rng.standard_normal((4, 3))


def test_imagined_return_gradient_matches_finite_differences():
    """BPTT through the learned models: d J / d s_0 and d J / d theta against central differences."""
    policy, dyn, rew, s0 = _small_models()

    def J(obs):                                       # the same noise eps on every call
        return wm.imagined_return(policy, dyn, rew, obs, 4, np.random.default_rng(7), gamma=0.9, action_scale=2.0)

    assert max(gradient_check(J, [s0])) < 1e-6

    w = policy.net.layers[0].weight                   # d J / d (first policy layer) by hand
    policy.zero_grad()
    J(Tensor(s0)).backward()
    analytic = w.grad.copy()
    numeric = np.zeros_like(w.data)
    h = 1e-6
    for idx in np.ndindex(w.shape):
        old = w.data[idx]
        w.data[idx] = old + h
        plus = J(Tensor(s0)).item()
        w.data[idx] = old - h
        minus = J(Tensor(s0)).item()
        w.data[idx] = old
        numeric[idx] = (plus - minus) / (2 * h)
    assert relative_error(analytic, numeric) < 1e-6
    g = policy.log_std.grad                           # the reparameterised noise reaches log sigma
    assert g is not None and np.all(np.isfinite(g)) and np.any(g != 0)


def test_imagined_return_hand_value_with_known_models():
    """Known models: s' = s + a, r = -s^2, policy mean 0 and tiny std -> J = -sum gamma^t s_0^2."""
    rng = np.random.default_rng(0)
    policy = GaussianPolicy(1, 1, rng=rng, hidden=(4,), log_std_init=-30.0)
    for p in policy.net.parameters():
        p.data = np.zeros_like(p.data)                # mean action exactly 0
    J = wm.imagined_return(policy, lambda s, a: s + a, lambda s, a: -(s * s).sum(axis=-1),
                           np.array([[1.0], [2.0]]), 3, rng, gamma=0.5, action_scale=2.0)
    assert J.item() == pytest.approx(-(1 + 4) / 2 * (1 + 0.5 + 0.25), rel=1e-9)


def test_frozen_restores_requires_grad():
    _, dyn, _, _ = _small_models()
    with wm.frozen(dyn):
        assert not any(p.requires_grad for p in dyn.parameters()) or dyn.parameters() == []
    assert all(p.requires_grad for p in dyn.parameters()) and len(dyn.parameters()) == 4


def test_bad_input_is_refused_with_a_message():
    with pytest.raises(ValueError, match="prefs must lie in"):
        wm.bradley_terry_loss(Tensor(np.zeros(2)), Tensor(np.zeros(2)), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="same shape"):
        wm.bradley_terry_loss(Tensor(np.zeros(2)), Tensor(np.zeros(3)), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"prediction shape \(2, 3\) != target shape \(2, 2\)"):
        wm.dynamics_loss(Tensor(np.zeros((2, 3))), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="horizon must be an integer >= 1, got 0"):
        policy, dyn, rew, s0 = _small_models()
        wm.imagined_return(policy, dyn, rew, s0, 0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="obs_dim must be a positive integer, got 0"):
        wm.DynamicsModel(0, 1, rng=np.random.default_rng(0))


def test_model_state_dict_round_trip():
    _, dyn, rew, s0 = _small_models(0)
    _, dyn2, rew2, _ = _small_models(1)
    dyn2.load_state_dict(dyn.state_dict())
    rew2.load_state_dict(rew.state_dict())
    a = np.ones((4, 1))
    np.testing.assert_array_equal(dyn(s0, a).data, dyn2(s0, a).data)
    np.testing.assert_array_equal(rew(s0, a).data, rew2(s0, a).data)


# ------------------------------------------------------------------------------ fits on Pendulum
@pytest.fixture(scope="module")
def random_pendulum_data():
    """4000 black-box Pendulum transitions under uniform random torques (20 episodes)."""
    data, returns = mb.collect(ENV, None, np.random.default_rng(0), n_steps=4000, val_fraction=0.2)
    assert len(data) == 4000 and len(returns) == 20
    return data


def test_dynamics_model_fits_held_out_pendulum_transitions(random_pendulum_data):
    """Stated error: held-out normalised MSE of the one-step delta below 0.01 (1.0 = predicting the mean)."""
    rng = np.random.default_rng(1)
    model = wm.DynamicsModel(3, 1, rng=rng)
    info = mb.fit_dynamics(model, random_pendulum_data, rng, steps=600, lr=2e-3)
    assert info["n_train"] == int((~random_pendulum_data.val).sum())
    assert info["val_error"] < 0.01, f"held-out normalised MSE {info['val_error']:.4f} >= 0.01"
    # in raw units: next angular velocity within a few hundredths of rad/s on average
    val = random_pendulum_data.subset(random_pendulum_data.val)
    pred = model(val.obs, val.act).data
    assert np.mean(np.abs(pred[:, 2] - val.next_obs[:, 2])) < 0.03


def test_reward_regression_fits_held_out_rewards(random_pendulum_data):
    rng = np.random.default_rng(2)
    model = wm.RewardModel(3, 1, rng=rng)
    info = mb.fit_reward_regression(model, random_pendulum_data, rng, steps=600, lr=2e-3)
    assert info["val_error"] < 0.01, f"held-out MSE / Var(r) {info['val_error']:.4f} >= 0.01"


def test_bradley_terry_model_ranks_held_out_pairs_better_than_chance(random_pendulum_data):
    """Trained only on 800 judged pairs; on 1000 fresh pairs of *other* segments it must pick the
    truly better segment at least 85% of the time (chance: 50%)."""
    rng = np.random.default_rng(3)
    train_part = random_pendulum_data.subset(random_pendulum_data.episode < 15)
    test_part = random_pendulum_data.subset(random_pendulum_data.episode >= 15)
    pairs = mb.preference_pairs(train_part, 800, 20, rng)
    model = wm.RewardModel(3, 1, rng=rng)
    info = mb.fit_reward_preferences(model, pairs, rng, steps=250, batch=64, lr=3e-3)
    assert info["val_accuracy"] > 0.8
    fresh = mb.preference_pairs(test_part, 1000, 20, rng)
    accuracy = mb.preference_accuracy(model, fresh, truth="returns")
    assert accuracy >= 0.85, f"held-out ranking accuracy {accuracy:.3f} < 0.85 (chance 0.5)"


def test_scripted_judge():
    rng = np.random.default_rng(0)
    ra, rb = np.array([1.0, -2.0, 3.0]), np.array([0.0, 0.0, 3.0])
    ys = np.stack([mb.scripted_judge(ra, rb, rng) for _ in range(400)])
    np.testing.assert_array_equal(ys[:, :2], np.tile([1.0, 0.0], (400, 1)))   # a perfect judge
    assert 0.4 < ys[:, 2].mean() < 0.6                                         # ties: a coin flip
    # Boltzmann judge: P(A) = sigmoid(1 / 2) = 0.622 for a margin of 1 at temperature 2
    y = mb.scripted_judge(np.ones(20000), np.zeros(20000), rng, temperature=2.0)
    assert abs(y.mean() - 1 / (1 + np.exp(-0.5))) < 4 * np.sqrt(0.25 / 20000)
    with pytest.raises(ValueError, match="temperature must be a finite number >= 0, got -1.0"):
        mb.scripted_judge(ra, rb, rng, temperature=-1.0)


def test_too_little_data_warns_with_the_validation_error(random_pendulum_data):
    rng = np.random.default_rng(4)
    few = random_pendulum_data.subset(np.arange(len(random_pendulum_data)) < 120)
    with pytest.warns(mb.ModelWarning, match=r"only \d+ transitions .* held-out normalised MSE is [0-9.e+-]+"):
        info = mb.fit_dynamics(wm.DynamicsModel(3, 1, rng=rng), few, rng, steps=20)
    assert np.isfinite(info["val_error"])
    with pytest.warns(mb.ModelWarning, match="held-out MSE / Var"):
        mb.fit_reward_regression(wm.RewardModel(3, 1, rng=rng), few, rng, steps=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # enough data: silent
        mb.fit_dynamics(wm.DynamicsModel(3, 1, rng=rng), random_pendulum_data, rng, steps=5)
