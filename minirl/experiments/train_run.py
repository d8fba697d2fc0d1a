"""The run loop behind `minirl train`: train an agent, log every update, checkpoint, summarise.

A run lives in one folder (`DIR`):

| file | written | holds |
|---|---|---|
| `config.json` | at the start | algo, env id, seed, budget, every hyperparameter (`config`), whether a preset was used |
| `progress.csv` | one row per update, flushed at once | `step,time_s,episodes,return_mean` + the agent's diagnostics |
| `checkpoint.npz` | at the start, every `checkpoint_every_s` seconds, at the end, on Ctrl-C | the agent's `state_dict()` + metadata (see `minirl.checkpoint`) |
| `summary.json` | at the end (also after Ctrl-C or a NaN stop) | `solved_step`, `solved_time_s`, `final_return_mean`, `total_time_s`, `steps_per_s`, `interrupted`, ... |

`return_mean` is the mean return of the last 100 completed training episodes (NaN before the first
one). The run is *solved* at the first logged update where `return_mean` >= the environment's
`spec.reward_threshold` with a full window (at least 100 episodes finished); `solved_step` and
`solved_time_s` record that update (null if never). `--stop-return R` ends the run at the first
update where a full window averages at least R.

Time (`time_s`) is wall-clock time spent in this loop, carried across resumes: a resumed run starts
its clock where the checkpoint left it. A resume may raise `--total-steps`; PPO anneals its learning
rate over the budget, so the schedule is stretched from that point on.

What can go wrong, and what is left on disk:

- Ctrl-C (KeyboardInterrupt): the log is flushed, a checkpoint of the current agent is written, the
  summary says `interrupted: true`; `minirl train --resume DIR` continues. The environments are
  not part of the checkpoint: a resumed run starts fresh episodes.
- A NaN in a loss (the agent raises FloatingPointError before applying the update): the run stops
  with the error in `summary.json` and *no* new checkpoint, so `checkpoint.npz` is the last good one.
- A hard kill (power loss, `kill -9`): every logged row is on disk and the checkpoint is the last
  complete one (saves are atomic). On resume, rows logged after the checkpoint's step are dropped so
  that `step` keeps increasing.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..checkpoint import CheckpointError, load_checkpoint, save_checkpoint, to_jsonable
from ..logger import CSVLogger, read_csv

__all__ = ["ALGOS", "WINDOW", "RunError", "config_class", "agent_class", "make_config",
           "build_agent", "reward_threshold", "start_run", "resume_run", "RunFiles", "coerce_value"]

# algo name -> (module, agent class, config class)
ALGOS = {
    "ppo": ("minirl.algos.ppo", "PPO", "PPOConfig"),
    "reinforce": ("minirl.algos.reinforce", "Reinforce", "ReinforceConfig"),
}
# state_dict entries whose shape legitimately changes during training (not checked on load)
VARIABLE_SHAPE = ("recent_returns",)
WINDOW = 100          # episodes in the `return_mean` window (the Gymnasium "solved" convention)

# Exit codes of a run (and of `minirl train`).
EXIT_OK, EXIT_NAN, EXIT_INTERRUPTED = 0, 3, 130


class RunError(ValueError):
    """Bad run arguments (unknown algo, bad override, existing run folder, ...); the message says which."""


@dataclass(frozen=True)
class RunFiles:
    """The paths of a run folder's files."""

    root: str

    @property
    def config(self) -> str:
        return os.path.join(self.root, "config.json")

    @property
    def progress(self) -> str:
        return os.path.join(self.root, "progress.csv")

    @property
    def checkpoint(self) -> str:
        return os.path.join(self.root, "checkpoint.npz")

    @property
    def summary(self) -> str:
        return os.path.join(self.root, "summary.json")


# ----------------------------------------------------------------------------------------------
# Algorithms, configs, presets
# ----------------------------------------------------------------------------------------------

def _algo_entry(algo: str):
    if algo not in ALGOS:
        raise RunError(f"unknown algo {algo!r}; choose from {sorted(ALGOS)}")
    return ALGOS[algo]


def agent_class(algo: str):
    module, cls, _ = _algo_entry(algo)
    return getattr(importlib.import_module(module), cls)


def config_class(algo: str):
    module, _, cls = _algo_entry(algo)
    return getattr(importlib.import_module(module), cls)


def _config_fields(cfg_cls) -> dict:
    import dataclasses
    return {f.name: f for f in dataclasses.fields(cfg_cls)}


