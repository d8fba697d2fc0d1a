"""PPO for S seeds side by side: `minirl.algos.ppo` with a leading seed axis on every array.

    learner = StackedPPO([PPO("CartPole-v1", seed=s) for s in range(16)])
    for rows in learner.learn_iter(150_000):       # one update of all 16 seeds: rows[s] is seed s's row
        ...

The loop is PPO's (read `minirl.algos.ppo` first), each line run once for all seeds:

| single seed | shape | stacked | shape |
|---|---|---|---|
| observations of the N envs | (N, obs_dim) | every seed's N envs, one vector env of S N | (S, N, obs_dim) |
| `policy.sample_with_log_prob(o, rng)` | (N,) | the stacked policy, `SeedStreams` of the seeds' rngs | (S, N) |
| rollout buffers | (T, N) | | (T, S, N) |
| `gae(...)` | (T, N) | the same recursion over S N columns | (T, S, N) |
| minibatch indices `rng.permutation(B)[...]` | (MB,) | one permutation per seed | (S, MB) |
| `ppo_loss(...)` | () | means over the last axis: one loss per seed | (S,) |
| `loss.backward()`, clip, `Adam.step()` | | `loss.sum().backward()`, `clip_grad_norm_per_seed_`, the same Adam on (S, ...) parameters | |

Each seed computes exactly the numbers of its single-seed run (tests/test_ppo_stacked.py checks
rows and checkpoints bit for bit): the same draws from its own generator, matrix products of the
same shapes (the critic's pass over a rollout has one row per truncated episode more or less per
seed, so it runs seed by seed, `minirl.stacking.seed_view`), reductions over its own rows.

What it buys: the Python and NumPy overhead of a step is paid once for S seeds, and the
environments of all seeds step in one call where the task has a batch engine (`minirl.batch_envs`).
`benchmarks/bench_stacked_ppo.py` measures it on CartPole. Not stacked: `target_kl` (its early stop
would give each seed a different number of epochs; `stackable` says so).
"""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from ..autograd import Tensor, no_grad
from ..normalize import ObsNormalizer, RewardScaler
from ..optim import Adam, clip_grad_norm_per_seed_, nonfinite_norm_error
from ..returns import gae
from ..rollout import VecEnv
from ..stacking import seed_view, stack_modules
from .ppo import PPO
from .ppo_loss import explained_variance, ppo_loss
from .stacked import StackedLearner

__all__ = ["StackedPPO", "stackable"]


def stackable(config, env_id: str | None = None) -> str | None:
    """None if PPO runs with this config can be stacked, else why not (one phrase)."""
    if config.target_kl is not None:
        return "target_kl stops each seed's epochs at a different point"
    return None


def _per_seed(x: np.ndarray) -> np.ndarray:
    """(T, S, N, ...) -> (S, T N, ...): each seed's batch, rows in its single run's order t N + n."""
    return np.moveaxis(x, 1, 0).reshape((x.shape[1], x.shape[0] * x.shape[2]) + x.shape[3:])


