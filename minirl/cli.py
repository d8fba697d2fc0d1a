"""The `minirl` command line: a thin dispatcher over `minirl.commands.*`.

Each sub-command lives in its own module under `minirl/commands/` that defines
`HELP` (one line), `add_arguments(parser)` and `run(args) -> int`. Modules are imported only when
needed, so `minirl --help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# (command name, module, one-line help). Listed in the order a learner meets them.
COMMANDS = [
    ("demo", "minirl.commands.demo", "run the main job (what `make demo` runs)"),
    ("train", "minirl.commands.train", "train REINFORCE or PPO on a Gymnasium environment"),
    ("eval", "minirl.commands.eval", "evaluate a trained run directory (optionally render a GIF)"),
    ("plot", "minirl.commands.plot", "plot learning curves of one or more run directories"),
    ("compare", "minirl.commands.compare", "black-box versus differentiable arms, side by side"),
    ("sweep", "minirl.commands.sweep", "seeds x a grid of train settings, locally or on a Ray cluster"),
    ("estimators", "minirl.commands.estimators", "score-function versus pathwise gradient estimators"),
    ("rlhf", "minirl.commands.rlhf", "toy RLHF with exact answers: frontier, over-optimisation"),
    ("driving", "minirl.commands.driving", "where a model is hard to learn: highway-env next to the toy language"),
    ("course", "minirl.commands.course", "start your course folder anywhere, or update it keeping your work"),
    ("exercises", "minirl.commands.exercises", "check, list, generate and reset your lesson exercises"),
]


def _available():
    for name, module, help_text in COMMANDS:
        try:
            yield name, importlib.import_module(module), help_text
        except ModuleNotFoundError as exc:
            if exc.name != module:      # the command exists but one of its imports is missing
                raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="minirl",
        description="Reinforcement learning from scratch in NumPy: black-box versus differentiable rewards.")
    from . import __version__
    parser.add_argument("--version", action="version", version=f"minirl {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module, help_text in _available():
        p = sub.add_parser(name, help=getattr(module, "HELP", help_text),
                           description=getattr(module, "DESCRIPTION", help_text),
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv=None) -> int:
    import warnings

    from .threads import limit_blas_threads
    limit_blas_threads()                      # one BLAS thread here and in every worker (minirl.threads)
    # a warning on the command line is one line (the category and the message), not two with source code
    warnings.formatwarning = lambda message, category, *args, **kwargs: f"{category.__name__}: {message}\n"
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        code = int(args._run(args) or 0)
        if code in (130, 143) and argv is None:   # stopped by a signal, files written: copies change nothing now
            _ignore_stop_signals()
        return code
    except KeyboardInterrupt:
        if argv is None:
            _ignore_stop_signals()
        print("\ninterrupted", file=sys.stderr)
        return 130


def _ignore_stop_signals() -> None:
    """The command (`minirl ...` itself, not a caller of main(argv)) is over: a Ctrl-C or SIGTERM arriving
    now must not turn exit code 130 into a death by signal."""
    import signal
    for name in ("SIGINT", "SIGTERM"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


if __name__ == "__main__":
    raise SystemExit(main())
