"""Lesson 05: score-function and pathwise gradient estimators (`lessons/estimators.py`).

You implement three functions:
  * score_function_surrogate  - mean_i (f_i - b_i) log p(x_i), with baselines "none", "mean", "loo";
  * reparameterise            - x = mean + exp(log_std) * eps;
  * exact_categorical_gradient - the gradient of sum_k softmax(logits)_k f(e_k) by autograd.
The first tests use numbers worked out by hand (in the comments); the last ones check that your
estimators are unbiased on x ~ N(1, 1), f = (x + 3)^2 (exact gradient 2 (1 + 3) = 8).

    pytest -m lesson05                     # the reference implementation
    pytest --impl lessons -m lesson05      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_tensor

from minirl.autograd import Tensor
from minirl.experiments.estimator_lab import LinearCategorical, Quadratic

pytestmark = pytest.mark.lesson05

LOG_PROB = [0.1, 0.2, 0.3]
REWARDS = np.array([1.0, 2.0, 6.0])


def _surrogate(m, baseline):
    log_prob = Tensor(np.array(LOG_PROB), requires_grad=True)
    out = check_tensor(m.score_function_surrogate(log_prob, REWARDS, baseline), shape=(),
                       name=f"score_function_surrogate(baseline={baseline!r})")
    out.backward()
    return out.item(), log_prob.grad


def test_score_function_no_baseline_hand_computed(lesson):
    m = lesson("estimators")
    value, grad = _surrogate(m, "none")
    # value = (0.1 * 1 + 0.2 * 2 + 0.3 * 6) / 3 = 2.3 / 3;  d value / d log_prob_i = f_i / N
    assert_close(value, 2.3 / 3, name="score_function_surrogate (no baseline)",
                 hint="the surrogate is the MEAN over samples of log_prob * reward (not the sum)")
    assert_close(grad, REWARDS / 3, name="gradient of the surrogate w.r.t. log_prob",
                 hint="each log p(x_i) should be weighted by its own reward f_i / N")


def test_score_function_mean_baseline_hand_computed(lesson):
    m = lesson("estimators")
    value, grad = _surrogate(m, "mean")
    # b = (1 + 2 + 6) / 3 = 3 for every sample:  f - b = [-2, -1, 3]
    assert_close(grad, np.array([-2.0, -1.0, 3.0]) / 3, name="gradient with the batch-mean baseline",
                 hint="the 'mean' baseline subtracts the same batch mean (here 3) from every reward")
    assert_close(value, (-0.2 - 0.2 + 0.9) / 3, name="score_function_surrogate (mean baseline)")


def test_score_function_leave_one_out_hand_computed(lesson):
    m = lesson("estimators")
    value, grad = _surrogate(m, "loo")
    # b_i = mean of the OTHER rewards: [(2 + 6)/2, (1 + 6)/2, (1 + 2)/2] = [4, 3.5, 1.5]
    # f - b = [-3, -1.5, 4.5], divided by N = 3:  [-1, -0.5, 1.5]
    if np.allclose(grad, np.array([-2.0, -1.0, 3.0]) / 3):
        pytest.fail("you computed the batch-mean baseline: leave-one-out leaves f_i out of its own "
                    "baseline, b_i = (sum_j f_j - f_i) / (N - 1)")
    assert_close(grad, [-1.0, -0.5, 1.5], name="gradient with the leave-one-out baseline",
                 hint="b_i = (sum_j f_j - f_i) / (N - 1): divide by N - 1 (the number of OTHER samples), "
                      "and then take the mean over the N samples")
    assert_close(value, 0.75 / 3, name="score_function_surrogate (leave-one-out)")


def test_score_function_surrogate_is_per_batch(lesson):
    m = lesson("estimators")
    log_prob = Tensor(np.array([LOG_PROB, LOG_PROB]), requires_grad=True)          # (B=2, N=3)
    rewards = np.stack([REWARDS, 2 * REWARDS])
    out = check_tensor(m.score_function_surrogate(log_prob, rewards, "loo"), shape=(2,),
                       name="score_function_surrogate")
    out.sum().backward()
    assert_close(log_prob.grad, [[-1.0, -0.5, 1.5], [-2.0, -1.0, 3.0]], name="per-batch gradient",
                 hint="reduce over the LAST axis only (the samples of one batch): axis=-1, keepdims=True")


def test_reparameterise_and_pathwise_gradient_hand_computed(lesson):
    m = lesson("estimators")
    mean = Tensor(np.array([[[0.5]]]), requires_grad=True)                        # (B=1, 1, D=1)
    log_std = Tensor(np.array([[[np.log(2.0)]]]), requires_grad=True)             # sigma = 2
    eps = np.array([[[1.0], [0.5]]])                                               # (1, N=2, 1)
    x = check_tensor(m.reparameterise(mean, log_std, eps), shape=(1, 2, 1), requires_grad=True,
                     name="reparameterise")
    # x = 0.5 + 2 * [1, 0.5] = [2.5, 1.5]
    assert_close(x.data.ravel(), [2.5, 1.5], name="reparameterise",
                 slips={"read log_std as a log-variance, std = exp(log_std / 2): here it is the log of the "
                        "std itself": 0.5 + np.sqrt(2.0) * np.array([1.0, 0.5])},
                 hint="x = mean + exp(log_std) * eps: the standard deviation is exp(log_std), not log_std")
    objective = m.pathwise_objective(mean, log_std, eps, Quadratic(1.0))
    # f = (x - 1)^2 = [2.25, 0.25] -> mean 1.25
    assert_close(objective.data, [1.25], name="pathwise_objective")
    objective.sum().backward()
    # d/dmean = mean_i 2 (x_i - 1) = (3 + 1) / 2 = 2
    # d/dlog_std = mean_i 2 (x_i - 1) * sigma * eps_i = (3 * 2 * 1 + 1 * 2 * 0.5) / 2 = 3.5
    assert_close(mean.grad.ravel(), [2.0], name="pathwise gradient w.r.t. mean")
    if log_std.grad is None:
        pytest.fail("no gradient reached log_std: build the sample from log_std with Tensor operations "
                    "(log_std.exp(), not np.exp(log_std.data)), so the chain rule can reach it")
    if np.allclose(log_std.grad.ravel(), [1.75]):
        pytest.fail("your gradient w.r.t. log_std is d/dsigma (1.75): the sample must be built from "
                    "log_std with Tensor operations, x = mean + log_std.exp() * eps, so that the chain "
                    "rule adds the factor dsigma/dlog_std = sigma")
    assert_close(log_std.grad.ravel(), [3.5], name="pathwise gradient w.r.t. log_std",
                 hint="dx/dlog_std = exp(log_std) * eps; build x from Tensor operations only")


def test_exact_categorical_gradient_hand_computed(lesson):
    m = lesson("estimators")
    p, v = np.array([0.2, 0.3, 0.5]), np.array([1.0, -2.0, 4.0])
    got = m.exact_categorical_gradient(LinearCategorical(tuple(v)), np.log(p))
    # E f = p . v = 0.2 - 0.6 + 2 = 1.6;  grad = p * (v - 1.6) = [-0.12, -1.08, 1.2]
    if np.allclose(got, p * v):
        pytest.fail("you got p * v: raising one logit also lowers every other probability; let autograd "
                    "differentiate sum_k softmax(logits)_k v_k through the softmax")
    # slips: weighting f by log-probabilities gives v - p * sum(v) = [0.4, -2.9, 2.5]; a mean over the
    # K = 3 categories instead of the sum gives a third of the answer
    assert_close(got, [-0.12, -1.08, 1.2], name="exact_categorical_gradient",
                 slips={"weight f by log-probabilities (log_softmax): E f = sum_k softmax(logits)_k f(e_k) "
                        "weights by the probabilities": [0.4, -2.9, 2.5],
                        "average over the categories (.mean()): the expectation is a SUM over k of "
                        "p_k f(e_k)": [-0.04, -0.36, 0.4]},
                 hint="the components must sum to 0 (adding a constant to all logits changes nothing)")


@pytest.mark.parametrize("estimator,n,factor", [("score", 1, 1.0), ("score_loo", 4, 1.0),
                                                 ("score_mean", 4, 0.75), ("pathwise", 1, 1.0)])
def test_estimators_are_unbiased_or_biased_as_predicted(lesson, estimator, n, factor):
    m = lesson("estimators")
    g, _ = m.normal_gradients(Quadratic(-3.0), [1.0], [0.0], np.random.default_rng(0), n, estimator,
                              n_batches=20000)
    mean, se = g.mean(), g.std() / np.sqrt(g.size)
    expected = factor * 8.0                      # exact gradient 2 (mu - k) = 8; batch mean: (1 - 1/N) * 8
    if se == 0 and estimator == "pathwise":      # every estimate the same: the sample ignores eps
        pytest.fail(
            f"pathwise: all 20000 estimates are exactly {mean:.3f}: your sample does not depend on eps, "
            "so its standard deviation is 0. x = mean + exp(log_std) * eps: at log_std = 0 the std is "
            "exp(0) = 1, not log_std = 0 (did you use log_std as the std?)")
    assert abs(mean - expected) <= max(4 * se, 1e-9 * abs(expected)), (
        f"{estimator} with N = {n}: the average of 20000 estimates is {mean:.3f} +- {se:.3f}, expected "
        f"{expected} (exact gradient 8{'' if factor == 1 else ', times 1 - 1/N for the batch mean'}); "
        + ("check reparameterise: x = mean + exp(log_std) * eps, built from Tensor operations"
           if estimator == "pathwise" else
           "check the baseline and that the surrogate averages over the samples"))


def test_pathwise_variance_is_four_for_every_k(lesson):
    m = lesson("estimators")
    for k in (1.0, -3.0):
        g, _ = m.normal_gradients(Quadratic(k), [1.0], [0.0], np.random.default_rng(1), 1, "pathwise",
                                  n_batches=20000)
        assert abs(g.var() - 4.0) < 0.25, (
            f"pathwise per-sample variance at k = {k} is {g.var():.2f}, expected 4 = Var[2 (x - k)]: "
            "the pathwise gradient of (x - k)^2 is 2 (x - k), whatever k is")
