"""Shared test plumbing: the `--impl` option and the `lesson` fixture of the exercise tests.

It sits at the repository root so that pytest always loads it, whatever the command line: with
`pytest --impl lessons -m lesson03` pytest first takes `lessons` for a path, and only a conftest.py
in a parent of that path can register `--impl` in time. A wheel carries it, with the exercise
tests, in `minirl/_course/` (`minirl exercises check` runs them from there; `minirl.exercises.lessons`).

    pytest -m lesson03                      # exercise tests against the reference (minirl/)
    pytest --impl lessons -m lesson03       # ... against the learner's course folder lessons/
    pytest --impl /some/dir -m lesson03     # ... against any folder laid out like lessons/

Every run says in its header which implementation it tests, and a run of exercise tests only
against the reference ends with a banner saying so (the learner probably forgot `--impl lessons`).
A test that reaches a fresh stub's `raise NotImplementedError("lesson NN: implement f, ...")` is
reported in a few lines (which function, where, what it should do) instead of a traceback.

An exercise test gets the module under test with `m = lesson("returns")` (or "algos.ppo_loss"):
`minirl.returns` for the reference, a freshly loaded `<impl dir>/returns.py` for the learner.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import itertools
import re
import sys
from pathlib import Path

import pytest

_counter = itertools.count()
_STUB = re.compile(r"lesson (\d\d): implement ([\w.]+), see (\S+)")
_EXERCISES = Path(__file__).resolve().parent / "tests" / "exercises"


def pytest_configure(config):
    """Register every lesson's marker from the one registry (a wheel's course has no pyproject.toml).
    A learner's check keeps the short summary to one line per test, cut to the terminal's width, even
    where the CI variable is set (GitHub Classroom and other graders set it, and pytest would then
    repeat each whole report in the summary; pytest older than 8.4 has no switch for it)."""
    if config.getoption("--impl") != "reference" and hasattr(config.option, "force_short_summary"):
        config.option.force_short_summary = True
    try:
        from minirl.exercises import LESSONS
    except ImportError:
        return
    for lesson in LESSONS:
        config.addinivalue_line("markers", f"{lesson.marker}: exercise tests of lesson {lesson.number}")


def pytest_addoption(parser):
    parser.addoption("--impl", default="reference", metavar="WHERE",
                     help="implementation the exercise tests check: 'reference' (minirl/, default), "
                          "'lessons' (your stubs in ./lessons) or the path of a lessons directory")


def _describe(config) -> str:
    if config.getoption("--impl") == "reference":
        return "the reference in minirl/"
    return f"your code in {_shown(_impl_dir(config))}/"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def pytest_report_header(config):
    line = f"exercises: testing {_describe(config)}"
    if config.getoption("--impl") == "reference":
        line += " (to test your code in lessons/, add --impl lessons)"
    return line


def pytest_collection_finish(session):
    session.config._minirl_exercise_only = bool(session.items) and all(
        _EXERCISES in Path(item.path).resolve().parents for item in session.items)


def pytest_terminal_summary(terminalreporter, config):
    if not getattr(config, "_minirl_exercise_only", False):
        return
    if config.getoption("--impl") != "reference":
        terminalreporter.write_line(f"exercises: these tests checked {_describe(config)}")
        return
    markers = sorted(set(re.findall(r"lesson\d\d", config.getoption("-m") or ""))) or ["lessonNN"]
    tr = terminalreporter
    tr.write_sep("!", "these exercise tests checked the REFERENCE in minirl/, NOT your code", red=True, bold=True)
    tr.write_line(f"To test your code in lessons/, run:  pytest --impl lessons -m {markers[0]}", bold=True)
    tr.write_line(f"                              or:  minirl exercises check {markers[0][-2:]}", bold=True)


def _helpers():
    """tests/exercises/helpers.py (the exercise tests' shared checks), imported on first use."""
    if str(_EXERCISES) not in sys.path:
        sys.path.insert(0, str(_EXERCISES))
    import helpers
    return helpers


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Short reports for the learner: a fresh stub's NotImplementedError (which function, where, what
    it does), and any other exception raised in the learner's file (its one line, where, what the
    function should do) instead of a traceback through the test."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None and type(call.excinfo.value).__name__ == "LearnerError":
        report.longrepr = str(call.excinfo.value)        # already says what, where and the hint
        return
    if call.excinfo is None or call.excinfo.errisinstance((AssertionError, pytest.fail.Exception,
                                                           pytest.skip.Exception)):
        return
    match = _STUB.search(str(call.excinfo.value))
    if not (match and call.excinfo.errisinstance(NotImplementedError)):
        _report_learner_exception(report, call.excinfo)
        return
    number, name, notebook = match.groups()
    entry = call.excinfo.traceback[-1]
    where = f"{_shown(Path(str(entry.path)))}, line {entry.lineno + 1}"
    doc = _first_paragraph(entry.frame.f_globals, name)
    lines = [f"NotImplementedError: lesson {number}: implement {name}, see {notebook}",
             f"  not written yet: {name} in {where}",
             "  replace that `raise NotImplementedError(...)` with your code"]
    if doc:
        lines.append(f"  what it does: {doc}")
    report.longrepr = "\n".join(lines)


