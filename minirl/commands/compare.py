"""`minirl compare`: the main job. Black-box and differentiable arms on one task, side by side.

    minirl compare                          # Pendulum, 5 arms, 3 seeds, one worker process per core
    minirl compare --fast --out /tmp/cmp    # a smoke run (seconds): the same files, tiny budgets
    minirl compare --arms ppo shac --seeds 5 --total-steps 80000
    minirl compare --task minirl/PendulumRow --dims 1,2,4,8,16    # lesson 13: every arm against d

Every arm is a `minirl train` run in `OUT/runs/<arm>-s<seed>`, judged by the same evaluation
protocol: every `eval_every` env steps, 10 deterministic episodes of the black-box env on fixed
seeds. Rerunning the same command continues an interrupted comparison; finished runs are kept.

Writes into --out: compare.png (evaluation return against env steps and against seconds),
curves.csv (every logged row: arm, seed, step, time_s, episodes, return_mean, eval_return_mean,
eval_return_std), summary.csv (per arm: final evaluation return, seeds that reached the threshold,
median and per-seed env steps and seconds to reach it) and runs/, and prints the table. With
`--dims`, the task is a family with one id per d and the study of `minirl.commands.compare_dims`
runs instead (its own files: dimension.png, dimension.csv, ratios.csv, snr.csv).

What `make demo` (= `minirl compare` with its defaults) printed from a fresh clone on an idle 2-core
machine, 2026-11-30, in 2 min 51 s (302 s of CPU), the table's columns shortened:

    arm        final eval            reached  steps to -200  per seed
    REINFORCE  -1290 [-1327,-1256]   0/3      never          never never never
    PPO        -208 [-212,-204]      2/3      110,592        49152 110592 never
    SAC        -167 [-170,-165]      3/3      4,000          4000 3000 4000
    SHAC       -175 [-177,-173]      3/3      15,008         15008 14000 18000
    SVG        -179 [-191,-173]      3/3      3,000          3000 3000 3000

Which digits can move: SHAC and SVG compute in float64 and gave the same steps in every run here;
PPO and SAC compute in float32, whose kernels differ between CPUs, so their per-seed steps can move
by an evaluation interval (1,000 steps) or more on another machine, and PPO's third seed sits near
the threshold (-212 at 150k). Seconds move with the machine and its load.
"""

from __future__ import annotations

import math
import os
import sys

from . import fail
from .comparing import prepare, stopped, write_csv, write_outputs

HELP = "black-box versus differentiable arms, side by side (the main job)"
DESCRIPTION = ("Train REINFORCE and PPO (black box), SAC (through a learned critic), SHAC (through the "
               "differentiable twin) and SVG (through a learned model) on one task for several seeds; "
               "write a figure of evaluation returns against env steps and seconds, and a summary table.")


