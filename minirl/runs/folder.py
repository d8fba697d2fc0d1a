"""A run folder: the files of one `minirl train` run, written so that nothing can corrupt them.

| file | written | holds |
|---|---|---|
| `config.json` | at the start (atomically) | algo, env id, seed, budget, evaluation settings, every hyperparameter |
| `progress.csv` | one row per update, flushed at once | `step,time_s,episodes,return_mean,eval_return_mean,eval_return_std` + diagnostics |
| `checkpoint.npz` | at the start, periodically, at the end, on a stop request | the agent's state (`minirl.checkpoint`) |
| `summary.json` | at the end, after a stop request, a NaN or an error (atomically) | see `minirl.runs.driver` |
| `.lock` | while a process trains in the folder | that process's pid |

Rules:

* **One process at a time.** A trainer holds an exclusive lock on `.lock` for the run's lifetime
  (`minirl.runs.lockfile`: `flock` on POSIX, `msvcrt.locking` on Windows) and writes its pid there.
  A second trainer (a start into the same folder, or `--resume` while it trains) is refused with
  "DIR is being trained by pid N". The operating system drops the lock when the process dies,
  however it dies, so a stale `.lock` never blocks a resume. A `.lock` that cannot be opened (a
  read-only file, a folder) is named in one line with the fix.
* **Check and create under the lock.** A new run takes the lock first and only then checks that the
  folder is empty, so two starts into one fresh folder cannot both pass the check.
* **Only empty folders become runs.** A folder holding anything else (a run of this command or the
  user's own files) is refused before anything is written into it.
* **Atomic JSON.** JSON files are written to a temporary file and renamed over the old one.
* **No leftovers.** A process killed while writing leaves a temporary file (`TEMP_FILE`); whoever
  takes the lock next removes them (`remove_temp_files`): a start, a resume, a sweep's trial.
* **Writes that fail say where.** A write the disk refuses (full, read-only, quota) raises
  `RunWriteError` naming the file, and the run's other files stay as they were.
"""

from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass

from ..checkpoint import to_jsonable
from ..outputs import check_out_dir
from .lockfile import FileLock, holder, open_error

__all__ = ["RunFiles", "RunFolderError", "RunWriteError", "RunLock", "write_json", "read_json", "read_json_or_none",
           "drop_rows_after", "finished", "writing", "remove_temp_files", "RUN_FILES", "LOCK_NAME", "FINISHED",
           "TEMP_FILE"]

LOCK_NAME = ".lock"
RUN_FILES = ("config.json", "progress.csv", "checkpoint.npz", "summary.json")
# what a killed writer leaves: save_checkpoint's temp file, write_json's, drop_rows_after's, trials.write_files'
TEMP_FILE = re.compile(r"\.checkpoint-[^/]*\.npz\.tmp|\.?(config\.json|progress\.csv|checkpoint\.npz|summary\.json|"
                       r"sweep\.json|failures\.json|report\.csv)\.tmp(\.\d+)?")
LOCK_FILES = (LOCK_NAME, LOCK_NAME + ".held")      # the lock, and its marker where no OS lock exists
FINISHED = ("budget", "stop_return")     # summary.json's stop_reason when a run ended as it was asked to


def finished(summary: dict | None) -> bool:
    """Whether a run's summary.json says it ended as asked (its budget or its stop_return reached)."""
    return isinstance(summary, dict) and summary.get("stop_reason") in FINISHED


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked; the message is one line with the fix."""


class RunWriteError(RunFolderError):
    """A write the disk refused (full, read-only, over quota); the message names the file."""


@contextmanager
def writing(path: str, then: str = ""):
    """Within the block, an OSError becomes RunWriteError naming `path` (`then`: what to do next)."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RunWriteError(f"cannot write {path} ({reason}){': ' + then if then else ''}") from None


