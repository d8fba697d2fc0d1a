"""Every command a learner is told to type works as written.

The commands are extracted from the learner-facing documents (found on disk or generated from the
lesson registry, so new lessons and notebooks are picked up): README.md, the markdown cells of
notebooks/*.ipynb, and the course folder a learner gets (`minirl course start`): its README.md
and the header comment of every stub, as generated (shown as lessons/README.md and lessons/...py,
their place in a clone). A command is

* every line of a fenced ``sh``/``bash``/``console`` block (a trailing ``# comment`` removed);
* an inline code span of two or more words whose first word is a program a learner runs
  (`PROGRAMS`: ``pytest``, ``minirl``, ``make``, ``python -m``, ``source`` ...);
* a line of a stub's header comment indented by four spaces after the ``#``.

Then each distinct command runs once, in document order, in a fresh copy of the repository (the
files git knows, as they are in the working tree) whose course folder `lessons/` was just made as
`make setup` makes it, with this interpreter's environment on PATH (`.venv` in the copy is a link to
it) and the copy first on PYTHONPATH, so the copy's minirl, tests and lessons/ are the ones used.
With the fresh stubs:

* an exercise run on the learner's code (``pytest --impl lessons -m lessonNN``,
  ``minirl exercises check NN``) must *run and fail*: exit status 1, every selected test failed, and
  each failure is the lesson's own ``NotImplementedError("lesson NN: implement ...")`` (not a usage
  error, not a collection error);
* ``minirl exercises status`` must say "not started" (exit status 1: nothing passed yet);
* the same tests on the reference (``pytest -m lessonNN``) must pass and say loudly that they
  checked the reference;
* everything else must exit 0.

What is not run verbatim, and why (`how_to_run` is the single place that decides):

* ``make test`` / ``make lab`` / ``make setup`` / ``make update``: ``make -n TARGET`` (a dry run: the
  target exists and its recipe parses). ``make test`` is what CI runs, so it cannot run inside itself;
  ``make lab`` starts a server; ``make setup`` would reinstall this environment from the copy;
  ``make update`` pulls from git (tests/test_course_folder.py runs what it does in a scratch clone).
* ``make demo`` (minutes): ``make -n demo`` and ``minirl demo --help``; ``minirl demo`` is
  ``minirl compare`` with its defaults, and README's ``minirl compare`` line is run (fast, below).
* ``minirl compare|rlhf|estimators ...``: the same command with ``--fast`` appended (and
  ``--seeds 1`` for compare and rlhf, ``--total-steps 1000 --jobs 1`` for compare); ``minirl train ...``: with ``--total-steps 2048`` (appended,
  or in place of a larger budget).
* ``minirl SUBCOMMAND`` alone, named in prose ("`minirl train` writes ..."): ``--help`` (it exists).
* ``python benchmarks/...``: ``--help`` only (a run takes minutes and needs the ``bench`` extra).
* ``pip install -e '.[X]'``, ``pip install 'minirl-numpy[X]'``, ``pip install -U minirl-numpy``: the
  distribution is this one and the extra X exists in pyproject.toml (not installed again here;
  tests/test_package.py installs the built wheel in a fresh environment).
* ``ray ...`` and ``minirl ... --ray ...``: not here (a Ray cluster must not run outside a loopback-only
  network namespace); tests/test_sweep_ray.py runs each of them verbatim inside one and checks that
  it runs every such command of the documents.

Placeholders (``DIR``, ``NN``, ``...``) are refused: a document shows a command that runs.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PROGRAMS = ("pytest", "minirl", "make", "python", "python3", "source", "pip", "jupyter", "ray", "cd")
FAST_FLAG = ("compare", "rlhf", "estimators", "driving")
DRY_MAKE = ("test", "lab", "setup", "update")
PLACEHOLDER = re.compile(r"(\.\.\.|…|<[a-z_]+>|\b(?:DIR|NN|PATH|ALGO|ENV_ID|FIELD|VALUE|N|S)\b)")
STUB_FAILURE = re.compile(r"NotImplementedError: lesson (\d\d): implement")   # the first line of a stub's report


@dataclass(frozen=True)
class Command:
    text: str
    where: str          # "README.md:42", for the failure message


# ------------------------------------------------------------------------------------ extraction
def learner_documents(repo: Path = REPO) -> list[Path]:
    """README.md and the notebooks, on disk (the course folder's documents: `course_folder_documents`)."""
    docs = [repo / "README.md"]
    docs += sorted((repo / "notebooks").glob("*.ipynb"))
    return [d for d in docs if d.is_file()]


def course_folder_documents() -> list[tuple[str, str]]:
    """(name, text) of what `minirl course start` writes: its README.md and every stub, as generated."""
    from minirl import exercises
    from minirl.exercises.folder import readme
    docs = [("lessons/README.md", readme())]
    docs += [(f"lessons/{l.module}", exercises.lesson_stub(l)) for l in exercises.LESSONS if exercises.lesson_stub(l)]
    return docs


def _is_command(span: str) -> bool:
    words = span.split()
    if len(words) < 2:
        return False
    first = words[0]
    return first in PROGRAMS or first.startswith(".venv/bin/")


def _from_markdown(text: str, where: str, line0: int = 0) -> list[Command]:
    found, fence = [], None
    for i, line in enumerate(text.splitlines()):
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:].strip().lower()
            continue
        here = f"{where}:{line0 + i + 1}"
        if fence is not None:
            if fence in ("sh", "bash", "console", "shell"):
                cmd = re.sub(r"\s+#.*$", "", stripped).removeprefix("$ ").strip()
                if cmd and not cmd.startswith("#"):
                    found.append(Command(cmd, here))
            continue
        for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", line):
            if _is_command(span):
                found.append(Command(span.strip(), here))
    return found


