"""The row of d pendulums (lesson 13's task family): the black box and its twin agree bit for bit, the
dynamics are Pendulum's, a step by hand, BPTT gradients, the returns' scale, and bad input.
(The registered ids pass Gymnasium's env checker in tests/test_twins.py, which covers every twin.)"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import minirl  # noqa: F401  (registers the minirl/ ids)
from minirl.autograd import Tensor, no_grad
from minirl.envs import TWINS, make_twin
from minirl.envs.pendulum_row import DIMS, PendulumRowEnv, PendulumRowTwin, dim_of, reference_action, row_id
from minirl.gradcheck import gradient_check


def test_every_d_is_registered_with_a_twin_and_a_threshold():
    for d in DIMS:
        env = gym.make(row_id(d))
        assert env.spec.max_episode_steps == 100 and env.spec.reward_threshold is not None
        assert env.observation_space.shape == (4 * d,) and env.action_space.shape == (d,)
        assert row_id(d) in TWINS and make_twin(row_id(d)).d == d
        assert dim_of(row_id(d)) == d
    assert dim_of("minirl/Pendulum-v1") is None


@pytest.mark.parametrize("d", [1, 3, 16])
def test_black_box_replays_the_twin_bit_for_bit(d):
    """Three black-box episodes stepped one by one equal the twin stepping the same three rows at once."""
    envs = [gym.make(row_id(d)) if d in DIMS else gym.wrappers.TimeLimit(PendulumRowEnv(d=d), 100)
            for _ in range(3)]                           # d = 3 is not registered: the class itself
    obs = np.stack([e.reset(seed=s)[0] for s, e in zip((0, 5, 9), envs)])        # (3, 4d) float32
    twin = PendulumRowTwin(d)
    state = np.stack([e.unwrapped.state for e in envs])                           # (3, 3d)
    np.testing.assert_array_equal(obs, twin.observe(state).data.astype(np.float32))
    rng = np.random.default_rng(0)
    for t in range(100):
        actions = rng.uniform(-2.5, 2.5, (3, d))                                  # beyond the limits too
        with no_grad():
            state, rewards = twin.step(state, actions)
        state = state.data
        for i, e in enumerate(envs):
            o, r, terminated, truncated, _ = e.step(actions[i])
            np.testing.assert_array_equal(e.unwrapped.state, state[i])
            np.testing.assert_array_equal(o, twin.observe(state[i:i + 1]).data[0].astype(np.float32))
            assert r == rewards.data[i], f"step {t}, row {i}: reward {r} != twin's {rewards.data[i]}"
            assert not terminated and truncated == (t == 99)


def test_one_pendulum_moves_exactly_as_gymnasium_pendulum():
    """d = 1 has no neighbour: th and thdot follow Pendulum-v1's step bit for bit (only the reward differs)."""
    ref = gym.make("Pendulum-v1").unwrapped
    ref.reset(seed=0)
    twin, rng = PendulumRowTwin(1), np.random.default_rng(3)
    for _ in range(50):
        th, thdot, u = rng.uniform(-10, 10), rng.uniform(-9, 9), rng.uniform(-3, 3)
        ref.state = np.array([th, thdot])
        ref.step(np.array([u]))
        nxt, _ = twin.step(np.array([[th, thdot, 0.1]]), np.array([[u]]))
        np.testing.assert_array_equal(nxt.data[0, :2], ref.state)


def test_a_step_of_two_coupled_pendulums_by_hand():
    th, thdot, off, u = np.array([3.0, 2.5]), np.array([0.5, -1.0]), np.array([0.2, -0.1]), np.array([1.0, -3.0])
    nxt, reward = PendulumRowTwin(2).step(np.concatenate([th, thdot, off])[None], u[None])
    uc = np.array([1.0, -2.0])                                      # the second torque is clipped
    pull = np.sin(th[1] - th[0])                                    # the coupling: +pull on 0, -pull on 1
    accel = 15 * np.sin(th) + 3 * uc + np.array([pull, -pull])
    new_thdot = np.clip(thdot + accel * 0.05, -8, 8)
    np.testing.assert_allclose(nxt.data[0], np.concatenate([th + new_thdot * 0.05, new_thdot, off]), atol=1e-12)
    cost = 2 * (1 - np.cos(th - (off + np.pi))) + 0.1 * thdot ** 2 + 0.001 * uc ** 2
    assert reward.data[0] == pytest.approx(-cost.mean(), abs=1e-12)


def _row_return(actions: Tensor, state: Tensor, weight: Tensor, twin=PendulumRowTwin(3)) -> Tensor:
    total = 0.0
    for t in range(actions.shape[0]):
        state, reward = twin.step(state, actions[t] + twin.observe(state) @ weight)
        total = total + reward
    return total


def test_bptt_through_the_row_matches_finite_differences():
    rng, d, B, T = np.random.default_rng(2), 3, 2, 8
    state = np.concatenate([rng.uniform(-3, 3, (B, d)), rng.uniform(-1, 1, (B, d)), rng.uniform(-0.3, 0.3, (B, d))], 1)
    errors = gradient_check(_row_return, [rng.uniform(-0.5, 0.5, (T, B, d)), state, rng.normal(0, 0.2, (4 * d, d))])
    assert max(errors) < 1e-6, f"BPTT gradient vs central differences: relative errors {errors}"


@pytest.mark.parametrize("d", [1, 16])
def test_returns_keep_one_scale_at_every_d(d):
    """Doing nothing scores about -240, the hand-written controller about -57, whatever d (module doc)."""
    twin = PendulumRowTwin(d)
    totals = {}
    for name in ("zero", "controller"):
        state, total = twin.reset(np.random.default_rng(1), 64).data, np.zeros(64)
        with no_grad():
            for _ in range(twin.horizon):
                action = np.zeros((64, d)) if name == "zero" else reference_action(state, d)
                state, reward = twin.step(state, action)
                state, total = state.data, total + reward.data
        totals[name] = total.mean()
    assert -280 < totals["zero"] < -200, totals
    assert -65 < totals["controller"] < -45, totals


def test_state_box_covers_reset_and_bad_input_is_named():
    twin = PendulumRowTwin(4)
    low, high = twin.state_box
    s = twin.reset(np.random.default_rng(0), 100).data
    assert (s >= low).all() and (s <= high).all()
    with pytest.raises(ValueError, match="integer >= 1"):
        PendulumRowTwin(0)
    with pytest.raises(ValueError, match="coupling"):
        PendulumRowTwin(2, coupling=-1.0)
    with pytest.raises(ValueError, match=r"registered d: \[1, 2, 4, 8, 16\]"):
        row_id(3)
    with pytest.raises(ValueError, match=r"shape \(B, 4\)"):
        twin.step(np.zeros((2, 12)), np.zeros((2, 3)))


@pytest.mark.slow
def test_shac_holds_a_row_of_four_within_2000_simulated_steps():
    """The learning test of the family: SHAC's row preset (seed 0) reaches the threshold, -60, on the
    evaluation protocol (the black box, 10 fixed episodes) within 2,000 env steps at d = 4."""
    from minirl.algos.pathwise import SHAC
    from minirl.evaluation import evaluate_policy

    agent = SHAC(row_id(4), None, seed=0)
    for _ in agent.learn_iter(2_000):
        pass
    returns = evaluate_policy(lambda obs: agent.act(obs, deterministic=True), row_id(4), 10)
    assert agent.global_step >= 2_000 and returns.mean() >= -60, returns.mean()
