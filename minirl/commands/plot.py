"""`minirl plot DIR...`: learning curves of several runs, grouped by (algo, env), over seeds.

    minirl plot runs/ppo_cartpole_s* runs/reinforce_cartpole_s* --out cartpole.png
    minirl plot runs/* --x time --stat mean

Each DIR is a run folder written by `minirl train` (its progress.csv and config.json). Runs with the
same algorithm, environment and hyperparameters (they differ only in the seed) are one group: one
line (the interquartile mean, or the mean, over its seeds) with a 95% bootstrap confidence band.
Groups of one algorithm whose hyperparameters differ (an ablation) are labelled with the fields
that differ, e.g. "ppo clip_coef=100.0". Rows logged before the first finished episode (a
NaN return) are left out. One panel per environment; the environment's reward threshold (if any) is
drawn as a dotted line.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

HELP = "plot learning curves of one or more run directories"
DESCRIPTION = "Learning curves of runs grouped by algo and env: IQM or mean over seeds with a bootstrap band."


def add_arguments(parser) -> None:
    parser.add_argument("run_dirs", nargs="+", metavar="DIR", help="run folders written by `minirl train`")
    parser.add_argument("--out", default="learning_curves.png", help="PNG file to write")
    parser.add_argument("--x", choices=["steps", "time"], default="steps",
                        help="x axis: environment steps or wall-clock seconds")
    parser.add_argument("--stat", choices=["iqm", "mean"], default="iqm", help="central line over seeds")
    parser.add_argument("--title", default="", help="figure title")


def load_curves(run_dirs, x: str = "steps") -> dict[tuple[str, str, str], list[tuple[np.ndarray, np.ndarray]]]:
    """(algo, env_id, config JSON) -> list of (x, return_mean) curves, one per run, NaN rows removed."""
    from ..logger import read_csv

    column = {"steps": "step", "time": "time_s"}[x]
    groups: dict[tuple[str, str, str], list] = {}
    for d in run_dirs:
        cfg_path, csv_path = os.path.join(d, "config.json"), os.path.join(d, "progress.csv")
        if not (os.path.exists(cfg_path) and os.path.exists(csv_path)):
            raise ValueError(f"{d} is not a run folder (needs config.json and progress.csv)")
        with open(cfg_path) as f:
            info = json.load(f)
        data = read_csv(csv_path)
        for needed in (column, "return_mean"):
            if needed not in data:
                raise ValueError(f"{csv_path} has no {needed!r} column (columns: {sorted(data)})")
        xs, ys = data[column], data["return_mean"]
        keep = np.isfinite(xs) & np.isfinite(ys)
        if not keep.any():
            print(f"minirl plot: {d} has no finished episode yet; skipped", file=sys.stderr)
            continue
        key = (info["algo"], info["env_id"], json.dumps(info.get("config", {}), sort_keys=True))
        groups.setdefault(key, []).append((xs[keep], ys[keep]))
    return groups


def group_labels(groups) -> dict[tuple[str, str, str], str]:
    """A label per group: the algo, plus the hyperparameters that differ between its groups on one env."""
    labels = {}
    for algo, env, cfg in groups:
        siblings = [json.loads(c) for a, e, c in groups if a == algo and e == env]
        mine = json.loads(cfg)
        differ = sorted(k for k in mine if any(s.get(k) != mine[k] for s in siblings))
        extra = ", ".join(f"{k}={mine[k]}" for k in differ)
        labels[(algo, env, cfg)] = f"{algo} {extra}" if extra else algo
    return labels


def run(args) -> int:
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import learning_curves_figure, save_figure

    try:
        groups = load_curves(args.run_dirs, args.x)
    except ValueError as exc:
        print(f"minirl plot: error: {exc}", file=sys.stderr)
        return 2
    if not groups:
        print("minirl plot: error: none of the runs has a finished episode to plot", file=sys.stderr)
        return 2
    labels = group_labels(groups)
    envs = sorted({env for _, env, _ in groups})
    fig, axes = plt.subplots(1, len(envs), figsize=(6.4 * len(envs), 4.2), squeeze=False)
    for ax, env in zip(axes[0], envs):
        methods = {labels[key]: curves for key, curves in sorted(groups.items()) if key[1] == env}
        learning_curves_figure(methods, ax=ax, statistic=args.stat, threshold=_threshold(env),
                               xlabel="environment steps" if args.x == "steps" else "wall-clock seconds",
                               title=args.title or env)
    path = save_figure(fig, args.out)
    counts = ", ".join(f"{labels[key]} on {key[1]}: {len(c)} run(s)" for key, c in sorted(groups.items()))
    print(f"{counts}; figure written to {path}")
    return 0


def _threshold(env_id: str):
    from ..experiments.train_run import reward_threshold
    return reward_threshold(env_id)