def _from_stub(text: str, where: str) -> list[Command]:
    found = []
    for i, line in enumerate(text.splitlines()):
        if not line.startswith("#"):
            break
        if line.startswith("#     ") and line[6:].strip():
            found.append(Command(line[6:].strip(), f"{where}:{i + 1}"))
    return found


def extract_commands(repo: Path = REPO) -> list[Command]:
    """Every documented command, in document order (README first, then lessons/README.md, notebooks, stubs)."""
    commands = []
    folder = course_folder_documents()
    for doc in learner_documents(repo):
        name = doc.relative_to(repo).as_posix()
        if doc.suffix == ".md":
            commands += _from_markdown(doc.read_text(encoding="utf-8"), name)
            if name == "README.md":
                commands += _from_markdown(folder[0][1], folder[0][0])
        elif doc.suffix == ".ipynb":
            cells = json.loads(doc.read_text(encoding="utf-8"))["cells"]
            for k, cell in enumerate(cells):
                if cell["cell_type"] == "markdown":
                    commands += _from_markdown("".join(cell["source"]), f"{name} cell {k}")
    for name, text in folder[1:]:
        commands += _from_stub(text, name)
    return commands


def distinct(commands: list[Command]) -> list[Command]:
    seen, out = set(), []
    for c in commands:
        if c.text not in seen:
            seen.add(c.text)
            out.append(c)
    return out


# ------------------------------------------------------------------------------------ how each runs
@dataclass(frozen=True)
class Plan:
    shell: str | None          # what runs in the copy (None: checked statically)
    expect: str                # "ok", "stub-fails", "not-started", "reference-banner", "extra"
    note: str = ""


