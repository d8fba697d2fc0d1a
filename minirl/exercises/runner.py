"""Run the exercise tests on the learner's files: `check` (pytest's own report), `status` (a table),
and `load_lesson` (a notebook's fresh copy of the learner's module).

The tests, their conftest.py and pytest's configuration come from `course_files()` (the repository
in a clone, `minirl/_course/` in a wheel); the learner's files from their course folder
(`minirl.exercises.folder`). The same pytest run either way::

    python -m pytest <course>/tests/exercises --impl=<course folder> -m lessonNN -c <config> --rootdir=<course>
"""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

from .folder import course_folder, shown
from .lessons import LESSONS, Lesson, course_files, get_lesson
from .stubs import lesson_stub

__all__ = ["load_lesson", "status", "check", "pytest_command"]

_fresh_names = itertools.count()


def load_lesson(number, impl=None):
    """The learner's module of a lesson, executed afresh from their course folder (for notebooks).

    `impl` defaults to the course folder found from the working directory (`lessons/` in a clone).
    Each call re-reads the file, so a notebook sees your latest edit without restarting the kernel.
    """
    lesson = get_lesson(number)
    path = course_folder(impl) / lesson.module
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: start your course first with `minirl course start "
                                "my-course` (in a clone of the repository: `make setup`)")
    name = f"minirl_lessons_{lesson.number}_{next(_fresh_names)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                     # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def pytest_command(lessons: list[Lesson], impl: Path, *extra: str) -> list[str]:
    """The pytest command line that runs `lessons`' exercise tests on the files in `impl`."""
    course = course_files()
    marker = " or ".join(l.marker for l in lessons)
    return [sys.executable, "-m", "pytest", str(course.tests), f"--impl={impl}", "-m", marker,
            "-c", str(course.config), f"--rootdir={course.root}", "-p", "no:cacheprovider", *extra]


def _run_lesson_tests(lesson: Lesson, impl: Path) -> tuple[int, int, str]:
    """Run a lesson's exercise tests against `impl`; return (passed, total, first failure line)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        cmd = pytest_command([lesson], impl, "-q", f"--junitxml={report}", "-o", "junit_family=xunit2")
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if not report.is_file():
            raise RuntimeError(f"pytest did not run (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}")
        passed = total = 0
        first_failure = ""
        for case in ET.parse(report).getroot().iter("testcase"):
            problems = [c for c in case if c.tag in ("failure", "error")]
            if any(c.tag == "skipped" for c in case):
                continue
            total += 1
            if not problems:
                passed += 1
            elif not first_failure:
                message = (problems[0].get("message") or problems[0].tag).strip()
                first_failure = message.splitlines()[0][:100] if message else problems[0].tag
        return passed, total, first_failure


def status(impl=None, lessons=None, log=print) -> list[tuple[str, str]]:
    """Check the learner's lessons with their exercise tests; print and return [(lesson, state)].

    States: "passed (n/n)", "failed (k/n passed)", "not started" (the file is a fresh stub),
    "not generated" (no file yet), "not available yet" (no reference module or no blocks yet),
    "no tests yet".
    """
    shown_dir = course_folder(impl)
    impl = shown_dir.resolve()
    course_files()                                 # a clear error now if this minirl has no course files
    selected = [get_lesson(n) for n in lessons] if lessons else list(LESSONS)
    rows = []
    for lesson in selected:
        stub = lesson_stub(lesson)
        target = impl / lesson.module
        detail = ""
        if stub is None:
            state = "not available yet"
        elif not target.is_file():
            state = "not generated"
            detail = (f"run `minirl exercises generate --lesson {lesson.number}`" if impl.is_dir() else
                      "no course folder yet: `make setup` in a clone, else `minirl course start my-course`")
        elif target.read_text(encoding="utf-8") == stub:
            state = "not started"
            detail = f"open {lesson.notebook}"
        else:
            passed, total, first = _run_lesson_tests(lesson, impl)
            if total == 0:
                state = "no tests yet"
            elif passed == total:
                state = f"passed ({passed}/{total})"
            else:
                state = f"failed ({passed}/{total} passed)"
                detail = first
        rows.append((lesson.number, state, shown(shown_dir / lesson.module), detail))
    width = max(len(path) for _, _, path, _ in rows) + 2 if rows else 6
    log(f"{'lesson':<7}{'state':<24}{'file':<{width}}notes")
    for number, state, path, detail in rows:
        log(f"{number:<7}{state:<24}{path:<{width}}{detail}")
    return [(number, state) for number, state, _, _ in rows]


def check(lessons, impl=None, pytest_args=()) -> int:
    """Run the exercise tests of `lessons` against the learner's files, with pytest's own report.

    The same run as `pytest --impl lessons -m lessonNN` from a clone's root; returns pytest's exit
    status (0: every test passed, 1: some failed).
    """
    selected = [get_lesson(n) for n in lessons] if lessons else list(LESSONS)
    impl = course_folder(impl).resolve()
    missing = [l for l in selected if not (impl / l.module).is_file()]
    if missing:
        raise FileNotFoundError(f"{impl / missing[0].module} does not exist: start your course with "
                                "`minirl course start my-course` (in a clone: `make setup`), or write the "
                                f"stub again with `minirl exercises generate --lesson {missing[0].number}`")
    return subprocess.run(pytest_command(selected, impl, "--tb=short", *pytest_args)).returncode
