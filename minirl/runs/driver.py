"""The driver behind `minirl train`: train an agent, log and evaluate every update, checkpoint, summarise.

The files of a run folder and the rules that keep them consistent are in
`minirl.runs.folder`; the algorithms in `minirl.algos.registry`; the evaluation protocol
in `minirl.evaluation`. This module runs the loop:

    for row in agent.learn_iter(total_steps):      # one row per update
        if an evaluation is due: row += eval_return_mean, eval_return_std     (K deterministic episodes)
        log the row (flushed); note the first solved step; checkpoint if due
        stop on a stop request (Ctrl-C, SIGTERM), on --stop-return, or at the budget
    checkpoint; write summary.json

Columns every progress row has: `step` (env steps consumed), `time_s` (training seconds: wall-clock
time in this loop, evaluation excluded, carried across resumes), `episodes`, `return_mean` (mean
return of the last 100 finished *training* episodes; NaN before the first), `eval_return_mean` and
`eval_return_std` (the evaluation protocol; NaN in rows where none ran). An evaluation runs at the
first row at or past each multiple of `eval_every` env steps, and at the last row of the budget.

summary.json: `solved_step` / `solved_time_s` (first row whose `return_mean` over a full 100-episode
window reaches the threshold), `solved_eval_step` / `solved_eval_time_s` (first evaluation whose mean
reaches it), `reward_threshold` (the env's, or `minirl.algos.presets.THRESHOLDS`), `final_return_mean`,
`final_eval_return_mean` / `_std` (the last evaluation), `final_step`, `episodes`, `total_time_s`,
`eval_time_s`, `steps_per_s`, `stop_reason` ("budget", "stop_return", "SIGINT", "SIGTERM", "nan",
"error"), `interrupted`, `stopped_at_once` (a second Ctrl-C), `error`.

What is left on disk when things go wrong:

- Ctrl-C or SIGTERM: the run stops at the end of the current update (the agent is consistent between
  two rows), writes a checkpoint of exactly the state of the last logged row, and the summary says
  `interrupted: true`. Exit code 130 (SIGINT) or 143 (SIGTERM); `minirl train --resume DIR`
  continues with the next row. More copies of SIGTERM change nothing (`minirl.runs.signals`). A
  second Ctrl-C during an update stops at once: the checkpoint stays the last one written, rows
  logged after it are dropped, and the summary describes the checkpointed state. Signals arriving
  while the final checkpoint and summary are written are noted and ignored, so the files always agree.
- A write the disk refuses (full, read-only): `RunWriteError` names the file; the checkpoint on disk
  is the last complete one, and `--resume` continues from it once there is room (exit code 1).
- A run that died before its first checkpoint (config.json only): `--resume` starts it again.
- A NaN (a loss, a gradient, an observation or a reward): stop with the cause in summary.json, no new
  checkpoint (the last one is good), exit code 3.
- Any other exception: summary.json records it (`stop_reason: "error"`), then it propagates.
- A hard kill (power loss, `kill -9`): every logged row is on disk and the checkpoint is the last
  complete one; a resume drops rows logged after the checkpoint's step.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..algos.registry import ALGOS, ConfigError, agent_class
from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ..logger import CSVLogger, read_csv
from ..memory import training_process
from ..outputs import OutputPathError
from .folder import (RunFiles, RunFolderError, RunLock, RunWriteError, claim_new_folder, drop_rows_after, read_json,
                     remove_temp_files, write_json, writing)
from .signals import EXIT_CODES, stop_requests
from .spec import CONFIG_FIELDS, RunError, RunSpec, finite_or_none, whole

__all__ = ["WINDOW", "RunError", "RUN_ERRORS", "build_agent", "start_run", "resume_run", "load_run",
           "read_info", "read_progress", "RunFiles", "RunRecorder", "OpenRun", "open_new_run", "open_resumed_run",
           "train_open_run",
           "EXIT_OK", "EXIT_NAN", "EXIT_INTERRUPTED"]

WINDOW = 100          # episodes in the `return_mean` window (the Gymnasium "solved" convention)
EVAL_COLUMNS = ("eval_return_mean", "eval_return_std")

# Exit codes of a run (and of `minirl train`); an interrupted run exits with 128 + the signal number.
EXIT_OK, EXIT_NAN, EXIT_INTERRUPTED = 0, 3, 130


# every error a user's input can cause before or while loading a run: one line, exit code 2
RUN_ERRORS = (RunError, ConfigError, RunFolderError, OutputPathError, CheckpointError)


def build_agent(spec: RunSpec):
    """Construct the agent of a run. (Tests replace this function to inject faults.)"""
    return agent_class(spec.algo)(spec.env_id, spec.config, seed=spec.seed)


def _construct(spec: RunSpec):
    """build_agent, with a bad space or setting reported as a RunError (a gymnasium error passes as is)."""
    try:
        return build_agent(spec)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise RunError(f"cannot train {spec.algo} on {spec.env_id}: {exc}") from exc


def _close(agent) -> None:
    close = getattr(agent, "close", None)
    if close is not None:
        close()


def _fmt(x) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def _recent_mean(agent) -> float:
    returns = list(getattr(agent, "recent_returns", []))
    return float(np.mean(returns)) if returns else math.nan


def _evaluate(agent, env_id: str, episodes: int) -> tuple[float, float]:
    from ..evaluation import evaluate_policy
    returns = evaluate_policy(lambda obs: agent.act(obs, deterministic=True), env_id, episodes)
    return float(returns.mean()), float(returns.std())


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------

class RunRecorder:
    """One run folder's side of training: evaluate, log, note the solved steps, checkpoint, summarise.

    `record(raw)` takes each row the agent yields (the body of the loop in the module doc); `finish`
    writes the end (checkpoint, summary, message) and gives the exit code. The single-run loop
    (`_run_loop`) feeds it one agent's rows; `minirl.runs.group` feeds one recorder per seed of a
    stacked learner. `clock()` gives the training seconds of this session (default: wall-clock time
    since the start, evaluation excluded).
    """

    def __init__(self, agent, files: RunFiles, spec: RunSpec, *, bookkeeping: dict, append: bool, progress: bool,
                 checkpoint_every_s: float, callback: Callable | None, clock: Callable[[], float] | None = None):
        self.agent, self.files, self.spec, self.callback = agent, files, spec, callback
        self.checkpoint_every_s = checkpoint_every_s
        self.book = {"time_s": 0.0, "eval_time_s": 0.0, "solved_step": None, "solved_time_s": None,
                     "solved_eval_step": None, "solved_eval_time_s": None, "next_eval_step": spec.eval_every,
                     "last_eval": None, "row": None, **{k: v for k, v in bookkeeping.items() if v is not None}}
        self.time_offset, self.eval_offset = float(self.book["time_s"]), float(self.book["eval_time_s"])
        self.start_step = int(agent.global_step)
        self.t0 = self.last_ckpt = time.perf_counter()
        self.eval_spent = 0.0                              # seconds of evaluation in this session
        self.clock = clock or (lambda: time.perf_counter() - self.t0 - self.eval_spent)
        self.resume_hint = (f"free some space (or fix the folder), then continue with "
                            f"`minirl train --resume {files.root}`")
        if not append:
            self.checkpoint()                              # a good checkpoint exists from the first second
        self.ckpt_book = dict(self.book)
        with writing(files.progress, self.resume_hint):
            self.logger = CSVLogger(files.progress, append=append)
        self.bar = None
        if progress:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=spec.total_steps, initial=self.start_step, unit="step", unit_scale=True,
                            desc=f"{spec.algo} {spec.env_id} seed {spec.seed}", dynamic_ncols=True,
                            file=sys.stderr, smoothing=0.1)

    def elapsed(self) -> float:
        return self.time_offset + self.clock()

    def checkpoint(self) -> None:
        spec = self.spec
        self.book.update(time_s=self.elapsed(), eval_time_s=self.eval_offset + self.eval_spent, seed=spec.seed)
        with writing(self.files.checkpoint, self.resume_hint):
            save_checkpoint(self.files.checkpoint, self.agent.state_dict(), algo=spec.algo, env_id=spec.env_id,
                            step=int(self.agent.global_step), config=spec.config.to_dict(), extra=self.book)

    def record(self, raw: dict, stopping: bool = False) -> str | None:
        """Log one row (evaluating first if one is due); "stop_return" when the run should end there.
        `stopping`: a stop request came (the end checkpoint follows, so no periodic one)."""
        book, spec, agent = self.book, self.spec, self.agent
        step = int(raw["step"])
        row = {"step": step, "time_s": self.elapsed(), "episodes": int(raw.get("episodes", 0)),
               "return_mean": float(raw.get("return_mean", math.nan)), **dict.fromkeys(EVAL_COLUMNS, math.nan)}
        row.update({k: v for k, v in raw.items() if k not in row})
        if spec.eval_every > 0 and (step >= book["next_eval_step"] or step >= spec.total_steps):
            t_eval = time.perf_counter()
            mean, std = _evaluate(agent, spec.env_id, spec.eval_episodes)
            self.eval_spent += time.perf_counter() - t_eval
            row["eval_return_mean"], row["eval_return_std"] = mean, std
            book["next_eval_step"] = (step // spec.eval_every + 1) * spec.eval_every
            book["last_eval"] = [mean, std]
            if book["solved_eval_step"] is None and spec.threshold is not None and mean >= spec.threshold:
                book["solved_eval_step"], book["solved_eval_time_s"] = step, row["time_s"]
        with writing(self.files.progress, self.resume_hint):
            self.logger.write(row)
        book["row"] = row
        ret = row["return_mean"]
        full = row["episodes"] >= WINDOW and math.isfinite(ret)
        if book["solved_step"] is None and spec.threshold is not None and full and ret >= spec.threshold:
            book["solved_step"], book["solved_time_s"] = step, row["time_s"]
        if self.bar is not None:
            self.bar.total = max(self.bar.total, step)            # the last update can overshoot the budget
            self.bar.update(step - self.bar.n)
            last = book["last_eval"]
            self.bar.set_postfix_str(f"return {_fmt(ret)} ({row['episodes']} ep)"
                                     + (f", eval {_fmt(last[0])}" if last else ""), refresh=False)
        if self.callback is not None:
            self.callback(agent, row)
        if stopping:
            return None
        if time.perf_counter() - self.last_ckpt >= self.checkpoint_every_s:
            self.checkpoint()
            self.ckpt_book = dict(book)
            self.last_ckpt = time.perf_counter()
        if spec.stop_return is not None and full and ret >= spec.stop_return:
            return "stop_return"
        return None

    def close(self) -> None:
        self.logger.close()
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def fail(self, error: str) -> None:
        """An unexpected exception: record it in summary.json (the caller raises it again)."""
        self.close()
        try:
            _write_summary(self.files, self.spec, self.book, None, "error", error, self.time_offset,
                           self.start_step, self.elapsed())
        except RunWriteError:
            pass                                           # the error itself matters more

    def finish(self, stop_reason: str, code: int, error: str | None = None, hard_stop: bool = False) -> int:
        """Close the log, then checkpoint (unless the agent may be mid-update), summarise and say how it ended."""
        self.close()
        files, agent = self.files, self.agent
        if hard_stop:                                      # the agent may be mid-update: keep the last checkpoint
            self.book = book = self.ckpt_book
            dropped = drop_rows_after(files.progress, int(book["row"]["step"]) if book["row"] else 0)
            print(f"stopped at once: kept the checkpoint at step {book['row']['step'] if book['row'] else 0}"
                  f"{f' and dropped {dropped} row(s) logged after it' if dropped else ''}", file=sys.stderr)
        elif code != EXIT_NAN:
            self.checkpoint()                              # the end state (also after a stop request)
        book = self.book
        consistent = not hard_stop and code != EXIT_NAN   # else the agent may be ahead of its last row
        _write_summary(files, self.spec, book, agent if consistent else None, stop_reason, error, self.time_offset,
                       self.start_step, self.elapsed() if not hard_stop else book["time_s"], at_once=hard_stop)
        step = int(agent.global_step) if consistent else int(book["row"]["step"]) if book["row"] else 0
        if code in EXIT_CODES.values():
            print(f"{stop_reason}: stopped at step {step}; log, checkpoint and summary agree. Continue with "
                  f"`minirl train --resume {files.root}`", file=sys.stderr)
        elif code == EXIT_NAN:
            print(f"training stopped at step {step}: {error}. No checkpoint was written after it: "
                  f"{files.checkpoint} holds the last good state. Try a smaller learning rate "
                  "(--set learning_rate=...) or gradient clipping.", file=sys.stderr)
        return code


def _run_loop(agent, files: RunFiles, spec: RunSpec, *, bookkeeping: dict, append: bool, progress: bool,
              checkpoint_every_s: float, callback: Callable | None) -> int:
    """Iterate `agent.learn_iter`, evaluating, logging, checkpointing and summarising. Returns an exit code."""
    with stop_requests("stopping after this update, with a checkpoint") as stop:
        # Signals are requests from here to the end, final files included (minirl.runs.signals); only
        # inside the loop may a second Ctrl-C stop at once.
        recorder = RunRecorder(agent, files, spec, bookkeeping=bookkeeping, append=append, progress=progress,
                               checkpoint_every_s=checkpoint_every_s, callback=callback)
        stop_reason, error, code, hard_stop = "budget", None, EXIT_OK, False
        try:
            with stop.armed():
                for raw in agent.learn_iter(spec.total_steps):
                    reason = recorder.record(raw, stopping=stop.signum is not None)
                    if stop.signum is not None:
                        stop_reason, code = stop.name, EXIT_CODES[stop.signum]
                        break
                    if reason is not None:
                        stop_reason = reason
                        break
        except KeyboardInterrupt:                      # a second Ctrl-C, or an interrupt we did not catch
            stop_reason, code, hard_stop = "SIGINT", EXIT_INTERRUPTED, True
        except FloatingPointError as exc:
            stop_reason, code, error = "nan", EXIT_NAN, f"{type(exc).__name__}: {exc}"
        except RunWriteError:                          # the disk refused a write: the files on it stay as they were
            raise
        except Exception as exc:                       # a bug or a broken env: record it, then let it show
            recorder.fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            recorder.close()
        return recorder.finish(stop_reason, code, error, hard_stop)


def _write_summary(files, spec: RunSpec, book, agent, stop_reason, error, time_offset, start_step,
                   total_time, at_once: bool = False) -> None:
    """summary.json from the bookkeeping (and the agent's counters, unless it is mid-update: None)."""
    row = book.get("row") or {}
    step = int(agent.global_step) if agent is not None else int(row.get("step", 0))
    last_eval = book.get("last_eval") or [None, None]
    summary = {
        "algo": spec.algo, "env_id": spec.env_id, "seed": spec.seed,
        "solved_step": book["solved_step"], "solved_time_s": book["solved_time_s"],
        "solved_eval_step": book["solved_eval_step"], "solved_eval_time_s": book["solved_eval_time_s"],
        "reward_threshold": spec.threshold,
        "final_return_mean": _recent_mean(agent) if agent is not None else row.get("return_mean"),
        "final_eval_return_mean": last_eval[0], "final_eval_return_std": last_eval[1],
        "final_step": step,
        "episodes": int(getattr(agent, "episodes", 0)) if agent is not None else int(row.get("episodes", 0)),
        "total_time_s": total_time, "eval_time_s": book.get("eval_time_s"),
        "steps_per_s": step / total_time if total_time > 0 else None,
        "session_steps_per_s": (step - start_step) / (total_time - time_offset)
        if total_time > time_offset else None,
        "stop_reason": stop_reason, "interrupted": stop_reason in ("SIGINT", "SIGTERM"), "stopped_at_once": at_once,
        "error": error,
        "total_steps": spec.total_steps, "stop_return": spec.stop_return,
        "eval_every": spec.eval_every, "eval_episodes": spec.eval_episodes,
    }
    if row:
        summary["last_row"] = row
    with writing(files.summary, f"continue with `minirl train --resume {files.root}` once it can be written"):
        write_json(files.summary, summary)


# ----------------------------------------------------------------------------------------------
# Start, resume, load
# ----------------------------------------------------------------------------------------------

@dataclass
class OpenRun:
    """A run folder ready to train in: its agent (built, or loaded from the checkpoint), files, spec,
    bookkeeping from the checkpoint ({} for a new run), and the folder's lock. `close()` releases both."""

    agent: object
    files: RunFiles
    spec: RunSpec
    bookkeeping: dict
    append: bool                 # a resumed run appends to its progress.csv
    lock: RunLock

    def close(self) -> None:
        try:
            _close(self.agent)
        finally:
            self.lock.release()


def open_new_run(out_dir: str, spec: RunSpec) -> OpenRun:
    """Build the agent of `spec`, claim the new or empty folder `out_dir`, write config.json."""
    agent = _construct(spec)                            # fails early on a bad env or space
    try:
        lock = claim_new_folder(out_dir)
    except BaseException:
        _close(agent)
        raise
    run = OpenRun(agent, RunFiles(os.fspath(out_dir)), spec, {}, False, lock)
    if not spec.used_preset:
        print(f"no {spec.algo} preset for {spec.env_id}: using the generic defaults "
              f"(override them with --set name=value)", file=sys.stderr)
    try:
        with writing(run.files.config, f"free some space (or fix the folder), then remove {run.files.root} and "
                                       "start again"):
            write_json(run.files.config, spec.info())
    except BaseException:
        run.close()
        raise
    return run


def start_run(out_dir: str, spec: RunSpec, *, progress: bool = True, checkpoint_every_s: float = 60.0,
              callback: Callable | None = None) -> int:
    """Start the run `spec` (`minirl.runs.spec.resolve_run`) in `out_dir` (new or empty).

    Returns an exit code; bad input raises one of RUN_ERRORS.
    """
    checkpoint_every_s = _check_checkpoint_every(checkpoint_every_s)
    run = open_new_run(out_dir, spec)
    try:
        return train_open_run(run, progress=progress, checkpoint_every_s=checkpoint_every_s, callback=callback)
    finally:
        run.close()


def train_open_run(run: OpenRun, *, progress: bool = True, checkpoint_every_s: float = 60.0,
                   callback: Callable | None = None) -> int:
    """Train an opened run (new or resumed) to its end; the exit code. (The caller closes it.)"""
    with training_process():                           # minirl.memory: no number changes
        return _run_loop(run.agent, run.files, run.spec, bookkeeping=run.bookkeeping, append=run.append,
                         progress=progress, checkpoint_every_s=checkpoint_every_s, callback=callback)


def _check_checkpoint_every(value) -> float:
    value = finite_or_none("--checkpoint-every", value)
    if value is None or value < 0:
        raise RunError(f"--checkpoint-every must be >= 0 seconds, got {value}")
    return value


def read_info(run_dir: str) -> dict:
    """config.json of a run folder, checked field by field (RunFolderError names the file and field)."""
    files = RunFiles(os.fspath(run_dir))
    if not os.path.isdir(files.root):
        raise RunFolderError(f"{run_dir} is not a folder: give the --out folder of a `minirl train` run")
    info = read_json(files.config, CONFIG_FIELDS)
    try:
        RunSpec.from_info(info)
    except ConfigError:
        raise RunFolderError(f"{files.config}: field 'algo' = {info['algo']!r} is not one of "
                             f"{sorted(ALGOS)}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise RunFolderError(f"{files.config}: the saved config is not valid for {info['algo']}: "
                             f"{str(exc).strip(chr(34))}") from None
    return info


def load_run(run_dir: str):
    """Rebuild the agent of a run folder from `config.json` and `checkpoint.npz`.

    Returns (agent, info, checkpoint); call `agent.close()` when done (it may hold environments).
    A missing or bad config.json raises RunFolderError, a missing, corrupt or mismatched checkpoint
    CheckpointError, each naming the file.
    """
    files = RunFiles(os.fspath(run_dir))
    info = read_info(run_dir)
    spec = RunSpec.from_info(info)
    agent = _construct(spec)
    try:
        ckpt = load_checkpoint(files.checkpoint, algo=spec.algo, env_id=spec.env_id, expected=agent.state_dict(),
                               any_shape=getattr(agent, "VARIABLE_SHAPE", ("recent_returns",)))
        try:
            agent.load_state_dict(ckpt.state)
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{files.checkpoint}: the agent refused it: {exc}") from exc
    except BaseException:
        _close(agent)
        raise
    return agent, info, ckpt


def open_resumed_run(run_dir: str, *, total_steps: int | None = None, stop_return: float | None = None) -> OpenRun:
    """Lock the run in `run_dir`, load its agent from the checkpoint, note a new budget or stop_return
    in config.json, and drop progress rows logged after the checkpoint. A run without a checkpoint
    opens as a new run from step 0 with its saved settings (`_reopen_without_checkpoint`)."""
    files = RunFiles(os.fspath(run_dir))
    read_info(run_dir)                                  # a clear error before taking the lock
    stop_return = finite_or_none("--stop-return", stop_return)
    if total_steps is not None:
        total_steps = whole("--total-steps", total_steps, 1)
    lock = RunLock(files).acquire()
    try:
        remove_temp_files(files.root)                   # left by a process killed while writing
        if not os.path.exists(files.checkpoint):
            return _reopen_without_checkpoint(files, lock, total_steps, stop_return)
        agent, info, ckpt = load_run(run_dir)
    except BaseException:
        lock.release()
        raise
    run = OpenRun(agent, files, RunSpec.from_info(info), ckpt.extra, True, lock)
    try:
        if total_steps is not None:
            info["total_steps"] = total_steps
        if stop_return is not None:
            info["stop_return"] = stop_return
        with writing(files.config):
            write_json(files.config, info)
        run.spec = RunSpec.from_info(info)
        with writing(files.progress):
            dropped = drop_rows_after(files.progress, ckpt.step)
        if dropped:
            print(f"resume: dropped {dropped} row(s) of progress.csv logged after the checkpoint "
                  f"(step {ckpt.step})", file=sys.stderr)
        if int(agent.global_step) >= info["total_steps"]:
            print(f"resume: the run is already at step {agent.global_step} of {info['total_steps']}; "
                  "pass a larger --total-steps to train further", file=sys.stderr)
    except BaseException:
        run.close()
        raise
    return run


def _reopen_without_checkpoint(files: RunFiles, lock: RunLock, total_steps, stop_return) -> OpenRun:
    """A run that stopped before its first checkpoint (the lock is held): open it again from step 0 with its
    saved settings, or refuse (one line) if it logged rows, which no checkpoint backs."""
    try:
        rows = len(read_csv(files.progress).get("step", [])) if os.path.exists(files.progress) else 0
    except (OSError, ValueError):
        rows = 1
    if rows:
        raise RunFolderError(f"{files.root} has progress rows but no checkpoint.npz, so it cannot be continued: "
                             f"remove the folder (rm -r {files.root}) and start the run again")
    info = read_info(files.root)
    if total_steps is not None:
        info["total_steps"] = total_steps
    if stop_return is not None:
        info["stop_return"] = stop_return
    spec = RunSpec.from_info(info)
    agent = _construct(spec)
    run = OpenRun(agent, files, spec, {}, False, lock)
    try:
        print(f"resume: {files.root} has no checkpoint (the run stopped before its first one): starting it "
              "again from step 0 with its saved settings", file=sys.stderr)
        with writing(files.config):
            write_json(files.config, info)
        for name in (files.progress, files.summary):
            if os.path.exists(name):
                os.remove(name)
    except BaseException:
        _close(agent)                                   # the caller releases the lock
        raise
    return run


def resume_run(run_dir: str, *, total_steps: int | None = None, stop_return: float | None = None,
               progress: bool = True, checkpoint_every_s: float = 60.0,
               callback: Callable | None = None) -> int:
    """Continue the run in `run_dir` from its checkpoint, appending to its progress.csv.

    A run that stopped before its first checkpoint (a crash or a full disk right after config.json
    was written) starts again from step 0 with its saved settings: nothing of it was kept.
    """
    read_info(run_dir)                                  # a clear error before anything else
    checkpoint_every_s = _check_checkpoint_every(checkpoint_every_s)
    run = open_resumed_run(run_dir, total_steps=total_steps, stop_return=stop_return)
    try:
        return train_open_run(run, progress=progress, checkpoint_every_s=checkpoint_every_s, callback=callback)
    finally:
        run.close()


def read_progress(run_dir: str) -> dict[str, np.ndarray]:
    """A run's progress.csv as column -> array (see `minirl.logger.read_csv`)."""
    return read_csv(RunFiles(os.fspath(run_dir)).progress)
