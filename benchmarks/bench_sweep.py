"""A 10-seed CartPole PPO sweep three ways: one after the other, local worker processes, a local Ray cluster.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sweep.py                # the issue's figures
    ... --seeds 0-3 --total-steps 20000 --out /tmp/bs                            # a smoke run
    ... --skip-ray                                                               # without the ray extra

The sweep is `minirl sweep --algo ppo --env CartPole-v1 --seeds 0-9` (the preset: 150k steps, an
evaluation every 10k). Each mode runs it from scratch in a fresh process, into its own folder under
--out, and this script measures the wall time and the CPU seconds (user + system) of that process
tree: every process below it is sampled from /proc every 0.2 s (Ray's processes are never waited
for, so wait4's count misses them; a process's last 0.2 s before it exits can be missed):

| mode | what runs the trials |
|---|---|
| `sequential` | `run_trial` in one process, one trial after the other (no executor) |
| `local` | `LocalExecutor(jobs=2)`: two spawned worker processes |
| `ray` | `RayExecutor("local", num_cpus=2)`: a Ray instance started for the sweep (2 CPUs), Ray tasks with `num_cpus=1`; run inside a loopback-only network namespace (`unshare -n`, root) unless `--no-netns` |

Printed: per mode the wall time, CPU seconds, and for Ray the seconds to start the instance; the
speed-ups over sequential; Ray's overhead per trial, (wall_ray - wall_local) x 2 CPUs / trials,
the same without Ray's start-up, and in CPU seconds, (cpu_ray - cpu_local) / trials; whether every trial's progress.csv (all columns but the
timings, which end in `_s`) is the same in the three modes; then the sweep's report (table and
figure, `minirl sweep --report`) of the local run. A JSON of the figures goes to OUT/bench.json.
Timing on a shared 2-core machine moves with its load: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _trials(args):
    from minirl.runs.sweep import expand, sweep_from_flags
    return expand(sweep_from_flags(algo="ppo", env="CartPole-v1", seeds=args.seeds, total_steps=args.total_steps))


def run_mode(args) -> dict:
    """In the child process: run the sweep one way into args.folder; return the internal timings."""
    from minirl.runs.sweep import plan_record, sweep_from_flags, write_plan
    from minirl.runs.sweep_run import run_sweep
    from minirl.threads import limit_blas_threads

    limit_blas_threads()
    trials = _trials(args)
    sweep = sweep_from_flags(algo="ppo", env="CartPole-v1", seeds=args.seeds, total_steps=args.total_steps)
    write_plan(args.folder, plan_record(sweep, trials))
    info = {"trials": len(trials)}
    t0 = time.perf_counter()
    if args.mode == "sequential":
        from minirl.runs.trials import run_trial
        for t in trials:
            assert run_trial(t, args.folder).exit_code == 0
    elif args.mode == "local":
        from minirl.runs.local import LocalExecutor
        result = run_sweep(args.folder, trials, LocalExecutor(jobs=2))
        assert len(result.done) == len(trials), result
    else:
        from minirl.runs.ray_backend import RayExecutor
        executor = RayExecutor("local", num_cpus=2)
        info["ray_start_s"] = time.perf_counter() - t0
        result = run_sweep(args.folder, trials, executor)
        executor.close()
        assert len(result.done) == len(trials), result
    info["inner_wall_s"] = time.perf_counter() - t0
    return info


def _sample_tree(root: int, seen: dict) -> None:
    """Record the CPU seconds (user + system) so far of every process below `root` (pid -> max seen)."""
    parent, cpu = {}, {}
    tick = os.sysconf("SC_CLK_TCK")
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parent[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    for pid in cpu:
        p = pid
        while p > 1 and p != root:
            p = parent.get(p, 0)
        if p == root:
            seen[pid] = max(seen.get(pid, 0.0), cpu[pid])


def measure(mode: str, args, folder: Path, netns: bool) -> dict:
    """Run one mode in a fresh process; its wall time and the CPU seconds of its process tree."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    child = [sys.executable, __file__, "--mode", mode, "--folder", str(folder), "--seeds", args.seeds,
             "--total-steps", str(args.total_steps)]
    if netns:
        child = ["unshare", "-n", "sh", "-c", "ip link set lo up && exec " + " ".join(f"'{c}'" for c in child)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(child, env=env)
    seen: dict = {}
    while True:                                  # sample the tree: Ray's workers are never waited for
        _sample_tree(proc.pid, seen)
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{mode}: the child failed (status {status})")
    info = json.loads((folder / "bench-mode.json").read_text())
    return {"mode": mode, "wall_s": wall, "cpu_waited_s": usage.ru_utime + usage.ru_stime,
            "cpu_s": sum(seen.values()), **info}


def _columns(path: Path) -> dict:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: [r[k] for r in rows] for k in rows[0] if not k.endswith("_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--total-steps", type=int, default=150_000)
    parser.add_argument("--out", default="runs/bench_sweep")
    parser.add_argument("--skip-ray", action="store_true")
    parser.add_argument("--no-netns", action="store_true", help="run Ray without a network namespace")
    parser.add_argument("--mode", choices=("sequential", "local", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode:                                           # the child: one mode
        info = run_mode(args)
        Path(args.folder, "bench-mode.json").write_text(json.dumps(info))
        return

    out = Path(args.out)
    modes = ["sequential", "local"] + ([] if args.skip_ray else ["ray"])
    netns = not args.no_netns and shutil.which("unshare") is not None and os.geteuid() == 0
    if "ray" in modes and not netns and not args.no_netns:
        raise SystemExit("the Ray mode runs in a loopback-only network namespace (unshare -n, as root); "
                         "pass --no-netns to run it without one, or --skip-ray")
    results = {}
    for mode in modes:
        results[mode] = measure(mode, args, out / mode, netns=(mode == "ray" and netns))
        r = results[mode]
        print(f"{mode:>10}: {r['wall_s']:7.1f} s wall, {r['cpu_s']:7.1f} s CPU (process tree sampled every "
              f"0.2 s; {r['cpu_waited_s']:.1f} s in processes that were waited for)"
              + (f" (Ray start {r['ray_start_s']:.1f} s)" if "ray_start_s" in r else ""), flush=True)
    n = results["sequential"]["trials"]
    seq = results["sequential"]["wall_s"]
    for mode in modes[1:]:
        print(f"speed-up of {mode} over sequential: {seq / results[mode]['wall_s']:.2f}x")
    if "ray" in results:
        extra = results["ray"]["wall_s"] - results["local"]["wall_s"]
        without_start = extra - results["ray"]["ray_start_s"]
        cpu_extra = results["ray"]["cpu_s"] - results["local"]["cpu_s"]
        results["ray_overhead_per_trial_s"] = extra * 2 / n
        results["ray_overhead_per_trial_after_start_s"] = without_start * 2 / n
        results["ray_cpu_overhead_per_trial_s"] = cpu_extra / n
        print(f"Ray's overhead per trial: {extra * 2 / n:.2f} s ({without_start * 2 / n:.2f} s without starting "
              f"the instance), = (wall_ray - wall_local) x 2 CPUs / {n} trials; CPU: {cpu_extra / n:.2f} s per "
              f"trial, = (cpu_ray - cpu_local) / {n}")
    names = [t.name for t in _trials(args)]
    same = all(_columns(out / m / name / "progress.csv") == _columns(out / "sequential" / name / "progress.csv")
               for m in modes for name in names)
    results["identical"] = same
    print(f"every trial's progress.csv identical in {', '.join(modes)} (timings excepted): {'yes' if same else 'NO'}")
    (out / "bench.json").write_text(json.dumps(results, indent=1))
    subprocess.run([sys.executable, "-m", "minirl", "sweep", "--report", str(out / "local")], check=True)


if __name__ == "__main__":
    main()
