"""Layers: `Module`, `Linear` with orthogonal initialisation, `MLP`, activation modules.

A `Module` finds its parameters by looking at its attributes: every `Tensor` with
`requires_grad=True`, every sub-`Module`, and every list, tuple or dict of those (a parameter
shared by two attributes is found once). Names follow the attribute path (`"layers.0.weight"`),
as in PyTorch's `state_dict`.

`forward_array(x)` is the same computation on plain NumPy arrays with no graph at all: acting in a
rollout calls the policy once per environment step, and there the Tensor bookkeeping of each layer
costs as much as its arithmetic. It gives bit-for-bit the values of `forward` (a test checks).

Note the weight layout: `Linear.weight` has shape (in_features, out_features) so the forward pass
reads `y = x @ W + b` exactly as written on paper (PyTorch stores the transpose).
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import numpy as np

from .autograd import Tensor, linear, no_grad

__all__ = ["Module", "Linear", "MLP", "Tanh", "ReLU", "Sigmoid", "Identity", "Sequential",
           "orthogonal_", "pytorch_default_init", "ACTIVATIONS"]


class Module:
    """Base class: parameter discovery, `zero_grad`, `state_dict`, a train/eval flag."""

    training: bool = True

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward_array(self, x: np.ndarray) -> np.ndarray:
        """`forward` on a plain array, recording no graph (layers override it with pure NumPy)."""
        with no_grad():
            return self.forward(Tensor(x)).data

    # -------------------------------------------------------------- parameter discovery
    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs; a parameter reachable twice (shared) is listed once."""
        seen: set[int] = set()
        for name, p in self._named_tensors(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_tensors(self, prefix: str) -> Iterator[tuple[str, Tensor]]:
        for name, value in vars(self).items():
            yield from _named_tensors_in(value, f"{prefix}{name}")

    def parameters(self) -> list[Tensor]:
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator["Module"]:
        """This module and every sub-module (each once), depth first."""
        seen: set[int] = set()

        def visit(value):
            if isinstance(value, Module):
                if id(value) not in seen:
                    seen.add(id(value))
                    yield value
                    for item in vars(value).values():
                        yield from visit(item)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    yield from visit(item)
            elif isinstance(value, dict):
                for item in value.values():
                    yield from visit(item)

        yield from visit(self)

    def num_parameters(self) -> int:
        return sum(p.size for p in self.parameters())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # -------------------------------------------------------------- saving and loading
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's values, keyed by its dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy values into the parameters; a missing, unexpected or mis-shaped entry is an error."""
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing parameters {missing}, unexpected parameters {unexpected}")
        for name, p in own.items():
            if name not in state:
                continue
            value = np.asarray(state[name])
            if value.shape != p.shape:
                raise ValueError(f"load_state_dict: parameter '{name}' has shape {p.shape} "
                                 f"but the state holds shape {value.shape}")
            p.data = value.astype(p.data.dtype, copy=True)


def _named_tensors_in(value, name: str) -> Iterator[tuple[str, Tensor]]:
    """Parameters inside an attribute value: a Tensor, a Module, or a list/tuple/dict of those."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            yield name, value
    elif isinstance(value, Module):
        yield from value._named_tensors(name + ".")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _named_tensors_in(item, f"{name}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _named_tensors_in(item, f"{name}.{key}")


def orthogonal_(shape: tuple, gain: float, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns, times `gain` (Saxe et al., 2014).

    The PPO convention: gain sqrt(2) for tanh/ReLU hidden layers, 0.01 for the policy head (so the
    initial policy is near uniform), 1 for the value head.
    """
    rows, cols = shape
    a = rng.standard_normal((max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))                    # make the decomposition unique (uniform on O(n))
    if rows < cols:
        q = q.T
    return (gain * q[:rows, :cols]).astype(dtype)


class Linear(Module):
    """y = x W + b with W orthogonally initialised (scaled by `gain`) and b = 0.

    Shapes: x (..., in_features) -> y (..., out_features); weight (in_features, out_features).
    """

    def __init__(self, in_features: int, out_features: int, *, rng: np.random.Generator,
                 gain: float = float(np.sqrt(2)), bias: bool = True, dtype=np.float64):
        for field, value in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"Linear: {field} must be a positive integer, got {value!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"Linear: rng must be a np.random.Generator, got {type(rng).__name__}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.weight = Tensor(orthogonal_((in_features, out_features), gain, rng, dtype), requires_grad=True)
        self.bias = Tensor(np.zeros(out_features, dtype=dtype), requires_grad=True) if bias else None

    def forward(self, x) -> Tensor:
        return linear(x, self.weight, self.bias)

    def forward_array(self, x: np.ndarray) -> np.ndarray:
        out = x @ self.weight.data                    # the same two NumPy calls as `linear`
        if self.bias is not None:
            out += self.bias.data
        return out

    def __repr__(self):
        return f"Linear({self.in_features}, {self.out_features})"


def pytorch_default_init(module: Module, rng: np.random.Generator) -> None:
    """Replace the orthogonal init of every Linear in `module` by PyTorch's default: weights and biases
    drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)), layer by layer (weight, then bias)."""
    for m in module.modules():
        if isinstance(m, Linear):
            bound = 1.0 / np.sqrt(m.in_features)
            m.weight.data = rng.uniform(-bound, bound, m.weight.shape).astype(m.weight.dtype)
            if m.bias is not None:
                m.bias.data = rng.uniform(-bound, bound, m.bias.shape).astype(m.bias.dtype)


class Tanh(Module):
    def forward(self, x):
        return x.tanh()

    def forward_array(self, x):
        return np.tanh(x)


class ReLU(Module):
    def forward(self, x):
        return x.relu()

    def forward_array(self, x):
        return x * (x > 0)


class Sigmoid(Module):
    def forward(self, x):
        return x.sigmoid()


class Identity(Module):
    def forward(self, x):
        return x

    def forward_array(self, x):
        return x


ACTIVATIONS = {"tanh": Tanh, "relu": ReLU, "sigmoid": Sigmoid, "identity": Identity}


class Sequential(Module):
    """Apply modules one after another."""

    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def forward_array(self, x):
        for layer in self.layers:
            x = layer.forward_array(x)
        return x


class MLP(Sequential):
    """A multi-layer perceptron: Linear -> activation -> ... -> Linear.

    Args:
        sizes: layer widths including input and output, e.g. (4, 64, 64, 2).
        activation: "tanh" (the PPO default), "relu", "sigmoid" or "identity".
        hidden_gain: orthogonal-init gain of the hidden layers (sqrt 2 by convention).
        output_gain: gain of the last layer (0.01 for a policy head, 1 for a value head).
        output_activation: optional activation after the last layer.
    """

    def __init__(self, sizes, *, rng: np.random.Generator, activation: str = "tanh",
                 hidden_gain: float = float(np.sqrt(2)), output_gain: float = 1.0,
                 output_activation: str | None = None, dtype=np.float64):
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"MLP: sizes needs at least input and output widths, got {sizes}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"MLP: unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            layers.append(Linear(n_in, n_out, rng=rng, gain=output_gain if last else hidden_gain, dtype=dtype))
            if not last:
                layers.append(ACTIVATIONS[activation]())
        if output_activation is not None:
            if output_activation not in ACTIVATIONS:
                raise ValueError(f"MLP: unknown output_activation {output_activation!r}; "
                                 f"choose from {sorted(ACTIVATIONS)}")
            layers.append(ACTIVATIONS[output_activation]())
        super().__init__(*layers)
        self.sizes = tuple(sizes)

    def __repr__(self):
        return f"MLP({self.sizes})"


@contextlib.contextmanager
def frozen(*modules: Module):
    """Inside the block the modules' parameters record no gradient: backprop passes *through* them.

    Used wherever a loss is differentiated through a network that must not learn from it: a policy
    optimised through learned models (SVG) or through a critic (SAC), a response optimised through
    a reward model. Skipping those weight gradients also saves their part of the backward pass.
    Each parameter's `requires_grad` is restored afterwards, whatever it was.
    """
    params = [p for m in modules for p in m.parameters()]
    saved = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad = False
    try:
        yield
    finally:
        for p, flag in zip(params, saved):
            p.requires_grad = flag
