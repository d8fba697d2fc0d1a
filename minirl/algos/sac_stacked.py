"""SAC for S seeds side by side: `minirl.algos.sac` with a leading seed axis.

    learner = StackedSAC([SAC("Pendulum-v1", seed=s) for s in range(3)])
    for rows in learner.learn_iter(5_000): ...      # rows[s]: seed s's row (every log_every env steps)

The loop is SAC's (read `minirl.algos.sac` first), each line once for all seeds, each seed's numbers
exactly those of its single-seed run (tests/test_sac_stacked.py):

| single seed | shape | stacked | shape |
|---|---|---|---|
| actions of the N envs | (N, D) | every seed's N envs, one vector env of S N | (S, N, D) |
| a minibatch from the replay buffer | (B, .) | each seed's own buffer and generator, stacked | (S, B, .) |
| critics Q_j (`QEnsemble`) | (E, B) | weights (S, E, n_in, n_out) | (S, E, B) |
| target y, log pi, alpha | (B,), (B,), float | | (S, B), (S, B), (S, 1) |
| log alpha | () | | (S,) |
| the three losses | () | the last axes averaged: one loss per seed | (S,) |

Every seed updates at the same env steps (the seeds move in lock step), so one update serves all.
"""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from ..autograd import Tensor, concatenate, no_grad
from ..distributions import Normal
from ..nn import frozen
from ..optim import Adam, clip_grad_norm_per_seed_, nonfinite_norm_error
from ..rollout import VecEnv
from ..stacking import stack_modules
from .sac import SAC
from .sac_loss import actor_loss, critic_loss, soft_bellman_target, squashed_log_prob, temperature_loss
from .stacked import StackedLearner

__all__ = ["StackedSAC", "stackable"]


def stackable(config, env_id: str | None = None) -> str | None:
    """None: every SAC config can be stacked."""
    return None


