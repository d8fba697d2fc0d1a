"""Pathwise policy optimisation through *learned* models of a black box (SVG(H) with a Dyna-like loop).

The environment is a black box: `env.reset()` and `env.step(a)` return floats, nothing more. We

1. collect real transitions (random actions first, then the current policy's);
2. fit a dynamics model s' = s + delta_phi(s, a) (regression on normalised deltas) and a reward model,
   either by regression on the observed rewards or, with `reward_model="preferences"`, *only* from a
   scripted judge's answers to "which of these two trajectory segments is better?" (Bradley-Terry);
3. improve a `GaussianPolicy` by gradient ascent on the imagined H-step return inside the learned
   models (Heess et al., 2015, "Learning continuous control policies by stochastic value gradients";
   here the value-free SVG(H) variant: backprop through time over a short horizon, Eq. (3) of
   `minirl.algos.world_models`);
4. go back to 1: the new policy visits new states, the models improve where the policy goes.

Pseudocode (one iteration)::

    D <- D + episodes of pi_theta on the TRUE env             # the only contact with the world
    phi <- argmin L_dyn(phi; D);  psi <- argmin L_r(psi; D)   # a few hundred Adam steps, warm-started
    repeat K times:  s_0 ~ D;  theta <- theta + lr * grad_theta J_H(theta; phi, psi)

Everything reported (`return_mean`) is measured on the true environment; the model's own opinion of
the policy (`imagined_return`) is logged next to it so the gap can be seen.

Expected result (defaults, Pendulum-v1, one core): see `train`. Collecting real transitions and fitting
the models to them live in `minirl.algos.model_fitting` (their names are re-exported here).

| name | shape | meaning |
|---|---|---|
| `Transitions.obs`, `.next_obs` | (N, obs_dim) | observations before / after each real step |
| `Transitions.act` | (N, act_dim) | the squashed action sent to the env |
| `Transitions.rew` | (N,) | the true reward (used by the regression model and by the judge only) |
| `Transitions.episode` | (N,) | index of the episode a step belongs to (segments never cross episodes) |
| `Transitions.val` | (N,) bool | held out from model fitting (drawn once, when the step is collected) |
"""

from __future__ import annotations

import dataclasses
import time
from typing import Iterator

import numpy as np

from ..checks import positive_int
from ..optim import Adam, clip_grad_norm_
from ..policies import GaussianPolicy
from .model_fitting import (ModelWarning, Transitions, _action_scale, _Collector, collect, dynamics_error,
                            fit_dynamics, fit_reward_preferences, fit_reward_regression, make_env,
                            preference_accuracy, preference_pairs, scripted_judge)
from .agent import Agent, ConfigMixin
from .world_models import DynamicsModel, RewardModel, frozen, imagined_return

__all__ = ["ModelBasedConfig", "Transitions", "collect", "fit_dynamics", "fit_reward_regression",
           "scripted_judge", "preference_pairs", "fit_reward_preferences", "improve_policy", "evaluate",
           "make_env", "train", "run", "ModelWarning", "ModelBasedAgent", "SVG", "preference_accuracy",
           "dynamics_error"]

REWARD_MODELS = ("regression", "preferences")


