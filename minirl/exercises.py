"""The lesson-stub generator: turns the reference code into the learner's exercises.

The reference modules mark the part a learner writes with two comment lines, indented like the code::

    def reward_to_go(rewards, gamma):
        ...
        # BEGIN SOLUTION
        ...reference code...
        # END SOLUTION

`generate` copies each lesson's module to `lessons/<path below minirl/>` with every block replaced by
``raise NotImplementedError("lesson NN: implement reward_to_go, see notebooks/NN_topic.ipynb")``
and relative imports made absolute (`from .autograd import Tensor` -> `from minirl.autograd import
Tensor`), so the learner's copy imports the *reference* versions of everything else. The exercise
tests then check the learner's file with ``minirl exercises check NN`` (which runs
``pytest --impl lessons -m lessonNN`` from the repository root).

Usage::

    minirl exercises check 03                   # lesson 03's exercise tests on lessons/returns.py
    minirl exercises status                     # which lessons pass, fail, or are not started
    minirl exercises generate --lesson 03 --force   # reset lesson 03 to a fresh stub
    minirl exercises generate                   # write every missing stub (never overwrites your work)

(`python -m minirl.exercises ...` is the same command.) Generation is deterministic: the same reference code
gives byte-identical stubs, so regenerating the committed `lessons/` leaves git clean.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import itertools
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lesson", "LESSONS", "BEGIN", "END", "SolutionBlockError", "find_blocks", "make_stub",
           "lesson_stub", "generate", "load_lesson", "status", "check", "main"]

HEADER_LINES = 7          # the comment lines (and one blank line) make_stub puts above the module

BEGIN = "# BEGIN SOLUTION"
END = "# END SOLUTION"

PACKAGE_DIR = Path(__file__).resolve().parent        # .../minirl
REPO_DIR = PACKAGE_DIR.parent                         # the repository (for tests/ and notebooks/)


def default_lessons_dir() -> Path:
    """`<repository>/lessons` when minirl runs from a clone (editable install), else `./lessons`.

    So `minirl exercises generate` and `status` find the learner's files from any directory of the
    clone (a notebook runs in notebooks/, a terminal in the repository root).
    """
    if (REPO_DIR / "pyproject.toml").is_file():
        return REPO_DIR / "lessons"
    return Path("lessons")


def _shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class Lesson:
    """One lesson: its number, the module holding its solution blocks, and its notebook."""

    number: str      # "01"
    module: str      # path below minirl/, e.g. "algos/ppo_loss.py"
    notebook: str    # path in the repository, e.g. "notebooks/04_ppo.ipynb"

    @property
    def marker(self) -> str:
        """The pytest marker of the lesson's exercise tests."""
        return f"lesson{self.number}"

    @property
    def dotted(self) -> str:
        """The module's name for the `lesson` fixture: "algos.ppo_loss"."""
        return self.module[:-len(".py")].replace("/", ".")

    @property
    def source(self) -> Path:
        return PACKAGE_DIR / self.module


# The table in CONTRIBUTING.md: a module with solution blocks belongs to exactly one lesson.
LESSONS: tuple[Lesson, ...] = (
    Lesson("01", "autograd.py", "notebooks/01_autograd.ipynb"),
    Lesson("02", "distributions.py", "notebooks/02_policies_and_distributions.ipynb"),
    Lesson("03", "returns.py", "notebooks/03_reinforce.ipynb"),
    Lesson("04", "algos/ppo_loss.py", "notebooks/04_ppo.ipynb"),
    Lesson("05", "estimators.py", "notebooks/05_gradient_estimators.ipynb"),
    Lesson("06", "algos/pathwise.py", "notebooks/06_differentiable_twin.ipynb"),
    Lesson("07", "algos/world_models.py", "notebooks/07_learning_models.ipynb"),
    Lesson("08", "algos/rlhf_pg.py", "notebooks/08_rlhf.ipynb"),
    Lesson("09", "algos/dpo.py", "notebooks/09_dpo_frontier.ipynb"),
    Lesson("10", "algos/best_of_n.py", "notebooks/10_overoptimisation.ipynb"),
    Lesson("11", "algos/segment_prefs.py", "notebooks/11_driving.ipynb"),
    Lesson("12", "algos/sac_loss.py", "notebooks/12_sac.ipynb"),
    Lesson("13", "algos/gradient_snr.py", "notebooks/13_when_the_gradient_pays.ipynb"),
)


