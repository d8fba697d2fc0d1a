"""The build's one step beyond pyproject.toml: put the course into the wheel.

A learner with `pip install minirl-numpy` gets the course from the package: `minirl course start DIR`
copies the notebooks and writes the stubs, `minirl exercises check NN` runs the exercise tests with
their conftest.py (`minirl.exercises.lessons`). Those files live at the repository's root (where a
clone runs them), so the build copies them into `minirl/_course/`, the same layout, with a pytest.ini
that makes that folder pytest's root. An editable install needs none of it: it reads the repository.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
COURSE = ("conftest.py", "notebooks/*.ipynb", "tests/exercises/*.py")
PYTEST_INI = """\
# The exercise tests of a minirl wheel (`minirl exercises check` runs them with -c this file);
# conftest.py registers the lessons' markers and the --impl option.
[pytest]
addopts = -ra
"""


class build_py_with_course(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "minirl" / "_course"
        for pattern in COURSE:
            found = sorted(ROOT.glob(pattern))
            if not found:
                raise SystemExit(f"setup.py: the course file(s) {pattern} are missing from {ROOT}")
            for source in found:
                dest = target / source.relative_to(ROOT)
                dest.parent.mkdir(parents=True, exist_ok=True)
                self.copy_file(str(source), str(dest))
        (target / "pytest.ini").write_text(PYTEST_INI, encoding="utf-8")


setup(cmdclass={"build_py": build_py_with_course})
