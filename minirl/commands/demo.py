"""`minirl demo`: the main job. Runs the side-by-side comparison when it exists, else an autograd demo."""

from __future__ import annotations

import importlib
import os

HELP = "run the main job (what `make demo` runs)"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output directory")


def run(args) -> int:
    try:
        compare = importlib.import_module("minirl.commands.compare")
    except ModuleNotFoundError:
        compare = None
    if compare is not None:
        import argparse
        p = argparse.ArgumentParser()
        compare.add_arguments(p)
        return compare.run(p.parse_args(["--out", args.out]))
    return autograd_demo(args.out)


def autograd_demo(out_dir: str) -> int:
    """Fit a 1-64-64-1 tanh MLP to sin(x) with minirl's autograd and Adam; save the fit as a PNG."""
    import numpy as np

    from minirl.autograd import Tensor
    from minirl.nn import MLP
    from minirl.optim import Adam

    rng = np.random.default_rng(0)
    x = np.linspace(-np.pi, np.pi, 256)[:, None]
    y = np.sin(x)
    net = MLP([1, 64, 64, 1], rng=rng)
    opt = Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(1500):
        loss = ((net(Tensor(x)) - Tensor(y)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    os.makedirs(out_dir, exist_ok=True)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(x[:, 0], y[:, 0], label="sin(x)")
    a1.plot(x[:, 0], net(Tensor(x)).data[:, 0], "--", label="MLP")
    a1.legend()
    a2.semilogy(losses)
    a2.set_xlabel("Adam step")
    a2.set_ylabel("mean squared error")
    fig.tight_layout()
    path = os.path.join(out_dir, "autograd_demo.png")
    fig.savefig(path, dpi=100)
    print(f"final MSE {losses[-1]:.2e}; figure written to {path}")
    return 0
