"""Figures of the toy-RLHF experiments: the reward-KL frontier and over-optimisation curves.

Each function takes the plain result of `minirl.experiments.rlhf_frontier` / `rlhf_overopt` and
returns a matplotlib Figure (Agg backend unless one was already chosen, e.g. in Jupyter).
"""

from __future__ import annotations

import matplotlib

if "matplotlib.pyplot" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..stats import bootstrap_ci  # noqa: E402

__all__ = ["frontier_figure", "overopt_figure", "bon_kl_figure"]

MARKERS = {"best-of-N": "o", "PPO": "s", "RLOO": "^", "ST backprop": "v", "filtered FT": "D", "preferred FT": "d", "DPO": "P",
           "IPO": "X", "pi*(proxy)": "*"}


def _method_curve(result, method):
    """Mean over seeds of (kl, gold) per setting, sorted by KL: the method's average frontier."""
    settings = list(dict.fromkeys(r["setting"] for r in result.rows if r["method"] == method))
    pts = []
    for s in settings:
        rows = [r for r in result.rows if r["method"] == method and r["setting"] == s]
        pts.append((np.mean([r["kl"] for r in rows]), np.mean([r["gold_reward"] for r in rows])))
    pts = np.array(sorted(pts))
    return pts


def _upper_envelope(pts):
    """Keep the points not beaten by one with smaller-or-equal KL: a method's own frontier."""
    best, out = -np.inf, []
    for kl, g in pts:
        if g > best:
            out.append((kl, g))
            best = g
    return np.array(out)


def frontier_figure(result, title: str = "Gold reward against exact KL(pi || pi_ref)"):
    """Every point of every method (one dot per seed and setting), each method's envelope of the
    per-setting seed means, and the exact optimal frontier {pi*_beta} for the gold reward."""
    fig, ax = plt.subplots(figsize=(7.5, 5.0))
    order = np.argsort(result.optimal_kl)
    ax.plot(result.optimal_kl[order], result.optimal_gold[order], color="black", linewidth=2,
            label="optimal frontier pi*_beta (exact)")
    methods = list(dict.fromkeys(r["method"] for r in result.rows))
    n_seeds = len({r["seed"] for r in result.rows})
    for i, m in enumerate(methods):
        color = f"C{i}"
        pts = result.points(m)
        ax.scatter(pts[:, 0], pts[:, 1], s=10, alpha=0.3, color=color, marker=MARKERS.get(m, "o"))
        env = _upper_envelope(_method_curve(result, m))
        ax.plot(env[:, 0], env[:, 1], color=color, marker=MARKERS.get(m, "o"), markersize=5,
                label=f"{m} (mean of {n_seeds} seeds)")
    ax.axhline(result.reference_gold, color="grey", linestyle=":", linewidth=1, label="pi_ref")
    ax.set_xlabel("KL(pi || pi_ref) (nats, exact)")
    ax.set_ylabel("expected gold reward (exact)")
    ax.set_title(title)
    ax.set_xlim(left=-0.1, right=min(10.0, max(8.0, result.optimal_kl.max() * 0.8)))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return fig


def _band(ax, curves, color, label, linestyle="-"):
    """Mean over seeds with a bootstrap band, on the union grid of sqrt(KL) (curves interpolated)."""
    end = min(x[-1] for x, _ in curves)
    grid = np.linspace(0.0, end, 60)
    runs = np.stack([np.interp(grid, x, y) for x, y in curves])
    centre, low, high = bootstrap_ci(runs, statistic="mean")
    ax.plot(grid, centre, color=color, linestyle=linestyle, label=label)
    if len(curves) > 1:
        ax.fill_between(grid, low, high, color=color, alpha=0.15, linewidth=0)
    return grid


def overopt_figure(result, methods=("best-of-N", "RL (exact pi*)", "RL (RLOO)")):
    """One panel per method: gold (solid) and proxy (dashed) reward gain against sqrt(KL), one colour
    per reward-model data size, with the fitted functional form (dotted).

    Drawn for a text column about 9.4 inches wide: up to two panels side by side; three or four on a
    2 x 2 grid, whose spare cell (three methods) holds the legend."""
    fits = {(f["method"], f["n_pairs"]): f for f in result.fits}
    sizes = sorted({r["n_pairs"] for r in result.rows})
    cols = min(2, len(methods))
    rows = -(-len(methods) // cols)
    fig, grid_axes = plt.subplots(rows, cols, figsize=(9.4 if cols > 1 else 4.7, 3.9 * rows), sharey=True,
                                  squeeze=False)
    axes = grid_axes.ravel()[:len(methods)]
    spare = grid_axes.ravel()[len(methods):]
    n_seeds = 0
    for ax, method in zip(axes, methods):
        for i, n in enumerate(sizes):
            gold = result.curves(method, n, "gold_reward")
            proxy = result.curves(method, n, "proxy_reward")
            if not gold:
                continue
            n_seeds = max(n_seeds, len(gold))
            grid = _band(ax, gold, f"C{i}", f"gold, RM on {n} pairs")
            _band(ax, proxy, f"C{i}", f"proxy, RM on {n} pairs", linestyle="--")
            f = fits.get((method, n))
            if f is not None:
                d = grid[grid > 0]
                shape = d * d if method == "best-of-N" else d * np.log(d)
                ax.plot(d, f["alpha"] * d - f["beta"] * shape, color=f"C{i}", linestyle=":", linewidth=1)
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_title(f"{method}  (dotted: fit {'d(a - b d)' if method == 'best-of-N' else 'd(a - b log d)'})",
                     fontsize=9)
        ax.set_xlabel("d = sqrt(KL(pi || pi_ref))")
        ax.grid(alpha=0.3)
    for ax in grid_axes[:, 0]:
        ax.set_ylabel("reward gain over pi_ref")
    title = f"mean over {n_seeds} seeds, 95% bootstrap band"
    if len(spare):
        handles, labels = axes[0].get_legend_handles_labels()
        for ax in spare:
            ax.axis("off")
        spare[0].legend(handles, labels, fontsize=9, title_fontsize=9, title=title, loc="center")
    else:
        axes[0].legend(fontsize=8, title_fontsize=8, title=title)
    fig.tight_layout()
    return fig


def bon_kl_figure(result):
    """Best-of-N: exact KL against N, next to the analytic value log N - (N-1)/N."""
    ns = np.array(sorted(result.bound))
    exact = np.array([result.bound[n][0] for n in ns])
    bound = np.array([result.bound[n][1] for n in ns])
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    ax.plot(ns, bound, "k--", label="log N - (N-1)/N")
    ax.plot(ns, exact, "o-", label="exact KL (mean over seeds and reward models)")
    ax.set_xscale("log")
    ax.set_xlabel("N")
    ax.set_ylabel("KL(pi_N || pi_ref) (nats)")
    ax.set_title("Best-of-N: the exact KL stays below the common formula")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig
