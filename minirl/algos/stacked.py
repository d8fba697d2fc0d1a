"""Training S seeds of one algorithm side by side: what every stacked learner shares.

A stacked learner (`StackedPPO`, `StackedSAC`, ...) trains S ordinary agents of one algorithm, its
*members*, each built for its own seed as `minirl train` builds it (own networks, random streams,
counters, checkpoint). The learner holds the members' networks, optimisers and normalisers stacked
along a leading seed axis (`minirl.stacking`) and one vector env with every member's environments,
and runs each update once for all of them. Its `learn_iter(total_steps)` yields, per update, a list
of S entries: member s's log row (the row its single-seed run would yield at that update), or, once,
the `FloatingPointError` that stopped it, then None.

| when | what the learner does |
|---|---|
| construction | `_pull`: every member's state into the stacked arrays (a fresh or a resumed member) |
| before each yield | `_push`: each seed's slice back into its member, and the member's counters moved on, so member s is exactly the state its row describes (checkpoint it, evaluate it with `member.act`) |
| a seed ended (its budget, `stop_return`, a NaN) | `keep(members)`: the others go on alone |
| a seed's loss or gradient is not finite | `_fail(s, error)`: seed s is dead. Its slice is set back to its member's last good state after every optimiser step (so it keeps acting, harmlessly, beside the others, whose numbers do not change), and its next entry is the error |

Every member must have the same algorithm, config and task, and the same step count (they move in
lock step); `stackable(config, env_id)` says whether a config (on a task) can be stacked at all.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..stacking import SeedStreams, split_state, stack_state

__all__ = ["StackedLearner"]


class StackedLearner:
    """The members, their random streams, pulling and pushing state, dead seeds (module doc)."""

    def __init__(self, members: list):
        members = list(members)
        if not members:
            raise ValueError("a stacked learner needs at least one member")
        first = members[0]
        for m in members[1:]:
            if type(m) is not type(first) or m.config.to_dict() != first.config.to_dict() or m.env_id != first.env_id:
                raise ValueError("stacked members must share the algorithm, the config and the task; they differ")
            if m.global_step != first.global_step:
                raise ValueError(f"stacked members move in lock step: member steps {[x.global_step for x in members]} differ")
        self.members, self.S, self.config = members, len(members), first.config
        self.streams = SeedStreams([m.rng for m in members])             # seed s draws from member s's rng
        self.dead: dict[int, FloatingPointError] = {}                    # seed -> the error that stopped it
        self._reported: set[int] = set()

    # ------------------------------------------------------------------ members <-> stacked arrays
    def _components(self) -> list[tuple[object, object]]:
        """(stacked object, function member -> its object), each with state_dict / load_state_dict."""
        raise NotImplementedError

    def _pull(self, seeds=None, only=None) -> None:
        """The members' states into the stacked objects (all seeds; or only `seeds`, e.g. dead ones; all
        components, or `only` those stacked objects)."""
        if seeds is None and only is None:
            self._shapes = []                           # each component's per-seed shapes, for `_push`
        for stacked, part in self._components():
            if only is not None and not any(stacked is o for o in only):
                continue
            own = stacked.state_dict()
            states = [part(m).state_dict() for m in self.members]
            if seeds is None:
                stacked.load_state_dict(stack_state(states, own))
                if only is None:
                    self._shapes.append({k: np.shape(v) for k, v in states[0].items()})
                continue
            for s in seeds:
                for key, value in states[s].items():
                    if own[key].shape != value.shape:          # a per-seed entry (not a shared lr or step count)
                        own[key][s] = value.reshape(own[key][s].shape)
            stacked.load_state_dict(own)

    def _push(self) -> None:
        """Each living seed's slice of the stacked objects into its member."""
        for (stacked, part), shapes in zip(self._components(), self._shapes):
            own = stacked.state_dict()
            for s, m in enumerate(self.members):
                if s not in self.dead:
                    part(m).load_state_dict(split_state(own, s, shapes))

    # ------------------------------------------------------------------ dead seeds
    def _fail(self, s: int, error: FloatingPointError) -> None:
        if s not in self.dead:
            self.dead[s] = error

    def _quiet(self):
        """With a dead seed, NumPy's warnings about its NaNs (which its single run never computes) are off."""
        return np.errstate(all="ignore") if self.dead else contextlib.nullcontext()

    def _restore_dead(self) -> None:
        """Dead seeds' slices back to their members' last good state (after an optimiser step)."""
        if self.dead:
            self._pull(sorted(self.dead))

    def _entries(self, rows: list) -> list:
        """The rows to yield: a dead seed's error once, then None."""
        out = []
        for s, row in enumerate(rows):
            if s in self.dead:
                out.append(None if s in self._reported else self.dead[s])
                self._reported.add(s)
            else:
                out.append(row)
        return out

    # ------------------------------------------------------------------ seeds that need no more work
    def keep(self, members: list) -> None:
        """Go on with these members only (seeds that ended are dropped). The kept members hold their
        last row's state (pushed at every yield), so the stacked arrays are rebuilt from them; each
        subclass keeps the kept seeds' environments and whatever else a row does not hold (`_select`)."""
        index = [self.members.index(m) for m in members]
        if index == list(range(self.S)):
            return
        dead = [i for i in index if i in self.dead]
        if dead:                           # its slice holds its last good state, which no longer steps with the rest
            raise ValueError(f"keep: seed {dead[0]} of the stack has stopped ({self.dead[dead[0]]}); keep only "
                             "the seeds still training")
        self.members, self.S = [self.members[i] for i in index], len(index)
        self.streams = SeedStreams([m.rng for m in self.members])
        self.dead = {j: self.dead[i] for j, i in enumerate(index) if i in self.dead}
        self._reported = {j for j, i in enumerate(index) if i in self._reported}
        self._select(index)

    def _select(self, index: list[int]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        venv = getattr(self, "venv", None)
        if venv is not None:
            venv.close()
