"""Runs that describe themselves: config.json's environment, `minirl train`'s closing line, the
TensorBoard logs of `--tensorboard`, and frames of `minirl/Pendulum-v1` for `minirl eval --gif`."""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import re
import struct
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import minirl
from minirl.about import environment

ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MPLBACKEND="Agg", SDL_VIDEODRIVER="dummy")


def _minirl(*args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "minirl", *map(str, args)], cwd=cwd, env=ENV, capture_output=True,
                          text=True, timeout=600)


def test_the_environment_names_versions_platform_and_blas():
    info = environment()
    assert info["minirl_version"] == minirl.__version__
    assert info["python"] == platform.python_version() and info["numpy"] == np.__version__
    assert info["gymnasium"] == gym.__version__ and info["platform"] and info["machine"]
    assert info["blas"] == "unknown" or re.match(r"\w+ [\w.?]+ \(", info["blas"]), info["blas"]
    if (Path(minirl.__file__).parent.parent / ".git").exists():
        assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", info.get("git_commit", "")), info.get("git_commit")


def _events(folder: Path) -> dict[str, list[tuple[int, float]]]:
    """The scalars of tensorboardX event files: {tag: [(step, value), ...]} (TFRecord framing, Event protos)."""
    from tensorboardX.proto import event_pb2
    scalars: dict[str, list] = {}
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            event = event_pb2.Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            for value in event.summary.value:
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars


def test_train_records_its_environment_says_a_closing_line_and_writes_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX", reason="the tensorboard extra (part of dev)")
    out = tmp_path / "run"
    proc = _minirl("train", "--algo", "ppo", "--env", "CartPole-v1", "--total-steps", 2048, "--eval-every", 1024,
                   "--eval-episodes", 2, "--no-progress", "--tensorboard", "--out", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = json.loads((out / "summary.json").read_text())
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("ppo on CartPole-v1, seed 0: 2,048 env steps in "), last
    assert f"final training return {summary['final_return_mean']:.1f}" in last
    assert f"evaluation {summary['final_eval_return_mean']:.1f}" in last and last.endswith(f"files in {out}")

    config = json.loads((out / "config.json").read_text())
    assert set(config["environment"]) >= {"minirl_version", "python", "numpy", "gymnasium", "platform", "blas"}

    with open(out / "progress.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    scalars = _events(out / "tensorboard")
    for column in ("return_mean", "eval_return_mean", "episodes", "time_s"):
        expected = [(int(r["step"]), float(r[column])) for r in rows if r[column] and math.isfinite(float(r[column]))]
        got = scalars.get(f"progress/{column}", [])
        assert [s for s, _ in got] == [s for s, _ in expected], column
        assert np.allclose([v for _, v in got], [v for _, v in expected], rtol=1e-6), column


def test_tensorboard_without_tensorboardx_is_one_line(tmp_path):
    script = ("import sys; sys.modules['tensorboardX'] = None\n"
              "from minirl.cli import main\n"
              f"raise SystemExit(main(['train', '--algo', 'ppo', '--env', 'CartPole-v1', '--total-steps', '512', "
              f"'--tensorboard', '--out', {str(tmp_path / 'run')!r}]))")
    proc = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True, text=True)
    assert proc.returncode == 2 and "tensorboardX" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "run").exists()


def test_minirl_pendulum_draws_the_frames_gymnasium_draws():
    pytest.importorskip("pygame", reason="the render extra (part of dev)")
    ours, theirs = gym.make("minirl/Pendulum-v1", render_mode="rgb_array"), gym.make("Pendulum-v1", render_mode="rgb_array")
    try:
        ours.reset(seed=5)
        theirs.reset(seed=5)
        for torque in (2.0, -1.0, 0.5):
            ours.step(np.array([torque], dtype=np.float32))
            theirs.step(np.array([torque], dtype=np.float32))
            a, b = ours.render(), theirs.render()
            assert a.shape == (500, 500, 3) and a.dtype == np.uint8 and np.array_equal(a, b)
    finally:
        ours.close()
        theirs.close()
    from minirl.envs.pendulum import PendulumEnv
    with pytest.raises(ValueError, match="rgb_array"):
        PendulumEnv(render_mode="ansi")


@pytest.mark.slow
def test_eval_gif_of_an_agent_trained_on_minirl_pendulum(tmp_path):
    pytest.importorskip("pygame", reason="the render extra (part of dev)")
    out = tmp_path / "run"
    trained = _minirl("train", "--algo", "shac", "--env", "minirl/Pendulum-v1", "--total-steps", 1000, "--eval-every", 0,
                      "--no-progress", "--out", out, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-2000:]
    proc = _minirl("eval", out, "--episodes", 1, "--render", "rgb_array", "--gif", tmp_path / "p.gif",
                   "--max-frames", 20, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "p.gif").read_bytes()[:6] in (b"GIF87a", b"GIF89a")
