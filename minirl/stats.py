"""Summaries over seeds: mean, interquartile mean (IQM) and bootstrap confidence bands.

RL results vary a lot between seeds; a single curve says little. We summarise n runs by a central
statistic and a percentile-bootstrap confidence interval (Efron, 1979), and prefer the IQM (mean of
the middle 50%, robust to one bad seed) as recommended by Agarwal et al. (2021, "Deep RL at the edge
of the statistical precipice").

Shapes: `runs` is (n_runs, T): one row per seed, one column per point of a common x grid.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

__all__ = ["iqm", "mean", "STATISTICS", "bootstrap_ci", "align_curves", "median_time_to", "r_squared",
           "wilson_interval"]


def mean(x: np.ndarray, axis: int = 0) -> np.ndarray:
    return np.mean(x, axis=axis)


def iqm(x: np.ndarray, axis: int = 0) -> np.ndarray:
    """Interquartile mean: the mean of the values between the 25th and 75th percentiles.

    With n values sorted, drop floor(n/4) from each end and average the rest (for n < 4 that is the
    plain mean).
    """
    x = np.sort(np.asarray(x, dtype=np.float64), axis=axis)
    n = x.shape[axis]
    cut = n // 4
    return np.take(x, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


STATISTICS: dict[str, Callable] = {"mean": mean, "iqm": iqm}


def r_squared(pred, truth) -> float:
    """Coefficient of determination 1 - sum (pred - truth)^2 / sum (truth - mean truth)^2 over all
    entries; NaN when the truth does not vary (nothing to explain)."""
    pred, truth = np.asarray(pred, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    sst = np.sum((truth - truth.mean()) ** 2) if truth.size else 0.0
    return float(1.0 - np.sum((pred - truth) ** 2) / sst) if sst > 1e-12 else float("nan")


def first_reach(values: Sequence[float], threshold: float | None) -> int | None:
    """Index of the first finite value at or above `threshold` (None if none, or no threshold): where a
    curve of evaluation returns first reaches a level. `median_time_to` summarises it over seeds."""
    x = np.asarray(values, dtype=np.float64)
    if threshold is None or x.size == 0:
        return None
    hits = np.flatnonzero(np.isfinite(x) & (x >= threshold))
    return int(hits[0]) if hits.size else None


def median_time_to(values: Sequence[float]) -> float:
    """Median over *all* seeds of the steps (or seconds) each took to reach a threshold.

    A seed that never reached it (NaN or inf) counts as slower than every other, not as missing, so
    an arm that fails on some seeds is not flattered by leaving them out: steps (1k, 2k, never)
    give 2k, and (1k, never, never) give NaN ("never": the median seed did not get there).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return float("nan")
    median = float(np.median(np.where(np.isfinite(x), x, np.inf)))
    return median if np.isfinite(median) else float("nan")


def bootstrap_ci(runs, statistic: str = "iqm", n_boot: int = 1000, confidence: float = 0.95,
                 rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Central statistic and percentile-bootstrap confidence band over runs.

    Args:
        runs: (n_runs, T) array (or (n_runs,) for a single point).
        statistic: "iqm" or "mean".
        n_boot: bootstrap resamples (runs drawn with replacement).
        confidence: e.g. 0.95 for a 95% band.
        rng: a Generator (default: seeded 0, so figures are reproducible).

    Returns:
        (centre, low, high), each of shape (T,) (or scalars for 1-D input).
    """
    if statistic not in STATISTICS:
        raise ValueError(f"unknown statistic {statistic!r}; choose from {sorted(STATISTICS)}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    runs = np.asarray(runs, dtype=np.float64)
    squeeze = runs.ndim == 1
    if squeeze:
        runs = runs[:, None]
    if runs.shape[0] == 0:
        raise ValueError("bootstrap_ci needs at least one run")
    rng = rng if rng is not None else np.random.default_rng(0)
    stat = STATISTICS[statistic]
    centre = stat(runs, axis=0)                                            # (T,)
    idx = rng.integers(0, runs.shape[0], size=(n_boot, runs.shape[0]))    # (n_boot, n_runs)
    boots = stat(runs[idx], axis=1)                                        # (n_boot, T)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(boots, [alpha, 1 - alpha], axis=0)
    if squeeze:
        return centre[0], low[0], high[0]
    return centre, low, high


def wilson_interval(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a rate of k events in n trials (Wilson, 1927), (low, high).

    With p = k / n and z the standard normal quantile of (1 + confidence) / 2:

        centre = (p + z^2 / 2n) / (1 + z^2 / n),
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2)

    Unlike p +- z sqrt(p (1 - p) / n) it stays inside [0, 1] and is not empty at k = 0 or k = n:
    0 crashes in 20 episodes gives (0, 0.161) at 95%. n = 0 gives (0, 1): nothing is known.
    """
    from statistics import NormalDist

    if not isinstance(n, (int, np.integer)) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ValueError(f"wilson_interval: need integers 0 <= k <= n, got k={k!r}, n={n!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    low = 0.0 if k == 0 else max(0.0, centre - half)       # exact ends: no rounding past the observed rate
    high = 1.0 if k == n else min(1.0, centre + half)
    return float(low), float(high)


def align_curves(curves: Sequence[tuple], grid=None, num: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Put several (x, y) curves on one x grid so they can be summarised point by point.

    Each curve is held constant after its last point and before its first (the last known value is
    the best guess of a run's state). The default grid spans the shortest run, so every point is
    backed by every run.

    Returns:
        grid (T,), runs (n_runs, T).
    """
    curves = [(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)) for x, y in curves]
    curves = [(x, y) for x, y in curves if x.size]
    if not curves:
        raise ValueError("align_curves: no non-empty curves")
    if grid is None:
        end = min(x[-1] for x, _ in curves)
        start = max(x[0] for x, _ in curves)
        grid = np.linspace(min(start, end), end, num)
    grid = np.asarray(grid, dtype=np.float64)
    return grid, np.stack([np.interp(grid, x, y) for x, y in curves])
