"""Tuned defaults per environment, picked automatically from the env id.

`preset(algo, env_id)` returns a fresh config, `make_config(algo, env_id, overrides)` the same with
overrides applied (text read with each field's type); `default_total_steps(algo, env_id)` the budget it was
tuned for (PPO's learning rate anneals to 0 over the budget, so the budget is part of the preset).
Ids without a preset get a generic default (CleanRL-like PPO settings; continuous-control settings
with observation and reward normalisation if the env has a Box action space).

What to expect (`return_mean` = mean return of the last 100 *training* episodes, stochastic policy).
Times are for one core of the 2-core development VM, measured 2026-11-25 (float32 networks, the
default): indicative only.

| algo | env | budget | measured here |
|---|---|---|---|
| ppo | CartPole-v1 | 150k | solved (>= 475) at 60.9k, 54.8k, 58.9k, 59.4k, 59.9k steps (seeds 0-4; median 60.4k over seeds 0-19), 2.2-2.5 s of one core |
| ppo | Acrobot-v1 | 300k | above -100 after 135k steps, -85 at 300k (seed 0), 18 s |
| ppo | Pendulum-v1 | 150k | evaluation return first >= -200 at 49k, 111k, never, 57k, 74k, 82k, 78k, 123k, never, 94k steps (seeds 0-9) |
| ppo | LunarLander-v3 | 1M | training mean 132 / 131 (seeds 0, 1); deterministic evaluation 198 / 227 (solved: 200); ~80 s |
| ppo | HalfCheetah-v5 | 1M | training mean 3,784 / 4,254 / 3,546 (seeds 0-2; CleanRL reports ~1,440 for its settings); 7,300 env steps/s, 2.3 min |
| reinforce | CartPole-v1 | 150k | ~400 after ~50k steps, ~480-500 after ~85k (seeds 0, 1); noisier than PPO |
| reinforce | Pendulum-v1 | 300k | does not learn in 200k steps (about -1,050, seed 0): use PPO |
| sac | Pendulum-v1 | 20k | *evaluation* return >= -200 after 4k, 3k, 4k, 4k, 5k steps (seeds 0-4, evaluated every 1k), -165 to -170 at 20k; 5-8 s of one idle core to get there (benchmarks/bench_sac_vs_sb3.py, 2026-11-30) |
| sac | minirl/CliffCart-v0 | 10k | evaluation return 73 after 2k steps, 75-77 from 6k to 10k (seed 0; threshold 70) |
| sac | HalfCheetah-v5 | 1M | evaluation return 3,379 at 50k and 5,836 at 100k steps (seed 0, 5 episodes); 1M not measured here (27 env steps/s on a busy machine) |

The `expect` string of each entry in `PRESETS` repeats the row. SAC's rows use the evaluation
protocol (`minirl.evaluation`: the deterministic policy on 10 fixed evaluation episodes, 5 on
HalfCheetah): its 100-episode training mean lags far behind (Pendulum: 20,000 steps of history).
"""

from __future__ import annotations

import gymnasium as gym

from ..envs.pendulum_row import DIMS as ROW_DIMS, row_id
from .registry import ALGOS, apply_overrides, check_algo, config_class

__all__ = ["preset", "has_preset", "make_config", "default_total_steps", "eval_settings", "reward_threshold",
           "PRESETS", "PRESET_ENV_IDS", "ALGOS", "EVALUATION", "THRESHOLDS"]

