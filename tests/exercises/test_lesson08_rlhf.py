"""Lesson 08: the KL-penalised per-token reward of RLHF and the RLOO baseline (`lessons/algos/rlhf_pg.py`).

    pytest -m lesson08                     # the reference implementation
    pytest --impl lessons -m lesson08      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_array

pytestmark = pytest.mark.lesson08

# Two responses of three tokens. Per-token log-probabilities under pi and pi_ref:
LOGP = np.log(np.array([[0.5, 0.5, 0.8], [0.2, 0.9, 0.5]]))
REF_LOGP = np.log(np.array([[0.25, 0.5, 0.4], [0.4, 0.9, 0.5]]))
SCORE = np.array([1.0, -2.0])       # the reward model's score of each whole response


def test_kl_penalised_rewards_hand_computed(lesson):
    m = lesson("algos.rlhf_pg")
    out = check_array(m.kl_penalised_rewards(SCORE, LOGP, REF_LOGP, 0.5), shape=(2, 3), dtype_kind="f",
                      name="kl_penalised_rewards")
    # r_t = -0.5 (log pi - log pi_ref); response 0: log ratios (log 2, 0, log 2); response 1: (-log 2, 0, 0)
    # the score is added at the last token only
    expected = np.array([[-0.5 * np.log(2), 0.0, -0.5 * np.log(2) + 1.0],
                         [0.5 * np.log(2), 0.0, -2.0]])
    flipped = expected.copy()
    flipped[:, :] = -expected + np.array([[0, 0, 2.0], [0, 0, -4.0]])     # the same with +kl_coef
    assert_close(out, expected, name="kl_penalised_rewards",
                 slips={"flip the sign of the KL penalty: r_t = -kl_coef * (logp_t - ref_logp_t) punishes "
                        "moving away from the reference": flipped},
                 hint="r_t = -kl_coef * (logp_t - ref_logp_t), and the score goes on the LAST token only "
                      "(not on every token, not on the first)")


def test_kl_penalised_rewards_sum_is_score_minus_beta_log_ratio(lesson):
    m = lesson("algos.rlhf_pg")
    rng = np.random.default_rng(0)
    logp, ref_logp, score = rng.normal(size=(5, 4)), rng.normal(size=(5, 4)), rng.normal(size=5)
    out = check_array(m.kl_penalised_rewards(score, logp, ref_logp, 0.2), shape=(5, 4), dtype_kind="f",
                      name="kl_penalised_rewards")
    assert_close(out.sum(-1), score - 0.2 * (logp - ref_logp).sum(-1), name="sum over tokens of kl_penalised_rewards",
                 hint="summed over the response it must be r_phi(x, y) - beta log(pi(y|x) / pi_ref(y|x))")
    # the inputs must not be modified in place
    before = logp.copy()
    m.kl_penalised_rewards(score, logp, ref_logp, 0.2)
    assert np.array_equal(before, logp), "kl_penalised_rewards modified its input logp in place: build a new array"


def test_zero_kl_coefficient_leaves_only_the_score(lesson):
    m = lesson("algos.rlhf_pg")
    out = check_array(m.kl_penalised_rewards(SCORE, LOGP, REF_LOGP, 0.0), shape=(2, 3), dtype_kind="f",
                      name="kl_penalised_rewards")
    assert_close(out, [[0, 0, 1.0], [0, 0, -2.0]], name="kl_penalised_rewards with kl_coef = 0")


def test_rloo_advantages_hand_computed(lesson):
    m = lesson("algos.rlhf_pg")
    returns = np.array([1.0, 2.0, 3.0, 4.0, 10.0, 10.0, 10.0, 14.0])   # two prompts, k = 4 each
    out = check_array(m.rloo_advantages(returns, 4), shape=(8,), dtype_kind="f", name="rloo_advantages")
    # prompt 1: A_1 = 1 - (2+3+4)/3 = -2; A_2 = 2 - 8/3; A_3 = 3 - 7/3; A_4 = 4 - 2 = 2
    # prompt 2: the three 10s each see (10+10+14)/3; the 14 sees 10
    expected = [-2, 2 - 8 / 3, 3 - 7 / 3, 2, 10 - 34 / 3, 10 - 34 / 3, 10 - 34 / 3, 4]
    R = returns.reshape(-1, 4)
    strided = returns.reshape(4, -1).T                                     # samples 0, 2, 4, 6 as a group
    assert_close(out, expected, name="rloo_advantages",
                 slips={"divide by k: the sum of the OTHER returns is divided by k - 1":
                        (R - (R.sum(axis=1, keepdims=True) - R) / 4).reshape(-1),
                        "group the wrong samples: the k samples of a prompt are consecutive, "
                        "returns.reshape(-1, k)": (strided - (strided.sum(axis=1, keepdims=True) - strided) / 3
                                                   ).reshape(-1)},
                 hint="the baseline of sample i is the mean of the OTHER k-1 returns of the same prompt "
                      "(not the mean of all k, which gives values (k-1)/k times too small)")


def test_rloo_advantages_with_k_2_are_half_the_difference_times_two(lesson):
    m = lesson("algos.rlhf_pg")
    out = check_array(m.rloo_advantages(np.array([3.0, 1.0, -1.0, 5.0]), 2), shape=(4,), dtype_kind="f",
                      name="rloo_advantages")
    assert_close(out, [2.0, -2.0, -6.0, 6.0], name="rloo_advantages",
                 hint="with k = 2 each sample's baseline is the other sample: A = R_i - R_j")