def coerce_value(name: str, text, current):
    """Turn an override given as text into the type of the field's current value.

    bool: true/false/yes/no/1/0; int and float: numbers (ints accept "1e6"); tuple/list: comma
    separated ("64,64"); None (an optional field): JSON, else the text itself.
    """
    if not isinstance(text, str):
        return text
    t = text.strip()
    try:
        if isinstance(current, bool):
            low = t.lower()
            if low in ("true", "yes", "1", "on"):
                return True
            if low in ("false", "no", "0", "off"):
                return False
            raise ValueError("expected true/false")
        if isinstance(current, int):
            value = float(t)
            if not value.is_integer():
                raise ValueError("expected an integer")
            return int(value)
        if isinstance(current, float):
            return float(t)
        if isinstance(current, (tuple, list)):
            parts = [p for p in t.strip("()[]").split(",") if p.strip()]
            sample = current[0] if len(current) else 0
            items = [coerce_value(name, p, sample) for p in parts]
            return type(current)(items)
        if current is None:
            if t.lower() in ("none", "null"):
                return None
            try:
                return json.loads(t)
            except json.JSONDecodeError:
                return t
        return t
    except ValueError as exc:
        raise RunError(f"cannot read --set {name}={text!r} as {type(current).__name__} ({exc})") from None


def make_config(algo: str, env_id: str, overrides: dict | None = None):
    """The preset config for (algo, env_id) with `overrides` (name -> value or text) applied.

    Returns (config, used_preset). Unknown override names raise RunError naming the valid ones;
    impossible values raise the config's own validation error.
    """
    from ..algos import presets

    cfg_cls = config_class(algo)
    used_preset = (algo, env_id) in presets.PRESETS
    config = presets.preset(algo, env_id)
    overrides = dict(overrides or {})
    if not overrides:
        return config, used_preset
    fields = _config_fields(cfg_cls)
    unknown = sorted(k for k in overrides if k not in fields)
    if unknown:
        raise RunError(f"unknown hyperparameter(s) {unknown} for {algo}; valid names: {sorted(fields)}")
    current = config.to_dict()
    values = {}
    for k, v in overrides.items():
        optional = "None" in str(fields[k].type)
        if optional and isinstance(v, str) and v.strip().lower() in ("none", "null", "off"):
            values[k] = None
        else:
            values[k] = coerce_value(k, v, current.get(k))
    current.update(values)
    try:
        return cfg_cls.from_dict(current), used_preset
    except (TypeError, ValueError, KeyError) as exc:
        raise RunError(f"bad hyperparameter for {algo}: {exc}") from exc


def default_total_steps(algo: str, env_id: str) -> int:
    from ..algos import presets
    return int(presets.default_total_steps(algo, env_id))


def build_agent(algo: str, env_id: str, config, seed: int):
    """Construct the agent. (Tests replace this function to inject faults.)"""
    return agent_class(algo)(env_id, config, seed=seed)


def _construct(algo: str, env_id: str, config, seed: int):
    """build_agent, with a bad space or setting reported as a RunError (a gymnasium error passes as is)."""
    try:
        return build_agent(algo, env_id, config, seed)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise RunError(f"cannot train {algo} on {env_id}: {exc}") from exc


def _close(agent) -> None:
    close = getattr(agent, "close", None)
    if close is not None:
        close()


def reward_threshold(env_id: str) -> float | None:
    """The env's `spec.reward_threshold` (None if the env has none or is unknown)."""
    import gymnasium as gym
    try:
        value = gym.spec(env_id).reward_threshold
    except Exception:           # unknown id: the agent construction reports it properly
        return None
    return None if value is None else float(value)


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------

