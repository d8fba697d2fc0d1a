"""SVG(H) for S seeds side by side: `minirl.algos.model_based` with a leading seed axis.

    learner = StackedSVG([SVG("minirl/Pendulum-v1", seed=s) for s in range(3)])
    for rows in learner.learn_iter(6_000): ...       # rows[s]: seed s's row of this iteration

Each iteration is SVG's (read `minirl.algos.model_based` first), the expensive parts once for all
seeds, each seed's numbers exactly those of its single-seed run (tests/test_model_based_stacked.py):

| part | single seed | stacked |
|---|---|---|
| collect real episodes | one env, `policy.act` per step | each seed's own env and collector; one stacked `act` per step for the seeds still collecting (`_Collector.collecting`) |
| fit the dynamics and reward models | minibatches (B, .) | each seed's own data and normalisers; minibatches (S, B, .) and one loss per seed |
| improve the policy through the models | `imagined_return`, (B, D) start states | the same function on (S, B, D): H steps of the stacked policy and models |
| held-out errors, warnings | | seed by seed, on each member's own models (their sizes differ) |

Improving the policy (H = 30 imagined steps, 40 updates per iteration) is about 90% of SVG's time,
nearly all of it the interpreter walking ~40 graph nodes per imagined step: stacked, that walk is
paid once for S seeds. Not stacked (`stackable`): the preference reward model.
"""

from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from ..nn import frozen
from ..optim import Adam, clip_grad_norm_per_seed_
from ..stacking import SeedStreams, seed_view, stack_modules
from .model_based import SVG
from .model_fitting import finish_dynamics, finish_reward, prepare_dynamics, prepare_reward
from .stacked import StackedLearner
from .world_models import dynamics_loss, imagined_return, reward_regression_loss

__all__ = ["StackedSVG", "stackable"]


def stackable(config, env_id: str | None = None) -> str | None:
    """None if SVG runs with this config can be stacked, else why not (one phrase)."""
    if config.reward_model != "regression":
        return "the preference reward model is not stacked"
    return None


def _stack_normalisers(model, S: int) -> None:
    """A stacked model's normalisers (and output scale) hold one set of statistics per seed."""
    for name in ("in_norm", "delta_norm"):
        norm = getattr(model, name, None)
        if norm is not None:
            norm.mean, norm.std = np.zeros((S, 1, norm.dim)), np.ones((S, 1, norm.dim))
    if hasattr(model, "out_shift"):
        model.out_shift, model.out_scale = np.zeros((S, 1)), np.ones((S, 1))


