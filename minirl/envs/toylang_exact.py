"""Exact quantities over the toy language: every expectation is a sum over all S responses.

A policy is represented here by its table of response log-probabilities logp (P, S), e.g.
`TabularPolicy.all_log_probs().data`, and a reward by a table r (P, S), e.g. `lang.gold_table`.
Prompts are weighted uniformly, so every returned number is an average over the P prompts.

Key equations
-------------
    E_pi[r]            = (1/P) sum_x sum_y pi(y|x) r(x, y)
    KL(pi || pi_ref)   = (1/P) sum_x sum_y pi(y|x) [log pi(y|x) - log pi_ref(y|x)]
    J_beta(pi)         = E_pi[r] - beta KL(pi || pi_ref)                (the RLHF objective)
    pi*_beta(y|x)      = pi_ref(y|x) exp(r(x,y)/beta) / Z_beta(x)      (Rafailov et al. 2023, eq. 4)
    J_beta(pi*_beta)   = (1/P) sum_x beta log Z_beta(x)                  (its closed-form value)

KL is +inf as soon as pi puts mass where pi_ref puts none; `kl_divergence` returns `inf` (never NaN)
and `kl_divergence(..., strict=True)` raises, naming the offending prompt and response.

Shapes: logp, logp_ref, r are (P, S); betas (K,).
"""

from __future__ import annotations

import numpy as np

__all__ = ["expected_reward", "kl_divergence", "objective", "optimal_log_probs", "optimal_objective",
           "optimal_frontier", "frontier_reward_at_kl", "check_beta", "InfiniteKLError"]


class InfiniteKLError(ValueError):
    """pi puts probability where pi_ref puts none: KL(pi || pi_ref) is infinite."""


def check_beta(beta) -> float:
    if (not isinstance(beta, (int, float, np.integer, np.floating)) or isinstance(beta, (bool, np.bool_))
            or not np.isfinite(beta) or not beta > 0):
        raise ValueError(f"beta (the KL coefficient) must be a finite number > 0, got {beta!r}")
    return float(beta)


def _check_table(name: str, x, shape=None) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a (P, S) table, got shape {x.shape}")
    if shape is not None and x.shape != shape:
        raise ValueError(f"{name} has shape {x.shape}, expected {shape}")
    if np.isnan(x).any():
        raise ValueError(f"{name} contains NaN")
    return x


def _check_logp(name: str, logp) -> np.ndarray:
    logp = _check_table(name, logp)
    total = np.exp(logp).sum(-1)
    if not np.allclose(total, 1.0, atol=1e-6):
        raise ValueError(f"{name} is not normalised: per-prompt total probabilities {np.round(total, 6)}")
    return logp


def expected_reward(logp, reward) -> float:
    """E_pi[r], averaged over prompts."""
    logp = _check_logp("logp", logp)
    reward = _check_table("reward", reward, logp.shape)
    return float((np.exp(logp) * reward).sum(-1).mean())


def kl_divergence(logp, logp_ref, strict: bool = False, per_prompt: bool = False):
    """KL(pi || pi_ref), averaged over prompts (or per prompt, (P,)).

    Terms with pi(y) = 0 contribute 0. If pi(y) > 0 where pi_ref(y) = 0 the KL is +inf: returned as
    `inf`, or raised as `InfiniteKLError` when `strict`.
    """
    logp, logp_ref = _check_logp("logp", logp), _check_logp("logp_ref", logp_ref)
    if logp.shape != logp_ref.shape:
        raise ValueError(f"logp {logp.shape} and logp_ref {logp_ref.shape} differ in shape")
    p = np.exp(logp)
    bad = (p > 0) & np.isneginf(logp_ref)
    if bad.any():
        x, s = np.argwhere(bad)[0]
        msg = (f"KL(pi || pi_ref) is infinite: pi puts probability {p[x, s]:.3g} on response {s} of "
               f"prompt {x}, where pi_ref puts none ({int(bad.sum())} such responses)")
        if strict:
            raise InfiniteKLError(msg)
    with np.errstate(invalid="ignore"):
        terms = np.where(p > 0, p * (logp - logp_ref), 0.0)                  # (P, S)
    terms = np.where(bad, np.inf, terms)
    per = terms.sum(-1)                                                        # (P,)
    per = np.maximum(per, 0.0)                                                 # round-off below 0
    return per if per_prompt else float(per.mean())


def objective(logp, logp_ref, reward, beta) -> float:
    """J_beta(pi) = E_pi[r] - beta KL(pi || pi_ref)."""
    beta = check_beta(beta)
    return expected_reward(logp, reward) - beta * kl_divergence(logp, logp_ref)


def _log_partition(logp_ref, reward, beta) -> np.ndarray:
    z = logp_ref + reward / beta                                               # (P, S)
    m = z.max(-1, keepdims=True)
    return (np.log(np.exp(z - m).sum(-1, keepdims=True)) + m)                  # (P, 1)


def optimal_log_probs(logp_ref, reward, beta) -> np.ndarray:
    """log pi*_beta(y|x) = log pi_ref(y|x) + r(x,y)/beta - log Z_beta(x), (P, S)."""
    beta = check_beta(beta)
    logp_ref = _check_logp("logp_ref", logp_ref)
    reward = _check_table("reward", reward, logp_ref.shape)
    return logp_ref + reward / beta - _log_partition(logp_ref, reward, beta)


def optimal_objective(logp_ref, reward, beta) -> float:
    """max_pi J_beta(pi) = (1/P) sum_x beta log Z_beta(x)."""
    beta = check_beta(beta)
    logp_ref = _check_logp("logp_ref", logp_ref)
    reward = _check_table("reward", reward, logp_ref.shape)
    return float(beta * _log_partition(logp_ref, reward, beta).mean())


def optimal_frontier(logp_ref, reward, betas) -> tuple[np.ndarray, np.ndarray]:
    """(KL, E[r]) of pi*_beta for each beta: the best reward reachable at each KL, (K,) each."""
    kls, rewards = [], []
    for beta in np.asarray(betas, dtype=np.float64).ravel():
        logp = optimal_log_probs(logp_ref, reward, beta)
        kls.append(kl_divergence(logp, logp_ref))
        rewards.append(expected_reward(logp, reward))
    return np.array(kls), np.array(rewards)


def frontier_reward_at_kl(logp_ref, reward, kl, tol: float = 1e-9) -> float:
    """The largest E_pi[r] over all pi with KL(pi || pi_ref) <= kl (bisection on beta).

    Uses one beta for all prompts, which is optimal for the prompt-averaged constraint (the
    Lagrangian of the averaged problem is J_beta). KL of pi*_beta decreases as beta grows.
    """
    if not kl >= 0:
        raise ValueError(f"frontier_reward_at_kl: kl must be >= 0, got {kl}")
    if kl == np.inf:
        return float(reward.max(-1).mean())
    lo, hi = np.log(1e-4), np.log(1e6)                  # log beta: small beta = large KL
    if kl_divergence(optimal_log_probs(logp_ref, reward, np.exp(lo)), logp_ref) <= kl:
        return expected_reward(optimal_log_probs(logp_ref, reward, np.exp(lo)), reward)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if kl_divergence(optimal_log_probs(logp_ref, reward, np.exp(mid)), logp_ref) > kl:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return expected_reward(optimal_log_probs(logp_ref, reward, np.exp(hi)), reward)