@dataclasses.dataclass
class ModelBasedConfig(ConfigMixin):
    """Every switch of the method, with the defaults tuned for Pendulum-v1.

    Data: `initial_random_steps` uniform-random steps first, then per iteration `episodes_per_iter`
    policy episodes, more while fewer than `min_steps_per_iter` steps were taken (short episodes:
    fewer, fuller iterations); `val_fraction` of the steps are held out to measure the models' errors.
    Models: MLPs of `model_hidden`, `model_steps` Adam steps (lr `model_lr`, batch `model_batch`) per
    iteration, warm-started; `reward_model` "regression" or "preferences" (then `n_pairs` judged pairs
    of `segment_len`-step segments, judge temperature `judge_temperature`, 0 = always right).
    Policy: `policy_updates` Adam steps per iteration (lr `policy_lr`, gradient norm clipped at
    `max_grad_norm`) on the imagined `horizon`-step return from `policy_batch` replayed start states.
    Model error on purpose (for the model-error experiment): `obs_noise` (std added to the
    observations the models are fitted on), `reward_noise` (std added to the reward labels) and
    `data_fraction` (the share of real steps kept as model data; regression reward model only).
    `min_transitions`: a model fitted on fewer training transitions warns (`ModelWarning`).
    """

    initial_random_steps: int = 400
    episodes_per_iter: int = 1
    min_steps_per_iter: int = 50
    val_fraction: float = 0.1
    model_hidden: tuple = (64, 64)
    model_steps: int = 150
    model_lr: float = 2e-3
    model_batch: int = 256
    reward_model: str = "regression"
    n_pairs: int = 1000
    segment_len: int = 20
    judge_temperature: float = 0.0
    policy_hidden: tuple = (64, 64)
    log_std_init: float = -0.5
    horizon: int = 20
    gamma: float = 0.99
    policy_updates: int = 40
    policy_batch: int = 128
    policy_lr: float = 3e-3
    max_grad_norm: float = 10.0
    obs_noise: float = 0.0
    reward_noise: float = 0.0
    data_fraction: float = 1.0
    min_transitions: int = 500

    def __post_init__(self):
        self.check_types()
        if self.reward_model not in REWARD_MODELS:
            raise ValueError(f"ModelBasedConfig: reward_model must be one of {REWARD_MODELS}, got {self.reward_model!r}")
        for name in ("episodes_per_iter", "model_steps", "model_batch", "n_pairs", "segment_len", "horizon",
                     "policy_updates", "policy_batch"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"ModelBasedConfig: {name} must be an integer >= 1, got {value!r}")
        for name in ("initial_random_steps", "min_transitions", "min_steps_per_iter"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"ModelBasedConfig: {name} must be an integer >= 0, got {value!r}")
        if not 0.0 < self.data_fraction <= 1.0:
            raise ValueError(f"ModelBasedConfig: data_fraction must be in (0, 1], got {self.data_fraction}")
        if self.data_fraction < 1.0 and self.reward_model == "preferences":
            raise ValueError("ModelBasedConfig: data_fraction < 1 would cut the judged segments apart; with "
                             "reward_model='preferences' give fewer judged pairs (n_pairs) instead")
        if not 0.0 <= self.val_fraction < 0.5:
            raise ValueError(f"ModelBasedConfig: val_fraction must be in [0, 0.5), got {self.val_fraction}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"ModelBasedConfig: gamma must be in (0, 1], got {self.gamma}")
        for name in ("judge_temperature", "obs_noise", "reward_noise"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"ModelBasedConfig: {name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("model_lr", "policy_lr", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ModelBasedConfig: {name} must be > 0, got {getattr(self, name)!r}")


# ------------------------------------------------------------------------------------- policy improvement
def improve_policy(policy: GaussianPolicy, dynamics, reward, start_obs: np.ndarray, rng: np.random.Generator,
                   *, updates: int, batch: int, horizon: int, gamma: float, action_scale: float,
                   optimizer: Adam, max_grad_norm: float = 10.0) -> float:
    """`updates` Adam steps of gradient ascent on the imagined return (3); returns its last value.

    The models are frozen (no weight gradients): backprop runs through them into the policy only.
    """
    value = float("nan")
    modules = [m for m in (dynamics, reward) if hasattr(m, "parameters")]
    with frozen(*modules):
        for _ in range(updates):
            s0 = start_obs[rng.integers(0, len(start_obs), size=batch)]          # (B, obs_dim)
            optimizer.zero_grad()
            J = imagined_return(policy, dynamics, reward, s0, horizon, rng, gamma=gamma, action_scale=action_scale)
            (-J).backward()
            clip_grad_norm_(optimizer.params, max_grad_norm)
            optimizer.step()
            value = float(J.item())
    return value


def evaluate(env, policy: GaussianPolicy, rng: np.random.Generator, n_episodes: int = 10,
             deterministic: bool = True) -> np.ndarray:
    """True-env returns of `policy` (mean action by default) over `n_episodes` episodes, shape (n,)."""
    env = make_env(env)
    scale = _action_scale(env)
    returns = []
    for _ in range(n_episodes):
        obs, _ = env.reset(seed=int(rng.integers(2 ** 31 - 1)))
        total, done = 0.0, False
        while not done:
            u = policy.act(np.asarray(obs, dtype=np.float64), rng, deterministic=deterministic)[0]
            obs, r, terminated, truncated, _ = env.step((scale * np.tanh(u)).astype(env.action_space.dtype))
            total += float(r)
            done = terminated or truncated
        returns.append(total)
    return np.array(returns)


# ------------------------------------------------------------------------------------- the loop
class ModelBasedAgent:
    """The learner's state: policy, models and their optimisers (kept across iterations)."""

    def __init__(self, obs_dim: int, act_dim: int, action_scale: float, cfg: ModelBasedConfig,
                 rng: np.random.Generator):
        self.cfg, self.action_scale = cfg, action_scale
        self.policy = GaussianPolicy(obs_dim, act_dim, rng=rng, hidden=cfg.policy_hidden,
                                     log_std_init=cfg.log_std_init)
        self.dynamics = DynamicsModel(obs_dim, act_dim, rng=rng, hidden=cfg.model_hidden)
        self.reward = RewardModel(obs_dim, act_dim, rng=rng, hidden=cfg.model_hidden)
        self.dyn_opt = Adam(self.dynamics.parameters(), lr=cfg.model_lr)
        self.rew_opt = Adam(self.reward.parameters(), lr=cfg.model_lr)
        self.pol_opt = Adam(self.policy.parameters(), lr=cfg.policy_lr)

    def fit_models(self, data: Transitions, rng: np.random.Generator, steps: int | None = None) -> dict:
        cfg = self.cfg
        steps = cfg.model_steps if steps is None else steps
        seen = data.noisy(cfg.obs_noise, cfg.reward_noise, rng)       # what the (noisy) sensors logged
        info = {"dyn_" + k: v for k, v in fit_dynamics(self.dynamics, seen, rng, steps=steps, batch=cfg.model_batch,
                                                       optimizer=self.dyn_opt,
                                                       min_transitions=cfg.min_transitions).items()}
        if cfg.reward_model == "regression":
            r = fit_reward_regression(self.reward, seen, rng, steps=steps, batch=cfg.model_batch,
                                      optimizer=self.rew_opt, min_transitions=cfg.min_transitions)
        else:
            pairs = preference_pairs(seen, cfg.n_pairs, cfg.segment_len, rng, cfg.judge_temperature)
            r = fit_reward_preferences(self.reward, pairs, rng, steps=steps, batch=max(1, cfg.model_batch // 4),
                                       optimizer=self.rew_opt, val_fraction=cfg.val_fraction)
        info.update({"rew_" + k: v for k, v in r.items()})
        return info

    def improve(self, data: Transitions, rng: np.random.Generator, updates: int | None = None) -> float:
        cfg = self.cfg
        return improve_policy(self.policy, self.dynamics, self.reward, data.obs, rng,
                              updates=cfg.policy_updates if updates is None else updates,
                              batch=cfg.policy_batch, horizon=cfg.horizon, gamma=cfg.gamma,
                              action_scale=self.action_scale, optimizer=self.pol_opt,
                              max_grad_norm=cfg.max_grad_norm)


class SVG(Agent):
    """SVG(H) through learned models of a black-box env, as an agent (`minirl train --algo svg`).

    `learn_iter` yields one row per iteration (fit the models, improve the policy through them,
    collect with it); the first iteration starts with the random warm-up. `global_step` counts every real env step,
    the random warm-up included; the learned models' imagined steps are computation, not env steps.
    The checkpoint holds the real transitions collected so far (the models are refitted on them).
    """

    algo = "svg"
    VARIABLE_SHAPE = Agent.VARIABLE_SHAPE + tuple(f"data.{f.name}" for f in dataclasses.fields(Transitions))

    def __init__(self, env, config: ModelBasedConfig | dict | None = None, seed: int = 0):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.config = cfg = ModelBasedConfig.build(config)
        self.env = make_env(env)
        self.env_id = env if isinstance(env, str) else getattr(getattr(self.env, "spec", None), "id", None)
        self.seed = int(seed)
        self.rng = np.random.default_rng(seed)
        self.rngs = {"rng": self.rng}
        self.collector = _Collector(self.env, self.rng, cfg.val_fraction)
        self.learner = ModelBasedAgent(self.collector.obs_dim, self.collector.act_dim, self.collector.scale,
                                       cfg, self.rng)
        self.policy = self.learner.policy
        self.data = Transitions.empty(self.collector.obs_dim, self.collector.act_dim)
        self._init_counters()

    def _parts(self):
        m = self.learner
        return [("policy.", m.policy), ("dynamics.", m.dynamics), ("reward.", m.reward),
                ("dyn_optim.", m.dyn_opt), ("rew_optim.", m.rew_opt), ("pol_optim.", m.pol_opt)]

    def _extra_state(self) -> dict:
        return {f"data.{f.name}": np.asarray(getattr(self.data, f.name)).copy()
                for f in dataclasses.fields(Transitions)}

    def _load_extra(self, state: dict) -> None:
        self.data = Transitions(**{f.name: np.asarray(state[f"data.{f.name}"])
                                   for f in dataclasses.fields(Transitions)})

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions a = scale tanh(u) for observations (B, obs_dim) or (obs_dim,), as in training."""
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        u = self.policy.act(obs.reshape(-1, self.collector.obs_dim), self.rng, deterministic=deterministic)
        a = self.collector.scale * np.tanh(u)
        return a[0] if single else a

    def _keep(self, new: Transitions) -> Transitions:  # data_fraction < 1: the learner logs only some steps
        frac = self.config.data_fraction
        return new if frac >= 1.0 else new.subset(self.rng.random(len(new)) < frac)

    def _collect(self, policy, max_steps: int, n_episodes: int, min_steps: int = 0) -> None:
        before = len(self.collector.returns)
        self._absorb(self.collector.run(policy, max_steps, n_episodes, min_steps), before)

    def _absorb(self, new: Transitions, returns_before: int) -> None:
        """New real transitions into the data; their steps and finished episodes into the counters."""
        self.data = self.data.extend(self._keep(new))
        self.global_step += len(new)
        for ret in self.collector.returns[returns_before:]:
            self._record_episode(ret)

    def _row(self, seconds: float, extra: dict) -> dict:
        self.updates += 1
        self.train_time += seconds
        recent = list(self.recent_returns)
        return {"step": self.global_step, "time_s": self.train_time, "episodes": self.episodes,
                "return_mean": self._return_mean(),
                "return_last10": float(np.mean(recent[-10:])) if recent else float("nan"), **extra}

    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        cfg = self.config
        while self.global_step < total_steps:
            t0 = time.perf_counter()
            if self.global_step == 0:
                # 1. warm-up: uniform random actions (whole episodes are kept; a cut episode is still data)
                self._collect(None, min(cfg.initial_random_steps, total_steps), 10 ** 12)
                if self.global_step >= total_steps:
                    yield self._row(time.perf_counter() - t0, {})
                    break
            info = self.learner.fit_models(self.data, self.rng)               # 2. fit the models
            info["imagined_return"] = self.learner.improve(self.data, self.rng)   # 3. improve through them
            # 4. collect with the improved policy on the TRUE env
            self._collect(self.policy, total_steps - self.global_step, cfg.episodes_per_iter,
                          cfg.min_steps_per_iter)
            yield self._row(time.perf_counter() - t0, info)

    def close(self) -> None:
        self.env.close()


def train(env, *, seed: int, total_steps: int = 20_000, config=None, log=None) -> list[dict]:
    """The rows of `run` (see there)."""
    return run(env, seed=seed, total_steps=total_steps, config=config, log=log)[0]


def run(env, *, seed: int, total_steps: int = 20_000, config=None, log=None) -> tuple[list[dict], ModelBasedAgent]:
    """Train a `GaussianPolicy` by SVG(H) through learned models of the black-box `env`.

    Args:
        env: a Gymnasium id (e.g. "Pendulum-v1", "minirl/Pendulum-v1") or an environment object with
            a bounded, symmetric Box action space. Only `reset`/`step` are used.
        seed: seeds the one `np.random.Generator` everything draws from (and the env resets).
        total_steps: budget of real environment steps (random warm-up included).
        config: a `ModelBasedConfig`, a dict of its fields, or None for the defaults.
        log: optional callable receiving each row as it is produced.
    Returns:
        one dict per iteration: step (real env steps so far), time_s, episodes (completed),
        return_mean (mean true return of the last 100 completed episodes, NaN before the first),
        return_last10 (the same over the last 10: closer to the current policy),
        plus imagined_return (the model's estimate of the H-step return), dyn_val_error,
        rew_val_error or rew_val_accuracy; and the final `ModelBasedAgent` (policy and models).

    Expected (measured on minirl/Pendulum-v1 on a busy shared 2-core machine, so timings are rough):
    with the defaults (40 policy updates per episode, 400 random warm-up steps) the policy swings up
    and balances after about 4-6k real steps (return_last10 about -170 to -300 at 4k, -160 at 6k);
    a 12k-step run takes about 60 s of CPU and ends with return_mean -343 (seed 0) and -394 (seed 1),
    first reaching return_mean >= -400 at step 9 200 and 11 200. The cheaper setting
    {"policy_updates": 20, "initial_random_steps": 1000} (about 2.5 s of CPU per 1000 steps) needs
    more episodes: at 8000 steps its final policies score -146, -177, -150 (seeds 0-2, deterministic,
    10 true episodes), and its 100-episode return_mean first reaches -200 at step 23 200 (seed 0).
    """
    positive_int("train", "total_steps", total_steps)
    agent = SVG(env, config, seed)
    rows: list[dict] = []
    for row in agent.learn_iter(total_steps):
        rows.append(row)
        if log is not None:
            log(row)
    return rows, agent.learner