class StackedSVG(StackedLearner):
    """S `SVG` members trained side by side (module doc)."""

    def __init__(self, members: list[SVG]):
        super().__init__(members)
        why = stackable(self.config)
        if why is not None:
            raise ValueError(f"SVG runs with these settings cannot be stacked: {why}")
        self._build()

    def _build(self) -> None:
        cfg, S = self.config, self.S
        parts = [m.learner for m in self.members]
        self.policy = stack_modules([p.policy for p in parts])
        self.dynamics = stack_modules([p.dynamics for p in parts])
        self.reward = stack_modules([p.reward for p in parts])
        _stack_normalisers(self.dynamics, S)
        _stack_normalisers(self.reward, S)
        self.dyn_opt = Adam(self.dynamics.parameters(), lr=cfg.model_lr)
        self.rew_opt = Adam(self.reward.parameters(), lr=cfg.model_lr)
        self.pol_opt = Adam(self.policy.parameters(), lr=cfg.policy_lr)
        self.policy_params = self.policy.parameters()
        self._pull()

    def _components(self):
        return [(self.policy, lambda m: m.learner.policy), (self.dynamics, lambda m: m.learner.dynamics),
                (self.reward, lambda m: m.learner.reward), (self.dyn_opt, lambda m: m.learner.dyn_opt),
                (self.rew_opt, lambda m: m.learner.rew_opt), (self.pol_opt, lambda m: m.learner.pol_opt)]

    def _select(self, index):
        self._build()

    # ------------------------------------------------------------------ real episodes, all seeds
    def _collect(self, seeds: list[int], random: bool, max_steps: list[int], n_episodes: int,
                 min_steps: int = 0) -> None:
        """Each seed's `SVG._collect`, stepped together: one stacked `act` per step for the seeds
        that wait for an action (each answered from its own generator)."""
        members = [self.members[s] for s in seeds]
        before = [len(m.collector.returns) for m in members]
        runs = {s: m.collector.collecting(random, steps, n_episodes, min_steps)
                for s, m, steps in zip(seeds, members, max_steps)}
        waiting, data = {}, {}
        for s, run in runs.items():
            self._advance(s, run, None, waiting, data)
        while waiting:
            asking = sorted(waiting)
            obs = np.stack([waiting[s] for s in asking])[:, None, :]                      # (k, 1, obs_dim)
            with seed_view(self.policy, asking, self.policy_params):
                u = self.policy.act(obs, SeedStreams([self.members[s].rng for s in asking]))[:, 0]
            for s, u_s in zip(asking, u):
                self._advance(s, runs[s], u_s, waiting, data)
        for s, m, b in zip(seeds, members, before):
            m._absorb(data[s], b)

    @staticmethod
    def _advance(s, run, answer, waiting, data) -> None:
        try:
            waiting[s] = next(run) if answer is None else run.send(answer)
        except StopIteration as end:
            waiting.pop(s, None)
            data[s] = end.value

    # ------------------------------------------------------------------ models, all seeds
    def _fit(self, model, opt, seen, prepare, finish, loss_of, who: str) -> list[dict]:
        """One of `fit_dynamics` / `fit_reward_regression` for every seed: each seed's split and
        normalisers on its member's model, the Adam steps stacked, the held-out error on the member."""
        cfg, members, part = self.config, self.members, self._member_part(model)
        prepared = [prepare(part(m), d) for m, d in zip(members, seen)]
        self._pull(only=[model])                       # the members' fresh normalisers (weights: the same)
        sizes = {min(cfg.model_batch, len(train)) for train, _, _ in prepared}
        losses = np.full(self.S, np.nan)
        if len(sizes) > 1:                             # a seed with fewer transitions than a batch: each alone
            return self._fit_alone(model, opt, seen, who)
        for _ in range(cfg.model_steps):
            idx = [m.rng.integers(0, len(train), size=min(cfg.model_batch, len(train)))
                   for m, (train, _, _) in zip(members, prepared)]
            opt.zero_grad()
            loss = loss_of(model, [(train, target, i) for (train, _, target), i in zip(prepared, idx)])  # (S,)
            loss.sum().backward()
            opt.step()
            losses = loss.data
        self._push()
        return [finish(part(m), float(losses[s]), train, val, cfg.min_transitions)
                for s, (m, (train, val, _)) in enumerate(zip(members, prepared))]

    def _member_part(self, model):
        return (lambda m: m.learner.dynamics) if model is self.dynamics else (lambda m: m.learner.reward)

    def _fit_alone(self, model, opt, seen, who: str) -> list[dict]:
        """The single-seed fit on each member (its own model and optimiser, as pushed), then pulled back."""
        from .model_fitting import fit_dynamics, fit_reward_regression
        cfg = self.config
        self._push()
        fit = fit_dynamics if who == "dynamics" else fit_reward_regression
        infos = []
        for m, d in zip(self.members, seen):
            part = m.learner.dynamics if who == "dynamics" else m.learner.reward
            own = m.learner.dyn_opt if who == "dynamics" else m.learner.rew_opt
            infos.append(fit(part, d, m.rng, steps=cfg.model_steps, batch=cfg.model_batch, optimizer=own,
                             min_transitions=cfg.min_transitions))
        self._pull(only=[model, opt])
        return infos

    @staticmethod
    def _dynamics_loss(model, batches):
        obs = np.stack([train.obs[i] for train, _, i in batches])                       # (S, B, obs_dim)
        act = np.stack([train.act[i] for train, _, i in batches])
        target = np.stack([target[i] for _, target, i in batches])
        return dynamics_loss(model.normalised_delta(obs, act), target)                 # (S,)

    @staticmethod
    def _reward_loss(model, batches):
        obs = np.stack([train.obs[i] for train, _, i in batches])
        act = np.stack([train.act[i] for train, _, i in batches])
        target = np.stack([target[i] for _, target, i in batches])                      # (S, B)
        pred = (model(obs, act) - model.out_shift) * (1.0 / model.out_scale)
        return reward_regression_loss(pred, target)                                     # (S,)

    def _improve(self) -> np.ndarray:
        """`improve_policy` for every seed at once; each seed's last imagined return (S,)."""
        cfg, members = self.config, self.members
        value = np.full(self.S, np.nan)
        with frozen(self.dynamics, self.reward):
            for _ in range(cfg.policy_updates):
                s0 = np.stack([m.data.obs[m.rng.integers(0, len(m.data.obs), size=cfg.policy_batch)]
                               for m in members])                                       # (S, B, obs_dim)
                self.pol_opt.zero_grad()
                J = imagined_return(self.policy, self.dynamics, self.reward, s0, cfg.horizon, self.streams,
                                    gamma=cfg.gamma, action_scale=members[0].learner.action_scale)   # (S,)
                (-J).sum().backward()
                clip_grad_norm_per_seed_(self.policy_params, cfg.max_grad_norm)
                self.pol_opt.step()
                value = J.data
        return value

    # ------------------------------------------------------------------ the loop
    def learn_iter(self, total_steps: int) -> Iterator[list]:
        cfg = self.config
        while True:
            live = [s for s, m in enumerate(self.members) if m.global_step < total_steps]
            if not live:
                return
            if len(live) < self.S:                     # a seed whose budget is spent trains no further
                self.keep([self.members[s] for s in live])
            t0 = time.perf_counter()
            members = self.members
            if members[0].global_step == 0:            # all members start together (lock step)
                self._collect(list(range(self.S)), True, [min(cfg.initial_random_steps, total_steps)] * self.S,
                              10 ** 12)
                if all(m.global_step >= total_steps for m in members):
                    seconds = (time.perf_counter() - t0) / self.S
                    yield [m._row(seconds, {}) for m in members]
                    return
            seen = [m.data.noisy(cfg.obs_noise, cfg.reward_noise, m.rng) for m in members]   # as fit_models
            dyn = self._fit(self.dynamics, self.dyn_opt, seen, prepare_dynamics, finish_dynamics,
                            self._dynamics_loss, "dynamics")
            rew = self._fit(self.reward, self.rew_opt, seen, prepare_reward, finish_reward, self._reward_loss,
                            "reward")
            imagined = self._improve()
            self._push()
            self._collect(list(range(self.S)), False, [total_steps - m.global_step for m in members],
                          cfg.episodes_per_iter, cfg.min_steps_per_iter)
            seconds = (time.perf_counter() - t0) / self.S
            rows = []
            for s, m in enumerate(members):
                info = {**{"dyn_" + k: v for k, v in dyn[s].items()}, **{"rew_" + k: v for k, v in rew[s].items()},
                        "imagined_return": float(imagined[s])}
                rows.append(m._row(seconds, info))
            yield rows
