# Lesson 13, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/13_when_the_gradient_pays.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 13
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 13 --force

"""The policy gradient's signal-to-noise ratio, score function against pathwise, on the same rollouts.

Lesson 13. Why does the pathwise gradient pay more as the number of action dimensions d grows? A
policy pi_theta(a | s) = N(mu_theta(s), diag(sigma)^2) acts for T steps in a differentiable twin,
from B start states. Both estimators below see the *same* rollouts (the same start states and the
same noise eps_t), so they differ only in how they turn them into a gradient of

    J(theta) = E[ sum_{t<T} gamma^t r_t ],       a_t = mu_theta(o(s_t)) + sigma * eps_t,  eps_t ~ N(0, I)

* **score function** (REINFORCE with reward-to-go and a leave-one-out baseline; what PPO refines):

      g_SF = 1/B sum_b sum_t gamma^t grad log pi(a_t^b | s_t^b) (G_t^b - bbar_t^b),
      G_t^b = sum_{k >= t} gamma^(k - t) r_k^b,   bbar_t^b = mean of G_t over the other B - 1 rollouts

  It needs only the rewards' values. grad log pi(a | s) = (a - mu) / sigma^2 grad mu carries the
  noise of every action dimension, multiplied by a return that mixes all of them: the noise grows
  with d while the part of the return that one dimension explains shrinks.
* **pathwise** (backpropagation through the twin): g_PW = grad_theta 1/B sum_b sum_t gamma^t r_t^b,
  with every a_t a function of theta. Each dimension's effect is read off its own derivative.

Both are unbiased estimates of grad J (the twin is continuous, a.e. differentiable). How good one
estimate is, is its signal-to-noise ratio over R independent estimates g_1 .. g_R (each from B
rollouts):

    SNR = |E g|^2 / E|g - E g|^2,   estimated without bias by   (|gbar|^2 - S / R) / S,
    gbar = 1/R sum_r g_r,   S = 1/(R - 1) sum_r |g_r - gbar|^2           (total variance, trace of Cov)

(|gbar|^2 overestimates |E g|^2 by S / R, hence the correction; it can come out below 0 when the
signal is buried in noise.) SNR = 1 means the noise of one estimate is as large as the gradient.

Shapes (T steps, B rollouts, P policy parameters, R repeats):

| name | shape | meaning |
|---|---|---|
| rewards | (T, B) Tensor | r_t, differentiable through the twin (pathwise) |
| log_probs | (T, B) Tensor | log pi(a_t | s_t) with a_t and s_t held fixed (score function) |
| estimates | (R, P) array | one flattened gradient per row |
"""

from __future__ import annotations

import numpy as np

from minirl.autograd import Tensor, stack
from minirl.checks import positive_int

__all__ = ["rollout", "pathwise_surrogate", "score_surrogate", "gradient_snr", "mean_cosine",
           "estimator_gradients", "ESTIMATORS"]

ESTIMATORS = ("score", "pathwise")


