"""Differentiable twins: the same numbers as Gymnasium, a correct BPTT gradient, and registered ids."""

from __future__ import annotations

import importlib.util
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import minirl  # noqa: F401  (registers the minirl/ ids)
from minirl.autograd import Tensor
from minirl.envs import TWINS, make_twin
from minirl.envs.cliffcart import CliffCartTwin
from minirl.envs.pendulum import PendulumTwin, angle_normalize
from minirl.gradcheck import gradient_check


# ----------------------------------------------------------------------------- Pendulum vs Gymnasium
def test_pendulum_twin_steps_like_gymnasium_from_the_same_states_and_actions():
    rng = np.random.default_rng(0)
    n = 200
    # angles far outside [-pi, pi), speeds and torques beyond their limits: wrapping and clipping too
    states = np.stack([rng.uniform(-12, 12, n), rng.uniform(-10, 10, n)], axis=1)      # (n, 2)
    actions = rng.uniform(-3, 3, (n, 1))                                               # (n, 1)
    next_states, rewards = PendulumTwin().step(Tensor(states), Tensor(actions))
    ref = gym.make("Pendulum-v1").unwrapped
    ref.reset(seed=0)
    for i in range(n):
        ref.state = states[i].copy()
        obs, reward, *_ = ref.step(actions[i])
        np.testing.assert_array_equal(ref.state, next_states.data[i])
        assert reward == rewards.data[i]
        np.testing.assert_array_equal(obs, PendulumTwin().observe(next_states).data[i].astype(np.float32))


def test_minirl_pendulum_env_replays_gymnasium_episodes_exactly():
    ours, ref = gym.make("minirl/Pendulum-v1"), gym.make("Pendulum-v1")
    rng = np.random.default_rng(1)
    for seed in (0, 7):
        o1, _ = ours.reset(seed=seed)
        o2, _ = ref.reset(seed=seed)
        np.testing.assert_array_equal(o1, o2)
        for t in range(200):
            a = rng.uniform(-2.5, 2.5, 1)                       # float64 actions, like the twin's
            s1, s2 = ours.step(a), ref.step(a)
            np.testing.assert_array_equal(s1[0], s2[0])
            assert s1[1:4] == s2[1:4], f"step {t}: reward/terminated/truncated differ"
        assert s1[3] is True, "the 200-step time limit must truncate the episode"


@pytest.mark.parametrize("env_id", sorted(TWINS))
def test_registered_ids_pass_the_gymnasium_env_checker(env_id):
    env = gym.make(env_id)
    assert env.spec.reward_threshold is not None
    assert env.spec.max_episode_steps == make_twin(env_id).horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # advice such as "use a [-1, 1] action box"
        # the render check draws frames, which needs pygame (the render extra); the quick tests on the
        # dependency floors (.ci/run) install only the test extra
        check_env(env.unwrapped, skip_render_check=importlib.util.find_spec("pygame") is None)


def test_angle_normalize_wraps_and_has_unit_gradient():
    th = Tensor(np.array([0.1, 3.5, -3.5, 7.0, -20.0]), requires_grad=True)
    out = angle_normalize(th)
    np.testing.assert_allclose(out.data, [0.1, 3.5 - 2 * np.pi, -3.5 + 2 * np.pi, 7.0 - 2 * np.pi,
                                          -20.0 + 6 * np.pi], atol=1e-12)
    out.sum().backward()
    np.testing.assert_array_equal(th.grad, np.ones(5))


# ----------------------------------------------------------------------------- BPTT gradients
def _pendulum_return(actions: Tensor, state: Tensor, weight: Tensor) -> Tensor:
    """Return of a T-step rollout: torque = open-loop action + linear feedback obs @ weight."""
    twin, total = PendulumTwin(), 0.0
    for t in range(actions.shape[0]):
        u = actions[t] + twin.observe(state) @ weight                  # (B, 1)
        state, reward = twin.step(state, u)
        total = total + reward
    return total                                                       # (B,)


def test_bptt_gradient_through_the_pendulum_matches_finite_differences():
    rng = np.random.default_rng(2)
    B, T = 3, 8
    state = np.stack([rng.uniform(-2.5, 2.5, B), rng.uniform(-1, 1, B)], axis=1)   # (B, 2)
    actions = rng.uniform(-0.5, 0.5, (T, B, 1))                                    # (T, B, 1), inside the limits
    weight = rng.normal(0, 0.2, (3, 1))
    errors = gradient_check(_pendulum_return, [actions, state, weight])
    assert max(errors) < 1e-6, f"BPTT gradient vs central differences: relative errors {errors}"


def test_cliffcart_step_by_hand_and_the_gradient_cannot_see_the_cliff():
    twin = CliffCartTwin()
    state = Tensor(np.array([[0.9, 0.5], [0.95, 0.6]]), requires_grad=True)
    action = Tensor(np.array([[1.0], [0.5]]), requires_grad=True)
    nxt, reward = twin.step(state, action)
    # cart 0: v' = 0.5 + 1 * 0.1 = 0.6, x' = 0.9 + 0.06 = 0.96 <= 1, r = 0.96 - 0.01 * 1
    # cart 1: v' = 0.6 + 0.05 = 0.65, x' = 0.95 + 0.065 = 1.015 > 1: over the edge, r = -0.01 * 0.25
    np.testing.assert_allclose(nxt.data, [[0.96, 0.6], [1.015, 0.65]], atol=1e-12)
    np.testing.assert_allclose(reward.data, [0.95, -0.0025], atol=1e-12)
    np.testing.assert_array_equal(twin.terminated(nxt), [False, True])
    reward.sum().backward()
    # dr/du = dt^2 - 0.02 u on the rail; over the edge only the effort term is left: -0.02 u
    np.testing.assert_allclose(action.grad[:, 0], [0.01 - 0.02, -0.01], atol=1e-12)
    errors = gradient_check(lambda s, a: twin.step(s, a)[1],
                            [np.array([[0.2, 0.3], [-0.4, 0.1]]), np.array([[0.3], [-0.7]])])
    assert max(errors) < 1e-6, errors


def test_cliffcart_env_terminates_at_the_edge():
    env = gym.make("minirl/CliffCart-v0")
    env.reset(seed=0)
    total, steps, terminated = 0.0, 0, False
    while not terminated:
        _, r, terminated, truncated, _ = env.step(np.array([1.0], dtype=np.float32))
        total, steps = total + r, steps + 1
        assert not truncated
    assert 10 < steps < 30, f"full throttle from x in [-0.5, -0.3] reaches the edge in ~20 steps, took {steps}"
    assert total < 10, "falling early must earn little"


# ----------------------------------------------------------------------------- bad input
def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"shape \(B, 1\)"):
        PendulumTwin().step(np.zeros((4, 2)), np.zeros((4,)))
    with pytest.raises(ValueError, match="batch"):
        PendulumTwin().reset(np.random.default_rng(0), 0)
    with pytest.raises(TypeError, match="Generator"):
        CliffCartTwin().reset(0, 4)
    with pytest.raises(ValueError, match="minirl/Pendulum-v1"):
        make_twin("CartPole-v1")
