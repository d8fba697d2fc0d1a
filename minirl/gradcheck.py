"""Finite-difference gradient checks: the test every backward rule must pass.

Central differences: df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h), error O(h^2). In float64 with
h = 1e-6 the relative error of a correct rule on a smooth function is typically below 1e-8.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from .autograd import Tensor

__all__ = ["numerical_gradient", "gradient_check", "relative_error"]


def numerical_gradient(f: Callable[..., Tensor], inputs: Sequence[np.ndarray], index: int,
                       h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar sum(f(*inputs)) with respect to inputs[index]."""
    arrays = [np.array(x, dtype=np.float64) for x in inputs]
    x = arrays[index]
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        plus = float(np.sum(f(*[Tensor(a) for a in arrays]).data))
        flat[i] = old - h
        minus = float(np.sum(f(*[Tensor(a) for a in arrays]).data))
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """max |a - b| / max(1, max |a|, max |b|): relative for large gradients, absolute for tiny ones."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(1.0, float(np.abs(a).max()), float(np.abs(b).max()))
    return float(np.abs(a - b).max() / scale)


def gradient_check(f: Callable[..., Tensor], inputs: Sequence[np.ndarray], h: float = 1e-6) -> list[float]:
    """Compare autograd with central differences for every input; return one relative error each.

    `f` takes Tensors and returns a Tensor; the checked scalar is `f(...).sum()`.
    """
    tensors = [Tensor(np.array(x, dtype=np.float64), requires_grad=True) for x in inputs]
    f(*tensors).sum().backward()
    errors = []
    for i, t in enumerate(tensors):
        analytic = t.grad if t.grad is not None else np.zeros_like(t.data)
        errors.append(relative_error(analytic, numerical_gradient(f, inputs, i, h)))
    return errors
