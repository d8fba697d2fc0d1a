"""`minirl plot DIR...`: learning curves of several runs, grouped by (algo, env), over seeds.

    minirl plot runs/ppo_s0 runs/ppo_s1 runs/reinforce_s0 --out curves
    minirl plot runs/*_s* --metric train --x time --stat mean --out curves_train.png

Each DIR is a run folder written by `minirl train` (its progress.csv and config.json). The first
command writes curves.png (`.png` is added to an --out without an ending).

What is plotted (`--metric`):
* `eval` (the default): the evaluation return, column `eval_return_mean`, the mean return of
  deterministic episodes on fixed evaluation seeds, logged every `eval_every` env steps; rows
  without an evaluation (NaN) are left out. A run folder without that column (written before
  evaluation existed) falls back to the training curve, and the command says so in one line.
* `train`: the training return, column `return_mean`, the mean of the last 100 training episodes
  (it lags the policy by up to 100 episodes); rows before the first finished episode are left out.

Runs with the same algorithm, environment and hyperparameters (they differ only in the seed) are one
group: one line (the interquartile mean, or the mean, over its seeds) with a 95% bootstrap
confidence band. Groups of one algorithm whose hyperparameters differ (an ablation) are labelled
with the fields that differ, e.g. "ppo clip_coef=100.0". One panel per environment; the
environment's reward threshold (if any) is drawn as a dotted line.

The same folder named twice (`runs/a runs/a`, or overlapping globs such as `runs/* runs/ppo*`) is
one run, not two seeds: folders are compared by their real path (symbolic links resolved), counted
once, and the command says how many repeats it dropped. So are two folders holding the same run: the
same algorithm, env, config and seed (a copied folder, or runs that all forgot `--seed`) train
identically, so the later ones are copies; each run is counted once and one line names the copies. The --out path is checked before any run
is read; a progress.csv or config.json that cannot be read is named in the error.
"""

from __future__ import annotations

import csv
import json
import os
import sys

import numpy as np

from . import fail, write_failed

HELP = "plot learning curves (evaluation return by default) of one or more run directories"
DESCRIPTION = ("Learning curves of runs grouped by algo and env: IQM or mean over seeds with a bootstrap band; "
               "the evaluation return by default, the training return with --metric train.")

METRICS = {"eval": "eval_return_mean", "train": "return_mean"}
YLABELS = {"eval_return_mean": "evaluation return (deterministic episodes)",
           "return_mean": "training return (mean of last 100 episodes)"}


def add_arguments(parser) -> None:
    parser.add_argument("run_dirs", nargs="+", metavar="DIR", help="run folders written by `minirl train`")
    parser.add_argument("--out", default="learning_curves.png",
                        help="PNG file to write (.png is added to a name without an ending)")
    parser.add_argument("--metric", choices=sorted(METRICS), default="eval",
                        help="eval: the evaluation return (eval_return_mean); train: the training return "
                             "(return_mean, mean of the last 100 training episodes)")
    parser.add_argument("--x", choices=["steps", "time"], default="steps",
                        help="x axis: environment steps or wall-clock seconds")
    parser.add_argument("--stat", choices=["iqm", "mean"], default="iqm", help="central line over seeds")
    parser.add_argument("--title", default="", help="figure title")
    from . import add_env_module_option
    add_env_module_option(parser)


def unique_run_dirs(run_dirs) -> tuple[list[str], list[str]]:
    """(the folders in order with repeats removed, the repeats) -- equal when their real paths are."""
    seen, unique, repeats = set(), [], []
    for d in run_dirs:
        real = os.path.realpath(d)
        if real in seen:
            repeats.append(d)
        else:
            seen.add(real)
            unique.append(d)
    return unique, repeats


def _read_config(path: str) -> dict:
    """config.json of a run, checked as `--resume` and `eval` check it (a missing `config` is allowed:
    plot only needs algo and env_id)."""
    from ..runs.folder import read_json

    info = read_json(path, {"algo": str, "env_id": str})
    if not isinstance(info.get("config", {}), dict):
        raise ValueError(f"{path}: field 'config' = {info['config']!r} should be dict: restore it")
    return info


def _read_progress(path: str) -> dict[str, np.ndarray]:
    from ..logger import read_csv

    try:
        return read_csv(path)
    except (OSError, ValueError, csv.Error) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"{path} cannot be read as a progress log ({detail}); is it a folder written by "
                         "`minirl train`?") from None


