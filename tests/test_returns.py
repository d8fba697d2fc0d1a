"""minirl.returns beyond the lesson-03 exercise tests: input checking, layouts, identities."""

import numpy as np
import pytest

from minirl.returns import discounted_returns, episode_returns, gae, policy_gradient_weights


def _random_rollout(rng, T=7, N=3):
    r, v, nv = rng.standard_normal((3, T, N))
    term = rng.random((T, N)) < 0.2
    trunc = (rng.random((T, N)) < 0.2) & ~term
    inside = ~(term | trunc)[:-1]
    nv[:-1] = np.where(inside, v[1:], nv[:-1])          # V(s'_t) = V(s_{t+1}) inside an episode
    return r, v, nv, term, trunc


def test_gae_matches_explicit_sum_over_deltas():
    """A_t = sum_k (gamma lambda)^k delta_{t+k} until the episode's end (eq. 16 of the GAE paper)."""
    rng = np.random.default_rng(1)
    r, v, nv, term, trunc = _random_rollout(rng)
    gamma, lam = 0.97, 0.9
    adv, ret = gae(r, v, nv, term, trunc, gamma, lam)
    delta = r + gamma * (~term) * nv - v
    T, N = r.shape
    expected = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, k = 0.0, 0
            while t + k < T:
                total += (gamma * lam) ** k * delta[t + k, n]
                if term[t + k, n] or trunc[t + k, n]:
                    break
                k += 1
            expected[t, n] = total
    np.testing.assert_allclose(adv, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ret, adv + v)


def test_one_dimensional_input_keeps_its_shape():
    rng = np.random.default_rng(2)
    r, v, nv, term, trunc = (x[:, 0] for x in _random_rollout(rng))
    adv, ret = gae(r, v, nv, term, trunc, 0.99, 0.95)
    assert adv.shape == ret.shape == (7,)
    assert discounted_returns(r, term, trunc, 0.99).shape == (7,)


@pytest.mark.parametrize("gamma", [-0.1, 1.5])
def test_gamma_outside_unit_interval_is_refused(gamma):
    with pytest.raises(ValueError, match="gamma"):
        discounted_returns(np.ones(3), np.zeros(3, bool), np.zeros(3, bool), gamma)


def test_lambda_outside_unit_interval_is_refused():
    z = np.zeros((3, 2))
    with pytest.raises(ValueError, match="lam"):
        gae(z, z, z, z.astype(bool), z.astype(bool), 0.9, 1.2)


def test_mismatched_shapes_are_named():
    with pytest.raises(ValueError, match="terminated"):
        discounted_returns(np.ones((4, 2)), np.zeros((4, 3), bool), np.zeros((4, 2), bool), 0.9)


def test_episode_returns_bootstrap_only_where_given():
    rewards = [np.array([1.0, 1.0]), np.array([2.0])]
    out = episode_returns(rewards, 0.5, bootstrap=[4.0, 0.0])
    np.testing.assert_allclose(out[0], [1 + 0.5 * (1 + 0.5 * 4), 1 + 0.5 * 4])
    np.testing.assert_allclose(out[1], [2.0])
    out = episode_returns(rewards, 0.5)
    np.testing.assert_allclose(out[0], [1.5, 1.0])


def test_baseline_errors_name_the_problem():
    g = [np.ones(3)]
    with pytest.raises(ValueError, match="baseline"):
        policy_gradient_weights(g, True, "median")
    with pytest.raises(ValueError, match="values"):
        policy_gradient_weights(g, True, "value")
    with pytest.raises(ValueError, match="2 episodes"):
        policy_gradient_weights(g, True, "loo")


def test_leave_one_out_baseline_is_unbiased():
    """E[grad log pi * b] = 0 needs b independent of the episode's own actions: check b_i ignores G_i."""
    rng = np.random.default_rng(3)
    returns = [rng.standard_normal(rng.integers(1, 6)) for _ in range(5)]
    w1 = policy_gradient_weights(returns, True, "loo")
    changed = [g.copy() for g in returns]
    changed[2] = changed[2] + 100.0                      # change only episode 2's returns
    w2 = policy_gradient_weights(changed, True, "loo")
    np.testing.assert_allclose(w2[2] - w1[2], 100.0)     # its own weight moves by exactly the change
