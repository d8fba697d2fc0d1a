"""The learner's course folder: their lesson files and notebooks, where no update ever overwrites them.

One mechanism for every way of getting the course:

| you have | your course folder | made by |
|---|---|---|
| a clone of the repository | `lessons/` (git ignores it, so `git pull` never touches it) | `make setup` (= `minirl course start lessons`) |
| a pip install (`pip install minirl-numpy`) | any folder | `minirl course start my-course` |

A course folder holds::

    README.md                  how to work the exercises (commands, the lesson table)
    autograd.py, algos/...     your copy of each lesson's module: the stubs you fill in
    notebooks/                 your copies of the lessons' notebooks
    .minirl/course.json        the course version; each notebook as it was copied
    .minirl/fresh/...          each stub as it was written, the base `minirl course update` merges from
    .minirl/backup/...         every file of yours an update or a reset replaced, as it was

`minirl exercises check NN` / `status` find the folder from the working directory (the folder
itself, one of its sub-folders, or a folder holding a `lessons/` course folder), and in a clone
without one they use `<repository>/lessons`. `minirl course update` brings in a newer course
(after `git pull` or `pip install -U minirl-numpy`): a stub you had not touched is replaced, one you
worked on is merged function by function (`minirl.exercises.merge`) and it says which functions'
stubs changed; a notebook whose cells you had not edited is replaced, else the new one is put beside
it as `NN_topic.new.ipynb`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from .lessons import LESSONS, REPO_DIR, CourseFiles, Lesson, course_files, get_lesson, in_clone
from .merge import changed_functions, merge
from .stubs import HEADER_LINES, lesson_stub, why_skipped

__all__ = ["MARK", "is_course_folder", "find_course_folder", "default_course_folder", "course_folder",
           "generate", "start", "update", "readme"]

MARK = ".minirl"
MANIFEST = f"{MARK}/course.json"
FRESH = f"{MARK}/fresh"
BACKUP = f"{MARK}/backup"
NOT_FOUND = ("no course folder here: start one with `minirl course start my-course` and work inside it "
             "(in a clone of the repository: `make setup`)")


def shown(path: Path) -> str:
    """`path` relative to the working directory when it is below it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------------------- finding it
def is_course_folder(path) -> bool:
    return (Path(path) / MANIFEST).is_file()


def find_course_folder(start=None) -> Path | None:
    """The course folder at or above `start` (default: the working directory), or its `lessons/`."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for candidate in (folder, folder / "lessons"):
            if is_course_folder(candidate):
                return candidate
    return None


def default_course_folder() -> Path | None:
    """`find_course_folder()`, else `<repository>/lessons` in a clone (started or not), else None."""
    found = find_course_folder()
    if found is not None:
        return found
    return REPO_DIR / "lessons" if in_clone() else None


def course_folder(path=None) -> Path:
    """`path` if given, else the default course folder; FileNotFoundError (one line) if there is none."""
    if path is not None:
        return Path(path)
    found = default_course_folder()
    if found is None:
        raise FileNotFoundError(NOT_FOUND)
    return found


# ---------------------------------------------------------------------------------------- small file helpers
def _write_if_changed(path: Path, text: str) -> bool:
    """Write `text` to `path` unless it already holds exactly that; True if written."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return True


