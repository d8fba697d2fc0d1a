"""A trial: one `minirl train` run, described by plain data so any backend can run it anywhere.

`minirl sweep` and `minirl compare` both expand their request into trials and give them to an
executor (`minirl.runs.executor`). A trial lives in its own run folder, `ROOT/<name>`:

| folder state | what `run_trial` does |
|---|---|
| empty or missing | starts the run |
| finished (summary says the budget or `stop_return` was reached) | nothing: a finished trial never runs again |
| anything else with a checkpoint (interrupted, killed, NaN, error) | resumes it from its checkpoint |
| a run with other settings | refuses it (`check_folder`), before anything runs |

No shared filesystem is required. On this machine a trial runs in place (`run_trial(trial, root)`).
A remote worker (Ray) calls `run_trial_remote(trial, files)`: it writes the folder's current files
(sent by the driver) into a temporary folder, runs there, and returns every file's bytes; the
driver writes them back with `write_files`. A remote trial that is cut off loses only the work since
the files were last sent, and it resumes from the checkpoint that was sent. `run_trials(executor,
trials, root)` picks the path: remote when the executor says `remote = True` (RayExecutor), in
place otherwise (LocalExecutor); `minirl sweep` and `minirl compare` both go through it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import asdict, dataclass, field

from .folder import RUN_FILES, RunFiles, RunFolderError, finished, read_json_or_none

__all__ = ["Trial", "TrialResult", "folder_state", "check_folder", "is_done", "run_trial", "run_trial_remote",
           "read_files", "write_files", "trial_record", "run_trials", "remove_stale_trial_folders"]


@dataclass(frozen=True)
class Trial:
    """Everything `minirl train` needs, as plain data (picklable, JSON-able)."""

    name: str                              # folder name below the sweep's root, e.g. "ppo-lr=0.001-s3"
    algo: str
    env_id: str
    seed: int
    total_steps: int | None = None         # None: the preset's budget
    overrides: dict = field(default_factory=dict)     # hyperparameter name -> value or text
    eval_every: int | None = None
    eval_episodes: int | None = None
    stop_return: float | None = None

    def spec(self, check_env: bool = True):
        """The run this trial is (`minirl.runs.spec.resolve_run`)."""
        from .spec import resolve_run
        return resolve_run(self.algo, self.env_id, self.seed, overrides=self.overrides,
                           total_steps=self.total_steps, eval_every=self.eval_every,
                           eval_episodes=self.eval_episodes, stop_return=self.stop_return, check_env=check_env)


@dataclass
class TrialResult:
    name: str
    action: str                            # "started", "resumed", "skipped"
    exit_code: int
    summary: dict | None
    warnings: list[str] = field(default_factory=list)
    files: dict[str, bytes] | None = None  # remote trials: the folder's files


def folder_state(folder: str) -> str:
    """"new", "finished" or "unfinished" (see the module doc)."""
    files = RunFiles(folder)
    if not files.is_run():
        return "new"
    return "finished" if finished(read_json_or_none(files.summary)) else "unfinished"


def check_folder(trial: Trial, folder: str, spec=None) -> None:
    """Refuse (RunFolderError, one line) a folder holding a run with settings other than the trial's, or
    one trained past the trial's budget (`spec`: the trial's resolved run, if the caller has it)."""
    if folder_state(folder) == "new":
        return
    info = read_json_or_none(RunFiles(folder).config)
    if info is None:
        raise RunFolderError(f"{folder} holds a run without a readable config.json: remove it or choose another --out")
    spec = spec or trial.spec(check_env=False)
    expected = spec.identity()
    differ = sorted(k for k, v in expected.items() if json.loads(json.dumps(info.get(k))) != json.loads(json.dumps(v)))
    if differ:
        raise RunFolderError(f"{folder} holds a run with other settings ({', '.join(differ)} differ): "
                             "choose another --out, or remove that folder to run it again")
    past = _rows_past(folder, spec.total_steps)
    if past:
        raise RunFolderError(f"{folder} holds a run trained to step {past} (budget {info.get('total_steps')}), past "
                             f"this run's budget of {spec.total_steps} steps, so its curves would not be this run's: "
                             f"give --total-steps {info.get('total_steps')} (or more), or choose another --out")


def _rows_past(folder: str, budget: int) -> int | None:
    """The last logged step if the run went on past the first row at or beyond `budget` (a run with that
    budget stops there: one update may overshoot it), else None."""
    from ..logger import read_csv
    try:
        steps = read_csv(RunFiles(folder).progress).get("step", [])
    except (OSError, ValueError):
        return None
    beyond = [int(s) for s in steps if s >= budget]
    return beyond[-1] if len(beyond) > 1 else None


def is_done(trial: Trial, folder: str) -> bool:
    """The folder holds this trial's run, finished, with no budget left (a larger --total-steps has some)."""
    if folder_state(folder) != "finished":
        return False
    summary = read_json_or_none(RunFiles(folder).summary) or {}
    budget = trial.total_steps if trial.total_steps is not None else summary.get("total_steps")
    return budget is None or (summary.get("final_step") or 0) >= budget


