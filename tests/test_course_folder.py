"""The learner's course folder: started anywhere, found from where the learner works, updated without
losing their work, and out of git's way in a clone (`minirl.exercises.folder`, `merge`).

1. `merge`: the learner's functions are carried into a newer stub; a clash or an edit outside the
   exercise functions is reported, never resolved by dropping work.
2. `start` / `update` on a folder: untouched stubs are replaced, worked ones merged (the update names
   the functions whose stubs changed), every replaced file is backed up; notebooks likewise.
3. The course folder is found from its sub-folders and from a folder holding `lessons/`.
4. A clone with a learner's edited lesson file pulls a later commit of the course, keeps the work,
   and `minirl course update` brings the new stub in (two commits in a scratch repository).
5. `make lab` as root: the recipe passes Jupyter's `--allow-root` for root only, and JupyterLab, when
   installed (the course extra), starts as root with it and refuses without it.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from minirl import exercises as ex
from minirl.exercises import folder as course
from minirl.exercises.merge import changed_functions, merge

REPO = Path(__file__).resolve().parent.parent


def _quiet(*_args, **_kwargs) -> None:
    pass


# ------------------------------------------------------------------------------ 1. the merge
STUB = textwrap.dedent('''\
    # Lesson 03, your exercise: ...
    import numpy as np


    def helper(x):
        return x + 1


    def first(x):
        """The first exercise."""
        raise NotImplementedError("lesson 03: implement first, see notebooks/03_reinforce.ipynb")


    def second(x):
        """The second exercise."""
        raise NotImplementedError("lesson 03: implement second, see notebooks/03_reinforce.ipynb")
    ''')


def test_merge_keeps_the_learners_function_and_takes_the_new_stub_elsewhere():
    mine = STUB.replace('raise NotImplementedError("lesson 03: implement first, see notebooks/03_reinforce.ipynb")',
                        "return 2 * x")
    new = STUB.replace('"""The second exercise."""', '"""The second exercise, clearer."""').replace(
        "return x + 1", "return x + 2")
    out = merge(mine, STUB, new)
    assert out.text is not None and out.kept == ["first"] and out.conflicts == []
    assert "return 2 * x" in out.text                       # the learner's work
    assert "The second exercise, clearer." in out.text      # the new stub's exercise
    assert "return x + 2" in out.text                       # the new stub's other code
    compile(out.text, "merged.py", "exec")
    assert changed_functions(STUB, new) == ["helper", "second"]


def test_merge_reports_a_clash_and_keeps_the_learners_version():
    mine = STUB.replace('raise NotImplementedError("lesson 03: implement first, see notebooks/03_reinforce.ipynb")',
                        "return 2 * x")
    new = STUB.replace('"""The first exercise."""', '"""The first exercise, now with a hint."""')
    out = merge(mine, STUB, new)
    assert out.text is not None and out.conflicts == ["first"] and "return 2 * x" in out.text


@pytest.mark.parametrize("mine, reason", [
    (STUB.replace("import numpy as np", "import numpy as np\nimport math"), "outside the exercise functions"),
    (STUB + "def broken(:\n", "not valid Python"),
])
def test_merge_refuses_what_it_cannot_do_safely(mine, reason):
    out = merge(mine, STUB, STUB.replace("return x + 1", "return x + 2"))
    assert out.text is None and reason in out.reason


def test_changed_functions_names_the_innermost_function():
    old = "class T:\n    def exp(self):\n        def backward(g):\n            return g\n        return backward\n"
    new = old.replace("return g", "return 2 * g")
    assert changed_functions(old, new) == ["T.exp.backward"]


# ------------------------------------------------------------------------------ 2. start and update
def _lesson(number="03") -> ex.Lesson:
    return ex.get_lesson(number)


def _pretend_the_course_was_older(folder: Path, lesson: ex.Lesson, function: str) -> str:
    """Make `.minirl/fresh/` (and the untouched file) an older stub in which `function`'s docstring differed."""
    stub = ex.lesson_stub(lesson)
    pattern = re.compile(rf"(def {re.escape(function)}\(.*?\"\"\")", re.S)
    older = pattern.sub(lambda m: m.group(1) + "(an older wording) ", stub, count=1)
    assert older != stub, f"could not find the docstring of {function}"
    for path in (folder / course.FRESH / lesson.module, folder / lesson.module):
        path.write_text(older, encoding="utf-8")
    return older


