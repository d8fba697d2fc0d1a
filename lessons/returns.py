# Lesson 03, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/03_reinforce.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 03
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 03 --force

"""Discounted reward-to-go and generalised advantage estimation (GAE), over vector-env rollouts.

Every array is laid out time-major, one column per parallel environment:

| symbol | array | shape | meaning |
|---|---|---|---|
| r_t | `rewards` | (T, N) | reward of the transition taken at step t |
| V(s_t) | `values` | (T, N) | critic's value of the observation the action was taken in |
| V(s'_t) | `next_values` | (T, N) | critic's value of the observation the transition *led to* |
| term_t | `terminated` | (T, N) bool | s'_t is a terminal state (the MDP ended: pole fell, goal reached) |
| trunc_t | `truncated` | (T, N) bool | the episode was cut (time limit) although s'_t is not terminal |

s'_t is the *true* next observation: for a transition that ended an episode it is the final
observation (Gymnasium's `info["final_obs"]`), not the first observation of the next episode.

Termination versus truncation (the part many implementations get wrong)
------------------------------------------------------------------------
After a **termination** nothing more is collected: the value of s'_t is 0 by definition.
After a **truncation** (a time limit) the state s'_t still had a future; we just stopped watching.
Its return is estimated by bootstrapping from the critic: r_t + gamma V(s'_t). Treating a time limit
as a termination teaches the critic that states near the limit are worth nothing, which they are not
(Pardo et al., 2018, "Time limits in reinforcement learning"). The end of the rollout window
(t = T - 1 with no done flag) is also a cut and is bootstrapped the same way.

Reward-to-go (Sutton & Barto, 2018, eq. 3.8), with the cases above::

    G_t = r_t + gamma * ( G_{t+1}                if the episode continues at t + 1 in this rollout
                        | 0                      if term_t
                        | V(s'_t)                if trunc_t, or t = T - 1 without done )

GAE(lambda) (Schulman et al., 2016, "High-dimensional continuous control using GAE", eqs. 11-16)::

    delta_t = r_t + gamma * (1 - term_t) * V(s'_t) - V(s_t)          (eq. 11, one-step TD error)
    A_t     = delta_t + gamma * lambda * (1 - done_t) * A_{t+1}      (eq. 16 as a recursion)
    done_t  = term_t or trunc_t;   A_T = 0 (the window ends)

lambda = 1 gives A_t = G_t - V(s_t) (Monte-Carlo advantage); lambda = 0 gives A_t = delta_t.
The critic's regression target is A_t + V(s_t) (the "lambda-return").
"""

from __future__ import annotations

import numpy as np

__all__ = ["discounted_returns", "gae", "episode_returns", "policy_gradient_weights"]


def _as_2d(name: str, x, shape=None, dtype=np.float64) -> np.ndarray:
    arr = np.asarray(x, dtype=dtype)
    if arr.ndim == 1:                       # a single environment: (T,) -> (T, 1)
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (T, N) or (T,), got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise ValueError(f"{name} has shape {arr.shape}, expected {shape} (same as rewards)")
    return arr


def _check_gamma(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {value}")


def discounted_returns(rewards, terminated, truncated, gamma: float, next_values=None) -> np.ndarray:
    """Discounted reward-to-go G_t (module docstring), shape (T, N) (or (T,) for 1-D input).

    Args:
        rewards, terminated, truncated: (T, N) or (T,).
        gamma: discount in [0, 1].
        next_values: V(s'_t), (T, N), used where the episode was cut (truncation or end of the
            window). None means "no critic": cut episodes are then bootstrapped with 0 (a pure
            Monte-Carlo return of the part that was seen).
    """
    _check_gamma("gamma", gamma)
    one_d = np.ndim(rewards) == 1
    r = _as_2d("rewards", rewards)
    term = _as_2d("terminated", terminated, r.shape, dtype=bool)
    trunc = _as_2d("truncated", truncated, r.shape, dtype=bool)
    boot = np.zeros_like(r) if next_values is None else _as_2d("next_values", next_values, r.shape)
    T = r.shape[0]
    out = np.zeros_like(r)                                  # (T, N)
    future = np.zeros(r.shape[1])                           # G_{t+1}, (N,)
    for t in reversed(range(T)):
        raise NotImplementedError("lesson 03: implement discounted_returns, see notebooks/03_reinforce.ipynb")
    return out[:, 0] if one_d else out


def gae(rewards, values, next_values, terminated, truncated, gamma: float, lam: float):
    """Generalised advantage estimates and critic targets (module docstring).

    Args:
        rewards, values, next_values, terminated, truncated: (T, N) or (T,).
        gamma: discount in [0, 1];  lam: the GAE lambda in [0, 1].

    Returns:
        (advantages, returns), both shaped like `rewards`; returns = advantages + values.
    """
    _check_gamma("gamma", gamma)
    _check_gamma("lam (gae_lambda)", lam)
    one_d = np.ndim(rewards) == 1
    r = _as_2d("rewards", rewards)
    v = _as_2d("values", values, r.shape)
    v_next = _as_2d("next_values", next_values, r.shape)
    term = _as_2d("terminated", terminated, r.shape, dtype=bool)
    done = term | _as_2d("truncated", truncated, r.shape, dtype=bool)
    T = r.shape[0]
    adv = np.zeros_like(r)                                  # (T, N)
    last = np.zeros(r.shape[1])                             # A_{t+1}, (N,)
    raise NotImplementedError("lesson 03: implement gae, see notebooks/03_reinforce.ipynb")
    ret = adv + v
    if one_d:
        return adv[:, 0], ret[:, 0]
    return adv, ret


def episode_returns(rewards: list, gamma: float, bootstrap: list | None = None) -> list:
    """Reward-to-go G_t of each complete episode, shape (L_i,) each.

    `bootstrap[i]` is V(final observation) for a truncated episode (0 for a terminated one); None
    means no critic (the future after a truncation counts as 0).
    """
    out = []
    for i, r in enumerate(rewards):
        cut = np.zeros(len(r), dtype=bool)
        next_v = np.zeros(len(r))
        if bootstrap is not None and len(r):
            cut[-1], next_v[-1] = True, bootstrap[i]          # the last transition was cut: bootstrap
        out.append(discounted_returns(r, np.zeros(len(r), dtype=bool), cut, gamma, next_v))
    return out


def policy_gradient_weights(returns: list, reward_to_go: bool, baseline: str, values: list | None = None) -> list:
    """Psi_t - b_t for each episode of a batch (REINFORCE; tables in `minirl.algos.reinforce`).

    Args:
        returns: list of E reward-to-go arrays G (L_i,) (`episode_returns`).
        values: list of E arrays V(s_t) (L_i,), needed by baseline "value".
    Returns: list of E arrays (L_i,).
    """
    if baseline not in ("none", "mean", "value", "loo"):
        raise ValueError(f"baseline={baseline!r}; accepted: 'none', 'mean', 'value', 'loo'")
    if baseline == "value" and values is None:
        raise ValueError("baseline='value' needs the critic's values V(s_t) (values=...)")
    E = len(returns)
    if baseline == "loo" and E < 2:
        raise ValueError(f"the leave-one-out baseline needs at least 2 episodes, got {E}")
    raise NotImplementedError("lesson 03: implement policy_gradient_weights, see notebooks/03_reinforce.ipynb")