def how_to_run(text: str) -> Plan:
    """The single place that decides how a documented command is checked (see the module docstring)."""
    words = shlex.split(text)
    if words[0].startswith(".venv/bin/"):
        raise AssertionError(f"spell it without .venv/bin/ (the README activates the environment): {text}")
    if words[:2] == ["python", "-m"] and words[2:3] == ["minirl.exercises"]:
        raise AssertionError(f"spell it `minirl exercises ...`, as everywhere else: {text}")
    if words[0] == "ray" or "--ray" in words:
        return Plan(None, "ray", "run verbatim in a network namespace by tests/test_sweep_ray.py")
    if words[0] == "make":
        target = words[1]
        if target in DRY_MAKE:
            return Plan(f"make -n {target}", "ok", "dry run")
        if target == "demo":
            return Plan("make -n demo && minirl demo --help", "ok", "dry run; its job is `minirl compare`")
        if target in ("site", "site-check"):      # .ci/run runs `make site FAST=1` and `make site-check` for real
            return Plan(f"make -n {' '.join(words[1:])}", "ok", "dry run; .ci/run builds the fast site and checks it")
        return Plan(text, "ok")
    if words[0] == "pip":
        from minirl.about import DISTRIBUTION
        if words[1:3] == ["install", "-e"] and re.fullmatch(r"\.(\[[\w,-]+\])?", words[3] if len(words) > 3 else ""):
            extras = re.findall(r"\[([\w,-]+)\]", words[3])
        elif words[1] == "install" and words[-1].split("[")[0] == DISTRIBUTION and set(words[2:-1]) <= {"-U", "--upgrade"}:
            extras = re.findall(r"\[([\w,-]+)\]", words[-1])
        else:
            raise AssertionError(f"unexpected pip command in a learner document (install {DISTRIBUTION} "
                                 f"or, in a clone, -e '.[extra]'): {text}")
        return Plan(None, "extra:" + (extras[0] if extras else ""), "extra exists in pyproject.toml")
    if words[0] == "cd":
        return Plan(text, "ok", "the folder a command before it made")
    if words[0] in ("python", "python3") and len(words) > 1 and words[1].startswith("benchmarks/"):
        return Plan(f"python {words[1]} --help", "ok", "--help only")
    cli = words[2:] if words[:3] == ["python", "-m", "minirl"] else words[1:] if words[0] == "minirl" else None
    if cli is not None and ("--help" in cli or cli[:1] == ["--help"]):
        return Plan(text, "ok")
    if cli is not None and len(cli) == 1:
        return Plan(text + " --help", "ok", "a sub-command named in prose: it exists")
    if cli is not None and cli:
        if cli[:2] == ["driving", "collect"]:       # highway-env steps at ~20/s: a few dozen real steps
            if "--out" not in cli:
                return Plan(text + " --help", "ok", "named in prose: it exists")
            return Plan(text + " --steps 25", "ok", "--steps 25")
        if cli[0] in FAST_FLAG:
            extra = " --fast"
            if cli[0] in ("compare", "rlhf") and "--seeds" not in cli:
                extra += " --seeds 1"
            if cli[0] == "compare" and "--total-steps" not in cli:
                extra += " --total-steps 1000 --jobs 1"
            return Plan(text + extra, "ok", "--fast, one seed")
        if cli[0] == "demo":
            return Plan("minirl demo --help", "ok", "its job is `minirl compare`, run separately")
        if cli[0] == "train":
            if "--total-steps" not in cli:
                return Plan(text + " --total-steps 2048", "ok", "--total-steps 2048")
            budget = cli[cli.index("--total-steps") + 1]
            if float(budget) > 4096:
                return Plan(text.replace(f"--total-steps {budget}", "--total-steps 2048"), "ok", "--total-steps 2048")
        if cli[:2] == ["exercises", "check"]:
            return Plan(text, "stub-fails")
        if cli[:2] == ["exercises", "status"]:
            return Plan(text, "not-started")
        return Plan(text, "ok")
    if words[0] == "pytest":
        if "--impl" in words:
            return Plan(text, "stub-fails")
        if "-m" in words and re.fullmatch(r"lesson\d\d", words[words.index("-m") + 1]):
            return Plan(text, "reference-banner")
        return Plan(text, "ok")
    if words[0] == "source":
        return Plan(f"{text} && command -v pytest && command -v minirl", "venv")
    raise AssertionError(f"no rule for this documented command (add one to how_to_run): {text}")


# ------------------------------------------------------------------------------------ the fast checks
def test_commands_are_found_in_every_kind_of_document():
    commands = extract_commands()
    sources = {c.where.split(":")[0].split(" cell")[0] for c in commands}
    assert "README.md" in sources and "lessons/README.md" in sources
    assert any("minirl course update" == c.text for c in commands), "the course folder's README says how to update"
    assert any(s.startswith("notebooks/") for s in sources), "no command found in a notebook"
    assert any(s.startswith("lessons/") and s.endswith(".py") for s in sources), "no command in a stub"


def test_every_documented_command_is_concrete_and_has_a_rule():
    problems = []
    for c in extract_commands():
        if PLACEHOLDER.search(c.text):
            problems.append(f"{c.where}: placeholder in `{c.text}` (show a command that runs as written)")
            continue
        try:
            how_to_run(c.text)
        except AssertionError as exc:
            problems.append(f"{c.where}: {exc}")
    assert not problems, "\n".join(problems)


