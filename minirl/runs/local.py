"""The local backend: `jobs` worker processes on this machine (`minirl.runs.executor` has the protocol).

    executor = LocalExecutor(jobs=2)
    for outcome in executor.run(fn, {"ppo-s0": (trial0,), "ppo-s1": (trial1,)}): ...

Workers are fresh processes (the "spawn" start method), each with one BLAS thread, in their own
process group where the platform has them, ending with their parent (the protocol module says how
and why).

A stop request reaches the workers through a shared value, not a signal: the parent writes its
signal's number there and each busy worker's trial sees it at its next row (`minirl.runs.signals`,
`source`). A worker also treats SIGTERM and SIGINT sent to it directly (systemd, Slurm and `timeout`
signal every process of the job) as the same one request, at any moment of its life, so however
many copies arrive its trial ends at its next row with a checkpoint. Only a second Ctrl-C to the
parent stops at once: the parent then kills the busy workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import traceback
from multiprocessing.connection import wait
from typing import Callable, Iterator

from .executor import Outcome, TaskQueue, check_retries, default_jobs
from .signals import stop_requests

__all__ = ["LocalExecutor"]


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


def _worker(conn, parent_pid: int, asked) -> None:
    """A worker's main loop: receive (key, fn, args), send back ("ok"|"error", key, value).

    `asked` is the shared value where the parent writes the signal number of its stop request.
    """
    from ..threads import limit_blas_threads
    if hasattr(os, "setpgrp"):
        os.setpgrp()                                     # Ctrl-C in a terminal goes to the parent only
    with stop_requests("stopping this trial after its current update, with a checkpoint",
                       source=lambda: asked.value or None) as stop:
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
            except BaseException as exc:                 # noqa: BLE001  (reported to the parent)
                tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
                reply = ("error", key, f"{type(exc).__name__}: {exc}\n{''.join(tb[-3:])}".strip())
            if not asked.value:
                stop.clear()                             # a request to this worker alone ended its trial
            try:
                conn.send(reply)
            except (BrokenPipeError, OSError):
                return


class _Worker:
    def __init__(self, ctx, asked):
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker, args=(child, os.getpid(), asked), daemon=True)
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
        self.jobs, self.retries = jobs, check_retries(retries)
        self.stopped: str | None = None                  # the signal that stopped the last run(), if any

    def run(self, fn: Callable, tasks: dict[str, tuple]) -> Iterator[Outcome]:
        """Run fn(*args) for every (key, args) in `tasks`; yield an Outcome per task as it finishes.

        `fn` must be importable by name (a module-level function): workers are fresh processes.
        """
        ctx = mp.get_context("spawn")
        asked = ctx.RawValue("i", 0)                     # the stop request's signal number, for the workers
        self.stopped = None
        queue = TaskQueue(tasks, self.retries)
        workers: list[_Worker] = []
        stopping = False
        with stop_requests("finishing the running trials with a checkpoint; no new ones start") as stop, stop.armed():
            try:
                while queue or any(w.key for w in workers):
                    if stop.signum is not None and not stopping:
                        stopping, self.stopped = True, stop.name
                        queue.clear()
                        asked.value = int(stop.signum)           # each busy trial stops at its next row
                    while queue and not stopping:
                        idle = next((w for w in workers if w.key is None), None)
                        if idle is None and len(workers) < min(self.jobs, len(tasks)):
                            idle = _Worker(ctx, asked)
                            workers.append(idle)
                        if idle is None:
                            break
                        key = queue.take()
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
                            workers.remove(w)
                            if stopping and code in (-signal.SIGTERM, -signal.SIGINT):
                                continue           # a stop signal that came before its handler: stopped, not failed
                            error = f"the worker process died (exit code {code})"
                        else:
                            status, _, value = message
                            if status == "ok":
                                yield queue.done(key, value)
                                continue
                            error = value
                        outcome = queue.failed(key, error, stopping)
                        if outcome is not None:
                            yield outcome
            finally:
                hard = sys.exc_info()[0] is not None
                for w in workers:
                    w.stop(kill=hard or w.key is not None)