def test_start_makes_a_course_folder_and_refuses_a_foreign_one(tmp_path):
    lines = []
    made = ex.start(tmp_path / "my-course", log=lines.append)
    for lesson in ex.LESSONS:
        if ex.lesson_stub(lesson):
            assert (made / lesson.module).read_text(encoding="utf-8") == ex.lesson_stub(lesson)
            assert (made / course.FRESH / lesson.module).is_file()
    notebooks = sorted(p.name for p in (made / "notebooks").glob("*.ipynb"))
    assert notebooks == sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert "minirl exercises check 01" in (made / "README.md").read_text(encoding="utf-8")
    assert json.loads((made / course.MANIFEST).read_text())["minirl"] == __import__("minirl").__version__
    assert ex.start(made, log=lines.append) == made and "nothing changed" in lines[-1]
    other = tmp_path / "thesis"
    other.mkdir()
    (other / "chapter1.tex").write_text("...", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not empty and not a course folder"):
        ex.start(other, log=_quiet)


def test_update_replaces_untouched_stubs_merges_worked_ones_and_names_the_changes(tmp_path):
    made = ex.start(tmp_path / "c", log=_quiet)
    untouched, worked = _lesson("03"), _lesson("04")
    _pretend_the_course_was_older(made, untouched, "gae")
    older = _pretend_the_course_was_older(made, worked, "value_loss")
    mine = older.replace('raise NotImplementedError("lesson 04: implement approx_kl, see notebooks/04_ppo.ipynb")',
                         "return 0.0  # my approx_kl")
    assert mine != older
    (made / worked.module).write_text(mine, encoding="utf-8")

    lines = []
    result = ex.update(made, log=lines.append)
    text = "\n".join(lines)
    assert result["replaced"] == ["03"] and result["merged"] == ["04"], text
    assert result["changed"] == {"03": ["gae"], "04": ["value_loss"]}, text
    assert (made / untouched.module).read_text(encoding="utf-8") == ex.lesson_stub(untouched)
    merged = (made / worked.module).read_text(encoding="utf-8")
    assert "return 0.0  # my approx_kl" in merged and "(an older wording)" not in merged
    assert "value_loss" in text and "approx_kl kept" in text
    backups = list((made / course.BACKUP).rglob(Path(worked.module).name))
    assert [b.read_text(encoding="utf-8") for b in backups] == [mine]
    assert ex.update(made, log=lines.append)["merged"] == []          # a second update has nothing to do


def test_update_keeps_a_file_it_cannot_merge_and_says_where_the_new_stub_is(tmp_path):
    made = ex.start(tmp_path / "c", log=_quiet)
    lesson = _lesson("03")
    older = _pretend_the_course_was_older(made, lesson, "gae")
    mine = older + "\nMY_CONSTANT = 3   # outside any exercise\n"
    (made / lesson.module).write_text(mine, encoding="utf-8")
    lines = []
    result = ex.update(made, log=lines.append)
    assert result["kept"] == ["03"] and (made / lesson.module).read_text(encoding="utf-8") == mine
    pending = made / course.MARK / "new" / lesson.module
    assert pending.read_text(encoding="utf-8") == ex.lesson_stub(lesson)
    assert any("gae" in line and "outside the exercise functions" in line for line in lines), lines


def test_update_of_notebooks_replaces_unedited_ones_and_puts_new_versions_beside_edited_ones(tmp_path):
    made = ex.start(tmp_path / "c", log=_quiet)
    manifest = json.loads((made / course.MANIFEST).read_text())
    untouched, edited = sorted(manifest["notebooks"])[:2]
    for name in (untouched, edited):                     # the course's notebooks were older when copied
        older = (REPO / "notebooks" / name).read_text(encoding="utf-8").replace("Lesson", "Lesson (old)", 1)
        (made / "notebooks" / name).write_text(older, encoding="utf-8")
        manifest["notebooks"][name] = course._cells_signature(made / "notebooks" / name)
    (made / course.MANIFEST).write_text(json.dumps(manifest))
    mine = json.loads((made / "notebooks" / edited).read_text())
    mine["cells"][0]["source"] = ["a learner's note\n"]
    (made / "notebooks" / edited).write_text(json.dumps(mine))

    lines = []
    ex.update(made, log=lines.append)
    assert (made / "notebooks" / untouched).read_text() == (REPO / "notebooks" / untouched).read_text()
    assert list((made / course.BACKUP).rglob(untouched)), "the replaced notebook was not backed up"
    assert json.loads((made / "notebooks" / edited).read_text())["cells"][0]["source"] == ["a learner's note\n"]
    beside = made / "notebooks" / (Path(edited).stem + ".new.ipynb")
    assert beside.read_text() == (REPO / "notebooks" / edited).read_text(), lines


def test_reset_with_force_backs_up_the_learners_file(tmp_path):
    made = ex.start(tmp_path / "c", log=_quiet)
    lesson = _lesson("03")
    (made / lesson.module).write_text("# my work\n", encoding="utf-8")
    assert ex.generate(made, ["03"], force=True, log=_quiet)["reset"] == ["03"]
    assert [p.read_text() for p in (made / course.BACKUP).rglob("returns.py")] == ["# my work\n"]


# ------------------------------------------------------------------------------ 3. finding the folder
def test_the_course_folder_is_found_from_inside_it_and_from_its_parent(tmp_path, monkeypatch):
    made = ex.start(tmp_path / "lessons", log=_quiet)
    for where in (made, made / "notebooks", tmp_path):
        monkeypatch.chdir(where)
        assert ex.find_course_folder() == made.resolve()
    monkeypatch.chdir(made / "notebooks")
    module = ex.load_lesson("03")
    assert Path(module.__file__).resolve() == (made / "returns.py").resolve()


# ------------------------------------------------------------------------------ 4. git pull keeps the work
def _git(cwd: Path, *args: str) -> str:
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org")
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc.stdout


def _minirl(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(clone), OMP_NUM_THREADS="1", PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "minirl", *args], cwd=clone, env=env, capture_output=True,
                          text=True)