def test_documented_extras_exist():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    for c in extract_commands():
        plan = how_to_run(c.text) if not PLACEHOLDER.search(c.text) else None
        if plan and plan.expect.startswith("extra:"):
            for name in filter(None, plan.expect[len("extra:"):].split(",")):
                assert name in extras, f"{c.where}: `{c.text}` names the extra {name!r}, not in pyproject.toml"


# ------------------------------------------------------------------------------------ running them
def fresh_copy(dest: Path, repo: Path = REPO) -> Path:
    """The files git knows (tracked and new, not ignored), as in the working tree, with .venv linked."""
    from repo_copy import copy_git_files
    copy_git_files(dest, repo)
    (dest / ".venv").symlink_to(BIN.parent, target_is_directory=True)
    return dest


def run_in(copy: Path, shell: str, activated: bool = True) -> subprocess.CompletedProcess:
    """`shell` in bash in the copy; `activated`: this environment's bin/ first on PATH."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "MINIRL_")) and k != "VIRTUAL_ENV"}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if Path(p) != BIN]
    env.update(PATH=os.pathsep.join(([str(BIN)] if activated else []) + path), PYTHONPATH=str(copy),
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(["bash", "-c", shell], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=600)


def check_outcome(command: Command, plan: Plan, proc: subprocess.CompletedProcess, copy: Path) -> str | None:
    """None if `proc` is what `plan.expect` asks for, else what went wrong (one paragraph)."""
    out = proc.stdout + proc.stderr
    tail = "\n    ".join(out.strip().splitlines()[-12:])
    head = f"{command.where}: `{command.text}`"
    if plan.expect == "stub-fails":
        failed = re.search(r"(\d+) failed", out)
        reports = [line for line in out.splitlines() if STUB_FAILURE.match(line)]    # one per failed test
        if (proc.returncode != 1 or not failed or re.search(r"\d+ (passed|errors?)\b", out)
                or len(reports) != int(failed.group(1))):
            return (f"{head} should run the lesson's tests and fail each one with the stub's "
                    f"NotImplementedError (exit 1); got exit {proc.returncode}:\n    {tail}")
        return None
    if plan.expect == "not-started":
        if "not started" not in out:
            return f"{head} should list the lessons as 'not started'; got exit {proc.returncode}:\n    {tail}"
        return None
    if plan.expect == "reference-banner":
        if proc.returncode != 0 or "checked the REFERENCE" not in out:
            return (f"{head} should pass on the reference and say loudly that it tested the reference; "
                    f"got exit {proc.returncode}:\n    {tail}")
        return None
    if plan.expect == "venv":
        paths = proc.stdout.split()
        homes = (str(BIN.parent), str(BIN.parent.resolve()), str(copy / ".venv"))
        if proc.returncode != 0 or len(paths) != 2 or not all(p.startswith(homes) for p in paths):
            return f"{head} should put .venv's pytest and minirl on PATH; got exit {proc.returncode}:\n    {tail}"
        return None
    if proc.returncode != 0:
        return f"{head} (run as `{plan.shell}`) failed with exit {proc.returncode}:\n    {tail}"
    return None


@pytest.mark.slow
def test_every_documented_command_runs_in_a_fresh_copy(tmp_path):
    """Each distinct command once, in document order; all problems are reported together."""
    copy = fresh_copy(tmp_path / "repo")
    made = run_in(copy, "minirl course start lessons")            # what `make setup` does after installing
    assert made.returncode == 0, made.stdout + made.stderr
    problems, ran = [], []
    for command in distinct(extract_commands(copy)):
        if PLACEHOLDER.search(command.text):
            problems.append(f"{command.where}: placeholder in `{command.text}`")
            continue
        try:
            plan = how_to_run(command.text)
        except AssertionError as exc:
            problems.append(f"{command.where}: {exc}")
            continue
        if plan.shell is None:
            continue
        started = time.perf_counter()
        proc = run_in(copy, plan.shell, activated=plan.expect != "venv")
        ran.append(f"{time.perf_counter() - started:6.1f} s  {plan.shell}")
        problem = check_outcome(command, plan, proc, copy)
        if problem:
            problems.append(problem)
    assert ran, "no documented command was run"
    print("\n".join(ran))
    assert not problems, (f"{len(problems)} documented command(s) do not work as written:\n" + "\n".join(problems)
                          + "\n\nwhat ran (seconds, command):\n" + "\n".join(ran))
