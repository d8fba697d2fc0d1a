"""Lesson 12: SAC's squashed log-probability, soft Bellman target and losses (`lessons/algos/sac_loss.py`).

Every expected number is worked out in the comments.

    pytest -m lesson12                     # the reference implementation
    pytest --impl lessons -m lesson12      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_array, check_tensor

from minirl.autograd import Tensor
from minirl.gradcheck import gradient_check

pytestmark = pytest.mark.lesson12

LOG_SECH2_1 = np.log(1 - np.tanh(1.0) ** 2)          # log(1 - tanh(1)^2) = -0.867501...


def test_squashed_log_prob_values(lesson):
    m = lesson("algos.sac_loss")
    u = Tensor(np.array([[0.0, 1.0]]))
    logp = check_tensor(m.squashed_log_prob(Tensor(np.array([-1.0])), u, 1.0), shape=(1,),
                        name="squashed_log_prob")
    # log pi = log N(u) - sum_i log(1 - tanh(u_i)^2) = -1 - (0 + (-0.867501)) = -0.132499
    assert_close(logp.data, [-1.0 - LOG_SECH2_1], name="squashed_log_prob(scale=1)",
                 hint="SUBTRACT the log-Jacobian sum_i log(1 - tanh(u_i)^2) from log N(u) (summed over "
                      "the action dimensions, one number per row)")
    logp2 = m.squashed_log_prob(Tensor(np.array([-1.0])), u, np.array([2.0, 2.0]))
    # a = 2 tanh(u): each dimension adds log 2 to the log-Jacobian: -1 - (-0.867501 + 2 log 2) = -1.518793
    assert_close(logp2.data, [-1.0 - LOG_SECH2_1 - 2 * np.log(2.0)], name="squashed_log_prob(scale=2)",
                 hint="with a = c tanh(u), da/du = c (1 - tanh(u)^2): the Jacobian term is "
                      "log c + log(1 - tanh^2) per dimension, and the module computes sum log c for you")


def test_squashed_log_prob_is_finite_where_tanh_saturates(lesson):
    m = lesson("algos.sac_loss")
    # at u = 30, 1 - tanh(u)^2 is exactly 0 in float64: log(0) = -inf. The identity
    # log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)) gives 2 (log 2 - 30) = -58.6137
    u = Tensor(np.array([[30.0], [-30.0]]), requires_grad=True)
    logp = check_tensor(m.squashed_log_prob(Tensor(np.zeros(2)), u, 1.0), shape=(2,), name="squashed_log_prob")
    assert np.all(np.isfinite(logp.data)), (
        f"your squashed_log_prob gave {logp.data} at u = +-30: 1 - tanh(u)^2 underflows to 0. Use "
        "log_one_minus_tanh_sq(u) (defined above it in the module), the stable form")
    assert_close(logp.data, [-2 * (np.log(2.0) - 30.0)] * 2, name="squashed_log_prob(u=+-30)",
                 slips={"sum the correction over the whole batch: one log-Jacobian per row, .sum(axis=-1)":
                        [-4 * (np.log(2.0) - 30.0)] * 2},
                 hint="log pi = log N(u) - 2 (log 2 - |u| - softplus(-2|u|)); it is symmetric in u")


def test_soft_bellman_target_values(lesson):
    m = lesson("algos.sac_loss")
    rewards, terminated = np.array([1.0, 0.0, -1.0]), np.array([False, True, False])
    next_q = np.array([[2.0, 5.0, -1.0], [3.0, 4.0, -2.0]])        # (E=2, B=3)
    next_log_prob = np.array([0.5, 0.1, -1.0])
    y = check_array(m.soft_bellman_target(rewards, terminated, next_q, next_log_prob, gamma=0.9, alpha=0.2),
                    shape=(3,), dtype_kind="f", name="soft_bellman_target")
    # min over critics [2, 4, -2]; soft value min Q' - alpha log pi = [1.9, 3.98, -1.8]
    # y = r + 0.9 (1 - d) V = [1 + 1.71, 0 (terminated: no future), -1 - 1.62] = [2.71, 0, -2.62]
    hint = ("y = r + gamma (1 - terminated) (min_j Q'_j - alpha log pi'): [3.61, 0, -1.72] means max "
            "instead of min over the critics (axis 0); a nonzero middle entry forgot (1 - terminated); "
            "check the sign of the entropy term (-alpha log pi)")
    assert_close(y, [2.71, 0.0, -2.62], name="soft_bellman_target", hint=hint)


def test_critic_loss_value_and_gradient(lesson):
    m = lesson("algos.sac_loss")
    q = Tensor(np.array([[1.0, 2.0], [0.0, 4.0]]), requires_grad=True)   # (E=2, B=2)
    y = np.array([1.0, 3.0])
    loss = check_tensor(m.critic_loss(q, y), shape=(), name="critic_loss", requires_grad=True)
    # member 0: errors [0, -1], mean square 0.5; member 1: [-1, 1], mean square 1; 0.5 (0.5 + 1) = 0.75
    assert_close(loss.data, 0.75, name="critic_loss",
                 slips={"average the critics before regressing: each critic is regressed on y on its own":
                        0.5 * np.mean((q.data.mean(axis=0) - y) ** 2)},
                 hint="1/2 sum over critics of the mean over the batch of (Q_j - y)^2")
    loss.backward()
    # dL/dq_jb = (q_jb - y_b) / B
    assert_close(q.grad, [[0.0, -0.5], [-0.5, 0.5]], name="gradient of critic_loss",
                 hint="each critic is regressed on y on its own: no minimum in the critic loss")


def test_actor_loss_value_and_gradient(lesson):
    m = lesson("algos.sac_loss")
    log_prob = Tensor(np.array([-1.0, 0.5]), requires_grad=True)
    q_pi = Tensor(np.array([[1.0, 2.0], [3.0, 0.0]]), requires_grad=True)   # (E=2, B=2)
    loss = check_tensor(m.actor_loss(log_prob, q_pi, alpha=0.5), shape=(), name="actor_loss", requires_grad=True)
    # min over critics [1, 0]; per sample alpha log pi - min Q = [-0.5 - 1, 0.25 - 0] -> mean -0.625
    assert_close(loss.data, -0.625, name="actor_loss",
                 slips={"take the max over the critics: the actor uses the MINIMUM (the pessimistic critic)":
                        np.mean([-0.5 - 3.0, 0.25 - 2.0]),
                        "average the critics: the actor uses their MINIMUM": np.mean([-0.5 - 2.0, 0.25 - 1.0])},
                 hint="L = mean_B(alpha log pi - min_j Q_j(s, a~)); +0.625 or 0.625-ish values: check signs")
    loss.backward()
    assert_close(log_prob.grad, [0.25, 0.25], name="gradient of actor_loss w.r.t. log pi",
                 hint="d L / d log pi_b = alpha / B")
    assert_close(q_pi.grad, [[-0.5, 0.0], [0.0, -0.5]], name="gradient of actor_loss w.r.t. Q",
                 hint="only the smaller critic of each sample gets a gradient (-1/B): take the minimum "
                      "over axis 0 (the critics), as a Tensor operation")


def test_temperature_loss_value_gradient_and_direction(lesson):
    m = lesson("algos.sac_loss")
    log_alpha = Tensor(np.asarray(np.log(0.5)), requires_grad=True)
    log_prob = Tensor(np.array([-2.0, 0.0]), requires_grad=True)          # a Tensor: must be held constant
    loss = check_tensor(m.temperature_loss(log_alpha, log_prob, target_entropy=-1.0), shape=(),
                        name="temperature_loss", requires_grad=True)
    # mean(log pi + H_target) = mean([-3, -1]) = -2;  L = -log(0.5) * (-2) = 2 log 0.5 = -1.386294
    assert_close(loss.data, 2 * np.log(0.5), name="temperature_loss",
                 slips={"multiply alpha, not log_alpha: the loss is -log_alpha * mean(...) (log_alpha is the "
                        "parameter)": -0.5 * -2.0,
                        "subtract the target entropy: mean(log pi + target_entropy)": 0.0},
                 hint="L = -log_alpha * mean(log pi + target_entropy)")
    loss.backward()
    # dL/dlog_alpha = -mean(log pi + H) = 2 > 0: the entropy (1) is above the target (-1), so gradient
    # descent lowers alpha
    assert_close(log_alpha.grad, 2.0, name="gradient of temperature_loss",
                 hint="d L / d log_alpha = -mean(log pi + target_entropy); it must make alpha FALL when the "
                      "entropy -log pi is above the target")
    assert log_prob.grad is None, ("your temperature_loss sent a gradient into log pi: the temperature "
                                   "step must not move the policy (use the values, not the Tensor)")


def test_losses_match_finite_differences(lesson):
    m = lesson("algos.sac_loss")
    rng = np.random.default_rng(0)
    nlp, u = rng.standard_normal(5), rng.normal(0.0, 2.0, (5, 2))
    errors = gradient_check(lambda a, b: m.squashed_log_prob(a, b, np.array([2.0, 0.5])), [nlp, u])
    assert max(errors) < 1e-6, f"squashed_log_prob: gradient differs from finite differences {errors}"
    q, y = rng.standard_normal((2, 6)), rng.standard_normal(6)
    errors = gradient_check(lambda q: m.critic_loss(q, y), [q])
    assert errors[0] < 1e-6, f"critic_loss: gradient differs from finite differences {errors}"
    errors = gradient_check(lambda lp, q: m.actor_loss(lp, q, 0.3), [rng.standard_normal(6), q])
    assert max(errors) < 1e-6, f"actor_loss: gradient differs from finite differences {errors}"
    errors = gradient_check(lambda la: m.temperature_loss(la, np.full(6, 0.2), -1.0),
                            [np.asarray(0.1)])
    assert errors[0] < 1e-6, f"temperature_loss: gradient differs from finite differences {errors}"