class StackedSAC(StackedLearner):
    """S `SAC` members trained side by side (module doc)."""

    def __init__(self, members: list[SAC]):
        super().__init__(members)
        first = members[0]
        self.scale, self.centre, self._log_scale = first.scale, first.centre, first._log_scale
        self.target_entropy, self.dtype = first.target_entropy, first.dtype
        self._build()
        self.venv = VecEnv(first.env_source, self.S * self.config.num_envs)
        self._obs = None                                                   # (S, N, obs_dim)

    def _build(self) -> None:
        c, members = self.config, self.members
        self.actor = stack_modules([m.actor for m in members])
        self.critic = stack_modules([m.critic for m in members])
        self.critic_target = stack_modules([m.critic_target for m in members])
        self.temperature = stack_modules([m.temperature for m in members])
        log_alpha = self.temperature.log_alpha
        log_alpha.data = log_alpha.data.reshape(self.S)                    # (S,): one temperature per seed
        self.critic_params = self.critic.parameters()
        self.actor_opt = Adam(self.actor.parameters(), lr=c.learning_rate, eps=c.adam_eps)
        self.critic_opt = Adam(self.critic_params, lr=c.critic_lr or c.learning_rate, eps=c.adam_eps)
        self.alpha_opt = Adam(self.temperature.parameters(), lr=c.alpha_lr or c.learning_rate, eps=c.adam_eps)
        self._pull()

    def _components(self):
        return [(self.actor, lambda m: m.actor), (self.critic, lambda m: m.critic),
                (self.critic_target, lambda m: m.critic_target), (self.temperature, lambda m: m.temperature),
                (self.actor_opt, lambda m: m.actor_opt), (self.critic_opt, lambda m: m.critic_opt),
                (self.alpha_opt, lambda m: m.alpha_opt)]

    def _select(self, index):
        N = self.config.num_envs
        self._build()
        self.venv.keep([s * N + i for s in index for i in range(N)])
        if self._obs is not None:
            self._obs = self._obs[index]

    @property
    def alpha(self) -> np.ndarray:
        """(S, 1): each seed's temperature, in float64 as a single run's Python float `SAC.alpha`."""
        return np.exp(self.temperature.log_alpha.data)[:, None]

    def _to_env(self, unit: np.ndarray) -> np.ndarray:
        return self.venv.clip_action(self.centre + self.scale * unit)     # (S, N, D)

    def _reset_envs(self) -> np.ndarray:
        N = self.config.num_envs
        seeds = [(m.seed if m.global_step == 0 else m.seed + 1_000_003 + m.global_step) + i
                 for m in self.members for i in range(N)]                  # as each SAC resets
        return self.venv.reset(seed=seeds).reshape(self.S, N, -1)

    def _squashed_sample(self, obs: np.ndarray):
        with no_grad():
            mu, log_std = self.actor.forward_array(obs)                                 # (S, B, D)
            d = Normal(mu, log_std)
            u = d.rsample(self.streams)
            logp = squashed_log_prob(d.log_prob(u), u, self._log_scale).data            # (S, B)
        return np.tanh(u.data), logp

    def _check(self, loss: Tensor, what: str) -> None:
        for s in np.flatnonzero(~np.isfinite(loss.data)):
            try:
                self.members[s]._check_finite(Tensor(loss.data[s]), what)
            except FloatingPointError as exc:
                self._fail(int(s), exc)

    def _clip(self, params) -> None:
        if self.config.max_grad_norm is not None:
            norms = clip_grad_norm_per_seed_(params, self.config.max_grad_norm)
            for s in np.flatnonzero(~np.isfinite(norms)):
                self._fail(int(s), nonfinite_norm_error(float(norms[s])))

    # ------------------------------------------------------------------ one gradient step, all seeds
    def _update(self) -> list[dict]:
        c, members, S = self.config, self.members, self.S
        batches = [m.buffer.sample(c.batch_size, m.rng) for m in members]
        obs, act, rew, next_obs, term = (np.stack(x) for x in zip(*batches))             # (S, B, ...)
        alpha = self.alpha
        info = [{} for _ in range(S)]
        # ---- 1. soft Bellman target, no graph
        unit2, logp2 = self._squashed_sample(next_obs)
        with no_grad():
            q_next = self.critic_target.forward_array(np.concatenate([next_obs, unit2], axis=-1))   # (S, E, B)
            y = soft_bellman_target(rew, term, q_next, logp2, c.gamma, alpha)           # (S, B)
        # ---- 2. critic step
        q = self.critic(np.concatenate([obs, act], axis=-1))                            # (S, E, B)
        lq = critic_loss(q, y[:, None, :])                                              # (S,)
        self._check(lq, "critic loss")
        with self._quiet():
            self.critic_opt.zero_grad()
            lq.sum().backward()
            self._clip(self.critic_params)
            self.critic_opt.step()
        self._restore_dead()
        for s in range(S):
            info[s].update(q_loss=float(lq.data[s]), q_mean=float(q.data[s].mean()), target_mean=float(y[s].mean()))
        for m in members:
            m.updates += 1
        updates = members[0].updates
        # ---- 3. actor and temperature steps
        if updates % c.policy_delay == 0:
            mu, log_std = self.actor(obs)
            d = Normal(mu, log_std)
            u = d.rsample(self.streams)
            logp = squashed_log_prob(d.log_prob(u), u, self._log_scale)                 # (S, B)
            with frozen(self.critic):
                q_pi = self.critic(concatenate([Tensor(obs), u.tanh()], axis=-1))       # (S, E, B)
            # a single run's Python float alpha meets the float32 Tensor as a float32 (Tensor._lift)
            la = actor_loss(logp, q_pi, alpha.astype(logp.dtype))                       # (S,)
            self._check(la, "actor loss")
            with self._quiet():
                self.actor_opt.zero_grad()
                la.sum().backward()
                self._clip(self.actor_opt.params)
                self.actor_opt.step()
            self._restore_dead()
            for s in range(S):
                info[s].update(actor_loss=float(la.data[s]), entropy=-float(logp.data[s].mean()))
            if c.autotune:
                lt = temperature_loss(self.temperature.log_alpha, logp.data, self.target_entropy)   # (S,)
                with self._quiet():
                    self.alpha_opt.zero_grad()
                    lt.sum().backward()
                    self.alpha_opt.step()
                self._restore_dead()
                for s in range(S):
                    info[s]["alpha_loss"] = float(lt.data[s])
        # ---- 4. Polyak averaging of the target critics
        if updates % c.target_update_interval == 0:
            for target, online in zip(self.critic_target.parameters(), self.critic_params):
                target.data *= 1.0 - c.tau
                target.data += c.tau * online.data
            self._restore_dead()
        return info

    # ------------------------------------------------------------------ training loop
    def learn_iter(self, total_steps: int) -> Iterator[list]:
        c, N = self.config, self.config.num_envs
        if self._obs is None:
            self._obs = self._reset_envs()
        stats: list[list[dict]] = []
        t_row, t_update = time.perf_counter(), 0.0
        while self.members[0].global_step < total_steps:
            S, members = self.S, self.members
            obs = self._obs
            # ---- 1. act
            if members[0].global_step < c.learning_starts:
                unit = self.streams.uniform(-1.0, 1.0, (S, N, self.venv.act_dim))
            else:
                mu, log_std = self.actor.forward_array(obs)
                unit = np.tanh(mu + np.exp(log_std) * self.streams.standard_normal(mu.shape).astype(self.dtype))
            step = self.venv.step(self._to_env(unit).reshape(S * N, -1))
            next_obs = step.next_obs.reshape(S, N, -1)
            reward, terminated = step.reward.reshape(S, N), step.terminated.reshape(S, N)
            for s, m in enumerate(members):
                m.buffer.add(obs[s], unit[s], reward[s], next_obs[s], terminated[s])
            for i, ep_return, _ in step.finished:
                members[i // N]._record_episode(ep_return)
            self._obs = step.obs.reshape(S, N, -1)
            previous = members[0].global_step
            for m in members:
                m.global_step += N
            step_count = members[0].global_step
            # ---- 2. learn
            if step_count >= c.learning_starts and (step_count // N) % c.train_freq == 0:
                t0 = time.perf_counter()
                for _ in range(c.gradient_steps):
                    stats.append(self._update())
                t_update += time.perf_counter() - t0
            # ---- 3. a row per seed each time the step count passes a multiple of log_every, and at the end
            if step_count // c.log_every > previous // c.log_every or step_count >= total_steps:
                elapsed = time.perf_counter() - t_row
                self._push()
                rows = []
                for s, m in enumerate(members):
                    m.train_time += elapsed / S
                    rows.append(m._row([st[s] for st in stats], elapsed / S, t_update / S))
                yield self._entries(rows)
                stats, t_row, t_update = [], time.perf_counter(), 0.0
