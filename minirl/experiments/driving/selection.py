"""Best-of-N over a finite pool of candidates, exactly, and paired between selectors.

From one start state, K candidate action sequences are drawn once and rolled out once in the real
env (what each *pays* and whether it crashes) and once through each model (what each selector
*scores*). Best-of-N picks, from N candidates drawn at random without replacement out of the K,
the one its selector scores highest. Every selector sees the same pool, so any two are compared on
the same candidates (a paired comparison), and the expectation over the random N-subsets is exact:

sort the pool by score; a candidate with F_i candidates scored at or below it (itself included)
and F_i^- strictly below wins a random N-subset with probability

    w_i = (C(F_i, N) - C(F_i^-, N)) / C(K, N) / (F_i - F_i^-)            (ties share their group's mass)

since the subset's maximum lies in a tie group exactly when all N draws are at or below it but not
all strictly below. Then E_N[paid] = sum_i w_i paid_i, E_N[crash] = sum_i w_i crashed_i. As the K
candidates are i.i.d. draws, a random N-subset is N i.i.d. draws: this is unbiased for best-of-N
with fresh samples, with less variance than taking "the best of the first N". N = 1 is the uniform
reference; N = K picks the pool's best.

Gains are in units of the reference's standard deviation, pooled over the starts (as lesson 10
pools over prompts):  gain_N = mean_s (E_N[v | s] - E_1[v | s]) / sqrt(mean_s Var_1[v | s]),
plotted against the usual KL_BoN(N) = log N - (N - 1) / N (Stiennon et al., 2020).

Shapes: scores, values (S, K) for S starts and K candidates; weights (S, K); a curve row per N.
"""

from __future__ import annotations

from math import comb

import numpy as np

from ...algos.best_of_n import best_of_n_kl_bound
from ...stats import bootstrap_ci

__all__ = ["subset_best_of_n_weights", "best_of_n_table", "gain_curve", "kl_bon"]


def kl_bon(n) -> np.ndarray:
    """KL_BoN(N) = log N - (N - 1) / N, the x axis of every best-of-N curve here."""
    return best_of_n_kl_bound(n)


def subset_best_of_n_weights(scores, n: int) -> np.ndarray:
    """(..., K) probability that each candidate wins best-of-`n` over a random n-subset of its row.

    Rows are independent pools (one per start). Ties share their group's probability equally.
    Example: scores [3, 1, 2], n = 2: the subsets {3,1}, {3,2}, {1,2} are won by 3, 3, 2, so the
    weights are [2/3, 0, 1/3].
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim < 1 or scores.shape[-1] < 1:
        raise ValueError(f"subset_best_of_n_weights: scores must be (..., K) with K >= 1, got {scores.shape}")
    K = scores.shape[-1]
    if not isinstance(n, (int, np.integer)) or not 1 <= n <= K:
        raise ValueError(f"subset_best_of_n_weights: n must be an integer in 1..{K} (the pool size), got {n!r}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("subset_best_of_n_weights: scores must be finite")
    total = comb(K, int(n))
    out = np.empty_like(scores)
    for idx in np.ndindex(scores.shape[:-1]):
        row = scores[idx]
        at_or_below = np.searchsorted(np.sort(row), row, side="right")       # F_i
        below = np.searchsorted(np.sort(row), row, side="left")              # F_i^-
        win = np.array([comb(int(f), int(n)) - comb(int(b), int(n)) for f, b in zip(at_or_below, below)],
                       dtype=object)
        out[idx] = [float(w) / total / (f - b) for w, f, b in zip(win, at_or_below, below)]
    return out


def best_of_n_table(scores, values: dict, ns) -> list[dict]:
    """Per N and start: the exact expectation of each of `values` (name -> (S, K)) for the winner.

    Returns rows {"N", "start", name: E_N[value | start] ...}.
    """
    scores = np.asarray(scores, dtype=np.float64)
    rows = []
    for n in ns:
        w = subset_best_of_n_weights(scores, int(n))                          # (S, K)
        for s in range(scores.shape[0]):
            rows.append({"N": int(n), "start": s,
                         **{k: float(w[s] @ np.asarray(v, dtype=np.float64)[s]) for k, v in values.items()}})
    return rows


def _pooled_std(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.var(values, axis=1))))


def gain_curve(scores, values: dict, ns, *, n_boot: int = 1000, rng: np.random.Generator | None = None) -> list[dict]:
    """Best-of-N curve over S starts: per N, for each value (name -> (S, K)), the mean over starts of
    E_N, its gain in reference standard deviations, and 95% bootstrap bands over the starts.

    Rows: N, kl_bon, n_starts, and for every name: name, name_low, name_high, name_gain,
    name_gain_low, name_gain_high.
    """
    scores = np.asarray(scores, dtype=np.float64)
    vals = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    ref = {k: v.mean(axis=1) for k, v in vals.items()}                         # (S,) E_1[v | s]
    std = {k: max(_pooled_std(v), 1e-12) for k, v in vals.items()}
    rows = []
    for n in ns:
        w = subset_best_of_n_weights(scores, int(n))                          # (S, K)
        row = {"N": int(n), "kl_bon": float(kl_bon(int(n))), "n_starts": int(scores.shape[0])}
        for k, v in vals.items():
            per_start = np.sum(w * v, axis=1)                                 # (S,) E_N[v | s]
            centre, low, high = bootstrap_ci(per_start, statistic="mean", n_boot=n_boot,
                                             rng=np.random.default_rng(0) if rng is None else rng)
            g_centre, g_low, g_high = bootstrap_ci((per_start - ref[k]) / std[k], statistic="mean", n_boot=n_boot,
                                                   rng=np.random.default_rng(0) if rng is None else rng)
            row.update({k: float(centre), f"{k}_low": float(low), f"{k}_high": float(high),
                        f"{k}_gain": float(g_centre), f"{k}_gain_low": float(g_low), f"{k}_gain_high": float(g_high)})
        rows.append(row)
    return rows
