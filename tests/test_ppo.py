"""PPO: loss gradients vs finite differences, config checks, probes with known answers, checkpoints."""

import gymnasium as gym
import numpy as np
import pytest

from minirl.algos.ppo import PPO, PPOConfig
from minirl.algos.ppo_loss import ppo_loss
from minirl.algos.presets import PRESET_ENV_IDS, default_total_steps, preset
from minirl.autograd import Tensor, no_grad
from minirl.distributions import Categorical, Normal
from minirl.envs import probes
from minirl.gradcheck import gradient_check

PROBE_CONFIG = PPOConfig(num_envs=4, num_steps=32, num_minibatches=2, update_epochs=4, learning_rate=1e-2,
                         anneal_lr=False, ent_coef=0.0, hidden_sizes=(32,), gamma=0.9)


def _values(agent, xs):
    with no_grad():
        return agent.value(agent._normalize(np.asarray(xs, dtype=np.float64).reshape(-1, 1))).data


# ------------------------------------------------------------------ the loss

@pytest.mark.parametrize("clip_vloss", [False, True])
def test_ppo_loss_gradient_discrete(clip_vloss):
    rng = np.random.default_rng(0)
    B, K = 12, 3
    actions = rng.integers(0, K, B)
    logits0 = rng.standard_normal((B, K))
    logp_old = Categorical(Tensor(logits0)).log_prob(actions).data
    v_old, returns, adv = rng.standard_normal((3, B))
    logits = logits0 + 0.4 * rng.standard_normal((B, K))        # a policy that moved: some clipping
    values = v_old + 0.5 * rng.standard_normal(B)

    def loss(lg, v):
        d = Categorical(lg)
        out, _ = ppo_loss(d.log_prob(actions), d.entropy(), v, logp_old=logp_old, advantages=adv, v_old=v_old,
                          returns=returns, clip_coef=0.2, vf_coef=0.5, ent_coef=0.01, clip_vloss=clip_vloss)
        return out

    errors = gradient_check(loss, [logits, values])
    assert max(errors) < 1e-6, errors


def test_ppo_loss_gradient_continuous():
    rng = np.random.default_rng(1)
    B, D = 10, 2
    mean0, log_std0 = rng.standard_normal((B, D)), rng.normal(-0.5, 0.1, D)
    actions = Normal(Tensor(mean0), Tensor(log_std0)).sample(rng)
    logp_old = Normal(Tensor(mean0), Tensor(log_std0)).log_prob(actions).data
    v_old, returns, adv = rng.standard_normal((3, B))

    def loss(mean, log_std, v):
        d = Normal(mean, log_std)
        out, _ = ppo_loss(d.log_prob(actions), d.entropy(), v, logp_old=logp_old, advantages=adv, v_old=v_old,
                          returns=returns, clip_coef=0.2, vf_coef=0.5, ent_coef=0.01)
        return out

    errors = gradient_check(loss, [mean0 + 0.3 * rng.standard_normal((B, D)), log_std0 + 0.1,
                                   v_old + rng.standard_normal(B)])
    assert max(errors) < 1e-6, errors


# ------------------------------------------------------------------ configuration

@pytest.mark.parametrize("field, value", [
    ("num_minibatches", 3), ("clip_coef", 0.0), ("clip_coef", -0.1), ("learning_rate", -1e-3),
    ("gamma", 1.5), ("gamma", -0.1), ("gae_lambda", 2.0), ("num_envs", 0), ("target_kl", 0.0),
    ("max_grad_norm", -1.0), ("hidden_sizes", ()), ("activation", "gelu"), ("dtype", "float16"),
])
def test_impossible_hyperparameters_fail_naming_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        PPOConfig(**{field: value})


def test_config_round_trip_and_unknown_key():
    cfg = PPOConfig(hidden_sizes=(32, 16), target_kl=0.02)
    assert PPOConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="clip_cof"):
        PPOConfig.from_dict({**cfg.to_dict(), "clip_cof": 0.1})


