"""What every training algorithm shares: configs, checkpointable state, counters, acting.

Every algorithm that `minirl train` can run (REINFORCE, PPO, SAC, SHAC, SVG) is an `Agent`:

| member | what the run driver (`minirl.runs.driver`) uses it for |
|---|---|
| `learn_iter(total_steps)` | a generator: trains, and yields one log row (a dict) per update |
| `global_step`, `episodes`, `updates` | env steps consumed (every transition: warm-up, model data, simulated twin steps; never evaluation), finished training episodes, updates |
| `recent_returns` | returns of the last 100 finished training episodes (`return_mean` is their mean) |
| `act(obs, deterministic=True)` | environment-ready actions for a batch of observations (evaluation, `minirl eval`) |
| `state_dict()` / `load_state_dict(state)` | everything needed to continue training, as named arrays (checkpoints) |
| `close()` | release environments |

The generator is paused at each `yield`, so between two rows the agent's state is exactly the state
the row describes: a driver that stops there (Ctrl-C, SIGTERM) checkpoints a consistent state.

`Agent` builds `state_dict` from `_parts()` ((prefix, object) pairs with `state_dict()` /
`load_state_dict()`: networks, optimisers, normalisers), the counters and the random generators,
and refuses a state with missing entries, another algorithm's name or mis-shaped arrays.

`EnvAgent` is the `Agent` that acts in a vector env of the black-box task (REINFORCE, PPO, SAC):
the env, the seeded random streams, the `act` input check, `_check_finite`, reload and close.

`ConfigMixin` gives config dataclasses `to_dict` / `from_dict` / `replace` and `check_types()`:
each field is checked against its annotation (a float field holds a finite number, an `int` field an
integer, `X | None` accepts None), so `--target-kl nan` or `beta="0.1"` fail at construction
with a message naming the field.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections import deque
from typing import Iterator

import numpy as np

__all__ = ["Agent", "EnvAgent", "ConfigMixin", "check_common_fields", "require"]

_TYPES = {"float": float, "int": int, "bool": bool, "str": str, "tuple": tuple}


def require(cond: bool, cls: str, field: str, value, accepted: str) -> None:
    """Raise ValueError("Cls.field = value is invalid; accepted: ...") unless `cond`."""
    if not cond:
        raise ValueError(f"{cls}.{field} = {value!r} is invalid; accepted: {accepted}")


def _type_ok(value, kind: str) -> bool:
    if kind == "float":
        return (isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
                and math.isfinite(float(value)))
    if kind == "int":
        return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    if kind == "bool":
        return isinstance(value, (bool, np.bool_))
    if kind == "str":
        return isinstance(value, str)
    if kind == "tuple":
        return isinstance(value, (tuple, list))
    return True                                           # an annotation this check does not know


class ConfigMixin:
    """`to_dict()` (JSON-ready), `from_dict(d)` (unknown keys are an error), `build(config, base)`,
    `replace(**changes)` and `check_types()` for config dataclasses (call it first in `__post_init__`)."""

    def to_dict(self) -> dict:
        return {f.name: (list(v) if isinstance(v := getattr(self, f.name), tuple) else v)
                for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict):
        """A config from a dict of fields (lists become tuples); an unknown name is a ValueError naming it."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown key(s) {unknown}; accepted keys: {sorted(names)}")
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items()})

    @classmethod
    def build(cls, config=None, base=None):
        """A config from None (`base`, else the defaults), a dict of fields to change in `base` (checked
        by `from_dict`), or an instance of this class (taken as it is)."""
        if isinstance(config, cls):
            return config
        base = cls() if base is None else base
        if config is None:
            return base
        if isinstance(config, dict):
            return cls.from_dict({**base.to_dict(), **config})
        raise TypeError(f"config must be None, a dict of {cls.__name__} fields or a {cls.__name__}, "
                        f"got {type(config).__name__}")

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return self.from_dict({**self.to_dict(), **changes})

    def check_types(self) -> None:
        """Each field against its annotation ("float", "int", "float | None", "tuple", ...)."""
        name = type(self).__name__
        for f in dataclasses.fields(self):
            kinds = [k.strip() for k in str(f.type).split("|")]
            value = getattr(self, f.name)
            if value is None and "None" in kinds:
                continue
            wanted = [k for k in kinds if k != "None"]
            if wanted and not any(_type_ok(value, k) for k in wanted):
                what = " or ".join({"float": "a finite number", "int": "an integer", "bool": "true/false",
                                    "str": "a string", "tuple": "a list"}.get(k, k) for k in wanted)
                none = " (or None)" if "None" in kinds else ""
                raise ValueError(f"{name}.{f.name} = {value!r} is invalid; accepted: {what}{none}")
            if "float" in wanted and isinstance(value, (int, np.integer, np.floating)):
                object.__setattr__(self, f.name, float(value))     # 1 -> 1.0, np.float32 -> float
            if "tuple" in wanted and isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))


