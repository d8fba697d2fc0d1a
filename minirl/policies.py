"""Policy and value networks shared by every algorithm, black-box and pathwise alike.

The point of minirl is to optimise the *same* policy once with a score-function gradient
(REINFORCE, PPO: `policy.dist(obs).log_prob(actions)`) and once with a pathwise gradient
(backprop through a model: `policy.dist(obs).rsample(rng)` or `policy.mean_action(obs)`).

| class | forward | output |
|---|---|---|
| `CategoricalPolicy(obs_dim, n_actions)` | `dist(obs (B, obs_dim))` | `Categorical` over n_actions |
| `GaussianPolicy(obs_dim, act_dim)` | `dist(obs (B, obs_dim))` | diagonal `Normal`, state-independent log-std |
| `ValueFunction(obs_dim)` | `forward(obs (B, obs_dim))` | `Tensor (B,)` |

Stacked over S seeds (`minirl.stacking.stack_modules`) the same classes take observations
(S, B, obs_dim) and give distributions and values with a leading seed axis, (S, B, ...).

Every class takes `dtype` (float64 by default; float32 halves the cost of the matrix products and
of tanh, which is what the black-box agents use for speed): the parameters have it, and array
observations are converted to it.

Initialisation follows the PPO convention: orthogonal weights, gain sqrt(2) in hidden layers, 0.01 on
the policy head (the initial policy is near uniform / near zero-mean), 1 on the value head.
"""

from __future__ import annotations

import numpy as np

from .autograd import Tensor, no_grad
from .distributions import Categorical, Normal
from .nn import MLP, Module

__all__ = ["CategoricalPolicy", "GaussianPolicy", "ValueFunction", "as_obs_tensor"]


def as_obs_tensor(obs, dtype=np.float64) -> Tensor:
    """Observations as a Tensor with a batch axis: (obs_dim,) -> (1, obs_dim). Arrays are converted to
    `dtype` (the network's: float64, or float32 for speed); a Tensor is passed through as it is."""
    if isinstance(obs, Tensor):
        return obs if obs.ndim > 1 else obs.reshape(1, -1)
    arr = np.asarray(obs, dtype=dtype)
    return Tensor(arr if arr.ndim > 1 else arr.reshape(1, -1))


def _check_dims(name: str, **dims) -> None:
    for field, value in dims.items():
        if not isinstance(value, (int, np.integer)) or value <= 0:
            raise ValueError(f"{name}: {field} must be a positive integer, got {value!r}")


class _Policy(Module):
    net: MLP
    dtype = np.dtype(np.float64)

    def dist(self, obs):
        return self._head(self.net(as_obs_tensor(obs, self.dtype)))

    def _head(self, out: Tensor):
        """The distribution given the network's output (logits or means)."""
        raise NotImplementedError

    def sample_with_log_prob(self, obs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and their log pi(a|s) for obs (B, obs_dim), as plain arrays, no graph.

        The rollout's hot path (one call per environment step): the network runs through
        `forward_array`, so the values are those of `dist(obs)` without the Tensor bookkeeping.
        Returns (actions (B,) int or (B, act_dim), log-probabilities (B,)).
        """
        with no_grad():
            d = self._head(Tensor(self.net.forward_array(np.asarray(obs, dtype=self.dtype))))
            actions = d.sample(rng)
            return actions, d.log_prob(actions).data

    def forward(self, obs):
        return self.dist(obs)

    def act(self, obs, rng: np.random.Generator, deterministic: bool = False) -> np.ndarray:
        """Actions for a batch of observations, without recording a graph (the network runs through
        `forward_array`: the values of `dist(obs)` without the Tensor bookkeeping, as in the rollout)."""
        x = as_obs_tensor(obs, self.dtype).data
        with no_grad():
            d = self._head(Tensor(self.net.forward_array(x)))
            return d.mode() if deterministic else d.sample(rng)


class CategoricalPolicy(_Policy):
    """pi(a | s) = softmax(MLP(s))_a for a discrete action space of size n_actions."""

    def __init__(self, obs_dim: int, n_actions: int, *, rng: np.random.Generator,
                 hidden: tuple = (64, 64), activation: str = "tanh", head_gain: float = 0.01, dtype=np.float64):
        _check_dims("CategoricalPolicy", obs_dim=obs_dim, n_actions=n_actions)
        self.obs_dim, self.n_actions, self.dtype = int(obs_dim), int(n_actions), np.dtype(dtype)
        self.net = MLP([obs_dim, *hidden, n_actions], rng=rng, activation=activation, output_gain=head_gain,
                       dtype=self.dtype)

    def _head(self, logits: Tensor) -> Categorical:
        return Categorical(logits)                                 # logits (B, n_actions)

    def sample_with_log_prob(self, obs, rng):
        # logits as a plain array hold no parameter, so the distribution records no graph
        d = Categorical(self.net.forward_array(np.asarray(obs, dtype=self.dtype)))   # (B, n_actions)
        actions = d.sample(rng)                                                     # (B,)
        # a lookup (the actions are valid), for any leading axes: (B,) or (S, B) with a seed axis
        return actions, np.take_along_axis(d.log_probs.data, actions[..., None], axis=-1)[..., 0]


class GaussianPolicy(_Policy):
    """pi(a | s) = N(MLP(s), diag(exp(log_std))^2), log_std a free parameter vector (not a function of s).

    `mean_action(obs)` is the deterministic policy used by pathwise methods (a Tensor, differentiable).
    """

    def __init__(self, obs_dim: int, act_dim: int, *, rng: np.random.Generator,
                 hidden: tuple = (64, 64), activation: str = "tanh", head_gain: float = 0.01,
                 log_std_init: float = 0.0, dtype=np.float64):
        _check_dims("GaussianPolicy", obs_dim=obs_dim, act_dim=act_dim)
        self.obs_dim, self.act_dim, self.dtype = int(obs_dim), int(act_dim), np.dtype(dtype)
        self.net = MLP([obs_dim, *hidden, act_dim], rng=rng, activation=activation, output_gain=head_gain,
                       dtype=self.dtype)
        self.log_std = Tensor(np.full(act_dim, float(log_std_init), dtype=self.dtype), requires_grad=True)

    def mean_action(self, obs) -> Tensor:
        return self.net(as_obs_tensor(obs, self.dtype))                       # (B, act_dim)

    def _head(self, mean: Tensor) -> Normal:
        return Normal(mean, self.log_std)                          # mean (B, act_dim)


class ValueFunction(Module):
    """V(s) = MLP(s), a scalar per observation: obs (B, obs_dim) -> (B,)."""

    def __init__(self, obs_dim: int, *, rng: np.random.Generator, hidden: tuple = (64, 64),
                 activation: str = "tanh", head_gain: float = 1.0, dtype=np.float64):
        _check_dims("ValueFunction", obs_dim=obs_dim)
        self.obs_dim, self.dtype = int(obs_dim), np.dtype(dtype)
        self.net = MLP([obs_dim, *hidden, 1], rng=rng, activation=activation, output_gain=head_gain,
                       dtype=self.dtype)

    def forward(self, obs) -> Tensor:
        out = self.net(as_obs_tensor(obs, self.dtype))                        # (B, 1), or (S, B, 1) stacked
        return out.reshape(out.shape[:-1])