def test_presets_exist_and_validate():
    for env_id in ("CartPole-v1", "Acrobot-v1", "LunarLander-v3", "Pendulum-v1", "HalfCheetah-v5"):
        assert env_id in PRESET_ENV_IDS
        assert isinstance(preset("ppo", env_id), PPOConfig) and default_total_steps("ppo", env_id) > 0
    assert preset("ppo", "MountainCarContinuous-v0").normalize_obs      # generic continuous default
    with pytest.raises(ValueError, match="unknown algo .td3."):
        preset("td3", "CartPole-v1")            # not an algorithm minirl has


def test_black_box_twin_shares_the_pendulum_preset():
    assert "minirl/Pendulum-v1" in PRESET_ENV_IDS
    assert preset("ppo", "minirl/Pendulum-v1") == preset("ppo", "Pendulum-v1")
    assert default_total_steps("ppo", "minirl/Pendulum-v1") == default_total_steps("ppo", "Pendulum-v1")


# ------------------------------------------------------------------ probes with known answers

@pytest.mark.parametrize("continuous", [False, True])
def test_probe_constant_reward_value_is_one(continuous):
    agent = PPO(lambda: probes.ConstantReward(continuous=continuous), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(1500))
    assert abs(_values(agent, [0.0])[0] - 1.0) < 0.05


@pytest.mark.parametrize("continuous", [False, True])
def test_probe_observation_reward_value_follows_observation(continuous):
    agent = PPO(lambda: probes.ObsReward(continuous=continuous), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(2000))
    np.testing.assert_allclose(_values(agent, [-1.0, 1.0]), [-1.0, 1.0], atol=0.1)


def test_probe_action_reward_discrete_picks_the_better_action():
    agent = PPO(lambda: probes.ActionReward(), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(2000))
    with no_grad():
        p1 = agent.policy.dist(np.zeros((1, 1))).probs[0, 1]
    assert p1 > 0.95 and agent.act(np.zeros(1)) == 1


def test_probe_action_reward_continuous_finds_the_optimum():
    agent = PPO(lambda: probes.ActionReward(continuous=True), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(4000))
    assert abs(agent.act(np.zeros(1))[0] - 0.5) < 0.1
    assert agent._return_mean() > 0.95                     # 1 - (mu - .5)^2 - sigma^2: sigma shrank too


@pytest.mark.parametrize("continuous", [False, True])
def test_probe_observation_and_action_reward(continuous):
    agent = PPO(lambda: probes.ObsActionReward(continuous=continuous), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(4000))
    acts = np.asarray(agent.act(np.array([[-1.0], [1.0]]))).ravel()
    if continuous:
        np.testing.assert_allclose(acts, [-0.5, 0.5], atol=0.15)
    else:
        assert acts.tolist() == [0, 1]


def test_probe_two_step_discount():
    agent = PPO(lambda: probes.TwoStepDiscount(), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(2000))
    np.testing.assert_allclose(_values(agent, [0.0, 1.0]), [0.9, 1.0], atol=0.05)


def test_probe_truncation_is_bootstrapped():
    """Reward 1 forever, cut at 20 steps, time invisible: V = 1 / (1 - 0.9) = 10 (not ~6.1)."""
    agent = PPO(lambda: probes.Survive(horizon=20), PROBE_CONFIG, seed=0)
    list(agent.learn_iter(5000))
    assert abs(_values(agent, [0.0])[0] - 10.0) < 0.5


# ------------------------------------------------------------------ the agent's contract

def test_learn_iter_rows_and_continuation():
    cfg = PPOConfig(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1)
    agent = PPO("CartPole-v1", cfg, seed=0)
    first = list(agent.learn_iter(256))
    assert [r["step"] for r in first] == [128, 256]
    for key in ("step", "time_s", "episodes", "return_mean", "policy_loss", "value_loss", "entropy",
                "approx_kl_k1", "approx_kl_k3", "clip_frac", "explained_variance", "learning_rate",
                "steps_per_s"):
        assert key in first[0], key
    assert first[0]["learning_rate"] == pytest.approx(2.5e-4) and first[1]["learning_rate"] == pytest.approx(1.25e-4)
    more = list(agent.learn_iter(512))                     # continues: the step counter lives on the agent
    assert [r["step"] for r in more] == [384, 512]
    assert more[0]["learning_rate"] == pytest.approx(2.5e-4 * (1 - 256 / 512))
    assert agent.global_step == 512 and len(agent.recent_returns) == min(agent.episodes, 100) > 0
    assert more[-1]["time_s"] > first[-1]["time_s"]


