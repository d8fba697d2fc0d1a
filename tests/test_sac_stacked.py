"""StackedSAC: S seeds of SAC side by side, each seed bit for bit its own single-seed run."""

import numpy as np
import pytest
from same_run import assert_same_run, untimed

from minirl.algos.presets import preset
from minirl.algos.sac import SAC
from minirl.algos.sac_stacked import StackedSAC


def _single(env, config, seed, steps):
    agent = SAC(env, config, seed=seed)
    try:
        return [untimed(r) for r in agent.learn_iter(steps)], agent.state_dict()
    finally:
        agent.close()


def _stacked(env, config, seeds, steps, before=None):
    members = [SAC(env, config, seed=s) for s in seeds]
    if before is not None:
        before(members)
    learner = StackedSAC(members)
    rows = {s: [] for s in seeds}
    for entries in learner.learn_iter(steps):
        for m, row in zip(learner.members, entries):
            if row is not None:
                rows[seeds[members.index(m)]].append(row if isinstance(row, Exception) else untimed(row))
    learner.close()
    return members, rows


CASES = {
    "Pendulum preset (batch engine, float32)": ("Pendulum-v1", dict(log_every=200, hidden_sizes=(32, 32)), 600),
    "CliffCart (terminations), 2 envs, delays, clipping, float64": (
        "minirl/CliffCart-v0", dict(num_envs=2, policy_delay=2, target_update_interval=2, max_grad_norm=1.0,
                                    dtype="float64", gradient_steps=2, train_freq=2, hidden_sizes=(16, 16),
                                    log_every=100), 600),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("S", [1, 3])
def test_each_stacked_seed_is_its_single_run(case, S):
    env, changes, steps = CASES[case]
    config = preset("sac", env).replace(**changes)
    members, rows = _stacked(env, config, list(range(S)), steps)
    for s, m in enumerate(members):
        assert_same_run(rows[s], m.state_dict(), *_single(env, config, s, steps))


def test_a_diverging_seed_ends_alone_with_its_single_runs_error():
    config = preset("sac", "Pendulum-v1").replace(log_every=100, hidden_sizes=(16, 16), learning_starts=50)

    def break_seed_1(members):
        members[1].critic.weights[0].data[0, 0, 0] = np.nan           # its critic loss is NaN at the first update
    members, rows = _stacked("Pendulum-v1", config, [0, 1, 2], 300, break_seed_1)
    single = SAC("Pendulum-v1", config, seed=1)
    break_seed_1([None, single])
    with pytest.raises(FloatingPointError) as expected:
        list(single.learn_iter(300))
    assert len(rows[1]) == 1 and str(rows[1][0]) == str(expected.value)
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *_single("Pendulum-v1", config, s, 300))