def run_trial(trial: Trial, root: str, progress: bool = False) -> TrialResult:
    """Start, resume or skip `trial` in the folder ROOT/<name> (see the module doc)."""
    from .driver import resume_run, start_run

    folder = os.path.join(root, trial.name)
    state = folder_state(folder)
    spec = trial.spec() if state == "new" else None
    check_folder(trial, folder, spec)
    if is_done(trial, folder):
        return TrialResult(trial.name, "skipped", 0, read_json_or_none(RunFiles(folder).summary))
    with warnings.catch_warnings(record=True) as caught:            # collected, reported once by the caller
        warnings.simplefilter("always")
        if state == "new":
            code = start_run(folder, spec, progress=progress)
            action = "started"
        else:
            code = resume_run(folder, total_steps=trial.total_steps, progress=progress)
            action = "resumed"
    return TrialResult(trial.name, action, code, read_json_or_none(RunFiles(folder).summary),
                       [f"{w.category.__name__}: {w.message}" for w in caught])


def read_files(folder: str) -> dict[str, bytes]:
    """The run files of a folder as name -> bytes (missing files are left out)."""
    out = {}
    for name in RUN_FILES:
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path, "rb") as f:
                out[name] = f.read()
    return out


def write_files(folder: str, files: dict[str, bytes]) -> None:
    """Write run files into `folder`, each atomically (temp file + rename)."""
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        if name not in RUN_FILES:
            raise ValueError(f"write_files: {name!r} is not a run file ({RUN_FILES})")
        tmp = os.path.join(folder, f".{name}.tmp.{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(folder, name))


TRIAL_TEMP = "minirl-trial-"          # + the worker's pid + "-": a remote trial's temporary folder


def remove_stale_trial_folders(folder: str | None = None) -> list[str]:
    """Remove the temporary folders of remote trials whose worker process no longer runs on this machine
    (a killed worker cannot remove its own); return them. `folder`: where to look (the temp folder)."""
    from .folder import remove_where
    from .lockfile import pid_running

    def stale(name: str) -> bool:
        pid = name[len(TRIAL_TEMP):].split("-", 1)[0]
        return name.startswith(TRIAL_TEMP) and pid.isdigit() and not pid_running(int(pid))
    return remove_where(folder or tempfile.gettempdir(), stale, shutil.rmtree)


def run_trial_remote(trial: Trial, files: dict[str, bytes] | None) -> TrialResult:
    """Run `trial` in a temporary folder seeded with `files`; return the result with every file's bytes.
    (The executor's worker has already limited BLAS to one thread: `ray_backend._run_task`.) The folder's
    name carries this process's pid, so that the next trial on the machine removes it if this process is
    killed (`remove_stale_trial_folders`)."""
    remove_stale_trial_folders()
    root = tempfile.mkdtemp(prefix=f"{TRIAL_TEMP}{os.getpid()}-")
    try:
        if files:
            write_files(os.path.join(root, trial.name), files)
        result = run_trial(trial, root)
        result.files = read_files(os.path.join(root, trial.name))
        return result
    finally:
        shutil.rmtree(root, ignore_errors=True)


def trial_record(trial: Trial) -> dict:
    """The trial as JSON-ready data (for sweep manifests)."""
    record = asdict(trial)
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}



def run_trials(executor, trials, root: str):
    """Run `trials` (folders ROOT/<name>) on `executor`; yield (trial, Outcome) as each one ends.

    On an executor with `remote = True` (no shared filesystem: Ray) each task is
    `run_trial_remote(trial, files)` with the folder's current files, and the files it returns are
    written back here before the outcome is yielded (`outcome.value.files` is then dropped). On any
    other executor each task is `run_trial(trial, root)` and writes its folder itself.
    """
    trials = list(trials)
    by_name = {t.name: t for t in trials}
    remote = bool(getattr(executor, "remote", False))
    if remote:
        fn, tasks = run_trial_remote, {t.name: (t, read_files(os.path.join(root, t.name))) for t in trials}
    else:
        fn, tasks = run_trial, {t.name: (t, root) for t in trials}
    for outcome in executor.run(fn, tasks):
        trial = by_name[outcome.key]
        if remote and outcome.ok and outcome.value is not None and outcome.value.files is not None:
            write_files(os.path.join(root, trial.name), outcome.value.files)
            outcome.value.files = None
        yield trial, outcome
