"""`minirl demo`: the main job, what `make demo` runs — `minirl compare` with its default settings.

Black-box arms (REINFORCE, PPO) and differentiable arms (pathwise through the twin, pathwise through
a learned model) on Pendulum, 3 seeds each; about 1.5 minutes on an idle 2-core machine (85 s measured, README).
"""

from __future__ import annotations

import argparse

from . import compare

HELP = "run the main job (what `make demo` runs): `minirl compare` with default settings"


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="runs/demo", help="output directory")


def run(args) -> int:
    parser = argparse.ArgumentParser(prog="minirl demo")
    compare.add_arguments(parser)
    return compare.run(parser.parse_args(["--out", args.out]))
