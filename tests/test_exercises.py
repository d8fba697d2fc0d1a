"""The exercise mechanism, proved: stubs are current, reach learner code, and a learner's workflow works.

The CI proofs of DESIGN.md ("Tests as exercises"), written against whatever lessons exist: a lesson
takes part once its module (LESSONS table) has solution blocks and tests/exercises/ has its tests.

1. Generating into a temporary directory gives exactly the committed `lessons/` files.
2. On fresh stubs every collected exercise test fails, and every failure is NotImplementedError.
3. A learner's workflow: copy the reference solution into ONE lesson's stub; that lesson's tests
   pass and `status` says so, another lesson's tests still fail.
4. `--impl` at a missing directory fails with the hint to generate the stubs.
5. `--lesson NN` touches only that lesson; a modified learner file is kept unless --force.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from minirl import exercises as ex

REPO = Path(__file__).resolve().parent.parent
EXERCISE_TESTS = REPO / "tests" / "exercises"


def _available() -> list[ex.Lesson]:
    """Lessons with solution blocks in the reference and exercise tests in tests/exercises/."""
    return [l for l in ex.LESSONS
            if ex.lesson_stub(l) is not None and any(EXERCISE_TESTS.glob(f"test_{l.marker}_*.py"))]


AVAILABLE = _available()
needs_one = pytest.mark.skipif(not AVAILABLE, reason="no lesson has solution blocks and exercise tests yet")
needs_two = pytest.mark.skipif(len(AVAILABLE) < 2, reason="needs two lessons with exercise tests")


def _quiet(*_args, **_kwargs) -> None:
    pass


def _run_pytest(tmp_path: Path, *args: str, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, list[dict]]:
    """Run pytest in a subprocess; return the process and one dict per test case from the junit XML."""
    report = tmp_path / f"report-{len(list(tmp_path.glob('report-*.xml')))}.xml"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           f"--junitxml={report}", *args], cwd=cwd, env=env, capture_output=True, text=True)
    cases = []
    if report.is_file():
        for case in ET.parse(report).getroot().iter("testcase"):
            outcome, message = "passed", ""
            for child in case:
                if child.tag in ("failure", "error", "skipped"):
                    outcome = child.tag
                    message = (child.get("message") or "") + "\n" + (child.text or "")
                    break
            cases.append({"name": f"{case.get('classname')}::{case.get('name')}",
                          "outcome": outcome, "message": message})
    return proc, cases


def _lesson_of(case: dict) -> str:
    match = re.search(r"test_lesson(\d\d)_", case["name"])
    assert match, f"exercise test {case['name']} is not in a tests/exercises/test_lessonNN_<topic>.py file"
    return match.group(1)


def _marker_expr(lessons) -> str:
    return " or ".join(l.marker for l in lessons)


def _solve(stub: str, reference: str) -> str:
    """What a learner who copies the reference solution does (`minirl.exercises.solved`)."""
    return ex.solved(stub, reference)


# ------------------------------------------------------------------------------ the generator itself
SAMPLE = textwrap.dedent('''\
    """A sample reference module."""
    from __future__ import annotations

    import numpy as np

    from ..autograd import Tensor
    from . import helpers
    from .helpers import (one,
                          two)


    class Thing:
        def method(self, x):
            y = x + 1
            # BEGIN SOLUTION
            y = y * 2
            # END SOLUTION
            return y

        def outer(self):
            def backward(g):
                # BEGIN SOLUTION
                return g
                # END SOLUTION
            return backward


    def free(x):
        # BEGIN SOLUTION
        return x
        # END SOLUTION
    ''')
SAMPLE_LESSON = ex.Lesson("04", "algos/sample.py", "notebooks/04_ppo.ipynb")


def test_make_stub_replaces_blocks_and_rewrites_imports():
    stub = ex.make_stub(SAMPLE, SAMPLE_LESSON)
    assert "BEGIN SOLUTION" not in stub and "y = y * 2" not in stub
    assert ('        raise NotImplementedError("lesson 04: implement Thing.method, '
            'see notebooks/04_ppo.ipynb")') in stub.splitlines()
    assert ('            raise NotImplementedError("lesson 04: implement Thing.outer.backward, '
            'see notebooks/04_ppo.ipynb")') in stub.splitlines()
    assert '    raise NotImplementedError("lesson 04: implement free, see notebooks/04_ppo.ipynb")' \
        in stub.splitlines()
    assert "from minirl.autograd import Tensor" in stub            # level 2 from minirl/algos/
    assert "from minirl.algos import helpers" in stub
    assert "from minirl.algos.helpers import (one," in stub
    assert "from ." not in stub
    assert stub.startswith("# Lesson 04, your exercise: replace each `raise NotImplementedError(...)`")
    assert "#     minirl exercises check 04\n" in stub
    assert "minirl exercises generate --lesson 04 --force" in stub
    assert "GENERATED" not in stub and "commit" not in stub          # learner-facing: no contributor text
    compile(stub, "stub.py", "exec")                                # still valid Python
    assert ex.make_stub(SAMPLE, SAMPLE_LESSON) == stub              # deterministic


@pytest.mark.parametrize("broken, message", [
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without a"),
    ("def f():\n    # BEGIN SOLUTION\n    # BEGIN SOLUTION\n    # END SOLUTION\n", "cannot nest"),
    ("def f():\n    # BEGIN SOLUTION\n    return 1\n# END SOLUTION\n", "indented"),
    ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION\n", "inside a function"),
])
def test_make_stub_rejects_malformed_blocks(broken, message):
    with pytest.raises(ex.SolutionBlockError, match=message):
        ex.make_stub(broken, SAMPLE_LESSON)


def test_lessons_table_matches_contributing():
    """LESSONS is the table of CONTRIBUTING.md, row for row."""
    text = (REPO / "CONTRIBUTING.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d\d) \| `minirl/([^`]+)` \| `([^`]+)` \|$", text, flags=re.M)
    assert rows, "could not find the lesson table in CONTRIBUTING.md"
    assert [(l.number, l.module, l.notebook) for l in ex.LESSONS] == rows


def test_unknown_lesson_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown lesson '99'"):
        ex.generate(tmp_path, ["99"], log=_quiet)


def test_every_available_stub_is_valid_python_and_keeps_the_rest_of_the_module():
    for lesson in ex.LESSONS:
        stub = ex.lesson_stub(lesson)
        if stub is None:
            continue
        compile(stub, f"lessons/{lesson.module}", "exec")
        reference = lesson.source.read_text(encoding="utf-8")
        n_blocks = len(ex.find_blocks(reference))
        assert stub.count(f'raise NotImplementedError("lesson {lesson.number}: implement ') == n_blocks
        # outside the blocks the stub is the reference, line for line (header and imports aside)
        assert _solve(stub, reference).count("\n") == reference.count("\n") - 2 * n_blocks + ex.HEADER_LINES


# ------------------------------------------------------------------------------ proof 1: stubs are the learner's, not git's
def test_lesson_files_are_not_tracked_and_generation_is_deterministic(tmp_path):
    """The stubs are generated into the learner's course folder (git ignores lessons/), identically each time."""
    tracked = subprocess.run(["git", "ls-files", "lessons"], cwd=REPO, capture_output=True, text=True)
    if tracked.returncode == 0:                       # a git checkout
        assert tracked.stdout == "", ("lessons/ is the learner's course folder: git must not track it "
                                      f"(git rm -r --cached lessons); tracked: {tracked.stdout.split()[:3]}")
        ignored = subprocess.run(["git", "check-ignore", "-q", "lessons/autograd.py"], cwd=REPO)
        assert ignored.returncode == 0, "lessons/ must be in .gitignore, so `git pull` never touches it"
    one, two = tmp_path / "one", tmp_path / "two"
    ex.generate(one, log=_quiet)
    ex.generate(two, log=_quiet)
    files = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert {l.module for l in ex.LESSONS if ex.lesson_stub(l)} <= set(files) and "README.md" in files


