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

**Groups.** Trials that differ only by their seed (same algorithm, task, settings, budget and
evaluation) are trained together by the algorithm's stacked learner, one task and one process for
all of them (`run_group`, `minirl.runs.group`), where the algorithm has one and its config allows it
(`minirl.runs.group.stack_problem`). Each keeps its own folder, written exactly as its own run writes
it, and its own result; `stack=False` runs every trial alone. A group is split while there are fewer
tasks than workers, so every worker has one. **Order.** The longest tasks start first (env steps times
the algorithm's rough cost per step, `minirl.algos.registry.Algo.cost`), so the last one to finish
is a short one.
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
           "run_group", "run_unit", "run_unit_remote", "plan_units", "trial_cost", "read_files", "write_files",
           "trial_record", "run_trials", "remove_stale_trial_folders"]


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


def run_group(trials: list[Trial], root: str) -> list[TrialResult]:
    """Start, resume or skip trials that differ only by their seed, the unfinished ones trained together
    by one stacked learner (`minirl.runs.group`); one result per trial, in order."""
    from .driver import open_new_run, open_resumed_run, train_open_run
    from .group import train_group

    results, todo = {}, []
    for t in trials:
        folder = os.path.join(root, t.name)
        state = folder_state(folder)
        spec = t.spec() if state == "new" else None
        check_folder(t, folder, spec)
        if is_done(t, folder):
            results[t.name] = TrialResult(t.name, "skipped", 0, read_json_or_none(RunFiles(folder).summary))
        else:
            todo.append((t, folder, state, spec))
    runs, codes = [], {}
    with warnings.catch_warnings(record=True) as caught:            # collected, reported once by the caller
        warnings.simplefilter("always")
        try:
            for t, folder, state, spec in todo:
                runs.append(open_new_run(folder, spec) if state == "new"
                            else open_resumed_run(folder, total_steps=t.total_steps))
            by_step: dict[int, list[int]] = {}                      # seeds move in lock step: one group per step
            for i, run in enumerate(runs):
                by_step.setdefault(int(run.agent.global_step), []).append(i)
            for members in by_step.values():
                if len(members) == 1:
                    codes[members[0]] = train_open_run(runs[members[0]], progress=False)
                else:
                    codes.update(zip(members, train_group([runs[i] for i in members])))
        finally:
            for run in runs:
                run.close()
    seen = list(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    for i, (t, folder, state, _) in enumerate(todo):
        results[t.name] = TrialResult(t.name, "started" if state == "new" else "resumed", codes[i],
                                      read_json_or_none(RunFiles(folder).summary), list(seen))
    return [results[t.name] for t in trials]


def run_unit(unit: list[Trial], root: str) -> list[TrialResult]:
    """An executor's task: one trial (`run_trial`) or a group of trials (`run_group`)."""
    return [run_trial(unit[0], root)] if len(unit) == 1 else run_group(unit, root)


def trial_cost(trial: Trial) -> float:
    """A rough cost: env steps (the trial's budget, else the preset's) times the algorithm's cost per step."""
    from ..algos.presets import default_total_steps
    from ..algos.registry import ALGOS
    try:
        steps = trial.total_steps if trial.total_steps is not None else default_total_steps(trial.algo, trial.env_id)
        return float(steps) * ALGOS[trial.algo].cost
    except Exception:                      # an invalid trial: it fails properly when it runs
        return 0.0


def _group_key(trial: Trial):
    """What trials of one group share (everything but the name and the seed); None if it cannot be stacked."""
    from .group import stack_problem
    try:
        if stack_problem(trial.algo, trial.spec(check_env=False).config, trial.env_id) is not None:
            return None
    except Exception:                      # an invalid trial runs alone, and fails there with its message
        return None
    return (trial.algo, trial.env_id, trial.total_steps, trial.eval_every, trial.eval_episodes, trial.stop_return,
            json.dumps(trial.overrides, sort_keys=True, default=str))


def plan_units(trials, stack: bool = True, jobs: int = 1) -> list[list[Trial]]:
    """The executor's tasks: one trial each, or (stack) the trials of one group together, split while there
    are fewer tasks than `jobs` workers; the longest first (module doc)."""
    trials = list(trials)
    if not stack:
        units = [[t] for t in trials]
    else:
        groups: dict = {}
        for t in trials:
            key = _group_key(t)
            groups.setdefault(("alone", t.name) if key is None else key, []).append(t)
        units = list(groups.values())
        while len(units) < jobs and any(len(u) > 1 for u in units):
            big = max(units, key=len)
            half = (len(big) + 1) // 2
            units[units.index(big):units.index(big) + 1] = [big[:half], big[half:]]
    return sorted(units, key=lambda u: sum(trial_cost(t) for t in u), reverse=True)


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


def run_unit_remote(unit: list[Trial], files: dict[str, dict[str, bytes]]) -> list[TrialResult]:
    """`run_unit` in a temporary folder seeded with each trial's `files`; every result carries its files.
    (The executor's worker has already limited BLAS to one thread: `ray_backend._run_task`.) The folder's
    name carries this process's pid, so that the next task on the machine removes it if this process is
    killed (`remove_stale_trial_folders`)."""
    remove_stale_trial_folders()
    root = tempfile.mkdtemp(prefix=f"{TRIAL_TEMP}{os.getpid()}-")
    try:
        for t in unit:
            if files.get(t.name):
                write_files(os.path.join(root, t.name), files[t.name])
        results = run_unit(unit, root)
        for t, result in zip(unit, results):
            result.files = read_files(os.path.join(root, t.name))
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)


def run_trial_remote(trial: Trial, files: dict[str, bytes] | None) -> TrialResult:
    """Run `trial` in a temporary folder seeded with `files`; return the result with every file's bytes
    (`run_unit_remote` of one trial)."""
    return run_unit_remote([trial], {trial.name: files or {}})[0]


def trial_record(trial: Trial) -> dict:
    """The trial as JSON-ready data (for sweep manifests)."""
    record = asdict(trial)
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in record.items()}



def run_trials(executor, trials, root: str, stack: bool = True):
    """Run `trials` (folders ROOT/<name>) on `executor`; yield (trial, Outcome) as each one ends.

    Tasks are `plan_units(trials, stack, executor.jobs)`: single trials and groups (module doc); a
    group's trials end together, each with its own Outcome. On an executor with `remote = True` (no
    shared filesystem: Ray) each task is `run_unit_remote(unit, files)` with the folders' current
    files, and the files it returns are written back here before the outcomes are yielded
    (`outcome.value.files` is then dropped). On any other executor each task is `run_unit(unit,
    root)` and writes its folders itself.
    """
    from .executor import Outcome

    units = plan_units(trials, stack, jobs=int(getattr(executor, "jobs", 1) or 1))
    by_key = {u[0].name: u for u in units}
    remote = bool(getattr(executor, "remote", False))
    if remote:
        fn = run_unit_remote
        tasks = {k: (u, {t.name: read_files(os.path.join(root, t.name)) for t in u}) for k, u in by_key.items()}
    else:
        fn, tasks = run_unit, {k: (u, root) for k, u in by_key.items()}
    for outcome in executor.run(fn, tasks):
        unit = by_key[outcome.key]
        if not outcome.ok:
            for trial in unit:
                yield trial, Outcome(trial.name, False, None, outcome.error, outcome.attempts)
            continue
        for trial, result in zip(unit, outcome.value):
            if remote and result.files is not None:
                write_files(os.path.join(root, trial.name), result.files)
                result.files = None
            yield trial, Outcome(trial.name, True, result, None, outcome.attempts)
