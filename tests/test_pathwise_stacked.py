"""StackedSHAC: S seeds of SHAC side by side, each seed bit for bit its own single-seed run."""

import numpy as np
import pytest
from same_run import assert_same_run, single_run, stacked_run

from minirl.algos.pathwise import SHAC, PathwiseConfig, window_loss
from minirl.algos.pathwise_stacked import StackedSHAC, stackable, stacked_window_loss
from minirl.algos.presets import preset
from minirl.autograd import Tensor
from minirl.envs.pendulum_row import row_id

PENDULUM = "minirl/Pendulum-v1"
CASES = {
    # the preset: one rollout, 16-step windows, episodes cut at 64 steps (the critic bootstraps)
    "Pendulum preset": (PENDULUM, {}, 300),
    # several rollouts, a replay of 3 windows, wide starts, sampled actions, a last window shorter than
    # the others (episode 40 = 16 + 16 + 8), small networks
    "Pendulum, every switch": (PENDULUM, dict(num_envs=3, critic_windows=3, start_wide=0.5, action="rsample",
                                              episode_steps=40, hidden=(16, 16), critic_minibatch=32), 400),
    # full-episode BPTT: no critic
    "Pendulum, BPTT": (PENDULUM, dict(num_envs=2, window=200, episode_steps=None, hidden=(8, 8)), 800),
    "pendulum row d=2": (row_id(2), dict(hidden=(16, 16)), 200),
}


def _config(env, changes):
    return preset("shac", env).replace(**changes)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("S", [1, 3])
def test_each_stacked_seed_is_its_single_run(case, S):
    env, changes, steps = CASES[case]
    config = _config(env, changes)
    members, rows, _ = stacked_run(StackedSHAC, SHAC, env, config, list(range(S)), steps)
    for s, m in enumerate(members):
        assert_same_run(rows[s], m.state_dict(), *single_run(SHAC, env, config, s, steps))


def test_seeds_that_leave_mid_episode_leave_the_others_unchanged():
    env, changes, steps = CASES["Pendulum, every switch"]
    config = _config(env, changes)
    members, rows, _ = stacked_run(StackedSHAC, SHAC, env, config, [0, 1, 2], steps, drop_after=(4, [0, 2]))
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *single_run(SHAC, env, config, s, steps))
    assert len(rows[1]) == 4


def _break_policy(agent):
    agent.policy.net.layers[0].weight.data[0, 0] = np.nan                 # its gradient is NaN at once


def test_a_diverging_seed_ends_alone_with_its_single_runs_error():
    config = _config(PENDULUM, dict(hidden=(8, 8)))
    with pytest.raises(FloatingPointError) as expected:
        single_run(SHAC, PENDULUM, config, 1, 200, before=_break_policy)
    members, rows, _ = stacked_run(StackedSHAC, SHAC, PENDULUM, config, [0, 1, 2], 200,
                                   before=lambda ms: _break_policy(ms[1]))
    assert len(rows[1]) == 1 and str(rows[1][0]) == str(expected.value)
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *single_run(SHAC, PENDULUM, config, s, 200))


def test_the_stacked_window_loss_is_each_seeds_window_loss():
    rng = np.random.default_rng(0)
    T, S, B = 5, 3, 4
    rewards, alive, boot = rng.normal(size=(T, S, B)), rng.random((T, S, B)) < 0.8, rng.normal(size=(S, B))
    got = stacked_window_loss(Tensor(rewards), alive, 0.9, Tensor(boot)).data
    want = [window_loss(Tensor(rewards[:, s]), alive[:, s], 0.9, Tensor(boot[s])).data for s in range(S)]
    np.testing.assert_array_equal(got, np.array(want))
    # by hand, one seed: -(1/(B T)) sum_b [sum_t 0.9^t alive r + 0.9^T V]
    by_hand = -(sum(0.9 ** t * alive[t, 0] * rewards[t, 0] for t in range(T)) + 0.9 ** T * boot[0]).sum() / (B * T)
    assert got[0] == pytest.approx(by_hand, rel=1e-12)


def test_a_twin_whose_rollouts_end_early_is_not_stacked():
    config = preset("shac", "minirl/CliffCart-v0")
    assert "end early" in stackable(config, "minirl/CliffCart-v0")
    assert stackable(config, PENDULUM) is None and stackable(config) is None
    with pytest.raises(ValueError, match="cannot be stacked"):
        StackedSHAC([SHAC("minirl/CliffCart-v0", config, seed=s) for s in range(2)])


def test_members_must_start_an_episode_together_with_an_empty_replay():
    config = PathwiseConfig(num_envs=1, window=16, episode_steps=64, critic_windows=3, hidden=(8, 8))
    members = [SHAC(PENDULUM, config, seed=s) for s in range(2)]
    for m in members:
        next(m.learn_iter(10))                         # both one window into an episode (the same step)
    with pytest.raises(ValueError, match="start of an episode"):
        StackedSHAC(members)
    for m in members:
        list(m.learn_iter(64))                         # both at an episode's end, 3 windows in their replays
    assert all(m._episode is None and len(m.windows) == 3 for m in members)
    with pytest.raises(ValueError, match="empty replay"):
        StackedSHAC(members)                           # it would train the critic on fewer windows than alone


def test_members_must_simulate_the_same_twin():
    from minirl.envs.pendulum import PendulumTwin
    config = PathwiseConfig(hidden=(8, 8))
    with pytest.raises(ValueError, match="same twin"):
        StackedSHAC([SHAC(PendulumTwin(g=10.0), config, seed=0), SHAC(PendulumTwin(g=2.0), config, seed=1)])
    StackedSHAC([SHAC(PendulumTwin(g=2.0), config, seed=s) for s in range(2)])


def test_a_stopped_seed_cannot_be_kept():
    config = _config(PENDULUM, dict(hidden=(8, 8)))
    members = [SHAC(PENDULUM, config, seed=s) for s in range(3)]
    _break_policy(members[1])
    learner = StackedSHAC(members)
    entries = next(learner.learn_iter(200))
    assert isinstance(entries[1], FloatingPointError)
    with pytest.raises(ValueError, match="seed 1 of the stack has stopped"):
        learner.keep(members[:2])
    learner.keep([members[0], members[2]])             # the living seeds go on
    assert learner.S == 2
