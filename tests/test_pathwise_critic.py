"""SHAC's critic replay of windows (`critic_windows`) and wide start states (`start_wide`)."""

from __future__ import annotations

import numpy as np
import pytest

import minirl  # noqa: F401
from minirl.algos import pathwise
from minirl.algos.pathwise import SHAC, Window, critic_data, lambda_returns
from minirl.autograd import Tensor, no_grad
from minirl.envs.cliffcart import CliffCartTwin
from minirl.envs.pendulum import PendulumTwin
from minirl.policies import ValueFunction


def _window(rng, T, B, O=3, ended=False) -> Window:
    masks = np.ones((T + 1, B))
    if ended:
        masks[T // 2 + 1:, 0] = 0.0                                  # rollout 0 ended half way
    return Window(rng.normal(size=(T + 1, B, O)), rng.normal(size=(T, B)), masks)


def _one_by_one(critic, w: Window, gamma, lam):
    """The targets of one window, the critic asked one time step at a time (as the single-window fit did)."""
    with no_grad():
        values = np.stack([critic(Tensor(o)).data for o in w.obs])                 # (T + 1, B)
    targets = lambda_returns(w.rewards, values, w.masks, gamma, lam)
    keep = w.masks[:-1].reshape(-1) > 0
    return w.obs[:-1].reshape(-1, w.obs.shape[-1])[keep], targets.reshape(-1)[keep]


def test_critic_data_of_one_window_are_its_lambda_returns():
    """With one window (critic_windows=1, SHAC's own rule) the targets are those of the single-window fit,
    bit for bit: the default training is unchanged by the replay."""
    rng = np.random.default_rng(0)
    critic = ValueFunction(3, rng=rng, hidden=(8,))
    w = _window(rng, 5, 2, ended=True)
    x, y = critic_data(critic, [w], 0.9, 0.8)
    ex, ey = _one_by_one(critic, w, 0.9, 0.8)
    np.testing.assert_array_equal(x, ex)
    np.testing.assert_array_equal(y, ey)
    assert len(y) == 5 * 2 - 2, "the two steps after rollout 0 ended are not regressed on"


def test_windows_of_several_lengths_give_each_window_its_own_targets():
    """Batching windows side by side (same length) must not mix them: the union of per-window targets."""
    rng = np.random.default_rng(1)
    critic = ValueFunction(3, rng=rng, hidden=(8,))
    windows = [_window(rng, 4, 2), _window(rng, 6, 1, ended=True), _window(rng, 4, 2, ended=True), _window(rng, 2, 3)]
    x, y = critic_data(critic, windows, 0.95, 0.9)
    parts = [_one_by_one(critic, w, 0.95, 0.9) for w in windows]
    ex, ey = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    assert x.shape == ex.shape and y.shape == ey.shape
    order, expected_order = np.lexsort(x.T), np.lexsort(ex.T)                   # pair each state with its target
    np.testing.assert_allclose(x[order], ex[expected_order])
    np.testing.assert_allclose(y[order], ey[expected_order], rtol=1e-12, atol=1e-12)


def test_the_agent_keeps_the_last_critic_windows_and_a_resume_empties_them():
    agent = SHAC("minirl/Pendulum-v1", {"critic_windows": 3}, seed=0)
    rows = agent.learn_iter(10 ** 6)
    for _ in range(5):
        next(rows)
    assert len(agent.windows) == 3
    state, *_ = agent._episode
    last = agent.windows[-1]
    np.testing.assert_array_equal(last.obs[-1], agent.twin.observe(state.detach()).data,
                                  err_msg="the newest window ends at the state the episode is at")
    assert last.rewards.shape == (16, 1) and last.obs.shape == (17, 1, 3)
    fresh = SHAC("minirl/Pendulum-v1", {"critic_windows": 3}, seed=0)
    fresh.load_state_dict(agent.state_dict())
    assert len(fresh.windows) == 0


def test_start_wide_draws_start_states_from_the_state_box():
    twin = PendulumTwin()
    narrow = SHAC(twin, {"num_envs": 64, "start_wide": 0.0}, seed=0)._start_states(64).data
    wide = SHAC(twin, {"num_envs": 64, "start_wide": 1.0}, seed=0)._start_states(64).data
    half = SHAC(twin, {"num_envs": 400, "start_wide": 0.5}, seed=0)._start_states(400).data
    low, high = twin.state_box
    assert np.abs(narrow[:, 1]).max() <= 1.0, "twin.reset starts nearly at rest"
    assert (wide >= low).all() and (wide <= high).all() and np.abs(wide[:, 1]).max() > 6.0
    fast = np.mean(np.abs(half[:, 1]) > 1.0)                     # P(|thdot| > 1) = 0.5 * 7/8 with start_wide 0.5
    assert 0.33 < fast < 0.55, f"about 44% of the starts should be wide, got {fast:.0%}"


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="critic_windows"):
        pathwise.PathwiseConfig(critic_windows=0)
    with pytest.raises(ValueError, match="start_wide"):
        pathwise.PathwiseConfig(start_wide=1.5)
    with pytest.raises(ValueError, match="state_box"):
        SHAC(CliffCartTwin(), {"start_wide": 0.5}, seed=0)