# ------------------------------------------------------------------------------ proof 2: tests reach learner code
@pytest.mark.slow
@needs_one
def test_every_exercise_test_fails_on_fresh_stubs_with_not_implemented(tmp_path):
    stubs = tmp_path / "stubs"
    ex.generate(stubs, log=_quiet)
    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), f"--impl={stubs}",
                              "-m", _marker_expr(AVAILABLE))
    assert cases, f"no exercise test was collected:\n{proc.stdout[-3000:]}{proc.stderr[-2000:]}"
    assert {_lesson_of(c) for c in cases} == {l.number for l in AVAILABLE}
    passing = [c["name"] for c in cases if c["outcome"] == "passed"]
    assert not passing, f"these exercise tests pass on a fresh stub, so they never reach the learner's code: {passing}"
    skipped = [c["name"] for c in cases if c["outcome"] == "skipped"]
    assert not skipped, f"these exercise tests are skipped on a fresh stub and prove nothing: {skipped}"
    other = [(c["name"], c["message"].strip().splitlines()[:1]) for c in cases
             if "NotImplementedError" not in c["message"]
             or f"lesson {_lesson_of(c)}: implement" not in c["message"]]
    assert not other, ("these exercise tests fail on a fresh stub for another reason than the "
                       f"NotImplementedError of their own lesson's stub: {other}")