# (algo, env id) -> config overrides, default budget, what to expect
PRESETS: dict[tuple[str, str], dict] = {
    ("ppo", "CartPole-v1"): dict(
        # 8 envs x 64 steps, 10 epochs over two minibatches of 256, gamma 0.98 / lambda 0.9, no entropy
        # bonus (close to sb3-zoo's tuned values; picked over 20 seeds for steps-to-solve x cost per step);
        # the learning rate anneals over total_steps, so the budget is part of the preset
        config=dict(num_envs=8, num_steps=64, update_epochs=10, num_minibatches=2, learning_rate=2.5e-3,
                    gamma=0.98, gae_lambda=0.9, ent_coef=0.0, clip_coef=0.2),
        total_steps=150_000,
        expect="solved (100-episode training mean >= 475) after 55k-61k steps (seeds 0-4: 60.9k, 54.8k, "
               "58.9k, 59.4k, 59.9k; median 60.4k over seeds 0-19, 18 of 20 below 68k), 2.2-2.5 s of one idle core"),
    ("ppo", "Acrobot-v1"): dict(
        config=dict(num_envs=8, num_steps=256, update_epochs=4, num_minibatches=4, gamma=0.99,
                    gae_lambda=0.94, ent_coef=0.0, normalize_obs=True, learning_rate=1e-3),
        total_steps=300_000,
        expect="training mean above -100 (the threshold) after 135k steps, -85 at 300k (seed 0); 18 s"),
    ("ppo", "LunarLander-v3"): dict(
        # sb3-zoo's published settings: 16 envs x 1024 steps, minibatches of 64 (256 per epoch), 4 epochs
        config=dict(num_envs=16, num_steps=1024, update_epochs=4, num_minibatches=256, gamma=0.999,
                    gae_lambda=0.98, ent_coef=0.01, learning_rate=3e-4),
        total_steps=1_000_000,
        expect="at 1M steps (seeds 0, 1): training mean 132 and 131 (stochastic policy with its entropy "
               "bonus); deterministic `minirl eval` over 20 episodes 198 +- 82 and 227 +- 23 (solved: 200); "
               "about 80 s (12,000 env steps/s). With minibatches of 256 instead of 64 it hovers instead "
               "of landing (deterministic -14 and -15)"),
    ("ppo", "Pendulum-v1"): dict(
        # rl-baselines3-zoo's tuned settings (4 envs x 1024 steps, minibatches of 64, gamma 0.9, constant
        # lr, no normalisation; zoo adds gSDE, which minirl does not have) with 20 epochs at lr 5e-4
        # instead of 10 at 1e-3: judged by the deterministic evaluation return over seeds 0-9, 8 of 10
        # reach -200 within 150k (zoo's: 6 of 10). The preset before this one (256-step rollouts, obs and
        # reward normalisation) reached a training mean of -400 by 42-47k steps but never an
        # evaluation of -200 within 150k (-223 / -235 / -255 at 150k, seeds 0-2)
        config=dict(num_envs=4, num_steps=1024, update_epochs=20, num_minibatches=64, learning_rate=5e-4,
                    anneal_lr=False, gamma=0.9, gae_lambda=0.95, ent_coef=0.0),
        total_steps=150_000,
        expect="evaluation return (10 deterministic episodes) first >= -200 at 49k, 111k, never, 57k, 74k, "
               "82k, 78k, 123k, never, 94k steps (seeds 0-9; never: -212 and -204 at 150k); a random policy "
               "gets about -1200; about 25 s of one core per 100k steps"),
    ("ppo", "HalfCheetah-v5"): dict(
        # CleanRL's settings, but the 2048-step batch comes from 8 envs x 256 steps instead of 1 x 2048:
        # the policy then acts on 8 observations per call, which makes the rollout ~2.5x cheaper
        config=dict(num_envs=8, num_steps=256, update_epochs=10, num_minibatches=32, learning_rate=3e-4,
                    gamma=0.99, gae_lambda=0.95, ent_coef=0.0, normalize_obs=True, normalize_reward=True),
        total_steps=1_000_000,
        expect="mean training return at 1M steps 3,784 / 4,254 / 3,546 (seeds 0-2; deterministic evaluation "
               "of seed 1: 5,388), about 7,300 env steps/s, 2.3 min per seed on one idle core"),
    ("reinforce", "CartPole-v1"): dict(
        config=dict(num_envs=8, episodes_per_env=1, learning_rate=5e-3, value_learning_rate=5e-3,
                    gamma=0.99, baseline="value", reward_to_go=True, norm_adv=True),
        total_steps=150_000,
        expect="training mean ~400 after ~50k steps and ~480-500 after ~85k (seeds 0 and 1), ~10 s "
               "of one idle core; noisier than PPO"),
    ("reinforce", "Pendulum-v1"): dict(
        config=dict(num_envs=8, episodes_per_env=1, learning_rate=3e-3, gamma=0.9, baseline="value",
                    norm_adv=True, normalize_obs=True),
        total_steps=300_000,
        expect="does not learn within 200k steps (about -1,050 at 200k, seed 0; also with 4 envs and "
               "lr 1e-2): Monte-Carlo returns over 200-step episodes are too noisy, use PPO"),
    ("shac", "minirl/Pendulum-v1"): dict(
        # one rollout, 16-step windows, simulated episodes cut at 64 steps (bootstrapped by the critic, so
        # each simulated step comes from a fresh part of the state space), a small (32, 32) actor and
        # critic and lr 5e-3: the most sample-efficient setting of ~20 tried (num_envs 1-8, windows 8-32,
        # episode_steps 16-200, lr 1e-3 to 1e-2, gamma 0.95-0.99, critic settings, rsample actions)
        config=dict(num_envs=1, window=16, episode_steps=64, hidden=(32, 32), gamma=0.95, lr=5e-3),
        total_steps=25_000,
        expect="evaluation return first >= -200 after 15k, 14k, 18k simulated steps (seeds 0-2), about 10 s "
               "of one core each; the earlier preset (2 rollouts, full episodes, (64, 64)) needed 16-32k"),
    **{("shac", row_id(d)): dict(
        # Pendulum's SHAC preset with the (64, 64) networks of the other arms (PPO, SAC, SVG), so that on the
        # row every arm's policy has the same size: with Pendulum's (32, 32), d = 16 needed 9k steps, not 5k
        config=dict(num_envs=1, window=16, episode_steps=64, hidden=(64, 64), gamma=0.95, lr=5e-3),
        total_steps=10_000,
        expect="see lesson 13 and benchmarks/README.md (the dimension study)") for d in ROW_DIMS},
    ("shac", "minirl/CliffCart-v0"): dict(
        # full-episode BPTT: it first learns to drive right, then follows the gradient off the cliff
        config=dict(num_envs=4, window=100),
        total_steps=10_000,
        expect="return rises to ~10 by ~4k steps, then falls to ~1.3 by ~7k (seed 0): misled by the gradient"),
    ("sac", "Pendulum-v1"): dict(
        config=dict(learning_rate=1e-3, hidden_sizes=(64, 64), batch_size=256, learning_starts=100,
                    log_every=1_000),
        # rl-baselines3-zoo's Pendulum-v1 settings (lr 1e-3, sb3 defaults otherwise) with 64-unit networks
        # instead of 256: as sample-efficient here (benchmarks/bench_sac_vs_sb3.py), ~5x cheaper per step
        total_steps=20_000,
        expect="evaluation return (deterministic, 10 episodes) >= -200 after 4k, 3k, 4k, 4k, 5k env steps "
               "(seeds 0-4, evaluated every 1k steps; the 100 warm-up steps count), -165 to -170 at 20k "
               "(seed 4 dipped to -616 once, at 10k); 5-8 s of one idle core to reach -200"),
    ("sac", "minirl/CliffCart-v0"): dict(
        config=dict(learning_rate=1e-3, hidden_sizes=(64, 64), batch_size=256, learning_starts=100,
                    log_every=1_000),
        total_steps=10_000,
        expect="evaluation return 73 after 2k steps, 75-77 from 6k to 10k (seed 0; threshold 70, best ~82): "
               "the critic learns the cliff from the terminations, which the pathwise arm cannot see"),
    ("sac", "HalfCheetah-v5"): dict(
        # rl-baselines3-zoo's MuJoCo settings: sb3's defaults (256-unit networks, lr 3e-4, batch 256)
        # with 10k random warm-up steps
        config=dict(learning_starts=10_000, log_every=5_000),
        total_steps=1_000_000,
        expect="deterministic evaluation 3,379 at 50k and 5,836 +- 57 at 100k env steps (seed 0, 5 episodes; "
               "training mean 2,629 at 100k); 1M not measured here: 27 env steps/s on a busy 2-core machine, "
               "about an hour per 100k steps"),
    ("svg", "Pendulum-v1"): dict(
        # the ModelBasedConfig defaults with a 30-step imagined horizon (20: -200 at 3k, 8k, ... steps)
        config=dict(horizon=30),
        total_steps=12_000,
        expect="evaluation return first >= -200 after 3k real steps (seeds 0, 1, 2: 3k each), random warm-up "
               "included; about 17 s of one core to get there, ~5 s per 1000 steps"),
}

