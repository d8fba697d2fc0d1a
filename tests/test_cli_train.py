"""The runner and the command line: logger, checkpoints, `minirl train / eval / plot` end to end.

The end-to-end tests call the real CLI (`minirl.cli.main`) on CartPole-v1 with tiny budgets.
"""

from __future__ import annotations

import csv
import json
import os
import zipfile

import numpy as np
import pytest

from minirl.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minirl.logger import CSVLogger, read_csv


# ------------------------------------------------------------------------------------------------
# logger
# ------------------------------------------------------------------------------------------------

def _lines(path):
    with open(path) as f:
        return f.read().splitlines()


def test_logger_writes_header_once_and_flushes_each_row(tmp_path):
    path = tmp_path / "sub" / "progress.csv"
    log = CSVLogger(path)
    log.write({"step": 10, "return_mean": float("nan")})
    # flushed: readable by another reader while the logger is still open
    assert _lines(path) == ["step,return_mean", "10,nan"]
    log.write({"step": 20, "return_mean": 1.5})
    assert _lines(path)[-1] == "20,1.5"
    log.close()
    data = read_csv(path)
    assert np.isnan(data["return_mean"][0]) and data["return_mean"][1] == 1.5
    np.testing.assert_array_equal(data["step"], [10, 20])


def test_logger_append_keeps_header_and_columns(tmp_path):
    path = tmp_path / "p.csv"
    with CSVLogger(path) as log:
        log.write({"step": 1, "a": 0.25})
    with CSVLogger(path, append=True) as log:
        log.write({"a": 0.5, "step": 2})            # order of keys does not matter
        log.write({"step": 3})                     # missing column -> empty cell
    assert _lines(path) == ["step,a", "1,0.25", "2,0.5", "3,"]
    assert np.isnan(read_csv(path)["a"][2])


def test_logger_warns_once_on_unknown_column_and_repairs_half_line(tmp_path):
    path = tmp_path / "p.csv"
    with CSVLogger(path) as log:
        log.write({"step": 1})
        with pytest.warns(UserWarning, match="extra"):
            log.write({"step": 2, "extra": 5})
    with open(path, "a") as f:
        f.write("3")                               # a half-written line from a killed run
    with CSVLogger(path, append=True) as log:
        log.write({"step": 4})
    assert _lines(path) == ["step", "1", "2", "3", "4"]


def test_logger_append_refuses_other_columns(tmp_path):
    path = tmp_path / "p.csv"
    with CSVLogger(path) as log:
        log.write({"step": 1})
    with pytest.raises(ValueError, match="columns"):
        CSVLogger(path, fieldnames=["time_s"], append=True)


# ------------------------------------------------------------------------------------------------
# checkpoint
# ------------------------------------------------------------------------------------------------

def _dummy_state(rng, hidden=4):
    return {"pi.w": rng.normal(size=(3, hidden)), "pi.b": rng.normal(size=hidden),
            "obs_rms.mean": rng.normal(size=3), "rng.state": np.arange(4, dtype=np.uint64),
            "global_step": np.asarray(512)}


def test_checkpoint_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    state = _dummy_state(rng)
    path = save_checkpoint(tmp_path / "checkpoint.npz", state, algo="ppo", env_id="CartPole-v1", step=512,
                           config={"lr": np.float64(3e-4), "hidden": (64, 64)}, extra={"time_s": 1.5})
    ck = load_checkpoint(path, algo="ppo", env_id="CartPole-v1", expected=state)
    assert (ck.algo, ck.env_id, ck.step) == ("ppo", "CartPole-v1", 512)
    assert ck.config == {"lr": 3e-4, "hidden": [64, 64]} and ck.extra == {"time_s": 1.5}
    for name, value in state.items():
        np.testing.assert_array_equal(ck.state[name], value)
        assert ck.state[name].dtype == value.dtype
    assert [p for p in os.listdir(tmp_path) if p != "checkpoint.npz"] == []     # no temp file left


def test_checkpoint_save_is_atomic(tmp_path, monkeypatch):
    """A save that dies half-way leaves the previous checkpoint intact and no temp file."""
    rng = np.random.default_rng(1)
    old = _dummy_state(rng)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, old, algo="ppo", env_id="CartPole-v1", step=1)

    def dying_savez(f, **arrays):
        f.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", dying_savez)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, _dummy_state(rng), algo="ppo", env_id="CartPole-v1", step=2)
    monkeypatch.undo()
    ck = load_checkpoint(path)
    assert ck.step == 1
    np.testing.assert_array_equal(ck.state["pi.w"], old["pi.w"])
    assert os.listdir(tmp_path) == ["checkpoint.npz"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "empty"])
def test_checkpoint_corrupt_file_is_refused(tmp_path, damage):
    state = _dummy_state(np.random.default_rng(2), hidden=64)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, state, algo="ppo", env_id="CartPole-v1", step=1)
    raw = bytearray(path.read_bytes())
    if damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "flip":                     # one byte inside the first array's data
        raw[200] ^= 0xFF
    elif damage == "garbage":
        raw = bytearray(b"not a zip file at all")
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt|not a"):
        load_checkpoint(path)


def test_checkpoint_mismatches_are_refused_with_reason(tmp_path):
    rng = np.random.default_rng(3)
    state = _dummy_state(rng)
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, state, algo="ppo", env_id="CartPole-v1", step=1)
    with pytest.raises(CheckpointError, match="algo 'ppo', not 'reinforce'"):
        load_checkpoint(path, algo="reinforce")
    with pytest.raises(CheckpointError, match="env 'CartPole-v1', not 'Acrobot-v1'"):
        load_checkpoint(path, env_id="Acrobot-v1")
    bigger = _dummy_state(rng, hidden=8)
    with pytest.raises(CheckpointError, match=r"'pi.w' has shape \(3, 4\).*expects \(3, 8\)"):
        load_checkpoint(path, expected=bigger)
    fewer = {k: v for k, v in state.items() if k != "pi.b"}
    with pytest.raises(CheckpointError, match=r"unexpected entries \['pi.b'\]"):
        load_checkpoint(path, expected=fewer)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.npz")
    # a plain npz without metadata, and a newer format version
    np.savez(tmp_path / "plain.npz", w=np.zeros(2))
    with pytest.raises(CheckpointError, match="not a minirl checkpoint"):
        load_checkpoint(tmp_path / "plain.npz")
    np.savez(tmp_path / "v99.npz", __minirl_meta__=np.array(json.dumps({"format_version": 99})))
    with pytest.raises(CheckpointError, match="version 99"):
        load_checkpoint(tmp_path / "v99.npz")


def test_checkpoint_refuses_object_arrays(tmp_path):
    with pytest.raises(ValueError, match="object array"):
        save_checkpoint(tmp_path / "c.npz", {"x": np.array([{"a": 1}], dtype=object)},
                        algo="ppo", env_id="CartPole-v1", step=0)