def add_arguments(parser) -> None:
    from minirl.experiments.compare import ARMS
    parser.add_argument("--out", default="runs/compare", help="output directory")
    parser.add_argument("--task", default=None,
                        help="Gymnasium id (the shac arm needs a twin; default minirl/Pendulum-v1), or with --dims "
                             "a task family with one id per d (default minirl/PendulumRow)")
    parser.add_argument("--arms", nargs="+", default=list(ARMS), choices=list(ARMS), metavar="ARM",
                        help=f"arms to run, from {list(ARMS)}")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per arm (0 .. N-1)")
    parser.add_argument("--total-steps", type=int, default=None,
                        help="env steps per run (default: the task's stated budget per arm)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="evaluation return to reach (default: the task's stated threshold)")
    parser.add_argument("--jobs", type=int, default=None,
                        help="runs in parallel on this machine (worker processes; default: one per core)")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="run on a Ray cluster: an address, 'auto', or nothing to start one here "
                             "(needs the ray extra)")
    parser.add_argument("--fast", action="store_true", help="tiny budgets and 2 seeds (1 with --dims): a smoke test")
    parser.add_argument("--dims", default=None, metavar="D,D,...",
                        help="run every arm on every d of the task family, e.g. 1,2,4,8,16 (lesson 13)")
    parser.add_argument("--no-snr", action="store_true",
                        help="with --dims: skip the measurement of the gradients' signal-to-noise ratio")
    parser.add_argument("--no-stack", dest="stack", action="store_false",
                        help="run every seed in its own process (by default an arm's seeds train together, "
                             "stacked, where the algorithm allows: the same runs and numbers, less CPU)")
    from . import add_env_module_option
    add_env_module_option(parser)


def _fmt(value, digits: int = 0) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "never"
    return f"{value:,.{digits}f}"


def format_table(summary: list[dict]) -> str:
    """The printed table: one line per arm, per-seed steps to the threshold at the end."""
    threshold = summary[0]["threshold"] if summary else float("nan")
    head = (f"{'arm':<10}{'gradient from':<44}{'final eval':>16}{'reached':>9}{'steps to ' + f'{threshold:g}':>15}"
            f"{'s to ' + f'{threshold:g}':>10}  per seed")
    lines = [head, "-" * len(head)]
    for r in summary:
        final = "-" if math.isnan(r["final_eval_mean"]) else (
            f"{r['final_eval_mean']:.0f} [{r['final_eval_min']:.0f},{r['final_eval_max']:.0f}]")
        failed = f" ({r['failed']} failed)" if r["failed"] else ""
        lines.append(f"{r['label']:<10}{r['gradient']:<44}{final:>16}{r['reached']:>5}/{r['seeds']:<3}"
                     f"{_fmt(r['steps_to_threshold']):>15}{_fmt(r['seconds_to_threshold'], 1):>10}  "
                     f"{r['steps_per_seed']}{failed}")
    return "\n".join(lines)


def run(args) -> int:
    from tqdm import tqdm

    from minirl.experiments import compare as experiment
    from minirl.plotting import save_figure
    from minirl.plotting.compare import compare_figure

    from . import allow_env_modules
    refused = allow_env_modules("compare", args)
    if refused is not None:
        return refused
    if args.dims is not None:
        from . import compare_dims
        return compare_dims.run(args)
    if args.no_snr:
        return fail("compare", "--no-snr applies only with --dims")
    args.task = args.task or "minirl/Pendulum-v1"
    seeds = 2 if args.fast and args.seeds == 3 else args.seeds
    plan, out, executor, where = prepare(args, lambda: experiment.plan_comparison(
        args.task, args.arms, seeds=seeds, total_steps=args.total_steps, fast=args.fast, threshold=args.threshold),
        lambda planned: experiment.trials_for(planned, planned.fast))
    if plan is None:
        return out
    print(f"{args.task}: arms {args.arms}, {seeds} seeds, env steps per run {plan.budgets}, "
          f"threshold {plan.threshold:g} (evaluation return), {where}")
    with tqdm(total=len(args.arms) * seeds, desc="runs", unit="run", file=sys.stderr) as bar:
        def progress(r):
            last = experiment._final(r.rows, "eval_return_mean")
            bar.set_postfix_str(f"{r.arm} seed {r.seed}: " + ("failed" if r.error else f"eval {last:.0f}"))
            bar.update(1)
        try:
            comp = experiment.run_comparison(plan, out=os.path.join(out, "runs"), executor=executor,
                                             progress=progress, stack=args.stack)
        except ValueError as exc:                         # e.g. runs/ holds runs of other settings
            return fail("compare", exc)
    if comp.stopped:
        return stopped(comp.stopped, out, experiment.trials_for(plan, plan.fast), executor)
    summary = experiment.summarize(comp)
    paths = {"figure": os.path.join(out, "compare.png"), "curves": os.path.join(out, "curves.csv"),
             "summary": os.path.join(out, "summary.csv"), "runs": os.path.join(out, "runs")}

    def write():
        write_csv(paths["curves"], experiment.curve_rows(comp))
        write_csv(paths["summary"], summary)
        save_figure(compare_figure(comp), paths["figure"])
    failed = write_outputs(write, out)
    if failed is not None:
        return failed
    print(format_table(summary))
    print(f"(final eval: mean [min, max] over seeds of the last evaluation; steps and seconds to {plan.threshold:g}: "
          f"median over all seeds, a seed that never reached it counting as slower than any other, so 'never' "
          f"when the median seed did not; seconds of training on one core, evaluation excluded)")
    warned = [r for r in comp.runs if r.warnings]
    if warned:
        print(f"warnings: {sum(len(r.warnings) for r in warned)} from {len(warned)} run(s) "
              f"({', '.join(sorted({f'{r.arm} seed {r.seed}' for r in warned}))}); the first: {warned[0].warnings[0]}")
    for r in comp.runs:
        if r.error:
            print(f"failed: {r.arm} seed {r.seed}: {' '.join(r.error.split())[:300]}")
    for what, path in paths.items():
        print(f"{what:>8}: {path}")
    return 1 if any(r.error for r in comp.runs) else 0
