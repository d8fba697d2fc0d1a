"""minirl where `fcntl` and `os.setpgrp` do not exist, as on Windows (issue 22, "Portable").

Before: `minirl/runs/run_folder.py` imported `fcntl` at module level and the local executor called
`os.setpgrp()`, so without them even `minirl --help` crashed. The test hides both from real
`python -m minirl` processes (a `sitecustomize` that makes `import fcntl` fail and deletes
`os.setpgrp`) and runs `--help`, `train`, `eval`, `plot`, `demo --help` and `compare --fast` (the
code `demo` runs, with tiny budgets and two worker processes). Run folders are then locked with
`minirl.runs.lockfile`'s marker files, tested here too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from minirl.runs.lockfile import FileLock
from test_run_folder import TINY

HIDE = '''
import importlib.abc, os, sys

class _NoFcntl(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "fcntl":
            raise ImportError("fcntl is hidden: this test plays a platform without it")
        return None

sys.meta_path.insert(0, _NoFcntl())
sys.modules.pop("fcntl", None)
for name in ("setpgrp",):
    if hasattr(os, name):
        delattr(os, name)
'''


@pytest.fixture
def hidden(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HIDE)
    env = {**os.environ, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    def minirl(*argv: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "minirl", *argv], env=env, cwd=tmp_path, capture_output=True,
                              text=True, timeout=timeout)
    check = subprocess.run([sys.executable, "-c", "import os\ntry:\n    import fcntl\nexcept ImportError:\n    "
                            "print('no fcntl', hasattr(os, 'setpgrp'))\n"
                            "from minirl.runs.lockfile import LOCKING\nprint(LOCKING)"],
                           env=env, capture_output=True, text=True)
    assert check.stdout.split() == ["no", "fcntl", "False", "marker"], check.stdout + check.stderr
    return minirl


@pytest.mark.slow
def test_the_commands_work_without_fcntl_and_setpgrp(hidden, tmp_path):
    for argv in (["--help"], ["demo", "--help"]):
        done = hidden(*argv)
        assert done.returncode == 0 and "usage: minirl" in done.stdout, done.stderr[-3000:]
    run = tmp_path / "run"
    done = hidden("train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "256", "--eval-every", "128",
                  "--eval-episodes", "1", "--out", str(run), *TINY)
    assert done.returncode == 0, done.stderr[-3000:]
    again = hidden("train", "--algo", "ppo", "--env", "CartPole-v1", "--out", str(run), *TINY)
    assert again.returncode == 2 and "already holds a run" in again.stderr, again.stderr[-3000:]
    assert hidden("train", "--resume", str(run), "--total-steps", "384", "--no-progress").returncode == 0
    assert not (run / ".lock.held").exists(), "the marker lock is removed when the run ends"
    done = hidden("eval", str(run), "--episodes", "1")
    assert done.returncode == 0 and "return" in done.stdout, done.stderr[-3000:]
    done = hidden("plot", str(run), "--out", str(tmp_path / "curves.png"))
    assert done.returncode == 0 and (tmp_path / "curves.png").exists(), done.stderr[-3000:]
    done = hidden("compare", "--fast", "--arms", "sac", "--seeds", "2", "--total-steps", "400", "--jobs", "2",
                  "--out", str(tmp_path / "cmp"))
    assert done.returncode == 0 and (tmp_path / "cmp" / "summary.csv").exists(), done.stderr[-3000:]


def test_the_marker_lock_refuses_a_second_holder_and_takes_over_a_dead_ones(tmp_path):
    path = str(tmp_path / ".lock")
    first, second = FileLock(path, way="marker"), FileLock(path, way="marker")
    assert first.acquire() and not second.acquire()
    first.write_pid()
    assert Path(path).read_text().strip() == str(os.getpid())
    first.release()
    assert second.acquire()
    second.release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    Path(path + ".held").write_text(dead.stdout)          # a holder that was killed: its pid runs no more
    assert FileLock(path, way="marker").acquire(), "a marker whose process is gone must not block for ever"
