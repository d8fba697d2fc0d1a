"""Figures of `minirl driving`; each takes the tables of `minirl.experiments.driving.tables` (lists of
row dicts) and returns a matplotlib Figure.

* `policies_figure`: crash rate (Wilson 95% interval, k/n written on the bar) and return paid
  (bootstrap 95% over episodes) of every baseline and planner arm in the real env;
* `blame_figure`: the 2 x 2 "who is to blame" table against N: paid return and crashes of the winner;
* `overopt_figure`: gain in reference standard deviations against KL_BoN, the driving
  action-sequence reward (proxy, paid, crashes of the winner) beside the toy language;
* `rewards_figure`: pair accuracy and R^2 against the number of pairs, both worlds, like for like;
* `world_model_figure`: one-step R^2 of the change per component for each predictor;
* `ppo_figure`: crash rate and speed of PPO trained on each reward (`--long`).
"""

from __future__ import annotations

import numpy as np

from .curves import band_label, plt

__all__ = ["policies_figure", "blame_figure", "overopt_figure", "rewards_figure", "world_model_figure",
           "ppo_figure"]

COLORS = {"exact copy/env reward": "tab:green", "exact copy/learned reward": "tab:olive",
          "learned world model/env reward": "tab:purple", "learned world model/learned reward": "tab:red"}


def _wrap(label: str) -> str:
    """One short line per part: "planner:\nexact copy\n+ env reward"."""
    return label.replace(": ", ":\n").replace(" + ", "\n+ ").replace(" (", "\n(").replace("keep lane and speed",
                                                                                           "keep lane\nand speed")


def _rate_bars(ax, rows, title):
    x = np.arange(len(rows))
    rate = np.array([r["crash_rate"] for r in rows])
    err = np.array([[r["crash_rate"] - r["crash_low"] for r in rows], [r["crash_high"] - r["crash_rate"] for r in rows]])
    ax.bar(x, rate, color="tab:red", alpha=0.8, yerr=np.maximum(err, 0.0), capsize=4)
    for xi, r in zip(x, rows):
        ax.text(xi, min(r["crash_high"] + 0.02, 1.03), f"{r['crashes']}/{r['n']}", ha="center", fontsize=8)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("crash rate (bars: Wilson 95% interval)")
    ax.set_title(title, fontsize=10)


def policies_figure(rows):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8.8, 5.4))
    labels = [_wrap(r["arm"]) for r in rows]
    x = np.arange(len(rows))
    _rate_bars(ax1, rows, "real highway-fast-v0, 20 s episodes")
    ret = np.array([r["return"] for r in rows])
    err = np.array([[r["return"] - r["return_low"] for r in rows], [r["return_high"] - r["return"] for r in rows]])
    ax2.bar(x, ret, yerr=np.maximum(err, 0.0), capsize=4, color="tab:blue", alpha=0.8, label="return paid, 95% bootstrap over episodes")
    pred = [r.get("predicted", np.nan) for r in rows]
    if np.isfinite(pred).any():
        ax2.plot(x, pred, "k_", markersize=18, mew=2, linestyle="none", label="return the planner predicted")
    ax2.set_ylabel("episode return")
    ax2.legend(fontsize=8, loc="lower left")
    for ax in (ax1, ax2):
        ax.set_xticks(x, labels, fontsize=8, rotation=35, ha="right", rotation_mode="anchor")
    fig.set_layout_engine("tight")                      # the rotated labels stay inside the figure
    return fig


def _band(ax, x, rows, key, label, color, style="-", scale=1.0, unit="starts"):
    y = np.array([r[key] for r in rows]) * scale
    low = np.array([r[f"{key}_low"] for r in rows]) * scale
    high = np.array([r[f"{key}_high"] for r in rows]) * scale
    n = rows[0].get("n", rows[0].get("n_starts", 0))
    ax.plot(x, y, style, color=color, marker="o", markersize=3,
            label=band_label(label, "mean", n, unit=unit) if label else None)
    ax.fill_between(x, low, high, color=color, alpha=0.15, linewidth=0)


def blame_figure(rows):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.4, 6.6))
    for key in dict.fromkeys((r["dynamics"], r["score"]) for r in rows):
        sel = [r for r in rows if (r["dynamics"], r["score"]) == key]
        color = COLORS["/".join(key)]
        ns = [r["N"] for r in sel]
        _band(ax1, ns, sel, "paid", f"{key[0]} + {key[1]}", color)
        _band(ax2, ns, sel, "crashes", None, color)
    n = rows[0]["n"]
    ax1.set_ylabel("return paid by the real env (5 steps)")
    ax2.set_ylabel(f"crashes of the winner (of {n} starts)")
    ax2.set_ylim(bottom=0)
    for ax in (ax1, ax2):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("N (random action sequences, best by the score)")
        ax.grid(alpha=0.3)
    ax1.set_title("return paid", fontsize=10)
    ax2.set_title("crashes of the winner", fontsize=10)
    fig.legend(fontsize=8, loc="lower center", ncol=1, title="dynamics + score", title_fontsize=8)
    fig.set_layout_engine("tight", rect=(0, 0.3, 1, 1))
    return fig


def overopt_figure(rows):
    fig, axes = plt.subplots(1, 2, figsize=(9.4, 4.6), sharey=True)
    drive = [r for r in rows if r["world"] == "driving"]
    toy = [r for r in rows if r["world"] == "toy language"]
    for ax, sel, title in ((axes[0], drive, "driving: action-sequence reward, real env pays"),
                           (axes[1], toy, "toy language: exact best-of-N (lesson 10)")):
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("KL_BoN = log N - (N - 1) / N")
        ax.grid(alpha=0.3)
        if not sel:
            continue
        kl = [r["kl_bon"] for r in sel]
        ax.plot(kl, [r["proxy_gain"] for r in sel], "--", color="k", label="proxy (the reward model)")
        if sel is drive:
            _band(ax, kl, sel, "paid_gain", "paid", "tab:blue")
            twin = ax.twinx()
            _band(twin, kl, sel, "crashes", "crashes of the winner", "tab:red", style=":")
            twin.set_ylabel(f"crashes of the winner (of {sel[0]['n']} starts)")
            twin.set_ylim(0, sel[0]["n"])
            handles, labels = (a + b for a, b in zip(ax.get_legend_handles_labels(), twin.get_legend_handles_labels()))
            ax.legend(handles, labels, fontsize=8, loc="upper left")
        else:
            ax.plot(kl, [r["paid_gain"] for r in sel], "-", color="tab:blue", marker="o", markersize=3,
                    label=f"gold: mean over {sel[0]['n']} seeds (exact)")
            ax.legend(fontsize=8, loc="upper left")
    axes[0].set_ylabel("gain over the reference (reference std)")
    return fig


REWARD_COLORS = {("toy language", "one-prompt comparisons"): "k", ("outcome", "recorded segments"): "tab:green",
                 ("action sequence", "recorded segments"): "tab:red",
                 ("action sequence", "one-state comparisons"): "tab:orange"}


def rewards_figure(rows):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.4, 6.8))
    keys = dict.fromkeys((r["world"], r["reward"], r["trained_on"], r["scored_on"]) for r in rows)
    for ax, metric in ((ax1, "pair accuracy"), (ax2, "R^2")):
        for world, kind, trained_on, scored_on in keys:
            sel = sorted((r for r in rows if (r["world"], r["reward"], r["trained_on"], r["scored_on"], r["metric"])
                          == (world, kind, trained_on, scored_on, metric)), key=lambda r: r["n_pairs"])
            if not sel:
                continue
            color = REWARD_COLORS[(world, trained_on) if world == "toy language" else (kind, trained_on)]
            style = ":" if scored_on == "recorded segments" else "-"
            x = [r["n_pairs"] for r in sel]
            label = (f"toy language, scored on one prompt" if world == "toy language"
                     else f"{kind}, trained on {trained_on}, scored on {scored_on}")
            ax.plot(x, [r["mean"] for r in sel], style, color=color, marker="o", markersize=3,
                    label=band_label(label, "mean", sel[0]["seeds"]) if ax is ax1 else None)
            ax.fill_between(x, [r["low"] for r in sel], [r["high"] for r in sel], color=color, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_xlabel("judged pairs the reward model was trained on")
        ax.set_ylabel(f"held-out {metric}")
        ax.grid(alpha=0.3)
    ax1.axhline(0.5, color="grey", linewidth=0.8)
    ax1.set_title("pair accuracy (0.5: a coin)", fontsize=10)
    ax2.set_title("R^2 of the best affine read-out", fontsize=10)
    fig.legend(fontsize=8, loc="lower center", ncol=1, title="dotted: scored on recorded segments;\nsolid: on the "
               "alternatives of one state or prompt", title_fontsize=8)
    fig.set_layout_engine("tight", rect=(0, 0.3, 1, 1))
    return fig


def world_model_figure(rows):
    fig, ax = plt.subplots(figsize=(9.4, 4.4))
    comps = [(c, f) for c in ("ego", "others") for f in ("x", "y", "vx", "vy")]
    groups = [g for g in dict.fromkeys((r["predictor"], r["target"], r["rows"]) for r in rows)
              if g[0] != "rows that switch car"]
    x = np.arange(len(comps))
    width = 0.8 / max(len(groups), 1)
    for i, g in enumerate(groups):
        vals = []
        for c, f in comps:
            match = [r["r2"] for r in rows if (r["predictor"], r["target"], r["rows"], r["car"], r["feature"]) == (*g, c, f)]
            vals.append(match[0] if match else np.nan)
        ax.bar(x + (i - (len(groups) - 1) / 2) * width, np.clip(vals, -0.5, 1.0), width=width,
               label=f"{g[0]} -> {g[1]}, {g[2]}")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_ylim(-0.5, 1.05)
    ax.set_xticks(x, [f"{c}\n{f}" for c, f in comps])
    ax.set_ylabel("one-step R^2 of the change")
    ax.set_title("world-model error per component, test episodes (bars below -0.5 cut at -0.5)", fontsize=10)
    ax.legend(fontsize=8, loc="lower left")
    return fig


def ppo_figure(rows):
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9.4, 4.4))
    _rate_bars(ax1, rows, f"PPO in the real env, {rows[0]['seeds']} seeds, evaluation episodes")
    x = np.arange(len(rows))
    ax2.bar(x, [r["speed"] for r in rows], color="tab:blue", alpha=0.8, label="mean forward speed")
    ax2.set_ylabel("m/s")
    ax2.legend(fontsize=8, loc="lower left")
    for ax in (ax1, ax2):
        ax.set_xticks(x, [f"trained on the\n{r['arm']}" for r in rows], fontsize=8)
    return fig
