"""`minirl exercises generate|status`: write, reset and check the learner's lesson stubs.

A thin wrapper over `minirl.exercises` (also runnable as `python -m minirl.exercises`).
"""

from __future__ import annotations

from minirl import exercises as _exercises

HELP = "generate, reset and check the lesson exercises"
DESCRIPTION = ("Write the lesson stubs into lessons/ (`generate`, never overwriting your work without "
               "--force), or run each lesson's exercise tests against your code (`status`).")


def add_arguments(parser) -> None:
    _exercises.add_arguments(parser)


def run(args) -> int:
    return _exercises.run(args)
