"""The algorithms `minirl train` can run, and configs built from text (the command line, sweep files).

| name | agent | where its gradient comes from |
|---|---|---|
| `reinforce` | `minirl.algos.reinforce.Reinforce` | score function, E[grad log pi(a|s) (G - b)]: only `env.step` floats |
| `ppo` | `minirl.algos.ppo.PPO` | clipped score function with GAE: only `env.step` floats |
| `sac` | `minirl.algos.sac.SAC` | backprop through a *learned critic* Q(s, a), fitted to `env.step` floats |
| `shac` | `minirl.algos.pathwise.SHAC` | backprop through time through the task's differentiable twin |
| `svg` | `minirl.algos.model_based.SVG` | backprop through a *learned model* of the black box (dynamics + reward) |

Modules are imported only when an algorithm is used, so a broken or missing one fails alone. This
module imports no algorithm and no preset: `minirl.algos.presets` (tuned defaults) builds on it, and
`minirl.runs.spec` resolves a whole run from both.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass

__all__ = ["Algo", "ALGOS", "ConfigError", "agent_class", "config_class", "check_algo", "coerce_value", "apply_overrides"]

@dataclass(frozen=True)
class Algo:
    """One algorithm `minirl train` can run: where it lives, and what a task must offer it."""

    module: str
    agent: str                   # the agent class in `module`
    config: str                  # its config dataclass in `module`
    summary: str                 # one line, for --help
    needs_twin: bool = False     # trains through a differentiable twin of the task (`minirl.envs.TWINS`)
    needs_box: bool = False      # continuous (Box) actions only
    cost: float = 100.0          # rough CPU microseconds per env step (Pendulum presets): longest trials start first
    stacked: str | None = None   # "module.Class" of its stacked learner (S seeds in one process), if it has one


ALGOS: dict[str, Algo] = {
    "reinforce": Algo("minirl.algos.reinforce", "Reinforce", "ReinforceConfig",
                      "REINFORCE: score-function gradient (black box)", cost=100),
    "ppo": Algo("minirl.algos.ppo", "PPO", "PPOConfig", "PPO: clipped score-function gradient with GAE (black box)",
                cost=100, stacked="minirl.algos.ppo_stacked.StackedPPO"),
    "sac": Algo("minirl.algos.sac", "SAC", "SACConfig", "SAC: backprop through a learned critic Q(s, a)",
                needs_box=True, cost=2_000, stacked="minirl.algos.sac_stacked.StackedSAC"),
    "shac": Algo("minirl.algos.pathwise", "SHAC", "PathwiseConfig",
                 "SHAC: backprop through the differentiable twin (pathwise)", needs_twin=True, needs_box=True,
                 cost=400, stacked="minirl.algos.pathwise_stacked.StackedSHAC"),
    "svg": Algo("minirl.algos.model_based", "SVG", "ModelBasedConfig",
                "SVG: backprop through a learned model of the black box", needs_box=True, cost=5_000,
                stacked="minirl.algos.model_based_stacked.StackedSVG"),
}


class ConfigError(ValueError):
    """An unknown algorithm, an unknown hyperparameter or a value of the wrong type; one line."""


def _entry(algo: str) -> Algo:
    if algo not in ALGOS:
        raise ConfigError(f"unknown algo {algo!r}; choose from {sorted(ALGOS)}")
    return ALGOS[algo]


def agent_class(algo: str):
    entry = _entry(algo)
    return getattr(importlib.import_module(entry.module), entry.agent)


def config_class(algo: str):
    entry = _entry(algo)
    return getattr(importlib.import_module(entry.module), entry.config)


def coerce_value(name: str, text, current):
    """Turn an override given as text into the type of the field's current value.

    bool: true/false/yes/no/1/0; int and float: numbers (ints accept "1e6"); tuple/list: comma
    separated ("64,64"); None (an optional field): JSON, else the text itself. Non-text values
    pass unchanged (the config's own checks judge them).
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
            return type(current)(coerce_value(name, p, sample) for p in parts)
        if current is None:
            if t.lower() in ("none", "null"):
                return None
            try:
                return json.loads(t)
            except json.JSONDecodeError:
                return t
        return t
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"cannot read {name}={text!r} as {type(current).__name__} ({exc})") from None


def check_algo(algo: str) -> str:
    """`algo` if minirl can train it, else ConfigError naming the choices."""
    _entry(algo)
    return algo


def apply_overrides(algo: str, config, overrides: dict | None):
    """`config` with `overrides` (name -> value or text, read with the field's type) applied.

    Unknown names, unreadable text and invalid values raise ConfigError with one line naming the field.
    """
    overrides = dict(overrides or {})
    if not overrides:
        return config
    cfg_cls = config_class(algo)
    fields = {f.name: f for f in dataclasses.fields(cfg_cls)}
    unknown = sorted(k for k in overrides if k not in fields)
    if unknown:
        raise ConfigError(f"unknown hyperparameter(s) {unknown} for {algo}; valid names: {sorted(fields)}")
    current = config.to_dict()
    values = {}
    for k, v in overrides.items():
        optional = "None" in str(fields[k].type)
        if optional and isinstance(v, str) and v.strip().lower() in ("none", "null", "off"):
            values[k] = None
        else:
            values[k] = coerce_value(k, v, current.get(k))
    try:
        return cfg_cls.from_dict({**current, **values})
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(f"bad hyperparameter for {algo}: {str(exc).strip(chr(34))}") from None
