"""Lesson 06: backpropagation through time through a differentiable twin (`lessons/algos/pathwise.py`).

You write three pieces: the rollout that keeps the graph from the policy to every reward
(`rollout_window`), the pathwise objective of a window (`window_loss`, SHAC Eq. 5) and the TD(lambda)
targets of the critic (`lambda_returns`, SHAC Eq. 7). Every expected value is worked out by hand.

    pytest -m lesson06                     # the reference implementation
    pytest --impl lessons -m lesson06      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_array, check_tensor

from minirl.autograd import Tensor
from minirl.envs.cliffcart import CliffCartTwin
from minirl.policies import GaussianPolicy

pytestmark = pytest.mark.lesson06

REWARDS = np.array([[1.0, 2.0],          # (T=2, B=2): step 0
                    [3.0, 4.0]])         # step 1
ALIVE = np.array([[1.0, 1.0],
                  [1.0, 0.0]])           # rollout 1 ended after step 0: its step-1 reward must not count


def test_window_loss_without_bootstrap(lesson):
    m = lesson("algos.pathwise")
    loss = check_tensor(m.window_loss(Tensor(REWARDS), ALIVE, 0.5), shape=(), name="window_loss")
    # rollout 0: 1 + 0.5 * 3 = 2.5; rollout 1: 2; loss = -(2.5 + 2) / (B T) = -4.5 / 4
    value = loss.item()
    if value == pytest.approx(4.5 / 4):
        pytest.fail("window_loss returned +1.125: the loss is MINUS the return (we minimise it)")
    if value == pytest.approx(-(2.5 + 2 + 0.5 * 4) / 4):       # rollout 1's step-1 reward 4 counted
        pytest.fail("window_loss counted a reward after its rollout ended: multiply by alive")
    if value == pytest.approx(-(4 + 6) / 4):
        pytest.fail("window_loss ignored gamma: weight step t by gamma**t")
    assert_close(value, -4.5 / 4, name="window_loss",
                 hint="loss = -(1 / (B T)) sum_b sum_t gamma^t alive[t, b] r[t, b]")


def test_window_loss_bootstrap_and_gradient(lesson):
    m = lesson("algos.pathwise")
    rewards = Tensor(REWARDS, requires_grad=True)
    bootstrap = Tensor(np.array([10.0, 0.0]), requires_grad=True)
    loss = m.window_loss(rewards, ALIVE, 0.5, bootstrap)
    # rollout 0: 2.5 + 0.5^2 * 10 = 5; rollout 1: 2 + 0.25 * 0 = 2; loss = -7 / 4
    # a bootstrap discounted by gamma^(T-1) instead gives -(2.5 + 0.5 * 10 + 2) / 4
    assert_close(loss.item(), -1.75, name="window_loss with a bootstrap",
                 slips={"discount the bootstrap by gamma**(T - 1): V(s_T) comes T steps after s_0": -9.5 / 4},
                 hint="add gamma**T * bootstrap (T = the number of steps in the window)")
    loss.backward()
    assert rewards.grad is not None, "no gradient reached the rewards: build the loss from Tensor ops"
    assert_close(rewards.grad, -np.array([[1.0, 1.0], [0.5, 0.0]]) / 4, name="d loss / d rewards",
                 hint="each reward enters with weight -gamma^t alive / (B T)")
    assert_close(bootstrap.grad, -np.array([0.25, 0.25]) / 4, name="d loss / d bootstrap",
                 hint="the bootstrap enters with weight -gamma^T / (B T)")


def test_lambda_returns_hand_computed(lesson):
    m = lesson("algos.pathwise")
    r = np.array([[1.0], [2.0]])                       # (T=2, B=1)
    v = np.array([[0.0], [4.0], [8.0]])                # V(s_0), V(s_1), V(s_2)
    alive = np.ones((3, 1))
    out = check_array(m.lambda_returns(r, v, alive, 0.5, 0.5), shape=(2, 1), dtype_kind="f",
                      name="lambda_returns")
    # G_2 = V(s_2) = 8; G_1 = 2 + 0.5 * (0.5 * 8 + 0.5 * 8) = 6; G_0 = 1 + 0.5 * (0.5 * 4 + 0.5 * 6) = 3.5
    assert_close(out[1, 0], 6.0, name="lambda_returns[1]",
                 hint="the last target bootstraps from V(s_T): G_{T-1} = r + gamma V(s_T)")
    assert_close(out[0, 0], 3.5, name="lambda_returns[0]",
                 hint="G_t = r_t + gamma ((1 - lam) V(s_{t+1}) + lam G_{t+1}); go backwards in t")
    mc = m.lambda_returns(r, v, alive, 0.5, 1.0)
    # lam and 1 - lam swapped: with lam = 1 that weights V(s_1) fully, 1 + 0.5 * 4 = 3
    assert_close(mc[0, 0], 4.0, name="lambda_returns with lam = 1",
                 slips={"swap lam and 1 - lam: lam weights the next target G_{t+1}, 1 - lam the value "
                        "V(s_{t+1})": 3.0},
                 hint="lam = 1 is the discounted return with a bootstrap: 1 + 0.5 * 2 + 0.25 * 8")
    ended = m.lambda_returns(r, v, np.array([[1.0], [0.0], [0.0]]), 0.5, 0.5)
    # alive[t] instead of alive[t + 1]: G_1 = 2, G_0 = 1 + 0.5 (0.5 * 4 + 0.5 * 2) = 2.5
    assert_close(ended[0, 0], 1.0, name="lambda_returns after a termination",
                 slips={"use alive[t] (off by one): whether anything follows step t is alive[t + 1]": 2.5},
                 hint="alive[t + 1] = 0 means the episode ended on step t: nothing follows, G_t = r_t")


def test_rollout_window_keeps_the_graph_and_stops_at_the_cliff(lesson):
    m = lesson("algos.pathwise")
    twin = CliffCartTwin()
    policy = GaussianPolicy(2, 1, rng=np.random.default_rng(0), hidden=(8,))
    state = Tensor(np.array([[0.0, 0.0], [0.97, 0.5]]))          # cart 1 goes over the edge at once
    config = m.PathwiseConfig(num_envs=2, window=3)
    rewards, alive, states = m.rollout_window(twin, policy, state, np.ones(2), 3, config,
                                              np.random.default_rng(0))
    check_tensor(rewards, shape=(3, 2), name="rollout_window's rewards")
    assert rewards.requires_grad, ("the rewards carry no graph: compute actions with the policy and "
                                   "step the twin with Tensors (no .data, no no_grad)")
    check_array(alive, shape=(4, 2), name="rollout_window's alive masks")
    assert_close(alive[:, 1], [1.0, 0.0, 0.0, 0.0], name="alive of the falling cart",
                 hint="alive[t + 1] = alive[t] * (not terminated(s_{t+1}))")
    assert_close(alive[:, 0], [1.0, 1.0, 1.0, 1.0], name="alive of the cart at x = 0")
    assert len(states) == 4, f"states should hold s_0 .. s_3 (4 entries), got {len(states)}"
    (rewards * Tensor(alive[:-1])).sum().backward()        # a plain loss: this test checks rollout_window only
    grads = [p.grad for p in policy.parameters() if p is not policy.log_std]
    assert all(g is not None for g in grads), "the loss's gradient must reach every policy weight"
