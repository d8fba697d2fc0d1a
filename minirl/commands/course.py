"""`minirl course start|update`: your course folder (stubs, notebooks, README), and bringing in a newer course.

A thin wrapper over `minirl.exercises` (see `minirl.exercises.folder`).
"""

from __future__ import annotations

from minirl.exercises import cli as _cli

HELP = "start your course folder anywhere, or update it keeping your work"
DESCRIPTION = ("`start FOLDER` makes a course folder: your copy of every lesson's stub, the notebooks and "
               "a README; `minirl exercises check NN` works inside it. `update` brings in a newer course "
               "(after `git pull` or `pip install -U minirl-numpy`): your work is kept, and it names the "
               "functions whose stubs changed.")


def add_arguments(parser) -> None:
    _cli.add_course_arguments(parser)


def run(args) -> int:
    return _cli.run_course(args)
