"""The effect sizes of the main job: env steps (and seconds) to reach -200 on Pendulum's evaluation return.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_pendulum.py --seeds 5
    ... --arms ppo shac --skip-sb3 --out runs/bench_pendulum   # some arms, no peer

Every arm is judged by minirl's evaluation protocol (`minirl.evaluation`): every 1,000 env steps,
10 deterministic episodes of the black-box Pendulum on the fixed evaluation seeds; "steps to -200"
is the first evaluation whose mean reaches -200. minirl's arms are `minirl train` runs of the
presets (`minirl/Pendulum-v1`), in resumable folders under --out, run two at a time. The peer is
stable-baselines3 PPO with rl-baselines3-zoo's tuned Pendulum-v1 hyperparameters (4 envs x 1024
steps, 10 epochs, batches of 64, gamma 0.9, lambda 0.95, lr 1e-3, gSDE with sample frequency 4, 1e5
steps), evaluated by the same function on the same seeds (`model.predict(obs, deterministic=True)`),
one torch thread.

Targets (issue 10, medians over 5 seeds): SHAC through the twin reaches -200 in >= 10x fewer env
steps than PPO, SVG through a learned model in >= 5x fewer, and minirl PPO within 1.5x of sb3 PPO.
Prints one line per run, the medians, and the ratios. Medians are over all seeds: a seed that never
reaches -200 counts as beyond the budget, not as missing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

from peer import check_threads, sb3_available   # benchmarks/peer.py

TASK, THRESHOLD, EVAL_EVERY, EPISODES = "minirl/Pendulum-v1", -200.0, 1_000, 10
BUDGETS = {"ppo": 150_000, "shac": 30_000, "svg": 10_000, "sac": 10_000, "reinforce": 100_000}


def run_minirl(arms, seeds, out: str, jobs: int) -> list[dict]:
    from minirl.runs.local import LocalExecutor
    from minirl.runs.trials import Trial, run_trial

    trials = {f"{a}-s{s}": (Trial(f"{a}-s{s}", a, TASK, s, total_steps=BUDGETS[a], eval_every=EVAL_EVERY,
                                  eval_episodes=EPISODES), out) for a in arms for s in seeds}
    results = []
    for outcome in LocalExecutor(jobs).run(run_trial, trials):
        trial = trials[outcome.key][0]
        summary = outcome.value.summary if outcome.ok else {}
        results.append({"lib": "minirl", "arm": trial.algo, "seed": trial.seed,
                        "steps": summary.get("solved_eval_step"), "seconds": summary.get("solved_eval_time_s"),
                        "final_eval": summary.get("final_eval_return_mean"), "error": outcome.error})
        print(json.dumps(results[-1]), flush=True)
    return results


def run_sb3_ppo(seed: int, max_steps: int = 100_000) -> dict:
    import numpy as np
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from minirl.evaluation import evaluate_policy

    torch.set_num_threads(1)

    class EvalEvery(BaseCallback):
        def __init__(self):
            super().__init__()
            self.next, self.hit, self.eval_s, self.last = EVAL_EVERY, None, 0.0, None

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next:
                t = time.perf_counter()
                returns = evaluate_policy(lambda obs: self.model.predict(obs, deterministic=True)[0], TASK, EPISODES)
                self.eval_s += time.perf_counter() - t
                self.next = (self.num_timesteps // EVAL_EVERY + 1) * EVAL_EVERY
                self.last = float(np.mean(returns))
                if self.last >= THRESHOLD and self.hit is None:
                    self.hit = (self.num_timesteps, time.perf_counter() - t0 - self.eval_s)
                    return False
            return True

    t0 = time.perf_counter()
    env = make_vec_env("Pendulum-v1", n_envs=4, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0,
                learning_rate=1e-3, clip_range=0.2, use_sde=True, sde_sample_freq=4, seed=seed, device="cpu")
    callback = EvalEvery()
    model.learn(max_steps, callback=callback)
    hit = callback.hit
    return {"lib": "sb3", "arm": "ppo", "seed": seed, "steps": hit[0] if hit else None,
            "seconds": hit[1] if hit else None, "final_eval": callback.last, "error": None}


def _median(values):
    """Median over every seed, a seed that never reached the threshold counting as slower than any
    other (`minirl.stats.median_time_to`), so an arm that fails on some seeds is not flattered by
    leaving them out. None when the median seed itself never reached it."""
    from minirl.stats import median_time_to
    median = median_time_to([math.nan if v is None else v for v in values])
    return None if math.isnan(median) else median


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--arms", nargs="+", default=["ppo", "sac", "shac", "svg"], choices=sorted(BUDGETS))
    parser.add_argument("--skip-sb3", action="store_true")
    parser.add_argument("--out", default="runs/bench_pendulum", help="run folders (resumable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", default=None, help="also write every result here")
    args = parser.parse_args(argv)
    check_threads()
    seeds = list(range(args.seeds))
    results = run_minirl(args.arms, seeds, args.out, args.jobs)
    if sb3_available(args.skip_sb3):
        for s in seeds:
            results.append(run_sb3_ppo(s))
            print(json.dumps(results[-1]), flush=True)
    print(f"\nsteps / seconds to {THRESHOLD:g} on the evaluation return "
          "(median over all seeds; a seed that never reached it counts as beyond the budget)")
    medians = {}
    for lib, arm in sorted({(r["lib"], r["arm"]) for r in results}):
        rows = [r for r in results if r["lib"] == lib and r["arm"] == arm]
        steps, secs = _median([r["steps"] for r in rows]), _median([r["seconds"] for r in rows])
        medians[(lib, arm)] = steps
        reached = sum(r["steps"] is not None for r in rows)
        per_seed = " ".join(str(r["steps"]) if r["steps"] is not None else "never"
                            for r in sorted(rows, key=lambda r: r["seed"]))
        print(f"{lib:>7} {arm:<10} reached {reached}/{len(rows)}  median steps {steps}  median s "
              f"{secs if secs is None else round(secs, 1)}  per seed: {per_seed}")
    ppo = medians.get(("minirl", "ppo"))
    for arm, target in (("shac", 10), ("svg", 5), ("sac", None)):
        if ppo and medians.get(("minirl", arm)):
            ratio = ppo / medians[("minirl", arm)]
            print(f"PPO steps / {arm} steps = {ratio:.1f}" + (f" (target >= {target})" if target else ""))
    if ppo and medians.get(("sb3", "ppo")):
        print(f"minirl PPO steps / sb3 PPO steps = {ppo / medians[('sb3', 'ppo')]:.2f} (target <= 1.5)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    raise SystemExit(main())
