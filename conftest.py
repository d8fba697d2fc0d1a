"""Shared test plumbing: the `--impl` option and the `lesson` fixture of the exercise tests.

It sits at the repository root so that pytest always loads it, whatever the command line: with
`pytest --impl lessons -m lesson03` pytest first takes `lessons` for a path, and only a conftest.py
in a parent of that path can register `--impl` in time.

    pytest -m lesson03                      # exercise tests against the reference (minirl/)
    pytest --impl lessons -m lesson03       # ... against the learner's copies in lessons/
    pytest --impl /some/dir -m lesson03     # ... against any directory laid out like lessons/

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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A fresh stub's NotImplementedError -> a short report: which function, where, what it does."""
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is None or not call.excinfo.errisinstance(NotImplementedError):
        return
    match = _STUB.search(str(call.excinfo.value))
    if not match:
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
            pytest.fail(f"--impl {impl}: {reason}. Generate the lesson stubs first: run "
                        f"`minirl exercises generate` (or `python -m minirl.exercises generate --out "
                        f"{root}`) from the repository root.", pytrace=False)
        module, unique = _load_fresh(name, path)
        loaded.append(unique)
        return module

    yield load
    for unique in loaded:
        sys.modules.pop(unique, None)