def load_curves(run_dirs, x: str = "steps", metric: str = "eval", notes: list | None = None
                ) -> dict[tuple[str, str, str, str], list[tuple[np.ndarray, np.ndarray]]]:
    """(algo, env_id, config JSON, column) -> list of (x, y) curves, one per run, NaN rows removed.

    `column` is the metric's column (`eval_return_mean` or `return_mean`); a run without the
    evaluation column falls back to `return_mean`. Lines for the user (skipped runs, fallbacks)
    are appended to `notes`. Raises ValueError naming the file that cannot be read.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
    notes = [] if notes is None else notes
    x_column = {"steps": "step", "time": "time_s"}[x]
    groups: dict[tuple[str, str, str, str], list] = {}
    fallbacks, skipped, copies = [], [], []
    seen: dict[tuple, str] = {}                   # (algo, env, config, seed) -> the first folder holding it
    for d in run_dirs:
        cfg_path, csv_path = os.path.join(d, "config.json"), os.path.join(d, "progress.csv")
        if not (os.path.isfile(cfg_path) and os.path.isfile(csv_path)):
            raise ValueError(f"{d} is not a run folder (needs config.json and progress.csv)")
        info = _read_config(cfg_path)
        data = _read_progress(csv_path)
        column = METRICS[metric]
        if column not in data and metric == "eval" and "return_mean" in data:
            column = "return_mean"
            fallbacks.append(d)
        for needed in (x_column, column):
            if needed not in data:
                raise ValueError(f"{csv_path} has no {needed!r} column (columns: {sorted(data)})")
        xs, ys = data[x_column], data[column]
        keep = np.isfinite(xs) & np.isfinite(ys)
        if not keep.any():
            skipped.append(f"{d} (no {'evaluation' if column == 'eval_return_mean' else 'finished episode'} yet)")
            continue
        key = (info["algo"], info["env_id"], json.dumps(info.get("config", {}), sort_keys=True), column)
        identity = key[:3] + (json.dumps(info.get("seed")),)
        if identity in seen:                      # the same run again: a copy, not another seed
            copies.append(f"{d} (= {seen[identity]})")
            continue
        seen[identity] = d
        groups.setdefault(key, []).append((xs[keep], ys[keep]))
    if fallbacks:
        notes.append(f"{len(fallbacks)} run(s) have no evaluation column (written before evaluation existed): "
                     f"plotting their training return instead, labelled [train]: {' '.join(fallbacks)}")
    if skipped:
        notes.append(f"{len(skipped)} run(s) have nothing to plot yet, skipped: {', '.join(skipped)}")
    if copies:
        notes.append(f"{len(copies)} folder(s) hold the same run as another (same algorithm, env, config and seed: a "
                     f"copy, or runs that all used one --seed), each run counted once: {', '.join(copies)}; give "
                     "each run its own --seed")
    return groups


def group_labels(groups) -> dict[tuple, str]:
    """A label per group: the algo, plus the hyperparameters that differ between its groups on one env,
    plus [train] / [eval] when one figure mixes both metrics."""
    mixed = len({key[3] for key in groups}) > 1
    labels = {}
    for key in groups:
        algo, env, cfg, column = key
        siblings = [json.loads(k[2]) for k in groups if k[0] == algo and k[1] == env]
        mine = json.loads(cfg)
        differ = sorted(k for k in mine if any(s.get(k) != mine[k] for s in siblings))
        extra = ", ".join(f"{k}={mine[k]}" for k in differ)
        label = f"{algo} {extra}" if extra else algo
        if mixed:
            label += " [eval]" if column == "eval_return_mean" else " [train]"
        labels[key] = label
    return labels


def run(args) -> int:
    from ..outputs import OutputPathError, check_out_file
    from . import allow_env_modules

    refused = allow_env_modules("plot", args)
    if refused is not None:
        return refused
    try:
        out = check_out_file(args.out, suffix=".png")
    except OutputPathError as exc:
        return fail("plot", exc)
    run_dirs, repeats = unique_run_dirs(args.run_dirs)
    if repeats:
        print(f"minirl plot: {len(repeats)} folder argument(s) name a run already given (same real path), "
              f"each run counted once: {' '.join(sorted(set(repeats)))}", file=sys.stderr)
    notes: list[str] = []
    try:
        groups = load_curves(run_dirs, args.x, args.metric, notes)
    except ValueError as exc:
        return fail("plot", exc)
    for note in notes:
        print(f"minirl plot: {note}", file=sys.stderr)
    if not groups:
        return fail("plot", "none of the runs has a row to plot yet (see above); plot them once they have "
                            "logged a return")

    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plotting import learning_curves_figure, save_figure

    labels = group_labels(groups)
    columns = {key[3] for key in groups}
    ylabel = YLABELS[columns.pop()] if len(columns) == 1 else "return ([eval] evaluation, [train] training)"
    envs = sorted({key[1] for key in groups})
    fig, axes = plt.subplots(1, len(envs), figsize=(6.4 * len(envs), 4.2), squeeze=False)
    for ax, env in zip(axes[0], envs):
        methods = {labels[key]: curves for key, curves in sorted(groups.items()) if key[1] == env}
        learning_curves_figure(methods, ax=ax, statistic=args.stat, threshold=_threshold(env), ylabel=ylabel,
                               xlabel="environment steps" if args.x == "steps" else "wall-clock seconds",
                               title=args.title or env)
    try:
        path = save_figure(fig, out)
    except OSError as exc:                        # a full disk, a read-only file: one line naming it
        plt.close(fig)
        return write_failed("plot", exc, out)
    counts = ", ".join(f"{labels[key]} on {key[1]}: {len(c)} run(s)" for key, c in sorted(groups.items()))
    print(f"{counts}; {ylabel}; figure written to {path}")
    return 0


def _threshold(env_id: str):
    from ..algos.presets import reward_threshold
    return reward_threshold(env_id)