def _take(x: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """x[s, idx[s]] for every seed: (S, B, ...) indexed by (S, MB) -> (S, MB, ...)."""
    return x[np.arange(len(idx))[:, None], idx]


class StackedPPO(StackedLearner):
    """S `PPO` members trained side by side (module doc)."""

    def __init__(self, members: list[PPO]):
        super().__init__(members)
        c, S, first = self.config, self.S, members[0]
        why = stackable(c)
        if why is not None:
            raise ValueError(f"PPO runs with these settings cannot be stacked: {why}")
        self._build()
        self.venv = VecEnv(first.env_source, S * c.num_envs)               # every seed's N envs, in seed order
        self._obs = None                                                    # (S, N, obs_dim)

    def _build(self) -> None:
        """The stacked networks, optimiser and normalisers, holding the members' states."""
        c, S, members = self.config, self.S, self.members
        self.policy = stack_modules([m.policy for m in members])          # parameters (S, ...)
        self.value = stack_modules([m.value for m in members])
        self.value_params = self.value.parameters()
        self.params = self.policy.parameters() + self.value_params
        self.optimizer = Adam(self.params, lr=c.learning_rate, eps=c.adam_eps)
        self.obs_norm = (ObsNormalizer(members[0].venv.obs_dim, clip=c.obs_clip, population=S)
                         if c.normalize_obs else None)
        self.reward_scaler = (RewardScaler(c.num_envs, c.gamma, clip=c.reward_clip, population=S)
                              if c.normalize_reward else None)
        self._pull()

    def _select(self, index):
        N = self.config.num_envs
        self._build()                       # (the reward scaler's running returns are in the members' state)
        self.venv.keep([s * N + i for s in index for i in range(N)])
        if self._obs is not None:
            self._obs = self._obs[index]

    def _components(self):
        parts = [(self.policy, lambda m: m.policy), (self.value, lambda m: m.value),
                 (self.optimizer, lambda m: m.optimizer)]
        if self.obs_norm is not None:
            parts.append((self.obs_norm, lambda m: m.obs_norm))
        if self.reward_scaler is not None:
            parts.append((self.reward_scaler, lambda m: m.reward_scaler))
        return parts

    def _normalize(self, obs: np.ndarray, update: bool = False, seeds=None) -> np.ndarray:
        """obs (S, N, obs_dim); or rows (k, obs_dim) of the seeds `seeds` (k,), with their own statistics."""
        if self.obs_norm is None:
            return obs
        if seeds is None:
            return self.obs_norm(obs, update=update)
        rms, n = self.obs_norm.rms, self.obs_norm
        mean, var = rms.mean[seeds, 0], rms.var[seeds, 0]                  # (k, obs_dim)
        return np.clip((obs - mean) / np.sqrt(var + n.eps), -n.clip, n.clip)

    def _reset_envs(self) -> np.ndarray:
        if self.reward_scaler is not None:
            self.reward_scaler.ret[:] = 0.0
        N = self.config.num_envs
        seeds = [m.seed + 1_000_003 * m.updates + i for m in self.members for i in range(N)]   # as each PPO resets
        return self.venv.reset(seed=seeds).reshape(self.S, N, -1)

    # ------------------------------------------------------------------ one rollout of every seed
    def _collect(self):
        c, venv, S, T, N = self.config, self.venv, self.S, self.config.num_steps, self.config.num_envs
        obs_buf = np.zeros((T, S, N, venv.obs_dim), dtype=self.policy.dtype)
        act_buf = np.zeros((T, S, N), dtype=np.int64) if venv.discrete else np.zeros((T, S, N, venv.act_dim))
        logp_buf, rew_buf = np.zeros((T, S, N)), np.zeros((T, S, N))
        term_buf, trunc_buf = np.zeros((T, S, N), dtype=bool), np.zeros((T, S, N), dtype=bool)
        cuts = []                                   # (t, flat env indices s N + n, normalised final observations)
        obs = self._obs
        for t in range(T):
            o = self._normalize(obs, update=True)                                          # (S, N, obs_dim)
            action, logp_buf[t] = self.policy.sample_with_log_prob(o, self.streams)       # (S, N) or (S, N, act_dim)
            sent = venv.clip_action(action) if c.clip_actions else action
            step = venv.step(sent.reshape((S * N,) + sent.shape[2:]))
            obs_buf[t], act_buf[t] = o, action
            reward = step.reward.reshape(S, N)
            if self.reward_scaler is not None:
                reward = self.reward_scaler(reward, (step.terminated | step.truncated).reshape(S, N))
            rew_buf[t], term_buf[t], trunc_buf[t] = reward, step.terminated.reshape(S, N), step.truncated.reshape(S, N)
            if step.finished:
                cut = np.flatnonzero(step.truncated & ~step.terminated)            # bootstrap from V(final obs)
                if len(cut):
                    cuts.append((t, cut, self._normalize(step.next_obs[cut], seeds=cut // N)))
                for i, ep_return, _ in step.finished:
                    self.members[i // N]._record_episode(ep_return)
            obs = step.obs.reshape(S, N, -1)
        self._obs = obs

        # ---- the critic, seed by seed (each with its single run's rows: V(s_t), V(s_T), its cuts' V(final))
        last = self._normalize(obs)                                                        # (S, N, obs_dim)
        val_buf, next_val_buf = np.zeros((T, S, N)), np.zeros((T, S, N))
        for s in range(S):
            finals = [f[idx // N == s] for _, idx, f in cuts]
            rows = np.concatenate([obs_buf[:, s].reshape(T * N, -1), last[s], *finals])
            with no_grad(), seed_view(self.value, s, self.value_params):
                v = self.value(rows[None]).data[0]                                          # (T N + N + cuts,)
            val_buf[:, s] = v[:T * N].reshape(T, N)
            next_val_buf[:, s] = np.concatenate([val_buf[1:, s], v[T * N:T * N + N][None]], axis=0)
            k = T * N + N
            for (t, idx, _), f in zip(cuts, finals):
                mine = idx[idx // N == s] % N
                next_val_buf[t, s, mine] = v[k:k + len(mine)]
                k += len(mine)
        return obs_buf, act_buf, logp_buf, rew_buf, val_buf, next_val_buf, term_buf, trunc_buf

    # ------------------------------------------------------------------ training loop
    def _check_losses(self, loss: Tensor, info: dict) -> None:
        """A seed whose loss is not finite is dead, with the error its single run raises."""
        for s in np.flatnonzero(~np.isfinite(loss.data)):
            try:
                self.members[s]._check_finite(Tensor(loss.data[s]), "loss", {k: v[s] for k, v in info.items()})
            except FloatingPointError as exc:
                self._fail(int(s), exc)

    def learn_iter(self, total_steps: int) -> Iterator[list]:
        c = self.config
        B, MB = c.batch_size, c.minibatch_size
        if self._obs is None:
            self._obs = self._reset_envs()
        while self.members[0].global_step < total_steps:
            t0 = time.perf_counter()
            S, members = self.S, self.members                   # (`keep` may drop seeds between updates)
            # ---- learning-rate annealing (the same step count for every seed)
            lr = c.learning_rate * (1.0 - members[0].global_step / total_steps) if c.anneal_lr else c.learning_rate
            self.optimizer.lr = lr

            # ---- 1. rollout: S seeds x N envs x T steps
            obs, actions, logp_old, rewards, values, next_values, term, trunc = self._collect()
            t_rollout = time.perf_counter() - t0

            # ---- 2. GAE over S N columns, then each seed's batch in its single run's order (t, n)
            T, N = rewards.shape[0], c.num_envs
            adv, returns = (x.reshape(T, S, N) for x in gae(
                *(x.reshape(T, S * N) for x in (rewards, values, next_values, term, trunc)), c.gamma, c.gae_lambda))
            b_obs, b_act, b_logp, b_val, b_adv, b_ret = (
                _per_seed(x) for x in (obs, actions, logp_old, values, adv, returns))        # (S, B, ...)

            # ---- 3. K epochs of shuffled minibatch updates, all seeds at once
            stats = []
            for epoch in range(c.update_epochs):
                perm = self.streams.permutation(B)                                          # (S, B)
                for start in range(0, B, MB):
                    mb = perm[:, start:start + MB]                                          # (S, MB)
                    mb_obs = _take(b_obs, mb)                                               # (S, MB, obs_dim)
                    dist = self.policy.dist(mb_obs)
                    if c.ent_coef > 0:
                        entropy = dist.entropy()                                            # (S, MB)
                    else:
                        with no_grad():
                            entropy = dist.entropy()
                    loss, info = ppo_loss(
                        dist.log_prob(_take(b_act, mb)), entropy, self.value(mb_obs),
                        logp_old=_take(b_logp, mb), advantages=_take(b_adv, mb), v_old=_take(b_val, mb),
                        returns=_take(b_ret, mb), clip_coef=c.clip_coef, vf_coef=c.vf_coef, ent_coef=c.ent_coef,
                        clip_vloss=c.clip_vloss, norm_adv=c.norm_adv)                        # loss (S,)
                    self._check_losses(loss, info)
                    with self._quiet():
                        self.optimizer.zero_grad()
                        loss.sum().backward()              # each seed's parameters get its own loss's gradient
                        if c.max_grad_norm is not None:
                            info["grad_norm"] = norms = clip_grad_norm_per_seed_(self.params, c.max_grad_norm)
                            for s in np.flatnonzero(~np.isfinite(norms)):
                                self._fail(int(s), nonfinite_norm_error(float(norms[s])))
                        self.optimizer.step()
                    self._restore_dead()
                    stats.append(info)

            # ---- 4. each seed's row; its member takes its slice and counters
            elapsed = time.perf_counter() - t0
            self._push()
            rows = []
            for s, m in enumerate(members):
                m.global_step += B
                m.updates += 1
                m.train_time += elapsed / S                                 # the seed's share of the update
                row = {"step": m.global_step, "time_s": m.train_time, "episodes": m.episodes,
                       "return_mean": m._return_mean()}
                row.update({k: float(np.mean([float(st[k][s]) for st in stats])) for k in stats[0]})
                row.update({"explained_variance": explained_variance(b_val[s], b_ret[s]), "learning_rate": lr,
                            "epochs_done": c.update_epochs, "updates": m.updates, "rollout_s": t_rollout / S,
                            "update_s": (elapsed - t_rollout) / S,
                            "steps_per_s": m.global_step / max(m.train_time, 1e-9)})
                rows.append(row)
            yield self._entries(rows)
