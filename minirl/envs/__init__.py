"""Environments: differentiable twins, the toy language, and minirl's Gymnasium ids.

Importing this package (which `import minirl` does) registers the ids under the `minirl/` namespace:

| id | class | differentiable twin | reward_threshold |
|---|---|---|---|
| `minirl/Pendulum-v1` | `pendulum.PendulumEnv` | `pendulum.PendulumTwin` | -200 |
| `minirl/CliffCart-v0` | `cliffcart.CliffCartEnv` | `cliffcart.CliffCartTwin` | 70 |

`TWINS` maps each id with a differentiable twin to a function building it (the pathwise arms of
`minirl compare` accept only these ids); `make_twin(id)` builds one and says which ids exist.
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["TWINS", "make_twin"]


def _pendulum_twin():
    from .pendulum import PendulumTwin
    return PendulumTwin()


def _cliffcart_twin():
    from .cliffcart import CliffCartTwin
    return CliffCartTwin()


TWINS = {
    "minirl/Pendulum-v1": _pendulum_twin,
    "minirl/CliffCart-v0": _cliffcart_twin,
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
_register("minirl/CliffCart-v0", "minirl.envs.cliffcart:CliffCartEnv",
          max_episode_steps=100, reward_threshold=70.0)