# ------------------------------------------------------------------------------ proof 3: the learner's workflow
@pytest.mark.slow
@needs_one
def test_learner_workflow_one_lesson_solved(tmp_path):
    stubs = tmp_path / "lessons"
    assert ex.main(["generate", "--out", str(stubs)]) == 0
    solved, others = AVAILABLE[0], AVAILABLE[1:]
    path = stubs / solved.module
    path.write_text(_solve(path.read_text(encoding="utf-8"), solved.source.read_text(encoding="utf-8")),
                    encoding="utf-8")

    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), f"--impl={stubs}",
                              "-m", _marker_expr(AVAILABLE))
    assert cases, proc.stdout[-3000:] + proc.stderr[-2000:]
    mine = [c for c in cases if _lesson_of(c) == solved.number]
    assert mine, f"no tests collected for lesson {solved.number}"
    failing = [(c["name"], c["message"][:500]) for c in mine if c["outcome"] != "passed"]
    assert not failing, f"lesson {solved.number} with the reference solution copied in still fails: {failing}"
    rest = [c for c in cases if _lesson_of(c) != solved.number]
    assert all(c["outcome"] in ("failure", "error") for c in rest), \
        [c["name"] for c in rest if c["outcome"] not in ("failure", "error")]
    if others:
        assert rest, "the other lessons' tests were not collected"

    lines = []
    rows = dict(ex.status(stubs, log=lines.append))
    assert rows[solved.number].startswith("passed"), "\n".join(lines)
    for lesson in others:
        assert rows[lesson.number] == "not started", "\n".join(lines)
    for lesson in ex.LESSONS:
        if ex.lesson_stub(lesson) is None:
            assert rows[lesson.number] == "not available yet"


@pytest.mark.slow
@needs_one
def test_every_lesson_passes_with_the_reference_solution_copied_in(tmp_path):
    """Loaded from lessons/ (absolute imports, a fresh module), the solved stubs behave like minirl's."""
    stubs = tmp_path / "lessons"
    ex.generate(stubs, log=_quiet)
    for lesson in AVAILABLE:
        path = stubs / lesson.module
        path.write_text(_solve(path.read_text(encoding="utf-8"), lesson.source.read_text(encoding="utf-8")),
                        encoding="utf-8")
    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), f"--impl={stubs}", "-m", _marker_expr(AVAILABLE))
    assert cases, proc.stdout[-3000:] + proc.stderr[-2000:]
    failing = [(c["name"], c["message"][:300]) for c in cases if c["outcome"] != "passed"]
    assert not failing, f"with the reference solution copied into lessons/, these tests still fail: {failing}"


