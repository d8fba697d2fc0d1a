"""minirl PPO versus stable-baselines3 PPO on CartPole-v1: steps and seconds to solve, 5 seeds each.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_cartpole_vs_sb3.py
    ... --seeds 3 --skip-sb3 --json results.json

"Solved" is the Gymnasium convention used everywhere in minirl: the mean return of the last 100
completed training episodes reaches the env's reward threshold (475 for CartPole-v1). Each run stops
as soon as it is solved; steps and wall-clock seconds (environment construction included, imports
excluded) are recorded.

- minirl: `PPO("CartPole-v1", preset("ppo", "CartPole-v1"), seed)` with the preset's budget
  (`default_total_steps`; the learning rate is annealed over it, as sb3's is over its 1e5); the
  check happens after every update (every num_envs x num_steps env steps).
- stable-baselines3 (the `bench` extra: `pip install -e '.[bench]'`, CPU PyTorch): the tuned
  CartPole-v1 hyperparameters published in rl-baselines3-zoo (8 envs, n_steps 32, batch 256,
  20 epochs, gamma 0.98, GAE lambda 0.8, no entropy bonus, learning rate and clip range linearly
  annealed from 1e-3 and 0.2, budget 1e5 steps); the check happens after every vector step, using
  sb3's own 100-episode buffer. PyTorch runs on one thread (as minirl's NumPy does), which is also
  the fastest setting for networks this small.

A run that does not solve within its budget counts as not solved: in the medians, as slower than any
run that did (`peer.median_of`), and the count is printed. Prints one line per run, then the medians and the ratios
minirl / sb3. Timings on a shared machine are noisy: compare ratios measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import time

from peer import check_threads, median_of, sb3_available   # benchmarks/peer.py

ENV_ID = "CartPole-v1"


def run_minirl(seed: int, max_steps: int) -> dict:
    from minirl.algos.ppo import PPO
    from minirl.algos.presets import preset
    import gymnasium as gym

    threshold = gym.spec(ENV_ID).reward_threshold
    t0 = time.perf_counter()
    agent = PPO(ENV_ID, preset("ppo", ENV_ID), seed=seed)
    solved = None
    try:
        for row in agent.learn_iter(max_steps):
            if row["episodes"] >= 100 and row["return_mean"] >= threshold:
                solved = (int(row["step"]), time.perf_counter() - t0)
                break
    finally:
        agent.close()
    return {"lib": "minirl", "seed": seed, "solved": solved is not None,
            "steps": solved[0] if solved else None, "seconds": solved[1] if solved else None,
            "total_seconds": time.perf_counter() - t0, "final_return_mean": agent._return_mean()}


def run_sb3(seed: int, max_steps: int = 100_000) -> dict:
    import gymnasium as gym
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    threshold = gym.spec(ENV_ID).reward_threshold

    class StopWhenSolved(BaseCallback):
        def __init__(self):
            super().__init__()
            self.solved = None

        def _on_step(self) -> bool:
            buf = self.model.ep_info_buffer
            if len(buf) >= 100 and np.mean([ep["r"] for ep in buf]) >= threshold:
                self.solved = (int(self.num_timesteps), time.perf_counter() - t0)
                return False
            return True

    t0 = time.perf_counter()
    env = make_vec_env(ENV_ID, n_envs=8, seed=seed)
    # rl-baselines3-zoo, hyperparams/ppo.yml, CartPole-v1
    model = PPO("MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                ent_coef=0.0, learning_rate=lambda progress: 1e-3 * progress,
                clip_range=lambda progress: 0.2 * progress, seed=seed, device="cpu", verbose=0)
    callback = StopWhenSolved()
    model.learn(total_timesteps=max_steps, callback=callback)
    env.close()
    buf = model.ep_info_buffer
    solved = callback.solved
    return {"lib": "sb3", "seed": seed, "solved": solved is not None,
            "steps": solved[0] if solved else None, "seconds": solved[1] if solved else None,
            "total_seconds": time.perf_counter() - t0,
            "final_return_mean": float(np.mean([ep["r"] for ep in buf])) if buf else float("nan")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-steps", type=int, default=None,
                        help="minirl budget per run (default: the preset's, which also sets the "
                             "learning-rate annealing schedule)")
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--json", default=None, help="also write every result to this file")
    args = parser.parse_args(argv)
    check_threads()

    if args.max_steps is None:
        from minirl.algos.presets import default_total_steps
        args.max_steps = default_total_steps("ppo", ENV_ID)
    have_sb3 = sb3_available(args.skip_sb3)

    results = {"minirl": [], "sb3": []}
    for seed in range(args.seeds):
        # interleave the two libraries so that machine load affects both alike
        r = run_minirl(seed, args.max_steps)
        results["minirl"].append(r)
        print(_line(r), flush=True)
        if have_sb3:
            r = run_sb3(seed)
            results["sb3"].append(r)
            print(_line(r), flush=True)

    print()
    summary = {}
    for lib, rs in results.items():
        if not rs:
            continue
        n_solved = sum(r["solved"] for r in rs)
        summary[lib] = {"solved": n_solved, "runs": len(rs), "median_steps": median_of(rs, "steps"),
                        "median_seconds": median_of(rs, "seconds")}
        s = summary[lib]
        print(f"{lib:7s} solved {n_solved}/{len(rs)}; median steps-to-solve "
              f"{_num(s['median_steps'], '{:,.0f}')}; median seconds-to-solve {_num(s['median_seconds'], '{:.1f}')}")
    if "sb3" in summary and summary["minirl"]["median_steps"] and summary["sb3"]["median_steps"]:
        steps_ratio = summary["minirl"]["median_steps"] / summary["sb3"]["median_steps"]
        time_ratio = summary["minirl"]["median_seconds"] / summary["sb3"]["median_seconds"]
        summary["ratios"] = {"steps": steps_ratio, "seconds": time_ratio}
        print(f"ratio minirl / sb3: steps {steps_ratio:.2f} (target <= 1), seconds {time_ratio:.2f} "
              f"(target <= 0.2)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "summary": summary}, f, indent=2)
    return 0


def _num(x, fmt):
    return "n/a" if x is None else fmt.format(x)


def _line(r):
    if r["solved"]:
        return (f"{r['lib']:7s} seed {r['seed']}: solved at {r['steps']:,} steps in {r['seconds']:.1f} s")
    return (f"{r['lib']:7s} seed {r['seed']}: NOT solved (final 100-episode mean {r['final_return_mean']:.1f}, "
            f"{r['total_seconds']:.1f} s)")


if __name__ == "__main__":
    raise SystemExit(main())
