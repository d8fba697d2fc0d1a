"""What every benchmark against stable-baselines3 does first (imported by the bench_*.py scripts).

`check_threads()` warns when BLAS may use more than one thread (timings would not compare);
`sb3_available(skip)` says whether the peer can be measured, and why not when it cannot;
`median_of(results, key)` is the median over all runs of a result dict's `key`, a run that did not
solve counting as slower than any other (`minirl.stats.median_time_to`; None if the median run did
not solve).
"""

from __future__ import annotations

import math
import os
import sys


def check_threads() -> None:
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 for comparable timings", file=sys.stderr)


def sb3_available(skip: bool) -> bool:
    """False with `--skip-sb3`, or (with one line saying so) when the `bench` extra is not installed."""
    if skip:
        return False
    try:
        import stable_baselines3  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        print("stable-baselines3 / torch not installed: only minirl is measured "
              "(pip install -e '.[bench]' for the comparison)", file=sys.stderr)
        return False
    return True


def median_of(results: list[dict], key: str):
    from minirl.stats import median_time_to
    median = median_time_to([r[key] if r["solved"] else math.nan for r in results])
    return None if math.isnan(median) else median