def check_common_fields(c, name: str) -> None:
    """Validation shared by the REINFORCE and PPO configs (after `check_types`)."""
    require(c.learning_rate > 0, name, "learning_rate", c.learning_rate, "a finite number > 0")
    require(0.0 <= c.gamma <= 1.0, name, "gamma", c.gamma, "a number in [0, 1]")
    require(c.num_envs >= 1, name, "num_envs", c.num_envs, "an integer >= 1")
    require(c.adam_eps > 0, name, "adam_eps", c.adam_eps, "a number > 0")
    require(c.ent_coef >= 0, name, "ent_coef", c.ent_coef, "a number >= 0")
    require(c.max_grad_norm is None or c.max_grad_norm > 0, name, "max_grad_norm", c.max_grad_norm,
            "None (no clipping) or a number > 0")
    require(len(c.hidden_sizes) >= 1 and all(isinstance(h, int) and h > 0 for h in c.hidden_sizes),
            name, "hidden_sizes", c.hidden_sizes, "a non-empty tuple of positive integers")
    require(c.activation in ("tanh", "relu"), name, "activation", c.activation, "'tanh' or 'relu'")
    require(c.dtype in ("float32", "float64"), name, "dtype", c.dtype, "'float32' or 'float64'")
    require(c.policy_head_gain > 0 and c.value_head_gain > 0, name, "policy_head_gain/value_head_gain",
            (c.policy_head_gain, c.value_head_gain), "numbers > 0")


class Agent:
    """Counters, recent returns and checkpointable state of a training algorithm (see the module doc).

    Subclasses call `_init_counters()` in `__init__`, name their random generators in `self.rngs`
    (name -> np.random.Generator) and their checkpointable objects in `_parts()`, and implement
    `learn_iter` and `act`. `_load_extra(state)` / `_extra_state()` carry anything else.
    """

    algo = "base"
    VARIABLE_SHAPE = ("recent_returns",)        # state entries whose shape changes during training
    WINDOW = 100                                # episodes in the `return_mean` window

    def _init_counters(self) -> None:
        self.global_step = 0
        self.episodes = 0
        self.updates = 0
        self.train_time = 0.0
        self.recent_returns: deque = deque(maxlen=self.WINDOW)

    # ------------------------------------------------------------------ what subclasses provide
    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        raise NotImplementedError

    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        raise NotImplementedError

    def _parts(self) -> list[tuple[str, object]]:
        """(prefix, object with state_dict()/load_state_dict()); prefix "" keeps the object's own keys."""
        return []

    def _extra_state(self) -> dict:
        return {}

    def _load_extra(self, state: dict) -> None:
        pass

    def close(self) -> None:
        pass

    # ------------------------------------------------------------------ shared helpers
    def _record_episode(self, episode_return: float) -> None:
        self.recent_returns.append(float(episode_return))
        self.episodes += 1

    def _return_mean(self) -> float:
        return float(np.mean(self.recent_returns)) if self.recent_returns else float("nan")

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, np.ndarray]:
        """Everything needed to continue training: parts, counters, random generators, metadata."""
        state: dict[str, np.ndarray] = {}
        for prefix, part in self._parts():
            state.update({prefix + k: np.asarray(v).copy() for k, v in part.state_dict().items()})
        state.update({
            "counters.global_step": np.asarray(self.global_step), "counters.episodes": np.asarray(self.episodes),
            "counters.updates": np.asarray(self.updates), "counters.train_time": np.asarray(self.train_time),
            "recent_returns": np.asarray(list(self.recent_returns), dtype=np.float64),
            "meta.algo": np.asarray(self.algo), "meta.config": np.asarray(json.dumps(self.config.to_dict())),
        })
        state.update({f"{name}_state": np.asarray(json.dumps(g.bit_generator.state))
                      for name, g in self.rngs.items()})
        state.update(self._extra_state())
        return state

    def load_state_dict(self, state: dict) -> None:
        """Load a `state_dict`; a missing entry, a different algorithm or a mis-shaped array is refused."""
        own = self.state_dict()
        missing = sorted(k for k in own if k not in state and not k.startswith("meta."))
        if missing:
            raise ValueError(f"checkpoint refused: missing entries {missing[:8]}"
                             f"{' ...' if len(missing) > 8 else ''} (was it saved by a different algorithm "
                             f"or with other normalisation settings?)")
        if "meta.algo" in state and str(state["meta.algo"]) != self.algo:
            raise ValueError(f"checkpoint refused: it was saved by {str(state['meta.algo'])!r}, "
                             f"this agent is {self.algo!r}")
        for k, v in own.items():
            if k.startswith("meta.") or k.endswith("_state") and k[:-6] in self.rngs or k in self.VARIABLE_SHAPE:
                continue
            if np.shape(state[k]) != np.shape(v):
                raise ValueError(f"checkpoint refused: '{k}' has shape {np.shape(state[k])}, this agent "
                                 f"expects {np.shape(v)} (different environment, hidden sizes or num_envs?)")
        for prefix, part in self._parts():
            part.load_state_dict({k[len(prefix):]: np.asarray(state[k]) for k in own if k.startswith(prefix)}
                                 if prefix else state)
        self.global_step = int(state["counters.global_step"])
        self.episodes = int(state["counters.episodes"])
        self.updates = int(state["counters.updates"])
        self.train_time = float(state["counters.train_time"])
        self.recent_returns = deque((float(x) for x in np.asarray(state["recent_returns"])), maxlen=self.WINDOW)
        for name, g in self.rngs.items():
            g.bit_generator.state = json.loads(str(state[f"{name}_state"]))
        self._load_extra(state)