def test_checkpoint_round_trip_takes_the_same_actions(tmp_path):
    cfg = PPOConfig(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, normalize_obs=True,
                    normalize_reward=True)
    agent = PPO("Pendulum-v1", cfg, seed=3)
    list(agent.learn_iter(256))
    np.savez(tmp_path / "ckpt.npz", **agent.state_dict())
    loaded = PPO("Pendulum-v1", cfg, seed=99)
    with np.load(tmp_path / "ckpt.npz") as f:
        loaded.load_state_dict(dict(f))
    obs = np.random.default_rng(0).uniform(-1, 1, (20, 3)) * [1, 1, 8]
    np.testing.assert_array_equal(loaded.act(obs), agent.act(obs))
    np.testing.assert_array_equal(loaded.act(obs, deterministic=False), agent.act(obs, deterministic=False))
    assert loaded.global_step == 256 and loaded.episodes == agent.episodes
    np.testing.assert_array_equal(loaded.obs_norm.rms.mean, agent.obs_norm.rms.mean)
    assert np.all(np.abs(agent.act(obs * 100, deterministic=False)) <= 2.0)     # clipped to the bounds


def test_mismatched_checkpoint_is_refused():
    small = PPO("CartPole-v1", PPOConfig(hidden_sizes=(8,)), seed=0)
    big = PPO("CartPole-v1", PPOConfig(hidden_sizes=(16,)), seed=0)
    with pytest.raises(ValueError, match="shape"):
        big.load_state_dict(small.state_dict())
    state = small.state_dict()
    del state["optim.m.0"]
    with pytest.raises(ValueError, match="missing"):
        small.load_state_dict(state)


