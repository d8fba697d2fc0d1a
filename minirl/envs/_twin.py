"""Input checks shared by the differentiable twins (`PendulumTwin`, `CliffCartTwin`)."""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor


def as_batch(name: str, x, width: int) -> Tensor:
    """`x` as a Tensor of shape (B, width): arrays are wrapped as float64, Tensors pass unchanged."""
    x = x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float64))
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(f"{name} must have shape (B, {width}), got {x.shape}")
    return x


def check_reset_args(rng, batch) -> int:
    """Validate `reset(rng, batch)` and return the batch size as an int."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"reset needs a np.random.Generator, got {type(rng).__name__}")
    if not isinstance(batch, (int, np.integer)) or batch <= 0:
        raise ValueError(f"reset: batch must be a positive integer, got {batch!r}")
    return int(batch)
