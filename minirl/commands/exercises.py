"""`minirl exercises check|status|generate`: check, list, write and reset the learner's lesson stubs.

A thin wrapper over `minirl.exercises` (also runnable as `python -m minirl.exercises`).
"""

from __future__ import annotations

from minirl.exercises import cli as _cli

HELP = "check, list, generate and reset your lesson exercises"
DESCRIPTION = ("Run a lesson's exercise tests on your code in your course folder (`check 03`), list every "
               "lesson's state (`status`), or write the lesson stubs (`generate`, never overwriting your "
               "work without --force).")


def add_arguments(parser) -> None:
    _cli.add_arguments(parser)


def run(args) -> int:
    return _cli.run(args)
