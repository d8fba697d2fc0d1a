# Lesson 05, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/05_gradient_estimators.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 05
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 05 --force

"""Gradient estimators for J(theta) = E_{x ~ p_theta}[f(x)]: score function versus pathwise.

Lesson 05. Two ways to estimate grad_theta J from N samples x_1..x_N:

* **score function** (likelihood ratio, REINFORCE; Williams 1992; the survey this lab follows is
  Mohamed, Rosca, Figurnov & Mnih 2020, "Monte Carlo Gradient Estimation in Machine Learning", JMLR 21):

      grad J = E[ f(x) grad log p_theta(x) ]  ~  1/N sum_i (f(x_i) - b_i) grad log p_theta(x_i)

  It needs only the *values* f(x_i): f may be a black box (a person, a simulator). A baseline b_i
  that does not depend on x_i keeps it unbiased and can cut the variance a lot:
    - "none":  b_i = 0
    - "mean":  b_i = mean_j f(x_j), the batch mean. It includes f(x_i) itself, so the estimate is
               biased: its expectation is (1 - 1/N) grad J (a fact the tests check).
    - "loo":   b_i = mean_{j != i} f(x_j), leave-one-out (Kool et al. 2019, "Buy 4 REINFORCE
               samples, get a baseline for free"). Unbiased, needs N >= 2. Note that
               loo = N / (N - 1) * mean-baseline estimate.

* **pathwise** (reparameterisation; Kingma & Welling 2014; Mohamed et al. 2020): write
  x = g(theta, eps) = mu + sigma * eps with eps ~ N(0, I), so

      grad J = E_eps[ grad_theta f(g(theta, eps)) ]  ~  1/N sum_i f'(x_i) dx_i/dtheta

  It needs f to be differentiable *and written in autograd*: f must return a `Tensor` built from x.
  For categorical x the (biased) analogue is the Gumbel-softmax straight-through estimator
  (Jang et al. 2017), `Categorical.gumbel_softmax_st`.

Exact gradients to compare against: closed forms (the reward classes in
`minirl.experiments.estimator_lab`), an exhaustive sum over categories (`exact_categorical_gradient`)
or a fine 1-D quadrature (`quadrature_normal_gradient`).

Shapes (B independent batches, N samples per batch, D dimensions, K categories):

| name            | shape     | meaning                                                    |
|-----------------|-----------|------------------------------------------------------------|
| mean, log_std   | (D,)      | parameters of the diagonal Normal p_theta                  |
| logits          | (K,)      | parameters of the Categorical p_theta                      |
| x               | (B, N, D) | Normal samples; f(x) has shape (B, N)                      |
| one-hot y       | (B, N, K) | Categorical samples as one-hot vectors; f(y) is (B, N)     |
| returned grads  | (B, D) / (B, K) | one gradient estimate per batch                      |

Every estimate is computed with minirl's autograd: each batch gets its own copy of the parameters
(shape (B, 1, D)), so a single `backward()` yields all B batch estimates at once.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from minirl.autograd import Tensor
from minirl.distributions import Categorical, Normal

__all__ = [
    "NORMAL_ESTIMATORS", "CATEGORICAL_ESTIMATORS", "BLACK_BOX_ESTIMATORS", "BASELINES",
    "BlackBoxError", "score_function_surrogate", "reparameterise", "pathwise_objective",
    "exact_categorical_gradient", "normal_gradients", "categorical_gradients", "quadrature_normal_gradient",
]

BASELINES = ("none", "mean", "loo")
BLACK_BOX_ESTIMATORS = ("score", "score_mean", "score_loo")          # need only values of f
NORMAL_ESTIMATORS = BLACK_BOX_ESTIMATORS + ("pathwise",)
CATEGORICAL_ESTIMATORS = BLACK_BOX_ESTIMATORS + ("gumbel_st",)
_BASELINE_OF = {"score": "none", "score_mean": "mean", "score_loo": "loo"}


class BlackBoxError(TypeError):
    """f was asked for a gradient but returned no Tensor connected to its input."""


# ---------------------------------------------------------------------------------------------
# The two cores (lesson 05)
# ---------------------------------------------------------------------------------------------
def score_function_surrogate(log_prob: Tensor, rewards, baseline: str = "none") -> Tensor:
    """Surrogate whose gradient is the score-function estimate: mean_i (f_i - b_i) log p(x_i).

    The rewards are plain numbers (no gradient flows through them), so

        grad surrogate = 1/N sum_i (f_i - b_i) grad log p(x_i).

    Args:
        log_prob: Tensor (..., N), log p_theta(x_i), connected to the parameters.
        rewards: array (..., N), f(x_i).
        baseline: "none" (b_i = 0), "mean" (b_i = mean_j f_j) or "loo" (b_i = mean_{j != i} f_j).
    Returns:
        Tensor (...): one surrogate per batch.
    """
    if baseline not in BASELINES:
        raise ValueError(f"baseline must be one of {BASELINES}, got {baseline!r}")
    rewards = np.asarray(rewards.data if isinstance(rewards, Tensor) else rewards, dtype=np.float64)
    if rewards.shape != log_prob.shape:
        raise ValueError(f"rewards shape {rewards.shape} != log_prob shape {log_prob.shape}")
    n = rewards.shape[-1]
    if baseline == "loo" and n < 2:
        raise ValueError(f"the leave-one-out baseline needs at least 2 samples per batch (each "
                         f"sample's baseline is the mean of the others), got n_samples={n}")
    raise NotImplementedError("lesson 05: implement score_function_surrogate, see notebooks/05_gradient_estimators.ipynb")


def _differentiable_call(f: Callable, x: Tensor, estimator: str) -> Tensor:
    """f(x), refusing an f that autograd cannot see through (a black box)."""
    out = f(x)
    if not isinstance(out, Tensor) or (x.requires_grad and not out.requires_grad):
        got = (f"a value of type {type(out).__name__} (not a Tensor)" if not isinstance(out, Tensor)
               else "a Tensor that is not connected to its input x (it was rebuilt from plain numbers)")
        raise BlackBoxError(
            f"{estimator}: f returned {got}, so f is a black box to autograd: no gradient can flow "
            f"from f(x) back to x. The {estimator} estimator needs f written with Tensor operations "
            f"on x. For a black-box f use a score-function estimator, which needs only f's values: "
            f"{', '.join(BLACK_BOX_ESTIMATORS)}.")
    if out.shape != x.shape[:-1]:
        raise ValueError(f"{estimator}: f(x) has shape {out.shape}, expected {x.shape[:-1]} "
                         "(one value per sample: reduce over the last axis of x)")
    return out


def reparameterise(mean: Tensor, log_std: Tensor, eps) -> Tensor:
    """x = mean + exp(log_std) * eps: a sample of N(mean, exp(log_std)^2) that is a function of theta.

    The noise eps ~ N(0, I) carries all the randomness, so gradients flow from x to the parameters:
    dx/dmean = 1 and dx/dlog_std = exp(log_std) * eps.

    Args:
        mean, log_std: Tensors broadcastable to eps, e.g. (B, 1, D).
        eps: array (B, N, D) of standard normal noise.
    Returns:
        Tensor (B, N, D).
    """
    raise NotImplementedError("lesson 05: implement reparameterise, see notebooks/05_gradient_estimators.ipynb")


def pathwise_objective(mean: Tensor, log_std: Tensor, eps, f: Callable) -> Tensor:
    """Reparameterised Monte Carlo objective 1/N sum_i f(mean + exp(log_std) * eps_i).

    Its gradient with respect to mean and log_std is the pathwise estimate (backpropagation
    through f and through the sample):  grad = 1/N sum_i f'(x_i) dx_i/dtheta.

    Args:
        mean, log_std, eps: as in `reparameterise`.
        f: Tensor (B, N, D) -> Tensor (B, N), written with Tensor operations.
    Returns:
        Tensor (B,).
    """
    x = reparameterise(mean, log_std, eps)                                # (B, N, D)
    fx = _differentiable_call(f, x, "pathwise")                           # (B, N)
    return fx.mean(axis=-1)


def exact_categorical_gradient(f: Callable, logits) -> np.ndarray:
    """grad_logits sum_k softmax(logits)_k f(e_k): the exact gradient by an exhaustive sum.

    With few categories the expectation is a finite sum, so autograd of that sum is exact. f may be
    a black box: it is only evaluated on the K one-hot vectors e_k.
    Closed form, for checking: grad = p * (v - p . v) with v_k = f(e_k).

    Args:
        logits: (K,). f: array (K, K) of one-hot rows -> array (K,).
    Returns:
        array (K,).
    """
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1:
        raise ValueError(f"exact_categorical_gradient: logits must have shape (K,), got {logits.shape}")
    values = f(np.eye(logits.size))
    values = np.asarray(values.data if isinstance(values, Tensor) else values, dtype=np.float64)
    theta = Tensor(logits, requires_grad=True)
    raise NotImplementedError("lesson 05: implement exact_categorical_gradient, see notebooks/05_gradient_estimators.ipynb")


# ---------------------------------------------------------------------------------------------
# Batched estimates (B batches of N samples each), for the experiments and the tests
# ---------------------------------------------------------------------------------------------
def _check_common(estimator, accepted, n_samples, n_batches, rng):
    if estimator not in accepted:
        raise ValueError(f"unknown estimator {estimator!r}; accepted: {', '.join(accepted)}")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if int(n_batches) != n_batches or n_batches < 1:
        raise ValueError(f"n_batches must be a positive integer, got {n_batches!r}")
    if estimator in ("score_loo", "score_mean") and n_samples < 2:
        what = ("each sample's baseline is the mean of the others" if estimator == "score_loo"
                else "with one sample the batch-mean baseline cancels f exactly and the estimate is 0")
        raise ValueError(f"{estimator} needs n_samples >= 2 ({what}), got n_samples={n_samples}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be an np.random.Generator, got {type(rng).__name__}; "
                        "create one with np.random.default_rng(seed)")


def normal_gradients(f: Callable, mean, log_std, rng: np.random.Generator, n_samples: int,
                     estimator: str = "pathwise", n_batches: int = 1):
    """B independent N-sample estimates of grad E_{x ~ N(mean, exp(log_std)^2)}[f(x)].

    Args:
        f: (B, N, D) -> (B, N). Black-box estimators call it on a plain array; "pathwise" calls it
           on a Tensor and needs a Tensor back.
        mean, log_std: (D,) (a scalar counts as D = 1).
        estimator: one of NORMAL_ESTIMATORS.
    Returns:
        (grad_mean, grad_log_std), each an array (B, D).
    """
    _check_common(estimator, NORMAL_ESTIMATORS, n_samples, n_batches, rng)
    mean = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    log_std = np.broadcast_to(np.asarray(log_std, dtype=np.float64), mean.shape)
    if mean.ndim != 1 or not (np.all(np.isfinite(mean)) and np.all(np.isfinite(log_std))):
        raise ValueError(f"mean and log_std must be finite vectors of shape (D,), got {mean} and {log_std}")
    B, N, D = int(n_batches), int(n_samples), mean.size
    m = Tensor(np.tile(mean, (B, 1, 1)), requires_grad=True)             # (B, 1, D) one copy per batch
    s = Tensor(np.tile(log_std, (B, 1, 1)), requires_grad=True)          # (B, 1, D)
    eps = rng.standard_normal((B, N, D))                                 # (B, N, D)
    if estimator == "pathwise":
        objective = pathwise_objective(m, s, eps, f)                     # (B,)
    else:
        x = mean + np.exp(log_std) * eps                                 # (B, N, D) plain samples
        fx = np.asarray(f(x), dtype=np.float64)
        if fx.shape != (B, N):
            raise ValueError(f"f(x) has shape {fx.shape}, expected {(B, N)} (one value per sample)")
        dist = Normal(m + Tensor(np.zeros((B, N, D))), s)                # batch shape (B, N, D)
        objective = score_function_surrogate(dist.log_prob(x), fx, _BASELINE_OF[estimator])
    objective.sum().backward()
    return m.grad[:, 0, :], s.grad[:, 0, :]


def categorical_gradients(f: Callable, logits, rng: np.random.Generator, n_samples: int,
                          estimator: str = "score_loo", n_batches: int = 1, temperature: float = 1.0):
    """B independent N-sample estimates of grad_logits E_{a ~ softmax(logits)}[f(one_hot(a))].

    Args:
        f: one-hot (B, N, K) -> (B, N). "gumbel_st" calls it on a Tensor and needs a Tensor back.
        logits: (K,).
        estimator: one of CATEGORICAL_ESTIMATORS.
        temperature: tau of the relaxed softmax (only "gumbel_st").
    Returns:
        array (B, K).
    """
    _check_common(estimator, CATEGORICAL_ESTIMATORS, n_samples, n_batches, rng)
    logits = np.asarray(logits, dtype=np.float64)
    if logits.ndim != 1 or logits.size < 2 or not np.all(np.isfinite(logits)):
        raise ValueError(f"logits must be a finite vector of shape (K,) with K >= 2, got {logits}")
    if estimator == "gumbel_st" and not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    B, N, K = int(n_batches), int(n_samples), logits.size
    theta = Tensor(np.tile(logits, (B, 1, 1)), requires_grad=True)       # (B, 1, K)
    dist = Categorical(theta + Tensor(np.zeros((B, N, K))))              # batch shape (B, N)
    if estimator == "gumbel_st":
        y = dist.gumbel_softmax_st(rng, temperature)                     # (B, N, K) one-hot forward
        objective = _differentiable_call(f, y, "gumbel_st").mean(axis=-1)
    else:
        a = dist.sample(rng)                                             # (B, N) integers
        fy = np.asarray(f(np.eye(K)[a]), dtype=np.float64)               # (B, N)
        if fy.shape != (B, N):
            raise ValueError(f"f(y) has shape {fy.shape}, expected {(B, N)} (one value per sample)")
        objective = score_function_surrogate(dist.log_prob(a), fy, _BASELINE_OF[estimator])
    objective.sum().backward()
    return theta.grad[:, 0, :]


def quadrature_normal_gradient(f: Callable, mean: float, std: float, n_points: int = 400_001,
                               width: float = 12.0):
    """Exact (to quadrature error) gradient of E_{x ~ N(mean, std^2)}[f(x)] for scalar x.

    Differentiating the density instead of f (so f may be a step or a black box):

        dJ/dmean    = integral f(x) (x - mean) / std^2            p(x) dx
        dJ/dlog_std = integral f(x) ((x - mean)^2 / std^2 - 1)    p(x) dx

    evaluated with the trapezoid rule on mean +- width * std. f takes an array (n, 1) -> (n,).
    Use enough points to resolve f's finest wiggle (the default spacing is 6e-5 std).
    Returns:
        (grad_mean, grad_log_std) as floats.
    """
    if not std > 0:
        raise ValueError(f"std must be > 0, got {std}")
    z = np.linspace(-width, width, int(n_points))                        # (n,) standardised grid
    fx = np.asarray(f((mean + std * z)[:, None]), dtype=np.float64).reshape(-1)
    density = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)                  # N(z; 0, 1), p(x) dx = this dz
    g_mean = np.trapezoid(fx * z / std * density, z)
    g_log_std = np.trapezoid(fx * (z * z - 1) * density, z)
    return float(g_mean), float(g_log_std)
