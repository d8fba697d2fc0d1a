"""SAC's networks: a squashed Gaussian actor and an ensemble of E critics evaluated as one network.

| class | forward | output |
|---|---|---|
| `SquashedGaussianActor(obs_dim, act_dim)` | `forward(obs (B, obs_dim))` | mean (B, D), log_std (B, D), clipped to [log_std_min, log_std_max] |
| `QEnsemble(in_dim, n)` | `forward(x (B, in_dim))` | Q (E, B): member j's MLP_j(x) |

The actor is an MLP with 2D outputs: the first D are the Gaussian's mean, the last D its log std
(a function of the state, unlike PPO's). Actions are a = c tanh(u), u ~ N(mean, std^2).

The E critics (E = 2 is SAC's twin Q) share nothing but their input: member j computes
MLP_j([s, a]). Instead of E separate networks, `QEnsemble` stacks the members' weights, layer k
holding W_k (E, n_in, n_out) and b_k (E, 1, n_out), and runs all of them with one batched matrix
product per layer (`ensemble_linear`): E times fewer graph nodes, and NumPy's loop over E instead
of Python's. Member j is exactly an ordinary MLP with weights W_k[j], b_k[j] (a test checks).

Initialisation: `init="pytorch"` (the default, as stable-baselines3 and CleanRL's SAC use):
W, b ~ U(-1/sqrt(n_in), 1/sqrt(n_in)); `init="orthogonal"`: orthogonal W (gain sqrt 2, last
layer `head_gain`), b = 0.

`forward_array` computes the same values on plain arrays with no graph (acting, targets).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, _unbroadcast
from ..nn import ACTIVATIONS, MLP, Linear, Module, orthogonal_, pytorch_default_init

__all__ = ["ensemble_linear", "QEnsemble", "SquashedGaussianActor", "INITS"]

INITS = ("pytorch", "orthogonal")


def ensemble_linear(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """y_j = x_j W_j + b_j for every member j, one graph node.

    Shapes: x (B, n_in) (the same input for every member) or (E, B, n_in); weight (E, n_in, n_out);
    bias (E, 1, n_out) -> y (E, B, n_out). With a leading seed axis (`minirl.stacking`): x (S, 1, B, n_in)
    or (S, E, B, n_in), weight (S, E, n_in, n_out), bias (S, E, 1, n_out) -> y (S, E, B, n_out).
    """
    out = x.data @ weight.data                                     # (E, B, n_out) (x broadcast over E)
    out += bias.data

    def backward(g):
        # dL/dx_j = G_j W_j^T (summed over j when x was shared), dL/dW_j = x_j^T G_j, dL/db_j = sum_B G_j
        gx = _unbroadcast(g @ np.swapaxes(weight.data, -1, -2), x.shape) if x.requires_grad else None
        gw = np.swapaxes(x.data, -1, -2) @ g if weight.requires_grad else None
        gb = g.sum(axis=-2, keepdims=True) if bias.requires_grad else None
        return gx, gw, gb

    return Tensor._make(out, (x, weight, bias), backward, "ensemble_linear")


def _uniform(shape, fan_in: int, rng: np.random.Generator, dtype) -> np.ndarray:
    bound = 1.0 / np.sqrt(fan_in)
    return rng.uniform(-bound, bound, shape).astype(dtype)


class QEnsemble(Module):
    """E independent MLPs in_dim -> hidden... -> 1 evaluated together: x (B, in_dim) -> (E, B)."""

    def __init__(self, in_dim: int, n: int, *, rng: np.random.Generator, hidden: tuple = (256, 256),
                 activation: str = "relu", init: str = "pytorch", head_gain: float = 1.0, dtype=np.float32):
        sizes = [int(in_dim), *hidden, 1]
        self.n, self.sizes, self.dtype = int(n), tuple(sizes), np.dtype(dtype)
        self.act = ACTIVATIONS[activation]()
        self.weights, self.biases = [], []
        for k, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            if init == "pytorch":
                w = _uniform((self.n, n_in, n_out), n_in, rng, self.dtype)
                b = _uniform((self.n, 1, n_out), n_in, rng, self.dtype)
            else:
                gain = head_gain if k == len(sizes) - 2 else float(np.sqrt(2))
                w = np.stack([orthogonal_((n_in, n_out), gain, rng, self.dtype) for _ in range(self.n)])
                b = np.zeros((self.n, 1, n_out), dtype=self.dtype)
            self.weights.append(Tensor(w, requires_grad=True))
            self.biases.append(Tensor(b, requires_grad=True))

    def forward(self, x) -> Tensor:
        h = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=self.dtype))
        if self.weights[0].ndim == 4:                # stacked seeds: x (S, B, in) -> (S, 1, B, in), shared by E
            h = h.reshape(h.shape[0], 1, *h.shape[1:])
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = ensemble_linear(h, w, b)                                     # (E, B, n_out)
            if k < last:
                h = self.act(h)
        return h.reshape(h.shape[:-1])                                       # (E, B), or (S, E, B)

    def forward_array(self, x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=self.dtype)
        if self.weights[0].ndim == 4:
            h = h[:, None]
        last = len(self.weights) - 1
        for k, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ w.data
            h += b.data
            if k < last:
                h = self.act.forward_array(h)
        return h.reshape(h.shape[:-1])

    def member(self, j: int, rng: np.random.Generator | None = None) -> MLP:
        """Member j as an ordinary `minirl.nn.MLP` (a copy of its weights; for tests and plots)."""
        mlp = MLP(list(self.sizes), rng=rng or np.random.default_rng(0), activation=type(self.act).__name__.lower(),
                  dtype=self.dtype)
        for layer, w, b in zip([m for m in mlp.layers if isinstance(m, Linear)], self.weights, self.biases):
            layer.weight.data, layer.bias.data = w.data[j].copy(), b.data[j, 0].copy()
        return mlp


class SquashedGaussianActor(Module):
    """obs (B, obs_dim) -> (mean (B, D), log_std (B, D)) of the pre-squash Gaussian u ~ N(mean, std^2)."""

    def __init__(self, obs_dim: int, act_dim: int, *, rng: np.random.Generator, hidden: tuple = (256, 256),
                 activation: str = "relu", init: str = "pytorch", head_gain: float = 0.01,
                 log_std_min: float = -20.0, log_std_max: float = 2.0, dtype=np.float32):
        self.obs_dim, self.act_dim, self.dtype = int(obs_dim), int(act_dim), np.dtype(dtype)
        self.log_std_min, self.log_std_max = float(log_std_min), float(log_std_max)
        self.net = MLP([obs_dim, *hidden, 2 * act_dim], rng=rng, activation=activation, output_gain=head_gain,
                       dtype=self.dtype)
        if init == "pytorch":
            pytorch_default_init(self.net, rng)

    def forward(self, obs) -> tuple[Tensor, Tensor]:
        x = obs if isinstance(obs, Tensor) else Tensor(np.asarray(obs, dtype=self.dtype))
        out = self.net(x)                                                     # (B, 2D), or (S, B, 2D)
        D = self.act_dim
        return out[..., :D], out[..., D:].clip(self.log_std_min, self.log_std_max)

    def forward_array(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = self.net.forward_array(np.asarray(obs, dtype=self.dtype))       # (B, 2D), or (S, B, 2D)
        D = self.act_dim
        log_std = np.minimum(np.maximum(out[..., D:], self.log_std_min), self.log_std_max)
        return out[..., :D], log_std.astype(self.dtype, copy=False)
