"""Figures of `minirl driving` (each takes a `DrivingResult` and returns a matplotlib Figure).

* `reward_figure`: pair accuracy overall / no-crash / crash per reward model, and accuracy against
  the number of training pairs beside the toy language (mean over seeds, bootstrap band);
* `world_model_figure`: one-step R^2 of the change per component (ego / others x position / velocity);
* `overopt_figure`: best-of-N proxy and true gain against sqrt(KL), driving segments beside the toy
  language, and (when it ran) best-of-N action sequences through the world model, paid in the real env;
* `planner_figure`: return paid, predicted and crash rate per planner arm in the real env.
"""

from __future__ import annotations

import numpy as np

from .curves import plot_band, plt

__all__ = ["reward_figure", "world_model_figure", "overopt_figure", "planner_figure"]


def _seed_curves(rows, x_key, y_key, **where):
    """Per-seed (x, y) curves from result rows, x sorted."""
    out = []
    for seed in sorted({r["seed"] for r in rows}):
        pts = sorted((r[x_key], r[y_key]) for r in rows if r["seed"] == seed
                     and all(r.get(k) == v for k, v in where.items()) and np.isfinite(r[y_key]))
        if pts:
            out.append((np.array([p[0] for p in pts], dtype=float), np.array([p[1] for p in pts], dtype=float)))
    return out


def reward_figure(result, config):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.4))
    big = config.pair_counts[-1]
    labels, groups = [], ("overall", "no_crash", "crash")
    values = {g: [] for g in groups}
    for inputs in ("privileged", "observation"):
        for model in ("linear", "mlp"):
            labels.append(f"{model}\n{inputs[:4]}.")
            for g in groups:
                vals = [r[g] for r in result.reward_rows if r["inputs"] == inputs and r["model"] == model
                        and r["n_pairs"] == big and np.isfinite(r[g])]
                values[g].append(np.mean(vals) if vals else np.nan)
    x = np.arange(len(labels))
    for i, (g, color) in enumerate(zip(groups, ("tab:blue", "tab:green", "tab:red"))):
        ax1.bar(x + (i - 1) * 0.27, values[g], width=0.27, color=color, label=g.replace("_", "-") + " pairs")
    toy = np.mean([r["accuracy"] for r in result.toy_rows if r["n_pairs"] == big])
    ax1.axhline(toy, color="k", linestyle="--", linewidth=1, label=f"toy language ({toy:.2f})")
    ax1.set_xticks(x, labels)
    ax1.set_ylim(0.4, 1.0)
    ax1.set_ylabel("held-out pair accuracy")
    ax1.set_title(f"Bradley-Terry reward models, {big} training pairs")
    ax1.legend(fontsize=8, loc="lower left")
    for inputs, group, color, style in (("privileged", "overall", "tab:blue", "-"),
                                        ("observation", "overall", "tab:orange", "-"),
                                        ("observation", "crash", "tab:red", ":")):
        curves = _seed_curves(result.reward_rows, "n_pairs", group, inputs=inputs, model="mlp")
        if curves:
            plot_band(ax2, curves, f"driving, MLP on {inputs}, {group} pairs", statistic="mean", color=color)
    toy_curves = _seed_curves(result.toy_rows, "n_pairs", "accuracy")
    if toy_curves:
        plot_band(ax2, toy_curves, "toy language", statistic="mean", color="k")
    ax2.set_xscale("log")
    ax2.set_xlabel("training pairs")
    ax2.set_ylabel("held-out pair accuracy")
    ax2.set_title("accuracy against the amount of data")
    ax2.grid(alpha=0.3)
    ax2.legend(fontsize=7)
    return fig


def world_model_figure(result):
    fig, ax = plt.subplots(figsize=(8, 4))
    comps = [(c, f) for c in ("ego", "others") for f in ("x", "y", "vx", "vy")]
    x = np.arange(len(comps))
    for i, model in enumerate(("linear", "mlp")):
        vals = [np.nanmean([r["r2"] for r in result.world_rows if r["model"] == model and r["car"] == c
                            and r["feature"] == f] or [np.nan]) for c, f in comps]
        ax.bar(x + (i - 0.5) * 0.4, vals, width=0.4, label=model)
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="toy language (known exactly)")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_xticks(x, [f"{c}\n{f}" for c, f in comps])
    ax.set_ylabel("one-step R^2 of the change (test episodes)")
    ax.set_title("world model error per state component")
    ax.legend(fontsize=8)
    return fig


