"""`minirl plot` on hand-written run folders: which curve it draws, repeated folders, unreadable files,
and --out checked before any work (issue 12; the evaluation curve by default is issue 10)."""

from __future__ import annotations

import glob
import json
import os
import shlex

import numpy as np
import pytest

from minirl.cli import main as cli
from minirl.commands import plot as plot_cmd
from unwritable import unwritable_path

PNG = b"\x89PNG\r\n\x1a\n"


def _run_folder(path, seed=0, *, evaluation=True, config=None, algo="ppo"):
    """A run folder as `minirl train` writes it: training return every row, evaluation every other row."""
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump({"algo": algo, "env_id": "CartPole-v1", "seed": seed, "config": config or {"clip_coef": 0.2}}, f)
    header = ["step", "time_s", "episodes", "return_mean"] + (["eval_return_mean", "eval_return_std"] if evaluation else [])
    lines = [",".join(header)]
    for i in range(6):
        row = [str(100 * (i + 1)), str(0.5 * (i + 1)), str(i), "nan" if i == 0 else str(10.0 * i + seed)]
        if evaluation:
            row += [str(100.0 * i + seed), "1.0"] if i % 2 == 0 else ["", ""]
        lines.append(",".join(row))
    with open(os.path.join(path, "progress.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


def test_the_evaluation_curve_is_the_default_and_the_training_curve_an_option(tmp_path):
    run = _run_folder(tmp_path / "a", seed=1)
    (key, curves), = plot_cmd.load_curves([run]).items()
    assert key[3] == "eval_return_mean"
    np.testing.assert_array_equal(curves[0][0], [100, 300, 500])             # rows without an evaluation dropped
    np.testing.assert_array_equal(curves[0][1], [1.0, 201.0, 401.0])
    (key, curves), = plot_cmd.load_curves([run], metric="train").items()
    assert key[3] == "return_mean"
    np.testing.assert_array_equal(curves[0][1], [11.0, 21.0, 31.0, 41.0, 51.0])   # the NaN first row dropped


def test_a_run_without_evaluation_columns_falls_back_to_the_training_curve_with_one_note(tmp_path, capsys):
    old = _run_folder(tmp_path / "old", evaluation=False)
    new = _run_folder(tmp_path / "new", seed=1)
    out = tmp_path / "c.png"
    assert cli(["plot", old, new, "--out", str(out)]) == 0
    captured = capsys.readouterr()
    notes = [line for line in captured.err.splitlines() if "no evaluation column" in line]
    assert len(notes) == 1 and old in notes[0] and "training return" in notes[0]
    assert "ppo [train] on CartPole-v1: 1 run(s)" in captured.out and "ppo [eval] on CartPole-v1: 1 run(s)" in captured.out
    assert out.read_bytes()[:8] == PNG


def test_the_same_run_named_three_times_is_one_seed_and_said_once(tmp_path, capsys):
    """Before: `minirl plot runs/a runs/a runs/a` reported and averaged 3 runs."""
    a = _run_folder(tmp_path / "a")
    os.symlink(a, tmp_path / "link")
    assert cli(["plot", a, a + os.sep, str(tmp_path / "link"), "--out", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert "ppo on CartPole-v1: 1 run(s)" in captured.out
    repeats = [line for line in captured.err.splitlines() if "already given" in line]
    assert len(repeats) == 1 and "2 folder argument(s)" in repeats[0]
    b = _run_folder(tmp_path / "b", seed=1)
    assert cli(["plot", a, b, "--out", str(tmp_path / "c.png")]) == 0
    assert "ppo on CartPole-v1: 2 run(s)" in capsys.readouterr().out           # two real seeds stay two


def test_copies_of_one_run_count_once_and_are_named_in_one_line(tmp_path, capsys):
    """Before: a copied folder, or four runs that all forgot --seed, counted as several seeds: the band
    collapsed and the IQM was taken over duplicates."""
    import shutil
    a = _run_folder(tmp_path / "a", seed=0)
    shutil.copytree(a, tmp_path / "copy")
    same = [_run_folder(tmp_path / f"forgot{i}", seed=0) for i in range(3)]      # all seed 0, same config
    other = _run_folder(tmp_path / "b", seed=1)
    assert cli(["plot", a, str(tmp_path / "copy"), *same, other, "--out", str(tmp_path / "c.png")]) == 0
    captured = capsys.readouterr()
    assert "ppo on CartPole-v1: 2 run(s)" in captured.out, captured.out
    notes = [line for line in captured.err.splitlines() if "same run as another" in line]
    assert len(notes) == 1 and notes[0].startswith("minirl plot: 4 folder(s)"), captured.err
    assert f"{tmp_path / 'copy'} (= {a})" in notes[0] and "own --seed" in notes[0]
    other_config = _run_folder(tmp_path / "c", seed=0, config={"clip_coef": 0.1})   # another setting stays
    assert cli(["plot", a, other_config, "--out", str(tmp_path / "c.png")]) == 0
    assert "same run" not in capsys.readouterr().err


@pytest.mark.parametrize("name, content", [
    ("config.json", ""), ("config.json", "{\"algo\": \"ppo\""), ("config.json", "[1, 2]"),
    ("config.json", "{\"algo\": \"ppo\"}"), ("config.json", b"\xff\xfe\x00garbage"),
    ("progress.csv", ""), ("progress.csv", b"\xff\xfe\x00\x01"), ("progress.csv", "return_mean\n1\n"),
    ("progress.csv", "what,ever\n1,2\n")])
def test_a_garbage_progress_or_config_file_is_named_in_one_line(tmp_path, capsys, name, content):
    run = _run_folder(tmp_path / "a")
    with open(os.path.join(run, name), "wb") as f:
        f.write(content if isinstance(content, bytes) else content.encode())
    assert cli(["plot", run, "--out", str(tmp_path / "c.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minirl plot: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert os.path.join(run, name) in err
    assert not (tmp_path / "c.png").exists()


def test_out_without_an_ending_gets_png_and_the_message_says_so(tmp_path, capsys, monkeypatch):
    run = _run_folder(tmp_path / "a")
    monkeypatch.chdir(tmp_path)
    assert cli(["plot", run, "--out", "curves"]) == 0
    assert (tmp_path / "curves.png").read_bytes()[:8] == PNG and not (tmp_path / "curves").exists()
    assert "figure written to curves.png" in capsys.readouterr().out


@pytest.mark.parametrize("make_out, match", [
    (lambda t: str(t / "x.txt"), "ends in .txt, but this command writes a .png file"),
    (lambda t: unwritable_path(t, "c.png"), "cannot be written"),
    (lambda t: str(t / "a" / "progress.csv" / "c.png"), "is a file"),
    (lambda t: str(t / "a"), "is a folder")])
def test_a_bad_out_fails_in_one_line_before_any_run_is_read(tmp_path, capsys, monkeypatch, make_out, match):
    _run_folder(tmp_path / "a")
    out = make_out(tmp_path)
    read = []
    monkeypatch.setattr(plot_cmd, "load_curves", lambda *a, **k: read.append(a) or {})
    assert cli(["plot", str(tmp_path / "a"), "--out", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minirl plot: error: --out") and match in err and err.count("\n") == 1
    assert read == []                                   # refused before reading any run


def test_the_docstring_commands_run_verbatim(tmp_path, capsys, monkeypatch):
    """Every `minirl plot` line of the command's docstring, typed in a folder holding such runs."""
    monkeypatch.chdir(tmp_path)
    for name, seed, algo in (("ppo_s0", 0, "ppo"), ("ppo_s1", 1, "ppo"), ("reinforce_s0", 0, "reinforce")):
        _run_folder(tmp_path / "runs" / name, seed, algo=algo)
    commands = [line.strip() for line in plot_cmd.__doc__.splitlines() if line.strip().startswith("minirl plot ")]
    assert len(commands) == 2
    for command in commands:
        argv = [a for word in shlex.split(command)[1:] for a in (sorted(glob.glob(word)) or [word])]
        assert cli(argv) == 0, command
    printed = capsys.readouterr().out
    assert "ppo on CartPole-v1: 2 run(s), reinforce on CartPole-v1: 1 run(s)" in printed
    assert (tmp_path / "curves.png").exists() and (tmp_path / "curves_train.png").exists()
