"""Where trials run: the seam between "what to run" (`minirl sweep`, `minirl compare`) and "on what".

A backend runs `fn(*args)` for a list of tasks and reports each outcome as it arrives:

    executor = make_executor(jobs=2)            # minirl.runs.backends: LocalExecutor(2) here
    for outcome in executor.run(fn, {"ppo-s0": (trial0,), "ppo-s1": (trial1,)}):
        outcome.key, outcome.ok, outcome.value, outcome.error, outcome.attempts

| backend | where | chosen by |
|---|---|---|
| `LocalExecutor(jobs)` | `jobs` worker processes on this machine (default: one per core) | the default |
| `RayExecutor(address)` | Ray tasks with `num_cpus=1` on a Ray cluster (`minirl.runs.ray_backend`) | `--ray [ADDRESS]` |

Both give every task the same treatment:

* **One BLAS thread per worker** (`minirl.threads`), set before NumPy loads in the worker.
* **Retries.** A task that raises, or whose worker process dies (killed, out of memory), is run once
  more; if it fails again its outcome carries the error and the others go on.
* **Workers end with their parent.** Each local worker asks the kernel for a signal when its parent
  dies (`prctl(PR_SET_PDEATHSIG)` on Linux) and turns it into a SIGTERM to itself; it checks the
  parent at every task; it runs in its own process group (where the platform has them), so a
  terminal's Ctrl-C reaches only the parent.
* **One stop request.** A stop request to the parent (Ctrl-C, SIGTERM) starts no new task and asks
  every busy local worker to stop its trial at the next update with a checkpoint (a shared value,
  `minirl.runs.local`); a worker that also receives the signal itself (systemd, Slurm and `timeout`
  signal every process of the job) counts it as the same request. A second Ctrl-C kills the
  workers at once. Ray tasks are cancelled (`minirl.runs.ray_backend`).

This module holds what both backends share: `Outcome`, the retry rule (`TaskQueue`) and the
default number of workers. `minirl.runs.local` and `minirl.runs.ray_backend` implement the backends;
`minirl.runs.backends.make_executor` chooses one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

__all__ = ["Outcome", "Executor", "TaskQueue", "default_jobs", "check_retries"]


@dataclass
class Outcome:
    key: str
    ok: bool
    value: Any = None            # fn's return value when ok
    error: str | None = None     # the last error when not ok
    attempts: int = 1


class Executor(Protocol):
    """What `minirl.runs.trials.run_trials` needs of a backend."""

    name: str                    # "local", "ray"
    remote: bool                 # True: no shared filesystem, trials travel with their files
    stopped: str | None          # the signal that stopped the last run(), if any

    def run(self, fn: Callable, tasks: dict[str, tuple]) -> Iterator[Outcome]: ...


def default_jobs() -> int:
    """Worker processes by default: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                               # not Linux
        return max(1, os.cpu_count() or 1)


def check_retries(retries) -> int:
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
    return retries


class TaskQueue:
    """The tasks still to run, in order, and the attempts each has had: the retry rule of both backends.

        queue = TaskQueue(tasks, retries=1)
        key = queue.take()                   # the next task (its attempt counted)
        queue.done(key, value)               # -> Outcome(ok=True)
        queue.failed(key, error, stopping)   # -> None (queued again, first) or the final Outcome

    A task that fails is run again, before the others, while it has retries left and no stop was
    requested; then its Outcome carries the last error.
    """

    def __init__(self, keys, retries: int):
        self.pending = list(keys)
        self.attempts = {k: 0 for k in self.pending}
        self.retries = check_retries(retries)

    def __bool__(self) -> bool:
        return bool(self.pending)

    def take(self) -> str:
        key = self.pending.pop(0)
        self.attempts[key] += 1
        return key

    def clear(self) -> None:
        self.pending.clear()

    def done(self, key: str, value) -> Outcome:
        return Outcome(key, True, value, None, self.attempts[key])

    def failed(self, key: str, error: str, stopping: bool) -> Outcome | None:
        if self.attempts[key] <= self.retries and not stopping:
            self.pending.insert(0, key)                  # run it again, first
            return None
        return Outcome(key, False, None, error, self.attempts[key])
