"""The dimension study of lesson 13 (issue 21), timed: every arm x 5 dims x 3 seeds, wall and CPU seconds.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dimension.py --out /tmp/bd
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_dimension.py --fast --out /tmp/bdf

Runs `minirl compare --task minirl/PendulumRow --dims 1,2,4,8,16 --seeds 3` (or with `--fast`) in a fresh
process into --out (emptied first), measures its wall time and the CPU seconds (user + system) of its
whole process tree (every process below it sampled from /proc every 0.2 s: the worker processes are not
waited for one by one, so wait4 alone would miss them), then reads the study's tables and prints each
target of issue 21 with its figure:

* the PPO / SHAC ratio of median env steps to the threshold grows with d, and reaches >= 10x at some
  d <= 16 (goal: >= 30x at d = 16); a ratio whose numerator never got there is a lower bound (>=);
* the score function's gradient SNR falls with d while the pathwise SNR stays within 2x of its d = 1 value;
* the full study in <= 15 minutes on the idle 2-core machine, the --fast one in <= 2 minutes.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_sweep import _sample_tree          # benchmarks/bench_sweep.py: the process tree's CPU seconds
from peer import check_threads                # benchmarks/peer.py

COMMAND = ["compare", "--task", "minirl/PendulumRow", "--dims", "1,2,4,8,16"]


def _read(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run_study(args) -> dict:
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "minirl", *COMMAND, "--out", str(out)]
    command += ["--fast"] if args.fast else ["--seeds", str(args.seeds)]
    if args.jobs:
        command += ["--jobs", str(args.jobs)]
    print("$ " + " ".join(command[1:]), flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(command, env=env)
    seen: dict = {}
    while True:
        _sample_tree(proc.pid, seen)
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    return {"wall_s": wall, "cpu_s": sum(seen.values()), "exit_code": code}


def report(out: Path, timing: dict, fast: bool) -> None:
    summary, ratios, snr = (_read(out / name) for name in ("dimension.csv", "ratios.csv", "snr.csv"))
    print(f"\nwall {timing['wall_s']:.1f} s, CPU {timing['cpu_s']:.1f} s (user + system, process tree), exit code "
          f"{timing['exit_code']}; target: <= {120 if fast else 900} s wall on the idle 2-core machine")
    if ratios:
        # (d, ratio, lower bound, denominator): nan where the denominator never reached the threshold
        rows = [(r["d"], float(r["ratio"]), r["lower_bound"] == "True", r["denominator"].upper()) for r in ratios]

        def cell(d, ratio, lower, denominator):
            if not math.isfinite(ratio):
                return f"d={d}: none ({denominator}, the denominator, never reached the threshold)"
            return f"d={d}: {'>= ' if lower else ''}{ratio:.1f}x"
        print("PPO / SHAC median env steps: " + ", ".join(cell(*row) for row in rows))
        exact = [ratio for _, ratio, lower, _ in rows if math.isfinite(ratio) and not lower]
        bounds = [d for d, ratio, lower, _ in rows if math.isfinite(ratio) and lower]
        last_d, last_ratio, last_lower, _ = rows[-1]
        at_last = ("none" if not math.isfinite(last_ratio) else
                   f"{last_ratio:.1f}x{' (a lower bound)' if last_lower else ''}")
        grows = ("not measured" if len(exact) < 2 else
                 "yes" if all(b >= a for a, b in zip(exact, exact[1:])) else "no")
        print(f"  >= 10x at some d <= 16: {'met' if any(ratio >= 10 for _, ratio, _, _ in rows) else 'not met'}; "
              f"d = {last_d}: {at_last} (goal >= 30x at d = 16); grows with d over the {len(exact)} measured "
              f"ratios: {grows}" + (f"; lower bounds only (PPO never got there) at d = {', '.join(bounds)}"
                                   if bounds else ""))
    for name in ("score", "pathwise"):
        by_d: dict = {}
        for r in snr:
            if r["estimator"] == name:
                by_d.setdefault(int(r["d"]), []).append(float(r["snr"]))
        means = {d: sum(v) / len(v) for d, v in sorted(by_d.items())}
        print(f"{name} SNR (mean over seeds): " + ", ".join(f"d={d}: {v:.3g}" for d, v in means.items()))
        if name == "pathwise" and means:
            first = means[min(means)]
            within = all(first / 2 <= v <= first * 2 for v in means.values())
            print(f"  pathwise within 2x of its d = 1 value at every d: {'met' if within else 'not met'}")
        if name == "score" and means:
            values = list(means.values())
            print(f"  score SNR falls with d: {'yes' if all(b < a for a, b in zip(values, values[1:])) else 'no'}")
    for r in summary:
        median = float(r["median_steps"])
        print(f"{r['label']:>10} d={r['d']:>2}: {r['reached']}/{r['seeds']} reached, median "
              f"{'never' if not math.isfinite(median) else f'{median:.0f}'}, per seed {r['steps_per_seed']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="runs/bench_dimension")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--fast", action="store_true", help="the CI version (tiny budgets, 1 seed)")
    args = parser.parse_args(argv)
    check_threads()
    timing = run_study(args)
    report(Path(args.out), timing, args.fast)
    return 0 if timing["exit_code"] == 0 else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    raise SystemExit(main())