def _backup(folder: Path, relative: str, stamp: str) -> Path:
    """Copy `folder/relative` to `.minirl/backup/<stamp>/relative`; return the copy's path."""
    target = folder / BACKUP / stamp / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(folder / relative, target)
    return target


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_manifest(folder: Path, manifest: dict) -> None:
    from .. import __version__
    manifest = {"format": 1, "minirl": __version__, **{k: v for k, v in manifest.items()
                                                       if k not in ("format", "minirl")}}
    _write_if_changed(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")


# ---------------------------------------------------------------------------------------- the README
def readme() -> str:
    """The course folder's README.md: how to work, how to update, the lesson table."""
    rows = "".join(f"| {l.number} | `{l.module}` | `{l.notebook}` | `minirl/{l.module}` |\n" for l in LESSONS)
    return f"""\
# Your minirl course

This folder is yours: each lesson's file here is your copy of one minirl module with the heart of
some functions replaced by `raise NotImplementedError("lesson NN: ...")`, and `notebooks/` holds
your copies of the lessons. Work through a lesson's notebook, write the missing code in its file,
and check it with the same tests that check the reference (in this folder, or in the repository
of a clone, with minirl's environment active):

```sh
minirl exercises check 01                       # lesson 01's tests on your autograd.py, with hints
minirl exercises status                         # every lesson: passed / failed / not started
minirl exercises generate --lesson 03 --force   # start lesson 03 again from a fresh stub
minirl course update                            # bring in a newer course, keeping your work
```

Your files import the *reference* minirl for everything else, so each lesson stands on its own. In
a clone, this folder is `lessons/` and `pytest --impl lessons -m lesson01` is the same check run by
pytest itself; `make lab` opens this folder in JupyterLab.

**Updating the course keeps your work.** In a clone run `make update` (`git pull`, which never
touches this folder, then `minirl course update`); after `pip install -U minirl-numpy` run
`minirl course update` here. A lesson file you had not touched becomes the new stub. One you worked
on keeps your functions, takes the rest from the new stub, and the update names the functions whose
stubs changed. A notebook whose cells you had not edited is replaced (its outputs come back when you
run it); else the new version lands beside yours as `NN_topic.new.ipynb`. Whatever an update or a
`--force` reset replaces is copied first into `.minirl/backup/`.

| lesson | your file | notebook | reference |
|---|---|---|---|
{rows}"""


# ---------------------------------------------------------------------------------------- stubs
def _with_header_of(mine: str, stub: str) -> str:
    """`stub` under the comment header of `mine`: the base for a file from before fresh stubs were
    kept (its header may be an older wording; the rest of an untouched one equals the stub)."""
    if not (mine.startswith("# Lesson ") and stub.startswith("# Lesson ")):
        return stub
    return "\n".join(mine.splitlines()[:HEADER_LINES] + stub.splitlines()[HEADER_LINES:]) + "\n"


def _record_fresh(folder: Path, lesson: Lesson, stub: str) -> None:
    _write_if_changed(folder / FRESH / lesson.module, stub)


def generate(out=None, lessons=None, force: bool = False, log=print) -> dict:
    """Write the stubs of `lessons` (numbers; default all) into the course folder `out`.

    `out` defaults to `default_course_folder()`. A missing file is created; one identical to the fresh
    stub is left alone; one that differs (the learner's work) is kept unless `force`, which first
    copies it into `.minirl/backup/<date-time>/` and says where. Returns {"created", "reset",
    "unchanged", "kept", "skipped"}: lists of lesson numbers, and "backup": the backup folder (None
    if nothing was copied).
    """
    out = course_folder(out)
    selected = [get_lesson(n) for n in lessons] if lessons else list(LESSONS)
    result = {key: [] for key in ("created", "reset", "unchanged", "kept", "skipped")}
    result["backup"] = None
    stamp = _stamp()
    for lesson in selected:
        stub = lesson_stub(lesson)
        if stub is None:
            result["skipped"].append(lesson.number)
            log(f"lesson {lesson.number}: skipped ({why_skipped(lesson)})")
            continue
        target = out / lesson.module
        if not target.is_file():
            _write_if_changed(target, stub)
            result["created"].append(lesson.number)
            log(f"lesson {lesson.number}: created {shown(target)}")
        elif target.read_text(encoding="utf-8") == stub:
            result["unchanged"].append(lesson.number)
            log(f"lesson {lesson.number}: {shown(target)} is a fresh stub already")
        elif force:
            saved = _backup(out, lesson.module, stamp)
            _write_if_changed(target, stub)
            result["reset"].append(lesson.number)
            result["backup"] = out / BACKUP / stamp
            log(f"lesson {lesson.number}: reset {shown(target)} to a fresh stub; your version is in {shown(saved)}")
        else:
            result["kept"].append(lesson.number)
            log(f"lesson {lesson.number}: kept {shown(target)}: it differs from a fresh stub (your work?); "
                f"to overwrite it run `minirl exercises generate --lesson {lesson.number} --force`")
            continue
        _record_fresh(out, lesson, stub)
    _write_if_changed(out / "README.md", readme())
    if not is_course_folder(out):
        _write_manifest(out, {})
    return result


# ---------------------------------------------------------------------------------------- notebooks
def _cells_signature(path: Path) -> str | None:
    """A hash of a notebook's cell types and sources (outputs and metadata left out); None if unreadable."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        data = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
                for c in cells]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return hashlib.sha256(json.dumps(data).encode("utf-8")).hexdigest()


def _sync_notebooks(folder: Path, course: CourseFiles, recorded: dict, stamp: str, log) -> dict:
    """Copy the course's notebooks into `folder/notebooks` without losing the learner's edits.

    `recorded` maps a notebook's name to the signature it had when copied. Returns the new record.
    """
    record = dict(recorded)
    for source in sorted(course.notebooks.glob("*.ipynb")):
        target = folder / "notebooks" / source.name
        new = _cells_signature(source)
        relative = f"notebooks/{source.name}"
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            if source.name in recorded:
                log(f"{relative}: copied again (it was missing)")
            elif recorded:                              # an update: a notebook the course did not have
                log(f"{relative}: a new lesson's notebook, copied")
            record[source.name] = new
            continue
        mine = _cells_signature(target)
        if mine == new:
            record[source.name] = new
        elif recorded.get(source.name) is not None and mine == recorded[source.name]:
            saved = _backup(folder, relative, stamp)
            shutil.copyfile(source, target)
            record[source.name] = new
            log(f"{relative}: updated to the new version (you had not edited its cells; "
                f"the old one with its outputs: {shown(saved)})")
        else:
            beside = target.with_name(target.stem + ".new.ipynb")
            shutil.copyfile(source, beside)
            log(f"{relative}: kept yours (you edited its cells); the new version is {shown(beside)}")
    return record


# ---------------------------------------------------------------------------------------- start
def start(dest, log=print) -> Path:
    """Make `dest` a course folder: every lesson's stub, the notebooks, a README (module doc).

    An existing course folder is left as it is. A folder of lesson files from before course
    folders existed (a clone's old `lessons/`) is adopted: its files are kept as your work.
    Any other non-empty folder is refused (FileExistsError, one line).
    """
    dest = Path(dest)
    if is_course_folder(dest):
        log(f"{shown(dest)} is your course folder already: nothing changed "
            f"(`minirl course update` brings in a newer course)")
        return dest
    course = course_files()
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} is a file; give a new folder for your course")
    ours = {l.module for l in LESSONS} | {"README.md"}
    if dest.is_dir():
        foreign = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")
                         if p.is_file() and "__pycache__" not in p.parts
                         and p.relative_to(dest).as_posix() not in ours)
        if foreign:
            raise FileExistsError(f"{dest} is not empty and not a course folder (it holds {foreign[0]}): "
                                  "give a new folder for your course")
        if any(dest.iterdir()):
            log(f"{shown(dest)}: lesson files from before course folders; the ones you edited are kept")
            for lesson in LESSONS:
                target, stub = dest / lesson.module, lesson_stub(lesson)
                if stub and target.is_file() and target.read_text(encoding="utf-8") == _with_header_of(
                        target.read_text(encoding="utf-8"), stub):
                    _write_if_changed(target, stub)          # untouched: today's stub
    counts = generate(dest, log=lambda _line: None)
    record = _sync_notebooks(dest, course, {}, _stamp(), log)
    _write_manifest(dest, {"notebooks": record})
    n_stubs = len(counts["created"]) + len(counts["unchanged"])
    log(f"your course folder: {shown(dest)}: {n_stubs + len(counts['kept'])} lesson files "
        f"({len(counts['kept'])} of them your earlier work), {len(record)} notebooks, README.md")
    return dest


# ---------------------------------------------------------------------------------------- update
def update(folder=None, log=print) -> dict:
    """Bring a newer course into the course folder, keeping the learner's work (module doc).

    Returns {"created", "replaced", "merged", "kept", "unchanged": [lesson numbers],
    "changed": {number: [function names whose stubs changed]}, "conflicts": {number: [names]}}.
    """
    folder = course_folder(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} does not exist: {NOT_FOUND}")
    course = course_files()
    manifest = _read_manifest(folder)
    stamp = _stamp()
    result = {key: [] for key in ("created", "replaced", "merged", "kept", "unchanged")}
    result.update(changed={}, conflicts={})
    for lesson in LESSONS:
        new = lesson_stub(lesson)
        if new is None:
            continue
        target, base_path = folder / lesson.module, folder / FRESH / lesson.module
        old = base_path.read_text(encoding="utf-8") if base_path.is_file() else None
        if old is None and target.is_file():
            old = _with_header_of(target.read_text(encoding="utf-8"), new)
        where = f"lesson {lesson.number} ({shown(target)})"
        changed = changed_functions(old, new) if old is not None and old != new else []
        if changed:
            result["changed"][lesson.number] = changed
        said = f"; the stubs of {', '.join(changed)} changed" if changed else ""
        if not target.is_file():
            _write_if_changed(target, new)
            result["created"].append(lesson.number)
            log(f"{where}: created")
        elif target.read_text(encoding="utf-8") == new:
            result["unchanged"].append(lesson.number)
        elif old is not None and target.read_text(encoding="utf-8") == old:
            _write_if_changed(target, new)
            result["replaced"].append(lesson.number)
            log(f"{where}: not started, so replaced by the new stub{said}")
        elif old == new:
            result["unchanged"].append(lesson.number)
            continue                                   # your work, and the stub has not changed
        else:
            mine = target.read_text(encoding="utf-8")
            outcome = merge(mine, old, new)
            if outcome.text is None:
                pending = folder / MARK / "new" / lesson.module
                _write_if_changed(pending, new)
                result["kept"].append(lesson.number)
                log(f"{where}: kept exactly as it is ({outcome.reason}){said}; the new stub is "
                    f"{shown(pending)}: carry its changes over by hand")
                continue                               # the base stays the stub your file came from
            saved = _backup(folder, lesson.module, stamp)
            _write_if_changed(target, outcome.text)
            result["merged"].append(lesson.number)
            if outcome.conflicts:
                result["conflicts"][lesson.number] = outcome.conflicts
            kept = f"your {', '.join(outcome.kept)} kept" if outcome.kept else "nothing of yours to keep"
            clash = (f"; {', '.join(outcome.conflicts)}: you wrote it and its stub changed, compare "
                     f"with {shown(base_path)}" if outcome.conflicts else "")
            log(f"{where}: merged the new stub, {kept}{said}{clash} (before: {shown(saved)})")
        _write_if_changed(base_path, new)
    _write_if_changed(folder / "README.md", readme())
    record = manifest.get("notebooks")
    if record is not None:
        record = _sync_notebooks(folder, course, record, stamp, log)
    _write_manifest(folder, {**manifest, **({"notebooks": record} if record is not None else {})})
    touched = sum(len(result[k]) for k in ("created", "replaced", "merged", "kept"))
    log(f"course updated in {shown(folder)}: {touched} lesson file(s) touched, "
        f"{len(result['unchanged'])} unchanged" if touched else f"{shown(folder)}: every lesson file is up to date")
    return result
