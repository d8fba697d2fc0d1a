"""PPO training throughput on CartPole-v1: environment steps per second, median of several runs.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_ppo_throughput.py
    ... --repeats 7 --updates 40 --skip-sb3

The setting of the widely used single-file PPO: 4 environments x 128 steps per update (batch 512),
4 epochs of 4 minibatches (128 samples each), 64-64 tanh actor and critic. Throughput counts the
whole training loop (rollout, GAE, every gradient step, logging) over `--updates` updates, after
one warm-up update that is not timed. Learning-rate annealing and the entropy bonus are on; what
the policy learns does not matter here.

If stable-baselines3 is installed (`bench` extra), its PPO with the same sizes (n_envs 4, n_steps
128, n_epochs 4, batch_size 128, one PyTorch thread) is measured in the same run, and the ratio is
printed. Timings on a shared machine are noisy: repeat, take the median, compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import time

from peer import check_threads, sb3_available   # benchmarks/peer.py

ENV_ID = "CartPole-v1"
SIZES = dict(num_envs=4, num_steps=128, update_epochs=4, num_minibatches=4)


def minirl_steps_per_s(updates: int, seed: int) -> float:
    from minirl.algos.ppo import PPO, PPOConfig

    config = PPOConfig(**SIZES)
    batch = config.num_envs * config.num_steps
    agent = PPO(ENV_ID, config, seed=seed)
    total = batch * (updates + 1)
    it = agent.learn_iter(total)
    next(it)                                         # warm-up update (not timed)
    start_step = agent.global_step
    t0 = time.perf_counter()
    for _ in it:
        pass
    elapsed = time.perf_counter() - t0
    agent.close()
    return (agent.global_step - start_step) / elapsed


def sb3_steps_per_s(updates: int, seed: int) -> float:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    torch.set_num_threads(1)
    env = make_vec_env(ENV_ID, n_envs=4, seed=seed)
    model = PPO("MlpPolicy", env, n_steps=128, batch_size=128, n_epochs=4, gamma=0.99, gae_lambda=0.95,
                ent_coef=0.01, learning_rate=2.5e-4, seed=seed, device="cpu", verbose=0)
    model.learn(total_timesteps=512)                 # warm-up update (not timed)
    t0 = time.perf_counter()
    model.learn(total_timesteps=512 * updates, reset_num_timesteps=False)
    elapsed = time.perf_counter() - t0
    env.close()
    return 512 * updates / elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per library (median reported)")
    parser.add_argument("--updates", type=int, default=30, help="timed updates per run (512 steps each)")
    parser.add_argument("--skip-sb3", action="store_true")
    args = parser.parse_args(argv)
    check_threads()
    have_sb3 = sb3_available(args.skip_sb3)

    ours, peer = [], []
    for r in range(args.repeats):
        ours.append(minirl_steps_per_s(args.updates, seed=r))
        line = f"run {r}: minirl {ours[-1]:,.0f} steps/s"
        if have_sb3:
            peer.append(sb3_steps_per_s(args.updates, seed=r))
            line += f", sb3 {peer[-1]:,.0f} steps/s"
        print(line, flush=True)
    m = statistics.median(ours)
    print(f"\nminirl PPO, {SIZES}: median {m:,.0f} env steps/s over {args.repeats} runs "
          f"(min {min(ours):,.0f}, max {max(ours):,.0f}); target >= 25,000")
    if peer:
        p = statistics.median(peer)
        print(f"sb3 PPO, same sizes: median {p:,.0f} env steps/s; ratio minirl / sb3 = {m / p:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
