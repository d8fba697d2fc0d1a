"""Environments: differentiable twins, the toy language, and minirl's Gymnasium ids.

Importing this package (which `import minirl` does) registers the ids under the `minirl/` namespace:

| id | class | differentiable twin | reward_threshold |
|---|---|---|---|
| `minirl/Pendulum-v1` | `pendulum.PendulumEnv` | `pendulum.PendulumTwin` | -200 |
| `minirl/CliffCart-v0` | `cliffcart.CliffCartEnv` | `cliffcart.CliffCartTwin` | 70 |
| `minirl/PendulumRow-d1-v0` ... `-d16-v0` | `pendulum_row.PendulumRowEnv(d=...)` | `pendulum_row.PendulumRowTwin(d)` | `pendulum_row.THRESHOLDS` |

The `PendulumRow` family (d = 1, 2, 4, 8, 16 coupled pendulums, one motor each, each held at its own
target angle) is lesson 13's knob: the number of action dimensions.

`TWINS` maps each id with a differentiable twin to a function building it (the pathwise arms of
`minirl compare` accept only these ids); `make_twin(id)` builds one and says which ids exist.
"""

from __future__ import annotations

import gymnasium as gym

from .. import batch_envs
from .pendulum_row import DIMS as ROW_DIMS, THRESHOLDS as ROW_THRESHOLDS, row_id

__all__ = ["TWINS", "make_twin"]


def _pendulum_twin():
    from .pendulum import PendulumTwin
    return PendulumTwin()


def _cliffcart_twin():
    from .cliffcart import CliffCartTwin
    return CliffCartTwin()


def _row_twin(d: int):
    def make():
        from .pendulum_row import PendulumRowTwin
        return PendulumRowTwin(d)
    return make


TWINS = {
    "minirl/Pendulum-v1": _pendulum_twin,
    "minirl/CliffCart-v0": _cliffcart_twin,
    **{row_id(d): _row_twin(d) for d in ROW_DIMS},
}


def make_twin(env_id: str):
    """The differentiable twin of a Gymnasium id; an id without one fails naming those that have one."""
    if env_id not in TWINS:
        raise ValueError(f"no differentiable twin for {env_id!r}: pathwise methods need one; "
                         f"tasks with a twin: {sorted(TWINS)}")
    return TWINS[env_id]()


def _register(env_id: str, entry_point: str, **kwargs) -> None:
    if env_id not in gym.registry:            # importing twice (e.g. a reload) must not warn
        gym.register(id=env_id, entry_point=entry_point, **kwargs)


_register("minirl/Pendulum-v1", "minirl.envs.pendulum:PendulumEnv",
          max_episode_steps=200, reward_threshold=-200.0)
# minirl/Pendulum-v1 is stepped N at a time by the batch engine of its arithmetic
batch_envs.register("minirl/Pendulum-v1", batch_envs.TwinPendulumBatch)
_register("minirl/CliffCart-v0", "minirl.envs.cliffcart:CliffCartEnv",
          max_episode_steps=100, reward_threshold=70.0)
for _d in ROW_DIMS:
    _register(row_id(_d), "minirl.envs.pendulum_row:PendulumRowEnv", max_episode_steps=100,
              reward_threshold=ROW_THRESHOLDS[_d], kwargs={"d": _d})
