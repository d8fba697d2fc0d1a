"""Learning curves over seeds: a central line (IQM or mean) with a bootstrap confidence band."""

from __future__ import annotations

import os
from typing import Mapping, Sequence

import matplotlib

if "matplotlib.pyplot" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..stats import align_curves, bootstrap_ci  # noqa: E402

__all__ = ["plot_band", "band_label", "learning_curves_figure", "save_figure"]


def plot_band(ax, curves: Sequence[tuple], label: str, statistic: str = "iqm", color=None,
              grid=None, confidence: float = 0.95):
    """Draw one method's runs on `ax`: the statistic over runs and its bootstrap band.

    Args:
        curves: list of (x, y) pairs, one per seed (x increasing).
        statistic: "iqm" or "mean".
    Returns:
        (grid, centre) of the drawn line.
    """
    grid, runs = align_curves(curves, grid=grid)
    centre, low, high = bootstrap_ci(runs, statistic=statistic, confidence=confidence)
    (line,) = ax.plot(grid, centre, label=band_label(label, statistic, runs.shape[0], confidence),
                      color=color)
    if runs.shape[0] > 1:
        ax.fill_between(grid, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    return grid, centre


def band_label(label: str, statistic: str, n: int, confidence: float = 0.95, unit: str = "seeds") -> str:
    """What a line and its band are, for the legend: "PPO: IQM over 5 seeds, 95% bootstrap band"."""
    if n == 1:
        return f"{label}: 1 {unit[:-1] if unit.endswith('s') else unit} (no band)"
    name = {"iqm": "IQM", "mean": "mean", "median": "median"}.get(statistic, statistic)
    return f"{label}: {name} over {n} {unit}, {confidence:.0%} bootstrap band"


def learning_curves_figure(methods: Mapping[str, Sequence[tuple]], xlabel: str = "environment steps",
                           ylabel: str = "return (mean of last 100 episodes)", title: str = "",
                           statistic: str = "iqm", threshold: float | None = None, ax=None):
    """One axis with a line and a band per method. `methods` maps a label to its per-seed (x, y) curves."""
    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for label, curves in methods.items():
        plot_band(ax, curves, label, statistic=statistic)
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle=":", linewidth=1, label=f"threshold {threshold:g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig if fig is not None else ax.figure


def save_figure(fig, path: str, dpi: int = 110) -> str:
    """Save `fig` as PNG (creating the folder), close it, and return the path."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    if fig.get_layout_engine() is None:           # a figure that chose its layout engine keeps it
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
