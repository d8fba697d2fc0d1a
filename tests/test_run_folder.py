"""A run folder nothing can corrupt (issue 12): real processes, real signals, one-line errors.

Each concurrency case starts real `python -m minirl train` processes on CartPole-v1 with a tiny PPO
batch, and checks what is left on disk: config, progress rows, checkpoint and summary must agree.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minirl.checkpoint import load_checkpoint
from minirl.cli import main as cli
from minirl.logger import read_csv

TINY = ["--num-envs", "2", "--set", "num_steps=64", "--set", "update_epochs=2", "--no-progress"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _train_cmd(out, steps=10_000_000, seed=0, *extra):
    return [sys.executable, "-m", "minirl", "train", "--algo", "ppo", "--env", "CartPole-v1", "--seed", str(seed),
            "--total-steps", str(steps), "--out", str(out), *TINY, *extra]


def _start(cmd):
    # a shell running the suite in the background makes children ignore SIGINT: restore the default
    return subprocess.Popen(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_rows(proc, run: Path, rows: int = 2, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        path = run / "progress.csv"
        if path.exists() and len(path.read_text().splitlines()) > rows:
            return
        if proc.poll() is not None:
            pytest.fail(f"train exited early: {proc.communicate()[1][-2000:]}")
        time.sleep(0.05)
    pytest.fail("train logged no rows in time")


def _json(path):
    with open(path) as f:
        return json.load(f)


def _assert_consistent(run: Path) -> None:
    """config, progress rows, checkpoint and summary describe one run at one step."""
    summary, config = _json(run / "summary.json"), _json(run / "config.json")
    log = read_csv(run / "progress.csv")
    ck = load_checkpoint(run / "checkpoint.npz")
    assert summary["seed"] == config["seed"] == ck.extra["seed"]
    assert ck.step == summary["final_step"] == int(log["step"][-1])
    assert int(ck.state["counters.updates"]) == len(log["step"]) == int(log["updates"][-1])
    assert np.all(np.diff(log["step"]) > 0)


def test_sigterm_stops_like_ctrl_c_and_a_resume_continues(tmp_path):
    run = tmp_path / "run"
    proc = _start(_train_cmd(run))
    try:
        _wait_for_rows(proc, run)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err[-2000:]
    assert "SIGTERM" in err and "--resume" in err
    summary = _json(run / "summary.json")
    assert summary["interrupted"] is True and summary["stop_reason"] == "SIGTERM"
    _assert_consistent(run)
    # the dead process's lock does not block the resume
    step = int(summary["final_step"])
    assert cli(["train", "--resume", str(run), "--total-steps", str(step + 256), "--no-progress"]) == 0
    _assert_consistent(run)
    assert read_csv(run / "progress.csv")["step"][-1] == step + 256


def test_a_second_trainer_is_refused_while_the_first_runs(tmp_path):
    run = tmp_path / "run"
    first = _start(_train_cmd(run))
    try:
        _wait_for_rows(first, run)
        resume = subprocess.run([sys.executable, "-m", "minirl", "train", "--resume", str(run), "--no-progress"],
                                env=ENV, capture_output=True, text=True, timeout=120)
        again = subprocess.run(_train_cmd(run, steps=1000, seed=1), env=ENV, capture_output=True, text=True,
                               timeout=120)
        assert first.poll() is None, "the first trainer should still be running"
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
    for other in (resume, again):
        assert other.returncode == 2, other.stderr
        line = other.stderr.strip()
        assert f"is being trained by pid {first.pid}" in line and len(line.splitlines()) == 1, line
    _assert_consistent(run)                 # one history, from the first process only


def test_two_starts_into_one_fresh_folder_leave_one_run(tmp_path):
    run = tmp_path / "run"
    procs = [_start(_train_cmd(run, steps=2048, seed=seed)) for seed in (1, 2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 2], [r[1][-500:] for r in results]
    loser = results[[p.returncode for p in procs].index(2)][1]
    assert "being trained by pid" in loser or "already holds a run" in loser
    winner_seed = (1, 2)[[p.returncode for p in procs].index(0)]
    _assert_consistent(run)
    assert _json(run / "config.json")["seed"] == winner_seed


def test_out_with_the_users_own_files_is_refused_untouched(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "config.json").write_text('{"my": "settings"}')
    (out / "notes.txt").write_text("keep me")
    code = cli(["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "not empty" in err and len(err.splitlines()) == 1, err
    assert (out / "config.json").read_text() == '{"my": "settings"}'
    assert sorted(os.listdir(out)) == ["config.json", "notes.txt"], "nothing may be added to the user's folder"


@pytest.mark.parametrize("out_kind", ["file", "under_file"])
def test_out_that_cannot_be_a_folder_is_one_line(tmp_path, capsys, out_kind):
    target = tmp_path / "f"
    target.write_text("x")
    out = target if out_kind == "file" else target / "run"
    code = cli(["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "file" in err, err


def _finished_run(tmp_path):
    run = tmp_path / "run"
    assert cli(["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "256", "--out", str(run),
                *TINY]) == 0
    return run


@pytest.mark.parametrize("damage,needle", [
    (lambda p: p.write_text(p.read_text()[:40]), "not valid JSON"),
    (lambda p: p.write_text(""), "is empty"),
    (lambda p: p.write_text(json.dumps({k: v for k, v in json.loads(p.read_text()).items() if k != "algo"})),
     "no 'algo' field"),
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()), "seed": "zero"})), "field 'seed'"),
    (lambda p: p.write_text(json.dumps({**json.loads(p.read_text()),
                                        "config": {**json.loads(p.read_text())["config"], "clip_coef": "big"}})),
     "clip_coef"),
])
@pytest.mark.parametrize("command", ["eval", "resume"])
def test_a_damaged_config_json_is_named_in_one_line(tmp_path, capsys, damage, needle, command):
    run = _finished_run(tmp_path)
    damage(run / "config.json")
    capsys.readouterr()
    argv = ["eval", str(run)] if command == "eval" else ["train", "--resume", str(run), "--total-steps", "512"]
    assert cli(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "config.json" in err and needle in err, err


@pytest.mark.parametrize("argv,needle", [
    (["--set", "target_kl=nan"], "target_kl"),
    (["--set", "log_std_init=nan"], "log_std_init"),
    (["--checkpoint-every", "nan"], "--checkpoint-every"),
    (["--stop-return", "inf"], "--stop-return"),
    (["--eval-every", "-5"], "--eval-every"),
])
def test_non_finite_or_negative_settings_fail_before_any_work(tmp_path, capsys, argv, needle):
    out = tmp_path / "run"
    code = cli(["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", str(out), *TINY, *argv])
    err = capsys.readouterr().err.strip()
    assert code == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not (out / "config.json").exists()


@pytest.mark.parametrize("flag", [["--out", "elsewhere"], ["--seed", "7"], ["--eval-every", "10"]])
def test_resume_refuses_flags_it_would_ignore(tmp_path, capsys, flag):
    run = _finished_run(tmp_path)
    capsys.readouterr()
    assert cli(["train", "--resume", str(run), *flag]) == 2
    err = capsys.readouterr().err.strip()
    assert flag[0] in err and len(err.splitlines()) == 1, err


def test_eval_refuses_a_negative_seed_and_an_unknown_env_in_one_line(tmp_path, capsys):
    run = _finished_run(tmp_path)
    capsys.readouterr()
    assert cli(["eval", str(run), "--seed", "-1"]) == 2
    assert "--seed" in capsys.readouterr().err
    info = _json(run / "config.json")
    (run / "config.json").write_text(json.dumps({**info, "env_id": "NoSuchEnv-v0"}))
    assert cli(["eval", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert "NoSuchEnv" in err and len(err.splitlines()) == 1, err


class _NanObsEnv:
    """CartPole whose observations turn NaN after 300 steps (a broken simulator)."""

    def __new__(cls, **kwargs):
        import gymnasium as gym

        class Broken(gym.Wrapper):
            steps = 0

            def step(self, action):
                obs, r, te, tr, info = self.env.step(action)
                Broken.steps += 1
                if Broken.steps > 300:
                    obs = obs * np.nan
                return obs, r, te, tr, info
        return Broken(gym.make("CartPole-v1"))


def test_nan_observations_stop_with_a_summary_naming_the_cause(tmp_path, capsys):
    import gymnasium as gym
    if "NanObsCartPole-v0" not in gym.registry:
        gym.register("NanObsCartPole-v0", entry_point=_NanObsEnv, max_episode_steps=500)
    run = tmp_path / "run"
    code = cli(["train", "--algo", "ppo", "--env", "NanObsCartPole-v0", "--total-steps", "5000", "--out", str(run),
                "--eval-every", "0", *TINY])
    assert code == 3
    summary = _json(run / "summary.json")
    assert summary["stop_reason"] == "nan" and "non-finite observation" in summary["error"]
    assert "learning rate" not in summary["error"]


def test_an_exception_inside_the_loop_still_leaves_a_summary(tmp_path, monkeypatch):
    from minirl.algos import ppo
    real = ppo.PPO._collect
    calls = []

    def broken(self):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("the simulator crashed")
        return real(self)
    monkeypatch.setattr(ppo.PPO, "_collect", broken)
    run = tmp_path / "run"
    with pytest.raises(RuntimeError, match="simulator crashed"):
        cli(["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "5000", "--out", str(run), *TINY])
    summary = _json(run / "summary.json")
    assert summary["stop_reason"] == "error" and "simulator crashed" in summary["error"]
    assert summary["final_step"] == read_csv(run / "progress.csv")["step"][-1] == 256


def test_the_module_colon_id_form_trains_and_evaluates_in_a_new_process(tmp_path):
    (tmp_path / "my_envs.py").write_text(
        "import gymnasium as gym\n"
        "gym.register('MyCartPole-v0', entry_point='gymnasium.envs.classic_control:CartPoleEnv',"
        " max_episode_steps=200, reward_threshold=195.0)\n")
    env = {**ENV, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ENV.get('PYTHONPATH', '')}"}
    run = tmp_path / "run"
    train = subprocess.run([sys.executable, "-m", "minirl", "train", "--algo", "ppo", "--env", "my_envs:MyCartPole-v0",
                            "--total-steps", "256", "--out", str(run), "--env-module", "my_envs", *TINY], env=env, capture_output=True,
                           text=True, timeout=300)
    assert train.returncode == 0, train.stderr[-2000:]
    assert _json(run / "summary.json")["reward_threshold"] == 195.0
    evaluate = subprocess.run([sys.executable, "-m", "minirl", "eval", str(run), "--episodes", "2",
                               "--env-module", "my_envs"], env=env,
                              capture_output=True, text=True, timeout=300)
    assert evaluate.returncode == 0 and "MyCartPole" in evaluate.stdout, evaluate.stderr[-2000:]


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    kids.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return kids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_killing_compare_leaves_no_worker_behind(tmp_path, how):
    out = tmp_path / "cmp"
    proc = subprocess.Popen([sys.executable, "-m", "minirl", "compare", "--arms", "ppo", "--seeds", "2",
                             "--total-steps", "10000000", "--out", str(out)], env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        workers = []
        while time.monotonic() < deadline:
            workers = [k for k in _children(proc.pid) if "resource_tracker" not in open(f"/proc/{k}/cmdline").read()]
            rows = [out / "runs" / f"ppo-s{s}" / "progress.csv" for s in (0, 1)]
            if len(workers) >= 2 and all(r.exists() and len(r.read_text().splitlines()) > 1 for r in rows):
                break
            time.sleep(0.1)
        assert len(workers) >= 2, "compare should run its two seeds in two worker processes"
        proc.send_signal(how)
        proc.wait(timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_alive(w) for w in workers):
            time.sleep(0.1)
        assert not any(_alive(w) for w in workers), "worker processes outlived their parent"
    finally:
        if proc.poll() is None:
            proc.kill()
        for w in _children(proc.pid):
            os.kill(w, signal.SIGKILL)
    if how == signal.SIGTERM:
        # a clean stop: each worker's run stopped at an update with a checkpoint, resumable
        assert proc.returncode != 0
        for s in (0, 1):
            _assert_consistent(out / "runs" / f"ppo-s{s}")
            assert _json(out / "runs" / f"ppo-s{s}" / "summary.json")["stop_reason"] == "SIGTERM"


def test_an_env_without_a_time_limit_is_refused_before_training_naming_eval_every_0(tmp_path, capsys):
    """Before: training ran until the first evaluation, which failed with "pass max_steps", an argument the
    command line cannot give."""
    import gymnasium as gym
    if "NoLimitCartPole-v0" not in gym.registry:
        gym.register("NoLimitCartPole-v0", entry_point="gymnasium.envs.classic_control:CartPoleEnv",
                     max_episode_steps=None)
    argv = ["train", "--algo", "ppo", "--env", "NoLimitCartPole-v0", "--total-steps", "256", *TINY]
    assert cli([*argv, "--out", str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "has no time limit" in err and "--eval-every 0" in err, err
    assert not (tmp_path / "a").exists()
    assert cli([*argv, "--eval-every", "0", "--out", str(tmp_path / "b")]) == 0
