"""Figures of the model-error experiment (`minirl.experiments.model_error`): data in, Figure out.

One column per knob: on top the true return and the model's imagined return of the final policy
(mean over seeds, with a bootstrap band and the individual seeds as dots); below the one-step error of
the learned dynamics on the policy's own trajectory. The space between the two top lines is the
model's optimism; the fall of the true line is the return gap.
"""

from __future__ import annotations

import matplotlib

if "matplotlib.pyplot" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .curves import band_label  # noqa: E402
from ..stats import bootstrap_ci  # noqa: E402

__all__ = ["model_error_figure"]

_LABELS = {"data_fraction": "share of real steps kept as model data", "obs_noise": "observation noise (std)",
           "reward_noise": "reward label noise (std)", "judge_temperature": "judge temperature",
           "n_pairs": "judged pairs"}


def _by_value(points, knob, field):
    values = []
    for p in points:
        if p.knob == knob and p.value not in values:
            values.append(p.value)
    per_value = [np.array([getattr(p, field) for p in points if p.knob == knob and p.value == v]) for v in values]
    return np.array(values, dtype=np.float64), per_value


def _band(ax, x, per_value, label, color, marker="o"):
    if not any(np.isfinite(v).any() for v in per_value):
        return
    stats = [bootstrap_ci(v[np.isfinite(v)], statistic="mean") if np.isfinite(v).sum() > 1
             else (np.nanmean(v), np.nanmean(v), np.nanmean(v)) for v in per_value]
    centre, low, high = (np.array(s) for s in zip(*stats))
    ax.plot(x, centre, marker=marker, color=color, label=label)
    ax.fill_between(x, low, high, color=color, alpha=0.2, linewidth=0)
    for xi, v in zip(x, per_value):
        ax.scatter(np.full(len(v), xi), v, color=color, s=8, alpha=0.5)


def model_error_figure(points, title: str = "What a learned model's errors cost (Pendulum)",
                       return_label: str = "return of the final policy (200 steps)",
                       error_label: str = "normalised MSE on the policy's path"):
    """A figure with one column per knob present in `points` (a list of `ModelErrorPoint`).

    `return_label` / `error_label` name the y axes: the defaults fit `run_model_error` (a trained
    policy scored over 200 steps); the planning probe (`run_planning_gap`) scores an open-loop plan.
    """
    knobs = []
    for p in points:
        if p.knob not in knobs:
            knobs.append(p.knob)
    if not knobs:
        raise ValueError("model_error_figure: no points to draw")
    fig, axes = plt.subplots(2, len(knobs), figsize=(min(9.4, 4.7 * len(knobs)), 7.0), squeeze=False, sharex="col")
    seeds = len({p.seed for p in points})
    # what the lines and bands are, once per legend (its title), so the entries stay short
    what = band_label("", "mean", seeds).removeprefix(": ")
    for j, knob in enumerate(knobs):
        top, bottom = axes[0, j], axes[1, j]
        x, true = _by_value(points, knob, "true_return")
        _, imagined = _by_value(points, knob, "imagined_return")
        _, err = _by_value(points, knob, "dyn_error")
        _band(top, x, true, "true return", "C0")
        _band(top, x, imagined, "imagined by the model", "C3", marker="s")
        _band(bottom, x, err, "one-step dynamics error", "C2")
        if knob in ("data_fraction", "n_pairs") or (x > 0).all() and x.max() / max(x.min(), 1e-12) > 20:
            for ax in (top, bottom):
                ax.set_xscale("log")
        top.set_title(knob)
        top.set_ylabel(return_label)
        bottom.set_ylabel(error_label)
        bottom.set_xlabel(_LABELS.get(knob, knob))
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8, title=what, title_fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
