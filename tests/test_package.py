"""minirl as a package a maintainer publishes: one version, honest floors, hints that name the real
distribution, and a wheel from which a learner can take the whole course.

The slow test builds the sdist and, from it, the wheel (`python -m build`) out of a fresh copy of the
files git knows, checks what each carries, installs the wheel into a fresh virtual environment outside
the repository (reusing pip's cache), starts a course folder with `minirl course start`, fails a stub,
solves it with the reference code and passes.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

import minirl
from minirl import about
from minirl import exercises as ex

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
FLOORS_FILE = REPO / ".ci" / "minimum-versions.txt"


# ------------------------------------------------------------------------------ metadata
def test_the_version_is_written_once_and_the_release_files_agree():
    project = PYPROJECT["project"]
    assert "version" not in project and "version" in project["dynamic"], "pyproject.toml must not repeat the version"
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "minirl.__version__"}
    citation = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    assert f'version: "{minirl.__version__}"' in citation
    changelog = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    first = re.search(r"^## \[?(\d+\.\d+\.\d+)", changelog, flags=re.M)
    assert first and first.group(1) == minirl.__version__, "CHANGELOG.md's latest release is not this version"
    assert project["name"] == about.DISTRIBUTION and project["license"] == "MIT"
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert (REPO / "minirl" / "py.typed").is_file()


def _floors() -> dict[str, str]:
    floors = {}
    for requirement in PYPROJECT["project"]["dependencies"]:
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?\s*>=\s*([\w.]+)", requirement)
        assert match, f"dependency without a floor: {requirement!r}"
        floors[match.group(1).lower()] = match.group(2)
    return floors


def test_every_floor_is_pinned_in_the_minimum_versions_file():
    """CI installs the constraints of .ci/minimum-versions.txt and runs the quick tests, so the floors
    in pyproject.toml are versions that pass; the file must pin each floor exactly."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([\w.]+)\s*$", FLOORS_FILE.read_text(encoding="utf-8"), flags=re.M))
    pins = {k.lower(): v for k, v in pins.items()}
    floors = {name: version for name, version in _floors().items() if name != "tomli"}   # tomli: Python < 3.11 only
    assert floors == {name: pins.get(name) for name in floors}, (floors, pins)


def _semver(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in re.findall(r"\d+", text)[:3])


def test_the_known_bad_versions_are_below_the_floors():
    floors = _floors()
    assert _semver(floors["numpy"]) >= (2, 0, 0), "NumPy 1.x promotes float32 runs to float64"
    assert _semver(floors["gymnasium"]) >= (1, 1, 0), "Gymnasium 1.0.0 has no AutoresetMode"
    assert any(r.startswith("tomli") and "python_version < '3.11'" in r for r in PYPROJECT["project"]["dependencies"])
    assert any(r.startswith("ray[client]") for r in PYPROJECT["project"]["optional-dependencies"]["ray"])


def test_install_hints_name_the_distribution(monkeypatch):
    monkeypatch.setattr(about, "from_clone", lambda: False)
    assert about.install_hint("box2d") == "pip install 'minirl-numpy[box2d]'"
    assert about.install_hint() == "pip install minirl-numpy"
    monkeypatch.setattr(about, "from_clone", lambda: True)
    assert about.install_hint("ray") == "pip install -e '.[ray]'"
    # no hint in the library spells an install by hand (it would be wrong from a wheel or from a clone)
    wrong = [f"{p.relative_to(REPO)}: {line.strip()}" for p in (REPO / "minirl").rglob("*.py") if p.name != "about.py"
             for line in p.read_text(encoding="utf-8").splitlines()
             if re.search(r"pip install (-e |'?minirl\[)", line)]
    assert not wrong, "\n".join(wrong)


def test_the_extras_name_this_distribution_and_the_course_extra_has_no_ray():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for name, requirements in extras.items():
        for requirement in requirements:
            assert not requirement.startswith("minirl["), f"{name}: {requirement} names another distribution"
    course = " ".join(extras["course"])
    assert "pytest" in course and "jupyterlab" in course and "ray" not in course and "highway" not in course