def get_lesson(number) -> Lesson:
    """The lesson with this number ("3", "03" or 3); a clear error for an unknown one."""
    key = f"{int(number):02d}" if str(number).isdigit() else str(number)
    for lesson in LESSONS:
        if lesson.number == key:
            return lesson
    raise ValueError(f"unknown lesson {number!r}; lessons are {', '.join(l.number for l in LESSONS)}")


class SolutionBlockError(ValueError):
    """A malformed `# BEGIN SOLUTION` / `# END SOLUTION` pair (names the file and line)."""


# ---------------------------------------------------------------------------------------- parsing
def find_blocks(text: str, filename: str = "<source>") -> list[tuple[int, int, str]]:
    """The solution blocks of a module: a list of (begin_line, end_line, indentation), 0-based.

    Raises SolutionBlockError for a BEGIN without END, an END without BEGIN, nested blocks, or an
    END indented differently from its BEGIN.
    """
    blocks, open_at, indent = [], None, ""
    for i, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped == BEGIN:
            if open_at is not None:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{BEGIN}' inside the block opened at "
                                         f"line {open_at + 1} (blocks cannot nest)")
            open_at, indent = i, line[:len(line) - len(line.lstrip())]
        elif stripped == END:
            if open_at is None:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{END}' without a '{BEGIN}' before it")
            end_indent = line[:len(line) - len(line.lstrip())]
            if end_indent != indent:
                raise SolutionBlockError(f"{filename}:{i + 1}: '{END}' is indented {len(end_indent)} "
                                         f"spaces but its '{BEGIN}' (line {open_at + 1}) {len(indent)}")
            blocks.append((open_at, i, indent))
            open_at = None
    if open_at is not None:
        raise SolutionBlockError(f"{filename}:{open_at + 1}: '{BEGIN}' is never closed by '{END}'")
    return blocks


