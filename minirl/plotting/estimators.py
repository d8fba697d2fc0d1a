"""Figures of the gradient-estimator lab (`minirl.experiments.estimator_lab`): data in, Figure out.

Each function takes the lab's dataclasses and returns a matplotlib Figure; save it with
`minirl.plotting.save_figure`. Measured variances are points with +-2 standard-error bars; closed
forms are dashed lines of the same colour.
"""

from __future__ import annotations

import matplotlib

if "matplotlib.pyplot" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["plot_sweep", "sample_count_figure", "parameter_figure", "dimension_figure",
           "temperature_figure", "failures_figure"]

COLORS = {"score": "tab:red", "score_mean": "tab:orange", "score_loo": "tab:purple",
          "pathwise": "tab:blue", "gumbel_st": "tab:green"}
LABELS = {"score": "score function, no baseline", "score_mean": "score function, batch-mean baseline",
          "score_loo": "score function, leave-one-out", "pathwise": "pathwise (reparameterised)",
          "gumbel_st": "Gumbel-softmax straight-through"}


def plot_sweep(ax, sweep, quantity: str = "variance", names=None, logx: bool = False, logy: bool = True):
    """Draw one measured curve per estimator (with +-2 SE bars for variances) and the closed forms."""
    names = names or list(sweep.variance)
    for name in names:
        color = COLORS.get(name)
        y = getattr(sweep, quantity)[name]
        if quantity == "variance":
            ax.errorbar(sweep.x, y, yerr=2 * sweep.variance_se[name], fmt="o-", ms=3, color=color,
                        label=LABELS.get(name, name), capsize=2)
            if name in sweep.analytic:
                ax.plot(sweep.x, sweep.analytic[name], "--", color=color, alpha=0.7, linewidth=1)
        else:
            ax.plot(sweep.x, y, "o-", ms=3, color=color, label=LABELS.get(name, name))
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(sweep.x_label.replace("_", " "))
    ax.grid(alpha=0.3, which="both")
    return ax


def sample_count_figure(sweep):
    """Variance and MSE of the N-sample estimate versus N (log-log): every curve falls like 1/N."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.4, 4))
    plot_sweep(a1, sweep, "variance", logx=True)
    a1.set_ylabel("variance of the N-sample estimate of dJ/dmu")
    a1.set_title("variance (dashed: closed form per-sample variance / N)", fontsize=9)
    plot_sweep(a2, sweep, "mse", logx=True)
    a2.set_ylabel("mean squared error against the exact gradient")
    a2.set_title(f"x ~ N(1, 1), f = (x - k)^2, exact gradient {sweep.exact[0]:g}", fontsize=9)
    a1.legend(fontsize=8)
    return fig


def parameter_figure(quadratic, cosine):
    """Per-sample variance versus the parameter k of f: (x - k)^2 and cos(kx)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9.4, 4))
    plot_sweep(a1, quadratic, "variance")
    a1.set_title("f = (x - k)^2, x ~ N(1, 1): pathwise 4, score 15 + 14 d^2 + d^4", fontsize=9)
    plot_sweep(a2, cosine, "variance")
    a2.set_title("f = cos(kx): pathwise ~ k^2/2 overtakes score ~ 1/2", fontsize=9)
    for ax in (a1, a2):
        ax.set_ylabel("per-sample variance of dJ/dmu")
    a1.legend(fontsize=8)
    return fig


def dimension_figure(sweep):
    """Per-coordinate variance versus dimension D (f = sum_d (x_d - k)^2)."""
    fig, ax = plt.subplots(figsize=(6, 4))
    plot_sweep(ax, sweep, "variance", logx=True)
    ax.set_ylabel("per-sample variance of one coordinate of dJ/dmu")
    ax.set_title("score-function variance grows with D, pathwise stays at 4", fontsize=9)
    ax.legend(fontsize=8)
    return fig


def temperature_figure(sweep):
    """Gumbel straight-through bias^2, variance and MSE versus temperature; score-function MSE for reference."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    tau, color = sweep.x, COLORS["gumbel_st"]
    ax.plot(tau, sweep.bias["gumbel_st"] ** 2, "s:", color=color, ms=3, label="Gumbel-ST bias^2")
    ax.plot(tau, sweep.variance["gumbel_st"], "^--", color=color, ms=3, label="Gumbel-ST variance")
    ax.plot(tau, sweep.mse["gumbel_st"], "o-", color=color, ms=3, label="Gumbel-ST MSE")
    for name in ("score", "score_loo"):
        if name in sweep.mse:
            ax.axhline(sweep.mse[name][0], color=COLORS[name], linestyle="-", linewidth=1,
                       label=f"{LABELS[name]} MSE")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("temperature tau")
    ax.set_ylabel(f"summed over logits, N = {sweep.n_samples} samples")
    ax.set_title("categorical: low tau = low bias, high variance", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig


def failures_figure(cases, horizon=None):
    """Where pathwise fails: batch estimates per estimator against the exact gradient (red line).

    One panel per case (box plots of the N-sample estimates), plus the per-sample variance through
    the logistic map versus horizon if `horizon` (a Sweep) is given.
    """
    n = len(cases) + (horizon is not None)
    rows = (n + 1) // 2                                      # two panels a row: readable in a notebook
    fig, axes = plt.subplots(rows, 2 if n > 1 else 1, figsize=(9.4, 3.8 * rows), squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    axes = axes[:n]
    for ax, case in zip(axes, cases):
        names = list(case.estimates)
        data = [case.estimates[k] for k in names]
        lo, hi = np.percentile(np.concatenate(data), [1, 99])
        ax.boxplot(data, showfliers=False, whis=(5, 95))
        ax.set_xticks(range(1, len(names) + 1), names, fontsize=8)
        for i, g in enumerate(data, start=1):
            ax.plot(i, np.median(g), "k_", ms=14)
            ax.plot(i, g.mean(), "D", color=COLORS.get(names[i - 1]), ms=5)
        ax.axhline(case.exact, color="red", linewidth=1, label=f"exact {case.exact:.3g}")
        ax.set_ylim(min(lo, case.exact) - 0.1 * abs(hi - lo + 1e-9), max(hi, case.exact) + 0.1 * abs(hi - lo + 1e-9))
        ax.set_title(case.description, fontsize=9)
        ax.set_ylabel(f"{case.n_samples}-sample estimate of dJ/dmu")
        ax.legend(fontsize=8)
    if horizon is not None:
        ax = axes[-1]
        plot_sweep(ax, horizon, "variance")
        ax.set_ylabel("per-sample variance of dJ/dmu")
        ax.set_title("logistic map r = 3.9: backprop variance explodes with horizon", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle("boxes: 5-95% of the batch estimates, black bar: median, diamond: mean", fontsize=9)
    return fig
