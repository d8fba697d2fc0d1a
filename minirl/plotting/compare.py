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
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.4), sharey=True, layout="constrained")
    handles, labels = [], []
    for i, arm in enumerate(comp.arms):
        by_step = comp.curves(arm, "step", metric)
        for ax, curves in ((axes[0], by_step), (axes[1], comp.curves(arm, "time_s", metric))):
            if curves:
                plot_band(ax, curves, ARMS[arm].label, statistic=statistic, color=f"C{i}")
        if by_step:
            handles.append(axes[0].get_lines()[-1])
            labels.append(f"{ARMS[arm].label}: {ARMS[arm].gradient}")
    for ax, xlabel in zip(axes, ("environment steps (log scale)", "training seconds (one core each)")):
        line = ax.axhline(comp.threshold, color="grey", linestyle=":", linewidth=1)
        if comp.easy_threshold is not None:
            easy = ax.axhline(comp.easy_threshold, color="grey", linestyle="--", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_xscale("log")                      # the arms differ by orders of magnitude in env steps
    handles.append(line)
    labels.append(f"threshold {comp.threshold:g}")
    if comp.easy_threshold is not None:
        handles.append(easy)
        labels.append(f"{comp.easy_threshold:g}: usually swings up")
    if metric == "eval":                        # compare evaluates every arm as the task's preset says
        from ..algos.presets import eval_settings
        axes[0].set_ylabel(f"evaluation return (deterministic, {eval_settings(comp.task)['episodes']} episodes)")
    else:
        axes[0].set_ylabel(YLABELS[metric])
    n = len(comp.seeds)
    name = statistic.upper() if statistic == "iqm" else statistic
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=9, frameon=False,
               title=f"lines: {name} over {n} seeds; bands: 95% bootstrap interval", title_fontsize=9)
    fig.suptitle(f"{comp.task}: black-box versus differentiable arms, {n} seeds")
    return fig