def _write_json(path: str, obj) -> None:
    """Write JSON atomically (temp file + os.replace)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(to_jsonable(obj), f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)


def _drop_rows_after(path: str, step: int) -> int:
    """Keep the header and the rows of `progress.csv` whose step <= `step`; return rows dropped."""
    if not os.path.exists(path):
        return 0
    with open(path, newline="") as f:
        lines = f.read().splitlines(keepends=True)
    if not lines:
        return 0
    header = lines[0].rstrip("\r\n").split(",")
    if "step" not in header:
        return 0
    j = header.index("step")
    keep, dropped = [lines[0]], 0
    for line in lines[1:]:
        cells = line.rstrip("\r\n").split(",")
        try:
            ok = len(cells) == len(header) and float(cells[j]) <= step
        except ValueError:
            ok = False
        if ok:
            keep.append(line if line.endswith("\n") else line + "\n")
        else:
            dropped += 1
    if dropped:
        tmp = path + ".tmp"
        with open(tmp, "w", newline="") as f:
            f.writelines(keep)
        os.replace(tmp, path)
    return dropped


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------

def _fmt(x) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def _recent_mean(agent) -> float:
    returns = list(getattr(agent, "recent_returns", []))
    return float(np.mean(returns)) if returns else math.nan


def _run_loop(agent, files: RunFiles, info: dict, *, total_steps: int, stop_return: float | None,
              bookkeeping: dict, append: bool, progress: bool, checkpoint_every_s: float,
              callback: Callable | None) -> int:
    """Iterate `agent.learn_iter`, logging, checkpointing and summarising. Returns an exit code."""
    threshold = reward_threshold(info["env_id"])
    time_offset = float(bookkeeping.get("time_s", 0.0))
    solved_step = bookkeeping.get("solved_step")
    solved_time_s = bookkeeping.get("solved_time_s")
    start_step = int(agent.global_step)
    stop_reason, error, code = "budget", None, EXIT_OK
    t0 = time.perf_counter()
    last_ckpt = t0

    def elapsed() -> float:
        return time_offset + (time.perf_counter() - t0)

    def checkpoint() -> None:
        save_checkpoint(files.checkpoint, agent.state_dict(), algo=info["algo"], env_id=info["env_id"],
                        step=int(agent.global_step), config=info["config"],
                        extra={"time_s": elapsed(), "solved_step": solved_step,
                               "solved_time_s": solved_time_s, "seed": info["seed"]})

    if not append:
        checkpoint()                                   # a good checkpoint exists from the first second

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=total_steps, initial=start_step, unit="step", unit_scale=True,
                   desc=f"{info['algo']} {info['env_id']} seed {info['seed']}", dynamic_ncols=True,
                   file=sys.stderr, smoothing=0.1)
    logger = CSVLogger(files.progress, append=append)
    last_row = None
    try:
        for row in agent.learn_iter(total_steps):
            row = dict(row)
            now = elapsed()
            row["time_s"] = now                      # the runner's clock, carried across resumes
            logger.write(row)
            last_row = row
            ret = float(row.get("return_mean", math.nan))
            full = int(row.get("episodes", 0)) >= WINDOW and math.isfinite(ret)
            if solved_step is None and threshold is not None and full and ret >= threshold:
                solved_step, solved_time_s = int(row["step"]), now
            if bar is not None:
                if int(row["step"]) > bar.total:          # the last update can overshoot the budget
                    bar.total = int(row["step"])
                bar.update(int(row["step"]) - bar.n)
                bar.set_postfix_str(f"return {_fmt(ret)} ({int(row.get('episodes', 0))} ep)", refresh=False)
            if callback is not None:
                callback(agent, row)
            if time.perf_counter() - last_ckpt >= checkpoint_every_s:
                checkpoint()
                last_ckpt = time.perf_counter()
            if stop_return is not None and full and ret >= stop_return:
                stop_reason = "stop_return"
                break
    except KeyboardInterrupt:
        stop_reason, code = "interrupted", EXIT_INTERRUPTED
    except FloatingPointError as exc:
        stop_reason, code, error = "nan", EXIT_NAN, f"{type(exc).__name__}: {exc}"
    finally:
        logger.close()
        if bar is not None:
            bar.close()

    if code != EXIT_NAN:
        checkpoint()                                   # the end state (also after Ctrl-C)
    total_time = elapsed()
    step = int(agent.global_step)
    summary = {
        "algo": info["algo"], "env_id": info["env_id"], "seed": info["seed"],
        "solved_step": solved_step, "solved_time_s": solved_time_s, "reward_threshold": threshold,
        "final_return_mean": _recent_mean(agent), "final_step": step,
        "episodes": int(getattr(agent, "episodes", 0)),
        "total_time_s": total_time, "steps_per_s": step / total_time if total_time > 0 else None,
        "session_steps_per_s": (step - start_step) / (total_time - time_offset)
        if total_time > time_offset else None,
        "stop_reason": stop_reason, "interrupted": stop_reason == "interrupted", "error": error,
        "total_steps": total_steps, "stop_return": stop_return,
    }
    if last_row is not None:
        summary["last_row"] = last_row
    _write_json(files.summary, summary)
    if code == EXIT_INTERRUPTED:
        print(f"interrupted at step {step}: log flushed, checkpoint written to {files.checkpoint}; "
              f"continue with `minirl train --resume {files.root}`", file=sys.stderr)
    elif code == EXIT_NAN:
        print(f"training stopped at step {step}: {error}. No checkpoint was written after it: "
              f"{files.checkpoint} holds the last good state. Try a smaller learning rate "
              "(--set learning_rate=...) or gradient clipping.", file=sys.stderr)
    return code


def start_run(out_dir: str, algo: str, env_id: str, seed: int, *, total_steps: int | None = None,
              stop_return: float | None = None, overrides: dict | None = None, progress: bool = True,
              checkpoint_every_s: float = 60.0, callback: Callable | None = None) -> int:
    """Start a new run in `out_dir` (which must not already hold one). Returns an exit code."""
    files = RunFiles(os.fspath(out_dir))
    if os.path.exists(files.progress) or os.path.exists(files.checkpoint):
        raise RunError(f"{out_dir} already holds a run; continue it with --resume {out_dir} "
                       "or choose another --out")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise RunError(f"seed must be a non-negative integer, got {seed!r}")
    config, used_preset = make_config(algo, env_id, overrides)
    if not used_preset:
        print(f"no {algo} preset for {env_id}: using the generic defaults "
              f"(override them with --set name=value)", file=sys.stderr)
    if total_steps is None:
        total_steps = default_total_steps(algo, env_id)
    if int(total_steps) <= 0:
        raise RunError(f"--total-steps must be positive, got {total_steps}")
    agent = _construct(algo, env_id, config, int(seed))     # fails early on a bad env or space
    os.makedirs(files.root, exist_ok=True)
    from .. import __version__
    info = {"algo": algo, "env_id": env_id, "seed": int(seed), "total_steps": int(total_steps),
            "stop_return": stop_return, "used_preset": bool(used_preset),
            "config": config.to_dict(), "minirl_version": __version__}
    _write_json(files.config, info)
    try:
        return _run_loop(agent, files, info, total_steps=int(total_steps), stop_return=stop_return,
                         bookkeeping={}, append=False, progress=progress,
                         checkpoint_every_s=checkpoint_every_s, callback=callback)
    finally:
        _close(agent)


def load_run(run_dir: str):
    """Rebuild the agent of a run folder from `config.json` and `checkpoint.npz`.

    Returns (agent, info, checkpoint); call `agent.close()` when done (it holds environments). A missing, corrupt or mismatched checkpoint raises
    `minirl.checkpoint.CheckpointError` with the reason.
    """
    files = RunFiles(os.fspath(run_dir))
    if not os.path.exists(files.config):
        raise RunError(f"{run_dir} is not a run folder (no config.json)")
    with open(files.config) as f:
        info = json.load(f)
    algo, env_id = info["algo"], info["env_id"]
    saved = dict(info["config"])
    saved.setdefault("dtype", "float64")           # runs saved before the `dtype` field computed in float64
    try:
        config = config_class(algo).from_dict(saved)
    except (TypeError, ValueError, KeyError) as exc:
        raise RunError(f"{files.config}: the saved config is not valid for {algo}: {exc}") from exc
    agent = _construct(algo, env_id, config, int(info["seed"]))
    try:
        ckpt = load_checkpoint(files.checkpoint, algo=algo, env_id=env_id, expected=agent.state_dict(),
                               any_shape=VARIABLE_SHAPE)
        try:
            agent.load_state_dict(ckpt.state)
        except (KeyError, ValueError) as exc:
            raise CheckpointError(f"{files.checkpoint}: the agent refused it: {exc}") from exc
    except BaseException:
        _close(agent)
        raise
    return agent, info, ckpt


def resume_run(run_dir: str, *, total_steps: int | None = None, stop_return: float | None = None,
               progress: bool = True, checkpoint_every_s: float = 60.0,
               callback: Callable | None = None) -> int:
    """Continue the run in `run_dir` from its checkpoint, appending to its progress.csv."""
    files = RunFiles(os.fspath(run_dir))
    agent, info, ckpt = load_run(run_dir)
    if total_steps is not None:
        info["total_steps"] = int(total_steps)
    if stop_return is not None:
        info["stop_return"] = stop_return
    _write_json(files.config, info)
    dropped = _drop_rows_after(files.progress, ckpt.step)
    if dropped:
        print(f"resume: dropped {dropped} row(s) of progress.csv logged after the checkpoint "
              f"(step {ckpt.step})", file=sys.stderr)
    if int(agent.global_step) >= info["total_steps"]:
        print(f"resume: the run is already at step {agent.global_step} of {info['total_steps']}; "
              "pass a larger --total-steps to train further", file=sys.stderr)
    try:
        return _run_loop(agent, files, info, total_steps=int(info["total_steps"]),
                         stop_return=info.get("stop_return"), bookkeeping=ckpt.extra, append=True,
                         progress=progress, checkpoint_every_s=checkpoint_every_s, callback=callback)
    finally:
        _close(agent)


def read_progress(run_dir: str) -> dict[str, np.ndarray]:
    """A run's progress.csv as column -> array (see `minirl.logger.read_csv`)."""
    return read_csv(RunFiles(os.fspath(run_dir)).progress)
