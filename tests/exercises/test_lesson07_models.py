"""Lesson 07 exercises: the losses that turn black-box data into differentiable models, and imagination.

Run against your copy with `pytest --impl lessons -m lesson07` (see notebooks/07_learning_models.ipynb).
"""

from __future__ import annotations

import numpy as np
import pytest

from minirl.autograd import Tensor
from minirl.gradcheck import gradient_check
from minirl.policies import GaussianPolicy

pytestmark = pytest.mark.lesson07


# ------------------------------------------------------------------------------ dynamics_loss
def test_dynamics_loss_is_the_mean_squared_error(lesson):
    m = lesson("algos.world_models")
    pred = Tensor(np.array([[1.0, 2.0], [0.0, -1.0]]))
    target = np.array([[0.0, 2.0], [2.0, 0.0]])
    got = m.dynamics_loss(pred, target).item()
    # squared errors 1, 0, 4, 1: mean 1.5 (sum 6; mean over rows only 3.0; root-mean-square 1.22;
    # mean absolute error (1 + 0 + 2 + 1) / 4 = 1)
    hints = {6.0: "you summed instead of averaging", 3.0: "average over the features too, not only the batch",
             np.sqrt(1.5): "no square root: the loss is the mean of the squared errors",
             1.0: "that is the mean ABSOLUTE error: square the errors"}
    hint = next((h for v, h in hints.items() if np.isclose(got, v)), "")
    assert got == pytest.approx(1.5), f"dynamics_loss gave {got}, expected 1.5. {hint}"


def test_dynamics_loss_gradient(lesson):
    m = lesson("algos.world_models")
    rng = np.random.default_rng(0)
    err = gradient_check(lambda p, t: m.dynamics_loss(p, t), [rng.standard_normal((4, 3)), rng.standard_normal((4, 3))])
    assert max(err) < 1e-7, f"gradient does not match finite differences (relative errors {err}): build the " \
                            "loss from Tensor operations only (no .data, no np.* on Tensors)"


# ------------------------------------------------------------------------------ bradley_terry_loss
def test_bradley_terry_loss_hand_values(lesson):
    m = lesson("algos.world_models")
    a, b = Tensor(np.array([0.0, 2.0, 2.0])), Tensor(np.array([0.0, 0.0, 0.0]))
    got = m.bradley_terry_loss(a, b, np.array([1.0, 1.0, 0.0])).item()
    expected = np.mean([np.log(2.0), np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))])   # 1.0597
    hint = ""
    if np.isclose(got, -expected):
        hint = "the sign is flipped: the loss is the NEGATIVE log-likelihood"
    elif np.isclose(got, 3 * expected):
        hint = "average over the pairs, do not sum"
    assert got == pytest.approx(expected, rel=1e-9), (
        f"bradley_terry_loss gave {got:.6f}, expected {expected:.6f} = mean of -log sigmoid(2) for the chosen "
        f"A and -log sigmoid(-2) for the rejected one (equal scores give log 2). {hint}")


def test_bradley_terry_loss_soft_labels_and_large_margins(lesson):
    m = lesson("algos.world_models")
    # y = 1/2: the loss is minimal (log 2 + d^2/8 + ...) at d = 0 and symmetric in d
    l_pos = m.bradley_terry_loss(Tensor(np.array([1.0])), Tensor(np.array([0.0])), np.array([0.5])).item()
    l_neg = m.bradley_terry_loss(Tensor(np.array([0.0])), Tensor(np.array([1.0])), np.array([0.5])).item()
    assert l_pos == pytest.approx(l_neg) and l_pos > np.log(2), \
        "with y = 1/2 both orders must give the same loss, above log 2: use y and (1 - y) weights"
    big = m.bradley_terry_loss(Tensor(np.array([800.0])), Tensor(np.array([0.0])), np.array([0.0])).item()
    assert not big == pytest.approx(0.0, abs=1e-6), (
        "a margin of 800 for A when the judge preferred B (y = 0) cost nothing: your loss rewards the wrong "
        "side. d = score_a - score_b, and y = 1 means A preferred: y softplus(-d) + (1 - y) softplus(d)")
    assert np.isfinite(big) and big == pytest.approx(800.0), (
        f"a margin of 800 against the judge should cost 800, got {big}: log(sigmoid(-800)) underflows; "
        "write -log sigmoid(d) as softplus(-d)")


