"""How well a reward model ranks the alternatives an optimiser chooses among: one start state at a time.

A language reward model is judged on responses to one prompt; an optimiser (best-of-N, RL) chooses
among responses to one prompt. The driving analogue: action sequences from one start state. On
the candidate pools (`candidates`: K random sequences per real start, each rolled out in an exact
copy of the env) a reward model is scored like the toy language's (`toy`):

* pair accuracy over every pair of candidates of one start (ties 1/2), pooled over the starts, and
  the same on pairs where either candidate crashed;
* R^2 = squared correlation of the model's score with the paid return after removing each start's
  mean (the model need only rank the alternatives of one state).

The outcome reward scores a candidate by summing r_psi(o_{t+1}, a_t) over the steps it lived (the
copy's observations); the action-sequence reward by R_psi(o_0, a_{0:H}).

Shapes: scores (K,) per start; pairs (K (K - 1) / 2,) per start.
"""

from __future__ import annotations

import numpy as np

from ...algos.segment_prefs import accuracy_by_crash
from .candidates import outcome_scores, sequence_scores
from .reward import squared_correlation

__all__ = ["within_start", "pool_rows"]


def within_start(scores, pools) -> dict:
    """Accuracy overall / no-crash / crash over all within-start pairs, pair counts, and the
    within-start R^2, for `scores` (one (K,) array per pool) against the pools' paid returns."""
    sa, sb, ra, rb, ca, cb = ([] for _ in range(6))
    for score, pool in zip(scores, pools):
        i, j = np.triu_indices(len(score), 1)                                   # every pair once
        paid, crashed = np.asarray(pool["paid"], dtype=np.float64), np.asarray(pool["crashed"], dtype=bool)
        for out, values in ((sa, score[i]), (sb, score[j]), (ra, paid[i]), (rb, paid[j]),
                            (ca, crashed[i]), (cb, crashed[j])):
            out.append(values)
    acc = accuracy_by_crash(*(np.concatenate(x) for x in (sa, sb, ra, rb, ca, cb)))
    groups = np.concatenate([np.full(len(s), k) for k, s in enumerate(scores)])
    r2 = squared_correlation(np.concatenate(scores), np.concatenate([p["paid"] for p in pools]), groups=groups)
    return {**acc, "r2": r2}


def pool_rows(pools, per_seed: dict, config) -> list[dict]:
    """Like-for-like rows ("one start state") of every seed's preference-learned driving rewards."""
    from .reward import LEARNED

    rows = []
    for seed, models in per_seed.items():
        for n_pairs in config.pair_counts:
            for name, (kind, trained_on) in LEARNED.items():
                net = models[name, n_pairs]
                if kind == "outcome":
                    scores = [outcome_scores(lambda o, a: net(o, a), p) for p in pools]
                else:
                    scores = [sequence_scores(net, p) for p in pools]
                rows.append({"world": "driving", "reward": kind, "trained_on": trained_on, "scored_on": "one start state",
                             "seed": seed, "n_pairs": n_pairs, **within_start(scores, pools)})
    return rows
