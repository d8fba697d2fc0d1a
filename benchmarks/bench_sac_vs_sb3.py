"""minirl SAC versus stable-baselines3 SAC on Pendulum-v1: env steps and seconds to reach -200 on the
deterministic evaluation return, 5 seeds each, interleaved.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sac_vs_sb3.py
    ... --seeds 3 --skip-sb3 --set hidden_sizes=128,128 --json results.json

The same evaluation protocol on both sides (`minirl.evaluation.evaluate_policy`): every
`--eval-every` env steps (500), 10 deterministic episodes of Pendulum-v1 reset with the fixed seeds
10^12 + i; a run is done at the first evaluation whose mean return is >= -200 (the threshold of
`minirl.algos.presets.THRESHOLDS`), or at `--max-steps` (20,000: rl-baselines3-zoo's budget).

- minirl: `SAC("Pendulum-v1", preset("sac", "Pendulum-v1"), seed)` (with `--set` overrides).
- stable-baselines3 (the `bench` extra, CPU PyTorch on one thread): rl-baselines3-zoo's
  hyperparams/sac.yml for Pendulum-v1, i.e. `learning_rate=1e-3` and sb3's defaults for everything
  else (two 256-unit ReLU layers, batch 256, buffer 1e6, learning_starts 100, tau 0.005,
  gamma 0.99, train_freq 1, gradient_steps 1, ent_coef "auto" starting at 1, target entropy -1).

Seconds: wall-clock from agent construction (environments included, imports excluded) to the
evaluation that reaches -200, *minus the time spent in evaluations* (evaluation episodes are not
training, and both libraries evaluate alike). CPU seconds (user + system of this process, the same
exclusion) are printed beside them: on a loaded machine wall time moves with the load, CPU time much
less. Medians are over all seeds, one that never reached -200 counting as slower than any other
(`minirl.stats.median_time_to`); the count that reached it is printed.
"""

from __future__ import annotations

import argparse
import json
import time

from peer import check_threads, median_of, sb3_available   # benchmarks/peer.py

ENV_ID = "Pendulum-v1"
THRESHOLD = -200.0


class Clock:
    """Wall and CPU seconds since construction, minus the spans marked as evaluation."""

    def __init__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.excluded_wall = self.excluded_cpu = 0.0

    def evaluate(self, fn):
        w, c = time.perf_counter(), time.process_time()
        try:
            return fn()
        finally:
            self.excluded_wall += time.perf_counter() - w
            self.excluded_cpu += time.process_time() - c

    def now(self) -> tuple[float, float]:
        return (time.perf_counter() - self.wall0 - self.excluded_wall,
                time.process_time() - self.cpu0 - self.excluded_cpu)


def _result(lib, seed, solved, clock, last_eval, steps_done):
    wall, cpu = clock.now()
    return {"lib": lib, "seed": seed, "solved": solved is not None,
            "steps": solved[0] if solved else None, "seconds": solved[1] if solved else None,
            "cpu_seconds": solved[2] if solved else None, "total_seconds": wall, "total_cpu_seconds": cpu,
            "last_eval": last_eval, "steps_done": steps_done}


def run_minirl(seed: int, max_steps: int, eval_every: int, episodes: int, overrides: dict) -> dict:
    from minirl.runs.spec import resolve_run
    from minirl.algos.sac import SAC
    from minirl.evaluation import evaluate_policy

    config = resolve_run("sac", ENV_ID, seed, overrides={**overrides, "log_every": eval_every}).config
    clock = Clock()
    agent = SAC(ENV_ID, config, seed=seed)
    solved, last = None, None
    try:
        for row in agent.learn_iter(max_steps):
            if row["step"] % eval_every:
                continue
            returns = clock.evaluate(lambda: evaluate_policy(lambda o: agent.act(o, deterministic=True), ENV_ID,
                                                             episodes))
            last = float(returns.mean())
            if last >= THRESHOLD:
                solved = (int(row["step"]), *clock.now())
                break
    finally:
        agent.close()
    return _result("minirl", seed, solved, clock, last, agent.global_step)