# minirl's own ids whose dynamics equal a preset's env (the black-box twins) share its tuned defaults.
# The rows of d pendulums (minirl.envs.pendulum_row, lesson 13) have Pendulum's dynamics and take its
# presets and evaluation at every d, unchanged: each arm runs the settings it was tuned with on
# Pendulum, so that only the number of action dimensions changes along the row.
ALIASES = {"minirl/Pendulum-v1": "Pendulum-v1", **{row_id(d): "minirl/Pendulum-v1" for d in ROW_DIMS}}

# Thresholds for tasks whose Gymnasium spec states none. Pendulum-v1: -200 is where benchmark tables
# put a solved swing-up (rl-baselines3-zoo's benchmark lists about -150 to -175 for PPO, SAC and
# TD3, deterministic evaluation); minirl/Pendulum-v1 registers the same value.
THRESHOLDS = {"Pendulum-v1": -200.0}

# The evaluation protocol per task (minirl.evaluation): evaluate every `every` env steps on `episodes`
# deterministic episodes. Frequent where runs are short (Pendulum is decided within a few thousand
# steps by the pathwise arms), rare where episodes are long and runs take millions of steps.
EVALUATION = {
    "CartPole-v1": dict(every=10_000, episodes=10),
    "Acrobot-v1": dict(every=10_000, episodes=10),
    "Pendulum-v1": dict(every=1_000, episodes=10),
    "minirl/CliffCart-v0": dict(every=1_000, episodes=10),
    # the row of pendulums (lesson 13): 500 steps, so that SHAC's first few thousand steps are resolved
    **{row_id(d): dict(every=500, episodes=10) for d in ROW_DIMS},
    "LunarLander-v3": dict(every=25_000, episodes=10),
    "HalfCheetah-v5": dict(every=50_000, episodes=5),
}
DEFAULT_EVALUATION = dict(every=10_000, episodes=10)

