"""minirl.rollout (vector envs, final observations, episode stats, space checks) and minirl.normalize."""

import gymnasium as gym
import numpy as np
import pytest

from minirl.envs.probes import Survive, TwoStepDiscount
from minirl.normalize import ObsNormalizer, RewardScaler, RunningMeanStd
from minirl.rollout import VecEnv, collect_episodes


class _SpaceEnv(gym.Env):
    def __init__(self, obs_space, act_space):
        self.observation_space, self.action_space = obs_space, act_space

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, True, False, {}


BOX = gym.spaces.Box(-1, 1, (3,))


@pytest.mark.parametrize("obs_space, act_space, named", [
    (gym.spaces.Dict({"a": BOX}), gym.spaces.Discrete(2), "Dict"),
    (gym.spaces.Tuple((BOX, BOX)), gym.spaces.Discrete(2), "Tuple"),
    (gym.spaces.Box(0, 255, (8, 8, 3), dtype=np.uint8), gym.spaces.Discrete(2), "image"),
    (BOX, gym.spaces.MultiDiscrete([2, 3]), "MultiDiscrete"),
    (BOX, gym.spaces.Box(-np.inf, np.inf, (2,)), "infinite bounds"),
])
def test_unsupported_spaces_fail_at_start(obs_space, act_space, named):
    with pytest.raises(ValueError, match=named) as info:
        VecEnv(lambda: _SpaceEnv(obs_space, act_space), 2)
    assert "supported" in str(info.value) and "Discrete(n)" in str(info.value)


def test_unknown_env_id_keeps_gymnasium_error_and_lists_presets():
    with pytest.raises(gym.error.Error) as info:
        VecEnv("CartPol-v1", 1, preset_ids=("CartPole-v1", "Pendulum-v1"))
    message = str(info.value)
    assert "CartPol" in message and "CartPole-v1, Pendulum-v1" in message


def test_factory_must_return_an_env():
    with pytest.raises(TypeError, match="gymnasium.Env"):
        VecEnv(lambda: 42, 1)
    with pytest.raises(ValueError, match="num_envs"):
        VecEnv("CartPole-v1", 0)


def test_next_obs_is_the_final_observation_not_the_reset_one():
    venv = VecEnv(TwoStepDiscount, 2)
    obs = venv.reset(seed=0)
    np.testing.assert_array_equal(obs, [[0.0], [0.0]])
    s1 = venv.step(np.array([0, 1]))
    np.testing.assert_array_equal(s1.obs, [[1.0], [1.0]])
    assert not s1.terminated.any() and s1.finished == []
    s2 = venv.step(np.array([0, 0]))
    assert s2.terminated.all() and not s2.truncated.any()
    np.testing.assert_array_equal(s2.next_obs, [[1.0], [1.0]])   # the final observation of the episode
    np.testing.assert_array_equal(s2.obs, [[0.0], [0.0]])        # SAME_STEP autoreset: already reset
    assert s2.finished == [(0, 1.0, 2), (1, 1.0, 2)]


def test_truncation_flags_and_episode_statistics():
    venv = VecEnv(lambda: Survive(horizon=3), 1)
    venv.reset(seed=0)
    flags = [venv.step(np.array([0])) for _ in range(7)]
    assert [bool(s.truncated[0]) for s in flags] == [False, False, True, False, False, True, False]
    assert not any(s.terminated[0] for s in flags)
    assert flags[2].finished == [(0, 3.0, 3)] and flags[5].finished == [(0, 3.0, 3)]


def test_discrete_start_offset_and_action_clipping():
    venv = VecEnv(lambda: gym.make("Pendulum-v1"), 2)
    np.testing.assert_allclose(venv.clip_action(np.array([[5.0], [-0.5]])), [[2.0], [-0.5]])
    venv.close()

    class Shifted(_SpaceEnv):
        def step(self, action):
            assert action in (-1, 0), f"env received {action}"
            return self.observation_space.sample(), float(action), True, False, {}

    venv = VecEnv(lambda: Shifted(BOX, gym.spaces.Discrete(2, start=-1)), 2)
    venv.reset(seed=0)
    assert venv.n_actions == 2
    np.testing.assert_array_equal(venv.step(np.array([0, 1])).reward, [-1.0, 0.0])


