"""Lesson 09: the DPO loss (Rafailov et al. 2023, eq. 7) and IPO (`lessons/algos/dpo.py`).

    pytest -m lesson09                     # the reference implementation
    pytest --impl lessons -m lesson09      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_scalar, check_tensor

from minirl.autograd import Tensor
from minirl.gradcheck import gradient_check

pytestmark = pytest.mark.lesson09

# Three preference pairs: log-probabilities of the chosen (w) and rejected (l) responses.
LOGP_W = np.array([-1.0, -2.0, -0.5])
LOGP_L = np.array([-2.0, -1.0, -3.0])
REF_W = np.array([-1.5, -2.0, -1.0])
REF_L = np.array([-1.5, -1.5, -2.0])
# h = (logp_w - ref_w) - (logp_l - ref_l) = (0.5 - (-0.5), 0 - 0.5, 0.5 - (-1.0)) = (1.0, -0.5, 1.5)
H = np.array([1.0, -0.5, 1.5])


def _loss(m, beta, kind="dpo", requires_grad=False):
    return m.dpo_loss(Tensor(LOGP_W, requires_grad=requires_grad), Tensor(LOGP_L, requires_grad=requires_grad),
                      REF_W, REF_L, beta, kind)


def test_dpo_loss_hand_computed(lesson):
    m = lesson("algos.dpo")
    loss = check_scalar(_loss(m, 0.5), name="dpo_loss")
    expected = np.mean(np.log1p(np.exp(-0.5 * H)))          # -log sigmoid(beta h), averaged
    if np.isclose(loss, np.mean(np.log1p(np.exp(-H)))):
        raise AssertionError("your dpo_loss ignores beta: the logit is beta * h, not h")
    if np.isclose(loss, np.mean(np.log1p(np.exp(0.5 * H)))):
        raise AssertionError("your dpo_loss has the sign of h flipped: chosen minus rejected, not the reverse")
    assert_close(loss, expected, name="dpo_loss",
                 slips={"leave out the reference model: h = (logp_w - ref_w) - (logp_l - ref_l)":
                        np.mean(np.log1p(np.exp(-0.5 * (LOGP_W - LOGP_L))))},
                 hint="L = -mean(log sigmoid(beta * ((logp_w - ref_w) - (logp_l - ref_l)))); "
                      "-log sigmoid(z) = softplus(-z)")


def test_dpo_loss_is_log_2_when_the_policy_is_the_reference(lesson):
    m = lesson("algos.dpo")
    loss = check_scalar(m.dpo_loss(Tensor(REF_W), Tensor(REF_L), REF_W, REF_L, 0.1), name="dpo_loss")
    assert_close(loss, np.log(2.0), name="dpo_loss at pi = pi_ref",
                 hint="with pi = pi_ref every log-ratio is 0, sigmoid(0) = 1/2, so the loss is log 2")


def test_dpo_loss_gradient_matches_finite_differences(lesson):
    m = lesson("algos.dpo")
    check_tensor(_loss(m, 0.5, requires_grad=True), shape=(), name="dpo_loss", requires_grad=True)
    errors = gradient_check(lambda w, l: m.dpo_loss(w, l, REF_W, REF_L, 0.5), [LOGP_W, LOGP_L])
    assert max(errors) < 1e-7, (f"dpo_loss gradient differs from finite differences (relative errors {errors}): "
                                "build the loss from Tensor operations only")


def test_ipo_loss_hand_computed(lesson):
    m = lesson("algos.dpo")
    loss = check_scalar(_loss(m, 0.25, "ipo"), name="dpo_loss(kind='ipo')")
    # target 1 / (2 tau) = 2: mean((1 - 2)^2, (-0.5 - 2)^2, (1.5 - 2)^2) = (1 + 6.25 + 0.25) / 3 = 2.5
    assert_close(loss, 2.5, name="dpo_loss(kind='ipo')",
                 slips={"aim h at 1 / tau: the IPO target is 1 / (2 tau)": np.mean((H - 4.0) ** 2)},
                 hint="L_IPO = mean((h - 1/(2 tau))^2) with the same h as DPO and tau = beta")
    errors = gradient_check(lambda w, l: m.dpo_loss(w, l, REF_W, REF_L, 0.25, "ipo"), [LOGP_W, LOGP_L])
    assert max(errors) < 1e-7, f"IPO gradient differs from finite differences: {errors}"
