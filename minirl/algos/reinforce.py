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

What REINFORCE and PPO share (environment, networks, observation normalisation, `act`, checkpoints)
is `minirl.algos.actor_critic.ActorCriticAgent`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..autograd import no_grad
from ..optim import Adam, clip_grad_norm_
from ..returns import episode_returns, policy_gradient_weights
from ..rollout import collect_episodes
from .actor_critic import ActorCriticAgent
from .agent import ConfigMixin, check_common_fields, require

__all__ = ["ReinforceConfig", "Reinforce", "train", "BASELINES"]

BASELINES = ("none", "mean", "value", "loo")


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
        self.check_types()
        check_common_fields(self, name)
        require(np.isfinite(self.value_learning_rate) and self.value_learning_rate > 0, name,
                 "value_learning_rate", self.value_learning_rate, "a finite number > 0")
        require(isinstance(self.value_iters, int) and self.value_iters >= 1, name, "value_iters",
                 self.value_iters, "an integer >= 1")
        require(isinstance(self.episodes_per_env, int) and self.episodes_per_env >= 1, name,
                 "episodes_per_env", self.episodes_per_env, "an integer >= 1")
        require(self.baseline in BASELINES, name, "baseline", self.baseline, f"one of {BASELINES}")
        require(not (self.baseline == "loo" and self.num_envs * self.episodes_per_env < 2), name,
                 "baseline", self.baseline, "'loo' needs at least 2 episodes per batch "
                 "(num_envs * episodes_per_env >= 2)")


# ----------------------------------------------------------------------------- the algorithm
class Reinforce(ActorCriticAgent):
    """REINFORCE agent. `learn_iter(total_steps)` yields one log row per update."""

    algo = "reinforce"

    def __init__(self, env, config: ReinforceConfig | None = None, seed: int = 0):
        super().__init__(env, config, seed, ReinforceConfig)
        config = self.config
        self.optimizer = Adam(self.policy.parameters(), lr=config.learning_rate, eps=config.adam_eps)
        self.value_optimizer = Adam(self.value.parameters(), lr=config.value_learning_rate, eps=config.adam_eps)

    def _parts(self):
        return super()._parts() + [("value_optim.", self.value_optimizer)]

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
            self._check_finite(loss, "loss", {"policy_loss": float(pg_loss.data)})
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
                    self._check_finite(vl, "value loss")
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
