"""SAC's losses (lesson 12): the squashed log-probability, the soft Bellman target, the three losses.

Soft Actor-Critic (Haarnoja et al., 2018, "Soft Actor-Critic Algorithms and Applications") learns a
critic Q(s, a) from black-box rewards and trains the actor by backpropagating *through the critic*:
the reward itself never needs a gradient. Symbols and shapes for a minibatch of B transitions
(s, a, r, s', d) from the replay buffer, E critics (E = 2: "twin Q"), D action dimensions:

| symbol | argument | shape | meaning |
|---|---|---|---|
| u | `u` | Tensor (B, D) | pre-squash Gaussian sample, u = mu + sigma eps |
| log N(u) | `normal_log_prob` | Tensor (B,) | log density of u under N(mu, sigma^2), summed over D |
| c | `scale` | float or (D,) | half-width of the action box: a = c tanh(u) + centre |
| log pi(a|s) | `log_prob` | Tensor (B,) | log density of the squashed action |
| r, d | `rewards`, `terminated` | (B,) | reward; 1 if s' ends the MDP (a time-limit cut is not an end) |
| Q'_j(s', a') | `next_q` | (E, B) | target critics at s' and a fresh action a' ~ pi(.|s') |
| log pi(a'|s') | `next_log_prob` | (B,) | its log-probability |
| Q_j(s, a) | `q` | Tensor (E, B) | the critics being trained, at the buffer's action |
| Q_j(s, a~) | `q_pi` | Tensor (E, B) | the critics at a~ ~ pi(.|s), reparameterised (differentiable in a~) |
| alpha, log alpha | `alpha`, `log_alpha` | float, Tensor () | entropy temperature |

Squashed Gaussian (appendix C of the paper): a = c tanh(u) with u ~ N(mu, sigma^2), so by the change
of variables (the Jacobian is diagonal, da_i/du_i = c_i (1 - tanh(u_i)^2))::

    log pi(a|s) = log N(u; mu, sigma) - sum_i log(c_i (1 - tanh(u_i)^2))

and 1 - tanh(u)^2 underflows to 0 for |u| > ~10 (float64; ~5 in float32), so we use the identity
log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), finite for every u.

Soft Bellman target (eq. 3 and 5 of the paper, with the minimum over two target critics of
Fujimoto et al., 2018, which removes most of a single critic's over-estimation)::

    y = r + gamma (1 - d) (min_j Q'_j(s', a') - alpha log pi(a'|s')),     a' ~ pi(.|s')

Critic loss (eq. 5): L_Q = 1/2 sum_j mean_B (Q_j(s, a) - y)^2, with y a constant (no gradient).

Actor loss (eq. 7 with a reparameterised a~ = c tanh(mu + sigma eps), eps ~ N(0, I))::

    L_pi = mean_B (alpha log pi(a~|s) - min_j Q_j(s, a~))

Temperature loss (eq. 18, written in log alpha, as the reference code does)::

    L_alpha = -mean_B (log alpha (log pi(a~|s) + H_target)),   log pi held constant, H_target = -D

so alpha grows when the policy's entropy -log pi falls below H_target, and shrinks above it.

Axes: the batch is always the last axis and the critics the one before it, so the same functions
serve S seeds trained side by side (`minirl.stacking`): with a leading seed axis, q (S, E, B), a
target (S, 1, B), log-probabilities (S, B), alpha an array (S, 1) and log alpha (S,), every loss is
(S,), one per seed.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor

__all__ = ["LOG2", "log_one_minus_tanh_sq", "squashed_log_prob", "soft_bellman_target", "critic_loss",
           "actor_loss", "temperature_loss"]

LOG2 = float(np.log(2.0))


def _arr(x, dtype=np.float64) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x, dtype=dtype)


def log_one_minus_tanh_sq(u: Tensor) -> Tensor:
    """log(1 - tanh(u)^2) = 2 (log 2 - u - softplus(-2u)), elementwise, finite for every u."""
    return 2.0 * (LOG2 - u - (u * -2.0).softplus())


def squashed_log_prob(normal_log_prob: Tensor, u: Tensor, scale=1.0) -> Tensor:
    """log pi(a|s) of a = scale tanh(u) (+ centre), from log N(u) (B,) and u (B, D); returns (B,).

    log pi = log N(u) - sum_i [log scale_i + log(1 - tanh(u_i)^2)], with the stable form above.
    """
    log_scale = np.log(np.broadcast_to(np.asarray(scale, dtype=np.float64), (u.shape[-1],))).sum()
    # BEGIN SOLUTION
    correction = log_one_minus_tanh_sq(u).sum(axis=-1) + log_scale            # (B,) log |da/du|
    return normal_log_prob - correction
    # END SOLUTION


def soft_bellman_target(rewards, terminated, next_q, next_log_prob, gamma: float, alpha: float) -> np.ndarray:
    """y = r + gamma (1 - d) (min_j next_q_j - alpha next_log_prob), an array (B,) (no gradient).

    Args: rewards, terminated, next_log_prob (B,); next_q (E, B); gamma in [0, 1]; alpha >= 0.
    """
    r = _arr(rewards)
    dtype = r.dtype if r.dtype.kind == "f" else np.float64
    next_q, next_log_prob = _arr(next_q, dtype), _arr(next_log_prob, dtype)
    not_done = 1.0 - np.asarray(terminated, dtype=dtype)                       # (B,) 0 where the MDP ended
    # BEGIN SOLUTION
    soft_value = next_q.min(axis=-2) - alpha * next_log_prob                   # (B,) V(s') = min Q' - alpha log pi
    return r + gamma * not_done * soft_value
    # END SOLUTION


def critic_loss(q: Tensor, target) -> Tensor:
    """L_Q = 1/2 sum_j mean_B (q_j - y)^2 for q (E, B) and the target y (B,); a scalar Tensor."""
    y = _arr(target, q.dtype).astype(q.dtype, copy=False)
    # BEGIN SOLUTION
    return 0.5 * (q - y).square().mean(axis=-1).sum(axis=-1)
    # END SOLUTION


def actor_loss(log_prob: Tensor, q_pi: Tensor, alpha: float) -> Tensor:
    """L_pi = mean_B (alpha log pi(a~|s) - min_j q_pi_j) for log_prob (B,) and q_pi (E, B); a scalar Tensor."""
    # BEGIN SOLUTION
    return (alpha * log_prob - q_pi.min(axis=-2)).mean(axis=-1)
    # END SOLUTION


def temperature_loss(log_alpha: Tensor, log_prob, target_entropy: float) -> Tensor:
    """L_alpha = -log_alpha * mean_B (log pi + H_target), log pi held constant; a scalar Tensor."""
    log_prob = _arr(log_prob)
    # BEGIN SOLUTION
    return -(log_alpha * np.mean(log_prob + target_entropy, axis=-1))
    # END SOLUTION
