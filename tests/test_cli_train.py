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


# ------------------------------------------------------------------------------------------------
# the run loop, with a scripted stand-in agent (fast and fully predictable)
# ------------------------------------------------------------------------------------------------

class ScriptedAgent:
    """Follows the agent API of minirl.algos: each update takes 100 steps and finishes 10 episodes
    whose return is `ret(update)`. `fail` maps an update index to an exception raised there."""

    def __init__(self, ret=lambda k: float(k), fail=None):
        from collections import deque
        self.ret, self.fail = ret, dict(fail or {})
        self.global_step, self.episodes, self.updates = 0, 0, 0
        self.recent_returns = deque(maxlen=100)
        self.w = np.zeros(3)

    def learn_iter(self, total_steps):
        while self.global_step < total_steps:
            if self.updates in self.fail:
                raise self.fail[self.updates]
            self.updates += 1
            self.global_step += 100
            self.w += 1.0
            for _ in range(10):
                self.recent_returns.append(self.ret(self.updates))
            self.episodes += 10
            yield {"step": self.global_step, "time_s": 0.0, "episodes": self.episodes,
                   "return_mean": float(np.mean(self.recent_returns)), "policy_loss": -0.1}

    def state_dict(self):
        return {"w": self.w.copy(), "global_step": np.asarray(self.global_step),
                "episodes": np.asarray(self.episodes), "updates": np.asarray(self.updates)}

    def load_state_dict(self, d):
        self.w = d["w"].copy()
        self.global_step, self.episodes, self.updates = (int(d[k]) for k in ("global_step", "episodes", "updates"))


def _loop(tmp_path, agent, total_steps, stop_return=None, append=False, bookkeeping=None):
    from minirl.experiments import train_run
    files = train_run.RunFiles(str(tmp_path))
    info = {"algo": "ppo", "env_id": "CartPole-v1", "seed": 0, "config": {}}
    code = train_run._run_loop(agent, files, info, total_steps=total_steps, stop_return=stop_return,
                               bookkeeping=bookkeeping or {}, append=append, progress=False,
                               checkpoint_every_s=0.0, callback=None)
    with open(files.summary) as f:
        return code, json.load(f), read_csv(files.progress)


def test_run_loop_solved_needs_a_full_window(tmp_path):
    # return 500 from the first update, CartPole's threshold is 475: solved only once 100 episodes
    # (10 updates) are in the window, i.e. at step 1000, not at step 100
    code, summary, log = _loop(tmp_path, ScriptedAgent(ret=lambda k: 500.0), total_steps=1500)
    assert code == 0
    assert summary["solved_step"] == 1000 and summary["reward_threshold"] == 475.0
    assert summary["solved_time_s"] == pytest.approx(log["time_s"][9])
    assert summary["final_return_mean"] == 500.0 and summary["final_step"] == 1500
    assert summary["interrupted"] is False
    np.testing.assert_array_equal(log["step"], np.arange(100, 1600, 100))
    assert np.all(np.diff(log["time_s"]) >= 0)


def test_run_loop_stop_return_and_never_solved(tmp_path):
    code, summary, log = _loop(tmp_path, ScriptedAgent(ret=lambda k: 10.0 * k), total_steps=10_000,
                               stop_return=150.0)
    # window mean after update k >= 10 is the mean of 10*(k-9..k) = 10k - 45 >= 150 -> k = 20
    assert code == 0 and summary["stop_reason"] == "stop_return"
    assert log["step"][-1] == 2000 and summary["solved_step"] is None


def test_run_loop_nan_keeps_last_good_checkpoint(tmp_path):
    agent = ScriptedAgent(fail={3: FloatingPointError("policy loss is nan")})
    code, summary, log = _loop(tmp_path, agent, total_steps=1000)
    from minirl.experiments.train_run import EXIT_NAN
    assert code == EXIT_NAN and summary["stop_reason"] == "nan" and "nan" in summary["error"]
    assert len(log["step"]) == 3
    ck = load_checkpoint(tmp_path / "checkpoint.npz")
    assert ck.step == 300 and ck.state["w"][0] == 3.0


def test_run_loop_interrupt_then_resume_carries_clock_and_solved(tmp_path):
    from minirl.experiments import train_run
    agent = ScriptedAgent(ret=lambda k: 500.0, fail={12: KeyboardInterrupt()})
    code, summary, log = _loop(tmp_path, agent, total_steps=2000)
    assert code == train_run.EXIT_INTERRUPTED and summary["interrupted"] is True
    assert summary["solved_step"] == 1000 and len(log["step"]) == 12
    ck = load_checkpoint(tmp_path / "checkpoint.npz")
    assert ck.step == 1200 and ck.extra["solved_step"] == 1000
    fresh = ScriptedAgent(ret=lambda k: 500.0)
    fresh.load_state_dict(ck.state)
    code, summary, log = _loop(tmp_path, fresh, total_steps=2000, append=True, bookkeeping=ck.extra)
    assert code == 0 and summary["solved_step"] == 1000        # kept from before the interruption
    np.testing.assert_array_equal(log["step"], np.arange(100, 2100, 100))
    assert np.all(np.diff(log["time_s"]) >= 0)                 # the clock continues


def test_drop_rows_after_checkpoint(tmp_path):
    from minirl.experiments.train_run import _drop_rows_after
    path = tmp_path / "progress.csv"
    path.write_text("step,return_mean\n100,1.0\n200,2.0\n300,3.0\n40")
    assert _drop_rows_after(str(path), 200) == 2
    assert _lines(path) == ["step,return_mean", "100,1.0", "200,2.0"]


@pytest.mark.parametrize("text,current,expected", [
    ("0.1", 0.2, 0.1), ("1e6", 5, 1_000_000), ("false", True, False), ("64,32", (64, 64), (64, 32)),
    ("none", None, None), ("1.5", None, 1.5)])
def test_coerce_value(text, current, expected):
    from minirl.experiments.train_run import coerce_value
    got = coerce_value("x", text, current)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text,current", [("abc", 0.1), ("2.5", 4), ("maybe", True)])
def test_coerce_value_rejects_bad_text(text, current):
    from minirl.experiments.train_run import RunError, coerce_value
    with pytest.raises(RunError, match=f"--set x={text!r}"):
        coerce_value("x", text, current)
