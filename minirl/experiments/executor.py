"""Where trials run: the seam between "what to run" (`minirl sweep`, `minirl compare`) and "on what".

A backend runs `fn(*args)` for a list of tasks and reports each outcome as it arrives:

    executor = LocalExecutor(jobs=2)
    for outcome in executor.run(fn, {"ppo-s0": (trial0,), "ppo-s1": (trial1,)}):
        outcome.key, outcome.ok, outcome.value, outcome.error, outcome.attempts

| backend | where | chosen by |
|---|---|---|
| `LocalExecutor(jobs)` | `jobs` worker processes on this machine (default: one per core) | the default |
| `RayExecutor(address)` | Ray tasks with `num_cpus=1` on a Ray cluster (`minirl.experiments.ray_backend`) | `--ray [ADDRESS]` |

Both give every task the same treatment:

* **One BLAS thread per worker** (`minirl.threads`), set before NumPy loads in the worker.
* **Retries.** A task that raises, or whose worker process dies (killed, out of memory), is run once
  more; if it fails again its outcome carries the error and the others go on.
* **Workers end with their parent.** Each local worker asks the kernel for a signal when its parent
  dies (`prctl(PR_SET_PDEATHSIG)` on Linux) and turns it into one SIGTERM to itself (the kernel
  may send it twice: once per exit of a parent thread the worker gets handed to, e.g. tqdm's
  monitor thread, and a second SIGTERM would mean "stop at once"); it checks the parent at every
  task; it runs in its own
  process group, so a terminal's Ctrl-C reaches only the parent, which then asks every busy worker
  to stop (SIGTERM: a `minirl train` trial stops at its next update with a checkpoint) and waits
  for them. A second Ctrl-C kills the workers at once.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import Any, Callable, Iterator

from .signals import stop_requests

__all__ = ["Outcome", "LocalExecutor", "make_executor", "default_jobs"]


@dataclass
class Outcome:
    key: str
    ok: bool
    value: Any = None            # fn's return value when ok
    error: str | None = None     # the last error when not ok
    attempts: int = 1


def default_jobs() -> int:
    """Worker processes by default: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:                               # not Linux
        return max(1, os.cpu_count() or 1)


def _parent_died(signum, frame) -> None:
    """The parent-death signal, however often it comes, becomes one SIGTERM (a trial stops with a checkpoint)."""
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)
    os.kill(os.getpid(), signal.SIGTERM)


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel for a signal when the parent dies (Linux), turned into one SIGTERM; exit if it is already gone."""
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            signal.signal(signal.SIGUSR1, _parent_died)
            libc.prctl(1, signal.SIGUSR1, 0, 0, 0)       # PR_SET_PDEATHSIG = 1
        except OSError:
            pass
    if os.getppid() != parent_pid:
        os._exit(1)


def _worker(conn, parent_pid: int) -> None:
    """A worker's main loop: receive (key, fn, args), send back ("ok"|"error", key, value)."""
    from ..threads import limit_blas_threads
    os.setpgrp()                                         # Ctrl-C in a terminal goes to the parent only
    _die_with_parent(parent_pid)
    limit_blas_threads()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None or os.getppid() != parent_pid:
            return
        key, fn, args = message
        try:
            reply = ("ok", key, fn(*args))
        except BaseException as exc:                     # noqa: BLE001  (reported to the parent)
            tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
            reply = ("error", key, f"{type(exc).__name__}: {exc}\n{''.join(tb[-3:])}".strip())
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(self, ctx):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, os.getpid()), daemon=True)
        self.process.start()
        child.close()
        self.key = None                                  # the task it runs now

    def stop(self, kill: bool = False) -> None:
        if self.process.is_alive():
            if kill:
                self.process.kill()
            else:
                try:
                    self.conn.send(None)
                except OSError:
                    pass
        self.process.join(timeout=None if not kill else 5)
        self.conn.close()


class LocalExecutor:
    """`jobs` worker processes on this machine (see the module doc). `retries`: extra attempts per task."""

    name = "local"
    remote = False               # tasks run on this machine: trials write their folders in place

    def __init__(self, jobs: int | None = None, retries: int = 1):
        jobs = default_jobs() if jobs is None else jobs
        if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
            raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
        if not isinstance(retries, int) or retries < 0:
            raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
        self.jobs, self.retries = jobs, retries
        self.stopped: str | None = None                  # the signal that stopped the last run(), if any

    def run(self, fn: Callable, tasks: dict[str, tuple]) -> Iterator[Outcome]:
        """Run fn(*args) for every (key, args) in `tasks`; yield an Outcome per task as it finishes.

        `fn` must be importable by name (a module-level function): workers are fresh processes.
        """
        ctx = mp.get_context("spawn")
        self.stopped = None
        pending = list(tasks)                            # keys in order
        attempts = {k: 0 for k in tasks}
        workers: list[_Worker] = []
        stopping = False
        with stop_requests("finishing the running trials with a checkpoint; no new ones start") as stop:
            try:
                while pending or any(w.key for w in workers):
                    if stop.signum is not None and not stopping:
                        stopping, self.stopped = True, stop.name
                        pending.clear()
                        for w in workers:
                            if w.key is not None and w.process.is_alive():
                                os.kill(w.process.pid, signal.SIGTERM)
                    while pending and not stopping:
                        idle = next((w for w in workers if w.key is None), None)
                        if idle is None and len(workers) < min(self.jobs, len(tasks)):
                            idle = _Worker(ctx)
                            workers.append(idle)
                        if idle is None:
                            break
                        key = pending.pop(0)
                        attempts[key] += 1
                        idle.key = key
                        idle.conn.send((key, fn, tasks[key]))
                    busy = [w for w in workers if w.key is not None]
                    ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=0.5)
                    for w in busy:
                        message = None
                        if w.conn in ready:
                            try:
                                message = w.conn.recv()
                            except (EOFError, OSError):
                                message = None
                        elif w.process.sentinel not in ready:
                            continue
                        key, w.key = w.key, None
                        if message is None:                       # the worker died mid-task
                            w.stop(kill=True)                         # reaps it: its exit code is known
                            code = w.process.exitcode if w.process.exitcode is not None else "?"
                            error = f"the worker process died (exit code {code})"
                            workers.remove(w)
                        else:
                            status, _, value = message
                            if status == "ok":
                                yield Outcome(key, True, value, None, attempts[key])
                                continue
                            error = value
                        if attempts[key] <= self.retries and not stopping:
                            pending.insert(0, key)                # run it again, first
                        else:
                            yield Outcome(key, False, None, error, attempts[key])
            finally:
                hard = sys.exc_info()[0] is not None
                for w in workers:
                    w.stop(kill=hard or w.key is not None)


def make_executor(jobs: int | None = None, ray: str | None = None, retries: int = 1):
    """The local executor, or a Ray one when `ray` is an address, "auto" or "local" (start one here)."""
    if ray is None:
        return LocalExecutor(jobs, retries=retries)
    from .ray_backend import RayExecutor
    return RayExecutor(ray, retries=retries)