def _report_learner_exception(report, excinfo) -> None:
    """An exception raised inside a learner's module -> its one line, where, and the function's doc."""
    try:
        helpers = _helpers()
    except ImportError:                          # no tests/exercises/helpers.py beside this file
        return
    entry = helpers._learner_frame(excinfo.value.__traceback__)
    if entry is None or not str(entry.tb_frame.f_globals.get("__name__", "")).startswith(
            helpers.LEARNER_MODULE_PREFIX):
        return
    function = getattr(entry.tb_frame.f_code, "co_qualname", entry.tb_frame.f_code.co_name)
    doc = _first_paragraph(entry.tb_frame.f_globals, function.split(".<locals>")[0])
    report.longrepr = helpers.learner_error(excinfo.value, doc=doc)


def _first_paragraph(namespace: dict, dotted: str) -> str:
    """The first paragraph of the docstring of `dotted` ("Tensor.exp") looked up in `namespace`."""
    obj, parts = None, dotted.split(".")
    for i, part in enumerate(parts):
        nxt = namespace.get(part) if i == 0 else getattr(obj, part, None)
        if nxt is None:
            break
        obj = nxt
    doc = inspect.getdoc(obj) if obj is not None else None
    return " ".join(doc.split("\n\n")[0].split()) if doc else ""


def _impl_dir(config) -> Path:
    """The learner's directory: relative paths are tried from the working directory, then rootdir."""
    path = Path(config.getoption("--impl")).expanduser()
    if not path.is_absolute() and not path.exists():
        from_root = Path(config.rootpath) / path
        if from_root.exists():
            return from_root.resolve()
    return path.resolve()


def _load_fresh(name: str, path: Path):
    """Execute `path` as a brand-new module (a unique name, so no test sees another's state)."""
    unique = f"minirl_lessons_{next(_counter)}_{name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module            # dataclasses and pickling look the module up here
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[unique]
        raise
    return module, unique


def _load_error(path: Path, exc: Exception) -> str:
    """A few lines for a learner's file that does not load: file, line, kind of error, the line."""
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == path.resolve():
        line, text = exc.lineno, (exc.text or "").rstrip("\n")
        where = [f"    {text.strip()}"] if text.strip() else []
        if text.strip() and exc.offset:
            indent = len(text) - len(text.lstrip())
            where.append("    " + " " * max(exc.offset - 1 - indent, 0) + "^")
        message = exc.msg
    else:
        tb, line = exc.__traceback__, None
        while tb is not None:                     # the deepest line of the learner's file
            if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
                line = tb.tb_lineno
            tb = tb.tb_next
        import linecache
        text = linecache.getline(str(path), line).strip() if line else ""
        where = [f"    {text}"] if text else []
        message = (str(exc).strip().splitlines() or [""])[0]
    at = f", line {line}" if line else ""
    return "\n".join([f"{type(exc).__name__} in {_shown(path)}{at}: {message} (the file does not load)", *where,
                      "  fix that line, then run the check again (no test of this lesson runs until "
                      "the file loads)"])


@pytest.fixture
def lesson(request):
    """`lesson("algos.ppo_loss")` -> the module under test (reference or learner's, per --impl)."""
    impl = request.config.getoption("--impl")
    loaded = []

    def load(name: str):
        if not name or name.startswith(".") or name.endswith(".py") or "/" in name:
            raise ValueError(f"lesson(name): give a dotted module name below minirl, e.g. 'returns' "
                             f"or 'algos.ppo_loss', got {name!r}")
        if impl == "reference":
            return importlib.import_module(f"minirl.{name}")
        root = _impl_dir(request.config)
        path = root.joinpath(*name.split(".")).with_suffix(".py")
        if not path.is_file():
            reason = (f"the directory {root} does not exist" if not root.is_dir()
                      else f"{path} does not exist")
            pytest.fail(f"--impl {impl}: {reason}. Start your course folder first: `minirl course start "
                        f"{_shown(root)}` (in a clone: `make setup`), or write the missing stub with "
                        f"`minirl exercises generate --out {_shown(root)}`.", pytrace=False)
        broken = request.config.__dict__.setdefault("_minirl_broken", {})
        if path in broken:                       # reported once, by the first test that loaded it
            pytest.skip(f"{_shown(path)} does not load (reported above)")
        try:
            module, unique = _load_fresh(name, path)
        except Exception as exc:
            broken[path] = _load_error(path, exc)
        if broken.get(path):                     # outside the except: no "during handling" chain
            pytest.fail(broken[path], pytrace=False)
        loaded.append(unique)
        return module

    yield load
    for unique in loaded:
        sys.modules.pop(unique, None)