def test_collect_episodes_gives_k_complete_episodes_per_env():
    venv = VecEnv(lambda: Survive(horizon=4), 3)
    obs = venv.reset(seed=0)
    episodes, _, used = collect_episodes(venv, obs, lambda o: np.zeros(len(o), dtype=np.int64), 2)
    assert len(episodes) == 6 and used == 24
    for ep in episodes:
        assert ep.obs.shape == (4, 1) and ep.rewards.tolist() == [1.0] * 4 and not ep.terminated


# ------------------------------------------------------------------ normalisers

def test_running_mean_std_matches_numpy_over_all_batches():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 2)) for n in (1, 5, 17, 3)]
    rms = RunningMeanStd((2,), epsilon=1e-12)
    for b in batches:
        rms.update(b)
    data = np.concatenate(batches)
    np.testing.assert_allclose(rms.mean, data.mean(axis=0), rtol=1e-9)
    np.testing.assert_allclose(rms.var, data.var(axis=0), rtol=1e-9)


def test_obs_normalizer_and_state_dict_round_trip():
    norm = ObsNormalizer(2, clip=5.0)
    x = np.array([[1.0, 10.0], [3.0, 30.0]])
    out = norm(x, update=True)
    np.testing.assert_allclose(out, [[-1.0, -1.0], [1.0, 1.0]], atol=1e-3)
    other = ObsNormalizer(2, clip=5.0)
    other.load_state_dict(norm.state_dict())
    np.testing.assert_allclose(other(x), out)
    assert np.abs(norm(np.array([[1e6, 0.0]]))).max() == 5.0           # clipped
    with pytest.raises(ValueError, match="shape"):
        ObsNormalizer(3).load_state_dict(norm.state_dict())


def test_reward_scaler_divides_by_std_of_discounted_return():
    scaler = RewardScaler(1, gamma=0.5)
    scaler.rms.count = 1e-12                                           # no prior, for a hand check
    out1 = scaler(np.array([2.0]), np.array([False]))                  # R = 2
    out2 = scaler(np.array([2.0]), np.array([True]))                   # R = 2 * .5 + 2 = 3, then reset
    assert scaler.ret[0] == 0.0
    returns = np.array([2.0, 3.0])
    np.testing.assert_allclose(out2, 2.0 / np.sqrt(returns.var() + 1e-8))
    assert out1[0] > 0                                                 # the sign is kept


@pytest.mark.parametrize("env_id, engine", [("CartPole-v1", "sync"), ("Pendulum-v1", "sync"), ("CartPole-v1", "batch"),
                                            ("Pendulum-v1", "batch"), ("minirl/Pendulum-v1", "batch")])
def test_every_engine_gives_the_loops_trajectories(env_id, engine):
    """minirl's loop engine is SyncVectorEnv's SAME_STEP semantics without its bookkeeping, and the NumPy
    batch engines (minirl.batch_envs) are the loop's arithmetic on arrays: thousands of steps with resets
    (seeded and continued), terminations and time-limit cuts give the same floats."""
    n = 5
    other, loop = VecEnv(env_id, n, vectorization=engine), VecEnv(env_id, n, vectorization="loop")
    assert other.reward_threshold == loop.reward_threshold
    rng = np.random.default_rng(0)
    finished = 0
    for seed in (5, [11, 0, 7, 2**40, 5]):          # one seed (env i gets seed + i), then one seed per env
        np.testing.assert_array_equal(other.reset(seed=seed), loop.reset(seed=seed))
        for _ in range(600):                       # several CartPole episodes end; Pendulum truncates at 200
            if loop.discrete:
                actions = rng.integers(0, loop.n_actions, n)
            else:
                actions = rng.uniform(-2.5, 2.5, (n, loop.act_dim))     # beyond the bounds: clipped
            a, b = other.step(other.clip_action(actions)), loop.step(loop.clip_action(actions))
            for field in ("obs", "next_obs", "reward", "terminated", "truncated"):
                np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
            assert a.finished == b.finished
            finished += len(a.finished)
    assert finished >= 10
    other.close()
    loop.close()


def test_unknown_vectorization_is_refused():
    with pytest.raises(ValueError, match="vectorization"):
        VecEnv("CartPole-v1", 1, vectorization="async")
