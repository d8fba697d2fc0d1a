"""Writes the disk refuses, and lock files that cannot be used (issue 23): one line naming the path.

Before: a full disk while training, writing a figure (`plot`, `estimators`) or the sweep report gave
an ENOSPC traceback; a read-only report.csv or report.png a PermissionError traceback; a read-only
`.lock` said "being trained by pid ?" and a `.lock` folder gave an IsADirectoryError traceback; a
run that died before its first checkpoint was a dead end (`--resume`: "no checkpoint"; `train`:
"continue it with --resume"). The full disks are real (a small tmpfs), the read-only files real
(read-only bind mounts, which stop root too): `tests/mount_ns.py`.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import textwrap

import pytest

from minirl.cli import main
from mount_ns import in_mount_namespace, read_only, tmpfs
from test_run_folder import TINY

MINIRL = [sys.executable, "-m", "minirl"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _one_line(done, code: int, *needles: str) -> str:
    err = done.stderr.strip()
    assert done.returncode == code and len(err.splitlines()) == 1 and "Traceback" not in err, (done.returncode, err[-3000:])
    assert all(n in err for n in needles), err
    return err


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny run and a finished tiny sweep (with its report.png)."""
    root = tmp_path_factory.mktemp("finished")
    run = root / "run"
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "256", "--eval-every", "128",
                 "--eval-episodes", "1", "--out", str(run), *TINY]) == 0
    sweep = root / "sweep"
    assert main(["sweep", "--algo", "ppo", "--env", "CartPole-v1", "--seeds", "0", "--total-steps", "256",
                 "--eval-every", "128", "--eval-episodes", "1", "--set", "num_envs=2", "--set", "num_steps=64",
                 "--jobs", "1", "--out", str(sweep)]) == 0
    assert (sweep / "report.png").exists()
    return run, sweep


@pytest.mark.slow
def test_a_full_disk_while_training_is_one_line_and_the_run_resumes_once_there_is_room(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    run = disk / "run"
    script = textwrap.dedent(f"""
        import os, subprocess, sys, time, json
        run = {str(run)!r}
        train = subprocess.Popen({MINIRL!r} + ["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps",
                                 "100000", "--checkpoint-every", "0", "--out", run] + {TINY!r},
                                 stderr=subprocess.PIPE, text=True)
        while not (os.path.exists(run + "/progress.csv") and len(open(run + "/progress.csv").read().splitlines()) > 3):
            assert train.poll() is None, train.stderr.read()
            time.sleep(0.05)
        fd = os.open({str(disk / 'fill')!r}, os.O_WRONLY | os.O_CREAT)   # the disk fills up under the trainer
        try:
            while True:
                os.write(fd, b"x" * 4096)
        except OSError:
            os.close(fd)
        err = train.communicate(timeout=120)[1]
        os.remove({str(disk / 'fill')!r})
        resume = subprocess.run({MINIRL!r} + ["train", "--resume", run, "--total-steps", "1024", "--no-progress"],
                                capture_output=True, text=True)
        print(json.dumps({{"code": train.returncode, "err": err, "resume": resume.returncode,
                          "resume_err": resume.stderr}}))
    """)
    done = in_mount_namespace([tmpfs(disk, "1m")], [sys.executable, "-c", script], env=ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [line for line in result["err"].splitlines() if line.strip()]
    assert result["code"] == 1 and "Traceback" not in result["err"], result["err"][-3000:]
    assert len(lines) == 1 and lines[0].startswith("minirl train: error: cannot write ") and str(run) in lines[0]
    assert "No space left on device" in lines[0] and f"minirl train --resume {run}" in lines[0], lines[0]
    assert result["resume"] == 0, result["resume_err"][-3000:]


@pytest.mark.slow
def test_a_full_disk_while_writing_a_figure_or_the_sweep_report_is_one_line(tmp_path, finished):
    run, sweep = finished
    disk = tmp_path / "disk"
    disk.mkdir()
    # 8 kB: room for the write probe and the small CSV files, not for a PNG figure
    done = in_mount_namespace([tmpfs(disk, "8k")], [*MINIRL, "plot", str(run), "--out", str(disk / "c.png")], env=ENV)
    _one_line(done, 1, f"cannot write {disk / 'c.png'}", "No space left on device")
    copy, trial = disk / "sweep", "ppo-CartPole-v1/s0"
    files = [f"cp {sweep / trial / name} {copy / trial / name}" for name in ("config.json", "progress.csv", "summary.json")]
    done = in_mount_namespace([tmpfs(disk, "24k"), f"mkdir -p {copy / trial}", f"cp {sweep / 'sweep.json'} {copy}", *files],
                              [*MINIRL, "sweep", "--report", str(copy)], env=ENV)
    _one_line(done, 1, f"cannot write {copy / 'report.png'}", "No space left on device")
    done = in_mount_namespace([tmpfs(disk, "8k")], [*MINIRL, "estimators", "--fast", "--out", str(disk / "est")], env=ENV)
    _one_line(done, 1, f"cannot write {disk / 'est'}", "No space left on device")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["report.csv", "report.png"])
def test_a_read_only_report_file_is_one_line(tmp_path, finished, name):
    _, sweep = finished
    copy = tmp_path / "sweep"
    shutil.copytree(sweep, copy)
    done = in_mount_namespace(read_only(copy / name), [*MINIRL, "sweep", "--report", str(copy)], env=ENV)
    _one_line(done, 1, f"cannot write {copy / name}", "Read-only file system")


@pytest.mark.slow
def test_a_lock_file_that_is_read_only_or_a_folder_is_one_line(tmp_path, finished):
    run, _ = finished
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    done = in_mount_namespace(read_only(copy / ".lock"), [*MINIRL, "train", "--resume", str(copy), "--no-progress"],
                              env=ENV)
    _one_line(done, 2, f"cannot open the lock file {copy / '.lock'}", "Read-only file system", "rm ")
    os.remove(copy / ".lock")
    os.mkdir(copy / ".lock")
    assert main(["train", "--resume", str(copy), "--no-progress"]) == 2
    assert main(["eval", str(copy), "--episodes", "1"]) == 0            # reading a run needs no lock


def test_a_lock_folder_is_named_with_its_fix(tmp_path, capsys):
    run = tmp_path / "run"
    (run / ".lock").mkdir(parents=True)
    assert main(["train", "--algo", "ppo", "--env", "CartPole-v1", "--out", str(run), *TINY]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{run / '.lock'} is a folder" in err and f"rmdir {run / '.lock'}" in err


def test_a_run_that_died_before_its_first_checkpoint_resumes_from_step_0(tmp_path, monkeypatch, capsys):
    from minirl.runs import driver
    real = driver.save_checkpoint

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(driver, "save_checkpoint", full)
    run = tmp_path / "run"
    argv = ["train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", "256", "--out", str(run), *TINY]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"cannot write {run / 'checkpoint.npz'} (No space left on device)" in err
    assert sorted(os.listdir(run)) == [".lock", "config.json"]
    monkeypatch.setattr(driver, "save_checkpoint", real)
    assert main(argv) == 2 and "--resume" in capsys.readouterr().err          # the folder holds that run
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    assert "starting it again from step 0" in capsys.readouterr().err
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stop_reason"] == "budget" and summary["final_step"] >= 256