def remove_where(folder: str, match, remove=os.remove) -> list[str]:
    """Remove every entry of `folder` whose name `match(name)` accepts (with `remove(path)`); return the names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        if match(name):
            try:
                remove(os.path.join(folder, name))
                removed.append(name)
            except OSError:
                pass
    return removed


def remove_temp_files(folder: str) -> list[str]:
    """Remove the temporary files a killed writer left in `folder` (call it holding the folder's lock)."""
    return remove_where(folder, TEMP_FILE.fullmatch)


@dataclass(frozen=True)
class RunFiles:
    """The paths of a run folder's files."""

    root: str

    def _path(self, name: str) -> str:
        return os.path.join(self.root, name)

    @property
    def config(self) -> str:
        return self._path("config.json")

    @property
    def progress(self) -> str:
        return self._path("progress.csv")

    @property
    def checkpoint(self) -> str:
        return self._path("checkpoint.npz")

    @property
    def summary(self) -> str:
        return self._path("summary.json")

    @property
    def lock(self) -> str:
        return self._path(LOCK_NAME)

    def is_run(self) -> bool:
        """Whether the folder holds a run of `minirl train`: a config.json naming algo, env and config."""
        info = read_json_or_none(self.config)
        return isinstance(info, dict) and all(k in info for k in ("algo", "env_id", "config"))


class RunLock:
    """An exclusive lock on a run folder for this process's lifetime in it (see the module doc)."""

    def __init__(self, files: RunFiles, what: str = "trained"):
        self.files, self.what = files, what
        self._lock = FileLock(files.lock)

    def acquire(self) -> "RunLock":
        try:
            got = self._lock.acquire()
        except OSError as exc:
            raise RunFolderError(open_error(self.files.lock, exc)) from None
        if not got:
            pid = self.holder()
            raise RunFolderError(f"{self.files.root} is being {self.what} by pid {pid or '?'}: wait for it to finish, "
                                 f"or stop it first (kill {pid or 'PID'})")
        try:
            self._lock.write_pid()
        except OSError as exc:
            self._lock.release()
            raise RunFolderError(open_error(self.files.lock, exc)) from None
        return self

    def holder(self) -> int | None:
        """The pid written in the lock file (the current or last holder), if any."""
        return holder(self.files.lock)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> "RunLock":
        return self.acquire() if not self._lock.held else self

    def __exit__(self, *exc) -> None:
        self.release()


def claim_new_folder(root: str) -> RunLock:
    """Create `root` if needed, lock it, and check that it is empty; return the held lock.

    Raises OutputPathError for a path that cannot be written and RunFolderError for a folder that
    already holds a run, the user's files, or another trainer.
    """
    check_out_dir(root)
    files = RunFiles(os.fspath(root))
    had_lock = os.path.exists(files.lock)
    lock = RunLock(files).acquire()
    remove_temp_files(files.root)               # a start killed while writing its first files
    others = sorted(n for n in os.listdir(files.root) if n not in LOCK_FILES)
    if others:
        lock.release()
        if not had_lock:
            os.remove(files.lock)               # leave the user's folder as it was
        if files.is_run():
            raise RunFolderError(f"{root} already holds a run: continue it with `minirl train --resume {root}` "
                                 f"or choose another --out")
        shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
        raise RunFolderError(f"{root} is not empty ({shown}) and is not a minirl run: choose a new or empty "
                             f"folder for --out")
    return lock


def write_json(path: str, obj) -> None:
    """Write JSON atomically (temp file in the same folder + os.replace)."""
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            json.dump(to_jsonable(obj), f, indent=2, sort_keys=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


def read_json_or_none(path: str):
    """The JSON value in `path`, or None when it is missing or unreadable (for looking, not for trusting:
    `read_json` names the file and field when a run's own file is damaged)."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def read_json(path: str, required: dict | None = None) -> dict:
    """A JSON object from `path`; `required` maps field -> type(s) it must have.

    Raises RunFolderError naming the file (and the field) for a missing, empty, truncated or
    ill-typed file.
    """
    if not os.path.exists(path):
        raise RunFolderError(f"{path} is missing: is {os.path.dirname(path) or '.'} a run folder of `minirl train`?")
    try:
        with open(path) as f:
            text = f.read()
        obj = json.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise RunFolderError(f"{path} cannot be read ({exc}): restore it from a backup or start a new run") from None
    except json.JSONDecodeError as exc:
        what = "empty" if not text.strip() else f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        raise RunFolderError(f"{path} is {what}: restore it, or start a new run in another folder") from None
    if not isinstance(obj, dict):
        raise RunFolderError(f"{path} holds a {type(obj).__name__}, not a JSON object: restore it")
    for field, kinds in (required or {}).items():
        if field not in obj:
            raise RunFolderError(f"{path} has no {field!r} field: restore it, or start a new run")
        kinds = kinds if isinstance(kinds, tuple) else (kinds,)
        value = obj[field]
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise RunFolderError(f"{path}: field {field!r} = {value!r} should be {names}: restore it")
    return obj


def drop_rows_after(path: str, step: int) -> int:
    """Keep the header and the rows of `progress.csv` whose step <= `step`; return rows dropped."""
    if not os.path.exists(path):
        return 0
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    if not lines:
        return 0
    header = lines[0].rstrip("\r\n").split(",")
    if "step" not in header:
        return 0
    j = header.index("step")
    keep, dropped = [lines[0]], 0
    for line in lines[1:]:
        cells = line.rstrip("\r\n").split(",")
        try:
            ok = len(cells) == len(header) and float(cells[j]) <= step
        except ValueError:
            ok = False
        if ok:
            keep.append(line if line.endswith("\n") else line + "\n")
        else:
            dropped += 1
    if dropped:
        tmp = path + ".tmp"
        try:
            with open(tmp, "w", newline="") as f:
                f.writelines(keep)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
    return dropped
