# Lesson 02, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/02_policies_and_distributions.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 02
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 02 --force

"""Action distributions for policies: `Categorical` (discrete) and diagonal `Normal` (continuous).

Both are built from `Tensor`s, so `log_prob`, `entropy` and `kl` are differentiable with respect
to the network outputs that produced them. Sampling takes an explicit `np.random.Generator`.

Two ways to get a gradient through a sample:

* score function (REINFORCE): sample without a gradient, then differentiate `log_prob(sample)`;
* pathwise (reparameterisation): `Normal.rsample` writes a = mu + sigma * eps with eps ~ N(0, I),
  so d a / d mu = 1 and d a / d log_sigma = sigma * eps; `Categorical.gumbel_softmax_st` does the
  (biased) discrete analogue: a one-hot sample forward, the gradient of a relaxed softmax backward.

Shapes: a batch of B distributions over K categories has logits (B, K) (any leading shape works);
a batch of diagonal Gaussians over D dimensions has mean (B, D) and log_std (B, D) or (D,).

Lesson 02 (notebooks/02_policies_and_distributions.ipynb): the learner writes the parts marked
`# BEGIN SOLUTION`: inverse-CDF sampling, the categorical entropy, the Gumbel straight-through
sample, and the Gaussian's rsample, log_prob and kl (tests/exercises/test_lesson02_distributions.py).
"""

from __future__ import annotations

import numpy as np

from minirl.autograd import Tensor, straight_through, where
from minirl.stacking import SeedStreams

__all__ = ["Categorical", "Normal"]

_LOG_2PI = float(np.log(2 * np.pi))


def _check_rng(rng) -> None:
    if not isinstance(rng, (np.random.Generator, SeedStreams)):
        raise TypeError(f"sampling needs an explicit np.random.Generator, got {type(rng).__name__}; "
                        "create one with np.random.default_rng(seed)")


def _check_non_finite_logits(logits: np.ndarray) -> None:
    """Refuse logits that define no distribution; -inf (a masked category) is allowed."""
    if np.isnan(logits).any():
        raise ValueError("Categorical: logits contain NaN (did training diverge? check the loss "
                         "and learning rate); refusing to sample from them")
    if np.isposinf(logits).any() or np.isneginf(logits).all(axis=-1).any():
        raise ValueError("Categorical: logits give no valid distribution (a logit is +inf, or "
                         "every logit of a row is -inf); refusing to sample from them (probabilities "
                         "go in probs=, not in the positional argument, which is logits)")


def _probs_to_logits(probs) -> Tensor:
    """log(probs / probs.sum(-1)) after checking the probabilities (differentiable if probs is a Tensor)."""
    p = _as_tensor(probs)
    if p.ndim == 0:
        raise ValueError("Categorical: probs need at least one axis (the categories)")
    data = p.data
    if not np.isfinite(data).all() or (data < 0).any():
        raise ValueError("Categorical: probs must be finite numbers >= 0 (got NaN, inf or a negative "
                         "value); for log-probabilities or scores use logits= (the positional argument)")
    total = data.sum(axis=-1, keepdims=True)
    if not (total > 0).all():
        raise ValueError("Categorical: a row of probs sums to 0; each row needs a positive probability")
    with np.errstate(divide="ignore"):
        return p.log() - Tensor(np.log(total))            # (..., K); a probability of 0 -> -inf


