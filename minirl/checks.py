"""One-line argument checks shared by the algorithms: each returns the value or raises a ValueError
(TypeError for an rng that is not a Generator) whose message names the function, the argument, the
value and what is accepted:

    steps = positive_int("train_dpo", "steps", steps)          # "train_dpo: steps must be a positive integer, got -3"
    beta = number("train_dpo", "beta", beta, low=0, low_open=True)

Booleans are not numbers here (`steps=True` is a mistake, not 1), strings are not numbers
(`beta="0.1"` is refused, not parsed), and NaN or infinity is refused unless `finite=False`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["positive_int", "nonnegative_int", "number", "fraction", "generator"]


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def positive_int(who: str, name: str, v) -> int:
    """An integer >= 1."""
    if not _is_int(v) or v < 1:
        raise ValueError(f"{who}: {name} must be a positive integer, got {v!r}")
    return int(v)


def nonnegative_int(who: str, name: str, v) -> int:
    """An integer >= 0."""
    if not _is_int(v) or v < 0:
        raise ValueError(f"{who}: {name} must be an integer >= 0, got {v!r}")
    return int(v)


def number(who: str, name: str, v, *, low: float | None = None, high: float | None = None,
           low_open: bool = False, high_open: bool = False, finite: bool = True) -> float:
    """A real number (not a bool or a string), finite unless `finite=False`, within [low, high]
    (an open end with `low_open` / `high_open`); returned as a float."""
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
    if ok:
        x = float(v)
        ok = not np.isnan(x) and (not finite or np.isfinite(x))
        ok = ok and (low is None or (x > low if low_open else x >= low))
        ok = ok and (high is None or (x < high if high_open else x <= high))
    if not ok:
        raise ValueError(f"{who}: {name} must be {_describe(low, high, low_open, high_open, finite)}, got {v!r}")
    return x


def fraction(who: str, name: str, v, *, zero: bool = True, one: bool = True) -> float:
    """A number in [0, 1]; `zero=False` / `one=False` exclude an end."""
    return number(who, name, v, low=0.0, high=1.0, low_open=not zero, high_open=not one)


def generator(who: str, rng, name: str = "rng") -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{who}: {name} must be a np.random.Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def _describe(low, high, low_open, high_open, finite) -> str:
    kind = "a finite number" if finite else "a number (not NaN)"
    if low is not None and high is not None:
        return f"{kind} in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {high:g}"
    return kind