PRESET_ENV_IDS = tuple(sorted({env for _, env in PRESETS} | set(ALIASES)))
_GENERIC_CONTINUOUS = {"ppo": dict(num_envs=8, num_steps=256, update_epochs=10, num_minibatches=32,
                                   learning_rate=3e-4, ent_coef=0.0, normalize_obs=True, normalize_reward=True),
                       "reinforce": dict(normalize_obs=True, norm_adv=True)}
_GENERIC_STEPS = 500_000


def _is_continuous(env_id: str) -> bool:
    """Whether env_id has a Box action space (False if it cannot be built here)."""
    from ..rollout import resolve_env_id
    try:
        resolve_env_id(env_id)        # a module:Env-v0 id imports nothing the user did not name
        env = gym.make(env_id)
    except Exception:                 # unknown id or missing extra: the agent reports it properly
        return False
    try:
        return isinstance(env.action_space, gym.spaces.Box)
    finally:
        env.close()


def _names(env_id: str) -> list[str]:
    """env_id, then the ids it is an alias of, in order (minirl/Pendulums-d4-v0 -> minirl/Pendulum-v1 -> Pendulum-v1)."""
    names = [env_id]
    while names[-1] in ALIASES:
        names.append(ALIASES[names[-1]])
    return names


def _entry(algo: str, env_id: str):
    check_algo(algo)
    return next((PRESETS[(algo, name)] for name in _names(env_id) if (algo, name) in PRESETS), None)


def has_preset(algo: str, env_id: str) -> bool:
    return _entry(algo, env_id) is not None


def preset(algo: str, env_id: str):
    """A fresh config of `algo` with the tuned defaults for env_id (generic if none)."""
    entry = _entry(algo, env_id)
    cls = config_class(algo)
    if entry is not None:
        return cls(**entry["config"])
    overrides = _GENERIC_CONTINUOUS.get(algo, {}) if env_id and _is_continuous(env_id) else {}
    return cls(**overrides)


def make_config(algo: str, env_id: str, overrides: dict | None = None):
    """The preset config for (algo, env_id) with `overrides` (name -> value or text) applied.

    Returns (config, used_preset). Unknown names, unreadable text and invalid values raise
    ConfigError with one line naming the field.
    """
    return apply_overrides(algo, preset(algo, env_id), overrides), has_preset(algo, env_id)


def default_total_steps(algo: str, env_id: str) -> int:
    """The training budget the preset was tuned for (a generic budget for other ids)."""
    entry = _entry(algo, env_id)
    return int(entry["total_steps"]) if entry is not None else _GENERIC_STEPS


def eval_settings(env_id: str) -> dict:
    """{"every": env steps between evaluations, "episodes": K} for env_id."""
    return dict(next((EVALUATION[name] for name in _names(env_id) if name in EVALUATION), DEFAULT_EVALUATION))


def reward_threshold(env_id: str) -> float | None:
    """The return that counts as solved: the env's `spec.reward_threshold`, else `THRESHOLDS` (None if neither)."""
    from ..rollout import resolve_env_id
    try:
        value = gym.spec(resolve_env_id(env_id)).reward_threshold
    except Exception:           # unknown id: the agent construction reports it properly
        value = None
    if value is None:
        value = THRESHOLDS.get(env_id)
    return None if value is None else float(value)
