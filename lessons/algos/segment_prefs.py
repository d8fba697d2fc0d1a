# Lesson 11, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/11_driving.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 11
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 11 --force

"""Preferences between trajectory *segments*, and where a reward model gets them wrong (lesson 11).

A judge compares two short pieces of driving, sigma^A and sigma^B (L consecutive steps each, both
inside one episode), and prefers the one with the higher true return (Christiano et al. 2017):

    R(sigma) = sum_{t=s}^{s+L-1} r_t            (the segment starting at step index s)
    y = 1[R(sigma^A) > R(sigma^B)]

A reward model r_psi is scored on held-out pairs by how often it orders them as the truth does:

    acc = mean_i  1[sign(R_psi(A_i) - R_psi(B_i)) = sign(R(A_i) - R(B_i))]      (ties count 1/2)

and, since one rare event dominates driving, separately on pairs where neither segment contains a
crash and on pairs where at least one does:

    acc_no_crash = acc over {i : no crash in A_i or B_i},   acc_crash = acc over the rest.

The overall accuracy is mostly the no-crash pairs; the crash pairs are the ones that matter.

Shapes
------
| name                        | shape   | meaning                                         |
|-----------------------------|---------|-------------------------------------------------|
| values                      | (T,) or (T, D) | a per-step quantity of a data set of T steps |
| episode                     | (T,)    | episode id of each step (steps of an episode are contiguous) |
| starts                      | (...,)  | first step index of each segment                |
| segment_sums(values, ...)   | (...,) or (..., D) | the sum over each segment's L steps  |
| score_a, score_b            | (N,)    | model segment scores R_psi                      |
| return_a, return_b          | (N,)    | true segment returns R                          |
| crash_a, crash_b            | (N,)    | does the segment contain a crash                |
"""

from __future__ import annotations

import numpy as np

__all__ = ["segment_starts", "sample_pairs", "segment_sums", "segment_steps", "pair_accuracy",
           "accuracy_by_crash"]


def segment_starts(episode, length: int) -> np.ndarray:
    """Every index s such that steps s, ..., s + length - 1 all belong to one episode, (K,) int."""
    episode = np.asarray(episode)
    if not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"segment length must be a positive integer, got {length!r}")
    if episode.ndim != 1:
        raise ValueError(f"episode must be a 1-D array of episode ids, got shape {episode.shape}")
    if len(episode) < length:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(episode[:len(episode) - length + 1] == episode[length - 1:]).astype(np.int64)


def sample_pairs(episode, length: int, n_pairs: int, rng: np.random.Generator) -> np.ndarray:
    """(2, n_pairs) start indices of two segments per pair, drawn uniformly from `segment_starts`."""
    if not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"n_pairs must be a positive integer, got {n_pairs!r}")
    starts = segment_starts(episode, length)
    if len(starts) == 0:
        raise ValueError(f"no episode in the data is {length} steps long; use a shorter segment length")
    return rng.choice(starts, size=(2, int(n_pairs)))


def segment_steps(starts, length: int) -> np.ndarray:
    """The step indices of each segment, starts.shape + (length,)."""
    return np.asarray(starts, dtype=np.int64)[..., None] + np.arange(length)


def segment_sums(values, starts, length: int) -> np.ndarray:
    """sum_{t=s}^{s+L-1} values[t] for every start s: shape starts.shape + values.shape[1:].

    With `values` the rewards this is the true segment return R(sigma); with a boolean crash flag it
    counts the crashes inside each segment. Example: values = [1, 2, 3, 4], starts = [0, 2],
    length 2 -> [3, 7].
    """
    values = np.asarray(values)
    starts = np.asarray(starts, dtype=np.int64)
    if starts.size and (starts.min() < 0 or starts.max() + length > len(values)):
        raise ValueError(f"segments of {length} steps starting at {starts.min()}..{starts.max()} do not fit "
                         f"in {len(values)} steps")
    raise NotImplementedError("lesson 11: implement segment_sums, see notebooks/11_driving.ipynb")


def pair_accuracy(score_a, score_b, return_a, return_b) -> float:
    """How often the model's order of A and B matches the true order; a tie on either side counts 1/2.

    Shapes: four (N,) arrays -> a float in [0, 1]; NaN for N = 0.
    """
    arrays = [np.asarray(x, dtype=np.float64) for x in (score_a, score_b, return_a, return_b)]
    if len({a.shape for a in arrays}) != 1 or arrays[0].ndim != 1:
        raise ValueError(f"pair_accuracy: the four arrays must have one shape (N,), got "
                         f"{[a.shape for a in arrays]}")
    score_a, score_b, return_a, return_b = arrays
    if len(score_a) == 0:
        return float("nan")
    raise NotImplementedError("lesson 11: implement pair_accuracy, see notebooks/11_driving.ipynb")


def accuracy_by_crash(score_a, score_b, return_a, return_b, crash_a, crash_b) -> dict:
    """`pair_accuracy` overall, on pairs without a crash and on pairs with a crash in A or B.

    Returns {"overall", "no_crash", "crash": accuracies (NaN when a group is empty),
    "n_no_crash", "n_crash": pair counts}.
    """
    crash_a, crash_b = np.asarray(crash_a, dtype=bool), np.asarray(crash_b, dtype=bool)
    if crash_a.shape != np.shape(score_a) or crash_b.shape != np.shape(score_b):
        raise ValueError(f"accuracy_by_crash: crash flags {crash_a.shape}, {crash_b.shape} must match the "
                         f"scores {np.shape(score_a)}")
    args = [np.asarray(x, dtype=np.float64) for x in (score_a, score_b, return_a, return_b)]
    raise NotImplementedError("lesson 11: implement accuracy_by_crash, see notebooks/11_driving.ipynb")
    out.update(n_no_crash=int((~crash).sum()), n_crash=int(crash.sum()))
    return out
