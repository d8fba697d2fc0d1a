"""One BLAS thread in every process minirl starts (minirl.threads), without the Makefile's help."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

threadpoolctl = pytest.importorskip("threadpoolctl")

PROBE = ("import json, sys; from threadpoolctl import threadpool_info; "
         "print(json.dumps(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'})))")


def _clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "MINIRL_BLAS_THREADS"}
    return {**env, **extra}


def _blas_threads(code: str, **extra) -> list[int]:
    out = subprocess.run([sys.executable, "-c", code], env=_clean_env(**extra), capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_minirl_before_numpy_gives_one_blas_thread():
    assert _blas_threads("import minirl, numpy; " + PROBE) == [1]


def test_the_command_line_limits_a_blas_that_is_already_loaded():
    # numpy first (its BLAS starts with one thread per core), then the CLI's entry point
    code = "import numpy; from minirl import threads; threads.limit_blas_threads(); " + PROBE
    assert _blas_threads(code) == [1]


def test_worker_processes_get_one_blas_thread():
    code = ("from minirl.runs.local import LocalExecutor\n"
            "from tests.test_threads import worker_probe\n"
            "print([o.value for o in LocalExecutor(jobs=2).run(worker_probe, {'a': (), 'b': ()})])\n")
    out = subprocess.run([sys.executable, "-c", code], env=_clean_env(), capture_output=True, text=True,
                         timeout=300, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[[1], [1]]"


def test_minirl_blas_threads_raises_the_limit_and_bad_values_are_refused():
    code = "import numpy; from minirl import threads; threads.limit_blas_threads(); " + PROBE
    assert _blas_threads(code, MINIRL_BLAS_THREADS="2") == [2]
    out = subprocess.run([sys.executable, "-m", "minirl", "--help"], env=_clean_env(MINIRL_BLAS_THREADS="many"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode != 0 and "MINIRL_BLAS_THREADS" in out.stderr


def worker_probe():
    from threadpoolctl import threadpool_info
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
