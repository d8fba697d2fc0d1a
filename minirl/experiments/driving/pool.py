"""Run independent real-env tasks on a few processes; the same results whatever their number.

highway-env steps at a few dozen steps per second on one core, so the real-env half of `minirl
driving` (baselines, planners, candidate pools, PPO) is spread over `workers` processes. Each task
is a function and its arguments, carries its own seed, and returns plain data: the results do not
depend on the number of workers or on the order in which tasks finish (tests check 1 against 2).

    pool = TaskPool(workers=2)
    first = pool.submit(fn, *args)      # starts at once on a worker
    ...                                 # the main process works meanwhile
    first.get()                         # the result (re-raises the task's exception)
    pool.close()

With `workers=1` every task runs in the calling process when `get` is first called.
"""

from __future__ import annotations

import multiprocessing
import os

__all__ = ["TaskPool", "default_workers"]


def default_workers() -> int:
    """2 on a machine with 2 or more cores, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


class _Deferred:
    """A task run in this process, once, when its result is first asked for."""

    def __init__(self, fn, args, kwargs):
        self._call, self._done, self._value = (fn, args, kwargs), False, None

    def get(self):
        if not self._done:
            fn, args, kwargs = self._call
            self._value, self._done = fn(*args, **kwargs), True
        return self._value


class TaskPool:
    """`submit(fn, *args, **kwargs)` -> an object with `get()`; `close()` when done (or use `with`)."""

    def __init__(self, workers: int = 1):
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
        self.workers = workers
        # fork: the workers inherit the imported modules (highway-env takes seconds to import)
        self._pool = multiprocessing.get_context("fork").Pool(workers) if workers > 1 else None

    def submit(self, fn, *args, **kwargs):
        if self._pool is None:
            return _Deferred(fn, args, kwargs)
        return self._pool.apply_async(fn, args, kwargs)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join()
            self._pool = None

    def terminate(self) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        (self.terminate if exc_type is not None else self.close)()