def overopt_figure(result):
    panels = 3 if result.seq_rows else 2
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 4.4))
    ax1, ax2 = axes[0], axes[-1]
    first = min((r["seed"] for r in result.bon_rows), default=None)
    for inputs, color in (("privileged", "tab:blue"), ("observation", "tab:orange")):
        for key, style in (("proxy_gain", "--"), ("true_gain", "-")):
            for seed in sorted({r["seed"] for r in result.bon_rows}):
                rows = [r for r in result.bon_rows if r["inputs"] == inputs and r["seed"] == seed]
                ax1.plot(np.sqrt([r["kl"] for r in rows]), [r[key] for r in rows], style, color=color, alpha=0.8,
                         label=f"{inputs}: {key.split('_')[0]}" if seed == first else None)
    first = min((r["seed"] for r in result.toy_bon_rows), default=None)
    for key, style in (("proxy_gain", "--"), ("true_gain", "-")):
        for seed in sorted({r["seed"] for r in result.toy_bon_rows}):
            rows = [r for r in result.toy_bon_rows if r["seed"] == seed]
            ax2.plot(np.sqrt([r["kl"] for r in rows]), [r[key] for r in rows], style, color="k", alpha=0.8,
                     label=("proxy" if key == "proxy_gain" else "gold") if seed == first else None)
    ax1.set_title("driving: best-of-N recorded segments")
    ax2.set_title("toy language: exact best-of-N (lesson 10)")
    for ax in (ax1, ax2):
        ax.set_xlabel("sqrt(KL(best-of-N || reference))")
        ax.set_ylabel("gain over the reference (reference std)")
    if result.seq_rows:
        ax = axes[1]
        twin = ax.twinx()
        ns = sorted({r["N"] for r in result.seq_rows})
        for proxy, color in (("learned reward", "tab:orange"), ("true reward formula", "tab:green")):
            mean = lambda key: [np.mean([float(r[key]) for r in result.seq_rows          # noqa: E731
                                         if r["proxy"] == proxy and r["N"] == n]) for n in ns]
            ax.plot(ns, mean("predicted"), "--", color=color, label=f"{proxy}: predicted")
            ax.plot(ns, mean("paid"), "-", color=color, label=f"{proxy}: paid")
            twin.plot(ns, mean("crashed"), ":", marker="x", color=color, label=f"{proxy}: crash rate")
        ax.set_xscale("log")
        ax.set_xlabel("N (random action sequences)")
        ax.set_ylabel("return over the sequence")
        twin.set_ylabel("crash rate (dotted)")
        twin.set_ylim(0, 1)
        ax.set_title("driving: best-of-N through the world model, paid in the real env", fontsize=9)
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def planner_figure(result):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    arms = list(dict.fromkeys(r["arm"] for r in result.planner_rows))
    if not arms:
        for ax in (ax1, ax2):
            ax.text(0.5, 0.5, f"skipped: {result.skipped}", ha="center", va="center", wrap=True)
            ax.set_axis_off()
        return fig
    x = np.arange(len(arms))
    paid = [np.mean([r["return"] for r in result.planner_rows if r["arm"] == a]) for a in arms]
    pred = [np.mean([r["predicted"] for r in result.planner_rows if r["arm"] == a]) for a in arms]
    crash = [np.mean([r["crashed"] for r in result.planner_rows if r["arm"] == a]) for a in arms]
    ax1.bar(x - 0.2, paid, width=0.4, label="paid by the env")
    ax1.bar(x + 0.2, pred, width=0.4, label="predicted by the models")
    ax1.set_ylabel("episode return")
    ax2.bar(x, crash, color="tab:red")
    ax2.set_ylabel("crash rate")
    ax2.set_ylim(0, 1)
    for ax in (ax1, ax2):
        ax.set_xticks(x, [a.replace(" + ", "\n+ ").replace(" (", "\n(") for a in arms], fontsize=8)
    ax1.legend(fontsize=8)
    ax1.set_title("real highway-fast-v0 episodes")
    return fig
