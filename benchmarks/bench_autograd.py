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
implementations alternate round by round so that load on the machine hits both alike. The ratio
autograd / hand-written is what to report; absolute times depend on the machine.
"""

from __future__ import annotations

import argparse
import time

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


def mean_time(fn, number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def bench(batch: int, repeats: int, number: int) -> tuple[float, float]:
    net, obs, actions, advantages = make_problem(batch)
    params = net.parameters()
    weights = [p.data for p in params]
    ours, theirs = autograd_step(net, params, obs, actions, advantages), numpy_step(weights, obs, actions, advantages)
    for name, (a, b) in zip([n for n, _ in net.named_parameters()], zip(ours, theirs)):
        if not np.allclose(a, b, rtol=1e-10, atol=1e-14):
            raise SystemExit(f"gradients disagree for {name}: max difference {np.abs(a - b).max():.3g}")
    t_auto, t_np = [], []
    for _ in range(repeats):
        t_auto.append(mean_time(lambda: autograd_step(net, params, obs, actions, advantages), number))
        t_np.append(mean_time(lambda: numpy_step(weights, obs, actions, advantages), number))
    return float(np.median(t_auto)), float(np.median(t_np))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--repeats", type=int, default=7, help="rounds; the median round is reported")
    parser.add_argument("--number", type=int, default=200, help="calls per round")
    args = parser.parse_args(argv)
    print(f"policy loss of a {OBS_DIM}-{HIDDEN}-{HIDDEN}-{N_ACTIONS} tanh MLP, forward + backward "
          f"(median of {args.repeats} rounds x {args.number} calls); gradients verified equal")
    print(f"{'batch':>6} {'autograd (us)':>14} {'numpy (us)':>11} {'ratio':>6}")
    for batch in args.batches:
        t_auto, t_np = bench(batch, args.repeats, args.number)
        print(f"{batch:>6} {t_auto * 1e6:>14.1f} {t_np * 1e6:>11.1f} {t_auto / t_np:>6.2f}")


if __name__ == "__main__":
    main()
