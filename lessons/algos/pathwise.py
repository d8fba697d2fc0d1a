# Lesson 06, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/06_differentiable_twin.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 06
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 06 --force

"""Pathwise policy optimisation: backpropagation through time (BPTT) through a differentiable twin,
and its short-window variant with a learned critic (SHAC: Xu et al., 2022, "Accelerated Policy
Learning with Parallel Differentiable Simulation").

Background. A black-box method (REINFORCE, PPO) estimates grad J from returns and log-probabilities.
When the dynamics f and reward r are differentiable we can instead write the return as a function of
the policy parameters theta and differentiate it directly (the pathwise or reparameterised gradient):

    s_{t+1} = f(s_t, a_t),   a_t = pi_theta(o(s_t)) (+ sigma eps_t)
    J(theta) = E[ sum_{t<h} gamma^t r(s_t, a_t) + gamma^h V(s_h) ]               (SHAC, Eq. 5)

With h = horizon and no V this is plain BPTT through the whole episode. Long horizons make the
gradient explode or vanish (the product of Jacobians df/ds), so SHAC cuts the episode into windows of
h steps, detaches the state between windows, and lets a critic V estimate the tail. The critic is
regressed on TD(lambda) targets computed from the window's rewards (SHAC, Eq. 7):

    G_t = r_t + gamma * ((1 - lambda) V(s_{t+1}) + lambda G_{t+1}),     G_h = V(s_h)

The critic is what lets a short window see the whole swing-up, and SHAC's stalls are its stalls
(on Pendulum, runs sat at -1,000 to -1,500 for 6-12k steps until it had learned which states pay).
With one rollout and 16-step windows a window holds 16 states, too few to regress V on. So the
critic may learn from the last `critic_windows` windows (a small replay of windows): each fit
recomputes every kept window's TD(lambda) targets with the current critic, and regresses on all of
them. And a simulated episode may start, with probability `start_wide`, at a state drawn uniformly
from the box of states the twin can be in (`twin.state_box`: for Pendulum every angle and every
speed up to the limit) instead of at `twin.reset` (which, like the black box, starts nearly at
rest): the actor then practises catching a pendulum that arrives fast near the top, and the
critic learns what such states are worth, long before the policy can swing up on its own. Both
are on the simulator's side only: the evaluation (the black box, from its own initial states) and
the step accounting (every simulated step counts) do not change.

Terminations (a cart over a cliff) stop both the reward and the bootstrap: alive_t = 1 until the
step on which the episode ends, 0 afterwards. Note what the gradient sees: alive_t is a step
function of the state, so d alive / d s = 0 (the reason pathwise methods fail on CliffCart).

Symbols and shapes (B carts/pendulums in parallel, T = steps in this window):

| name | shape | meaning |
|---|---|---|
| rewards | (T, B) Tensor | r_t, differentiable w.r.t. theta through the whole window |
| alive | (T, B) array | 1 while the episode is running at step t (reward counts), else 0 |
| bootstrap | (B,) Tensor or None | V(s_h) * alive after the last step; None for plain BPTT |
| values | (T + 1, B) array | critic values of s_0 .. s_h (no gradient), for TD(lambda) targets |

The policy is `minirl.policies.GaussianPolicy`, the very class PPO trains: here we use its mean (or a
reparameterised sample, `rsample`) and, optionally, squash it into the action box with
a = a_max tanh(z / a_max) so that the torque limit does not zero the gradient (a hard clip would).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np

from minirl.autograd import Tensor, no_grad, stack
from minirl.checks import positive_int
from minirl.optim import Adam, clip_grad_norm_
from minirl.policies import GaussianPolicy, ValueFunction
from minirl.algos.agent import Agent, ConfigMixin

__all__ = ["PathwiseConfig", "SHAC", "Window", "window_loss", "lambda_returns", "rollout_window",
           "critic_data", "resolve_twin", "fit", "train"]


@dataclass
class PathwiseConfig(ConfigMixin):
    """Every switch of the method, with the value used when none is given.

    window: steps per gradient (h). window >= the twin's horizon means full-episode BPTT, no critic.
    """

    num_envs: int = 16              # B: rollouts simulated in parallel per gradient step
    window: int = 32                # h: SHAC window (>= horizon: plain BPTT through the episode)
    gamma: float = 0.99
    lam: float = 0.95               # TD(lambda) for the critic targets
    lr: float = 2e-3                # actor Adam learning rate
    critic_lr: float = 2e-3
    critic_iters: int = 16          # critic regression steps per window
    critic_minibatch: int = 128
    max_grad_norm: float = 1.0      # global-norm clipping of the actor gradient
    hidden: tuple = (64, 64)
    action: str = "mean"            # "mean" (deterministic) or "rsample" (mean + std * eps)
    log_std_init: float = -1.0      # only used by action="rsample"
    squash: bool = True             # a = a_max tanh(z / a_max) instead of the twin's hard clip
    episode_steps: int | None = None  # cut simulated episodes after this many steps, bootstrapping V
                                      # (None: the twin's horizon); shorter episodes start from more states,
                                      # and the training returns logged are those of the shorter episodes
    critic_windows: int = 1         # the critic regresses on the last this-many windows, their TD(lambda)
                                    # targets recomputed with the current critic (1: the window just simulated,
                                    # as in SHAC)
    start_wide: float = 0.0         # probability that a simulated episode starts at a state drawn uniformly from
                                    # twin.state_box instead of at twin.reset (0: always twin.reset, as in SHAC)

    def __post_init__(self):
        self.check_types()
        for name in ("num_envs", "window", "critic_iters", "critic_minibatch", "critic_windows"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"PathwiseConfig.{name} must be a positive integer, got {value!r}")
        for name in ("gamma", "lam"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"PathwiseConfig.{name} must be in [0, 1], got {value!r}")
        for name in ("lr", "critic_lr", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise ValueError(f"PathwiseConfig.{name} must be > 0, got {getattr(self, name)!r}")
        if not 0 <= self.start_wide <= 1:
            raise ValueError(f"PathwiseConfig.start_wide must be a probability in [0, 1], got {self.start_wide!r}")
        if self.action not in ("mean", "rsample"):
            raise ValueError(f"PathwiseConfig.action must be 'mean' or 'rsample', got {self.action!r}")
        if self.episode_steps is not None and self.episode_steps < 1:
            raise ValueError(f"PathwiseConfig.episode_steps must be None (the twin's horizon) or an integer "
                             f">= 1, got {self.episode_steps!r}")


# Tuned defaults per task: `minirl.algos.presets` (algo "shac").


# ------------------------------------------------------------------------------------ the objective
def window_loss(rewards: Tensor, alive: np.ndarray, gamma: float, bootstrap: Tensor | None = None) -> Tensor:
    """The pathwise actor loss of one window: minus the mean discounted return (SHAC, Eq. 5).

        loss = -1/(B T) sum_b [ sum_{t<T} gamma^t alive_{t,b} r_{t,b} + gamma^T bootstrap_b ]

    Args:
        rewards: (T, B) Tensor of rewards, differentiable.
        alive: (T, B) array of 0/1, whether step t of rollout b still counts.
        gamma: discount.
        bootstrap: (B,) Tensor, V(s_T) (already zero for rollouts that ended), or None.
    Returns:
        a scalar Tensor; its gradient is the (negated) pathwise policy gradient.
    """
    T, B = rewards.shape
    alive = np.asarray(alive, dtype=np.float64)
    if alive.shape != (T, B):
        raise ValueError(f"window_loss: alive has shape {alive.shape}, rewards have shape {(T, B)}")
    raise NotImplementedError("lesson 06: implement window_loss, see notebooks/06_differentiable_twin.ipynb")


def lambda_returns(rewards: np.ndarray, values: np.ndarray, alive: np.ndarray, gamma: float,
                   lam: float) -> np.ndarray:
    """TD(lambda) critic targets over a window (SHAC, Eq. 7), computed backwards from G_T = V(s_T).

        G_t = r_t + gamma * alive'_t * ((1 - lam) V(s_{t+1}) + lam G_{t+1})

    where alive'_t = 1 if the rollout is still running after step t (0: it terminated on step t, so
    nothing follows). Entries with alive_t = 0 (already ended before step t) are irrelevant.

    Shapes: rewards (T, B), values (T + 1, B), alive (T + 1, B) (alive[t]: running at s_t) -> (T, B).
    """
    rewards, values, alive = (np.asarray(x, dtype=np.float64) for x in (rewards, values, alive))
    T = rewards.shape[0]
    if values.shape != (T + 1,) + rewards.shape[1:] or alive.shape != values.shape:
        raise ValueError(f"lambda_returns: rewards {rewards.shape} need values and alive of shape "
                         f"{(T + 1,) + rewards.shape[1:]}, got {values.shape} and {alive.shape}")
    targets = np.zeros_like(rewards)
    raise NotImplementedError("lesson 06: implement lambda_returns, see notebooks/06_differentiable_twin.ipynb")
    return targets


# ------------------------------------------------------------------------------------ rollouts
def _act(policy: GaussianPolicy, obs: Tensor, twin, config: PathwiseConfig, rng) -> Tensor:
    """a = pi(o) as a Tensor: mean or reparameterised sample, optionally squashed into the action box."""
    z = policy.mean_action(obs) if config.action == "mean" else policy.dist(obs).rsample(rng)   # (B, A)
    if not config.squash:
        return z
    high = twin.action_high                                                  # (A,)
    return (z * (1.0 / high)).tanh() * high


def rollout_window(twin, policy: GaussianPolicy, state: Tensor, alive: np.ndarray, steps: int,
                   config: PathwiseConfig, rng: np.random.Generator):
    """Simulate `steps` steps from `state`, recording the graph from the policy to every reward.

    Returns (rewards (T, B) Tensor, alive (T + 1, B) array, states list of T + 1 Tensors (B, S)).
    `alive` enters as the (B,) mask of rollouts still running at `state`.
    """
    rewards, states, masks = [], [state], [np.asarray(alive, dtype=np.float64)]
    for _ in range(steps):
        raise NotImplementedError("lesson 06: implement rollout_window, see notebooks/06_differentiable_twin.ipynb")
    return stack(rewards, axis=0), np.stack(masks), states


def resolve_twin(env):
    """A twin from a twin object, a Gymnasium id or an env made from one; else say which ids have a twin."""
    from minirl.envs import TWINS, make_twin
    if hasattr(env, "step") and hasattr(env, "observe") and hasattr(env, "horizon"):
        return env
    env_id = env if isinstance(env, str) else getattr(getattr(env, "spec", None), "id", None)
    if env_id is None:
        raise TypeError(f"pathwise.train: env must be a Gymnasium id, an env made from one, or a twin; "
                        f"got {type(env).__name__}. Tasks with a differentiable twin: {sorted(TWINS)}")
    return make_twin(env_id)


# ------------------------------------------------------------------------------------ training
def _make_config(twin, config) -> PathwiseConfig:
    """A PathwiseConfig from None (the task's preset), a dict of overrides of it, or a PathwiseConfig."""
    from minirl.algos.presets import preset
    base = preset("shac", twin.gym_id) if getattr(twin, "gym_id", None) else None
    return PathwiseConfig.build(config, base)


class SHAC(Agent):
    """A GaussianPolicy trained by pathwise gradients through a differentiable twin (`minirl train --algo shac`).

    Pseudocode (one iteration of `learn_iter` = one window)::

        at an episode start: s_0 ~ twin.reset(rng, B)
        simulate T = min(window, steps left in the episode) steps, keeping the graph   (rollout_window)
        loss = -mean discounted window return - gamma^T V(s_T)                          (window_loss)
        one Adam step on the actor (gradient norm clipped); critic fitted to TD(lambda) (lambda_returns)

    `global_step` counts every simulated step of every live rollout: simulated steps are env steps.
    """

    algo = "shac"

    def __init__(self, env, config: PathwiseConfig | dict | None = None, seed: int = 0):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.twin = resolve_twin(env)
        self.config = config = _make_config(self.twin, config)
        self.seed, self.env_id = int(seed), getattr(self.twin, "gym_id", None)
        self.rng = np.random.default_rng(seed)
        self.rngs = {"rng": self.rng}
        self.policy = GaussianPolicy(self.twin.obs_dim, self.twin.act_dim, rng=self.rng, hidden=config.hidden,
                                     log_std_init=config.log_std_init)
        self.actor_opt = Adam(self.policy.parameters(), lr=config.lr)
        if config.start_wide > 0 and getattr(self.twin, "state_box", None) is None:
            raise ValueError(f"PathwiseConfig.start_wide = {config.start_wide} needs a twin with a state_box (the "
                             f"states it can be in); {type(self.twin).__name__} has none: use start_wide=0")
        self.horizon = min(config.episode_steps or self.twin.horizon, self.twin.horizon)
        self.use_critic = config.window < self.horizon or self.horizon < self.twin.horizon
        self.critic = ValueFunction(self.twin.obs_dim, rng=self.rng, hidden=config.hidden) if self.use_critic else None
        self.critic_opt = Adam(self.critic.parameters(), lr=config.critic_lr) if self.use_critic else None
        self._init_counters()
        self._episode = None                  # (state, alive, returns, t) of the episode being simulated
        self.windows: deque = deque(maxlen=config.critic_windows)    # the critic's replay of windows

    def _parts(self):
        parts = [("policy.", self.policy), ("actor_optim.", self.actor_opt)]
        if self.use_critic:
            parts += [("critic.", self.critic), ("critic_optim.", self.critic_opt)]
        return parts

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._episode = None                  # a resumed run starts a fresh episode,
        self.windows.clear()                  # and its critic an empty replay of windows

    def _start_states(self, batch: int) -> Tensor:
        """s_0 of a simulated episode: twin.reset, each row replaced with probability `start_wide` by a
        state drawn uniformly from `twin.state_box` (low (S,), high (S,))."""
        state = self.twin.reset(self.rng, batch)                                 # (B, S)
        if self.config.start_wide == 0:
            return state
        pick = np.flatnonzero(self.rng.random(batch) < self.config.start_wide)
        if len(pick) == 0:
            return state
        low, high = self.twin.state_box
        data = state.data.copy()
        data[pick] = self.rng.uniform(low, high, size=(len(pick), len(low)))     # (k, S)
        return Tensor(data)

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Actions for observations (B, obs_dim) or (obs_dim,), squashed into the box as in training."""
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        with no_grad():
            o = Tensor(obs.reshape(-1, self.twin.obs_dim))
            if deterministic:
                z = self.policy.mean_action(o)
            else:
                z = self.policy.dist(o).rsample(self.rng)
            high = self.twin.action_high
            a = ((z * (1.0 / high)).tanh() * high).data if self.config.squash else np.clip(z.data, -high, high)
        return a[0] if single else a

    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        twin, config, B = self.twin, self.config, self.config.num_envs
        while self.global_step < total_steps:
            t0 = time.perf_counter()
            if self._episode is None:                                        # B rollouts, cut into windows
                self._episode = (self._start_states(B), np.ones(B), np.zeros(B), 0)
            state, alive, returns, t = self._episode
            T = min(config.window, self.horizon - t)
            state = state.detach()                                           # the gradient stops between windows
            rewards, masks, states = rollout_window(twin, self.policy, state, alive, T, config, self.rng)
            bootstrap = None
            if self.use_critic:
                bootstrap = self.critic(twin.observe(states[-1])) * masks[-1]   # (B,) V(s_h), 0 if ended
            loss = window_loss(rewards, masks[:-1], config.gamma, bootstrap)
            self.actor_opt.zero_grad()
            if self.use_critic:
                self.critic_opt.zero_grad()
            loss.backward()
            grad_norm = clip_grad_norm_(self.policy.parameters(), config.max_grad_norm)
            if not np.isfinite(grad_norm):
                raise FloatingPointError(
                    f"pathwise: the policy gradient is {grad_norm} after {self.global_step} env steps: backprop "
                    f"through {T} steps overflowed; use a shorter window (config window={config.window})")
            self.actor_opt.step()
            if self.use_critic:
                self.windows.append(Window.of(twin, states, rewards.data, masks))
                _fit_critic(self.critic, self.critic_opt, self.windows, config, self.rng)

            returns = returns + (rewards.data * masks[:-1]).sum(axis=0)      # (B,) true-dynamics returns
            self.global_step += int(masks[:-1].sum())
            state, alive, t = states[-1], masks[-1], t + T
            self._episode = (state, alive, returns, t)
            if t >= self.horizon or not alive.any():                        # every rollout has ended
                for r in returns:
                    self._record_episode(float(r))
                self._episode = None
            self.updates += 1
            self.train_time += time.perf_counter() - t0
            yield {"step": self.global_step, "time_s": self.train_time, "episodes": self.episodes,
                   "return_mean": self._return_mean(), "grad_norm": grad_norm, "window_loss": float(loss.data)}


def train(env, *, seed: int, total_steps: int, config=None) -> list[dict]:
    """Train by pathwise gradients through `env`'s twin; return the progress rows (see `fit`)."""
    return fit(env, seed=seed, total_steps=total_steps, config=config)[1]


def fit(env, *, seed: int, total_steps: int, config=None) -> tuple[GaussianPolicy, list[dict]]:
    """Train a GaussianPolicy by pathwise gradients through `env`'s differentiable twin.

    Args:
        env: a Gymnasium id with a twin (e.g. "minirl/Pendulum-v1"), an env made from it, or a twin.
        seed: seeds the network initialisation, the initial states and any action noise.
        total_steps: budget of simulated environment steps (each step of each live rollout counts).
        config: a PathwiseConfig, a dict of overrides of the task's preset, or None (the preset).
    Returns:
        (policy, rows): the trained policy and one row per gradient step once an episode has
        finished: step (env steps simulated so far), time_s, episodes, return_mean (mean return of
        the last 100 episodes, on the true dynamics) and grad_norm (before clipping).
    """
    positive_int("pathwise.train", "total_steps", total_steps)
    agent = SHAC(env, config, seed)
    rows = [row for row in agent.learn_iter(total_steps) if row["episodes"] > 0]
    return agent.policy, rows


class Window(NamedTuple):
    """One simulated window as plain arrays, kept for the critic (T steps, B rollouts)."""

    obs: np.ndarray               # (T + 1, B, O) observations of s_0 .. s_T
    rewards: np.ndarray           # (T, B)
    masks: np.ndarray             # (T + 1, B) 1 while the rollout runs at s_t

    @classmethod
    def of(cls, twin, states, rewards, masks) -> "Window":
        with no_grad():
            obs = np.stack([twin.observe(s.detach()).data for s in states])
        return cls(obs, np.asarray(rewards, dtype=np.float64), np.asarray(masks, dtype=np.float64))


def critic_data(critic, windows, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The critic's regression data: (observations (N, O), TD(lambda) targets (N,)) of every live state
    of `windows`, the targets recomputed with the current critic (`lambda_returns`, SHAC Eq. 7).

    Windows of the same length T are batched side by side (their rollouts are independent columns),
    so the targets equal those of `lambda_returns` on each window alone.
    """
    by_length: dict[int, list[Window]] = {}
    for w in windows:
        by_length.setdefault(w.rewards.shape[0], []).append(w)
    xs, ys = [], []
    for T, group in by_length.items():
        obs = np.concatenate([w.obs for w in group], axis=1)                 # (T + 1, K B, O)
        rewards = np.concatenate([w.rewards for w in group], axis=1)         # (T, K B)
        masks = np.concatenate([w.masks for w in group], axis=1)             # (T + 1, K B)
        with no_grad():                                                      # one call per time step
            values = np.stack([critic(Tensor(o)).data for o in obs])         # (T + 1, K B)
        targets = lambda_returns(rewards, values, masks, gamma, lam)         # (T, K B)
        keep = masks[:-1].reshape(-1) > 0                                    # states still running
        xs.append(obs[:-1].reshape(-1, obs.shape[-1])[keep])
        ys.append(targets.reshape(-1)[keep])
    return np.concatenate(xs), np.concatenate(ys)


def _fit_critic(critic, opt, windows, config, rng) -> None:
    """Regress V on the TD(lambda) targets of the kept windows (a few minibatch Adam steps)."""
    x, y = critic_data(critic, windows, config.gamma, config.lam)
    if len(y) == 0:
        return
    for _ in range(config.critic_iters):
        idx = rng.integers(0, len(y), size=min(config.critic_minibatch, len(y)))
        opt.zero_grad()
        loss = ((critic(Tensor(x[idx])) - Tensor(y[idx])) ** 2).mean()
        loss.backward()
        clip_grad_norm_(critic.parameters(), config.max_grad_norm)
        opt.step()