class EnvAgent(Agent):
    """An `Agent` that learns from a vector env of the black-box task (REINFORCE, PPO, SAC).

    `__init__` checks the config and the seed, builds `self.venv` (`minirl.rollout.VecEnv`, with
    `config.num_envs` copies), and three random streams from the seed:

    | stream | used for |
    |---|---|
    | `init_rng` | the networks' initial weights (the subclass builds them; not checkpointed) |
    | `rng` | sampling actions, minibatches, everything training draws |
    | `eval_rng` | `act(deterministic=False)` only, so acting never changes training |
    """

    def __init__(self, env, config, seed: int, config_type: type):
        from .presets import PRESET_ENV_IDS, preset
        if config is None:
            config = preset(self.algo, env if isinstance(env, str) else "")
        if not isinstance(config, config_type):
            raise TypeError(f"{type(self).__name__} needs a {config_type.__name__}, got {type(config).__name__}")
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        from ..rollout import VecEnv
        self.config, self.seed = config, int(seed)
        self.venv = VecEnv(env, config.num_envs, preset_ids=PRESET_ENV_IDS)
        self.env_id, self.env_source = self.venv.env_id, env     # (the id or factory: a stacked learner makes its envs)
        init_seq, sample_seq, eval_seq = np.random.SeedSequence(self.seed).spawn(3)
        self.init_rng = np.random.default_rng(init_seq)
        self.rng = np.random.default_rng(sample_seq)
        self.eval_rng = np.random.default_rng(eval_seq)
        self.rngs = {"rng": self.rng, "eval_rng": self.eval_rng}
        self._obs = None                                         # current observations (N, obs_dim)

    def _obs_batch(self, obs) -> tuple[np.ndarray, bool]:
        """`act`'s input as a batch (B, obs_dim) of float64, and whether it was one observation."""
        obs = np.asarray(obs, dtype=np.float64)
        if obs.shape[-1:] != (self.venv.obs_dim,):
            raise ValueError(f"act: observation shape {obs.shape} does not end in obs_dim={self.venv.obs_dim}")
        return obs.reshape(-1, self.venv.obs_dim), obs.ndim == 1

    def _check_finite(self, loss, what: str, info: dict | None = None) -> None:
        """FloatingPointError (the run stops, keeping its last good checkpoint) if `loss` is not finite."""
        if not np.isfinite(loss.data).all():
            details = "; " + ", ".join(f"{k}={v:.4g}" for k, v in info.items()) if info else ""
            raise FloatingPointError(
                f"{self.algo.upper()} {what} is not finite ({float(loss.data)}{details}): training diverged. The "
                "update was not applied; lower the learning rate or check the rewards/observations for inf/NaN.")

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._obs = None                                         # environments restart from a reset

    def close(self) -> None:
        self.venv.close()
