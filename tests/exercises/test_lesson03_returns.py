"""Lesson 03: discounted reward-to-go, GAE(lambda) and REINFORCE baselines (`lessons/returns.py`).

Every expected value below is worked out by hand in the comments, on a rollout of 4 steps in 2
environments where one episode *terminates* and one is *truncated* by a time limit.

    pytest -m lesson03                     # the reference implementation
    pytest --impl lessons -m lesson03      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_array

pytestmark = pytest.mark.lesson03

# Two environments (columns), four steps (rows).
REWARDS = np.array([[1.0, 1.0],
                    [2.0, 1.0],
                    [3.0, 1.0],
                    [4.0, 1.0]])
TERMINATED = np.array([[False, False],
                       [True, False],       # env 0: the episode ends for good after step 1
                       [False, False],
                       [False, True]])      # env 1: ends for good after step 3
TRUNCATED = np.array([[False, False],
                      [False, True],        # env 1: time limit after step 1 (the state had a future)
                      [False, False],
                      [False, False]])
VALUES = np.array([[1.0, 2.0]] * 4)         # V(s_t)
NEXT_VALUES = np.array([[1.0, 2.0],         # V(s'_t): value of the observation each step led to
                        [99.0, 10.0],       # env 0: 99 must be ignored (terminal); env 1: bootstrap 10
                        [1.0, 2.0],
                        [8.0, 55.0]])       # env 0: window ends, bootstrap 8; env 1: 55 ignored (terminal)


def test_reward_to_go_hand_computed(lesson):
    m = lesson("returns")
    out = check_array(m.discounted_returns(REWARDS, TERMINATED, TRUNCATED, 0.5, NEXT_VALUES),
                      shape=(4, 2), dtype_kind="f", name="discounted_returns")
    # env 0: G3 = 4 + .5 * 8 = 8 (window cut: bootstrap);  G2 = 3 + .5 * 8 = 7
    #        G1 = 2 (terminated: nothing after);          G0 = 1 + .5 * 2 = 2
    # env 1: G3 = 1 (terminated);  G2 = 1 + .5 * 1 = 1.5
    #        G1 = 1 + .5 * 10 = 6 (truncated: bootstrap V(final obs));  G0 = 1 + .5 * 6 = 4
    expected = np.array([[2.0, 4.0], [2.0, 6.0], [7.0, 1.5], [8.0, 1.0]])
    assert_close(out[:, 0], expected[:, 0], name="discounted_returns (env 0)",
                 slips={"discount the current reward too (G_t = r_t + gamma G_{t+1}: r_t is not discounted)":
                        [1.0, 1.0, 4.5, 6.0]},
                 hint="after a termination nothing is added (G1 = 2); at the end of the window the "
                      "return bootstraps from next_values (G3 = 4 + 0.5 * 8)")
    assert_close(out[:, 1], expected[:, 1], name="discounted_returns (env 1)",
                 hint="a truncation bootstraps from next_values at that step (G1 = 1 + 0.5 * 10), and "
                      "the return must not flow across the episode boundary into G0 from G2")


def test_reward_to_go_without_critic(lesson):
    m = lesson("returns")
    out = check_array(m.discounted_returns(REWARDS, TERMINATED, TRUNCATED, 0.5), shape=(4, 2),
                      dtype_kind="f", name="discounted_returns")
    # no next_values: every cut episode bootstraps with 0
    expected = np.array([[2.0, 1.5], [2.0, 1.0], [5.0, 1.5], [4.0, 1.0]])
    assert_close(out, expected, name="discounted_returns(next_values=None)",
                 hint="with next_values=None a truncated or unfinished episode adds 0 after its last reward")


def test_reward_to_go_one_episode(lesson):
    m = lesson("returns")
    r = np.array([1.0, 0.0, 0.0, 10.0])
    term = np.array([False, False, False, True])
    out = check_array(m.discounted_returns(r, term, np.zeros(4, bool), 0.9), shape=(4,), dtype_kind="f",
                      name="discounted_returns")
    # G3 = 10, G2 = 9, G1 = 8.1, G0 = 1 + 7.29
    assert_close(out, [8.29, 8.1, 9.0, 10.0], name="discounted_returns",
                 hint="G_t = r_t + gamma G_{t+1}: loop from the last step backwards")


def test_gae_hand_computed(lesson):
    m = lesson("returns")
    adv, ret = m.gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, 0.5, 0.5)
    adv = check_array(adv, shape=(4, 2), dtype_kind="f", name="gae (advantages)")
    # gamma * lambda = 0.25
    # env 0: delta = [1 + .5*1 - 1, 2 + 0 - 1, 3 + .5*1 - 1, 4 + .5*8 - 1] = [.5, 1, 2.5, 7]
    #        A3 = 7, A2 = 2.5 + .25*7 = 4.25, A1 = 1 (episode ends), A0 = .5 + .25*1 = .75
    # env 1: delta = [1 + .5*2 - 2, 1 + .5*10 - 2, 1 + .5*2 - 2, 1 + 0 - 2] = [0, 4, 0, -1]
    #        A3 = -1, A2 = -.25, A1 = 4 (truncated: no carry from the next episode), A0 = 1
    expected = np.array([[0.75, 1.0], [1.0, 4.0], [4.25, -0.25], [7.0, -1.0]])
    # the usual slips, worked out the same way: V(s'_1) = 99 kept after the termination gives
    # delta_1 = 50.5, A0 = .5 + .25 * 50.5; a carry of gamma alone (no lambda) gives A2 = 2.5 + .5 * 7
    assert_close(adv[:, 0], expected[:, 0], name="gae advantages (env 0)",
                 slips={"bootstrap from V(s') after a termination (99 here): multiply it by (1 - terminated_t)":
                        [13.125, 50.5, 4.25, 7.0],
                        "forget lambda: the carry is gamma * lambda * (1 - done_t) * A_{t+1}": [1.0, 1.0, 6.0, 7.0]},
                 hint="delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t); the recursion "
                      "A_t = delta_t + gamma lambda (1 - done_t) A_{t+1} stops at any episode end")
    assert_close(adv[:, 1], expected[:, 1], name="gae advantages (env 1)",
                 hint="a truncated step still bootstraps from V(s'_t) = 10 in delta (only termination "
                      "zeroes it), but A must not carry over the episode boundary")
    assert_close(check_array(ret, shape=(4, 2), name="gae (returns)"), expected + VALUES,
                 name="gae returns", hint="returns are the critic targets A + V(s_t)")


def test_gae_lambda_one_is_monte_carlo(lesson):
    m = lesson("returns")
    # lambda = 1: A_t = G_t - V(s_t), with G_t the bootstrapped return of test_reward_to_go_hand_computed
    # (inside each episode NEXT_VALUES[t] = VALUES[t + 1], so the deltas telescope):
    #   G = [[2, 4], [2, 6], [7, 1.5], [8, 1]]  minus  V = [[1, 2]] * 4
    adv, _ = m.gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, 0.5, 1.0)
    adv = check_array(adv, shape=(4, 2), dtype_kind="f", name="gae (advantages)")
    assert_close(adv, [[1.0, 2.0], [1.0, 4.0], [6.0, -0.5], [7.0, -1.0]], name="gae(lambda=1)",
                 hint="with lambda = 1 the advantage is the bootstrapped return minus V(s_t): "
                      "A_t = delta_t + gamma A_{t+1} inside an episode")
    # lambda = 0: A_t = delta_t, the one-step TD error (listed in test_gae_hand_computed)
    adv0, _ = m.gae(REWARDS, VALUES, NEXT_VALUES, TERMINATED, TRUNCATED, 0.5, 0.0)
    assert_close(adv0, [[0.5, 0.0], [1.0, 4.0], [2.5, 0.0], [7.0, -1.0]], name="gae(lambda=0)",
                 hint="with lambda = 0 the advantage is the one-step TD error "
                      "delta_t = r_t + gamma (1 - terminated_t) V(s'_t) - V(s_t)")


def _direct_gae(r, v, nv, term, trunc, gamma, lam):
    """GAE by its definition, A_t = sum_k (gamma lam)^k delta_{t+k} up to the episode's end (no recursion)."""
    delta = r + gamma * (~term) * nv - v
    done = term | trunc
    out = np.zeros_like(r)
    T = r.shape[0]
    for t in range(T):
        for n in range(r.shape[1]):
            k = 0
            while t + k < T:
                out[t, n] += (gamma * lam) ** k * delta[t + k, n]
                if done[t + k, n]:
                    break
                k += 1
    return out


