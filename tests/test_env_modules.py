"""Code is never imported because a file says so (issue 23, security).

A run folder's config.json with `"env_id": "evilmod:CartPole-v1"` made `plot`, `eval` and
`train --resume` import `evilmod` before any check; under `python -m minirl` a planted `evilmod.py`
in the current folder ran. Now an env id of the `module:Env-v0` form gets its module imported only
when the user names it on the command line (`--env-module evilmod`). The test plants a module that
writes a marker file when imported and runs every command that reads an env id from a file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_run_folder import TINY

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _minirl(cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minirl", *argv], cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def planted(tmp_path):
    """A trained run whose config.json names `evilmod:CartPole-v1`, and evilmod.py in the folder commands run from."""
    run = tmp_path / "run"
    done = _minirl(tmp_path, "train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "128",
                   "--out", str(run), *TINY)
    assert done.returncode == 0, done.stderr[-2000:]
    config = json.loads((run / "config.json").read_text())
    config["env_id"] = "evilmod:CartPole-v1"
    (run / "config.json").write_text(json.dumps(config))
    marker = tmp_path / "IMPORTED"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "evilmod.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('evilmod ran')\n"
                                    "import gymnasium\n")
    sweep_file = cwd / "sweep.json"
    sweep_file.write_text(json.dumps({"algo": "ppo", "env": "evilmod:CartPole-v1", "seeds": "0"}))
    return run, cwd, marker, sweep_file


def test_no_command_imports_a_module_named_in_a_file(planted, tmp_path):
    run, cwd, marker, sweep_file = planted
    plot = _minirl(cwd, "plot", str(run), "--out", str(tmp_path / "curves.png"))
    assert not marker.exists(), "minirl plot imported the module named in config.json"
    assert plot.returncode == 0, plot.stderr[-2000:]                 # plotting needs no env: drawn without a threshold
    for argv in (["eval", str(run), "--episodes", "1"], ["train", "--resume", str(run), "--no-progress"],
                 ["sweep", "--file", str(sweep_file), "--out", str(tmp_path / "sw")],
                 ["train", "--algo", "ppo", "--env", "evilmod:CartPole-v1", "--out", str(tmp_path / "typed")]):
        done = _minirl(cwd, *argv)
        assert not marker.exists(), f"minirl {argv[0]} imported the module named in a file"
        err = done.stderr.strip()
        assert done.returncode == 2 and len(err.splitlines()) == 1, (argv, err[-2000:])
        assert "--env-module evilmod" in err and "evilmod:CartPole-v1" in err, err
    assert not (tmp_path / "sw").exists() and not (tmp_path / "typed").exists()


def test_the_users_own_flag_imports_it(planted, tmp_path):
    run, cwd, marker, _ = planted
    done = _minirl(cwd, "eval", str(run), "--episodes", "1", "--env-module", "evilmod")
    assert marker.exists(), "--env-module evilmod must import it"
    # past the gate, the next check speaks: the checkpoint was written for CartPole-v1 (the full path of the
    # module:Env-v0 form, trained and evaluated, is test_run_folder's test_the_module_colon_id_form_...)
    assert done.returncode == 2 and "was written for env 'CartPole-v1'" in done.stderr, done.stderr[-2000:]
    bad = _minirl(cwd, "eval", str(run), "--env-module", "not a module")
    assert bad.returncode == 2 and "is not a module name" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


def test_resolve_env_id_refuses_without_the_flag_and_the_flag_reaches_child_processes(monkeypatch, tmp_path):
    import gymnasium as gym

    from minirl.rollout import ENV_MODULES_VARIABLE, allow_env_modules, resolve_env_id
    monkeypatch.delenv(ENV_MODULES_VARIABLE, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "harmless_envs.py").write_text("import gymnasium as gym\n"
                                               "gym.register('Harmless-v0', entry_point="
                                               "'gymnasium.envs.classic_control:CartPoleEnv', max_episode_steps=10)\n")
    with pytest.raises(gym.error.Error, match="--env-module harmless_envs"):
        resolve_env_id("harmless_envs:Harmless-v0")
    assert "harmless_envs" not in sys.modules
    allow_env_modules(["harmless_envs"])
    assert resolve_env_id("harmless_envs:Harmless-v0") == "Harmless-v0"
    assert os.environ[ENV_MODULES_VARIABLE] == "harmless_envs"     # inherited by sweep workers and Ray tasks
