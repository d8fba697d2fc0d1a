"""StackedSAC: S seeds of SAC side by side, each seed bit for bit its own single-seed run."""

import numpy as np
import pytest
from same_run import assert_same_run, single_run, stacked_run

from minirl.algos.presets import preset
from minirl.algos.sac import SAC
from minirl.algos.sac_stacked import StackedSAC

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
    members, rows, _ = stacked_run(StackedSAC, SAC, env, config, list(range(S)), steps)
    for s, m in enumerate(members):
        assert_same_run(rows[s], m.state_dict(), *single_run(SAC, env, config, s, steps))


def _break_critic(agent):
    agent.critic.weights[0].data[0, 0, 0] = np.nan                         # its critic loss is NaN at once


def test_a_diverging_seed_ends_alone_with_its_single_runs_error():
    config = preset("sac", "Pendulum-v1").replace(log_every=100, hidden_sizes=(16, 16), learning_starts=50)
    with pytest.raises(FloatingPointError) as expected:
        single_run(SAC, "Pendulum-v1", config, 1, 300, before=_break_critic)
    members, rows, _ = stacked_run(StackedSAC, SAC, "Pendulum-v1", config, [0, 1, 2], 300,
                                   before=lambda ms: _break_critic(ms[1]))
    assert len(rows[1]) == 1 and str(rows[1][0]) == str(expected.value)
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *single_run(SAC, "Pendulum-v1", config, s, 300))
