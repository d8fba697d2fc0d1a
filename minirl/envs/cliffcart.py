"""CliffCart: a twin where the gradient misleads, because the reward has a cliff the gradient cannot see.

A cart on a rail is paid its position every step, and the rail ends at a cliff at x = 1. Pushing
right earns more, until the cart goes over the edge: the episode *terminates* and all future pay is
lost. The best policy drives to the edge and brakes just before it (return about 82); a cart that
falls early earns little.

    v' = v + u dt,   x' = x + v' dt            u = clip(action, -1, 1), dt = 0.1
    alive' = [x' <= 1]                          falling over the edge ends the episode
    r = alive' * x' - 0.01 u^2

Why pathwise gradients fail here: the termination is a step function of x', so its derivative is
0 almost everywhere. Backpropagating through a rollout sees only "more x, more reward", never "over
the edge, no more reward", and keeps pushing the cart off the cliff, while a score-function method
(REINFORCE, PPO), which only looks at returns, learns to brake. This is the Heaviside example of the
gradient-estimator lesson, inside a control task.

Shapes (B = batch of carts):

| name | shape | meaning |
|---|---|---|
| state | (B, 2) | [x, v], float64; starts at x ~ U[-0.5, -0.3], v = 0 |
| action | (B, 1) | force, clipped to [-1, 1] |
| obs | (B, 2) | [x, v] (the state itself) |
| reward | (B,) | position after the step if still on the rail, minus 0.01 u^2 |
"""

from __future__ import annotations

import numpy as np
import gymnasium as gym
from gymnasium import spaces

from ..autograd import Tensor, no_grad, stack
from ._twin import as_batch, check_reset_args

__all__ = ["CliffCartTwin", "CliffCartEnv"]


class CliffCartTwin:
    """The differentiable twin of minirl/CliffCart-v0 (same interface as `PendulumTwin`).

    `terminated(state)` is True once the cart is over the edge; a rollout must stop collecting reward
    for those carts (the twin itself keeps integrating them, so batches stay rectangular).
    """

    name = "cliffcart"
    gym_id = "minirl/CliffCart-v0"
    state_dim, obs_dim, act_dim = 2, 2, 1
    horizon = 100
    may_terminate = True          # a cart over the edge ends its rollout
    reward_threshold = 70.0

    def __init__(self, edge: float = 1.0, dt: float = 0.1, max_force: float = 1.0, effort: float = 0.01):
        for field, value in (("edge", edge), ("dt", dt), ("max_force", max_force)):
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"CliffCartTwin: {field} must be a positive number, got {value!r}")
        if not np.isfinite(effort) or effort < 0:
            raise ValueError(f"CliffCartTwin: effort must be a number >= 0, got {effort!r}")
        self.edge, self.dt, self.max_force, self.effort = float(edge), float(dt), float(max_force), float(effort)
        self.action_low = np.array([-self.max_force])
        self.action_high = np.array([self.max_force])

    def reset(self, rng: np.random.Generator, batch: int) -> Tensor:
        batch = check_reset_args(rng, batch)
        x = rng.uniform(-0.5, -0.3, size=batch)
        return Tensor(np.stack([x, np.zeros_like(x)], axis=1))                    # (B, 2)

    def observe(self, state) -> Tensor:
        state = as_batch("observe: state", state, 2)
        return state                                                              # (B, 2)

    def step(self, state, action) -> tuple[Tensor, Tensor]:
        state = as_batch("step: state", state, 2)
        action = as_batch("step: action", action, 1)
        if action.shape[0] != state.shape[0]:
            raise ValueError(f"step: state batch {state.shape[0]} != action batch {action.shape[0]}")
        x, v = state[:, 0], state[:, 1]                                           # (B,)
        u = action[:, 0].clip(-self.max_force, self.max_force)                    # (B,)
        new_v = v + u * self.dt
        new_x = x + new_v * self.dt
        alive = (new_x.data <= self.edge).astype(np.float64)                      # (B,) a step function: no gradient
        reward = new_x * alive - self.effort * u ** 2                             # (B,)
        return stack([new_x, new_v], axis=1), reward

    def terminated(self, state) -> np.ndarray:
        data = state.data if isinstance(state, Tensor) else np.asarray(state)
        return data[:, 0] > self.edge                                             # (B,) bool


class CliffCartEnv(gym.Env):
    """The black box: `CliffCartTwin` behind Gymnasium's API (registered as minirl/CliffCart-v0, 100 steps)."""

    metadata = {"render_modes": []}

    def __init__(self, render_mode=None):
        if render_mode is not None:
            raise ValueError(f"minirl/CliffCart-v0 draws nothing; render_mode must be None, got {render_mode!r}")
        self.twin = CliffCartTwin()
        self.observation_space = spaces.Box(low=-np.inf, high=np.inf, shape=(2,), dtype=np.float32)
        self.action_space = spaces.Box(low=-self.twin.max_force, high=self.twin.max_force,
                                       shape=(1,), dtype=np.float32)
        self.state = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.twin.reset(self.np_random, 1).data[0]                   # (2,)
        return self.state.astype(np.float32), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(action, dtype=np.float64).reshape(1, 1)
        with no_grad():
            next_state, reward = self.twin.step(self.state[None, :], a)
        self.state = next_state.data[0]
        terminated = bool(self.twin.terminated(next_state)[0])
        return self.state.astype(np.float32), float(reward.data[0]), terminated, False, {}