def run_sb3(seed: int, max_steps: int, eval_every: int, episodes: int) -> dict:
    import gymnasium as gym
    import torch
    from stable_baselines3 import SAC
    from stable_baselines3.common.callbacks import BaseCallback

    from minirl.evaluation import evaluate_policy

    torch.set_num_threads(1)

    class EvaluateEvery(BaseCallback):
        def __init__(self):
            super().__init__()
            self.solved, self.last = None, None

        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every:
                return True
            act = lambda o: self.model.predict(o, deterministic=True)[0]      # noqa: E731
            self.last = float(clock.evaluate(lambda: evaluate_policy(act, ENV_ID, episodes)).mean())
            if self.last >= THRESHOLD:
                self.solved = (int(self.num_timesteps), *clock.now())
                return False
            return True

    clock = Clock()
    env = gym.make(ENV_ID)
    # rl-baselines3-zoo, hyperparams/sac.yml, Pendulum-v1: n_timesteps 20000, learning_rate 1e-3
    model = SAC("MlpPolicy", env, learning_rate=1e-3, seed=seed, device="cpu", verbose=0)
    callback = EvaluateEvery()
    model.learn(total_timesteps=max_steps, callback=callback)
    env.close()
    return _result("sb3", seed, callback.solved, clock, callback.last, int(model.num_timesteps))


def _line(r) -> str:
    if r["solved"]:
        return (f"{r['lib']:7s} seed {r['seed']}: -200 reached at {r['steps']:,} steps in {r['seconds']:.1f} s "
                f"({r['cpu_seconds']:.1f} CPU s)")
    return (f"{r['lib']:7s} seed {r['seed']}: NOT reached in {r['steps_done']:,} steps (last evaluation "
            f"{r['last_eval']}, {r['total_seconds']:.1f} s, {r['total_cpu_seconds']:.1f} CPU s)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=20_000)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="override a field of minirl's SAC preset (repeatable)")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--skip-minirl", action="store_true")
    parser.add_argument("--json", default=None, help="also write every result to this file")
    args = parser.parse_args(argv)
    check_threads()
    overrides = dict(item.split("=", 1) for item in args.set)
    have_sb3 = sb3_available(args.skip_sb3)

    results = {"minirl": [], "sb3": []}
    common = (args.max_steps, args.eval_every, args.episodes)
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        # interleave the two libraries so that machine load affects both alike
        if not args.skip_minirl:
            results["minirl"].append(run_minirl(seed, *common, overrides))
            print(_line(results["minirl"][-1]), flush=True)
        if have_sb3:
            results["sb3"].append(run_sb3(seed, *common))
            print(_line(results["sb3"][-1]), flush=True)

    print()
    summary = {}
    for lib, rs in results.items():
        if not rs:
            continue
        s = summary[lib] = {"reached": sum(r["solved"] for r in rs), "runs": len(rs),
                            **{f"median_{k}": median_of(rs, k) for k in ("steps", "seconds", "cpu_seconds")}}
        fmt = lambda x, f: "n/a" if x is None else f.format(x)      # noqa: E731
        print(f"{lib:7s} reached -200 in {s['reached']}/{s['runs']}; median steps {fmt(s['median_steps'], '{:,.0f}')}; "
              f"median seconds {fmt(s['median_seconds'], '{:.1f}')} ({fmt(s['median_cpu_seconds'], '{:.1f}')} CPU s)")
    if len(summary) == 2 and all(summary[k]["median_steps"] for k in summary):
        m, b = summary["minirl"], summary["sb3"]
        summary["ratios"] = {k: m[f"median_{k}"] / b[f"median_{k}"] for k in ("steps", "seconds", "cpu_seconds")}
        r = summary["ratios"]
        print(f"ratio minirl / sb3: steps {r['steps']:.2f} (target <= 1.25), seconds {r['seconds']:.2f} "
              f"(target <= 0.33), CPU seconds {r['cpu_seconds']:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"overrides": overrides, "results": results, "summary": summary}, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
