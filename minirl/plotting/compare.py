"""The figure of `minirl compare`: learning curves against environment steps and against seconds.

Left: return (mean of the last 100 episodes) versus environment steps simulated, the sample cost.
Right: the same runs versus wall-clock seconds, the compute cost. Each arm is a central line over
seeds (IQM by default) with a 95% percentile-bootstrap band; the dotted line is the threshold.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .curves import plot_band

__all__ = ["compare_figure"]


def compare_figure(comp, statistic: str = "iqm"):
    """Draw a `minirl.experiments.compare.Comparison`; returns the matplotlib Figure."""
    from ..experiments.compare import ARMS

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), sharey=True)
    for i, arm in enumerate(comp.arms):
        color = f"C{i}"
        for ax, x in zip(axes, ("step", "time_s")):
            curves = comp.curves(arm, x)
            if curves:
                plot_band(ax, curves, ARMS[arm].label, statistic=statistic, color=color)
    for ax, xlabel in zip(axes, ("environment steps", "wall-clock seconds (one core each)")):
        ax.axhline(comp.threshold, color="grey", linestyle=":", linewidth=1,
                   label=f"threshold {comp.threshold:g}")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("return (mean of last 100 episodes)")
    axes[0].legend(fontsize=9, loc="best")
    fig.suptitle(f"{comp.task}: black-box versus differentiable arms, {len(comp.seeds)} seeds "
                 f"({statistic} and 95% bootstrap band)")
    return fig
