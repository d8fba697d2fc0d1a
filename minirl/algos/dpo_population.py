"""The DPO loss in expectation over the whole preference distribution, exactly (notebook 09, section 2).

Kept apart from `minirl/algos/dpo.py`, whose `dpo_loss` is the learner's exercise of lesson 09: this
function writes the same loss for every pair at once, so next to the exercise it would give it away.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor
from ..envs.toylang_exact import check_beta

__all__ = ["dpo_population_loss"]


def dpo_population_loss(logp: Tensor, logp_ref, reward, beta: float) -> Tensor:
    """The DPO loss in expectation over the full preference distribution, exactly.

    Pairs y, y' ~ pi_ref(.|x) independently, labelled by Bradley-Terry on `reward`:

        L(pi) = (1/P) sum_x sum_(y, y') pi_ref(y) pi_ref(y') sigmoid(r(y) - r(y'))
                                      * -log sigmoid(beta (h(y) - h(y')))      h = log pi - log pi_ref

    Its minimiser is exactly pi*_beta for `reward` (log Z cancels in h(y) - h(y')). Cost O(P S^2):
    meant for small instances. logp (P, S) Tensor; logp_ref, reward (P, S) arrays.
    """
    beta = check_beta(beta)
    logp_ref, reward = np.asarray(logp_ref), np.asarray(reward)
    pref = np.exp(logp_ref)
    weight = pref[:, :, None] * pref[:, None, :]                                  # (P, S, S)
    label = 0.5 * (np.tanh(0.5 * (reward[:, :, None] - reward[:, None, :])) + 1)  # (P, S, S)
    h = logp - Tensor(logp_ref)                                                   # (P, S)
    P, S = logp_ref.shape
    margin = h.reshape(P, S, 1) - h.reshape(P, 1, S)                              # (P, S, S)
    return (Tensor(weight * label) * (-beta * margin).softplus()).sum() * (1.0 / P)
