"""Soft Actor-Critic with automatic entropy tuning (Haarnoja et al., 2018, "Soft Actor-Critic
Algorithms and Applications", Algorithm 1), twin critics and target networks.

Where its gradient comes from: SAC never differentiates the reward. It *learns* a critic Q(s, a)
from black-box `env.step` floats (a regression onto the soft Bellman target) and trains the actor by
backpropagating through that critic, with a reparameterised action. The critic is a learned,
differentiable stand-in for the black box: the model-free sibling of a learned reward model.

Pseudocode (each knob a `SACConfig` field)::

    for every vector step (N envs):
        a ~ U(action box) while fewer than learning_starts steps were taken, else a ~ pi(.|s)
        store (s, a, r, s', terminated) in the replay buffer                     (buffer_size)
        every train_freq vector steps, gradient_steps times:
            sample a minibatch of batch_size transitions
            y = r + gamma (1 - d) (min_j Q'_j(s', a') - alpha log pi(a'|s')),  a' ~ pi(.|s')
            one Adam step on L_Q = 1/2 sum_j mean (Q_j(s, a) - y)^2                  (critic_lr)
            every policy_delay updates:
                a~ = c tanh(mu(s) + sigma(s) eps)           (reparameterised, eps ~ N(0, I))
                one Adam step on L_pi = mean(alpha log pi(a~|s) - min_j Q_j(s, a~))  (learning_rate)
                one Adam step on L_alpha = -log alpha mean(log pi(a~|s) + H_target)   (autotune, alpha_lr)
            every target_update_interval updates: theta'_j <- (1 - tau) theta'_j + tau theta_j

The losses and the squashed log-probability are in `minirl.algos.sac_loss` (lesson 12), the
networks in `minirl.algos.sac_nets`, the buffer in `minirl.algos.replay`.

| symbol | shape | meaning |
|---|---|---|
| N, B, E, D | - | `num_envs`, `batch_size`, `n_critics` (2: twin Q), action dimensions |
| s, s' | (B, obs_dim) | observations; s' is the true final observation after a time-limit cut |
| a | (B, D) | squashed action in [-1, 1]^D as stored (the env gets centre + c a) |
| r, d | (B,) | reward; d = 1 only on termination (truncation bootstraps) |
| mu, log sigma | (B, D) | the actor's Gaussian before the squash (log sigma clipped to [log_std_min, log_std_max]) |
| Q, Q' | (E, B) | critics and their Polyak-averaged targets, one row per member |
| alpha = exp(log alpha) | () | entropy temperature, learned when `autotune` |
| H_target | () | target entropy, -D by default |

The critics see the action in [-1, 1]; `scale_in_log_prob` says whether log pi is the density of
the environment's action c tanh(u) (True: it includes -sum log c, as CleanRL does) or of tanh(u)
(False: as stable-baselines3). It shifts log pi by a constant, i.e. moves the effective target
entropy by sum log c (Pendulum: c = 2, 0.69 nats; over seeds 0-4 the median step to -200 was 3.5k
with True and 4.5k with False, within the seed-to-seed spread).

Acting in the environment runs the actor on plain arrays (`forward_array`, no graph). Each log row
(every `log_every` env steps) averages the updates since the previous row. Expected results are in
`minirl.algos.presets`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..autograd import Tensor, concatenate, no_grad
from ..distributions import Normal
from ..nn import Module, frozen
from ..optim import Adam, clip_grad_norm_
from .agent import ConfigMixin, EnvAgent, require
from .replay import VARIABLE_KEYS, ReplayBuffer
from .sac_loss import actor_loss, critic_loss, soft_bellman_target, squashed_log_prob, temperature_loss
from .sac_nets import INITS, QEnsemble, SquashedGaussianActor

__all__ = ["SACConfig", "SAC", "train"]


@dataclass
class SACConfig(ConfigMixin):
    """Every SAC hyperparameter and implementation detail, each a named switch (defaults: the paper's,
    as stable-baselines3 sets them; the presets in `minirl.algos.presets` change some per task)."""

    learning_rate: float = 3e-4          # Adam step size of the actor (and of critics/temperature if theirs are None)
    critic_lr: float | None = None       # the critics' step size (None: learning_rate)
    alpha_lr: float | None = None        # the temperature's step size (None: learning_rate)
    adam_eps: float = 1e-8               # Adam epsilon
    gamma: float = 0.99                  # discount
    tau: float = 0.005                   # Polyak averaging of the target critics
    batch_size: int = 256                # transitions per gradient step
    buffer_size: int = 1_000_000         # replay capacity (the oldest transitions are overwritten)
    learning_starts: int = 100           # env steps of uniform random actions; updates start after them
    num_envs: int = 1                    # N parallel environments (each vector step adds N transitions)
    train_freq: int = 1                  # vector steps between two rounds of updates
    gradient_steps: int = 1              # gradient steps per round (updates-to-data ratio = this / (N train_freq))
    policy_delay: int = 1                # actor and temperature step every k-th critic step (1 in SAC)
    target_update_interval: int = 1      # Polyak update every k-th critic step
    n_critics: int = 2                   # E critics; the target takes their minimum (2: twin Q; 1: no min)
    hidden_sizes: tuple = (256, 256)     # hidden widths of the actor and of each critic
    activation: str = "relu"             # "relu" | "tanh"
    init: str = "pytorch"                # "pytorch" (uniform +-1/sqrt(fan_in)) | "orthogonal"
    dtype: str = "float32"               # networks and replay buffer precision
    log_std_min: float = -20.0           # the actor's log sigma is clipped to [log_std_min, log_std_max]
    log_std_max: float = 2.0
    autotune: bool = True                # learn alpha so that the entropy tracks target_entropy
    alpha_init: float = 1.0              # initial alpha (the fixed alpha when autotune is off)
    target_entropy: float | None = None  # H_target (None: -act_dim)
    scale_in_log_prob: bool = True       # log pi of the env action c tanh(u) (True) or of tanh(u) (False)
    max_grad_norm: float | None = None   # global gradient-norm clip of each network's step (None: off, as SAC)
    log_every: int = 1_000               # env steps between two log rows

    def __post_init__(self):
        name = type(self).__name__
        self.check_types()
        for field in ("learning_rate", "critic_lr", "alpha_lr", "adam_eps", "tau", "alpha_init"):
            value = getattr(self, field)
            require(value is None or value > 0, name, field, value, "a number > 0" +
                    (" (or None)" if field in ("critic_lr", "alpha_lr") else ""))
        require(0.0 <= self.gamma <= 1.0, name, "gamma", self.gamma, "a number in [0, 1]")
        require(self.tau <= 1.0, name, "tau", self.tau, "a number in (0, 1]")
        for field in ("batch_size", "buffer_size", "num_envs", "train_freq", "gradient_steps", "policy_delay",
                      "target_update_interval", "n_critics", "log_every"):
            value = getattr(self, field)
            require(value >= 1, name, field, value, "an integer >= 1")
        require(self.learning_starts >= 0, name, "learning_starts", self.learning_starts, "an integer >= 0")
        require(len(self.hidden_sizes) >= 1 and all(isinstance(h, int) and not isinstance(h, bool) and h > 0
                                                    for h in self.hidden_sizes),
                name, "hidden_sizes", self.hidden_sizes, "a non-empty list of positive integers")
        require(self.activation in ("relu", "tanh"), name, "activation", self.activation, "'relu' or 'tanh'")
        require(self.init in INITS, name, "init", self.init, " or ".join(repr(i) for i in INITS))
        require(self.dtype in ("float32", "float64"), name, "dtype", self.dtype, "'float32' or 'float64'")
        require(self.log_std_min < self.log_std_max, name, "log_std_min", self.log_std_min,
                f"a number below log_std_max = {self.log_std_max}")
        require(self.max_grad_norm is None or self.max_grad_norm > 0, name, "max_grad_norm", self.max_grad_norm,
                "None (no clipping) or a number > 0")


class _Temperature(Module):
    """log alpha, a learned scalar (its own module, so it checkpoints like the networks)."""

    def __init__(self, alpha_init: float):
        self.log_alpha = Tensor(np.asarray(math.log(alpha_init)), requires_grad=True)


class SAC(EnvAgent):
    """SAC agent: `learn_iter(total_steps)` yields one log row every `config.log_every` env steps."""

    algo = "sac"
    VARIABLE_SHAPE = ("recent_returns", *VARIABLE_KEYS)

    def __init__(self, env, config: SACConfig | None = None, seed: int = 0):
        super().__init__(env, config, seed, SACConfig)
        c = self.config
        if self.venv.discrete:
            self.venv.close()
            raise ValueError(f"SAC needs a continuous (Box) action space; {self.env_id or env!r} has "
                             f"{self.venv.action_space}")
        obs_dim, D = self.venv.obs_dim, self.venv.act_dim
        self.dtype = np.dtype(c.dtype)
        self.scale = (self.venv.action_high - self.venv.action_low) / 2.0        # (D,) c
        self.centre = (self.venv.action_high + self.venv.action_low) / 2.0       # (D,)
        self.target_entropy = float(-D if c.target_entropy is None else c.target_entropy)
        nets = dict(rng=self.init_rng, hidden=tuple(c.hidden_sizes), activation=c.activation, init=c.init,
                    dtype=self.dtype)
        self.actor = SquashedGaussianActor(obs_dim, D, log_std_min=c.log_std_min, log_std_max=c.log_std_max, **nets)
        self.critic = QEnsemble(obs_dim + D, c.n_critics, **nets)
        self.critic_target = QEnsemble(obs_dim + D, c.n_critics, **nets)
        self.critic_target.load_state_dict(self.critic.state_dict())             # theta' = theta at the start
        self.temperature = _Temperature(c.alpha_init)
        self.critic_params = self.critic.parameters()
        self.actor_opt = Adam(self.actor.parameters(), lr=c.learning_rate, eps=c.adam_eps)
        self.critic_opt = Adam(self.critic_params, lr=c.critic_lr or c.learning_rate, eps=c.adam_eps)
        self.alpha_opt = Adam(self.temperature.parameters(), lr=c.alpha_lr or c.learning_rate, eps=c.adam_eps)
        self.buffer = ReplayBuffer(c.buffer_size, obs_dim, D, dtype=self.dtype)
        self._log_scale = self.scale if c.scale_in_log_prob else 1.0
        self._init_counters()

    @property
    def alpha(self) -> float:
        return float(np.exp(self.temperature.log_alpha.data))

    # ------------------------------------------------------------------ acting
    def _sample_unit(self, obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """tanh(u), u ~ N(mu(s), sigma(s)^2), for obs (N, obs_dim): plain arrays, no graph. (N, D)"""
        mu, log_std = self.actor.forward_array(obs)
        return np.tanh(mu + np.exp(log_std) * rng.standard_normal(mu.shape).astype(self.dtype))

    def sample(self, obs, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stochastic actions for obs (B, obs_dim), plain arrays: (env actions (B, D), squashed actions
        in [-1, 1] (what the critics see) (B, D), log pi (B,) as the losses use it)."""
        unit, logp = self._squashed_sample(np.asarray(obs, dtype=np.float64).reshape(-1, self.venv.obs_dim), rng)
        return self._to_env(unit), unit, logp

    def _squashed_sample(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """tanh(u) with u ~ N(mu(s), sigma(s)^2) reparameterised, and log pi of the env action, no graph:
        ((B, D), (B,)) for obs (B, obs_dim)."""
        with no_grad():
            mu, log_std = self.actor.forward_array(obs)                             # (B, D)
            d = Normal(mu, log_std)
            u = d.rsample(rng)                                                      # (B, D)
            logp = squashed_log_prob(d.log_prob(u), u, self._log_scale).data        # (B,)
        return np.tanh(u.data), logp

    def _to_env(self, unit: np.ndarray) -> np.ndarray:
        return self.venv.clip_action(self.centre + self.scale * unit)            # (N, D) float64

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Environment-ready actions for one observation (obs_dim,) or a batch (B, obs_dim):
        centre + c tanh(mu(s)) (deterministic), else centre + c tanh(u) with u ~ N(mu, sigma^2)."""
        batch, single = self._obs_batch(obs)
        if deterministic:
            unit = np.tanh(self.actor.forward_array(batch)[0])
        else:
            unit = self._sample_unit(batch, self.eval_rng)
        actions = self._to_env(unit)
        return actions[0] if single else actions

    # ------------------------------------------------------------------ one gradient step
    def _update(self) -> dict:
        c = self.config
        obs, act, rew, next_obs, term = self.buffer.sample(c.batch_size, self.rng)
        alpha = self.alpha
        info = {}
        # ---- 1. soft Bellman target, no graph: y = r + gamma (1 - d) (min_j Q'_j(s', a') - alpha log pi(a'|s'))
        unit2, logp2 = self._squashed_sample(next_obs, self.rng)                    # a' ~ pi(.|s')
        with no_grad():
            q_next = self.critic_target.forward_array(np.concatenate([next_obs, unit2], axis=1))
            y = soft_bellman_target(rew, term, q_next, logp2, c.gamma, alpha)        # (B,)
        # ---- 2. critic step on L_Q = 1/2 sum_j mean (Q_j(s, a) - y)^2
        q = self.critic(np.concatenate([obs, act], axis=1))                          # (E, B)
        lq = critic_loss(q, y)
        self._check_finite(lq, "critic loss")
        self.critic_opt.zero_grad()
        lq.backward()
        if c.max_grad_norm is not None:
            clip_grad_norm_(self.critic_params, c.max_grad_norm, error_if_nonfinite=True)
        self.critic_opt.step()
        info.update(q_loss=float(lq.data), q_mean=float(q.data.mean()), target_mean=float(y.mean()))
        self.updates += 1
        # ---- 3. actor step through the (just updated) critics, and the temperature step
        if self.updates % c.policy_delay == 0:
            mu, log_std = self.actor(obs)                                            # (B, D) each
            d = Normal(mu, log_std)
            u = d.rsample(self.rng)                                                  # reparameterised
            logp = squashed_log_prob(d.log_prob(u), u, self._log_scale)              # (B,)
            with frozen(self.critic):              # gradients reach the action, not the critics
                q_pi = self.critic(concatenate([Tensor(obs), u.tanh()], axis=1))     # (E, B)
            la = actor_loss(logp, q_pi, alpha)
            self._check_finite(la, "actor loss")
            self.actor_opt.zero_grad()
            la.backward()
            if c.max_grad_norm is not None:
                clip_grad_norm_(self.actor_opt.params, c.max_grad_norm, error_if_nonfinite=True)
            self.actor_opt.step()
            info.update(actor_loss=float(la.data), entropy=-float(logp.data.mean()))
            if c.autotune:
                lt = temperature_loss(self.temperature.log_alpha, logp.data, self.target_entropy)
                self.alpha_opt.zero_grad()
                lt.backward()
                self.alpha_opt.step()
                info["alpha_loss"] = float(lt.data)
        # ---- 4. Polyak averaging of the target critics
        if self.updates % c.target_update_interval == 0:
            for target, online in zip(self.critic_target.parameters(), self.critic_params):
                target.data *= 1.0 - c.tau
                target.data += c.tau * online.data
        return info

    # ------------------------------------------------------------------ training loop
    def _reset_envs(self) -> np.ndarray:
        # a fresh agent resets with its seed; a resumed one with a seed derived from its step count
        return self.venv.reset(seed=self.seed if self.global_step == 0 else self.seed + 1_000_003 + self.global_step)

    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        c, N = self.config, self.config.num_envs
        if self._obs is None:
            self._obs = self._reset_envs()
        stats: list[dict] = []
        t_row, t_update = time.perf_counter(), 0.0
        while self.global_step < total_steps:
            # ---- 1. act: uniform random actions during the warm-up, then the stochastic policy
            obs = self._obs
            if self.global_step < c.learning_starts:
                unit = self.rng.uniform(-1.0, 1.0, (N, self.venv.act_dim))
            else:
                unit = self._sample_unit(obs, self.rng)
            step = self.venv.step(self._to_env(unit))
            self.buffer.add(obs, unit, step.reward, step.next_obs, step.terminated)   # s' = true final obs
            for _, ep_return, _ in step.finished:
                self._record_episode(ep_return)
            self._obs = step.obs
            previous, self.global_step = self.global_step, self.global_step + N
            # ---- 2. learn
            if self.global_step >= c.learning_starts and (self.global_step // N) % c.train_freq == 0:
                t0 = time.perf_counter()
                for _ in range(c.gradient_steps):
                    stats.append(self._update())
                t_update += time.perf_counter() - t0
            # ---- 3. a log row each time the step count passes a multiple of log_every, and at the end
            if self.global_step // c.log_every > previous // c.log_every or self.global_step >= total_steps:
                elapsed = time.perf_counter() - t_row
                self.train_time += elapsed
                yield self._row(stats, elapsed, t_update)
                stats, t_row, t_update = [], time.perf_counter(), 0.0

    def _row(self, stats: list[dict], elapsed: float, t_update: float) -> dict:
        row = {"step": self.global_step, "time_s": self.train_time, "episodes": self.episodes,
               "return_mean": self._return_mean()}
        for key in ("q_loss", "actor_loss", "alpha_loss", "entropy", "q_mean", "target_mean"):
            values = [s[key] for s in stats if key in s]
            row[key] = float(np.mean(values)) if values else float("nan")
        row.update(alpha=self.alpha, updates=self.updates, buffer_size=len(self.buffer),
                   rollout_s=elapsed - t_update, update_s=t_update,
                   steps_per_s=self.global_step / max(self.train_time, 1e-9))
        return row

    # ------------------------------------------------------------------ checkpoints
    def _parts(self):
        return [("actor.", self.actor), ("critic.", self.critic), ("critic_target.", self.critic_target),
                ("temperature.", self.temperature), ("actor_optim.", self.actor_opt),
                ("critic_optim.", self.critic_opt), ("alpha_optim.", self.alpha_opt), ("replay.", self.buffer)]


def train(env, *, seed: int, total_steps: int, config: SACConfig | None = None) -> list[dict]:
    """Train SAC for `total_steps` env steps; returns the log rows (config None: the env's preset)."""
    agent = SAC(env, config, seed)
    try:
        return list(agent.learn_iter(total_steps))
    finally:
        agent.close()
