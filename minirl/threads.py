"""One BLAS thread per process: minirl's matrices are small, and more threads only add overhead.

A 64 x 64 matrix product takes microseconds; OpenBLAS or MKL threads spin up, synchronise and
compete with minirl's own worker processes for the same cores. Measured on the 2-core machine: two
`minirl compare` workers with default BLAS threads drove the load to 4 and took more than twice
as long. So every process minirl starts keeps BLAS at one thread, in two ways:

* `set_thread_env()` sets `OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, `MKL_NUM_THREADS` (and friends)
  to the limit *before NumPy is imported* (BLAS reads them when it loads). `import minirl` calls it
  politely (a variable the user already set wins), so a program that imports minirl before NumPy
  is covered.
* `limit_blas_threads()` sets the variables for good (worker processes inherit them) and changes the
  thread count of a BLAS that is already loaded, through threadpoolctl (a small pure-Python
  package). The command line (`minirl ...`) and every worker process call it.

`MINIRL_BLAS_THREADS=N` raises the limit (e.g. for a large network on a machine of its own).
"""

from __future__ import annotations

import os

__all__ = ["blas_thread_limit", "set_thread_env", "limit_blas_threads", "THREAD_VARIABLES"]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
                    "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def blas_thread_limit() -> int:
    """The limit: MINIRL_BLAS_THREADS if set (an integer >= 1), else 1."""
    text = os.environ.get("MINIRL_BLAS_THREADS", "1")
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"MINIRL_BLAS_THREADS={text!r} must be an integer >= 1") from None
    if value < 1:
        raise ValueError(f"MINIRL_BLAS_THREADS={text!r} must be an integer >= 1")
    return value


def set_thread_env(force: bool = False) -> None:
    """Set the BLAS thread variables (only those not set yet, unless `force`); effective for BLAS
    libraries loaded later and for child processes."""
    limit = str(blas_thread_limit())
    for name in THREAD_VARIABLES:
        if force:
            os.environ[name] = limit
        else:
            os.environ.setdefault(name, limit)


def limit_blas_threads() -> int | None:
    """Set the variables and limit already-loaded BLAS libraries; return the limit applied (None: no
    threadpoolctl, so only the variables were set)."""
    set_thread_env(force=True)
    limit = blas_thread_limit()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threadpool_limits(limits=limit, user_api="blas")
    return limit
