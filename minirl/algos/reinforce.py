"""REINFORCE: the score-function policy gradient on a black-box environment (Williams, 1992).

The environment only hands back floats. The gradient of the expected return
J(theta) = E_tau[R(tau)] comes from the log-derivative trick (Sutton & Barto, 2018, eq. 13.8)::

    grad J = E[ sum_t grad log pi_theta(a_t | s_t) * (Psi_t - b_t) ]

| `reward_to_go` | Psi_t | note |
|---|---|---|
| False ("vanilla") | R(tau) = sum_k gamma^k r_k | every action is credited with the whole episode |
| True | G_t = sum_{k >= t} gamma^(k-t) r_k | an action cannot affect the past: lower variance, same mean |

| `baseline` | b_t | unbiased because |
|---|---|---|
| "none" | 0 | - |
| "mean" | mean of Psi over the batch | (slightly biased: it includes the sample itself) |
| "value" | V_phi(s_t), a critic fitted to G_t | b depends on s_t only, E[grad log pi(a|s)] = 0 |
| "loo" | mean of Psi_j over the *other* episodes j of the batch at the same time index t (0 once episode j has ended) | episodes are independent samples |

Every update collects `episodes_per_env` complete episodes from each of `num_envs` environments with
the current policy (`minirl.rollout.collect_episodes`); `minirl.returns.policy_gradient_weights`
computes Psi_t - b_t, so the batch is a set of independent
episodes. The loss averaged over the batch's transitions (B = total steps) is::

    L(theta) = -(1/B) sum_{i,t} log pi_theta(a_t^i | s_t^i) (Psi_t^i - b_t^i) - c_e mean(H)

(the classic gamma^t weighting of the theorem is dropped, as nearly every implementation does).
A time-limit truncation is bootstrapped with V(final observation) when a critic exists
(baseline "value"); without a critic the unseen future counts as 0.

Expected results: see `minirl.algos.presets.PRESETS`.

This module also holds what REINFORCE and PPO share: `AgentBase` (environment, networks,
observation normalisation, `act`, `state_dict`) and `ConfigMixin` (`to_dict` / `from_dict`).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator

import gymnasium as gym
import numpy as np

from ..autograd import Tensor, no_grad
from ..nn import Linear
from ..normalize import ObsNormalizer
from ..optim import Adam, clip_grad_norm_
from ..policies import CategoricalPolicy, GaussianPolicy, ValueFunction
from ..returns import episode_returns, policy_gradient_weights
from ..rollout import VecEnv, collect_episodes

__all__ = ["ReinforceConfig", "Reinforce", "train", "ConfigMixin", "AgentBase", "BASELINES"]

BASELINES = ("none", "mean", "value", "loo")


# ----------------------------------------------------------------------------- shared helpers
class ConfigMixin:
    """`to_dict()` (JSON-ready) and `from_dict(d)` (unknown keys are an error) for config dataclasses."""

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise KeyError(f"{cls.__name__}: unknown key(s) {unknown}; accepted keys: {sorted(names)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})


def _require(cond: bool, cls: str, field: str, value, accepted: str) -> None:
    if not cond:
        raise ValueError(f"{cls}.{field} = {value!r} is invalid; accepted: {accepted}")


def check_common_fields(c, name: str) -> None:
    """Validation shared by the REINFORCE and PPO configs."""
    _require(np.isfinite(c.learning_rate) and c.learning_rate > 0, name, "learning_rate", c.learning_rate,
             "a finite number > 0")
    _require(0.0 <= c.gamma <= 1.0, name, "gamma", c.gamma, "a number in [0, 1]")
    _require(isinstance(c.num_envs, int) and c.num_envs >= 1, name, "num_envs", c.num_envs, "an integer >= 1")
    _require(c.adam_eps > 0, name, "adam_eps", c.adam_eps, "a number > 0")
    _require(c.ent_coef >= 0, name, "ent_coef", c.ent_coef, "a number >= 0")
    _require(c.max_grad_norm is None or c.max_grad_norm > 0, name, "max_grad_norm", c.max_grad_norm,
             "None (no clipping) or a number > 0")
    _require(len(c.hidden_sizes) >= 1 and all(isinstance(h, int) and h > 0 for h in c.hidden_sizes),
             name, "hidden_sizes", c.hidden_sizes, "a non-empty tuple of positive integers")
    _require(c.activation in ("tanh", "relu"), name, "activation", c.activation, "'tanh' or 'relu'")
    _require(c.dtype in ("float32", "float64"), name, "dtype", c.dtype, "'float32' or 'float64'")
    _require(c.policy_head_gain > 0 and c.value_head_gain > 0, name, "policy_head_gain/value_head_gain",
             (c.policy_head_gain, c.value_head_gain), "numbers > 0")


def _pytorch_default_init(module, rng: np.random.Generator) -> None:
    """Replace orthogonal init by U(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights (PyTorch's default)."""
    for m in module.modules():
        if isinstance(m, Linear):
            bound = 1.0 / np.sqrt(m.in_features)
            m.weight.data = rng.uniform(-bound, bound, m.weight.shape).astype(m.weight.dtype)
            if m.bias is not None:
                m.bias.data = rng.uniform(-bound, bound, m.bias.shape).astype(m.bias.dtype)


class AgentBase:
    """Environment, policy and critic, observation normalisation, evaluation `act`, checkpoints.

    Subclasses set `self.optimizer` (and whatever else goes in the checkpoint) and implement `learn_iter`.
    """

    algo = "base"

    def __init__(self, env: str | Callable[[], gym.Env], config, seed: int):
        from .presets import PRESET_ENV_IDS          # (imported late: presets imports this module)
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.config, self.seed = config, int(seed)
        self.venv = VecEnv(env, config.num_envs, preset_ids=PRESET_ENV_IDS)
        self.env_id = self.venv.env_id
        init_seq, sample_seq, eval_seq = np.random.SeedSequence(self.seed).spawn(3)
        init_rng = np.random.default_rng(init_seq)
        self.rng = np.random.default_rng(sample_seq)            # sampling actions, shuffling minibatches
        self.eval_rng = np.random.default_rng(eval_seq)         # act(deterministic=False): keeps training
                                                                # reproducible however often act() is called
        # ---- networks: separate actor and critic, orthogonal init (head gains from the config)
        c, v = config, self.venv
        common = dict(rng=init_rng, hidden=tuple(c.hidden_sizes), activation=c.activation, dtype=c.dtype)
        if v.discrete:
            self.policy = CategoricalPolicy(v.obs_dim, v.n_actions, head_gain=c.policy_head_gain, **common)
        else:
            self.policy = GaussianPolicy(v.obs_dim, v.act_dim, head_gain=c.policy_head_gain,
                                         log_std_init=c.log_std_init, **common)
        self.value = ValueFunction(v.obs_dim, head_gain=c.value_head_gain, **common)
        if not c.ortho_init:
            _pytorch_default_init(self.policy, init_rng)
            _pytorch_default_init(self.value, init_rng)
        self.obs_norm = ObsNormalizer(v.obs_dim, clip=c.obs_clip) if c.normalize_obs else None
        # ---- counters that live on the agent (learn_iter continues from them)
        self.global_step = 0
        self.episodes = 0
        self.updates = 0
        self.train_time = 0.0
        self.recent_returns: deque = deque(maxlen=100)
        self._obs = None                                         # current observations (N, obs_dim)

    # ------------------------------------------------------------------ helpers
    def _normalize(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        return obs if self.obs_norm is None else self.obs_norm(obs, update=update)

    def _record_episode(self, episode_return: float) -> None:
        self.recent_returns.append(episode_return)
        self.episodes += 1

    def _return_mean(self) -> float:
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    def _reset_envs(self) -> np.ndarray:
        # a fresh agent resets with its seed; a resumed one with a seed derived from its step count
        return self.venv.reset(seed=self.seed + 1_000_003 * self.updates)

    @staticmethod
    def _check_finite(loss: Tensor, what: str, info: dict) -> None:
        if not np.isfinite(loss.data).all():
            details = ", ".join(f"{k}={v:.4g}" for k, v in info.items())
            raise FloatingPointError(
                f"{what} is not finite ({float(loss.data)}; {details}): training diverged. The update was "
                "not applied; lower the learning rate or check the rewards/observations for inf/NaN.")

    # ------------------------------------------------------------------ evaluation
    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Environment-ready actions for one observation (obs_dim,) or a batch (B, obs_dim).

        Applies the saved observation normalisation (without updating it); deterministic=True takes
        the mode (argmax / the Gaussian mean); continuous actions are clipped to the bounds.
        """
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        if obs.shape[-1] != self.venv.obs_dim:
            raise ValueError(f"act: observation shape {obs.shape} does not end in obs_dim={self.venv.obs_dim}")
        batch = self._normalize(obs.reshape(-1, self.venv.obs_dim))
        actions = self.policy.act(batch, self.eval_rng, deterministic=deterministic)
        if self.venv.discrete:
            actions = actions + self.venv.action_start
        else:
            actions = self.venv.clip_action(actions)
        return actions[0] if single else actions

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to continue training: networks, optimiser, normalisers, counters, rng."""
        state = {f"policy.{k}": v for k, v in self.policy.state_dict().items()}
        state.update({f"value.{k}": v for k, v in self.value.state_dict().items()})
        state.update({f"optim.{k}": np.asarray(v).copy() for k, v in self.optimizer.state_dict().items()})
        if self.obs_norm is not None:
            state.update(self.obs_norm.state_dict())
        state.update({
            "counters.global_step": np.asarray(self.global_step), "counters.episodes": np.asarray(self.episodes),
            "counters.updates": np.asarray(self.updates), "counters.train_time": np.asarray(self.train_time),
            "recent_returns": np.asarray(list(self.recent_returns), dtype=np.float64),
            "rng_state": np.asarray(json.dumps(self.rng.bit_generator.state)),
            "eval_rng_state": np.asarray(json.dumps(self.eval_rng.bit_generator.state)),
            "meta.algo": np.asarray(self.algo), "meta.config": np.asarray(json.dumps(self.config.to_dict())),
        })
        return state

    def load_state_dict(self, state: dict) -> None:
        """Load a `state_dict`; a missing entry, a different algorithm or a mis-shaped array is refused."""
        own = self.state_dict()
        missing = sorted(k for k in own if k not in state and not k.startswith("meta."))
        if missing:
            raise ValueError(f"checkpoint refused: missing entries {missing[:8]}"
                             f"{' ...' if len(missing) > 8 else ''} (was it saved by a different algorithm "
                             f"or with other normalisation settings?)")
        if "meta.algo" in state and str(state["meta.algo"]) != self.algo:
            raise ValueError(f"checkpoint refused: it was saved by {str(state['meta.algo'])!r}, this agent is {self.algo!r}")
        for k, v in own.items():
            if k.startswith("meta.") or k in ("rng_state", "eval_rng_state", "recent_returns"):
                continue
            if np.shape(state[k]) != np.shape(v):
                raise ValueError(f"checkpoint refused: '{k}' has shape {np.shape(state[k])}, this agent "
                                 f"expects {np.shape(v)} (different environment, hidden sizes or num_envs?)")
        self.policy.load_state_dict({k[7:]: state[k] for k in own if k.startswith("policy.")})
        self.value.load_state_dict({k[6:]: state[k] for k in own if k.startswith("value.")})
        self.optimizer.load_state_dict({k[6:]: np.asarray(state[k]) for k in own if k.startswith("optim.")})
        if self.obs_norm is not None:
            self.obs_norm.load_state_dict(state)
        self._load_extra(state)
        self.global_step = int(state["counters.global_step"])
        self.episodes = int(state["counters.episodes"])
        self.updates = int(state["counters.updates"])
        self.train_time = float(state["counters.train_time"])
        self.recent_returns = deque((float(x) for x in np.asarray(state["recent_returns"])), maxlen=100)
        self.rng.bit_generator.state = json.loads(str(state["rng_state"]))
        self.eval_rng.bit_generator.state = json.loads(str(state["eval_rng_state"]))
        self._obs = None                                 # environments restart from a reset

    def _load_extra(self, state: dict) -> None:
        pass

    def close(self) -> None:
        self.venv.close()


# ----------------------------------------------------------------------------- configuration
@dataclass
class ReinforceConfig(ConfigMixin):
    """Hyperparameters of REINFORCE (see the module docstring for the estimator)."""

    learning_rate: float = 1e-3          # Adam step size of the policy
    value_learning_rate: float = 1e-3    # Adam step size of the critic (baseline "value" only)
    value_iters: int = 20                # full-batch critic gradient steps per update
    num_envs: int = 8                    # parallel environments
    episodes_per_env: int = 1            # complete episodes per env per update (batch = num_envs x this)
    gamma: float = 0.99                  # discount
    reward_to_go: bool = True            # Psi_t = G_t (True) or the whole return R(tau) (False, "vanilla")
    baseline: str = "value"              # "none" | "mean" | "value" | "loo" (leave-one-out)
    norm_adv: bool = False               # standardise Psi - b over the batch
    ent_coef: float = 0.0                # entropy bonus c_e
    max_grad_norm: float | None = None   # global gradient-norm clip (None: off)
    adam_eps: float = 1e-8               # Adam epsilon
    anneal_lr: bool = False              # linear decay of both learning rates to 0 over total_steps
    hidden_sizes: tuple = (64, 64)       # widths of the hidden layers of policy and critic
    activation: str = "tanh"             # "tanh" | "relu"
    dtype: str = "float64"               # "float64" | "float32": the networks' precision
    ortho_init: bool = True              # orthogonal init (False: PyTorch-style uniform)
    policy_head_gain: float = 0.01       # orthogonal gain of the policy's last layer
    value_head_gain: float = 1.0         # orthogonal gain of the critic's last layer
    log_std_init: float = 0.0            # initial log std of a Gaussian policy
    normalize_obs: bool = False          # running observation normalisation
    obs_clip: float = 10.0               # clip normalised observations to [-obs_clip, obs_clip]
    clip_actions: bool = True            # clip continuous actions to the bounds (the sample is trained on)

    def __post_init__(self):
        name = type(self).__name__
        check_common_fields(self, name)
        _require(np.isfinite(self.value_learning_rate) and self.value_learning_rate > 0, name,
                 "value_learning_rate", self.value_learning_rate, "a finite number > 0")
        _require(isinstance(self.value_iters, int) and self.value_iters >= 1, name, "value_iters",
                 self.value_iters, "an integer >= 1")
        _require(isinstance(self.episodes_per_env, int) and self.episodes_per_env >= 1, name,
                 "episodes_per_env", self.episodes_per_env, "an integer >= 1")
        _require(self.baseline in BASELINES, name, "baseline", self.baseline, f"one of {BASELINES}")
        _require(not (self.baseline == "loo" and self.num_envs * self.episodes_per_env < 2), name,
                 "baseline", self.baseline, "'loo' needs at least 2 episodes per batch "
                 "(num_envs * episodes_per_env >= 2)")


# ----------------------------------------------------------------------------- the algorithm
class Reinforce(AgentBase):
    """REINFORCE agent. `learn_iter(total_steps)` yields one log row per update."""

    algo = "reinforce"

    def __init__(self, env, config: ReinforceConfig | None = None, seed: int = 0):
        if config is None:
            from .presets import preset
            config = preset("reinforce", env if isinstance(env, str) else "")
        if not isinstance(config, ReinforceConfig):
            raise TypeError(f"Reinforce needs a ReinforceConfig, got {type(config).__name__}")
        super().__init__(env, config, seed)
        self.optimizer = Adam(self.policy.parameters(), lr=config.learning_rate, eps=config.adam_eps)
        self.value_optimizer = Adam(self.value.parameters(), lr=config.value_learning_rate, eps=config.adam_eps)

    def state_dict(self):
        state = super().state_dict()
        state.update({f"value_optim.{k}": np.asarray(v).copy() for k, v in self.value_optimizer.state_dict().items()})
        return state

    def _load_extra(self, state):
        self.value_optimizer.load_state_dict({k[12:]: np.asarray(v) for k, v in state.items()
                                              if k.startswith("value_optim.")})

    def _sample(self, obs: np.ndarray) -> np.ndarray:
        # the normalisation statistics stay frozen during a batch, so the policy is trained on
        # exactly the inputs it acted on; they are updated with the batch afterwards
        return self.policy.act(self._normalize(obs), self.rng)

    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        c = self.config
        while self.global_step < total_steps:
            t0 = time.perf_counter()
            if c.anneal_lr:
                frac = 1.0 - self.global_step / total_steps
                self.optimizer.lr = frac * c.learning_rate
                self.value_optimizer.lr = frac * c.value_learning_rate
            # ---- 1. collect num_envs x episodes_per_env complete episodes with the current policy
            obs = self._reset_envs()
            episodes, _, used = collect_episodes(self.venv, obs, self._sample, c.episodes_per_env)
            self.global_step += used
            for ep in episodes:
                self._record_episode(float(ep.rewards.sum()))
            raw_obs = np.concatenate([ep.obs for ep in episodes])                       # (B, obs_dim)
            obs_b = self._normalize(raw_obs)
            act_b = np.concatenate([ep.actions for ep in episodes])                     # (B,) or (B, act_dim)
            lengths = [len(ep.rewards) for ep in episodes]

            # ---- 2. weights Psi_t - b_t (critic values before it is refitted)
            values = bootstrap = None
            if c.baseline == "value":
                with no_grad():
                    v_all = self.value(obs_b).data                                      # (B,)
                    finals = self._normalize(np.stack([ep.final_obs for ep in episodes]))
                    v_final = self.value(finals).data                                   # (E,)
                values = np.split(v_all, np.cumsum(lengths)[:-1])
                bootstrap = [0.0 if ep.terminated else float(v_final[i]) for i, ep in enumerate(episodes)]
            returns = episode_returns([ep.rewards for ep in episodes], c.gamma, bootstrap)
            weights = policy_gradient_weights(returns, c.reward_to_go, c.baseline, values)
            w = np.concatenate(weights)                                                 # (B,)
            if c.norm_adv:
                w = (w - w.mean()) / (w.std() + 1e-8)

            # ---- 3. policy gradient step: L = -mean(log pi(a|s) * w) - c_e mean(H)
            dist = self.policy.dist(obs_b)
            logp = dist.log_prob(act_b)                                                 # (B,)
            entropy = dist.entropy().mean()
            pg_loss = -(logp * w).mean()
            loss = pg_loss - c.ent_coef * entropy
            self._check_finite(loss, "REINFORCE loss", {"policy_loss": float(pg_loss.data)})
            self.optimizer.zero_grad()
            loss.backward()
            grad_norm = (clip_grad_norm_(self.policy.parameters(), c.max_grad_norm, error_if_nonfinite=True)
                         if c.max_grad_norm else float("nan"))
            self.optimizer.step()

            # ---- 4. critic regression on the reward-to-go targets (baseline "value")
            v_loss = float("nan")
            if c.baseline == "value":
                targets = np.concatenate(returns)                                       # (B,) G_t
                for _ in range(c.value_iters):
                    vl = 0.5 * (self.value(obs_b) - targets).square().mean()
                    self._check_finite(vl, "REINFORCE value loss", {})
                    self.value_optimizer.zero_grad()
                    vl.backward()
                    self.value_optimizer.step()
                    v_loss = float(vl.data)

            if self.obs_norm is not None:
                self.obs_norm(raw_obs, update=True)

            # ---- 5. log
            self.updates += 1
            self.train_time += time.perf_counter() - t0
            yield {"step": self.global_step, "time_s": self.train_time, "episodes": self.episodes,
                   "return_mean": self._return_mean(), "policy_loss": float(pg_loss.data),
                   "value_loss": v_loss, "entropy": float(entropy.data), "grad_norm": grad_norm,
                   "batch_episodes": len(episodes), "batch_steps": used,
                   "learning_rate": self.optimizer.lr,
                   "steps_per_s": self.global_step / max(self.train_time, 1e-9)}


def train(env, *, seed: int, total_steps: int, config: ReinforceConfig | None = None) -> list[dict]:
    """Train REINFORCE for `total_steps` env steps; returns the log rows (config None: the env's preset)."""
    agent = Reinforce(env, config, seed)
    try:
        return list(agent.learn_iter(total_steps))
    finally:
        agent.close()
