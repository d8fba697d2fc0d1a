"""The lessons (one module with solution blocks, one notebook each) and where the course's files are.

`LESSONS` is the one registry: the stub generator, the course folder (`minirl course start`), the
checks and the site all read it, so a new lesson is one row here (and its row in CONTRIBUTING.md).

The course's own files (the notebooks, the exercise tests and the `conftest.py` that gives them
`--impl` and the `lesson` fixture) are found by `course_files()`:

| minirl runs from | course files | pytest's configuration |
|---|---|---|
| a clone (editable install) | the repository: `notebooks/`, `tests/exercises/`, `conftest.py` | `pyproject.toml` |
| a wheel (`pip install minirl-numpy`) | `minirl/_course/`, the same layout, copied in by the build (`setup.py`) | `minirl/_course/pytest.ini` |
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Lesson", "LESSONS", "get_lesson", "CourseFiles", "course_files", "PACKAGE_DIR", "REPO_DIR"]

PACKAGE_DIR = Path(__file__).resolve().parent.parent     # .../minirl
REPO_DIR = PACKAGE_DIR.parent                             # the repository, when minirl runs from a clone
PACKAGED_COURSE = PACKAGE_DIR / "_course"                 # what a wheel carries (setup.py copies it in)


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


@dataclass(frozen=True)
class CourseFiles:
    """Where the course's notebooks, exercise tests and their conftest.py are (module doc)."""

    root: Path
    config: Path          # the file pytest reads its configuration from (`pytest -c`)
    in_clone: bool

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    @property
    def tests(self) -> Path:
        return self.root / "tests" / "exercises"


def in_clone() -> bool:
    """True when minirl runs from a clone of its repository (an editable install)."""
    return (REPO_DIR / "pyproject.toml").is_file() and (REPO_DIR / "tests" / "exercises").is_dir()


def course_files() -> CourseFiles:
    """The course's files for this installation; FileNotFoundError (one line) if it carries none."""
    if in_clone():
        return CourseFiles(REPO_DIR, REPO_DIR / "pyproject.toml", True)
    if (PACKAGED_COURSE / "conftest.py").is_file() and (PACKAGED_COURSE / "tests" / "exercises").is_dir():
        return CourseFiles(PACKAGED_COURSE, PACKAGED_COURSE / "pytest.ini", False)
    raise FileNotFoundError(f"this minirl ({PACKAGE_DIR}) carries no course files (notebooks, exercise tests): "
                            "install it from a wheel or sdist of minirl-numpy, or work in a clone of the "
                            "repository")
