"""The runner and the command line: logger, checkpoints, `minirl train / eval / plot` end to end.

The end-to-end tests call the real CLI (`minirl.cli.main`) on CartPole-v1 with tiny budgets.
"""

from __future__ import annotations

import csv
import json
import os

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
    from minirl.runs import driver as train_run
    from minirl.runs.spec import resolve_run
    files = train_run.RunFiles(str(tmp_path))
    spec = resolve_run("ppo", "CartPole-v1", 0, total_steps=total_steps, stop_return=stop_return, eval_every=0)
    code = train_run._run_loop(agent, files, spec, bookkeeping=bookkeeping or {}, append=append, progress=False,
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
    from minirl.runs.driver import EXIT_NAN
    assert code == EXIT_NAN and summary["stop_reason"] == "nan" and "nan" in summary["error"]
    assert len(log["step"]) == 3
    ck = load_checkpoint(tmp_path / "checkpoint.npz")
    assert ck.step == 300 and ck.state["w"][0] == 3.0


def test_run_loop_interrupt_then_resume_carries_clock_and_solved(tmp_path):
    from minirl.runs import driver as train_run
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
    from minirl.runs.folder import drop_rows_after
    path = tmp_path / "progress.csv"
    path.write_text("step,return_mean\n100,1.0\n200,2.0\n300,3.0\n40")
    assert drop_rows_after(str(path), 200) == 2
    assert _lines(path) == ["step,return_mean", "100,1.0", "200,2.0"]


@pytest.mark.parametrize("text,current,expected", [
    ("0.1", 0.2, 0.1), ("1e6", 5, 1_000_000), ("false", True, False), ("64,32", (64, 64), (64, 32)),
    ("none", None, None), ("1.5", None, 1.5)])
def test_coerce_value(text, current, expected):
    from minirl.algos.registry import coerce_value
    got = coerce_value("x", text, current)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("text,current", [("abc", 0.1), ("2.5", 4), ("maybe", True)])
def test_coerce_value_rejects_bad_text(text, current):
    from minirl.algos.registry import ConfigError, coerce_value
    with pytest.raises(ConfigError, match=f"cannot read x={text!r}"):
        coerce_value("x", text, current)


# ------------------------------------------------------------------------------------------------
# end to end: the real CLI on CartPole-v1 with tiny budgets
# ------------------------------------------------------------------------------------------------

from minirl.cli import main as cli  # noqa: E402

CONTRACT_COLUMNS = ["step", "time_s", "episodes", "return_mean"]
PPO_DIAGNOSTICS = ["policy_loss", "value_loss", "entropy", "approx_kl_k1", "approx_kl_k3", "clip_frac",
                   "explained_variance", "learning_rate", "steps_per_s"]
SUMMARY_KEYS = ["solved_step", "solved_time_s", "final_return_mean", "total_time_s", "steps_per_s",
                "interrupted"]
# a small PPO batch so that a few updates take a fraction of a second
TINY = ["--num-envs", "2", "--set", "num_steps=64", "--set", "update_epochs=2", "--no-progress"]


def _header(path):
    with open(path, newline="") as f:
        return next(csv.reader(f))


def _json(path):
    with open(path) as f:
        return json.load(f)


def _train(out, *extra, seed=0, steps=384, algo="ppo", env="CartPole-v1"):
    return cli(["train", "--algo", algo, "--env", env, "--seed", str(seed), "--total-steps", str(steps),
                "--out", str(out), *TINY, *extra])


@pytest.fixture()
def wrap_agent(monkeypatch):
    """Replace the runner's agent factory so a test can act between updates (Ctrl-C, NaN, capture)."""
    from minirl.runs import driver as train_run
    made = []

    def install(after_update=None):
        real = train_run.build_agent

        def build(spec):
            agent = real(spec)
            inner = agent.learn_iter

            def learn_iter(total_steps):
                for k, row in enumerate(inner(total_steps)):
                    yield row
                    if after_update is not None:
                        after_update(agent, k)          # runs after the runner logged/checkpointed row k
            agent.learn_iter = learn_iter
            made.append(agent)
            return agent
        monkeypatch.setattr(train_run, "build_agent", build)
        return made
    return install


def test_train_writes_contract_files_and_resume_appends(tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(run, steps=384) == 0
    for name in ("config.json", "progress.csv", "summary.json", "checkpoint.npz"):
        assert (run / name).is_file(), f"{name} missing"
    header = _header(run / "progress.csv")
    assert header[:4] == CONTRACT_COLUMNS and set(PPO_DIAGNOSTICS) <= set(header)
    log = read_csv(run / "progress.csv")
    np.testing.assert_array_equal(log["step"], [128, 256, 384])          # 2 envs x 64 steps per update
    summary = _json(run / "summary.json")
    assert set(SUMMARY_KEYS) <= set(summary) and summary["interrupted"] is False
    assert summary["solved_step"] is None and summary["final_step"] == 384
    assert summary["final_return_mean"] == pytest.approx(log["return_mean"][-1])
    config = _json(run / "config.json")
    assert (config["algo"], config["env_id"], config["seed"]) == ("ppo", "CartPole-v1", 0)
    assert config["config"]["num_envs"] == 2 and config["config"]["num_steps"] == 64
    assert config["used_preset"] is True
    assert load_checkpoint(run / "checkpoint.npz", algo="ppo", env_id="CartPole-v1").step == 384

    # a second `train` into the same folder is refused (it would destroy the run)
    assert _train(run, steps=384) == 2
    assert "--resume" in capsys.readouterr().err

    # resume continues the step count and appends to the same progress.csv
    assert cli(["train", "--resume", str(run), "--total-steps", "768", "--no-progress"]) == 0
    log2 = read_csv(run / "progress.csv")
    np.testing.assert_array_equal(log2["step"], [128, 256, 384, 512, 640, 768])
    np.testing.assert_array_equal(log2["return_mean"][:3], log["return_mean"])
    assert all(np.diff(log2["time_s"]) >= 0) and all(np.diff(log2["episodes"]) >= 0)
    with open(run / "progress.csv") as f:
        assert sum(line.startswith("step,") for line in f) == 1          # header written once
    assert _json(run / "summary.json")["final_step"] == 768
    assert load_checkpoint(run / "checkpoint.npz").step == 768


def test_ctrl_c_mid_update_stops_at_the_next_row_then_resumes_without_a_gap(tmp_path, wrap_agent, capsys):
    # a real SIGINT arrives while the 4th update runs (after_update of row k runs inside learn_iter,
    # as the next update starts): the run finishes that update, logs it, checkpoints exactly that
    # state and stops; step, rows, updates and summary agree, and a resume continues with row 5
    import os
    import signal

    def interrupt(agent, k):
        if k == 2:
            os.kill(os.getpid(), signal.SIGINT)
    wrap_agent(interrupt)
    run = tmp_path / "run"
    assert _train(run, steps=1280) == 130
    assert "--resume" in capsys.readouterr().err
    log = read_csv(run / "progress.csv")
    np.testing.assert_array_equal(log["step"], [128, 256, 384, 512])
    np.testing.assert_array_equal(log["updates"], [1, 2, 3, 4])
    summary = _json(run / "summary.json")
    assert summary["interrupted"] is True and summary["stop_reason"] == "SIGINT" and summary["final_step"] == 512
    ck = load_checkpoint(run / "checkpoint.npz")
    assert ck.step == 512 and int(ck.state["counters.updates"]) == 4
    wrap_agent(None)
    assert cli(["train", "--resume", str(run), "--total-steps", "768", "--no-progress"]) == 0
    log = read_csv(run / "progress.csv")
    np.testing.assert_array_equal(log["step"], [128, 256, 384, 512, 640, 768])
    np.testing.assert_array_equal(log["updates"], [1, 2, 3, 4, 5, 6])
    assert _json(run / "summary.json")["interrupted"] is False


def test_an_interrupt_that_cannot_wait_keeps_the_last_checkpoint_and_drops_later_rows(tmp_path, wrap_agent, capsys):
    # a KeyboardInterrupt inside the agent (as a second Ctrl-C raises it) leaves the agent mid-update:
    # the checkpoint is not rewritten, and rows logged after it are dropped so that the folder agrees
    def interrupt(agent, k):
        if k == 2:
            raise KeyboardInterrupt
    wrap_agent(interrupt)
    run = tmp_path / "run"
    assert _train(run, steps=1280) == 130
    assert "kept the checkpoint at step 0" in capsys.readouterr().err
    assert len(read_csv(run / "progress.csv")["step"]) == 0
    summary = _json(run / "summary.json")
    assert summary["interrupted"] is True and summary["final_step"] == 0
    assert load_checkpoint(run / "checkpoint.npz").step == 0


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, wrap_agent, capsys):
    def poison_critic(agent, k):
        if k == 1:                              # after the 2nd update was logged and checkpointed
            for p in agent.value.parameters():
                p.data[...] = np.nan
    wrap_agent(poison_critic)
    run = tmp_path / "run"
    assert _train(run, "--checkpoint-every", "0", steps=1280) == 3
    err = capsys.readouterr().err
    assert "not finite" in err and "last good" in err
    summary = _json(run / "summary.json")
    assert summary["stop_reason"] == "nan" and "FloatingPointError" in summary["error"]
    assert len(read_csv(run / "progress.csv")["step"]) == 2
    ck = load_checkpoint(run / "checkpoint.npz")
    assert ck.step == 256
    assert all(np.isfinite(v).all() for k, v in ck.state.items() if v.dtype.kind == "f")


def test_eval_reloads_and_reloaded_policy_acts_the_same(tmp_path, wrap_agent, capsys):
    from minirl.runs.driver import load_run
    made = wrap_agent(None)
    run = tmp_path / "run"
    assert _train(run, steps=256) == 0
    trained = made[-1]
    reloaded, info, ck = load_run(run)
    obs = np.random.default_rng(0).normal(size=(64, 4)) * [1.0, 1.0, 0.1, 1.0]
    np.testing.assert_array_equal(reloaded.act(obs, deterministic=True), trained.act(obs, deterministic=True))
    # the sampling generator's state is in the checkpoint too: stochastic actions agree as well
    np.testing.assert_array_equal(reloaded.act(obs, deterministic=False), trained.act(obs, deterministic=False))
    capsys.readouterr()
    assert cli(["eval", str(run), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 deterministic episodes: return" in out and "±" in out


def test_corrupt_or_mismatched_checkpoint_is_refused(tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(run, steps=128) == 0
    good = (run / "checkpoint.npz").read_bytes()
    config = _json(run / "config.json")

    (run / "checkpoint.npz").write_bytes(good[: len(good) // 2])
    assert cli(["eval", str(run)]) == 2
    assert "corrupt" in capsys.readouterr().err
    assert cli(["train", "--resume", str(run), "--no-progress"]) == 2
    assert "corrupt" in capsys.readouterr().err

    (run / "checkpoint.npz").write_bytes(good)
    (run / "config.json").write_text(json.dumps({**config, "config": {**config["config"], "hidden_sizes": [32, 32]}}))
    assert cli(["eval", str(run)]) == 2
    assert "has shape" in capsys.readouterr().err

    (run / "config.json").write_text(json.dumps({**config, "env_id": "Acrobot-v1"}))
    assert cli(["eval", str(run)]) == 2
    assert "written for env 'CartPole-v1', not 'Acrobot-v1'" in capsys.readouterr().err

    (run / "config.json").write_text(json.dumps({**config, "algo": "reinforce", "config": {}}))
    assert cli(["eval", str(run)]) == 2
    assert "algo 'ppo', not 'reinforce'" in capsys.readouterr().err


@pytest.mark.parametrize("args,message", [
    (["--set", "clip_coef=0"], "clip_coef"),
    (["--lr", "-1"], "learning_rate"),
    (["--set", "gamma=1.5"], "gamma"),
    (["--set", "num_minibatches=3"], "num_minibatches"),
    (["--set", "no_such_thing=1"], "valid names"),
    (["--set", "clip_coef"], "NAME=VALUE"),
    (["--set", "update_epochs=two"], "update_epochs"),
    (["--set", "episodes_per_env=2"], "valid names"),           # a REINFORCE field given to PPO
])
def test_bad_overrides_fail_early_naming_the_field(tmp_path, capsys, args, message):
    run = tmp_path / "run"
    assert _train(run, *args, steps=128) == 2
    err = capsys.readouterr().err
    assert message in err
    assert not (run / "progress.csv").exists()                  # nothing started


def test_unknown_field_message_lists_valid_names(tmp_path, capsys):
    assert _train(tmp_path / "r", "--set", "clipcoef=0.1") == 2
    err = capsys.readouterr().err
    assert "clipcoef" in err and "clip_coef" in err and "learning_rate" in err


@pytest.mark.parametrize("env,message", [
    ("Blackjack-v1", "Tuple"),                  # a Tuple observation space
    ("NoSuchEnv-v0", "CartPole-v1"),           # unknown id: gymnasium's error + the preset list
])
def test_bad_env_fails_at_start(tmp_path, capsys, env, message):
    assert _train(tmp_path / "r", env=env) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_env_without_preset_uses_generic_defaults_and_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    assert _train(run, env="MountainCar-v0", steps=128) == 0
    assert "no ppo preset for MountainCar-v0" in capsys.readouterr().err
    assert _json(run / "config.json")["used_preset"] is False


def test_reinforce_through_the_cli(tmp_path):
    run = tmp_path / "run"
    code = cli(["train", "--algo", "reinforce", "--env", "CartPole-v1", "--seed", "3", "--total-steps", "300",
                "--num-envs", "2", "--no-progress", "--out", str(run)])
    assert code == 0
    log = read_csv(run / "progress.csv")
    assert _header(run / "progress.csv")[:4] == CONTRACT_COLUMNS
    assert log["step"][-1] >= 300 and np.all(log["episodes"] >= 2)
    assert cli(["eval", str(run), "--episodes", "1"]) == 0


def test_plot_writes_png(tmp_path, capsys):
    runs = []
    for seed in (0, 1):
        runs.append(tmp_path / f"ppo_s{seed}")
        assert _train(runs[-1], seed=seed, steps=512) == 0
    out = tmp_path / "fig" / "curves.png"
    assert cli(["plot", *map(str, runs), "--out", str(out), "--x", "time", "--stat", "mean"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ppo on CartPole-v1: 2 run(s)" in capsys.readouterr().out
    assert cli(["plot", str(tmp_path / "nothing"), "--out", str(out)]) == 2
    # a run with other hyperparameters is its own group, labelled with what differs
    runs.append(tmp_path / "ppo_clip")
    assert _train(runs[-1], "--set", "clip_coef=0.1", steps=512) == 0
    capsys.readouterr()
    assert cli(["plot", *map(str, runs), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ppo clip_coef=0.1 on CartPole-v1: 1 run(s)" in printed
    assert "ppo clip_coef=0.2 on CartPole-v1: 2 run(s)" in printed


def test_gif_writer_and_render_error(tmp_path, capsys):
    pytest.importorskip("PIL")
    from minirl.plotting.gif import save_gif
    frames = [np.full((24, 32, 3), 40 * i, dtype=np.uint8) for i in range(5)]
    path = save_gif(frames, str(tmp_path / "a.gif"), fps=10)
    from PIL import Image
    with Image.open(path) as im:
        assert im.format == "GIF" and im.n_frames == 5
    run = tmp_path / "run"
    assert _train(run, steps=128) == 0
    gif = tmp_path / "run.gif"
    code = cli(["eval", str(run), "--episodes", "1", "--gif", str(gif), "--max-frames", "5"])
    if code == 0:                                    # the env's renderer (pygame) is installed
        assert gif.read_bytes()[:3] == b"GIF"
    else:
        assert code == 2 and "pygame" in capsys.readouterr().err


@pytest.mark.parametrize("argv,needle", [
    (["--fps", "0"], "--fps must be a positive integer, got 0"),
    (["--fps", "-5"], "--fps must be a positive integer, got -5"),
    (["--max-frames", "0"], "--max-frames must be a positive integer, got 0"),
    (["--gif", "{tmp}/movie.png"], "ends in .png, but this command writes a .gif file"),
    (["--gif", "{unwritable}"], "cannot be written"),
])
def test_gif_settings_are_checked_before_any_episode_plays(tmp_path, capsys, monkeypatch, argv, needle):
    """Before: the episodes played first, then --fps 0 divided by zero, a read-only folder gave a traceback and
    movie.png was written as a GIF under a .png name."""
    from unwritable import unwritable_path
    import minirl.evaluation
    run = tmp_path / "run"
    assert _train(run, steps=128) == 0
    played = []
    monkeypatch.setattr(minirl.evaluation, "play_episodes", lambda *a, **k: played.append(a))
    argv = [a.format(tmp=tmp_path, unwritable=unwritable_path(tmp_path, "a.gif") if "{unwritable}" in a else "")
            for a in argv]
    if "--gif" not in argv:
        argv += ["--gif", str(tmp_path / "a.gif")]
    capsys.readouterr()
    assert cli(["eval", str(run), "--episodes", "1", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minirl eval: error: ") and needle in err and len(err.splitlines()) == 1, err
    assert played == [], "the episodes must not play before the GIF settings are checked"


def test_stop_return_ends_the_run_once_a_full_window_reaches_it(tmp_path):
    run = tmp_path / "run"
    assert _train(run, "--stop-return", "15", steps=50_000) == 0
    summary = _json(run / "summary.json")
    log = read_csv(run / "progress.csv")
    assert summary["stop_reason"] == "stop_return" and summary["final_step"] < 50_000
    assert log["episodes"][-1] >= 100 and log["return_mean"][-1] >= 15
    full_before = (log["episodes"][:-1] >= 100) & (log["return_mean"][:-1] >= 15)
    assert not full_before.any()                              # it stopped at the first such update


def test_real_sigint_to_the_command(tmp_path):
    """Ctrl-C for real: SIGINT to a `python -m minirl train` process mid-run."""
    import signal
    import subprocess
    import sys
    import time
    run = tmp_path / "run"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "minirl", "train", "--algo", "ppo", "--env", "CartPole-v1",
                             "--seed", "0", "--total-steps", "10000000", "--out", str(run), *TINY],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            # a shell that runs the suite in the background (`make test &`) makes its
                            # children ignore SIGINT, and Python then keeps ignoring it: restore it
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (run / "progress.csv").exists() and len(_lines(run / "progress.csv")) >= 3:
                break
            if proc.poll() is not None:
                pytest.fail(f"train exited early: {proc.communicate()[1].decode()[-2000:]}")
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err.decode()[-2000:]
    summary = _json(run / "summary.json")
    assert summary["interrupted"] is True
    log = read_csv(run / "progress.csv")
    assert load_checkpoint(run / "checkpoint.npz").step == summary["final_step"] >= log["step"][-1]


def test_a_run_saved_before_the_dtype_field_resumes_in_float64(tmp_path):
    """config.json files written before `dtype` existed came from float64 networks: keep them so."""
    from minirl.runs.driver import load_run
    run = tmp_path / "run"
    assert _train(run, "--dtype", "float64", steps=128) == 0
    config = _json(run / "config.json")
    del config["config"]["dtype"]
    with open(run / "config.json", "w") as f:
        json.dump(config, f)
    agent, _, _ = load_run(str(run))
    try:
        assert agent.config.dtype == "float64"
        assert {p.data.dtype for p in agent.params} == {np.dtype(np.float64)}
    finally:
        agent.close()
