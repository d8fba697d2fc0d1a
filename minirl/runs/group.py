"""A group: runs that differ only by their seed, trained by one stacked learner in one process.

    runs = [open_new_run(folder_s, spec_s) for each seed]      # or open_resumed_run(folder_s)
    codes = train_group(runs)                                  # one exit code per run

A stacked learner (`minirl.algos.stacked`) runs every update once for all S seeds and yields each
seed's row; here each row goes to its own run folder through the same `RunRecorder` a single run
uses. So each folder ends up exactly as its own `minirl train` would leave it: the same config.json,
progress.csv columns and rows (the same numbers: the learner computes each seed's own), checkpoint
(loadable by `minirl eval`, resumable alone by `minirl train --resume`) and summary.json.

| event | each seed's folder |
|---|---|
| the budget is reached | as a single run: end checkpoint, summary `budget` |
| a seed reaches `stop_return` | that seed ends there (`stop_return`); the others go on |
| a seed's loss or gradient is not finite | that seed ends as a single run does on a NaN (`nan`, exit 3, the last good checkpoint kept); the others go on, their numbers unchanged |
| Ctrl-C / SIGTERM | every seed stops after this update with a checkpoint (exit 130 / 143), as a single run |
| more SIGTERMs | nothing (copies of the same request) |
| a second Ctrl-C during an update | every seed stops at once, keeping its last checkpoint |
| a write the disk refuses | `RunWriteError` propagates; every folder keeps its last complete checkpoint and resumes once there is room |
| a NaN from an environment, or any other error | every seed of the group ends with it (`nan` / `error`) |

Time: `time_s` of a seed is its share of the group's training time (each update's seconds divided
by the number of seeds it trained), evaluation excluded, so seconds stay comparable with single
runs: S stacked seeds whose `time_s` add up to the group's time. Evaluations run seed by seed.
"""

from __future__ import annotations

import importlib
import time

from ..algos.registry import ALGOS
from ..memory import training_process
from .driver import EXIT_INTERRUPTED, EXIT_NAN, EXIT_OK, OpenRun, RunRecorder
from .folder import RunWriteError
from .signals import EXIT_CODES, stop_requests

__all__ = ["stacked_class", "stack_problem", "train_group"]


def stacked_class(algo: str):
    """The stacked learner class of `algo` (`minirl.algos.registry.Algo.stacked`), or None."""
    entry = ALGOS[algo]
    if entry.stacked is None:
        return None
    module, _, name = entry.stacked.rpartition(".")
    return getattr(importlib.import_module(module), name)


def stack_problem(algo: str, config, env_id: str | None = None) -> str | None:
    """None if runs of `algo` with `config` (on `env_id`) can be trained as a group, else why not (one phrase)."""
    cls = stacked_class(algo)
    if cls is None:
        return f"{algo} has no stacked learner"
    module = importlib.import_module(cls.__module__)
    return module.stackable(config, env_id)


def train_group(runs: list[OpenRun], *, checkpoint_every_s: float = 60.0) -> list[int]:
    """Train the opened runs (same algorithm, config, task, budget and step count) as one stacked
    learner; each folder is written as a single run writes it (module doc). Returns their exit codes."""
    spec = runs[0].spec
    learner = stacked_class(spec.algo)([r.agent for r in runs])
    seats = {id(r.agent): s for s, r in enumerate(runs)}                # member -> its run's index
    shares = [0.0] * len(runs)                                          # each seed's training seconds
    codes: list[int | None] = [None] * len(runs)
    active: set[int] = set()
    recorders: list[RunRecorder] = []

    def end(s: int, reason: str, code: int, error: str | None = None, hard_stop: bool = False) -> None:
        codes[s] = recorders[s].finish(reason, code, error, hard_stop)
        active.discard(s)

    # Signals are requests from the first checkpoint to the last summary (minirl.runs.signals); only
    # inside the loop may a second Ctrl-C stop at once.
    with training_process(), stop_requests("stopping every seed of the group after this update, "
                                           "with checkpoints") as stop:
        try:
            for s, r in enumerate(runs):
                recorders.append(RunRecorder(r.agent, r.files, r.spec, bookkeeping=r.bookkeeping, append=r.append,
                                             progress=False, checkpoint_every_s=checkpoint_every_s, callback=None,
                                             clock=lambda s=s: shares[s]))
                active.add(s)
            stopped = False
            with stop.armed():
                rows_of_updates = learner.learn_iter(spec.total_steps)
                while active:
                    t0 = time.perf_counter()
                    entries = next(rows_of_updates, None)
                    seconds = time.perf_counter() - t0
                    if entries is None:
                        break
                    for member in learner.members:                      # the update's time, shared out
                        shares[seats[id(member)]] += seconds / len(learner.members)
                    for member, entry in zip(learner.members, entries):
                        s = seats[id(member)]
                        if s not in active or entry is None:
                            continue
                        if isinstance(entry, BaseException):            # this seed diverged: it ends alone
                            end(s, "nan", EXIT_NAN, f"{type(entry).__name__}: {entry}")
                            continue
                        reason = recorders[s].record(entry, stopping=stop.signum is not None)
                        if reason is not None and stop.signum is None:
                            end(s, reason, EXIT_OK)
                    if stop.signum is not None:
                        stopped = True
                        break
                    if active and len(active) < len(learner.members):   # seeds that ended need no more work
                        learner.keep([m for m in learner.members if seats[id(m)] in active])
            for s in sorted(active):
                if stopped:
                    end(s, stop.name, EXIT_CODES[stop.signum])
                else:
                    end(s, "budget", EXIT_OK)
        except KeyboardInterrupt:                       # a second Ctrl-C: every seed keeps its last checkpoint
            for s in sorted(active):
                end(s, "SIGINT", EXIT_INTERRUPTED, hard_stop=True)
        except FloatingPointError as exc:               # not one seed's loss: an environment's NaN, say
            for s in sorted(active):
                end(s, "nan", EXIT_NAN, f"{type(exc).__name__}: {exc}")
        except RunWriteError:                           # the disk refused a write: every folder keeps its last
            raise                                       # checkpoint, resumable once there is room
        except Exception as exc:
            for s in sorted(active):
                recorders[s].fail(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            for r in recorders:
                r.close()
            learner.close()
    return codes