@pytest.mark.slow
def test_a_clone_pulls_a_later_course_and_keeps_the_learners_work(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    from repo_copy import copy_git_files
    upstream = copy_git_files(tmp_path / "upstream")
    _git(upstream, "init", "-q", "-b", "main")
    _git(upstream, "add", "-A")
    _git(upstream, "commit", "-q", "-m", "the course, first version")

    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(upstream), str(clone))
    started = _minirl(clone, "course", "start", "lessons")          # what `make setup` runs
    assert started.returncode == 0, started.stderr
    lesson = _lesson("03")
    mine_path = clone / "lessons" / lesson.module
    stub_raise = 'raise NotImplementedError("lesson 03: implement discounted_returns, see notebooks/03_reinforce.ipynb")'
    mine = mine_path.read_text(encoding="utf-8").replace(stub_raise, "return None  # my discounted_returns")
    assert "my discounted_returns" in mine
    mine_path.write_text(mine, encoding="utf-8")

    # upstream: a later commit changes the lesson's reference (gae's docstring) and its notebook
    reference = upstream / "minirl" / lesson.module
    text = reference.read_text(encoding="utf-8")
    changed = re.sub(r'(def gae\(.*?""")', lambda m: m.group(1) + "(Reworded.) ", text, count=1, flags=re.S)
    assert changed != text
    reference.write_text(changed, encoding="utf-8")
    notebook = upstream / lesson.notebook
    notebook.write_text(notebook.read_text(encoding="utf-8").replace("REINFORCE", "REINFORCE (v2)", 1), encoding="utf-8")
    _git(upstream, "commit", "-q", "-am", "the course, second version")

    _git(clone, "pull", "-q", "--ff-only")                         # git never touches lessons/
    assert mine_path.read_text(encoding="utf-8") == mine
    assert _git(clone, "status", "--porcelain") == ""

    updated = _minirl(clone, "course", "update")
    assert updated.returncode == 0, updated.stdout + updated.stderr
    merged = mine_path.read_text(encoding="utf-8")
    assert "return None  # my discounted_returns" in merged and "(Reworded.)" in merged
    assert "gae" in updated.stdout and "discounted_returns kept" in updated.stdout, updated.stdout
    assert "REINFORCE (v2)" in (clone / "lessons" / lesson.notebook).read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ 5. make lab as root
def _lab_line(user_id: str) -> str:
    """The command `make lab` would run for a user of this id (a dry run: nothing is installed or started)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    proc = subprocess.run(["make", "-n", "lab", f"USER_ID={user_id}"], cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    line, = [line for line in proc.stdout.splitlines() if " lab" in line and "jupyter" in line]
    return line


def test_make_lab_passes_allow_root_for_root_only():
    assert _lab_line("0").endswith("jupyter lab --allow-root")
    assert "--allow-root" not in _lab_line("1000")
    mine = subprocess.run(["make", "-n", "lab"], cwd=REPO, capture_output=True, text=True).stdout
    assert ("--allow-root" in mine) == (os.geteuid() == 0)          # the default asks `id -u`


def _start_lab(folder: Path, *flags: str) -> tuple[bool, str]:
    """Start JupyterLab in `folder` on a free loopback port; (whether its server came up, what it printed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(folder / ".jupyter"), JUPYTER_DATA_DIR=str(folder / ".data"),
               JUPYTER_RUNTIME_DIR=str(folder / ".runtime"))
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", *flags, "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0"]
    proc = subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()

    def read() -> None:                                   # readline blocks: a thread feeds a queue we can time out on
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=read, daemon=True).start()
    printed, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            except queue.Empty:
                break
            if line is None:                              # it exited
                break
            printed.append(line)
            if f"http://127.0.0.1:{port}/lab" in line:      # the URL it prints once the server listens
                return True, "".join(printed)
        return False, "".join(printed)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_jupyterlab_starts_as_root_with_the_flag_make_lab_passes(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("not root: `make lab` passes no flag, and Jupyter needs none")
    if not (Path(sys.executable).parent / "jupyter-lab").exists():
        pytest.skip("JupyterLab is not installed here (the course extra has it; `make setup` installs it)")
    flag = _lab_line("0").split("jupyter lab", 1)[1].split()
    refused, printed = _start_lab(tmp_path)
    assert not refused and "--allow-root" in printed, printed[-2000:]   # why make lab passes the flag
    started, printed = _start_lab(tmp_path, *flag)
    assert started, printed[-2000:]
