"""Tests as exercises: the learner's stubs, their course folder, and the checks.

The reference modules mark the part a learner writes with `# BEGIN SOLUTION` / `# END SOLUTION`;
a stub is the module with each block replaced by `raise NotImplementedError("lesson NN: ...")`.
The learner works in a *course folder* (`lessons/` of a clone, or any folder `minirl course start`
made from a pip install), which no `git pull` or upgrade overwrites; the exercise tests check it:

    minirl course start my-course               # a course folder: stubs, notebooks, README
    minirl exercises check 03                   # lesson 03's exercise tests on your returns.py
    minirl exercises status                     # which lessons pass, fail, or are not started
    minirl exercises generate --lesson 03 --force   # reset lesson 03 to a fresh stub (yours is backed up)
    minirl course update                        # a newer course, your work kept (and the changes named)

| module | what |
|---|---|
| `lessons.py` | `LESSONS`, the one registry of lessons; where the course's notebooks and tests are |
| `stubs.py` | the stub generator (`make_stub`, `lesson_stub`) |
| `folder.py` | the learner's course folder: `start`, `generate`, `update` |
| `merge.py` | carrying the learner's functions into a newer stub |
| `runner.py` | `check`, `status`, `load_lesson` (what notebooks call) |
| `cli.py` | the command lines |
"""

from __future__ import annotations

from .cli import main
from .folder import default_course_folder, find_course_folder, generate, start, update
from .lessons import LESSONS, PACKAGE_DIR, REPO_DIR, Lesson, course_files, get_lesson
from .runner import check, load_lesson, status
from .stubs import BEGIN, END, HEADER_LINES, SolutionBlockError, find_blocks, lesson_stub, make_stub, solved

__all__ = ["Lesson", "LESSONS", "get_lesson", "course_files", "BEGIN", "END", "HEADER_LINES",
           "SolutionBlockError", "find_blocks", "make_stub", "lesson_stub", "solved", "generate", "start", "update",
           "find_course_folder", "default_course_folder", "load_lesson", "status", "check", "main",
           "PACKAGE_DIR", "REPO_DIR"]
