"""Filtered and preferred fine-tuning: treat the score (or the preference) as a supervised label.

No policy gradient at all. Each round: sample responses from the current policy, score them, keep
the best `keep_fraction` of each prompt's samples, and fine-tune on the kept ones by maximum
likelihood (SFT). With infinitely many samples one round from pi_ref gives pi_ref restricted to the
top quantile of the reward, renormalised; more rounds keep pushing up. It is the simplest
"score as label" method (e.g. the rejection-sampling fine-tuning of Touvron et al. 2023, the
expert iteration of Anthony et al. 2017, ReST of Gulcehre et al. 2023).

Preferred fine-tuning is the same idea without a reward model: SFT on the *chosen* response of
every preference pair. With infinitely many pairs from pi_ref it fits the distribution of the
winner of a Bradley-Terry comparison of two reference samples,
p(y) = 2 pi_ref(y) E_(y' ~ pi_ref)[sigmoid(r(y) - r(y'))]  -- a gentle tilt towards better responses.

Shapes: prompts (B,), seqs (B, L), scores (B,).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..checks import fraction, generator, number, positive_int
from ..envs.toylang import Preferences, TabularPolicy, sft

__all__ = ["filtered_finetune", "top_fraction_mask", "preferred_finetune"]


def top_fraction_mask(prompts, scores, keep_fraction: float) -> np.ndarray:
    """Boolean mask (B,) keeping, for each prompt, the ceil(keep_fraction * n_x) best-scored samples."""
    fraction("top_fraction_mask", "keep_fraction", keep_fraction, zero=False)
    prompts, scores = np.asarray(prompts), np.asarray(scores, dtype=np.float64)
    if prompts.ndim != 1 or scores.shape != prompts.shape:
        raise ValueError(f"top_fraction_mask: prompts {prompts.shape} and scores {scores.shape} must both be (B,)")
    if np.isnan(scores).any():
        raise ValueError(f"top_fraction_mask: {int(np.isnan(scores).sum())} scores are NaN: the reward "
                         "function must return numbers for every sample")
    keep = np.zeros(len(scores), dtype=bool)
    for x in np.unique(prompts):
        idx = np.flatnonzero(prompts == x)
        k = int(np.ceil(keep_fraction * len(idx)))
        keep[idx[np.argsort(-scores[idx], kind="stable")[:k]]] = True
    return keep


def filtered_finetune(policy: TabularPolicy, reward_fn: Callable, rng: np.random.Generator, *,
                      keep_fraction: float = 0.1, samples: int = 3000, rounds: int = 1,
                      sft_steps: int = 100, lr: float = 0.1, smoothing: float = 0.0,
                      callback: Callable | None = None) -> list:
    """Rounds of sample -> keep the top fraction -> SFT; updates `policy` in place.

    Returns the rows of callback(round, policy), called before training and after every round.
    """
    if not isinstance(policy, TabularPolicy):
        raise TypeError(f"filtered_finetune: policy must be a TabularPolicy, got {type(policy).__name__}")
    if not callable(reward_fn):
        raise TypeError(f"filtered_finetune: reward_fn must be callable (prompts, seqs) -> scores, "
                        f"got {type(reward_fn).__name__}")
    generator("filtered_finetune", rng)
    fraction("filtered_finetune", "keep_fraction", keep_fraction, zero=False)
    for name, v in (("samples", samples), ("rounds", rounds), ("sft_steps", sft_steps)):
        positive_int("filtered_finetune", name, v)
    number("filtered_finetune", "lr", lr, low=0, low_open=True)
    fraction("filtered_finetune", "smoothing", smoothing, one=False)
    lang = policy.lang
    history: list = []
    if callback is not None:
        history.append(callback(0, policy))
    for r in range(1, rounds + 1):
        prompts = rng.integers(0, lang.P, size=samples)
        seqs = policy.sample(prompts, rng)
        keep = top_fraction_mask(prompts, reward_fn(prompts, seqs), keep_fraction)
        sft(policy, prompts[keep], seqs[keep], steps=sft_steps, lr=lr, smoothing=smoothing)
        if callback is not None:
            history.append(callback(r, policy))
    return [h for h in history if h is not None]


def preferred_finetune(policy: TabularPolicy, prefs: Preferences, *, steps: int = 200, lr: float = 0.02,
                       smoothing: float = 0.0, callback: Callable | None = None, eval_every: int = 50) -> list[float]:
    """SFT on the chosen response of every pair; updates `policy` in place. Returns the loss per step.

    `callback(step, policy)` runs before training and every `eval_every` steps.
    """
    if not isinstance(prefs, Preferences):
        raise TypeError(f"preferred_finetune needs a Preferences set, got {type(prefs).__name__}")
    positive_int("preferred_finetune", "steps", steps)
    positive_int("preferred_finetune", "eval_every", eval_every)
    number("preferred_finetune", "lr", lr, low=0, low_open=True)
    fraction("preferred_finetune", "smoothing", smoothing, one=False)
    if callback is not None:
        callback(0, policy)
    return sft(policy, prefs.prompts, prefs.chosen, steps=steps, lr=lr, smoothing=smoothing,
               callback=callback, eval_every=eval_every)
