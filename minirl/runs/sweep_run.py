"""Running a sweep's trials on an executor: skip what is finished, record what failed, never stop early.

    outcome = run_sweep(out, trials, executor, on_outcome=callback)

* A trial whose folder is finished (`minirl.runs.trials.folder_state`) is not sent at all; an
  interrupted one is resumed from its checkpoint by `run_trial` (or `run_trial_remote` on Ray).
* Each task ends in an `Outcome` (`minirl.runs.executor`): a trial that raised or whose worker
  died was already retried once by the executor. A trial that still failed, or that stopped on a
  NaN (exit code 3), is recorded in OUT/failures.json (name -> error, attempts); the others go on.
  A later successful run of that trial removes its entry, and every run first drops the entries of
  trials that are finished by now (rerun, or finished elsewhere) and of names outside the sweep, so
  failures.json always says what is failed now.
* A stop request (Ctrl-C, SIGTERM) reaches the executor, which stops the running trials with a
  checkpoint and starts no new one; the trials that did not end are counted as `stopped`, and
  rerunning the same command continues them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

from .folder import finished, read_json_or_none
from .trials import Trial, folder_state, is_done, run_trials

__all__ = ["SweepRun", "run_sweep", "read_failures", "FAILURES_NAME", "is_finished", "describe_stopped"]

FAILURES_NAME = "failures.json"


@dataclass
class SweepRun:
    total: int
    skipped: list[str] = field(default_factory=list)       # finished before this run
    done: list[str] = field(default_factory=list)          # finished in this run
    failed: dict[str, str] = field(default_factory=dict)   # name -> error
    stopped: list[str] = field(default_factory=list)       # not ended (a stop request) or interrupted


def read_failures(out: str) -> dict[str, dict]:
    """OUT/failures.json as name -> {"error": str, "attempts": int} ({} if none)."""
    data = read_json_or_none(os.path.join(out, FAILURES_NAME))
    return data if isinstance(data, dict) else {}


def _write_failures(out: str, failures: dict) -> None:
    from .folder import write_json
    path = os.path.join(out, FAILURES_NAME)
    if failures:
        write_json(path, failures)
    elif os.path.exists(path):
        os.remove(path)


def _tidy(folder: str) -> None:
    """Remove a killed writer's temporary files from a finished trial's folder, unless someone holds it."""
    from .folder import RunFiles, RunFolderError, RunLock, remove_temp_files
    try:
        with RunLock(RunFiles(folder)):
            remove_temp_files(folder)
    except RunFolderError:
        pass


def is_finished(folder: str) -> bool:
    """A trial folder whose run reached its budget or its stop_return (`minirl.runs.folder.finished`)."""
    return folder_state(folder) == "finished"


def run_sweep(out: str, trials: list[Trial], executor, on_outcome: Callable | None = None,
              stack: bool = True) -> SweepRun:
    """Run every unfinished trial of the sweep in OUT on `executor` (see the module doc).

    `on_outcome(trial, outcome, status)` is called as each trial ends, status one of "done",
    "failed", "stopped" (e.g. to advance a progress bar). `stack`: the seeds of a setting train
    together where they can (`minirl.runs.trials.run_trials`).
    """
    result = SweepRun(len(trials))
    todo = []
    for t in trials:
        folder = os.path.join(out, t.name)
        if is_done(t, folder):
            result.skipped.append(t.name)
            _tidy(folder)
        else:
            todo.append(t)
    pending = {t.name for t in todo}
    failures = {name: entry for name, entry in read_failures(out).items() if name in pending}
    _write_failures(out, failures)
    ended = set()
    for trial, outcome in run_trials(executor, todo, out, stack=stack):
        ended.add(trial.name)
        code = getattr(outcome.value, "exit_code", None)
        if not outcome.ok or code == 3:                      # raised / worker died twice, or a NaN
            error = outcome.error if not outcome.ok else (getattr(outcome.value, "summary", None) or {}).get(
                "error") or "stopped by a NaN (see its summary.json)"
            result.failed[trial.name] = error
            failures[trial.name] = {"error": error, "attempts": outcome.attempts}
            status = "failed"
        elif code == 0 and finished(outcome.value.summary):
            result.done.append(trial.name)
            failures.pop(trial.name, None)
            status = "done"
        else:                                                # stopped by a signal (exit 130 / 143)
            result.stopped.append(trial.name)
            status = "stopped"
        _write_failures(out, failures)
        if on_outcome is not None:
            on_outcome(trial, outcome, status)
    result.stopped.extend(t.name for t in todo if t.name not in ended)
    return result


def _shown(items: list[str], limit: int = 6) -> str:
    return ", ".join(items[:limit]) + (f" and {len(items) - limit} more" if len(items) > limit else "")


def describe_stopped(out: str, names: list[str], signal_name: str, cancelled=()) -> list[str]:
    """What happened to each trial a stop request cut short, read from its folder: one line per kind.

    Kinds: stopped at its next update with a checkpoint; stopped at once (a second Ctrl-C: the last
    checkpoint kept); ended with its process before a summary (its last checkpoint counts); cancelled
    on Ray (it continues from the files it was sent with); not started.
    """
    kinds: dict[str, list[str]] = {"clean": [], "at_once": [], "killed": [], "cancelled": [], "not_started": []}
    for name in names:
        folder = os.path.join(out, name)
        summary = read_json_or_none(os.path.join(folder, "summary.json")) or {}
        step = summary.get("final_step")
        if name in cancelled:
            kinds["cancelled"].append(f"{name} (from step {step or 0})")
        elif folder_state(folder) == "new":
            kinds["not_started"].append(name)
        elif summary.get("stopped_at_once"):
            kinds["at_once"].append(f"{name} at step {step}")
        elif summary.get("stop_reason") not in ("SIGINT", "SIGTERM"):
            kinds["killed"].append(name)                  # its process ended before it could write a summary
        else:
            kinds["clean"].append(f"{name} at step {step}")
    again = "run the same command again to continue"
    texts = {
        "clean": "stopped at their next update with a checkpoint: {}; " + again + " them from there",
        "at_once": "stopped at once (a second Ctrl-C): each kept its last checkpoint, {}; " + again + " them from there",
        "killed": "ended with their process before writing a summary: {}; " + again + " them from their last "
                  "checkpoint",
        "cancelled": "cancelled on the Ray cluster, losing the work since their files were sent: {}; " + again + " them",
        "not_started": "not started: {}; run the same command again to run them",
    }
    return [f"{signal_name}: {len(items)} trial(s) " + texts[kind].format(_shown(items))
            for kind, items in kinds.items() if items]
