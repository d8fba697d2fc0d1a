"""Lesson 04: PPO's clipped surrogate, value loss and diagnostics (`lessons/algos/ppo_loss.py`).

The batch below has four samples chosen so that each case of the clip appears once; the expected
numbers are worked out in the comments.

    pytest -m lesson04                     # the reference implementation
    pytest --impl lessons -m lesson04      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_scalar, check_tensor

from minirl.autograd import Tensor
from minirl.gradcheck import gradient_check

pytestmark = pytest.mark.lesson04

RATIO = np.array([1.5, 0.5, 1.1, 0.7])      # pi_new / pi_old
ADV = np.array([1.0, 1.0, -1.0, -1.0])
LOGP_OLD = np.zeros(4)


def _logp_new():
    return Tensor(np.log(RATIO), requires_grad=True)


def test_clipped_surrogate_value(lesson):
    m = lesson("algos.ppo_loss")
    loss = check_tensor(m.clipped_surrogate(_logp_new(), LOGP_OLD, ADV, 0.2), shape=(),
                        name="clipped_surrogate")
    # min(r A, clip(r, .8, 1.2) A) per sample:
    #   r = 1.5, A = +1: min(1.5, 1.2) = 1.2     (clipped: no incentive to push further)
    #   r = 0.5, A = +1: min(0.5, 0.8) = 0.5     (unclipped: the pessimistic side)
    #   r = 1.1, A = -1: min(-1.1, -1.1) = -1.1  (inside the range)
    #   r = 0.7, A = -1: min(-0.7, -0.8) = -0.8  (clipped)
    # loss = -mean = -(1.2 + 0.5 - 1.1 - 0.8) / 4 = 0.05
    # slips: the ratio inverted (pi_old / pi_new) gives -mean(min(A / r, clip(1 / r) A)) = 0.1177...;
    # the maximum of the two terms gives -(1.5 + 0.8 - 1.1 - 0.7) / 4 = -0.125
    assert_close(loss.data, 0.05, name="clipped_surrogate",
                 slips={"invert the ratio: r = exp(logp_new - logp_old) = pi_new / pi_old":
                        -np.mean(np.minimum(ADV / RATIO, np.clip(1 / RATIO, 0.8, 1.2) * ADV)),
                        "take the maximum of the two terms: PPO takes the MINIMUM (the pessimistic one)": -0.125},
                 hint="L = -mean(min(r A, clip(r, 1 - eps, 1 + eps) A)) with r = exp(logp_new - logp_old); "
                      "-0.05 means a missing minus sign (it is a loss to minimise)")


def test_clipped_surrogate_gradient_is_zero_where_clipped(lesson):
    m = lesson("algos.ppo_loss")
    logp = _logp_new()
    m.clipped_surrogate(logp, LOGP_OLD, ADV, 0.2).backward()
    # d/d logp_i of -(1/4) r_i A_i = -(1/4) r_i A_i where the unclipped term is the minimum, else 0
    expected = np.array([0.0, -0.5 / 4, 1.1 / 4, 0.0])
    assert logp.grad is not None, "no gradient reached logp_new: build the loss from Tensor operations"
    assert_close(logp.grad, expected, name="gradient of clipped_surrogate",
                 hint="samples 0 and 3 are clipped and must get zero gradient: take the minimum of the "
                      "unclipped and the clipped objective, and clip the ratio (a Tensor op), not A")


def test_value_loss_plain_and_clipped(lesson):
    m = lesson("algos.ppo_loss")
    v_new = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    v_old, returns = np.array([0.5, 2.5, 1.0]), np.ones(3)
    plain = check_tensor(m.value_loss(v_new, v_old, returns), shape=(), name="value_loss")
    # 0.5 * mean([0, 1, 4]) = 5/6
    assert_close(plain.data, 5 / 6, name="value_loss", hint="0.5 * mean((V - R)^2): did you forget the 1/2?")
    clipped = check_tensor(m.value_loss(v_new, v_old, returns, 0.2), shape=(), name="value_loss(clipped)")
    # V_clip = V_old + clip(V - V_old, -.2, .2) = [0.7, 2.3, 1.2]; errors^2 [0.09, 1.69, 0.04]
    # max with unclipped [0, 1, 4] -> [0.09, 1.69, 4]; 0.5 * mean = 0.963333...
    # slips: clipping around the returns gives V_clip = [1, 1.2, 1.2], errors^2 [0, 0.04, 0.04], max 5/6;
    # the minimum of the two errors gives 0.5 * (0 + 1 + 0.04) / 3
    assert_close(clipped.data, 0.5 * (0.09 + 1.69 + 4.0) / 3, name="value_loss(clip_coef=0.2)",
                 slips={"clip around the returns: the clipped value is V_old + clip(V - V_old, -eps, eps)": 5 / 6,
                        "take the minimum of the two errors: the clipped loss takes the MAXIMUM":
                        0.5 * (0.0 + 1.0 + 0.04) / 3},
                 hint="take the elementwise MAXIMUM of the clipped and unclipped squared errors "
                      "(pessimistic), and clip V - V_old around V_old, not V itself")


def test_approx_kl_k1_and_k3(lesson):
    m = lesson("algos.ppo_loss")
    k1, k3 = m.approx_kl(np.log(RATIO), LOGP_OLD)
    log_r = np.log(RATIO)
    # k1 = mean(-log r) = 0.13726...;  k3 = mean(r - 1 - log r) = 0.08726...
    assert_close(check_scalar(k1, name="approx_kl k1"), 0.1372616747, name="approx_kl k1",
                 hint="k1 = mean(-log r) with log r = logp_new - logp_old (sign?)")
    assert_close(check_scalar(k3, name="approx_kl k3"), 0.0872616747, name="approx_kl k3",
                 slips={"drop the -1: k3 = mean((r - 1) - log r)": 1.0872616747,
                        "invert the ratio: r = pi_new / pi_old, log r = logp_new - logp_old":
                        np.mean(1 / RATIO - 1 + log_r)},
                 hint="k3 = mean((r - 1) - log r), every term >= 0")
    assert np.all(RATIO - 1 - log_r >= 0)


def test_clip_fraction(lesson):
    m = lesson("algos.ppo_loss")
    frac = check_scalar(m.clip_fraction(np.log(RATIO), LOGP_OLD, 0.2), name="clip_fraction")
    assert_close(frac, 0.75, name="clip_fraction",
                 slips={"compare r itself with eps: the distance from 1, |r - 1| > eps, is what is clipped": 1.0,
                        "count only r > 1 + eps: take the absolute value |r - 1| (0.5 and 0.7 are clipped too)": 0.25,
                        "count the clipped samples: the fraction is their MEAN over the batch": 3.0},
                 hint="count the samples with |r - 1| > eps: ratios 1.5, 0.5 and 0.7 (not 1.1)")


def test_explained_variance(lesson):
    m = lesson("algos.ppo_loss")
    ev = check_scalar(m.explained_variance(np.array([1.0, 2, 3, 3]), np.array([1.0, 2, 3, 4])),
                      name="explained_variance")
    # Var(y) = 1.25, Var(y - pred) = Var([0, 0, 0, 1]) = 0.1875 -> 1 - 0.15 = 0.85
    # slips: Var(pred) = 0.6875, so 1 - 0.1875 / 0.6875 = 0.727 and 0.6875 / 1.25 = 0.55
    assert_close(ev, 0.85, name="explained_variance",
                 slips={"drop the 1 -: that is the UNexplained fraction": 0.15,
                        "divide by Var(y_pred): divide by the variance of the targets y_true": 1 - 0.1875 / 0.6875,
                        "take Var(y_pred) / Var(y_true): the formula uses the residual y_true - y_pred": 0.55},
                 hint="1 - Var(y_true - y_pred) / Var(y_true); arguments are (y_pred, y_true)")


def test_clipped_surrogate_matches_finite_differences(lesson):
    m = lesson("algos.ppo_loss")
    rng = np.random.default_rng(0)
    logp_old = rng.normal(-1.0, 0.3, 16)
    adv = rng.standard_normal(16)
    logp_new = logp_old + rng.normal(0.0, 0.3, 16)            # some ratios clipped, some not
    errors = gradient_check(lambda lp: m.clipped_surrogate(lp, logp_old, adv, 0.2), [logp_new])
    assert errors[0] < 1e-6, (f"your clipped_surrogate's gradient differs from finite differences "
                              f"(relative error {errors[0]:.2e}): build it only from Tensor operations")
