# Lesson 04, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/04_ppo.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 04
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 04 --force

"""PPO's losses and diagnostics (lesson 04), each a few lines, each checkable by hand.

Symbols and shapes for a minibatch of B transitions:

| symbol | argument | shape | meaning |
|---|---|---|---|
| log pi_theta(a|s) | `logp_new` | Tensor (B,) | log-probability under the policy being trained |
| log pi_old(a|s) | `logp_old` | array (B,) | log-probability when the action was sampled (fixed) |
| A | `advantages` | array (B,) | GAE advantages (`minirl.returns.gae`) |
| V_theta(s) | `v_new` | Tensor (B,) | critic being trained |
| V_old(s) | `v_old` | array (B,) | critic's value at collection time |
| R | `returns` | array (B,) | critic target A + V_old |
| epsilon | `clip_coef` | float | clip range, e.g. 0.2 |

Clipped surrogate (Schulman et al., 2017, "Proximal policy optimization algorithms", eq. 7),
written as a loss to minimise::

    rho = exp(log pi_theta - log pi_old)
    L_clip = -mean( min(rho A, clip(rho, 1 - eps, 1 + eps) A) )

Value loss: 0.5 mean (V - R)^2, or with value clipping (an implementation detail of the original
code, off by default: Engstrom et al., 2020 and Andrychowicz et al., 2021 found it does not help)::

    V_clip = V_old + clip(V - V_old, -eps, eps);   L_V = 0.5 mean( max((V - R)^2, (V_clip - R)^2) )

Approximate KL(pi_old || pi_theta) from samples a ~ pi_old, with log r = log pi_theta - log pi_old
(estimators k1 and k3 of J. Schulman, "Approximating KL divergence", 2020)::

    k1 = mean(-log r)                 unbiased, high variance, can be negative
    k3 = mean((r - 1) - log r)        unbiased, always >= 0, lower variance

Total loss (eq. 9 of the paper, signs for minimisation): L = L_clip + c_v L_V - c_e mean(H).

Every mean is over the *last* axis, the batch. So the same functions serve S seeds trained side by
side (`minirl.stacking`): with inputs of shape (S, B), each seed's transitions stay in its own row,
the loss is (S,), one per seed, and the diagnostics are arrays (S,). With (B,) inputs, as in lesson
04, `mean(axis=-1)` is the plain mean.
"""

from __future__ import annotations

import numpy as np

from minirl.autograd import Tensor, maximum, minimum

__all__ = ["clipped_surrogate", "value_loss", "approx_kl", "clip_fraction", "explained_variance",
           "normalize_advantages", "ppo_loss"]


def _arr(x, like: Tensor | None = None) -> np.ndarray:
    """x as an array: float64, or the dtype of the Tensor `like` (so float32 networks stay float32)."""
    dtype = like.dtype if like is not None else np.float64
    return x.data if isinstance(x, Tensor) else np.asarray(x, dtype=dtype)


def _number(x):
    """A float for one value (a 0-d array or NumPy scalar), the array itself for one value per seed."""
    return float(x) if np.ndim(x) == 0 else np.asarray(x)


def normalize_advantages(advantages, eps: float = 1e-8) -> np.ndarray:
    """(A - mean A) / (std A + eps) over the minibatch, shape (B,) (or (S, B): each seed's row on its own)."""
    a = np.asarray(advantages, dtype=np.float64)
    if a.ndim == 1:
        centred = a - a.sum() / a.size
        return centred / (np.sqrt(centred.dot(centred) / a.size) + eps)
    n = a.shape[-1]
    centred = a - a.sum(axis=-1, keepdims=True) / n
    squares = (centred[..., None, :] @ centred[..., :, None])[..., 0]    # (S, 1): the dot product of each row
    return centred / (np.sqrt(squares / n) + eps)


def clipped_surrogate(logp_new: Tensor, logp_old, advantages, clip_coef: float) -> Tensor:
    """L_clip (module docstring), a scalar Tensor to minimise."""
    if clip_coef <= 0:
        raise ValueError(f"clip_coef must be > 0, got {clip_coef}")
    logp_old, adv = _arr(logp_old, logp_new), _arr(advantages, logp_new)
    raise NotImplementedError("lesson 04: implement clipped_surrogate, see notebooks/04_ppo.ipynb")


def value_loss(v_new: Tensor, v_old, returns, clip_coef: float | None = None) -> Tensor:
    """0.5 mean (V - R)^2, or the clipped version when `clip_coef` is a number (module docstring)."""
    v_old, returns = _arr(v_old, v_new), _arr(returns, v_new)
    raise NotImplementedError("lesson 04: implement value_loss, see notebooks/04_ppo.ipynb")


def approx_kl(logp_new, logp_old) -> tuple[float, float]:
    """(k1, k3) estimates of KL(pi_old || pi_new) from log-probabilities of samples of pi_old."""
    log_ratio = _arr(logp_new) - _arr(logp_old)                             # (B,)
    raise NotImplementedError("lesson 04: implement approx_kl, see notebooks/04_ppo.ipynb")
    return _number(k1), _number(k3)


def clip_fraction(logp_new, logp_old, clip_coef: float) -> float:
    """Fraction of samples whose ratio lies outside [1 - eps, 1 + eps] (where the clip is active)."""
    ratio = np.exp(_arr(logp_new) - _arr(logp_old))
    raise NotImplementedError("lesson 04: implement clip_fraction, see notebooks/04_ppo.ipynb")
    return _number(frac)


def explained_variance(y_pred, y_true) -> float:
    """1 - Var(y - y_pred) / Var(y): 1 is a perfect critic, 0 no better than a constant, NaN if Var(y) = 0."""
    y_pred, y_true = _arr(y_pred), _arr(y_true)
    raise NotImplementedError("lesson 04: implement explained_variance, see notebooks/04_ppo.ipynb")


def ppo_loss(logp_new: Tensor, entropy: Tensor, v_new: Tensor, *, logp_old, advantages, v_old, returns,
             clip_coef: float, vf_coef: float, ent_coef: float, clip_vloss: bool = False,
             norm_adv: bool = True) -> tuple[Tensor, dict]:
    """L = L_clip + vf_coef L_V - ent_coef mean(H) on one minibatch, plus diagnostics.

    Shapes: logp_new, entropy, v_new: Tensors (B,); the keyword arrays (B,). With a seed axis all
    are (S, B), the loss is (S,) and each diagnostic an array (S,).
    Returns (loss Tensor, dict with policy_loss, value_loss, entropy, approx_kl_k1, approx_kl_k3,
    clip_frac: floats, or arrays (S,)).
    """
    adv = normalize_advantages(advantages) if norm_adv else _arr(advantages)
    pg = clipped_surrogate(logp_new, logp_old, adv, clip_coef)
    vl = value_loss(v_new, v_old, returns, clip_coef if clip_vloss else None)
    ent = entropy.mean(axis=-1)
    loss = pg + vf_coef * vl - ent_coef * ent
    k1, k3 = approx_kl(logp_new, logp_old)
    info = {"policy_loss": _number(pg.data), "value_loss": _number(vl.data), "entropy": _number(ent.data),
            "approx_kl_k1": k1, "approx_kl_k3": k3,
            "clip_frac": clip_fraction(logp_new, logp_old, clip_coef)}
    return loss, info