def _as_tensor(x) -> Tensor:
    """A Tensor as it is; an array keeps a floating dtype (float32 stays float32), anything else float64."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    return Tensor(arr if arr.dtype.kind == "f" else arr.astype(np.float64))


class Categorical:
    """pi(a) = softmax(logits)_a over the last axis.

    Give the distribution ONE way, as in PyTorch's `Categorical(probs=None, logits=None)`:

        Categorical(logits)            # the positional argument is LOGITS (unnormalised log-probabilities)
        Categorical(logits=logits)     # the same, explicit
        Categorical(probs=p)           # probabilities (>= 0, normalised along the last axis, as PyTorch does)

    Careful, PyTorch users: PyTorch's first positional argument is `probs`; here it is `logits`
    (every policy network outputs logits). Probabilities passed positionally would be read as logits
    and give a different, flatter distribution: pass them as `probs=`.

    Args:
        logits: Tensor (..., K) of unnormalised log-probabilities. NaN and +inf are refused; -inf
            marks a category that is never drawn.
        probs: Tensor or array (..., K) of probabilities, finite and >= 0 with a positive sum per
            row; stored as logits = log(probs / sum). A 0 becomes a -inf logit (never drawn).
    """

    def __init__(self, logits=None, *, probs=None):
        if (logits is None) == (probs is None):
            raise TypeError("Categorical: give exactly one of logits (the positional argument, or logits=) "
                            f"and probs=, got {'both' if probs is not None else 'neither'}")
        logits = _as_tensor(logits) if probs is None else _probs_to_logits(probs)
        if logits.ndim == 0:
            raise ValueError("Categorical: logits need at least one axis (the categories)")
        if not np.isfinite(logits.data).all():           # -inf alone is fine: a masked action
            _check_non_finite_logits(logits.data)
        self.logits = logits
        self.log_probs = logits.log_softmax(axis=-1)     # (..., K) normalised log pi
        self.probs = np.exp(self.log_probs.data)         # (..., K) plain array, for sampling

    @property
    def num_categories(self) -> int:
        return self.logits.shape[-1]

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """Integer samples of shape (...), by inverting the CDF with one uniform per distribution."""
        _check_rng(rng)
        cdf = np.cumsum(self.probs, axis=-1)                        # (..., K), last entry ~1
        u = rng.random(cdf.shape[:-1] + (1,)) * cdf[..., -1:]       # (..., 1) uniform on [0, total)
        # the sample is the first k with u < cdf_k, i.e. the number of entries with cdf_k <= u
        raise NotImplementedError("lesson 02: implement Categorical.sample, see notebooks/02_policies_and_distributions.ipynb")
        return np.minimum(k, self.num_categories - 1)               # guard against round-off

    def log_prob(self, actions) -> Tensor:
        """log pi(a) for integer actions of shape (...); returns a Tensor of shape (...)."""
        actions = np.asarray(actions.data if isinstance(actions, Tensor) else actions)
        if actions.dtype.kind not in "iu":
            if np.all(np.mod(actions, 1) == 0):
                actions = actions.astype(np.int64)
            else:
                raise TypeError(f"Categorical.log_prob needs integer actions, got dtype {actions.dtype}")
        if actions.shape != self.logits.shape[:-1]:
            raise ValueError(f"Categorical.log_prob: actions have shape {actions.shape}, expected "
                             f"{self.logits.shape[:-1]} (the logits' shape without the last axis)")
        if actions.size and (actions.min() < 0 or actions.max() >= self.num_categories):
            raise ValueError(f"Categorical.log_prob: actions must be in [0, {self.num_categories}), "
                             f"got range [{actions.min()}, {actions.max()}]")
        return self.log_probs.gather(actions[..., None], axis=-1).reshape(actions.shape)

    def entropy(self) -> Tensor:
        """H = -sum_a pi(a) log pi(a), shape (...)."""
        p = self.log_probs.exp()                                    # (..., K)
        # 0 log 0 = 0: a category with probability 0 (logit -inf, e.g. a masked action) adds nothing
        positive = self.probs > 0
        log_p = self.log_probs if positive.all() else where(positive, self.log_probs, 0.0)   # (..., K)
        raise NotImplementedError("lesson 02: implement Categorical.entropy, see notebooks/02_policies_and_distributions.ipynb")

    def kl(self, other: "Categorical") -> Tensor:
        """KL(self || other) = sum_a p(a) (log p(a) - log q(a)), shape (...)."""
        p = self.log_probs.exp()                                    # (..., K)
        log_ratio = self.log_probs - other.log_probs                # (..., K)
        return (p * where(self.probs > 0, log_ratio, 0.0)).sum(axis=-1)   # 0 log(0/q) = 0

    def mode(self) -> np.ndarray:
        return self.probs.argmax(axis=-1)

    def gumbel_softmax_st(self, rng: np.random.Generator, temperature: float = 1.0) -> Tensor:
        """Straight-through Gumbel-softmax sample (Jang et al., 2017; Maddison et al., 2017).

            g_k ~ Gumbel(0, 1);   y_soft = softmax((logits + g) / tau)
            forward: one_hot(argmax_k (logits_k + g_k))  -- an exact sample from pi
            backward: d y_soft / d logits                -- biased, lower-variance gradient

        Returns a Tensor (..., K) that is exactly one-hot; gradients flow to the logits.
        """
        _check_rng(rng)
        if not temperature > 0:
            raise ValueError(f"gumbel_softmax_st: temperature must be > 0, got {temperature}")
        u = rng.random(self.logits.shape)                           # (..., K) uniform on [0, 1)
        gumbel = (-np.log(-np.log(u + 1e-20) + 1e-20)).astype(self.logits.dtype)   # (..., K)
        raise NotImplementedError("lesson 02: implement Categorical.gumbel_softmax_st, see notebooks/02_policies_and_distributions.ipynb")


class Normal:
    """Diagonal Gaussian N(mean, diag(exp(log_std))^2); densities sum over the last axis.

    Args:
        mean: Tensor (..., D), finite.
        log_std: Tensor broadcastable to mean, e.g. (D,) for a state-independent std (PPO); finite
            (NaN, +inf and -inf, a zero std, are refused).
    """

    def __init__(self, mean, log_std):
        mean, log_std = _as_tensor(mean), _as_tensor(log_std)
        try:
            np.broadcast_shapes(mean.shape, log_std.shape)
        except ValueError:
            raise ValueError(f"Normal: mean shape {mean.shape} and log_std shape {log_std.shape} "
                             "do not broadcast") from None
        for name, value in (("mean", mean), ("log_std", log_std)):
            if not np.isfinite(value.data).all():
                bad = value.data[~np.isfinite(value.data)]
                raise ValueError(f"Normal: {name} holds NaN or inf ({bad.size} value(s), e.g. {bad.flat[0]}); "
                                 f"a Gaussian needs a finite {name} (did training diverge? check the loss "
                                 "and learning rate)")
        self.mean, self.log_std = mean, log_std
        self.std = log_std.exp()

    @property
    def shape(self) -> tuple:
        return np.broadcast_shapes(self.mean.shape, self.log_std.shape)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """A plain array sample (no gradient): the score-function estimator's sample."""
        _check_rng(rng)
        return self.mean.data + self.std.data * rng.standard_normal(self.shape)

    def rsample(self, rng: np.random.Generator) -> Tensor:
        """Reparameterised sample a = mean + std * eps, eps ~ N(0, I): gradients reach mean, log_std."""
        _check_rng(rng)
        eps = rng.standard_normal(self.shape).astype(self.mean.dtype, copy=False)   # (..., D)
        raise NotImplementedError("lesson 02: implement Normal.rsample, see notebooks/02_policies_and_distributions.ipynb")

    def log_prob(self, actions) -> Tensor:
        """log N(a; mu, sigma) = sum_d [-(a_d - mu_d)^2 / (2 sigma_d^2) - log sigma_d - log(2 pi)/2], shape (...)."""
        a = actions if isinstance(actions, Tensor) else Tensor(np.asarray(actions, dtype=self.mean.dtype))
        if a.shape != self.shape:
            raise ValueError(f"Normal.log_prob: actions have shape {a.shape}, expected {self.shape}")
        raise NotImplementedError("lesson 02: implement Normal.log_prob, see notebooks/02_policies_and_distributions.ipynb")

    def entropy(self) -> Tensor:
        """H = sum_d [log sigma_d + (1 + log 2 pi) / 2], shape (...)."""
        per_dim = self.log_std + 0.5 * (1.0 + _LOG_2PI)
        if per_dim.shape != self.shape:                  # state-independent std: one row per batch item
            per_dim = per_dim + Tensor(np.zeros(self.shape, dtype=per_dim.dtype))
        return per_dim.sum(axis=-1)

    def kl(self, other: "Normal") -> Tensor:
        """KL(p || q) = sum_d [log(sigma_q / sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]."""
        raise NotImplementedError("lesson 02: implement Normal.kl, see notebooks/02_policies_and_distributions.ipynb")

    def mode(self) -> np.ndarray:
        return np.broadcast_to(self.mean.data, self.shape).copy()
