"""StackedPPO: S seeds side by side, each seed bit for bit its own single-seed PPO run."""

import numpy as np
import pytest
from same_run import assert_same_run, untimed

from minirl.algos.ppo import PPO
from minirl.algos.ppo_stacked import StackedPPO, stackable
from minirl.algos.presets import preset


def _single(env, config, seed, steps):
    agent = PPO(env, config, seed=seed)
    try:
        rows = [untimed(r) for r in agent.learn_iter(steps)]
        return rows, agent.state_dict()
    finally:
        agent.close()


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
    members = [PPO(env, config, seed=s) for s in range(S)]
    learner = StackedPPO(members)
    rows = [[untimed(r) for r in entries] for entries in learner.learn_iter(steps)]
    learner.close()
    for s, m in enumerate(members):
        assert_same_run([r[s] for r in rows], m.state_dict(), *_single(env, config, s, steps))


def test_dropping_seeds_leaves_the_others_unchanged():
    config = preset("ppo", "CartPole-v1")
    members = [PPO("CartPole-v1", config, seed=s) for s in range(3)]
    learner = StackedPPO(members)
    rows = {0: [], 2: []}
    for i, entries in enumerate(learner.learn_iter(2048)):
        for m, e in zip(learner.members, entries):
            if m is not members[1]:
                rows[members.index(m)].append(untimed(e))
        if i == 1:
            learner.keep([members[0], members[2]])              # seed 1 ended after two updates
    assert learner.S == 2 and learner.venv.num_envs == 2 * config.num_envs
    for s in (0, 2):
        assert_same_run(rows[s], members[s].state_dict(), *_single("CartPole-v1", config, s, 2048))


def test_a_diverging_seed_ends_alone_with_its_single_runs_error():
    config = preset("ppo", "CartPole-v1")
    members = [PPO("CartPole-v1", config, seed=s) for s in range(3)]
    members[1].value.net.layers[0].weight.data[0, 0] = np.nan     # its critic is broken: its loss is NaN
    single = PPO("CartPole-v1", config, seed=1)
    single.value.net.layers[0].weight.data[0, 0] = np.nan
    with pytest.raises(FloatingPointError) as expected:
        next(single.learn_iter(1024))
    learner = StackedPPO(members)
    entries = [list(e) for e in learner.learn_iter(1024)]
    assert isinstance(entries[0][1], FloatingPointError) and str(entries[0][1]) == str(expected.value)
    assert entries[1][1] is None                                  # reported once
    for s in (0, 2):
        assert_same_run([untimed(e[s]) for e in entries], members[s].state_dict(),
                        *_single("CartPole-v1", config, s, 1024))


def test_target_kl_is_not_stacked():
    config = preset("ppo", "CartPole-v1").replace(target_kl=0.02)
    assert "target_kl" in stackable(config)
    with pytest.raises(ValueError, match="cannot be stacked"):
        StackedPPO([PPO("CartPole-v1", config, seed=0)])


def test_members_must_share_config_and_step():
    config = preset("ppo", "CartPole-v1")
    with pytest.raises(ValueError, match="share"):
        StackedPPO([PPO("CartPole-v1", config, seed=0), PPO("CartPole-v1", config.replace(gamma=0.9), seed=1)])
