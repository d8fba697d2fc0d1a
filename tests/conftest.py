"""Shared test plumbing: the `--impl` option and the `lesson` fixture of the exercise tests.

    pytest -m lesson03                      # exercise tests against the reference (minirl/)
    pytest --impl lessons -m lesson03       # ... against the learner's copies in lessons/
    pytest --impl /some/dir -m lesson03     # ... against any directory laid out like lessons/

An exercise test gets the module under test with `m = lesson("returns")` (or "algos.ppo_loss"):
`minirl.returns` for the reference, a freshly loaded `<impl dir>/returns.py` for the learner.
"""

from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from pathlib import Path

import pytest

_counter = itertools.count()


def pytest_addoption(parser):
    parser.addoption("--impl", default="reference", metavar="WHERE",
                     help="implementation the exercise tests check: 'reference' (minirl/, default), "
                          "'lessons' (your stubs in ./lessons) or the path of a lessons directory")


def pytest_report_header(config):
    impl = config.getoption("--impl")
    if impl != "reference":
        return f"exercises: checking the implementation in {_impl_dir(config)}"
    return None


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