def rollout(twin, policy, state, steps: int, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
    """Simulate `steps` steps of reparameterised Gaussian actions from `state` (B, S).

    Returns (rewards (T, B), log_probs (T, B)): rewards keep the graph through actions and states (for
    the pathwise gradient); log_probs are log pi(a_t | o(s_t)) with a_t and o(s_t) detached (for the
    score function, which treats the action as a sample and the twin as a black box). The action goes
    to the twin as drawn: the twin clips it, as the black-box env does.
    """
    rewards, log_probs = [], []
    for _ in range(steps):
        raise NotImplementedError("lesson 13: implement rollout, see notebooks/13_when_the_gradient_pays.ipynb")
    return stack(rewards, axis=0), stack(log_probs, axis=0)


def pathwise_surrogate(rewards: Tensor, gamma: float) -> Tensor:
    """1/B sum_b sum_t gamma^t r_t^b: its gradient is the pathwise estimate g_PW (rewards (T, B))."""
    T, B = rewards.shape
    return (rewards * (gamma ** np.arange(T, dtype=np.float64))[:, None]).sum() * (1.0 / B)


def score_surrogate(log_probs: Tensor, rewards, gamma: float) -> Tensor:
    """A scalar whose gradient is the score-function estimate g_SF (module doc):

        1/B sum_b sum_t gamma^t log pi(a_t^b | s_t^b) (G_t^b - bbar_t^b)

    with reward-to-go G_t^b = r_t^b + gamma G_{t+1}^b (G_T = 0) and the leave-one-out baseline
    bbar_t^b = (sum_j G_t^j - G_t^b) / (B - 1). No gradient flows through the rewards.

    Args:
        log_probs: (T, B) Tensor. rewards: (T, B) array or Tensor (its values only). gamma: discount.
    """
    rewards = np.asarray(rewards.data if isinstance(rewards, Tensor) else rewards, dtype=np.float64)
    T, B = rewards.shape
    if log_probs.shape != (T, B):
        raise ValueError(f"score_surrogate: log_probs have shape {log_probs.shape}, rewards {rewards.shape}")
    if B < 2:
        raise ValueError(f"score_surrogate: the leave-one-out baseline needs B >= 2 rollouts, got {B}")
    raise NotImplementedError("lesson 13: implement score_surrogate, see notebooks/13_when_the_gradient_pays.ipynb")


def gradient_snr(estimates) -> float:
    """Signal-to-noise ratio of one gradient estimate, from R >= 2 independent ones (module doc):

        (|gbar|^2 - S / R) / S,   gbar = mean of the rows,   S = sum_r |g_r - gbar|^2 / (R - 1)

    Args:
        estimates: (R, P) array, one flattened gradient estimate per row.
    Returns:
        the SNR (a float; inf if the estimates do not vary at all, and may be < 0 when the signal is
        buried in noise).
    """
    g = np.asarray(estimates, dtype=np.float64)
    if g.ndim != 2 or g.shape[0] < 2:
        raise ValueError(f"gradient_snr: estimates must have shape (R, P) with R >= 2, got {g.shape}")
    raise NotImplementedError("lesson 13: implement gradient_snr, see notebooks/13_when_the_gradient_pays.ipynb")


def mean_cosine(estimates, reference) -> float:
    """Mean cosine similarity between each row of `estimates` (R, P) and `reference` (P,)."""
    g = np.asarray(estimates, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    norms = np.linalg.norm(g, axis=1) * np.linalg.norm(ref)
    return float(np.mean(g @ ref / np.where(norms > 0, norms, 1.0)))


def _flat_grad(params) -> np.ndarray:
    return np.concatenate([np.zeros(p.data.size) if p.grad is None else np.ravel(p.grad) for p in params])


def estimator_gradients(twin, policy, *, rollouts: int, repeats: int, steps: int, gamma: float,
                        rng: np.random.Generator) -> dict[str, np.ndarray]:
    """`repeats` independent estimates of grad J by each estimator, every pair from the same rollouts.

    Each repeat draws `rollouts` start states from `twin.reset`, runs `rollout`, and differentiates
    both surrogates. Returns {"score": (R, P), "pathwise": (R, P)}, P = the policy's parameter count.
    """
    positive_int("estimator_gradients", "repeats", repeats)
    positive_int("estimator_gradients", "steps", steps)
    params = policy.parameters()
    out = {name: [] for name in ESTIMATORS}
    for _ in range(repeats):
        rewards, log_probs = rollout(twin, policy, twin.reset(rng, rollouts), steps, rng)
        for name, surrogate in (("score", score_surrogate(log_probs, rewards.data, gamma)),
                                ("pathwise", pathwise_surrogate(rewards, gamma))):
            for p in params:
                p.grad = None
            surrogate.backward()
            out[name].append(_flat_grad(params))
    for p in params:
        p.grad = None
    return {name: np.stack(rows) for name, rows in out.items()}
