"""Lesson 10: the exact distribution of best-of-N sampling (`lessons/algos/best_of_n.py`).

    pytest -m lesson10                     # the reference implementation
    pytest --impl lessons -m lesson10      # your implementation
"""

import itertools

import numpy as np
import pytest
from helpers import assert_close, check_array

pytestmark = pytest.mark.lesson10

# One prompt, four responses with reference probabilities and rewards (two are tied).
P_REF = np.array([0.1, 0.2, 0.3, 0.4])
REWARD = np.array([3.0, 1.0, 2.0, 1.0])


def _brute_force(p, r, n):
    """Enumerate every N-tuple of draws; the best wins, ties split evenly among the tied draws."""
    out = np.zeros(len(p))
    for draw in itertools.product(range(len(p)), repeat=n):
        prob = np.prod(p[list(draw)])
        best = max(r[d] for d in draw)
        winners = [d for d in draw if r[d] == best]
        for w in winners:
            out[w] += prob / len(winners)
    return out


def test_best_of_2_hand_computed(lesson):
    m = lesson("algos.best_of_n")
    out = check_array(m.best_of_n_log_probs(np.log(P_REF)[None], REWARD[None], 2), shape=(1, 4),
                      dtype_kind="f", name="best_of_n_log_probs", finite=False)
    # sorted by reward: group {1, 3} (mass 0.6), then 2 (0.3), then 0 (0.1); F = 0.6, 0.9, 1.0
    # group {1,3}: 0.6^2 = 0.36 split 0.2 : 0.4 -> 0.12, 0.24; response 2: 0.9^2 - 0.6^2 = 0.45;
    # response 0: 1 - 0.81 = 0.19
    assert_close(np.exp(out[0]), [0.19, 0.12, 0.45, 0.24], name="best_of_n_log_probs",
                 slips={"return probabilities: the function returns LOG-probabilities":
                        np.exp([0.19, 0.12, 0.45, 0.24]),
                        "split a tied group equally: ties share in proportion to pi_ref (0.2 : 0.4)":
                        [0.19, 0.18, 0.45, 0.18]},
                 hint="P(winner in group g) = F(g)^N - F(g-)^N with F the reference CDF in reward order; "
                      "tied responses share their group's probability in proportion to pi_ref; "
                      "return LOG-probabilities")


def test_best_of_n_matches_brute_force(lesson):
    m = lesson("algos.best_of_n")
    for n in (3, 5, 1):
        out = check_array(m.best_of_n_log_probs(np.log(P_REF)[None], REWARD[None], n), shape=(1, 4),
                          dtype_kind="f", name="best_of_n_log_probs", finite=False)
        hint = "N = 1 must give pi_ref back" if n == 1 else "compare with F(g)^N - F(g-)^N"
        assert_close(np.exp(out[0]), _brute_force(P_REF, REWARD, n), name=f"best_of_n_log_probs (N={n})",
                     hint=hint, slips={"raise the CDF to the power N - 1: the best of N draws lands in group g "
                                       "with probability F(g)^N - F(g-)^N": _brute_force(P_REF, REWARD, n - 1)} if n > 1 else None)


def test_best_of_n_stays_accurate_for_huge_n(lesson):
    m = lesson("algos.best_of_n")
    p = np.array([1e-6, 1 - 1e-6])
    out = check_array(m.best_of_n_log_probs(np.log(p)[None], np.array([[1.0, 0.0]]), 1000), shape=(1, 2),
                      dtype_kind="f", name="best_of_n_log_probs", finite=False)
    # P(best response drawn at least once) = 1 - (1 - 1e-6)^1000 = 9.995e-4
    assert_close(np.exp(out[0, 0]), -np.expm1(1000 * np.log1p(-1e-6)), name="best_of_n_log_probs",
                 rtol=1e-6, hint="compute F^N - F_-^N without cancellation, e.g. F^N * (1 - (F_-/F)^N) "
                                 "with -expm1(N (log F_- - log F))")
    # N = 5000: F^N underflows to 0 below the top group (0.75^5000 ~ 1e-625), its log does not:
    # rewards 2, 1, 0 with pi_ref 0.25, 0.25, 0.5 -> F = 1, 0.75, 0.5 and F_- = 0.75, 0.5, 0
    out = m.best_of_n_log_probs(np.log([[0.25, 0.25, 0.5]]), np.array([[2.0, 1.0, 0.0]]), 5000)
    expected = [np.log(-np.expm1(5000 * np.log(0.75))), 5000 * np.log(0.75) + np.log(-np.expm1(5000 * np.log(2 / 3))),
                5000 * np.log(0.5)]
    assert_close(out[0], expected, name="best_of_n_log_probs (N=5000)", rtol=1e-9,
                 hint="F^N underflows to 0 for large N: stay in logs, N log F + log(1 - (F_-/F)^N)")
