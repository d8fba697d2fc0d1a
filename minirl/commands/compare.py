"""`minirl compare`: the main job. Black-box and differentiable arms on one task, side by side.

    minirl compare                          # Pendulum, 4 arms, 3 seeds, 2 worker processes
    minirl compare --fast --out /tmp/cmp    # a smoke run (seconds): the same files, tiny budgets
    minirl compare --arms ppo pathwise --seeds 5 --total-steps 80000

Writes into --out: compare.png (curves against env steps and against seconds), curves.csv (every
logged row: arm, seed, step, time_s, episodes, return_mean) and summary.csv (per arm: final return,
how many seeds reached the threshold, median steps and seconds to reach it), and prints the table.

Cost of the default run: about 220 s of CPU in all (measured: 213 s user + 4 s system), so about
2 minutes on a free 2-core machine; on the shared machine (load ~8) it took 9.3-9.7 minutes.
What to expect (measured, 3 seeds, threshold -400): pathwise through the twin reaches it in every
seed after a median of ~39k env steps, PPO in 2 of 3 seeds after ~48k, REINFORCE and the learned-model
arm (12k steps only) do not; the model arm climbs fastest per env step but costs the most seconds.
"""

from __future__ import annotations

import csv
import math
import os

HELP = "black-box versus differentiable arms, side by side (the main job)"
DESCRIPTION = ("Train REINFORCE and PPO (black box), pathwise through the differentiable twin (SHAC) "
               "and pathwise through a learned model (SVG) on one task for several seeds; write a "
               "figure of learning curves against env steps and seconds, and a summary table.")


def add_arguments(parser) -> None:
    from minirl.experiments.compare import ARMS
    parser.add_argument("--out", default="runs/compare", help="output directory")
    parser.add_argument("--task", default="minirl/Pendulum-v1", help="Gymnasium id (pathwise arms need a twin)")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS), metavar="ARM",
                        help=f"arms to run, from {list(ARMS)}")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per arm (0 .. N-1)")
    parser.add_argument("--total-steps", type=int, default=None,
                        help="env steps per run (default: the task's stated budget per arm)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="return to reach (default: the task's stated threshold)")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                        help="runs in parallel (worker processes)")
    parser.add_argument("--fast", action="store_true", help="tiny budgets and 2 seeds: a smoke test")


def _write_csv(path: str, rows: list[dict]) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["arm"])
        writer.writeheader()
        writer.writerows(rows)


def _fmt(value, digits: int = 0) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "never"
    return f"{value:,.{digits}f}"


def format_table(summary: list[dict]) -> str:
    head = f"{'arm':<42}{'final return':>14}{'reached':>9}{'steps to thr.':>15}{'s to thr.':>11}"
    lines = [head, "-" * len(head)]
    for r in summary:
        final = f"{r['final_return_mean']:.0f}" if not math.isnan(r["final_return_mean"]) else "-"
        lines.append(f"{r['label']:<42}{final:>14}{r['reached']:>5}/{r['seeds']:<3}"
                     f"{_fmt(r['steps_to_threshold']):>15}{_fmt(r['seconds_to_threshold'], 1):>11}")
    return "\n".join(lines)


def run(args) -> int:
    from tqdm import tqdm

    from minirl.experiments import compare as experiment
    from minirl.plotting import save_figure
    from minirl.plotting.compare import compare_figure

    seeds = 2 if args.fast and args.seeds == 3 else args.seeds
    try:
        experiment.check_request(args.task, args.arms)
        threshold = args.threshold if args.threshold is not None else experiment.threshold_for(args.task)
        if seeds <= 0 or args.jobs <= 0 or (args.total_steps is not None and args.total_steps <= 0):
            raise ValueError(f"--seeds, --jobs and --total-steps must be positive, got {seeds}, "
                             f"{args.jobs}, {args.total_steps}")
    except ValueError as exc:
        print(f"minirl compare: {exc}")
        return 2
    budgets = {a: experiment.budget_for(args.task, a, args.total_steps, args.fast) for a in args.arms}
    print(f"{args.task}: arms {args.arms}, {seeds} seeds, env steps per run {budgets}, "
          f"threshold {threshold:g}, {args.jobs} worker(s)")
    with tqdm(total=len(args.arms) * seeds, desc="runs", unit="run") as bar:
        def progress(r):
            last = r.rows[-1]["return_mean"] if r.rows else float("nan")
            bar.set_postfix_str(f"{r.arm} seed {r.seed}: {last:.0f}")
            bar.update(1)
        comp = experiment.run_comparison(args.task, args.arms, seeds=seeds, total_steps=args.total_steps,
                                         fast=args.fast, threshold=threshold, jobs=args.jobs,
                                         progress=progress)

    os.makedirs(args.out, exist_ok=True)
    summary = experiment.summarize(comp)
    paths = {"figure": os.path.join(args.out, "compare.png"),
             "curves": os.path.join(args.out, "curves.csv"),
             "summary": os.path.join(args.out, "summary.csv")}
    _write_csv(paths["curves"], experiment.curve_rows(comp))
    _write_csv(paths["summary"], summary)
    save_figure(compare_figure(comp), paths["figure"])
    print(format_table(summary))
    print(f"(timings are wall-clock seconds of each run on one core; medians over the seeds that reached "
          f"{threshold:g})")
    warned = [r for r in comp.runs if r.warnings]
    if warned:
        first = warned[0].warnings[0]
        print(f"warnings: {sum(len(r.warnings) for r in warned)} from {len(warned)} run(s) "
              f"({', '.join(sorted({f'{r.arm} seed {r.seed}' for r in warned}))}); the first: {first}")
    for what, path in paths.items():
        print(f"{what:>8}: {path}")
    return 0
