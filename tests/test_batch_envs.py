"""minirl.batch_envs: the NumPy batch engines give bit for bit what stepping each env one by one gives.

(The engines against the loop over Gymnasium envs: tests/test_rollout.py, every engine's trajectories.)"""

import gymnasium as gym
import numpy as np
import pytest

import minirl  # noqa: F401  (registers minirl/Pendulum-v1)
from minirl.autograd import no_grad
from minirl.batch_envs import engine_for
from minirl.envs.pendulum import PendulumTwin
from minirl.evaluation import evaluate_policy
from minirl.rollout import VecEnv

IDS = ["CartPole-v1", "Pendulum-v1", "minirl/Pendulum-v1"]


def test_cartpole_batch_refuses_invalid_actions():
    venv = VecEnv("CartPole-v1", 2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match="integers in"):
        venv.step(np.array([0, 2]))


def test_engines_exist_for_the_listed_ids_only():
    assert all(VecEnv(i, 1).vectorization == "batch" for i in IDS)              # the default where there is one
    assert all(engine_for(i) is not None for i in IDS)
    assert engine_for("Acrobot-v1") is None and engine_for(lambda: None) is None
    assert VecEnv("Acrobot-v1", 1).vectorization == "loop"
    with pytest.raises(ValueError, match="no batch engine"):
        VecEnv("Acrobot-v1", 1, vectorization="batch")


def test_minirl_pendulum_steps_the_twin_arithmetic_on_plain_arrays():
    """The black box's NumPy step gives the floats of the differentiable twin's step."""
    env = gym.make("minirl/Pendulum-v1").unwrapped
    twin = PendulumTwin()
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    for _ in range(300):
        state = env.state.copy()
        u = rng.uniform(-3, 3, 1)
        obs, reward, *_ = env.step(u)
        with no_grad():
            next_state, twin_reward = twin.step(state[None], u[None])
        np.testing.assert_array_equal(env.state, next_state.data[0])
        assert reward == float(twin_reward.data[0])


@pytest.mark.parametrize("env_id", IDS)
def test_batched_evaluation_equals_one_episode_at_a_time(env_id):
    """evaluate_policy steps its K episodes as one batch; each return is what one env alone gives."""
    venv = VecEnv(env_id, 1, vectorization="loop")
    w = np.random.default_rng(4).standard_normal((venv.obs_dim, venv.n_actions or venv.act_dim))

    def act(obs):
        out = obs @ w
        return out.argmax(axis=1) if venv.discrete else np.clip(out, -2, 2)

    batched = evaluate_policy(act, env_id, episodes=6)
    alone = []
    for i in range(6):
        env = gym.make(env_id)
        obs, _ = env.reset(seed=10 ** 12 + i)
        total, done = 0.0, False
        while not done:
            a = act(np.asarray(obs, dtype=np.float64)[None])[0]
            obs, r, term, trunc, _ = env.step(int(a) if venv.discrete else a)
            total += float(r)
            done = term or trunc
        alone.append(total)
    np.testing.assert_array_equal(batched, alone)
