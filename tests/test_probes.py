"""The probe environments: valid Gymnasium envs whose rewards are what their docstrings say."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from minirl.envs import probes


@pytest.mark.parametrize("name", sorted(probes.PROBES))
@pytest.mark.parametrize("continuous", [False, True])
def test_probes_pass_the_gymnasium_checker(name, continuous):
    check_env(probes.PROBES[name](continuous=continuous), skip_render_check=True)


def _run(env, actions, seed=0):
    obs, _ = env.reset(seed=seed)
    out = [obs[0]]
    for a in actions:
        obs, r, term, trunc, _ = env.step(a)
        out += [r, term, trunc]
        if term or trunc:
            break
    return out


def test_rewards_match_the_table():
    assert _run(probes.ConstantReward(), [0]) == [0.0, 1.0, True, False]
    env = probes.ObsReward()
    obs0, r, *_ = _run(env, [1])
    assert obs0 in (-1.0, 1.0) and r == obs0
    assert _run(probes.ActionReward(), [1])[1] == 1.0 and _run(probes.ActionReward(), [0])[1] == 0.0
    assert _run(probes.ActionReward(continuous=True), [np.array([0.5])])[1] == 1.0
    assert _run(probes.ActionReward(continuous=True), [np.array([-0.5])])[1] == 0.0
    env = probes.ObsActionReward()
    for seed in range(6):
        obs0, r, *_ = _run(env, [1], seed=seed)
        assert r == float(obs0 > 0)
    env = probes.ObsActionReward(continuous=True)
    obs0, r, *_ = _run(env, [np.array([0.5])])
    assert r == pytest.approx(1.0 - (0.5 - 0.5 * obs0) ** 2)
    assert _run(probes.TwoStepDiscount(), [0, 0]) == [0.0, 0.0, False, False, 1.0, True, False]


def test_survive_is_truncated_not_terminated():
    out = _run(probes.Survive(horizon=3), [0] * 10)
    assert out == [0.0, 1.0, False, False, 1.0, False, False, 1.0, False, True]
    with pytest.raises(ValueError, match="horizon"):
        probes.Survive(horizon=0)


def test_observation_sign_is_seeded():
    a = [probes.ObsReward().reset(seed=s)[0][0] for s in range(10)]
    b = [probes.ObsReward().reset(seed=s)[0][0] for s in range(10)]
    assert a == b and set(a) == {-1.0, 1.0}
