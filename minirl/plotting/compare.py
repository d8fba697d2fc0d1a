"""The figure of `minirl compare`: evaluation return against environment steps and against seconds.

Left: the evaluation return (K deterministic episodes of the black-box env, `minirl.evaluation`)
versus environment steps consumed, the sample cost. Right: the same runs versus training seconds,
the compute cost. Each arm is a central line over seeds (IQM by default) with a 95%
percentile-bootstrap band; dotted lines mark the threshold (and the easier second line, if any).
`metric="train"` draws the mean return of the last 100 training episodes instead.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .curves import plot_band

__all__ = ["compare_figure"]

YLABELS = {"eval": "evaluation return (deterministic, K episodes)",
           "train": "training return (mean of last 100 episodes)"}


def compare_figure(comp, statistic: str = "iqm", metric: str = "eval"):
    """Draw a `minirl.experiments.compare.Comparison`; returns the matplotlib Figure."""
    from ..experiments.compare import ARMS

    if metric not in YLABELS:
        raise ValueError(f"compare_figure: metric must be one of {sorted(YLABELS)}, got {metric!r}")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True)
    for i, arm in enumerate(comp.arms):
        for ax, x in zip(axes, ("step", "time_s")):
            curves = comp.curves(arm, x, metric)
            if curves:
                plot_band(ax, curves, f"{ARMS[arm].label}: {ARMS[arm].gradient}", statistic=statistic,
                          color=f"C{i}")
    for ax, xlabel in zip(axes, ("environment steps", "training seconds (one core each)")):
        ax.axhline(comp.threshold, color="grey", linestyle=":", linewidth=1, label=f"threshold {comp.threshold:g}")
        if comp.easy_threshold is not None:
            ax.axhline(comp.easy_threshold, color="grey", linestyle="--", linewidth=0.8,
                       label=f"{comp.easy_threshold:g}: usually swings up")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(YLABELS[metric])
    axes[0].legend(fontsize=9, loc="best")
    fig.suptitle(f"{comp.task}: black-box versus differentiable arms, {len(comp.seeds)} seeds "
                 f"({statistic.upper() if statistic == 'iqm' else statistic} over seeds, 95% bootstrap band)")
    return fig
