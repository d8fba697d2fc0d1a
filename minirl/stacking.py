"""The seed axis: S copies of one network, optimiser or normaliser, trained side by side in one process.

Every claim in the course is a multi-seed claim, and one seed's small networks leave NumPy mostly
waiting on Python: a PPO minibatch step on CartPole is ~40 graph nodes of (256 x 64) matrices, and
each node costs as much in interpreter overhead as in arithmetic. Stacking the S seeds' weights along
a new leading axis turns S such steps into one step over arrays S times larger (the idea of PureJaxRL,
`vmap` over seeds, written with NumPy's broadcasting):

| single seed | shape | S seeds stacked | shape |
|---|---|---|---|
| weight W | (n_in, n_out) | W_s for s = 0..S-1 | (S, n_in, n_out) |
| bias b, a log-std, any vector | (n,) | one per seed, with a batch axis of 1 to broadcast | (S, 1, n) |
| a batch of inputs x | (B, n_in) | each seed's own batch | (S, B, n_in) |
| y = x W + b | (B, n_out) | y_s = x_s W_s + b_s: one batched matmul (`autograd.linear`) | (S, B, n_out) |
| a loss, mean over the batch | () | mean over the last axis: one loss per seed | (S,) |

Seeds never mix: every operation acts along the batch or feature axes of one seed, so the gradient
of `loss.sum()` (the S losses added) with respect to seed s's weights is exactly the gradient of
seed s's own loss, and Adam's element-wise update is each seed's own update. With the same array
shapes per seed, NumPy and BLAS give bit for bit what S separate runs give (a matrix product's rows
can depend on how many rows it has, so a stacked run keeps each seed's shapes: tests check each
algorithm's stacked run against its single-seed runs).

What this module provides:

| name | what |
|---|---|
| `SeedStreams(generators)` | S random generators drawn side by side: `streams.random((S, N))` is row s from generator s |
| `stacked_shape(S, shape)` | the stacked shape of a per-seed array (table above) |
| `stack_modules(modules)` | a copy of `modules[0]`'s structure whose parameters hold all S seeds' values |
| `stack_state(states, like)` / `split_state(state, s, like)` | S `state_dict()`s <-> one stacked `state_dict()` |
| `with seed_view(module, s):` | the stacked module holds seed s alone (a seed axis of 1): a pass on one seed's own rows |
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np

__all__ = ["SeedStreams", "stacked_shape", "stack_modules", "stack_state", "split_state", "seed_view"]


class SeedStreams:
    """One `np.random.Generator` per seed, drawn side by side along a leading axis of length S.

    Each method takes the stacked `size` (S, ...) and draws `size[1:]` from every generator in turn:
    seed s gets exactly the numbers its single-seed run would draw with the same call. Accepted
    wherever minirl samples (`minirl.distributions`, minibatch permutations).
    """

    def __init__(self, generators):
        self.generators = list(generators)
        if not self.generators or not all(isinstance(g, np.random.Generator) for g in self.generators):
            raise TypeError("SeedStreams needs a non-empty list of np.random.Generator")

    def __len__(self) -> int:
        return len(self.generators)

    def _draw(self, method: str, size, **kwargs) -> np.ndarray:
        size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
        if not size or size[0] != len(self.generators):
            raise ValueError(f"SeedStreams: size {size} must start with the number of seeds {len(self.generators)}")
        return np.stack([getattr(g, method)(size=size[1:], **kwargs) for g in self.generators])

    def random(self, size) -> np.ndarray:
        return self._draw("random", size)

    def standard_normal(self, size) -> np.ndarray:
        return self._draw("standard_normal", size)

    def uniform(self, low=0.0, high=1.0, size=None) -> np.ndarray:
        return self._draw("uniform", size, low=low, high=high)

    def integers(self, low, high=None, size=None) -> np.ndarray:
        return self._draw("integers", size, low=low, high=high)

    def permutation(self, n: int) -> np.ndarray:
        """(S, n): a permutation of range(n) per seed."""
        return np.stack([g.permutation(n) for g in self.generators])


def stacked_shape(S: int, shape: tuple) -> tuple:
    """(S, *shape) for a matrix; (S, 1, *shape) for a vector or scalar, which broadcasts over a batch."""
    shape = tuple(shape)
    return (S, *shape) if len(shape) >= 2 else (S, 1, *shape)


def stack_modules(modules):
    """A module of `modules[0]`'s class and structure whose every parameter stacks the S modules' values.

    The S modules must have the same parameters (names and shapes). The result is a copy: training it
    leaves the S modules as they were (`split_state` brings its values back into them).
    """
    modules = list(modules)
    first = dict(modules[0].named_parameters())
    for m in modules[1:]:
        own = dict(m.named_parameters())
        if {k: p.shape for k, p in own.items()} != {k: p.shape for k, p in first.items()}:
            raise ValueError("stack_modules: the modules have different parameters (names or shapes)")
    stacked = copy.deepcopy(modules[0])
    for name, p in stacked.named_parameters():
        values = [dict(m.named_parameters())[name].data for m in modules]
        p.data = np.stack(values).reshape(stacked_shape(len(modules), p.shape))
    return stacked


def stack_state(states: list[dict], like: dict) -> dict:
    """One stacked state from S per-seed `state_dict()`s; `like` is the stacked object's own state (its
    shapes). An entry whose stacked shape equals the per-seed shape (a learning rate, a step count) must
    be the same for every seed, and is taken once."""
    out = {}
    for key, target in like.items():
        values = [np.asarray(st[key]) for st in states]
        if np.shape(target) == values[0].shape:
            if any(not np.array_equal(v, values[0]) for v in values[1:]):
                raise ValueError(f"stack_state: '{key}' differs between the seeds ({[v.tolist() for v in values]}); "
                                 "it is shared by the stacked seeds")
            out[key] = values[0]
        else:
            out[key] = np.stack(values).reshape(np.shape(target))
    return out


def split_state(state: dict, s: int, like: dict) -> dict:
    """Seed s's part of a stacked state, shaped like `like` (a per-seed `state_dict()`, or its shapes)."""
    out = {}
    for key, target in like.items():
        shape = target if isinstance(target, tuple) else np.shape(target)
        value = np.asarray(state[key])
        out[key] = value if value.shape == shape else value[s].reshape(shape)
    return out


@contextlib.contextmanager
def seed_view(module, s, params: list | None = None):
    """Inside the block the stacked `module` holds seed s's parameters only, with a seed axis of 1
    (or, for a list of seeds, theirs: a seed axis of that length).

    For a pass whose number of rows differs between the seeds (a matrix product's rows can depend
    on how many rows it has, so each seed keeps its single run's shapes), or that only some seeds
    take. One seed's parameters are views; a list's are copies (read them, do not train them).
    Every parameter is the same array again after the block. (`params`: the module's
    `parameters()`, if the caller has them.)
    """
    params = module.parameters() if params is None else params
    saved = [p.data for p in params]
    for p in params:
        p.data = p.data[s:s + 1] if isinstance(s, (int, np.integer)) else p.data[list(s)]
    try:
        yield module
    finally:
        for p, data in zip(params, saved):
            p.data = data
