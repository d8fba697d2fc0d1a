# Lesson 10, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/10_overoptimisation.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 10
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 10 --force

"""Best-of-N sampling, with its exact distribution and its exact KL from the reference.

Lesson 10. Draw N responses from pi_ref, keep the one the reward model scores highest. No training
at all, yet it is a policy, pi_N, and it moves away from pi_ref as N grows. Over an enumerable
language its distribution is exact. Sort the responses by reward and let F be pi_ref's CDF in that
order; the winner lies at or below y exactly when all N draws do, so

    P(winner <= y) = F(y)^N    =>    pi_N(y) = F(y)^N - F(y^-)^N

where F(y^-) is the mass strictly below y. Tied responses (equal reward) form one group g: the
group wins with probability F(g)^N - F(g^-)^N, shared in proportion to pi_ref within the group
(a tie is broken by picking one of the tied draws uniformly, so the winner is distributed like
pi_ref restricted to the group).

The usual analytic value KL(pi_N || pi_ref) = log N - (N - 1)/N (Stiennon et al. 2020, appendix) is
an upper bound, reached only when no response has much mass (Beirami et al. 2024); here the exact
KL can be computed and compared with it.

Shapes: logp_ref, reward (P, S); the result (P, S).
"""

from __future__ import annotations

import numpy as np

from minirl.checks import generator, positive_int
from minirl.envs.toylang import TabularPolicy

__all__ = ["best_of_n_log_probs", "best_of_n_kl_bound", "sample_best_of_n"]


def _check_n(n) -> int:
    return positive_int("best-of-N", "N", n)


def best_of_n_log_probs(logp_ref, reward, n: int) -> np.ndarray:
    """log pi_N(y|x) for every prompt and response, (P, S), computed exactly."""
    n = _check_n(n)
    logp_ref, reward = np.asarray(logp_ref, dtype=np.float64), np.asarray(reward, dtype=np.float64)
    if logp_ref.shape != reward.shape or logp_ref.ndim != 2:
        raise ValueError(f"best_of_n_log_probs: logp_ref {logp_ref.shape} and reward {reward.shape} "
                         "must be equal (P, S) tables")
    if np.isnan(logp_ref).any() or np.isnan(reward).any() or np.isinf(reward).any():
        raise ValueError("best_of_n_log_probs: logp_ref holds NaN or reward holds NaN/inf: give finite rewards "
                         "and log-probabilities (-inf allowed for a response pi_ref never draws)")
    out = np.empty_like(logp_ref)
    for x in range(len(logp_ref)):
        values, group = np.unique(reward[x], return_inverse=True)              # groups in increasing reward
        p = np.exp(logp_ref[x])                                                  # (S,)
        mass = np.bincount(group, weights=p, minlength=len(values))              # (G,) pi_ref mass per group
        raise NotImplementedError("lesson 10: implement best_of_n_log_probs, see notebooks/10_overoptimisation.ipynb")
        out[x, p == 0] = -np.inf                                                 # never drawn, never chosen
    return out


def best_of_n_kl_bound(n) -> np.ndarray:
    """The common analytic value log N - (N - 1)/N (an upper bound on the exact KL)."""
    arr = np.asarray(n)
    if arr.dtype.kind not in "iuf" or not np.all(np.isfinite(arr)) or np.any(arr < 1):
        raise ValueError(f"best-of-N: N must be a finite number >= 1 (or an array of them), got {n!r}")
    n = arr.astype(np.float64)
    return np.log(n) - (n - 1) / n


def sample_best_of_n(policy: TabularPolicy, reward_table, prompts, n: int, rng: np.random.Generator) -> np.ndarray:
    """Monte Carlo best-of-N: for each prompt draw n responses from `policy`, return the best, (B, L).

    Ties go to a uniformly random one of the tied draws, matching `best_of_n_log_probs`.
    """
    n = _check_n(n)
    generator("sample_best_of_n", rng)
    if not isinstance(policy, TabularPolicy):
        raise TypeError(f"sample_best_of_n: policy must be a TabularPolicy, got {type(policy).__name__}")
    lang = policy.lang
    prompts = lang.check_prompts(prompts)
    if np.shape(reward_table) != (lang.P, lang.num_sequences):
        raise ValueError(f"sample_best_of_n: reward_table must be a (P, S) = {(lang.P, lang.num_sequences)} "
                         f"table, got shape {np.shape(reward_table)}")
    B = len(prompts)
    draws = policy.sample(np.repeat(prompts, n), rng).reshape(B, n, lang.L)             # (B, n, L)
    scores = np.asarray(reward_table)[np.repeat(prompts, n),
                                      lang.sequence_index(draws.reshape(B * n, lang.L))].reshape(B, n)
    jitter = rng.random((B, n))                                                          # random tie-break
    best = np.lexsort((jitter, scores), axis=-1)[:, -1]                                  # (B,)
    return draws[np.arange(B), best]
