"""16 seeds of PPO on CartPole-v1 in one process (the seed axis) against one after the other; and the
stacked learner's throughput against the arithmetic floor of the same updates.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_stacked_ppo.py
    ... --seeds 16 --repeats 3 --throughput-updates 20

**Seeds to 475 (issue 24's first target).** The CartPole-v1 preset, seeds 0..S-1, each seed stopped
at its first evaluation (every 10,000 env steps, 10 deterministic episodes on the fixed evaluation
seeds, as `minirl train` evaluates) whose mean reaches 475, or at the preset's 150,000 steps:

| arm | how |
|---|---|
| `before` | one `PPO` after the other, environments and evaluation episodes stepped one by one (minirl before issue 24: the batch engines of `minirl.batch_envs` switched off); with `--before-checkout DIR`, one `PPO` after the other of the minirl in DIR (a checkout of the commit before issue 24), in a child process |
| `alone` | one `PPO` after the other with today's levers (batch engines for training and evaluation) |
| `stacked` | one `StackedPPO` of the S seeds; a seed leaves the stack when it solves (`keep`) |

All arms compute the same numbers (each seed's steps to 475 are printed per arm and must agree);
CPU seconds (`time.process_time`, this process, evaluation included) per seed, median over
`--repeats` rounds, arms interleaved in each round. Targets: stacked <= 0.4 x before (goal 0.3), S/S solved,
median steps within 10% of before's (the same steps, bit for bit).

**Throughput against the floor (issue 24's third target).** The stacked learner trains S seeds for
`--throughput-updates` updates (after one untimed update); env steps per CPU second, one core. The
floor: the same update's arithmetic with nothing else, in plain NumPy on arrays of the same shapes,
one call per operation: every matrix product, bias and tanh of the T rollout steps' policy passes
(S, N, .), the critic's pass over the rollout, the forward and backward passes of every minibatch
(policy and critic, (S, MB, .)), and the Adam update of all S seeds' parameters. Environment steps,
sampling and bookkeeping are not in the floor. Target: throughput >= 0.3 x the floor's.

**Where the stacked arm's CPU goes.** Its last round's evaluation seconds, and the CPU per seed it would
need if its seed-steps trained at the floor's rate (plus those evaluations): how close the arithmetic
alone lets it come to the first target.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

from peer import check_threads   # benchmarks/peer.py

ENV_ID, THRESHOLD, EVAL_EVERY, EVAL_EPISODES, BUDGET = "CartPole-v1", 475.0, 10_000, 10, 150_000


class _BeforeIssue24:
    """Within the block, minirl steps environments and evaluation episodes one by one, as before issue 24."""

    def __enter__(self):
        from minirl import batch_envs
        self.saved = dict(batch_envs._ENGINES)
        batch_envs._ENGINES.clear()

    def __exit__(self, *exc):
        from minirl import batch_envs
        batch_envs._ENGINES.update(self.saved)


def _evaluate(agent) -> float:
    from minirl.evaluation import evaluate_policy
    return float(evaluate_policy(lambda o: agent.act(o, deterministic=True), ENV_ID, EVAL_EPISODES).mean())


def _due(step: int, next_eval: int) -> bool:
    return step >= next_eval or step >= BUDGET


def one_after_the_other(seeds) -> tuple[float, list]:
    """(CPU seconds, steps to 475 per seed or None)."""
    from minirl.algos.ppo import PPO
    t0, solved = time.process_time(), []
    for seed in seeds:
        agent, next_eval, hit = PPO(ENV_ID, seed=seed), EVAL_EVERY, None
        for row in agent.learn_iter(BUDGET):
            if _due(row["step"], next_eval):
                next_eval = (row["step"] // EVAL_EVERY + 1) * EVAL_EVERY
                if _evaluate(agent) >= THRESHOLD:
                    hit = row["step"]
                    break
        agent.close()
        solved.append(hit)
    return time.process_time() - t0, solved


def one_after_the_other_in(checkout: str, seeds) -> tuple[float, list]:
    """`one_after_the_other` run by the minirl of another checkout, in a child process (its CPU seconds)."""
    code = (f"import sys, json; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            "import minirl, bench_stacked_ppo as b; "
            f"assert minirl.__file__.startswith({os.path.abspath(checkout)!r}), minirl.__file__; "
            f"print(json.dumps(b.one_after_the_other({list(seeds)!r})))")
    env = dict(os.environ, PYTHONPATH=os.path.abspath(checkout), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=os.path.abspath(checkout))           # -c puts the working folder first on sys.path
    if out.returncode:
        raise SystemExit(f"the `before` arm in {checkout} failed:\n{out.stderr}")
    seconds, hits = json.loads(out.stdout.strip().splitlines()[-1])
    return seconds, hits


SPLIT = {}     # the last stacked run's CPU split: evaluation seconds, seed-steps trained


def stacked(seeds) -> tuple[float, list]:
    from minirl.algos.ppo import PPO
    from minirl.algos.ppo_stacked import StackedPPO
    t0 = time.process_time()
    members = [PPO(ENV_ID, seed=seed) for seed in seeds]
    learner = StackedPPO(members)
    next_eval, hits, eval_s, trained = EVAL_EVERY, {}, 0.0, 0
    for rows in learner.learn_iter(BUDGET):
        step = rows[0]["step"]
        trained += learner.config.batch_size * len(rows)                 # env steps of the seeds in this update
        if _due(step, next_eval):
            next_eval = (step // EVAL_EVERY + 1) * EVAL_EVERY
            e0 = time.process_time()
            for m in learner.members:
                if _evaluate(m) >= THRESHOLD:
                    hits[id(m)] = step
            eval_s += time.process_time() - e0
            left = [m for m in learner.members if id(m) not in hits]
            if not left:
                break
            learner.keep(left)
    learner.close()
    SPLIT.update(eval_s=eval_s, seed_steps=trained)
    return time.process_time() - t0, [hits.get(id(m)) for m in members]


def throughput(S: int, updates: int) -> float:
    """Env steps per CPU second of the stacked learner (after one untimed update)."""
    from minirl.algos.ppo import PPO
    from minirl.algos.ppo_stacked import StackedPPO
    learner = StackedPPO([PPO(ENV_ID, seed=s) for s in range(S)])
    B = learner.config.batch_size
    it = learner.learn_iter(B * (updates + 1))
    next(it)
    t0 = time.process_time()
    for _ in it:
        pass
    seconds = time.process_time() - t0
    learner.close()
    return S * B * updates / seconds


def floor_steps_per_s(S: int, rounds: int = 5) -> float:
    """The arithmetic of one stacked update alone (module doc), as env steps per CPU second."""
    from minirl.algos.presets import preset
    c = preset("ppo", ENV_ID)
    T, N, MB, E, M = c.num_steps, c.num_envs, c.minibatch_size, c.update_epochs, c.num_minibatches
    sizes = {"policy": [4, *c.hidden_sizes, 2], "value": [4, *c.hidden_sizes, 1]}
    rng = np.random.default_rng(0)
    f32 = np.float32
    nets = {k: [(rng.standard_normal((S, a, b)).astype(f32), rng.standard_normal((S, 1, b)).astype(f32))
                for a, b in zip(v[:-1], v[1:])] for k, v in sizes.items()}
    params = [x for net in nets.values() for layer in net for x in layer]
    flat = np.concatenate([p.ravel() for p in params])
    m, v = np.zeros_like(flat), np.zeros_like(flat)

    def forward(net, x):
        hs = [x]
        for i, (w, b) in enumerate(net):
            h = hs[-1] @ w
            h += b
            hs.append(np.tanh(h) if i < len(net) - 1 else h)
        return hs

    def backward(net, hs, g):
        for i in reversed(range(len(net))):
            w, _ = net[i]
            np.swapaxes(hs[i], 1, 2) @ g                                  # dW
            np.add.reduce(g, axis=1, keepdims=True)                       # db
            if i:
                g = g @ np.swapaxes(w, 1, 2)
                g = g * (1 - hs[i] * hs[i])                               # tanh'

    obs_step = rng.standard_normal((S, N, 4)).astype(f32)
    obs_rollout = rng.standard_normal((S, T * N + N, 4)).astype(f32)
    obs_mb = rng.standard_normal((S, MB, 4)).astype(f32)

    def update():
        for _ in range(T):
            forward(nets["policy"], obs_step)
        forward(nets["value"], obs_rollout)
        for _ in range(E * M):
            for net in nets.values():
                hs = forward(net, obs_mb)
                backward(net, hs, np.ones_like(hs[-1]))
            g = flat * 1e-3                                               # Adam over every parameter
            m[:] = 0.9 * m + 0.1 * g
            v[:] = 0.999 * v + 0.001 * (g * g)
            flat[:] -= 1e-3 * (m / 0.5) / (np.sqrt(v / 0.5) + 1e-5)

    times = []
    for _ in range(rounds + 1):
        t0 = time.process_time()
        update()
        times.append(time.process_time() - t0)
    return S * T * N / statistics.median(times[1:])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="rounds of the three arms (median reported)")
    parser.add_argument("--throughput-updates", type=int, default=20)
    parser.add_argument("--skip-seeds", action="store_true", help="only the throughput")
    parser.add_argument("--before-checkout", metavar="DIR", default=None,
                        help="run the `before` arm with the minirl of this checkout (the commit before issue 24)")
    args = parser.parse_args(argv)
    check_threads()
    seeds = list(range(args.seeds))
    if not args.skip_seeds:
        cpu = {"before": [], "alone": [], "stacked": []}
        steps = {}
        for r in range(args.repeats):
            for arm in cpu:
                if arm == "before" and args.before_checkout:
                    seconds, hit = one_after_the_other_in(args.before_checkout, seeds)
                elif arm == "before":
                    with _BeforeIssue24():
                        seconds, hit = one_after_the_other(seeds)
                else:
                    seconds, hit = (one_after_the_other if arm == "alone" else stacked)(seeds)
                cpu[arm].append(seconds / len(seeds))
                steps.setdefault(arm, hit)
                assert steps[arm] == hit, f"{arm}: the steps to {THRESHOLD:g} changed between rounds"
                print(f"round {r} {arm:>8}: {seconds:7.1f} s of CPU, {seconds / len(seeds):.2f} s per seed", flush=True)
        before = statistics.median(cpu["before"])
        for arm, values in cpu.items():
            hits = steps[arm]
            reached = [h for h in hits if h is not None]
            print(f"{arm:>8}: {statistics.median(values):.2f} s of CPU per seed (median of {len(values)}; "
                  f"{', '.join(f'{x:.2f}' for x in values)}), {statistics.median(values) / before:.2f} x before; "
                  f"{len(reached)}/{len(hits)} seeds reached {THRESHOLD:g}, median "
                  f"{statistics.median(reached) if reached else float('nan'):,.0f} steps; per seed "
                  f"{' '.join('never' if h is None else str(h) for h in hits)}")
        print("identical steps to the threshold in every arm:", len({tuple(h) for h in steps.values()}) == 1)
    got = statistics.median([throughput(len(seeds), args.throughput_updates) for _ in range(args.repeats)])
    floor = floor_steps_per_s(len(seeds))
    print(f"stacked PPO, {len(seeds)} seeds: {got:,.0f} env steps per CPU second; the floor of the same updates' "
          f"arithmetic {floor:,.0f}; ratio {got / floor:.2f} (target >= 0.3)")
    if SPLIT:
        # the stacked arm at the floor: its seed-steps trained at the 16-seed floor's rate (fewer seeds are
        # slower per step, so this is a lower bound), plus its evaluations as measured
        S = len(seeds)
        bound = (SPLIT["seed_steps"] / floor + SPLIT["eval_s"]) / S
        print(f"stacked arm's last round: {SPLIT['seed_steps']:,} seed-steps trained, evaluations "
              f"{SPLIT['eval_s']:.1f} s of CPU ({SPLIT['eval_s'] / S:.2f} s per seed); at the floor's rate it would "
              f"still need {bound:.2f} s per seed, {bound / before:.2f} x before")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