@pytest.mark.slow
@needs_two
def test_status_reports_a_failing_lesson(tmp_path, capsys):
    stubs = tmp_path / "lessons"
    ex.generate(stubs, log=_quiet)
    lesson = AVAILABLE[1]
    path = stubs / lesson.module
    path.write_text(path.read_text(encoding="utf-8") + "\n# started\n", encoding="utf-8")
    assert ex.main(["status", "--impl", str(stubs), "--lesson", lesson.number]) == 1
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2, table                                   # a header and this lesson only
    assert table[1].startswith(f"{lesson.number}     failed (0/"), table
    assert "NotImplementedError" in table[1], table                 # the first failure, as a hint


# ------------------------------------------------------------------------------ proof 4: the lesson fixture
FIXTURE_TEST = textwrap.dedent('''\
    import minirl.gradcheck

    def test_reference_or_learner(lesson, request):
        m = lesson("gradcheck")
        if request.config.getoption("--impl") == "reference":
            assert m is minirl.gradcheck
        else:
            assert m is not minirl.gradcheck and m.__file__.endswith("gradcheck.py")
            assert m.ANSWER == 42
            assert lesson("gradcheck") is not m          # a fresh module every time
    ''')


@pytest.fixture
def fixture_project(tmp_path):
    """A throwaway test directory that uses this repository's conftest.py (and nothing else)."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "conftest.py", project / "conftest.py")
    (project / "test_fixture.py").write_text(FIXTURE_TEST, encoding="utf-8")
    (project / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")     # rootdir = project
    return project


@pytest.mark.slow
def test_lesson_fixture_reference_and_learner_directory(tmp_path, fixture_project):
    proc, cases = _run_pytest(tmp_path, "-o", "addopts=", cwd=fixture_project)
    assert [c["outcome"] for c in cases] == ["passed"], proc.stdout + proc.stderr
    learner = tmp_path / "mine"
    learner.mkdir()
    (learner / "gradcheck.py").write_text("ANSWER = 42\n", encoding="utf-8")
    proc, cases = _run_pytest(tmp_path, "-o", "addopts=", f"--impl={learner}", cwd=fixture_project)
    assert [c["outcome"] for c in cases] == ["passed"], proc.stdout + proc.stderr


def test_impl_at_a_missing_directory_says_how_to_generate(tmp_path, fixture_project):
    missing = tmp_path / "no_such_lessons"
    proc, cases = _run_pytest(tmp_path, "-o", "addopts=", f"--impl={missing}", cwd=fixture_project)
    assert [c["outcome"] for c in cases] == ["failure"], proc.stdout + proc.stderr
    assert "minirl course start" in cases[0]["message"] and "minirl exercises generate" in cases[0]["message"]
    assert str(missing) in cases[0]["message"]
    assert "Traceback" not in cases[0]["message"]


@pytest.mark.slow
@needs_one
def test_impl_at_a_missing_directory_fails_every_exercise_test_with_the_hint(tmp_path):
    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), "--impl=" + str(tmp_path / "nothing"),
                              "-m", AVAILABLE[0].marker)
    assert cases and all("minirl course start" in c["message"] for c in cases), \
        proc.stdout[-3000:]


# ------------------------------------------------------------------------------ proof 5: reset one lesson, keep work
@needs_two
def test_reset_one_lesson_touches_only_that_lesson_and_keeps_work_without_force(tmp_path, capsys):
    a, b = AVAILABLE[0], AVAILABLE[1]
    ex.generate(tmp_path, log=_quiet)
    fa, fb = tmp_path / a.module, tmp_path / b.module
    fresh_a = fa.read_text(encoding="utf-8")
    fa.write_text(fresh_a + "# my work on a\n", encoding="utf-8")
    fb.write_text(fb.read_text(encoding="utf-8") + "# my work on b\n", encoding="utf-8")
    before_b, mtime_readme = fb.read_text(encoding="utf-8"), (tmp_path / "README.md").stat().st_mtime_ns

    # without --force: nothing is overwritten and the exit status says so
    assert ex.main(["generate", "--out", str(tmp_path), "--lesson", a.number]) == 1
    assert fa.read_text(encoding="utf-8") == fresh_a + "# my work on a\n"
    assert "--force" in capsys.readouterr().out
    assert ex.generate(tmp_path, log=_quiet)["kept"] == [a.number, b.number]
    assert fa.read_text(encoding="utf-8").endswith("# my work on a\n")

    # --lesson A --force: A is fresh again, B and the README are untouched
    assert ex.main(["generate", "--out", str(tmp_path), "--lesson", a.number, "--force"]) == 0
    assert fa.read_text(encoding="utf-8") == fresh_a
    assert fb.read_text(encoding="utf-8") == before_b
    assert (tmp_path / "README.md").stat().st_mtime_ns == mtime_readme

    # a missing file is written again without --force; identical files are not rewritten
    fa.unlink()
    result = ex.generate(tmp_path, log=_quiet)
    assert result["created"] == [a.number] and result["kept"] == [b.number]
    assert fa.read_text(encoding="utf-8") == fresh_a


@needs_two
def test_force_without_a_lesson_keeps_a_copy_of_every_file_it_resets_and_says_where(tmp_path, capsys):
    """Before: `generate --force` without --lesson reset every edited lesson with no copy kept."""
    a, b = AVAILABLE[0], AVAILABLE[1]
    ex.generate(tmp_path, log=_quiet)
    fa, fb = tmp_path / a.module, tmp_path / b.module
    fresh_a, fresh_b = fa.read_text(encoding="utf-8"), fb.read_text(encoding="utf-8")
    fa.write_text(fresh_a + "# my work on a\n", encoding="utf-8")
    assert ex.main(["generate", "--out", str(tmp_path), "--force"]) == 0
    printed = capsys.readouterr().out
    assert fa.read_text(encoding="utf-8") == fresh_a and fb.read_text(encoding="utf-8") == fresh_b
    backups = tmp_path / ".minirl" / "backup"                     # the course folder's one backup place
    copies = list(backups.rglob("*.py"))
    assert len(copies) == 1 and copies[0].read_text(encoding="utf-8").endswith("# my work on a\n")
    assert copies[0].relative_to(backups).parts[1:] == Path(a.module).parts
    assert f"your version is in {copies[0]}" in printed
    assert f"copies of them are in {backups / copies[0].relative_to(backups).parts[0]}" in printed, printed


@needs_one
def test_reset_of_a_single_lesson_without_other_lessons_present(tmp_path):
    a = AVAILABLE[0]
    result = ex.generate(tmp_path, [a.number], log=_quiet)
    assert result["created"] == [a.number]
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.py") if ".minirl" not in p.parts)
    assert written == [a.module]


def test_cli_entry_points_agree(tmp_path):
    """`python -m minirl.exercises` and `minirl exercises` write the same files."""
    one, two = tmp_path / "one", tmp_path / "two"
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    for cmd in ([sys.executable, "-m", "minirl.exercises", "generate", "--out", str(one)],
                [sys.executable, "-m", "minirl", "exercises", "generate", "--out", str(two)]):
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    files = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)
    assert "README.md" in files


# ------------------------------------------------------------------------------ the check helpers
def _helpers():
    sys.path.insert(0, str(EXERCISE_TESTS))
    try:
        import helpers
    finally:
        sys.path.remove(str(EXERCISE_TESTS))
    return helpers


@pytest.mark.parametrize("value, kwargs, message", [
    (np.ones((5, 1)), dict(shape=(5,)), "your reward_to_go returned an array of shape (5, 1), expected (5,)"),
    (np.ones(5, dtype=np.int64), dict(shape=(5,), dtype_kind="f"), "dtype int64, expected a floating-point"),
    ([1.0, 2.0], dict(), "returned a list, expected a NumPy array"),
    (None, dict(), "returned None: did you forget the `return`?"),
    (np.array([1.0, np.nan]), dict(), "NaN or inf"),
])
def test_check_array_says_what_is_wrong(value, kwargs, message):
    with pytest.raises(AssertionError, match=re.escape(message)):
        _helpers().check_array(value, name="reward_to_go", **kwargs)


def test_check_helpers_accept_good_values_and_name_common_slips():
    h = _helpers()
    from minirl.autograd import Tensor
    arr = np.zeros((2, 3))
    assert h.check_array(arr, shape=(2, 3), dtype_kind="f", name="f") is arr
    with pytest.raises(AssertionError, match="returned a Tensor, expected a NumPy array"):
        h.check_array(Tensor(arr), name="f")
    t = Tensor(arr, requires_grad=True) * 2.0
    assert h.check_tensor(t, shape=(2, 3), requires_grad=True, name="f") is t
    with pytest.raises(AssertionError, match="cut from the graph"):
        h.check_tensor(Tensor(arr), requires_grad=True, name="f")
    with pytest.raises(AssertionError, match="expected a single number"):
        h.check_scalar(np.ones(3), name="loss")
    assert h.check_scalar(Tensor(np.array(2.5)), name="loss") == 2.5
    h.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    with pytest.raises(AssertionError, match="exactly half the expected") as info:
        h.assert_close(np.array([0.5, 1.0]), np.array([1.0, 2.0]), name="loss", hint="the 1/2?")
    assert "hint: the 1/2?" in str(info.value)
    with pytest.raises(AssertionError, match="wrong sign"):
        h.assert_close(np.array([-1.0, 2.0]), np.array([1.0, -2.0]))


def test_every_run_says_which_implementation_it_tests(tmp_path, fixture_project):
    """The report header names the code under test, with and without --impl."""
    learner = tmp_path / "mine"
    learner.mkdir()
    (learner / "gradcheck.py").write_text("ANSWER = 42\n", encoding="utf-8")
    for args, expected in (([], "exercises: testing the reference in minirl/ (to test your code in "
                                "lessons/, add --impl lessons)"),
                           ([f"--impl={learner}"], f"exercises: testing your code in {learner}/")):
        proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=",
                               *args], cwd=fixture_project, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert expected in proc.stdout, proc.stdout[:2000]


@pytest.mark.slow
@needs_one
def test_forgetting_impl_ends_with_a_banner_and_a_stub_failure_is_short(tmp_path):
    lesson = AVAILABLE[0]
    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), "-m", lesson.marker)
    assert cases and all(c["outcome"] == "passed" for c in cases), proc.stdout[-2000:]
    assert "these exercise tests checked the REFERENCE in minirl/, NOT your code" in proc.stdout
    assert f"pytest --impl lessons -m {lesson.marker}" in proc.stdout
    stubs = tmp_path / "stubs"
    ex.generate(stubs, log=_quiet)
    proc, cases = _run_pytest(tmp_path, str(EXERCISE_TESTS), f"--impl={stubs}", "-m", lesson.marker)
    assert "REFERENCE" not in proc.stdout and "exercises: these tests checked your code in" in proc.stdout
    first = cases[0]["message"].splitlines()
    assert first[0].startswith(f"NotImplementedError: lesson {lesson.number}: implement ")
    assert any(line.startswith("  not written yet: ") for line in first)
    assert "Traceback" not in cases[0]["message"]


@pytest.mark.slow
@needs_one
def test_check_command_passes_a_solved_lesson_and_fails_a_stub(tmp_path):
    """`minirl exercises check NN`: exit 0 once the lesson is written, 1 on the fresh stub."""
    lesson = AVAILABLE[0]
    stubs = tmp_path / "lessons"
    ex.generate(stubs, [lesson.number], log=_quiet)
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "minirl", "exercises", "check", lesson.number, "--impl", str(stubs)]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 1 and f"NotImplementedError: lesson {lesson.number}: implement" in proc.stdout
    path = stubs / lesson.module
    path.write_text(_solve(path.read_text(encoding="utf-8"), lesson.source.read_text(encoding="utf-8")),
                    encoding="utf-8")
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "exercises: these tests checked your code in" in proc.stdout
    unknown = subprocess.run([sys.executable, "-m", "minirl", "exercises", "check", "99"], cwd=tmp_path,
                             env=env, capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown lesson '99'" in unknown.stderr
