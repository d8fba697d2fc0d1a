"""SHAC for S seeds side by side: `minirl.algos.pathwise` with a leading seed axis.

    learner = StackedSHAC([SHAC("minirl/Pendulum-v1", seed=s) for s in range(3)])
    for rows in learner.learn_iter(25_000): ...       # rows[s]: seed s's row of this window

Each iteration is one window of SHAC (read `minirl.algos.pathwise` first), simulated and
differentiated once for all seeds, each seed's numbers exactly those of its single-seed run
(tests/test_pathwise_stacked.py):

| part | single seed, B rollouts | stacked, S seeds |
|---|---|---|
| start states | `twin.reset(rng, B)` (B, D) | each seed's own draw, rows s B .. s B + B - 1 of (S B, D) |
| one simulated step | policy on (B, O), twin on (B, D) | policy on (S, B, O) (stacked weights); the twin on all S B rows at once (its maths is row by row) |
| actor loss | `window_loss`: a scalar | `stacked_window_loss`: (S,), one per seed; `.sum()` is backpropagated, so seed s's weights get its own gradient |
| clip, Adam | `clip_grad_norm_`, `Adam` | `clip_grad_norm_per_seed_`, the stacked `Adam` |
| critic | regressed on its kept windows | the same, each seed's windows and minibatches, (S, M, O) |

SHAC's per-step cost is the interpreter walking ~36 graph nodes per simulated step (its Pendulum
preset simulates one rollout, B = 1): stacked, that walk is paid once for S seeds.

A member leaves the stack as a resumed run restarts (`SHAC.load_state_dict`): at a fresh episode
with an empty replay of windows; it enters the same way. The seeds move in lock step: every seed
simulates a window of the same length. A twin whose
rollouts can end early (CliffCart: over the edge) would end each seed's episodes at a different
step, so it is not stacked (`stackable`); every seed's rollouts run to the episode's end on Pendulum
and the pendulum row.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Iterator, NamedTuple

import numpy as np

from ..autograd import Tensor, no_grad, stack
from ..optim import Adam, clip_grad_norm_per_seed_
from ..stacking import stack_modules
from .pathwise import SHAC, _act, lambda_returns
from .stacked import StackedLearner

__all__ = ["StackedSHAC", "stackable", "stacked_window_loss"]


def stackable(config, env_id: str | None = None) -> str | None:
    """None if SHAC runs with this config (on `env_id`, if given) can be stacked, else why not."""
    if env_id is not None:
        from ..envs import TWINS, make_twin
        if env_id in TWINS and make_twin(env_id).may_terminate:
            return "the twin's rollouts can end early, at a different step for each seed"
    return None


def stacked_window_loss(rewards: Tensor, alive: np.ndarray, gamma: float, bootstrap: Tensor | None = None) -> Tensor:
    """`pathwise.window_loss` of S seeds at once: rewards (T, S, B), alive (T, S, B), bootstrap (S, B)
    -> loss (S,), seed s's entry the single-seed loss of its slices:

        loss_s = -1/(B T) sum_b [ sum_{t<T} gamma^t alive_{t,s,b} r_{t,s,b} + gamma^T bootstrap_{s,b} ]
    """
    T, S, B = rewards.shape
    discounts = gamma ** np.arange(T, dtype=np.float64)[:, None, None]          # (T, 1, 1)
    weighted = rewards * (discounts * np.asarray(alive, dtype=np.float64))      # (T, S, B)
    # the sum over t seed by seed: a single run sums its (T, B) block, which NumPy adds pairwise when
    # B = 1 and row by row otherwise; one seed's (T, B) slice is summed the same way, (T, S, B) is not
    total = stack([weighted[:, s].sum(axis=0) for s in range(S)])               # (S, B)
    if bootstrap is not None:
        total = total + (gamma ** T) * bootstrap
    return -total.sum(axis=-1) * (1.0 / (B * T))                                 # (S,)


def _same_twin(a, b) -> bool:
    """Two twins of one class with equal parameters (numbers, strings, arrays, tuples of arrays)."""
    def same(x, y):
        if isinstance(x, tuple) or isinstance(y, tuple):
            return isinstance(x, tuple) and isinstance(y, tuple) and len(x) == len(y) and all(map(same, x, y))
        return np.array_equal(np.asarray(x), np.asarray(y))
    return (type(a) is type(b) and vars(a).keys() == vars(b).keys()
            and all(same(value, vars(b)[key]) for key, value in vars(a).items()))


class _Windows(NamedTuple):
    """One simulated window of every seed, as plain arrays (the critic's replay)."""

    obs: np.ndarray               # (T + 1, S, B, O)
    rewards: np.ndarray           # (T, S, B)
    masks: np.ndarray             # (T + 1, S, B)

    def select(self, index: list[int]) -> "_Windows":
        return _Windows(self.obs[:, index], self.rewards[:, index], self.masks[:, index])


class StackedSHAC(StackedLearner):
    """S `SHAC` members trained side by side (module doc)."""

    def __init__(self, members: list[SHAC]):
        super().__init__(members)
        twin = members[0].twin
        if getattr(twin, "may_terminate", True):
            raise ValueError(f"SHAC runs on {members[0].env_id} cannot be stacked: the twin's rollouts can end "
                             "early, at a different step for each seed")
        if any(not _same_twin(m.twin, twin) for m in members[1:]):
            raise ValueError("stacked SHAC members must simulate the same twin (its class and every parameter)")
        if any(m._episode is not None or m.windows for m in members):
            raise ValueError("stacked SHAC members must be at the start of an episode with an empty replay of "
                             "windows (fresh, or resumed from a checkpoint)")
        self.twin, self.use_critic = twin, members[0].use_critic
        self.horizon = members[0].horizon
        self._episode = None                  # (state (S B, D), alive (S, B), returns (S, B), t)
        self.windows: deque = deque(maxlen=self.config.critic_windows)
        self._build()

    def _build(self) -> None:
        c, members = self.config, self.members
        self.policy = stack_modules([m.policy for m in members])
        self.actor_opt = Adam(self.policy.parameters(), lr=c.lr)
        self.policy_params = self.policy.parameters()
        if self.use_critic:
            self.critic = stack_modules([m.critic for m in members])
            self.critic_opt = Adam(self.critic.parameters(), lr=c.critic_lr)
            self.critic_params = self.critic.parameters()
        self._pull()

    def _components(self):
        parts = [(self.policy, lambda m: m.policy), (self.actor_opt, lambda m: m.actor_opt)]
        if self.use_critic:
            parts += [(self.critic, lambda m: m.critic), (self.critic_opt, lambda m: m.critic_opt)]
        return parts

    def _select(self, index):
        B = self.config.num_envs
        self._build()
        if self._episode is not None:
            state, alive, returns, t = self._episode
            rows = [s * B + b for s in index for b in range(B)]
            self._episode = (state[rows], alive[index], returns[index], t)
        self.windows = deque((w.select(index) for w in self.windows), maxlen=self.config.critic_windows)

    # ------------------------------------------------------------------ one window of every seed
    def _start_states(self) -> np.ndarray:
        """Each member's `SHAC._start_states`, drawn from its own generator: (S B, D)."""
        return np.concatenate([m._start_states(self.config.num_envs).data for m in self.members])

    def _rollout(self, state: np.ndarray, alive: np.ndarray, steps: int):
        """`pathwise.rollout_window` for S seeds: rewards (T, S, B) Tensor, masks (T + 1, S, B), states
        (T + 1 Tensors (S B, D)). The twin sees the S B rows as one batch."""
        twin, S, B = self.twin, self.S, self.config.num_envs
        state = Tensor(state)
        rewards, states, masks = [], [state], [alive]
        for _ in range(steps):
            obs = self._observe(state)                                                    # (S, B, O)
            action = _act(self.policy, obs, twin, self.config, self.streams)              # (S, B, A)
            state, reward = twin.step(state, action.reshape(S * B, twin.act_dim))         # (S B, D), (S B,)
            rewards.append(reward.reshape(S, B))
            masks.append(masks[-1] * ~twin.terminated(state).reshape(S, B))
            states.append(state)
        return stack(rewards, axis=0), np.stack(masks), states

    def _observe(self, state: Tensor) -> Tensor:
        """The twin's observation of the S B rows, one batch per seed: (S, B, O)."""
        return self.twin.observe(state).reshape(self.S, self.config.num_envs, self.twin.obs_dim)

    def _critic_data(self) -> tuple[np.ndarray, np.ndarray]:
        """`pathwise.critic_data` of every seed: (S, N, O) observations, (S, N) TD(lambda) targets, each
        seed's rows in its single run's order (the critic evaluated on each seed's (K B, O) rows per step)."""
        c, S = self.config, self.S
        by_length: dict[int, list[_Windows]] = {}
        for w in self.windows:
            by_length.setdefault(w.rewards.shape[0], []).append(w)
        xs, ys = [], []
        for T, group in by_length.items():
            obs = np.concatenate([w.obs for w in group], axis=2)                         # (T + 1, S, K B, O)
            rewards = np.concatenate([w.rewards for w in group], axis=2)                 # (T, S, K B)
            masks = np.concatenate([w.masks for w in group], axis=2)                     # (T + 1, S, K B)
            with no_grad():
                values = np.stack([self.critic(o).data for o in obs])                    # (T + 1, S, K B)
            KB = rewards.shape[2]
            targets = lambda_returns(rewards.reshape(T, S * KB), values.reshape(T + 1, S * KB),
                                     masks.reshape(T + 1, S * KB), c.gamma, c.lam).reshape(T, S, KB)
            if not masks[:-1].all():
                raise AssertionError("stacked SHAC: a rollout ended early on a twin that never ends early")
            xs.append(np.swapaxes(obs[:-1], 0, 1).reshape(S, T * KB, -1))              # seed s: rows (t, k b)
            ys.append(np.swapaxes(targets, 0, 1).reshape(S, T * KB))
        return np.concatenate(xs, axis=1), np.concatenate(ys, axis=1)

    def _fit_critic(self) -> None:
        """`pathwise._fit_critic` for every seed: each seed's minibatches from its own generator."""
        c = self.config
        x, y = self._critic_data()
        N = y.shape[1]
        if N == 0:
            return
        rows = np.arange(self.S)[:, None]
        for _ in range(c.critic_iters):
            idx = self.streams.integers(0, N, size=(self.S, min(c.critic_minibatch, N)))    # (S, M)
            self.critic_opt.zero_grad()
            loss = ((self.critic(Tensor(x[rows, idx])) - Tensor(y[rows, idx])) ** 2).mean(axis=-1)   # (S,)
            with self._quiet():
                loss.sum().backward()
                clip_grad_norm_per_seed_(self.critic_params, c.max_grad_norm)
                self.critic_opt.step()
            self._restore_dead()

    # ------------------------------------------------------------------ the loop
    def learn_iter(self, total_steps: int) -> Iterator[list]:
        c, B = self.config, self.config.num_envs
        while self.members[0].global_step < total_steps:
            t0 = time.perf_counter()
            S, members = self.S, self.members
            if self._episode is None:
                self._episode = (self._start_states(), np.ones((S, B)), np.zeros((S, B)), 0)
            state, alive, returns, t = self._episode
            T = min(c.window, self.horizon - t)
            rewards, masks, states = self._rollout(state, alive, T)
            bootstrap = self.critic(self._observe(states[-1])) * masks[-1] if self.use_critic else None
            loss = stacked_window_loss(rewards, masks[:-1], c.gamma, bootstrap)               # (S,)
            with self._quiet():
                self.actor_opt.zero_grad()
                if self.use_critic:
                    self.critic_opt.zero_grad()
                loss.sum().backward()
                norms = clip_grad_norm_per_seed_(self.policy_params, c.max_grad_norm)
                for s in np.flatnonzero(~np.isfinite(norms)):
                    self._fail(int(s), FloatingPointError(
                        f"pathwise: the policy gradient is {norms[s]} after {members[s].global_step} env steps: "
                        f"backprop through {T} steps overflowed; use a shorter window (config window={c.window})"))
                self.actor_opt.step()
            self._restore_dead()
            if self.use_critic:
                with no_grad():
                    obs = np.stack([self._observe(s.detach()).data for s in states])        # (T + 1, S, B, O)
                self.windows.append(_Windows(obs, np.asarray(rewards.data, dtype=np.float64), masks))
                self._fit_critic()

            paid = rewards.data * masks[:-1]                                                   # (T, S, B)
            returns = returns + np.stack([paid[:, s].sum(axis=0) for s in range(S)])          # (S, B), as stacked_window_loss sums
            steps = masks[:-1].sum(axis=(0, 2))                                                # (S,)
            t += T
            ended = t >= self.horizon or not masks[-1].any()
            self._episode = None if ended else (states[-1].data, masks[-1], returns, t)
            elapsed = time.perf_counter() - t0
            self._push()
            rows = []
            for s, m in enumerate(members):
                m.global_step += int(steps[s])
                if ended:
                    for r in returns[s]:
                        m._record_episode(float(r))
                m.updates += 1
                m.train_time += elapsed / S                                  # the seed's share of the window
                rows.append({"step": m.global_step, "time_s": m.train_time, "episodes": m.episodes,
                             "return_mean": m._return_mean(), "grad_norm": float(norms[s]),
                             "window_loss": float(loss.data[s])})
            yield self._entries(rows)