def test_bradley_terry_loss_gradient(lesson):
    m = lesson("algos.world_models")
    rng = np.random.default_rng(1)
    y = np.array([1.0, 0.0, 0.3, 1.0, 0.5])
    err = gradient_check(lambda a, b: m.bradley_terry_loss(a, b, y), [3 * rng.standard_normal(5), 3 * rng.standard_normal(5)])
    assert max(err) < 1e-7, f"gradient does not match finite differences (relative errors {err})"


# ------------------------------------------------------------------------------ imagined_return
def _zero_policy(rng):
    policy = GaussianPolicy(1, 1, rng=rng, hidden=(4,), log_std_init=-30.0)
    for p in policy.net.parameters():
        p.data = np.zeros_like(p.data)
    return policy


def test_imagined_return_hand_value(lesson):
    """Models s' = s + a and r = -s^2 with a zero-torque policy: J = -mean(s0^2) (1 + g + g^2)."""
    m = lesson("algos.world_models")
    rng = np.random.default_rng(0)
    J = m.imagined_return(_zero_policy(rng), lambda s, a: s + a, lambda s, a: -(s * s).sum(axis=-1),
                          np.array([[1.0], [2.0]]), 3, rng, gamma=0.5, action_scale=2.0)
    expected = -2.5 * (1 + 0.5 + 0.25)
    got = J.item()
    hint = ""
    if np.isclose(got, -2.5 * 3):
        hint = "discount step t by gamma**t"
    elif np.isclose(got, -5.0 * 1.75):
        hint = "average over the start states, do not sum"
    elif np.isclose(got, -2.5 * (0.5 + 0.25 + 0.125)):
        hint = "the first reward (t = 0) is not discounted"
    assert got == pytest.approx(expected, rel=1e-9), f"imagined_return gave {got}, expected {expected}. {hint}"


def test_imagined_return_uses_the_policy_and_the_dynamics(lesson):
    """A constant action 1 (mean u = atanh(1/2), scale 2) moves s by +1 per step: r_t = -(s0 + t)^2."""
    m = lesson("algos.world_models")
    rng = np.random.default_rng(0)
    policy = _zero_policy(rng)
    policy.net.layers[-1].bias.data = np.array([np.arctanh(0.5)])
    J = m.imagined_return(policy, lambda s, a: s + a, lambda s, a: -(s * s).sum(axis=-1),
                          np.array([[0.0]]), 3, rng, gamma=1.0, action_scale=2.0, stochastic=False)
    assert J.item() == pytest.approx(-(0 + 1 + 4)), (
        f"got {J.item()}, expected -5 = -(0^2 + 1^2 + 2^2): take the reward of (s_t, a_t) BEFORE stepping, "
        "squash the action with squash_action(u, action_scale), then s_{t+1} = dynamics(s_t, a_t)")


def test_imagined_return_is_differentiable_end_to_end(lesson):
    m = lesson("algos.world_models")
    rng = np.random.default_rng(2)
    policy = GaussianPolicy(1, 1, rng=rng, hidden=(4,), head_gain=1.0)
    J = m.imagined_return(policy, lambda s, a: s + 0.1 * a, lambda s, a: -(s * s).sum(axis=-1),
                          np.array([[1.0], [-0.5]]), 4, rng, gamma=0.9, action_scale=2.0)
    J.backward()
    grads = [p.grad for p in policy.parameters()]
    assert all(g is not None for g in grads), \
        "some policy parameters got no gradient: build the return from Tensors (rsample, not sample; no .data)"
    assert any(np.abs(g).sum() > 0 for g in grads)