class _NaNReward(gym.Env):
    observation_space = gym.spaces.Box(-1, 1, (1,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        return np.zeros(1, dtype=np.float32), float("nan"), True, False, {}


def test_nan_reward_stops_before_the_update():
    agent = PPO(_NaNReward, PPOConfig(num_envs=1, num_steps=8, num_minibatches=1), seed=0)
    before = {k: v.copy() for k, v in agent.policy.state_dict().items()}
    with pytest.raises(FloatingPointError, match="non-finite reward"):
        list(agent.learn_iter(64))
    for k, v in agent.policy.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_unknown_env_id_names_the_presets():
    with pytest.raises(gym.error.Error) as info:
        PPO("CartPol-v1", None, seed=0)
    assert "CartPole-v1" in str(info.value) and "Pendulum-v1" in str(info.value)


def test_train_convenience_uses_the_preset_and_act_is_seed_independent():
    from minirl.algos.ppo import train
    rows = train("CartPole-v1", seed=0, total_steps=512)
    assert rows[-1]["step"] == 512 and rows[0]["step"] == 512        # CartPole preset: batch 8 x 64
    a, b = PPO("CartPole-v1", PPOConfig(), seed=5), PPO("CartPole-v1", PPOConfig(), seed=5)
    obs = np.random.default_rng(0).standard_normal((16, 4))
    np.testing.assert_array_equal(a.act(obs, deterministic=False), b.act(obs, deterministic=False))
    assert a.env_id == "CartPole-v1" and a.config == PPOConfig()


def _without_time(rows):
    return [{k: v for k, v in r.items() if k not in ("time_s", "steps_per_s", "rollout_s", "update_s")}
            for r in rows]


def test_same_seed_same_run_and_resume_is_deterministic():
    cfg = PPOConfig(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, normalize_obs=True,
                    normalize_reward=True)
    a, b = PPO("CartPole-v1", cfg, seed=7), PPO("CartPole-v1", cfg, seed=7)
    rows_a, rows_b = list(a.learn_iter(384)), list(b.learn_iter(384))
    assert _without_time(rows_a) == _without_time(rows_b)
    state = a.state_dict()
    resumed = []
    for _ in range(2):                      # two agents resumed from one checkpoint continue identically
        agent = PPO("CartPole-v1", cfg, seed=123)
        agent.load_state_dict(state)
        resumed.append(_without_time(agent.learn_iter(640)))
    assert resumed[0] == resumed[1] and [r["step"] for r in resumed[0]] == [512, 640]
    assert resumed[0][0]["learning_rate"] == pytest.approx(2.5e-4 * (1 - 384 / 640))


def test_acting_between_updates_does_not_change_training():
    cfg = PPOConfig(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1)
    a, b = PPO("CartPole-v1", cfg, seed=1), PPO("CartPole-v1", cfg, seed=1)
    list(a.learn_iter(128)), list(b.learn_iter(128))
    a.act(np.zeros((5, 4)), deterministic=False)                 # evaluation uses its own generator
    assert _without_time(a.learn_iter(256)) == _without_time(b.learn_iter(256))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_compute_in_the_configured_dtype(dtype, tmp_path):
    """float32 (the default, as in PyTorch) keeps every parameter, loss and gradient in float32."""
    agent = PPO("CartPole-v1", PPOConfig(num_envs=2, num_steps=16, num_minibatches=2, dtype=dtype), seed=0)
    rows = list(agent.learn_iter(64))
    assert all(np.isfinite(r["policy_loss"]) for r in rows)
    obs = np.zeros((4, 4))                      # the loss itself, not only the (cast) leaf gradients
    dist = agent.policy.dist(obs)
    loss, _ = ppo_loss(dist.log_prob(np.array([0, 1, 0, 1])), dist.entropy(), agent.value(obs),
                       logp_old=np.full(4, -0.7), advantages=np.arange(4.0), v_old=np.zeros(4),
                       returns=np.ones(4), clip_coef=0.2, vf_coef=0.5, ent_coef=0.01)
    assert loss.dtype == np.dtype(dtype)
    assert {p.data.dtype for p in agent.params} == {np.dtype(dtype)}
    assert {p.grad.dtype for p in agent.params} == {np.dtype(dtype)}
    obs = agent.venv.reset(seed=3)
    np.savez(tmp_path / "ckpt.npz", **agent.state_dict())
    other = PPO("CartPole-v1", PPOConfig(num_envs=2, num_steps=16, num_minibatches=2, dtype=dtype), seed=1)
    with np.load(tmp_path / "ckpt.npz") as f:
        other.load_state_dict(dict(f))
    assert {p.data.dtype for p in other.params} == {np.dtype(dtype)}
    np.testing.assert_array_equal(agent.act(obs), other.act(obs))
    list(other.learn_iter(96))                  # the optimiser keeps training the loaded parameters
    assert all(p.data.base is not None for p in other.params)
    agent.close()
    other.close()


def test_a_minibatch_of_one_with_norm_adv_is_refused_in_one_line():
    # before: the standardised advantage of a single sample is (a - a) / (0 + eps) = 0, and PPO trained
    # with a policy loss of exactly 0 forever
    with pytest.raises(ValueError, match="minibatch of one") as info:
        PPOConfig(num_envs=1, num_steps=8, num_minibatches=8)
    assert len(str(info.value).splitlines()) == 1
    PPOConfig(num_envs=1, num_steps=8, num_minibatches=8, norm_adv=False)     # fine without norm_adv
    PPOConfig(num_envs=1, num_steps=8, num_minibatches=4)                      # minibatches of two


def test_config_fields_of_the_wrong_type_or_not_finite_fail_in_one_line():
    for bad in (dict(target_kl=float("nan")), dict(log_std_init=float("inf")), dict(clip_coef="0.2"),
                dict(num_steps=64.0), dict(norm_adv=1)):
        with pytest.raises(ValueError) as info:
            PPOConfig(**bad)
        (field,) = bad
        assert f"PPOConfig.{field}" in str(info.value) and len(str(info.value).splitlines()) == 1
