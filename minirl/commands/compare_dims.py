"""`minirl compare --dims 1,2,4,8,16`: the dimension study of lesson 13 (part of `minirl compare`).

    minirl compare --task minirl/PendulumRow --dims 1,2,4,8,16            # 5 arms x 5 dims x 3 seeds
    minirl compare --task minirl/PendulumRow --dims 1,2,4,8,16 --fast     # a smoke run, tiny budgets

Every arm runs on every member `<task>-d<d>-v0` of the family (`minirl.experiments.dimension`), each
run a trial in `OUT/runs/<arm>-d<d>-s<seed>`; rerunning the command continues an interrupted study.

Writes into --out: dimension.png (env steps to the threshold against d per arm, the PPO / SHAC ratio,
and the gradients' SNR and cosine to a reference against d), dimension.csv (per arm and d: seeds
that reached the threshold, median and IQM steps with a band, per-seed steps), ratios.csv, snr.csv
(per d, seed and estimator), curves.csv (every logged row, with d) and runs/; prints the tables.
"""

from __future__ import annotations

import math
import os
import sys

from . import fail

FAST_SEEDS = 1


def parse_dims(text: str) -> list[int]:
    """'1,2,4' -> [1, 2, 4]; ValueError (one line) for anything but positive integers."""
    try:
        dims = [int(part) for part in str(text).split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"--dims must be comma-separated positive integers such as 1,2,4,8,16, got {text!r}") from None
    if not dims or any(d < 1 for d in dims):
        raise ValueError(f"--dims must be comma-separated positive integers such as 1,2,4,8,16, got {text!r}")
    return dims


def _fmt_steps(value: float) -> str:
    return "never" if not math.isfinite(value) else f"{value / 1000:.1f}k"


def format_tables(study, summary, ratios) -> str:
    """Per arm, the median env steps to the threshold at each d (reached/seeds), the ratio, the SNRs."""
    from minirl.experiments.compare import ARMS

    head = f"{'arm':<11}" + "".join(f"{'d = ' + str(d):>15}" for d in study.dims)
    lines = [f"median env steps to the threshold (seeds that reached it / seeds); never = the median seed did not",
             head, "-" * len(head)]
    by = {(r["arm"], r["d"]): r for r in summary}
    for arm in study.arms:
        cells = [f"{_fmt_steps(by[arm, d]['median_steps'])} ({by[arm, d]['reached']}/{by[arm, d]['seeds']})"
                 for d in study.dims]
        lines.append(f"{ARMS[arm].label:<11}" + "".join(f"{c:>15}" for c in cells))
    if ratios:
        r0 = ratios[0]
        cells = [f"{'>= ' if r['lower_bound'] else ''}{r['ratio']:.1f}x" if math.isfinite(r["ratio"]) else "-"
                 for r in ratios]
        lines.append(f"{r0['numerator'].upper() + '/' + r0['denominator'].upper():<11}" + "".join(f"{c:>15}" for c in cells))
    for arm in study.arms:
        lines.append(f"  {ARMS[arm].label} per seed: " + "; ".join(f"d={d}: {by[arm, d]['steps_per_seed']}"
                                                                   for d in study.dims))
    if study.snr_rows:
        lines.append("")
        lines.append("gradient SNR of one estimate, mean over seeds (cosine to the reference gradient)")
        for name in ("score", "pathwise"):
            cells = []
            for d in study.dims:
                rows = [r for r in study.snr_rows if r["d"] == d and r["estimator"] == name]
                snr = sum(r["snr"] for r in rows) / len(rows)
                cos = sum(r["cosine"] for r in rows) / len(rows)
                cells.append(f"{snr:.3g} ({cos:.2f})")
            lines.append(f"{name:<11}" + "".join(f"{c:>15}" for c in cells))
    return "\n".join(lines)


def run(args) -> int:
    """The `--dims` branch of `minirl compare` (args as `minirl.commands.compare` parsed them)."""
    from tqdm import tqdm

    from minirl.experiments import dimension as experiment
    from minirl.experiments.compare import curve_rows, Comparison
    from minirl.plotting import save_figure
    from minirl.plotting.dimension import dimension_figure

    from .comparing import prepare, stopped, write_csv, write_outputs

    seeds = FAST_SEEDS if args.fast and args.seeds == 3 else args.seeds
    task = args.task or "minirl/PendulumRow"

    def plan():
        if args.threshold is not None:
            raise ValueError("--threshold does not apply to --dims: each d has its env's reward_threshold")
        return experiment.plan_dimensions(task, parse_dims(args.dims), args.arms, seeds=seeds,
                                          total_steps=args.total_steps, fast=args.fast, snr=not args.no_snr)

    study, out, executor, where = prepare(args, plan, experiment.trials_for)
    if study is None:
        return out
    print(f"{task}-d<d>, d in {study.dims}: arms {study.arms}, {seeds} seed(s), env steps per run {study.budgets}, "
          f"thresholds {study.thresholds} (evaluation return), {where}")
    total = len(study.arms) * len(study.dims) * seeds + (len(study.dims) * seeds if study.snr else 0)
    with tqdm(total=total, desc="runs", unit="run", file=sys.stderr) as bar:
        def progress(text):
            bar.set_postfix_str(text)
            bar.update(1)
        try:
            study = experiment.run_dimensions(study, out=os.path.join(out, "runs"), executor=executor,
                                              progress=progress)
        except ValueError as exc:
            return fail("compare", exc)
    if study.stopped:
        return stopped(study.stopped, out, experiment.trials_for(study), executor)
    summary = experiment.summarize(study)
    ratios = experiment.ratio_rows(summary) if {"ppo", "shac"} <= set(study.arms) else []
    paths = {"figure": os.path.join(out, "dimension.png"), "table": os.path.join(out, "dimension.csv"),
             "ratios": os.path.join(out, "ratios.csv"), "snr": os.path.join(out, "snr.csv"),
             "curves": os.path.join(out, "curves.csv"), "runs": os.path.join(out, "runs")}
    curves = []
    for d in study.dims:
        runs = [r for dd, r in study.runs if dd == d]
        curves += [{"d": d, **row} for row in curve_rows(Comparison(study.ids[d], study.thresholds[d], study.arms,
                                                                      study.seeds, study.budgets, runs=runs))]

    def write():
        write_csv(paths["table"], summary)
        write_csv(paths["ratios"], ratios)
        write_csv(paths["snr"], study.snr_rows)
        write_csv(paths["curves"], curves)
        save_figure(dimension_figure(study, summary, ratios), paths["figure"])
    failed = write_outputs(write, out)
    if failed is not None:
        return failed
    print(format_tables(study, summary, ratios))
    for d, r in study.runs:
        if r.error:
            print(f"failed: {r.arm} d={d} seed {r.seed}: {' '.join(r.error.split())[:300]}")
    for what, path in paths.items():
        print(f"{what:>8}: {path}")
    return 1 if any(r.error for _, r in study.runs) else 0
