"""The figure of the dimension study (`minirl compare --dims ...`, lesson 13).

Four panels, each against the number of action dimensions d (log scale):

1. env steps to the threshold per arm: the IQM over seeds with its 95% bootstrap band. A point where
   some seed never reached the threshold within its budget (that seed counted as its budget) is a
   lower bound, drawn hollow with a caret above it.
2. the ratio of two arms' median steps (PPO over SHAC by default); a hollow point is a lower bound.
3. the gradient's signal-to-noise ratio of one estimate, score function and pathwise at the same
   policy and on the same rollouts (mean over seeds, min-max over seeds as a band); estimates at or
   below 0 (the signal lost in the noise) are drawn at the panel's floor as hollow triangles.
4. the mean cosine between one estimate and a many-sample reference gradient.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["dimension_figure", "steps_figure", "snr_figure"]

ESTIMATOR_STYLE = {"score": ("score function (black box)", "C1"), "pathwise": ("pathwise (through the twin)", "C3")}


def _by_arm(summary, arm):
    rows = sorted((r for r in summary if r["arm"] == arm), key=lambda r: r["d"])
    return rows, np.array([r["d"] for r in rows], dtype=float)


def _steps_panel(ax, study, summary):
    from ..experiments.compare import ARMS
    for i, arm in enumerate(study.arms):
        rows, dims = _by_arm(summary, arm)
        centre = np.array([r["iqm_steps"] for r in rows])
        low, high = np.array([r["iqm_low"] for r in rows]), np.array([r["iqm_high"] for r in rows])
        censored = np.array([r["censored"] > 0 for r in rows])
        color = f"C{i}"
        ax.plot(dims, centre, color=color, label=ARMS[arm].label)
        if len(study.seeds) > 1:
            ax.fill_between(dims, low, high, color=color, alpha=0.15, linewidth=0)
        ax.scatter(dims[~censored], centre[~censored], color=color, s=22, zorder=3)
        ax.scatter(dims[censored], centre[censored], facecolors="white", edgecolors=color, s=30, zorder=3)
        ax.scatter(dims[censored], centre[censored] * 1.35, marker="^", color=color, s=14, zorder=3)
    ax.set_yscale("log")
    ax.set_ylabel("env steps to the threshold")
    ax.set_title(f"(a) env steps to the threshold: IQM over {len(study.seeds)} seeds, 95% bootstrap band\n"
                 "hollow with ^: a seed never got there within its budget (a lower bound)", fontsize=9)
    ax.legend(fontsize=8, ncol=2, loc="upper left")


def _ratio_panel(ax, ratios):
    if not ratios:
        ax.text(0.5, 0.5, "needs both arms of the ratio", ha="center", va="center", transform=ax.transAxes)
        return
    dims = np.array([r["d"] for r in ratios], dtype=float)
    values = np.array([r["ratio"] for r in ratios])
    lower = np.array([r["lower_bound"] for r in ratios])
    name = f"{ratios[0]['numerator'].upper()} / {ratios[0]['denominator'].upper()}"
    ax.plot(dims, values, color="k", label=f"median steps, {name}")
    ax.scatter(dims[~lower], values[~lower], color="k", s=22, zorder=3)
    ax.scatter(dims[lower], values[lower], facecolors="white", edgecolors="k", s=30, zorder=3,
               label="lower bound: the numerator's median seed never got there")
    ax.axhline(1.0, color="grey", linewidth=0.8, linestyle=":")
    ax.set_yscale("log")
    ax.set_ylabel("ratio of env steps")
    ax.set_title(f"(b) how many times more env steps {ratios[0]['numerator'].upper()} needs than "
                 f"{ratios[0]['denominator'].upper()}\n(medians over seeds)", fontsize=9)
    ax.legend(fontsize=8)


def _snr_panels(ax_snr, ax_cos, snr_rows):
    if not snr_rows:
        for ax in (ax_snr, ax_cos):
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        return
    positive = [r["snr"] for r in snr_rows if r["snr"] > 0 and math.isfinite(r["snr"])]
    floor = min(positive) / 3 if positive else 1e-3
    for name, (label, color) in ESTIMATOR_STYLE.items():
        rows = [r for r in snr_rows if r["estimator"] == name]
        dims = np.array(sorted({r["d"] for r in rows}), dtype=float)
        for ax, key in ((ax_snr, "snr"), (ax_cos, "cosine")):
            per_d = [np.array([r[key] for r in rows if r["d"] == d]) for d in dims]
            centre = np.array([v.mean() for v in per_d])
            low, high = np.array([v.min() for v in per_d]), np.array([v.max() for v in per_d])
            if key == "snr":
                lost = centre <= 0
                shown = np.where(lost, floor, centre)
                ax.plot(dims, shown, color=color, label=label)
                ax.fill_between(dims, np.maximum(low, floor), np.maximum(high, floor), color=color, alpha=0.15,
                                linewidth=0)
                ax.scatter(dims[lost], shown[lost], marker="v", facecolors="white", edgecolors=color, s=30, zorder=3)
            else:
                ax.plot(dims, centre, color=color, label=label)
                ax.fill_between(dims, low, high, color=color, alpha=0.15, linewidth=0)
    n = len({r["seed"] for r in snr_rows})
    first = snr_rows[0]
    how = (f"one estimate: {first['rollouts']} rollouts of {first['steps']} steps;\nmean over {n} seed"
           f"{'s' if n > 1 else ''}, min-max band")
    ax_snr.set_yscale("log")
    ax_snr.set_ylabel("SNR of one estimate")
    ax_snr.set_title(f"(c) gradient signal-to-noise ratio\n{how}; hollow v: at or below 0", fontsize=9)
    ax_snr.legend(fontsize=8, loc="lower left")
    ax_cos.set_ylim(-0.1, 1.05)
    ax_cos.set_ylabel("cosine to the reference gradient")
    ax_cos.set_title(f"(d) how well one estimate points at the true gradient\n{how}", fontsize=9)
    ax_cos.legend(fontsize=8, loc="center right")


def _dims_axis(ax, dims) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(dims), [str(d) for d in dims])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("action dimensions d")
    ax.grid(alpha=0.3, which="both")


def _title(study) -> str:
    thresholds = sorted(set(study.thresholds.values()))
    what = f"threshold {thresholds[0]:g}" if len(thresholds) == 1 else "thresholds per d"
    return f"{study.family}-d<d>: when does the gradient pay? ({what}, evaluation return)"


def dimension_figure(study, summary, ratios):
    """Draw a `minirl.experiments.dimension.DimensionStudy` (with its `summarize` and `ratio_rows`): 2 x 2 panels."""
    fig, axes = plt.subplots(2, 2, figsize=(9.4, 8.2), layout="constrained")
    _steps_panel(axes[0, 0], study, summary)
    _ratio_panel(axes[0, 1], ratios)
    _snr_panels(axes[1, 0], axes[1, 1], study.snr_rows)
    for ax in axes.ravel():
        _dims_axis(ax, study.dims)
    fig.suptitle(_title(study), fontsize=11)
    return fig


def steps_figure(study, summary, ratios):
    """Panels (a) and (b) only: env steps to the threshold per arm, and the ratio."""
    fig, axes = plt.subplots(1, 2, figsize=(9.4, 4.2), layout="constrained")
    _steps_panel(axes[0], study, summary)
    _ratio_panel(axes[1], ratios)
    for ax in axes:
        _dims_axis(ax, study.dims)
    fig.suptitle(_title(study), fontsize=11)
    return fig


def snr_figure(snr_rows):
    """Panels (c) and (d) only: the SNR and the cosine to the reference, from `measure_snr` rows."""
    fig, axes = plt.subplots(1, 2, figsize=(9.4, 4.2), layout="constrained")
    _snr_panels(axes[0], axes[1], snr_rows)
    for ax in axes:
        _dims_axis(ax, sorted({r["d"] for r in snr_rows}))
    fig.suptitle("the gradient's signal-to-noise ratio at the initial policy, both estimators on the same rollouts",
                 fontsize=11)
    return fig
