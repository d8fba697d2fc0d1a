"""`minirl driving`: where a model is hard to learn (highway-env) next to the toy language.

    minirl driving --out runs/driving                 # the experiment (about 2 min of CPU time)
    minirl driving --out runs/driving --fast          # a quick look (about 10 s of CPU time)
    minirl driving collect --out data.npz --steps 4000 --seed 0   # record new transitions ([driving] extra)

The experiment reads the transitions shipped with minirl (`minirl/experiments/driving/highway_fast_v0.npz`, or
`--data FILE`), needs only NumPy for items 1-3, and runs the planner in the real highway-fast-v0 for
item 4 when the [driving] extra is installed (otherwise it says so in one line and skips it).
Writes into --out:

| file                | what                                                             |
|---------------------|------------------------------------------------------------------|
| summary.csv         | every table: quantity, driving, toy_language, note               |
| reward.csv, toy_reward.csv | per seed, inputs, model, pairs: R^2 and pair accuracies   |
| world_model.csv     | one-step R^2 of the change per component                         |
| overopt.csv, toy_overopt.csv | best-of-N gains against KL                              |
| planner.csv         | each real evaluation episode (if it ran)                         |
| overopt_sequences.csv | best-of-N action sequences through the world model, paid in the real env (if it ran) |
| reward.png, world_model.png, overopt.png, planner.png | the figures                |
"""

from __future__ import annotations

import argparse
import csv
import time

from . import fail

HELP = "where a model is hard to learn: highway-env driving next to the toy language"
DESCRIPTION = ("Reward learnability on privileged features versus observations, one-step world-model error "
               "per component, best-of-N over-optimisation, and a planner through the learned models checked "
               "in the real highway-fast-v0, each beside the toy language. Runs on the transitions shipped with "
               "minirl; `minirl driving collect` records new ones (needs the [driving] extra).")


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="runs/driving", help="output directory for CSV and PNG files")
    parser.add_argument("--fast", action="store_true", help="one seed, smaller budgets (tests, a quick look)")
    parser.add_argument("--data", default=None, help="transitions to use (default: the shipped data set)")
    parser.add_argument("--no-eval", action="store_true", help="skip the planner's real-env evaluation")
    sub = parser.add_subparsers(dest="driving_command", metavar="{collect}")
    p = sub.add_parser("collect", help="record highway-fast-v0 transitions (needs the [driving] extra)",
                       description="Record transitions of highway-fast-v0 with the seeded behaviour policy "
                                   "(careful driver mixed with random actions) into an .npz file.",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", dest="collect_out", metavar="FILE", required=True, help="the .npz file to write")
    p.add_argument("--steps", type=int, default=4000, help="at least this many transitions (whole episodes)")
    p.add_argument("--seed", type=int, default=0, help="collection seed (episode e is seeded by [seed, e])")


def run(args) -> int:
    from ..outputs import OutputPathError, check_out_dir, check_out_file

    try:
        if getattr(args, "driving_command", None) == "collect":
            out = check_out_file(args.collect_out, suffix=".npz")
        else:
            out = check_out_dir(args.out)
    except OutputPathError as exc:
        return fail("driving", exc)
    if getattr(args, "driving_command", None) == "collect":
        return _collect(args, out)
    return _experiment(args, out)


def _collect(args, out) -> int:
    from ..experiments.driving.collect import collect, driving_extra_missing

    if args.steps < 1 or args.seed < 0:
        return fail("driving", f"--steps must be >= 1 and --seed >= 0, got --steps {args.steps} --seed {args.seed}")
    missing = driving_extra_missing()
    if missing:
        return fail("driving", missing)
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=args.steps, desc="highway-fast-v0", unit="step", leave=False) as bar:
        data = collect(args.steps, args.seed, progress=lambda n: bar.update(min(n, args.steps) - bar.n))
    data.save(out)
    print(f"wrote {len(data)} transitions in {data.n_episodes} episodes ({int(data.crashed.sum())} crashes) "
          f"to {out} in {time.perf_counter() - start:.0f} s")
    return 0


def _write_csv(path, rows) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{float(v):.6g}" if isinstance(v, float) or hasattr(v, "dtype") else v)
                             for k, v in r.items()})
    return path


def _experiment(args, out) -> int:
    import os

    from ..experiments.driving import data as dd
    from ..experiments.driving.experiment import DrivingConfig, count_units, run_driving
    from ..experiments.driving.tables import TABLES, summary_tables
    from ..plotting import driving as plots
    from ..plotting.curves import save_figure

    try:
        data = dd.load(args.data) if args.data else dd.load_shipped()
    except (OSError, ValueError) as exc:
        return fail("driving", exc)
    config = DrivingConfig.fast() if args.fast else DrivingConfig()
    from tqdm import tqdm

    start = time.perf_counter()
    with tqdm(total=count_units(config, not args.no_eval), desc="minirl driving", unit="unit", leave=False) as bar:
        def tick(label):
            bar.set_postfix_str(label)
            bar.update(1)
        result = run_driving(data, config, evaluate=not args.no_eval, progress=tick)
    if result.skipped and not args.no_eval:
        print(f"skipped the planner's real-env evaluation: {result.skipped}")
    rows = summary_tables(result, config)
    path = lambda name: os.path.join(out, name)                                  # noqa: E731
    written = [_write_csv(path("summary.csv"), rows), _write_csv(path("reward.csv"), result.reward_rows),
               _write_csv(path("toy_reward.csv"), result.toy_rows),
               _write_csv(path("world_model.csv"), result.world_rows),
               _write_csv(path("overopt.csv"), result.bon_rows), _write_csv(path("toy_overopt.csv"), result.toy_bon_rows)]
    if result.planner_rows:
        written.append(_write_csv(path("planner.csv"), result.planner_rows))
    if result.seq_rows:
        written.append(_write_csv(path("overopt_sequences.csv"), result.seq_rows))
    written += [save_figure(plots.reward_figure(result, config), path("reward.png")),
                save_figure(plots.world_model_figure(result), path("world_model.png")),
                save_figure(plots.overopt_figure(result), path("overopt.png")),
                save_figure(plots.planner_figure(result), path("planner.png"))]
    print(f"{result.n_transitions} transitions in {result.n_episodes} episodes, seeds {list(config.seeds)}")
    for table in TABLES:
        print(f"\n{table}:")
        print(f"  {'quantity':<66}{'driving':>9}{'toy lang.':>10}")
        for r in rows:
            if r["table"] == table:
                toy = "" if r["toy_language"] != r["toy_language"] else f"{r['toy_language']:.3f}"
                drv = "" if r["driving"] != r["driving"] else f"{r['driving']:.3f}"
                print(f"  {r['quantity']:<66}{drv:>9}{toy:>10}")
    print(f"\ndone in {time.perf_counter() - start:.1f} s; wrote {len(written)} files to {out}")
    return 0
