"""`--out` of `minirl rlhf frontier|overopt` and `minirl estimators`: a path that cannot be written is
refused in one line, rc 2, before any work (issue 12). Before, `rlhf overopt` trained for a minute
and then died with a traceback, losing the results."""

from __future__ import annotations

import os

import pytest

from minirl.cli import main as cli
from unwritable import unwritable_path


def _read_only(tmp_path) -> str:
    return unwritable_path(tmp_path, "out")


def _existing_read_only(tmp_path) -> str:
    """A folder that exists but cannot be written: `os.makedirs(exist_ok=True)` passes, the first write fails."""
    return os.path.dirname(_read_only(tmp_path))


def _a_file(tmp_path) -> str:
    (tmp_path / "f.txt").write_text("mine")
    return str(tmp_path / "f.txt")


def _under_a_file(tmp_path) -> str:
    return os.path.join(_a_file(tmp_path), "sub")


COMMANDS = {"rlhf frontier": (["rlhf", "frontier", "--fast", "--seeds", "1"], "minirl.experiments.rlhf_frontier", "run_frontier"),
            "rlhf overopt": (["rlhf", "overopt", "--fast", "--seeds", "1"], "minirl.experiments.rlhf_overopt", "run_overopt"),
            "estimators": (["estimators", "--fast"], "minirl.experiments.estimator_lab", "sample_count_sweep")}


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("make_out, match", [(_a_file, "is a file, not a folder"), (_under_a_file, "which is a file"),
                                             (_read_only, "cannot be written"),
                                             (_existing_read_only, "cannot be written")])
def test_an_out_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys, monkeypatch, command, make_out, match):
    argv, module, first_work = COMMANDS[command]
    import importlib
    worked = []
    monkeypatch.setattr(importlib.import_module(module), first_work, lambda *a, **k: worked.append(1) or 1 / 0)
    out = make_out(tmp_path)
    assert cli([*argv, "--out", out]) == 2
    err = capsys.readouterr().err
    name = command.split()[0]
    assert err.startswith(f"minirl {name}: error: --out {out}") and match in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert worked == []                                               # nothing ran


def test_estimators_negative_seed_is_one_line_rc_2(capsys):
    assert cli(["estimators", "--seed", "-1"]) == 2
    assert capsys.readouterr().err == "minirl estimators: error: --seed must be >= 0, got -1\n"
