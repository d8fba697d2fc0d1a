"""What the stacked learners' tests compare: a seed's rows and checkpoint against its single-seed run's."""

import numpy as np

TIMINGS = {"time_s", "rollout_s", "update_s", "steps_per_s"}


def untimed(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in TIMINGS}


def assert_same_run(rows, state, single_rows, single_state):
    """Rows (timings left out) equal value for value (NaN where NaN), every checkpoint array bit for bit."""
    assert len(rows) == len(single_rows)
    for mine, theirs in zip(rows, single_rows):
        assert mine.keys() == theirs.keys()
        for k in mine:
            assert mine[k] == theirs[k] or (np.isnan(mine[k]) and np.isnan(theirs[k])), k
    for k, v in single_state.items():
        if k != "counters.train_time":
            np.testing.assert_array_equal(np.asarray(state[k]), np.asarray(v), err_msg=k)


def single_run(agent_cls, env, config, seed: int, steps: int, before=None):
    """(rows without timings, final state) of one agent trained alone; `before(agent)` may break it first."""
    agent = agent_cls(env, config, seed=seed)
    if before is not None:
        before(agent)
    try:
        return [untimed(r) for r in agent.learn_iter(steps)], agent.state_dict()
    finally:
        agent.close()


def stacked_run(learner_cls, agent_cls, env, config, seeds, steps: int, before=None, drop_after=None):
    """Members and each seed's entries (rows without timings, or the error that stopped it) of a stacked
    learner; `before(members)` may break some first; `drop_after=(k, seeds)` keeps only `seeds` after k rows."""
    members = [agent_cls(env, config, seed=s) for s in seeds]
    if before is not None:
        before(members)
    learner = learner_cls(members)
    rows = {s: [] for s in seeds}
    try:
        for i, entries in enumerate(learner.learn_iter(steps)):
            for m, row in zip(learner.members, entries):          # (a seed that ended has left)
                if row is not None:
                    rows[seeds[members.index(m)]].append(row if isinstance(row, Exception) else untimed(row))
            if drop_after is not None and i + 1 == drop_after[0]:
                learner.keep([members[seeds.index(s)] for s in drop_after[1]])
    finally:
        learner.close()
    return members, rows, learner