def _function_spans(tree: ast.AST) -> list[tuple[int, int, str]]:
    """(first_line, last_line, qualified name) of every function, 1-based; methods as Class.method."""
    spans = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                name = prefix + child.name
                spans.append((child.lineno, child.end_lineno, name))
                visit(child, name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return spans


def _enclosing_function(spans, line: int) -> str | None:
    """The innermost function whose lines contain `line` (1-based)."""
    best = None
    for first, last, name in spans:
        if first <= line <= last and (best is None or first >= best[0]):
            best = (first, last, name)
    return best[2] if best else None


def _absolute_import(node: ast.ImportFrom, package: str) -> str:
    """The absolute module of a relative `from ... import` inside `package` (e.g. "minirl.algos")."""
    parts = package.split(".")
    if node.level > len(parts):
        raise SolutionBlockError(f"line {node.lineno}: relative import goes above the minirl package")
    base = ".".join(parts[:len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def make_stub(text: str, lesson: Lesson, filename: str | None = None) -> str:
    """The learner's copy of a reference module `text` (see the module docstring).

    Returns the stub's text; raises SolutionBlockError for malformed blocks or a block outside any
    function (a learner implements functions, so every block must sit inside one).
    """
    filename = filename or f"minirl/{lesson.module}"
    blocks = find_blocks(text, filename)
    try:
        tree = ast.parse(text, filename=filename)
    except SyntaxError as exc:
        raise SolutionBlockError(f"{filename}: not valid Python: {exc}") from None
    spans = _function_spans(tree)
    lines = text.splitlines()

    # 1. relative imports -> absolute (the stub lives outside the package).
    package = ".".join(["minirl", *lesson.module.split("/")[:-1]])
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            i = node.lineno - 1
            prefix = "from " + "." * node.level + (node.module or "")
            head, sep, tail = lines[i].partition(prefix)
            if not sep or not tail.lstrip().startswith("import"):
                raise SolutionBlockError(f"{filename}:{node.lineno}: cannot rewrite this relative "
                                         "import; write it on one line as 'from .module import name'")
            lines[i] = f"{head}from {_absolute_import(node, package)}{tail}"

    # 2. each solution block -> one raise, at the block's indentation (bottom-up keeps indices valid).
    for begin, end, indent in reversed(blocks):
        name = _enclosing_function(spans, begin + 1)
        if name is None:
            raise SolutionBlockError(f"{filename}:{begin + 1}: a solution block must sit inside a "
                                     "function or method")
        message = f"lesson {lesson.number}: implement {name}, see {lesson.notebook}"
        quoted = '"' + message.replace("\\", "\\\\").replace('"', '\\"') + '"'
        lines[begin:end + 1] = [f"{indent}raise NotImplementedError({quoted})"]

    header = [
        f"# Lesson {lesson.number}, your exercise: replace each `raise NotImplementedError(...)` below "
        "with your code.",
        f"# The lesson: {lesson.notebook}. What this file imports from `minirl` is the reference code.",
        "# Check your code (from the repository root, environment active: source .venv/bin/activate):",
        f"#     minirl exercises check {lesson.number}",
        "# Start this file again from a fresh stub (your changes are lost):",
        f"#     minirl exercises generate --lesson {lesson.number} --force",
        "",
    ]
    return "\n".join(header + lines) + "\n"


def lesson_stub(lesson: Lesson) -> str | None:
    """The fresh stub of a lesson, or None if its module does not exist or has no solution blocks."""
    if not lesson.source.is_file():
        return None
    text = lesson.source.read_text(encoding="utf-8")
    if not find_blocks(text, f"minirl/{lesson.module}"):
        return None
    return make_stub(text, lesson)


def _why_skipped(lesson: Lesson) -> str:
    if not lesson.source.is_file():
        return f"minirl/{lesson.module} does not exist yet"
    return f"minirl/{lesson.module} has no '{BEGIN}' blocks yet"


README = """\
# Your exercises

Each file here is your copy of one minirl module with the heart of some functions replaced by
`raise NotImplementedError("lesson NN: ...")`. Work through the lesson's notebook, write the missing
code in the file, and check it with the same tests that check the reference. From the repository
root, with the environment active (`source .venv/bin/activate`):

    minirl exercises check 01                # lesson 01's tests on your lessons/autograd.py
    pytest --impl lessons -m lesson01        # the same tests, run by pytest directly
    minirl exercises status                  # every lesson: passed / failed / not started

Your files import the *reference* minirl for everything else, so each lesson stands on its own.
`minirl exercises generate --lesson 03 --force` starts lesson 03 again from a fresh stub (your
changes to it are lost).

| lesson | your file | notebook | reference |
|---|---|---|---|
""" + "".join(f"| {l.number} | `lessons/{l.module}` | `{l.notebook}` | `minirl/{l.module}` |\n"
              for l in LESSONS)


# ---------------------------------------------------------------------------------------- generate
def _write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; True if written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return True


BACKUP_DIR = ".backup"          # below the lessons folder: copies of files `generate --force` reset


def generate(out=None, lessons=None, force: bool = False, log=print) -> dict:
    """Write the stubs of `lessons` (numbers; default all) into `out` (default: `default_lessons_dir()`).

    A file that is missing is created; one identical to the fresh stub is left alone; one that
    differs (the learner's work) is kept unless `force`. `force` without `lessons` (every lesson at
    once, the easy slip) first copies each file it resets to `out/.backup/<date-time>/` and says
    where. Returns {"created": [...], "reset": [...], "unchanged": [...], "kept": [...], "skipped":
    [...]} with lesson numbers, and "backup": the backup folder (None if nothing was copied).
    """
    import shutil
    import time
    out = Path(out) if out is not None else default_lessons_dir()
    selected = [get_lesson(n) for n in lessons] if lessons else list(LESSONS)
    result = {key: [] for key in ("created", "reset", "unchanged", "kept", "skipped")}
    result["backup"] = None
    backup = out / BACKUP_DIR / time.strftime("%Y%m%d-%H%M%S") if force and not lessons else None
    for lesson in selected:
        stub = lesson_stub(lesson)
        if stub is None:
            result["skipped"].append(lesson.number)
            log(f"lesson {lesson.number}: skipped ({_why_skipped(lesson)})")
            continue
        target = out / lesson.module
        if not target.is_file():
            _write_if_changed(target, stub)
            result["created"].append(lesson.number)
            log(f"lesson {lesson.number}: created {_shown(target)}")
        elif target.read_text(encoding="utf-8") == stub:
            result["unchanged"].append(lesson.number)
            log(f"lesson {lesson.number}: {_shown(target)} is a fresh stub already")
        elif force:
            kept = ""
            if backup is not None:                     # every lesson at once: keep a copy of the work
                copy = backup / lesson.module
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(target, copy)
                result["backup"] = backup
                kept = f"; your version is in {_shown(copy)}"
            _write_if_changed(target, stub)
            result["reset"].append(lesson.number)
            log(f"lesson {lesson.number}: reset {_shown(target)} to a fresh stub{kept}")
        else:
            result["kept"].append(lesson.number)
            log(f"lesson {lesson.number}: kept {_shown(target)}: it differs from a fresh stub (your work?); "
                f"to overwrite it run `minirl exercises generate --lesson {lesson.number} --force`")
    _write_if_changed(out / "README.md", README)
    return result


# ---------------------------------------------------------------------------------------- loading
_fresh_names = itertools.count()


def load_lesson(number, impl=None):
    """The learner's module of a lesson, executed afresh from `impl/<module path>` (for notebooks).

    `impl` defaults to `default_lessons_dir()`, the repository's lessons/.
    Each call re-reads the file, so a notebook sees your latest edit without restarting the kernel.
    """
    lesson = get_lesson(number)
    path = (Path(impl) if impl is not None else default_lessons_dir()) / lesson.module
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist: generate the lesson stubs first with "
                                "`minirl exercises generate` (from the repository root)")
    name = f"minirl_lessons_{lesson.number}_{next(_fresh_names)}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                     # dataclasses look their module up here
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


# ---------------------------------------------------------------------------------------- status
def _run_lesson_tests(lesson: Lesson, impl: Path, tests_dir: Path) -> tuple[int, int, str]:
    """Run a lesson's exercise tests against `impl`; return (passed, total, first failure line)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.xml"
        cmd = [sys.executable, "-m", "pytest", str(tests_dir), f"--impl={impl}", "-m", lesson.marker,
               "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "-o",
               "junit_family=xunit2"]
        proc = subprocess.run(cmd, cwd=tests_dir.parent, capture_output=True, text=True)
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


def status(impl=None, lessons=None, tests_dir=None, log=print) -> list[tuple[str, str]]:
    """Check the learner's lessons with their exercise tests; print and return [(lesson, state)].

    States: "passed (n/n)", "failed (k/n passed)", "not started" (the file is a fresh stub),
    "not generated" (no file yet), "not available yet" (no reference module or no blocks yet),
    "no tests yet".
    """
    shown = Path(impl) if impl is not None else default_lessons_dir()
    impl = shown.resolve()
    tests_dir = Path(tests_dir) if tests_dir else REPO_DIR / "tests" / "exercises"
    if not tests_dir.is_dir():
        raise FileNotFoundError(f"status needs the exercise tests in {tests_dir}; run it from a clone "
                                "of the minirl repository (pip install -e .)")
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
            detail = "run `minirl exercises generate`"
        elif target.read_text(encoding="utf-8") == stub:
            state = "not started"
            detail = f"open {lesson.notebook}"
        else:
            passed, total, first = _run_lesson_tests(lesson, impl, tests_dir)
            if total == 0:
                state = "no tests yet"
            elif passed == total:
                state = f"passed ({passed}/{total})"
            else:
                state = f"failed ({passed}/{total} passed)"
                detail = first
        rows.append((lesson.number, state, _shown(shown / lesson.module), detail))
    width = max(len(path) for _, _, path, _ in rows) + 2 if rows else 6
    log(f"{'lesson':<7}{'state':<24}{'file':<{width}}notes")
    for number, state, path, detail in rows:
        log(f"{number:<7}{state:<24}{path:<{width}}{detail}")
    return [(number, state) for number, state, _, _ in rows]


# ---------------------------------------------------------------------------------------- check
def check(lessons, impl=None, tests_dir=None, pytest_args=()) -> int:
    """Run the exercise tests of `lessons` against the learner's files, with pytest's own report.

    The same run as `pytest --impl lessons -m lessonNN` from the repository root; returns pytest's
    exit status (0: every test passed, 1: some failed).
    """
    selected = [get_lesson(n) for n in lessons] if lessons else list(LESSONS)
    impl = (Path(impl) if impl is not None else default_lessons_dir()).resolve()
    tests_dir = Path(tests_dir) if tests_dir else REPO_DIR / "tests" / "exercises"
    if not tests_dir.is_dir():
        raise FileNotFoundError(f"check needs the exercise tests in {tests_dir}; run it from a clone "
                                "of the minirl repository (pip install -e .)")
    missing = [l for l in selected if not (impl / l.module).is_file()]
    if missing:
        raise FileNotFoundError(f"{impl / missing[0].module} does not exist: write the stubs with "
                                f"`minirl exercises generate --lesson {missing[0].number}`")
    marker = " or ".join(l.marker for l in selected)
    cmd = [sys.executable, "-m", "pytest", str(tests_dir), f"--impl={impl}", "-m", marker,
           "-p", "no:cacheprovider", "--tb=short", *pytest_args]
    return subprocess.run(cmd, cwd=tests_dir.parent.parent).returncode


# ---------------------------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `generate` / `status` sub-commands (shared by `python -m minirl.exercises` and `minirl exercises`)."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    gen = sub.add_parser("generate", help="write the lesson stubs (never overwrites your work without --force)")
    gen.add_argument("--lesson", action="append", metavar="NN",
                     help="only this lesson (repeatable); with --force this resets it")
    gen.add_argument("--out", default=None,
                     help="directory of your exercise files (default: lessons/ of the repository)")
    gen.add_argument("--force", action="store_true",
                     help="overwrite files that differ from a fresh stub (with --lesson your changes are lost; "
                          "without it, every reset file is first copied to lessons/.backup/<date-time>/)")
    ch = sub.add_parser("check", help="run a lesson's exercise tests on your code, with their hints")
    ch.add_argument("lessons", nargs="*", metavar="NN", help="lesson numbers (default: every lesson)")
    ch.add_argument("--impl", default=None,
                    help="directory of your exercise files (default: lessons/ of the repository)")
    ch.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failing test")
    st = sub.add_parser("status", help="run each lesson's exercise tests against your files")
    st.add_argument("--lesson", action="append", metavar="NN", help="only this lesson (repeatable)")
    st.add_argument("--impl", "--out", dest="impl", default=None,
                    help="directory of your exercise files (default: lessons/ of the repository)")


def run(args) -> int:
    action = getattr(args, "action", None) or "generate"
    try:
        if action == "check":
            return check(args.lessons, args.impl, pytest_args=["-x"] if args.exitfirst else [])
        if action == "status":
            rows = status(getattr(args, "impl", None), getattr(args, "lesson", None))
            return 0 if all(s.startswith("passed") or s == "not available yet" for _, s in rows) else 1
        result = generate(getattr(args, "out", None), getattr(args, "lesson", None),
                          getattr(args, "force", False))
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result["backup"] is not None:
        print(f"reset {len(result['reset'])} file(s) that differed from a fresh stub; copies of them are in "
              f"{_shown(result['backup'])} (to reset one lesson only, use --lesson NN --force)")
    if result["kept"]:
        print(f"kept {len(result['kept'])} file(s) with your changes (nothing was lost); "
              "pass --force with --lesson NN to reset one")
        # Asked for specific lessons and could not write them: say so in the exit status.
        return 1 if getattr(args, "lesson", None) else 0
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minirl.exercises",
                                     description="Generate, reset and check the lesson exercises.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
