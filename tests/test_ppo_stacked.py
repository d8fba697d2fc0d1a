"""StackedPPO: S seeds side by side, each seed bit for bit its own single-seed PPO run."""

import numpy as np
import pytest
from same_run import assert_same_run, single_run, stacked_run

from minirl.algos.ppo import PPO
from minirl.algos.ppo_stacked import StackedPPO, stackable
from minirl.algos.presets import preset

CASES = {
    "CartPole preset (batch engine, float32)": ("CartPole-v1", {}, 2048),
    "Pendulum, normalised obs and rewards, truncations": (
        "Pendulum-v1", dict(num_steps=128, num_minibatches=8, update_epochs=2, normalize_obs=True,
                            normalize_reward=True), 2048),
    "Acrobot (loop engine), float64, entropy bonus": (
        "Acrobot-v1", dict(num_envs=2, num_steps=64, num_minibatches=2, update_epochs=2, dtype="float64",
                           ent_coef=0.01), 512),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("S", [1, 3])
def test_each_stacked_seed_is_its_single_run(case, S):
    env, changes, steps = CASES[case]
    config = preset("ppo", env).replace(**changes)
    members, rows, _ = stacked_run(StackedPPO, PPO, env, config, list(range(S)), steps)
    for s, m in enumerate(members):
        assert_same_run(rows[s], m.state_dict(), *single_run(PPO, env, config, s, steps))


def test_dropping_seeds_leaves_the_others_unchanged():
    config = preset("ppo", "CartPole-v1")
    members, rows, learner = stacked_run(StackedPPO, PPO, "CartPole-v1", config, [0, 1, 2], 2048,
                                         drop_after=(2, [0, 2]))           # seed 1 ended after two updates
    assert learner.S == 2 and learner.venv.num_envs == 2 * config.num_envs and len(rows[1]) == 2
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *single_run(PPO, "CartPole-v1", config, s, 2048))


def _break_critic(agent):
    agent.value.net.layers[0].weight.data[0, 0] = np.nan                   # its loss is NaN at once


def test_a_diverging_seed_ends_alone_with_its_single_runs_error():
    config = preset("ppo", "CartPole-v1")
    with pytest.raises(FloatingPointError) as expected:
        single_run(PPO, "CartPole-v1", config, 1, 1024, before=_break_critic)
    members, rows, _ = stacked_run(StackedPPO, PPO, "CartPole-v1", config, [0, 1, 2], 1024,
                                   before=lambda ms: _break_critic(ms[1]))
    assert len(rows[1]) == 1 and str(rows[1][0]) == str(expected.value), "the error once, then nothing"
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *single_run(PPO, "CartPole-v1", config, s, 1024))


def test_target_kl_is_not_stacked():
    config = preset("ppo", "CartPole-v1").replace(target_kl=0.02)
    assert "target_kl" in stackable(config)
    with pytest.raises(ValueError, match="cannot be stacked"):
        StackedPPO([PPO("CartPole-v1", config, seed=0)])


def test_members_must_share_config_and_step():
    config = preset("ppo", "CartPole-v1")
    with pytest.raises(ValueError, match="share"):
        StackedPPO([PPO("CartPole-v1", config, seed=0), PPO("CartPole-v1", config.replace(gamma=0.9), seed=1)])
