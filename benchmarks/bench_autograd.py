"""How much does minirl's autograd cost over hand-written NumPy? A policy-gradient loss, timed.

The workload is one forward + backward pass of the score-function (REINFORCE) loss of a 64-64 tanh
MLP policy over discrete actions:

    logits = MLP(obs);   L = -mean_i [ log softmax(logits_i)[a_i] * A_i ]

once through minirl (`MLP`, `Categorical`, `backward`) and once written out by hand in NumPy with
the backward pass derived on paper. Both gradients are checked to agree before any timing.

Shapes: obs (B, obs_dim), actions (B,), advantages (B,); weights (8, 64), (64, 64), (64, 4).

Run (single-threaded BLAS, as the small matrices here gain nothing from threads):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_autograd.py

Each figure is the median over `--repeats` rounds of the mean time of `--number` calls; the two
implementations alternate round by round so that load on the machine hits both alike. By default
the clock is this process's CPU time (`time.process_time`), which on a shared, busy machine is far
less noisy than wall time (`--clock wall`). The ratio autograd / hand-written is what to report;
absolute times depend on the machine.

The `faults` columns count minor page faults per call. They should be 0. On Linux/glibc they are
often ~100 per call for the autograd path at batch 256, depending on the heap's state (e.g. on
whether batch 64 ran first). The (256, 64) arrays there are 128 KiB, at glibc's default mmap and
trim thresholds; the autograd step frees its whole graph at once when it returns, glibc hands the
top of the heap back to the OS (strace shows ~3 `brk` calls per step) and the next step faults it
in again. That costs a few hundred microseconds per call and is the allocator's doing, not the
code's; run with `MALLOC_MMAP_THRESHOLD_=268435456 MALLOC_TRIM_THRESHOLD_=268435456` to rule it out.
"""

from __future__ import annotations

import argparse
import time

try:
    import resource                                               # Unix only: page-fault counts
except ImportError:                                               # pragma: no cover
    resource = None

import numpy as np

from minirl.autograd import Tensor
from minirl.distributions import Categorical
from minirl.nn import MLP

OBS_DIM, HIDDEN, N_ACTIONS = 8, 64, 4


def make_problem(batch: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    net = MLP([OBS_DIM, HIDDEN, HIDDEN, N_ACTIONS], rng=rng, output_gain=0.01)
    obs = rng.standard_normal((batch, OBS_DIM))
    actions = rng.integers(0, N_ACTIONS, size=batch)
    advantages = rng.standard_normal(batch)
    return net, obs, actions, advantages


def autograd_step(net: MLP, params: list, obs, actions, advantages) -> list[np.ndarray]:
    """Forward + backward through minirl; returns the parameter gradients.

    `params` is `net.parameters()` collected once, as an optimiser holds it.
    """
    for p in params:                                              # what Optimizer.zero_grad does
        p.grad = None
    dist = Categorical(net(Tensor(obs)))
    loss = -(dist.log_prob(actions) * Tensor(advantages)).mean()
    loss.backward()
    return [p.grad for p in params]


def numpy_step(weights: list[np.ndarray], obs, actions, advantages) -> list[np.ndarray]:
    """The same loss and gradient written out by hand.

    Forward: h1 = tanh(x W1 + b1), h2 = tanh(h1 W2 + b2), z = h2 W3 + b3, logp = log_softmax(z).
    Backward: dL/dz = (softmax(z) - onehot(a)) * A / B; through a tanh layer dL/dpre = dL/dh (1 - h^2).
    """
    w1, b1, w2, b2, w3, b3 = weights
    batch = obs.shape[0]
    h1 = np.tanh(obs @ w1 + b1)                                   # (B, 64)
    h2 = np.tanh(h1 @ w2 + b2)                                    # (B, 64)
    z = h2 @ w3 + b3                                              # (B, K)
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)                             # softmax (B, K)
    dz = p
    dz[np.arange(batch), actions] -= 1.0                          # softmax - onehot
    dz *= (advantages / batch)[:, None]                           # dL/dz (B, K)
    dw3, db3 = h2.T @ dz, dz.sum(axis=0)
    da2 = (dz @ w3.T) * (1.0 - h2 * h2)                           # (B, 64)
    dw2, db2 = h1.T @ da2, da2.sum(axis=0)
    da1 = (da2 @ w2.T) * (1.0 - h1 * h1)                          # (B, 64)
    dw1, db1 = obs.T @ da1, da1.sum(axis=0)
    return [dw1, db1, dw2, db2, dw3, db3]


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def _minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


def mean_time(fn, number: int, clock) -> tuple[float, float]:
    """Mean time per call and minor page faults per call over `number` calls."""
    faults, start = _minor_faults(), clock()
    for _ in range(number):
        fn()
    return (clock() - start) / number, (_minor_faults() - faults) / number


def bench(batch: int, repeats: int, number: int, clock=time.process_time) -> dict:
    net, obs, actions, advantages = make_problem(batch)
    params = net.parameters()
    weights = [p.data for p in params]
    ours, theirs = autograd_step(net, params, obs, actions, advantages), numpy_step(weights, obs, actions, advantages)
    for name, (a, b) in zip([n for n, _ in net.named_parameters()], zip(ours, theirs)):
        if not np.allclose(a, b, rtol=1e-10, atol=1e-14):
            raise SystemExit(f"gradients disagree for {name}: max difference {np.abs(a - b).max():.3g}")
    auto, hand = [], []                                           # (time, faults) per round
    for _ in range(repeats):
        auto.append(mean_time(lambda: autograd_step(net, params, obs, actions, advantages), number, clock))
        hand.append(mean_time(lambda: numpy_step(weights, obs, actions, advantages), number, clock))
    auto, hand = np.array(auto), np.array(hand)
    return {"autograd": float(np.median(auto[:, 0])), "numpy": float(np.median(hand[:, 0])),
            "autograd_faults": float(np.median(auto[:, 1])), "numpy_faults": float(np.median(hand[:, 1]))}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=7, help="rounds; the median round is reported")
    parser.add_argument("--number", type=int, default=200, help="calls per round")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                        help="cpu: process CPU time (robust on a busy machine); wall: elapsed time")
    args = parser.parse_args(argv)
    print(f"policy loss of a {OBS_DIM}-{HIDDEN}-{HIDDEN}-{N_ACTIONS} tanh MLP, forward + backward "
          f"(median of {args.repeats} rounds x {args.number} calls, {args.clock} time); "
          "gradients verified equal")
    print(f"{'batch':>6} {'autograd (us)':>14} {'numpy (us)':>11} {'ratio':>6} {'faults':>7} {'faults':>7}")
    print(f"{'':>6} {'':>14} {'':>11} {'':>6} {'(auto)':>7} {'(numpy)':>7}")
    for batch in args.batches:
        r = bench(batch, args.repeats, args.number, CLOCKS[args.clock])
        print(f"{batch:>6} {r['autograd'] * 1e6:>14.1f} {r['numpy'] * 1e6:>11.1f} "
              f"{r['autograd'] / r['numpy']:>6.2f} {r['autograd_faults']:>7.1f} {r['numpy_faults']:>7.1f}")


if __name__ == "__main__":
    main()
