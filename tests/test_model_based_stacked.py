"""StackedSVG: S seeds of SVG(H) side by side, each seed bit for bit its own single-seed run."""

import warnings

import pytest
from same_run import assert_same_run, single_run, stacked_run

from minirl.algos.model_based import SVG, ModelBasedConfig
from minirl.algos.model_based_stacked import StackedSVG, stackable

SMALL = dict(model_steps=20, policy_updates=5, horizon=5, model_hidden=(16, 16), policy_hidden=(16, 16))


CASES = {
    # Pendulum: every episode 200 steps; the seeds move in lock step
    "Pendulum": ("minirl/Pendulum-v1", dict(initial_random_steps=400), 1000),
    # CliffCart ends episodes early: the seeds' data and budgets drift apart; 200 warm-up steps leave
    # some seeds fewer training transitions than a minibatch (each then fits alone); sensor noise
    "CliffCart, noise": ("minirl/CliffCart-v0", dict(initial_random_steps=200, obs_noise=0.01,
                                                     reward_noise=0.01, min_steps_per_iter=20), 700),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("S", [1, 3])
def test_each_stacked_seed_is_its_single_run(case, S):
    env, changes, steps = CASES[case]
    config = ModelBasedConfig(**SMALL, **changes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # ModelWarning: small data, on purpose
        members, rows, _ = stacked_run(StackedSVG, SVG, env, config, list(range(S)), steps)
        singles = [single_run(SVG, env, config, s, steps) for s in range(S)]
    for s, m in enumerate(members):
        assert_same_run(rows[s], m.state_dict(), *singles[s])


def test_stacked_warnings_are_the_single_runs():
    config = ModelBasedConfig(**SMALL, initial_random_steps=400)
    with warnings.catch_warnings(record=True) as stacked:
        warnings.simplefilter("always")
        learner = StackedSVG([SVG("minirl/Pendulum-v1", config, seed=s) for s in range(2)])
        list(learner.learn_iter(600))
    with warnings.catch_warnings(record=True) as alone:
        warnings.simplefilter("always")
        for s in range(2):
            single_run(SVG, "minirl/Pendulum-v1", config, s, 600)
    assert sorted(str(w.message) for w in stacked) == sorted(str(w.message) for w in alone)


def test_the_preference_reward_model_is_not_stacked():
    config = ModelBasedConfig(reward_model="preferences")
    assert "preference" in stackable(config)
    with pytest.raises(ValueError, match="cannot be stacked"):
        StackedSVG([SVG("minirl/Pendulum-v1", config, seed=0)])
