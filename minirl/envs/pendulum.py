"""Pendulum, twice: a differentiable twin on `Tensor`s and the same dynamics as a black-box Gymnasium env.

The dynamics are exactly Gymnasium's Pendulum-v1 (g = 10, m = l = 1, dt = 0.05, |u| <= 2,
|thdot| <= 8, 200 steps). With th the angle (0 = upright) and u the clipped torque:

    cost(th, thdot, u) = norm(th)^2 + 0.1 thdot^2 + 0.001 u^2          reward = -cost
    thdot' = clip(thdot + (3 g / (2 l) sin th + 3 / (m l^2) u) dt, -8, 8)   (semi-implicit Euler)
    th'    = th + thdot' dt

where norm(th) wraps th into [-pi, pi). The reward is computed from the state *before* the step.

`PendulumTwin` writes these lines with minirl's `Tensor` operations, so a whole rollout

    s_0 -> a_0 = pi(o(s_0)) -> (s_1, r_0) -> a_1 = pi(o(s_1)) -> ... -> (s_T, r_{T-1})

is one graph and `(sum_t r_t).backward()` gives the pathwise gradient d(return)/d(policy parameters)
(backpropagation through time). `PendulumEnv` runs the same operations on plain arrays behind the
ordinary `reset`/`step` interface: a black box that only returns floats.

Shapes (B = batch of parallel pendulums):

| name | shape | meaning |
|---|---|---|
| state | (B, 2) | [th, thdot], th unbounded (not wrapped), float64 |
| action | (B, 1) | torque, clipped to [-2, 2] inside `step` |
| obs | (B, 3) | [cos th, sin th, thdot] |
| reward | (B,) | -cost of the state and torque before the step |

Derivative notes: `clip` passes no gradient where a bound is active (a saturated torque or speed
limit), and the angle wrap adds a piecewise-constant multiple of 2 pi, so d norm(th)/d th = 1.
"""

from __future__ import annotations

import numpy as np
import gymnasium as gym
from gymnasium import spaces

from ..autograd import Tensor, stack, straight_through
from ..batch_envs import pendulum_step
from ._twin import as_batch, check_reset_args

__all__ = ["PendulumTwin", "PendulumEnv", "angle_normalize"]


def angle_normalize(th: Tensor) -> Tensor:
    """Wrap angles into [-pi, pi): th - 2 pi k, where the integer k is piecewise constant (gradient 1).

    The value is computed exactly as Gymnasium does, ((th + pi) mod 2 pi) - pi, and the gradient passes
    straight through to th.
    """
    wrapped = np.mod(th.data + np.pi, 2 * np.pi) - np.pi                   # same floats as Gymnasium
    return straight_through(wrapped, th)


class PendulumTwin:
    """The differentiable twin of Gymnasium's Pendulum-v1.

    `reset(rng, batch) -> state (B, 2)`, `step(state, action) -> (next_state (B, 2), reward (B,))`,
    `observe(state) -> obs (B, 3)`, `terminated(state) -> (B,) bool` (always False: Pendulum only ends
    at the time limit `horizon`). Inputs may be Tensors (gradients flow) or arrays.
    """

    name = "pendulum"
    gym_id = "minirl/Pendulum-v1"
    state_dim, obs_dim, act_dim = 2, 3, 1
    horizon = 200
    reward_threshold = -200.0
    may_terminate = False         # rollouts run to the time limit (a stacked SHAC relies on it)

    def __init__(self, g: float = 10.0):
        if not np.isfinite(g) or g <= 0:
            raise ValueError(f"PendulumTwin: gravity g must be a positive number, got {g!r}")
        self.g, self.m, self.l, self.dt = float(g), 1.0, 1.0, 0.05
        self.max_speed, self.max_torque = 8.0, 2.0
        self.action_low = np.array([-self.max_torque])
        self.action_high = np.array([self.max_torque])
        # the states the pendulum can be in (th modulo 2 pi): where `PathwiseConfig.start_wide` draws from
        self.state_box = (np.array([-np.pi, -self.max_speed]), np.array([np.pi, self.max_speed]))

    def reset(self, rng: np.random.Generator, batch: int) -> Tensor:
        """Initial states: th ~ U[-pi, pi], thdot ~ U[-1, 1] (as Gymnasium draws them)."""
        batch = check_reset_args(rng, batch)
        high = np.array([np.pi, 1.0])
        return Tensor(rng.uniform(low=-high, high=high, size=(batch, 2)))      # (B, 2)

    def observe(self, state) -> Tensor:
        state = as_batch("observe: state", state, 2)
        th, thdot = state[:, 0], state[:, 1]                                      # (B,), (B,)
        return stack([th.cos(), th.sin(), thdot], axis=1)                         # (B, 3)

    def step(self, state, action) -> tuple[Tensor, Tensor]:
        state = as_batch("step: state", state, 2)
        action = as_batch("step: action", action, 1)
        if action.shape[0] != state.shape[0]:
            raise ValueError(f"step: state batch {state.shape[0]} != action batch {action.shape[0]}")
        g, m, l, dt = self.g, self.m, self.l, self.dt
        th, thdot = state[:, 0], state[:, 1]                                      # (B,)
        u = action[:, 0].clip(-self.max_torque, self.max_torque)                  # (B,)
        cost = angle_normalize(th) ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2       # (B,)
        new_thdot = thdot + (3 * g / (2 * l) * th.sin() + 3.0 / (m * l ** 2) * u) * dt
        new_thdot = new_thdot.clip(-self.max_speed, self.max_speed)
        new_th = th + new_thdot * dt
        return stack([new_th, new_thdot], axis=1), -cost                          # (B, 2), (B,)

    def terminated(self, state) -> np.ndarray:
        return np.zeros(np.shape(state.data if isinstance(state, Tensor) else state)[0], dtype=bool)


