"""`minirl rlhf frontier|overopt`: toy RLHF with exact answers.

    minirl rlhf frontier --out runs/rlhf          # reward-KL frontier of every method, 3 seeds
    minirl rlhf overopt --out runs/rlhf           # over-optimisation against sqrt(KL)
    minirl rlhf frontier --fast --seeds 1         # a quick look (smaller budgets)

Each writes a CSV of every point (method, setting, seed, kl, gold_reward, proxy_reward) and PNG
figures into --out, and prints a summary table. An --out that cannot be written (a file, a read-only
folder, a path under a file) is refused in one line before any training.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time

from . import fail

HELP = "toy RLHF with exact answers: frontier, over-optimisation"
DESCRIPTION = ("Toy RLHF on an enumerable language: every KL and expected reward is exact. "
               "'frontier' draws gold reward against KL for PPO, RLOO, DPO, best-of-N, straight-through "
               "backprop, filtered and preferred fine-tuning over the exact optimal frontier; 'overopt' shows proxy "
               "and gold reward against sqrt(KL) for reward models trained on 500, 2000 and 10000 pairs.")


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="experiment", metavar="EXPERIMENT")
    for name, help_text in (("frontier", "gold reward against exact KL for every method (about 1 min)"),
                            ("overopt", "proxy and gold reward against sqrt(KL) (about 1 min)")):
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        p.add_argument("--out", default="runs/rlhf", help="output directory for CSV and PNG files")
        p.add_argument("--seeds", type=int, default=3, help="number of seeds (0, 1, ..., N-1)")
        p.add_argument("--fast", action="store_true", help="smaller budgets (tests, a quick look)")


def _write_csv(path, rows, columns):
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})


def _progress(total, desc):
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit="run", leave=False)

    def tick(label):
        bar.set_postfix_str(label)
        bar.update(1)
    return bar, tick


def run(args) -> int:
    from ..outputs import OutputPathError, check_out_dir

    if getattr(args, "experiment", None) is None:
        print("usage: minirl rlhf {frontier,overopt} [--out DIR] [--seeds N] [--fast]", file=sys.stderr)
        return 2
    if args.seeds < 1:
        return fail("rlhf", f"--seeds must be >= 1, got {args.seeds}")
    try:
        check_out_dir(args.out)                         # before the minutes of work, not after
    except OutputPathError as exc:
        return fail("rlhf", exc)
    seeds = tuple(range(args.seeds))
    start = time.perf_counter()
    if args.experiment == "frontier":
        paths = _frontier(args, seeds)
    else:
        paths = _overopt(args, seeds)
    print(f"done in {time.perf_counter() - start:.1f} s; wrote " + ", ".join(paths))
    return 0


def _frontier(args, seeds):
    from ..experiments.rlhf_frontier import COLUMNS, FrontierConfig, count_units, run_frontier
    from ..plotting.curves import save_figure
    from ..plotting.rlhf import frontier_figure

    config = FrontierConfig.fast() if args.fast else FrontierConfig()
    bar, tick = _progress(count_units(seeds, config), "rlhf frontier")
    try:
        result = run_frontier(seeds, config, progress=tick)
    finally:
        bar.close()
    csv_path = os.path.join(args.out, "frontier.csv")
    _write_csv(csv_path, result.rows, COLUMNS)
    opt_path = os.path.join(args.out, "frontier_optimal.csv")
    _write_csv(opt_path, [{"kl": float(k), "gold_reward": float(g)}
                          for k, g in zip(result.optimal_kl, result.optimal_gold)], ("kl", "gold_reward"))
    png = save_figure(frontier_figure(result), os.path.join(args.out, "frontier.png"))
    summary = result.summary()
    keys = [k for k in summary[0] if k != "method"]
    print(f"reference policy gold reward {result.reference_gold:.3f}; reward-model held-out accuracy "
          + ", ".join(f"seed {s}: {a:.3f}" for s, a in result.rm_accuracy.items()))
    print("best gold reward within a KL budget (mean over seeds):")
    print(f"  {'method':<18}" + "".join(f"{k:>14}" for k in keys))
    for row in summary:
        print(f"  {row['method']:<18}" + "".join(f"{row[k]:>14.3f}" for k in keys))
    return [csv_path, opt_path, png]


def _overopt(args, seeds):
    from ..experiments.rlhf_overopt import COLUMNS, OveroptConfig, run_overopt
    from ..plotting.curves import save_figure
    from ..plotting.rlhf import bon_kl_figure, overopt_figure

    config = OveroptConfig.fast() if args.fast else OveroptConfig()
    bar, tick = _progress(len(seeds) * len(config.pair_counts), "rlhf overopt")
    try:
        result = run_overopt(seeds, config, progress=tick)
    finally:
        bar.close()
    csv_path = os.path.join(args.out, "overopt.csv")
    _write_csv(csv_path, result.rows, COLUMNS)
    fit_path = os.path.join(args.out, "overopt_fits.csv")
    _write_csv(fit_path, result.fits, list(result.fits[0]))
    png1 = save_figure(overopt_figure(result), os.path.join(args.out, "overopt.png"))
    png2 = save_figure(bon_kl_figure(result), os.path.join(args.out, "bon_kl.png"))
    print("gold reward gain over pi_ref (mean over seeds): peak, where it peaks, and at the end;")
    print("fits of d(a - b d) (best-of-N) and d(a - b log d) (RL), d = sqrt(KL):")
    print(f"  {'method':<16}{'pairs':>7}{'peak gold':>11}{'at d':>7}{'end gold':>10}{'end proxy':>11}"
          f"{'alpha':>8}{'beta':>8}{'R^2':>7}")
    for f in result.fits:
        print(f"  {f['method']:<16}{f['n_pairs']:>7}{f['peak_gold_gain']:>11.3f}{f['peak_d']:>7.2f}"
              f"{f['final_gold_gain']:>10.3f}{f['final_proxy_gain']:>11.3f}{f['alpha']:>8.3f}"
              f"{f['beta']:>8.3f}{f['r2']:>7.2f}")
    print(f"best-of-N exact KL <= log N - (N-1)/N for every N: "
          f"{all(e <= b + 1e-9 for e, b in result.bound.values())}; largest N: "
          + ", ".join(f"N={n}: {e:.3f} vs {b:.3f}" for n, (e, b) in list(result.bound.items())[-2:]))
    return [csv_path, fit_path, png1, png2]
