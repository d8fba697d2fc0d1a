"""`minirl exercises check|status|generate`: check, list, write and reset the learner's lesson stubs.

A thin wrapper over `minirl.exercises` (also runnable as `python -m minirl.exercises`).
"""

from __future__ import annotations

from minirl import exercises as _exercises

HELP = "generate, reset and check the lesson exercises"
DESCRIPTION = ("Run a lesson's exercise tests on your code in lessons/ (`check 03`), list every lesson's "
               "state (`status`), or write the lesson stubs (`generate`, never overwriting your work "
               "without --force).")


def add_arguments(parser) -> None:
    _exercises.add_arguments(parser)


def run(args) -> int:
    return _exercises.run(args)