# ------------------------------------------------------------------------------ the wheel and a learner
def _run(cmd, cwd, **kwargs) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=900,
                          **kwargs)


@pytest.mark.slow
def test_a_learner_takes_the_course_from_the_wheel(tmp_path):
    pytest.importorskip("build", reason="the test extra has `build`")
    from repo_copy import copy_git_files
    source = copy_git_files(tmp_path / "source")
    dist = tmp_path / "dist"
    built = _run([sys.executable, "-m", "build", "--outdir", dist, source], cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = dist.glob("*.whl")
    sdist, = dist.glob("*.tar.gz")
    assert wheel.name.startswith("minirl_numpy-" + minirl.__version__)

    names = zipfile.ZipFile(wheel).namelist()
    course = [n for n in names if n.startswith("minirl/_course/")]
    for lesson in ex.LESSONS:
        assert f"minirl/_course/{lesson.notebook}" in names, lesson.notebook
    assert "minirl/_course/conftest.py" in names and "minirl/_course/pytest.ini" in names
    assert sorted(n for n in course if n.startswith("minirl/_course/tests/")) == sorted(
        f"minirl/_course/tests/exercises/{p.name}" for p in (REPO / "tests" / "exercises").glob("*.py"))
    assert "minirl/py.typed" in names and any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    data = [p for p in (Path(source) / "minirl" / "experiments" / "driving").iterdir() if p.suffix in (".npz", ".json")]
    assert data and all(f"minirl/experiments/driving/{p.name}" in names for p in data), "the driving data ships"
    assert not [n for n in names if n.startswith(("lessons/", "tests/", "notebooks/"))]
    print(f"\nwheel {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB, {len(names)} files, "
          f"{len(course)} of them the course; sdist {sdist.stat().st_size / 1e6:.2f} MB")

    # the sdist's tests collect (its tests are the exercise tests, with their conftest.py)
    with tarfile.open(sdist) as tar:
        tar.extractall(tmp_path / "sdist", filter="data")
    unpacked, = (tmp_path / "sdist").iterdir()
    collected = _run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"], cwd=unpacked)
    assert collected.returncode == 0 and re.search(r"\d+ tests? collected", collected.stdout), collected.stdout[-2000:]

    # a fresh environment outside the repository, the wheel and pytest only
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", venv], cwd=tmp_path).returncode == 0
    installed = _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel, "pytest"], cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    minirl_cmd = venv / "bin" / "minirl"
    work = tmp_path / "learner"
    work.mkdir()
    started = _run([minirl_cmd, "course", "start", "my-course"], cwd=work)
    assert started.returncode == 0, started.stdout + started.stderr
    folder = work / "my-course"
    assert sorted(p.name for p in (folder / "notebooks").glob("*.ipynb")) == sorted(
        p.name for p in (REPO / "notebooks").glob("*.ipynb"))          # the lessons and the appendices
    lesson = ex.get_lesson("03")
    failing = _run([minirl_cmd, "exercises", "check", "03"], cwd=folder)
    assert failing.returncode == 1 and "NotImplementedError: lesson 03: implement" in failing.stdout, \
        failing.stdout[-2000:] + failing.stderr[-2000:]
    stub = folder / lesson.module
    stub.write_text(ex.solved(stub.read_text(encoding="utf-8"), lesson.source.read_text(encoding="utf-8")),
                    encoding="utf-8")
    passing = _run([minirl_cmd, "exercises", "check", "03"], cwd=folder / "notebooks")   # from a sub-folder too
    assert passing.returncode == 0, passing.stdout[-3000:] + passing.stderr[-2000:]
    status = _run([minirl_cmd, "exercises", "status", "--lesson", "03", "--lesson", "01"], cwd=folder)
    assert re.search(r"^03\s+passed", status.stdout, flags=re.M) and re.search(r"^01\s+not started", status.stdout,
                                                                               flags=re.M), status.stdout
    hint = _run([venv / "bin" / "python", "-c", "from minirl.about import install_hint; print(install_hint('box2d'))"],
                cwd=work)
    assert hint.stdout.strip() == "pip install 'minirl-numpy[box2d]'"