class PendulumEnv(gym.Env):
    """The black box: `PendulumTwin`'s dynamics behind Gymnasium's API (registered as minirl/Pendulum-v1).

    Same spaces, initial-state distribution and rewards as Gymnasium's Pendulum-v1 (the same seed
    gives the same episode); the 200-step limit comes from the registration's TimeLimit wrapper.
    `reset(options={"x_init": ..., "y_init": ...})` sets the bounds of th and thdot, as in Gymnasium.
    `render_mode="rgb_array"` draws each frame with Gymnasium's own Pendulum renderer (pygame-ce, the
    `render` extra), so `minirl eval --gif` shows the same picture for either id.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None, g: float = 10.0):
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"minirl/Pendulum-v1 draws rgb_array frames only; render_mode must be None or "
                             f"'rgb_array', got {render_mode!r}")
        self.render_mode = render_mode
        self._painter = None                       # Gymnasium's Pendulum, used only to draw frames
        self.last_u = None
        self.twin = PendulumTwin(g)
        high = np.array([1.0, 1.0, self.twin.max_speed], dtype=np.float32)
        self.observation_space = spaces.Box(low=-high, high=high, dtype=np.float32)
        self.action_space = spaces.Box(low=-self.twin.max_torque, high=self.twin.max_torque,
                                       shape=(1,), dtype=np.float32)
        self.state = None
        t = self.twin
        self._constants = dict(g=t.g, m=t.m, l=t.l, dt=t.dt, max_speed=t.max_speed, max_torque=t.max_torque)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        options = options or {}
        high = np.array([float(options.get("x_init", np.pi)), float(options.get("y_init", 1.0))])
        self.state = self.np_random.uniform(low=-high, high=high)                 # (2,) float64
        self.last_u = None
        return self._obs(), {}

    def step(self, action):
        """The twin's step on plain arrays (`minirl.batch_envs.pendulum_step`: the same operations in the
        same order, so the same floats, without the Tensor bookkeeping; a test checks)."""
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(action, dtype=np.float64).reshape(1)
        self.last_u = float(np.clip(a[0], -self.twin.max_torque, self.twin.max_torque))   # drawn as the arrow
        th, thdot, reward = pendulum_step(self.state[:1], self.state[1:], a, **self._constants)
        self.state = np.concatenate([th, thdot])
        return self._obs(), float(reward[0]), False, False, {}

    def render(self):
        """The current frame, (500, 500, 3) uint8, drawn as Gymnasium draws Pendulum-v1 (None without render_mode)."""
        if self.render_mode is None:
            return None
        if self.state is None:
            raise RuntimeError("call reset() before render()")
        if self._painter is None:
            from gymnasium.envs.classic_control.pendulum import PendulumEnv as GymnasiumPendulum
            self._painter = GymnasiumPendulum(render_mode="rgb_array", g=self.twin.g)
        self._painter.state = np.array(self.state, dtype=np.float64)
        self._painter.last_u = self.last_u
        return self._painter.render()

    def close(self):
        if self._painter is not None:
            self._painter.close()
            self._painter = None

    def _obs(self) -> np.ndarray:
        th, thdot = self.state
        return np.array([np.cos(th), np.sin(th), thdot], dtype=np.float32)