@pytest.mark.parametrize("lam", [0.0, 0.7, 1.0])
def test_gae_on_random_rollouts(lesson, lam):
    m = lesson("returns")
    rng = np.random.default_rng(0)
    r, v, nv = rng.standard_normal((3, 8, 3))
    term = rng.random((8, 3)) < 0.2
    trunc = (rng.random((8, 3)) < 0.2) & ~term
    adv, ret = m.gae(r, v, nv, term, trunc, 0.9, lam)
    expected = _direct_gae(r, v, nv, term, trunc, 0.9, lam)
    assert_close(check_array(adv, shape=(8, 3), dtype_kind="f", name="gae (advantages)"), expected,
                 name=f"gae(lambda={lam}) on a random rollout",
                 hint="A_t = delta_t + gamma lambda (1 - done_t) A_{t+1}, from the last step backwards; "
                      "done = terminated or truncated, but only terminated zeroes V(s'_t) in delta_t")
    assert_close(ret, expected + v, name="gae returns", hint="returns are the critic targets A + V(s_t)")


def test_baselines_hand_computed(lesson):
    m = lesson("returns")
    returns = [np.array([3.0, 2.0, 1.0]), np.array([1.0])]          # reward-to-go of 2 episodes
    values = [np.array([2.0, 2.0, 2.0]), np.array([0.5])]
    w = m.policy_gradient_weights(returns, True, "none")
    assert_close(np.concatenate(w), [3, 2, 1, 1], name="policy_gradient_weights(baseline='none')",
                 slips={"swap reward_to_go: True weights step t by G_t, False by the whole return G_0":
                        [3, 3, 3, 1]},
                 hint="reward-to-go without baseline: the weights are the returns G_t themselves")
    w = m.policy_gradient_weights(returns, False, "none")
    assert_close(np.concatenate(w), [3, 3, 3, 1], name="policy_gradient_weights(reward_to_go=False)",
                 hint="vanilla REINFORCE credits every step with the whole return G_0 of its episode")
    w = m.policy_gradient_weights(returns, True, "mean")
    assert_close(np.concatenate(w), [1.25, 0.25, -0.75, -0.75], name="policy_gradient_weights('mean')",
                 slips={"subtract each episode's own mean: the 'mean' baseline is ONE number for the batch":
                        [1, 0, -1, 0]},
                 hint="subtract the mean over all steps of the batch: (3 + 2 + 1 + 1) / 4 = 1.75")
    w = m.policy_gradient_weights(returns, True, "value", values)
    assert_close(np.concatenate(w), [1, 0, -1, 0.5], name="policy_gradient_weights('value')",
                 hint="subtract the critic's V(s_t) step by step")
    # leave-one-out, same time index, 0 once the other episode has ended:
    # episode 0: [3 - 1, 2 - 0, 1 - 0];  episode 1: [1 - 3]
    w = m.policy_gradient_weights(returns, True, "loo")
    assert_close(np.concatenate(w), [2, 2, 1, -2], name="policy_gradient_weights('loo')",
                 slips={"divide by E, counting episode i among the others (divide by E - 1)":
                        [2.5, 2, 1, -0.5]},
                 hint="the baseline of episode i at step t is the mean of the OTHER episodes' G_t "
                      "(0 after they ended), never including episode i itself")
