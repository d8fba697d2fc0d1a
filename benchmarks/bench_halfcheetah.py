"""minirl PPO on HalfCheetah-v5 (MuJoCo): final training return and env steps/s, 3 seeds.

    pip install -e '.[mujoco]'          # MuJoCo physics for Gymnasium (optional extra)
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_halfcheetah.py
    ... --steps 100000 --seeds 1        # a short smoke run
    ... --out runs/bench_halfcheetah    # keep the run folders (default); plot them with
    minirl plot runs/bench_halfcheetah/seed*

Each seed is a normal `minirl train` run (the HalfCheetah-v5 preset of `minirl.algos.presets`:
8 envs x 256 steps, 10 epochs of 32 minibatches, observation normalisation and reward scaling),
so every run folder has progress.csv, summary.json and a checkpoint, and an interrupted benchmark
resumes with `minirl train --resume DIR`.

Printed per seed and as medians: the mean training return of the last 100 episodes after the
budget, and env steps per second (whole loop). Targets (issue 3): median return >= 1,500 at 1M
steps, >= 6,000 env steps/s. A full run is 3 x 1M steps: about 8 minutes on one idle core.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

ENV_ID = "HalfCheetah-v5"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="runs/bench_halfcheetah")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        import mujoco  # noqa: F401
    except ImportError:
        print("HalfCheetah-v5 needs MuJoCo: pip install -e '.[mujoco]' (or pip install 'gymnasium[mujoco]')",
              file=sys.stderr)
        return 2
    from minirl.runs import driver
    from minirl.runs.spec import resolve_run

    rows = []
    for seed in range(args.seeds):
        run_dir = os.path.join(args.out, f"seed{seed}")
        summary_path = os.path.join(run_dir, "summary.json")
        if os.path.exists(os.path.join(run_dir, "checkpoint.npz")):
            with open(summary_path) as f:
                done = json.load(f)
            if done.get("final_step", 0) < args.steps:
                print(f"seed {seed}: resuming {run_dir}", file=sys.stderr)
                code = driver.resume_run(run_dir, total_steps=args.steps, progress=not args.no_progress)
            else:
                code = 0
        else:
            code = driver.start_run(run_dir, resolve_run("ppo", ENV_ID, seed, total_steps=args.steps),
                                       progress=not args.no_progress)
        if code != 0:
            print(f"seed {seed}: run stopped with exit code {code}", file=sys.stderr)
            return code
        with open(summary_path) as f:
            s = json.load(f)
        rows.append(s)
        print(f"seed {seed}: {s['final_step']:,} steps, last-100-episode mean return "
              f"{s['final_return_mean']:.0f}, {s['steps_per_s']:,.0f} env steps/s "
              f"({s['total_time_s'] / 60:.1f} min)", flush=True)
    ret = statistics.median(r["final_return_mean"] for r in rows)
    sps = statistics.median(r["steps_per_s"] for r in rows)
    print(f"\nmedian over {len(rows)} seeds: return {ret:.0f} (target >= 1,500 at 1M steps), "
          f"{sps:,.0f} env steps/s (target >= 6,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
