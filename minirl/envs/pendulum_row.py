"""A row of d pendulums, each held at its own target angle: a task family whose knob is the number of
action dimensions d.

Lesson 13 asks when the pathwise gradient pays, and the answer depends on the number of action
dimensions. This family keeps everything but d fixed. Pendulum i has Gymnasium Pendulum-v1's
dynamics (g = 10, m = l = 1, dt = 0.05, |u_i| <= 2, |thdot_i| <= 8; th = 0 is upright, th = pi
hangs down), its own motor, and its own target angle phi_i a little to the side of hanging
(|phi_i - pi| <= 0.35, where gravity's pull, 15 sin 0.35 = 5.1, is within the motor's 3 u_max = 6).
Neighbours pull on each other through a weak coupling, so the row is one system, not d tasks:

    c_i      = k [sin(th_{i-1} - th_i) + sin(th_{i+1} - th_i)]     (a missing neighbour adds 0; k = 1)
    thdot'_i = clip(thdot_i + (3 g / (2 l) sin th_i + 3 / (m l^2) u_i + c_i) dt, -8, 8)
    th'_i    = th_i + thdot'_i dt
    reward   = -1/d sum_i [2 (1 - cos(th_i - phi_i)) + 0.1 thdot_i^2 + 0.001 u_i^2]   (state before the step)

2 (1 - cos e) = (2 sin(e / 2))^2 is the squared chord between the pendulum and its target: e^2 for
small errors, smooth and periodic everywhere. Holding a pendulum off-centre takes a steady torque
against gravity plus feedback, and the coupling shifts what each motor must do with its neighbours'
angles. The reward is the *mean* over the d pendulums, so returns stay on one scale at every d:
doing nothing scores about -240 and a hand-written controller (gravity compensation plus PD feedback,
`reference_action`) -56 to -58, at every d (1,000 episodes each). Unlike Pendulum's swing-up, no energy has to be pumped in:
the gradient of the reward points the right way from almost every state, the regime where the papers
find pathwise gradients strong. (Pendulum itself, lesson 06, is the harder case for them.)

`PendulumRowTwin(d)` writes these lines with `Tensor` operations (the differentiable twin: backprop
through time gives the pathwise gradient), and `PendulumRowEnv(d)` runs the very same function under
`no_grad()` behind Gymnasium's `reset`/`step` (the black box). Registered ids, one per d in `DIMS`:
`minirl/PendulumRow-d1-v0`, `-d2-`, `-d4-`, `-d8-`, `-d16-` (`row_id(d)`), 100-step limit,
`reward_threshold` from `THRESHOLDS` (how each was set is written there).

Shapes (B = batch of rows, d = pendulums per row):

| name | shape | meaning |
|---|---|---|
| state | (B, 3d) | [th_1..d, thdot_1..d, phi_1..d - pi], th unbounded (not wrapped), float64 |
| action | (B, d) | torques, each clipped to [-2, 2] inside `step` |
| obs | (B, 4d) | [cos th_1..d, sin th_1..d, thdot_1..d, phi_1..d - pi] |
| reward | (B,) | minus the mean cost of the d pendulums before the step |

Initial states: th_i ~ U[-pi, pi] and thdot_i ~ U[-1, 1] (as Pendulum draws them), phi_i - pi ~
U[-0.35, 0.35], one (3, d) draw per row.
"""

from __future__ import annotations

import re

import numpy as np
import gymnasium as gym
from gymnasium import spaces

from ..autograd import Tensor, concatenate, no_grad
from ._twin import as_batch, check_reset_args

__all__ = ["DIMS", "FAMILY", "THRESHOLDS", "PendulumRowTwin", "PendulumRowEnv", "row_id", "dim_of",
           "reference_action"]

DIMS = (1, 2, 4, 8, 16)
FAMILY = "minirl/PendulumRow"
REACH = 0.35                 # |phi_i - pi| <= REACH: a target the motor can hold against gravity
COUPLING = 1.0

# reward_threshold per d, on the deterministic evaluation's mean return (10 episodes). The same at every
# d, because the reward is a mean over the pendulums and returns keep one scale: -60 is "about as good as
# the hand-written controller" (`reference_action` scores -56 to -58 at every d, 1,000 episodes each), a
# level every arm reaches at d = 1 and SHAC reaches at d = 16 (lesson 13, benchmarks/README.md).
THRESHOLDS = {1: -60.0, 2: -60.0, 4: -60.0, 8: -60.0, 16: -60.0}


def row_id(d: int) -> str:
    """The Gymnasium id of the row of `d` pendulums, e.g. 'minirl/PendulumRow-d4-v0' (d must be in DIMS)."""
    if d not in DIMS:
        raise ValueError(f"no registered row of {d!r} pendulums; registered d: {list(DIMS)}")
    return f"{FAMILY}-d{d}-v0"


def dim_of(env_id: str) -> int | None:
    """d of a PendulumRow id ('minirl/PendulumRow-d4-v0' -> 4), None for any other id."""
    match = re.fullmatch(re.escape(FAMILY) + r"-d(\d+)-v0", env_id)
    return int(match.group(1)) if match else None


def reference_action(state: np.ndarray, d: int) -> np.ndarray:
    """A hand-written controller, for scale: gravity compensation at the target plus PD feedback.

        u_i = clip(-5 sin(phi_i) + 3 sin(phi_i - th_i) - 0.8 thdot_i, -2, 2)     (states (B, 3d) -> (B, d))

    (-5 sin phi = 3 g / (2 l) sin phi / (3 / (m l^2)) holds a pendulum still at phi; the coupling
    is ignored.) It scores -56 to -58 at every d (1,000 episodes each): the scale of the threshold, -60.
    """
    state = np.asarray(state, dtype=np.float64)
    th, thdot, phi = state[:, :d], state[:, d:2 * d], state[:, 2 * d:] + np.pi
    return np.clip(-5.0 * np.sin(phi) + 3.0 * np.sin(phi - th) - 0.8 * thdot, -2.0, 2.0)


class PendulumRowTwin:
    """The differentiable twin of a row of d pendulums (same interface as `PendulumTwin`).

    `reset(rng, batch) -> state (B, 3d)`, `step(state, action) -> (next_state (B, 3d), reward (B,))`,
    `observe(state) -> obs (B, 4d)`, `terminated(state)` (always False: the row only ends at the
    time limit). Inputs may be Tensors (gradients flow) or arrays.
    """

    name = "pendulum_row"
    horizon = 100
    may_terminate = False         # rollouts run to the time limit (a stacked SHAC relies on it)

    def __init__(self, d: int = 1, coupling: float = COUPLING):
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
            raise ValueError(f"PendulumRowTwin: the number of pendulums d must be an integer >= 1, got {d!r}")
        if not np.isfinite(coupling) or coupling < 0:
            raise ValueError(f"PendulumRowTwin: coupling must be a number >= 0, got {coupling!r}")
        self.d, self.coupling = int(d), float(coupling)
        self.state_dim, self.obs_dim, self.act_dim = 3 * self.d, 4 * self.d, self.d
        self.gym_id = row_id(self.d) if self.d in DIMS and self.coupling == COUPLING else None
        self.reward_threshold = THRESHOLDS.get(self.d)
        self.g, self.m, self.l, self.dt = 10.0, 1.0, 1.0, 0.05
        self.max_speed, self.max_torque = 8.0, 2.0
        self.action_low = np.full(self.d, -self.max_torque)
        self.action_high = np.full(self.d, self.max_torque)
        high = np.repeat([np.pi, self.max_speed, REACH], self.d)                          # (3d,)
        self.state_box = (-high, high)             # every state a row can be in (th modulo 2 pi)

    def reset(self, rng: np.random.Generator, batch: int) -> Tensor:
        """th_i ~ U[-pi, pi], thdot_i ~ U[-1, 1], phi_i - pi ~ U[-0.35, 0.35] (one (3, d) draw per row)."""
        batch = check_reset_args(rng, batch)
        high = np.repeat([[np.pi], [1.0], [REACH]], self.d, axis=1)                     # (3, d)
        return Tensor(rng.uniform(low=-high, high=high, size=(batch, 3, self.d)).reshape(batch, 3 * self.d))

    def observe(self, state) -> Tensor:
        d = self.d
        state = as_batch("observe: state", state, 3 * d)
        th = state[:, :d]                                                               # (B, d)
        return concatenate([th.cos(), th.sin(), state[:, d:]], axis=1)                  # (B, 4d)

    def step(self, state, action) -> tuple[Tensor, Tensor]:
        d = self.d
        state = as_batch("step: state", state, 3 * d)
        action = as_batch("step: action", action, d)
        if action.shape[0] != state.shape[0]:
            raise ValueError(f"step: state batch {state.shape[0]} != action batch {action.shape[0]}")
        g, m, l, dt = self.g, self.m, self.l, self.dt
        th, thdot, offset = state[:, :d], state[:, d:2 * d], state[:, 2 * d:]          # (B, d) each
        u = action.clip(-self.max_torque, self.max_torque)                              # (B, d)
        error = th - (offset + np.pi)                                                   # (B, d) th_i - phi_i
        cost = 2.0 * (1.0 - error.cos()) + 0.1 * thdot ** 2 + 0.001 * u ** 2            # (B, d)
        accel = 3 * g / (2 * l) * th.sin() + 3.0 / (m * l ** 2) * u                    # (B, d)
        if d > 1 and self.coupling > 0:
            pull = (th[:, 1:] - th[:, :-1]).sin()                                       # (B, d-1) sin(th_{i+1} - th_i)
            zero = Tensor(np.zeros((th.shape[0], 1)))
            accel = accel + self.coupling * (concatenate([pull, zero], axis=1)          # from the right neighbour
                                             - concatenate([zero, pull], axis=1))        # from the left one
        new_thdot = (thdot + accel * dt).clip(-self.max_speed, self.max_speed)
        new_th = th + new_thdot * dt
        return concatenate([new_th, new_thdot, offset], axis=1), -cost.mean(axis=1)     # (B, 3d), (B,)

    def terminated(self, state) -> np.ndarray:
        return np.zeros(np.shape(state.data if isinstance(state, Tensor) else state)[0], dtype=bool)


class PendulumRowEnv(gym.Env):
    """The black box: `PendulumRowTwin(d)` behind Gymnasium's API (registered as minirl/PendulumRow-d<d>-v0).

    The 100-step limit comes from the registration's TimeLimit wrapper.
    """

    metadata = {"render_modes": []}

    def __init__(self, render_mode=None, d: int = 1):
        if render_mode is not None:
            raise ValueError(f"minirl/PendulumRow draws nothing; render_mode must be None, got {render_mode!r}")
        self.twin = PendulumRowTwin(d)
        d, top = self.twin.d, self.twin.max_speed
        high = np.concatenate([np.ones(2 * d), np.full(d, top), np.full(d, REACH)]).astype(np.float32)
        self.observation_space = spaces.Box(low=-high, high=high, dtype=np.float32)
        self.action_space = spaces.Box(low=-self.twin.max_torque, high=self.twin.max_torque, shape=(d,),
                                       dtype=np.float32)
        self.state = None

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.state = self.twin.reset(self.np_random, 1).data[0]                         # (3d,) float64
        return self._obs(), {}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("call reset() before step()")
        a = np.asarray(action, dtype=np.float64).reshape(1, self.twin.d)
        with no_grad():
            next_state, reward = self.twin.step(self.state[None, :], a)
        self.state = next_state.data[0]
        return self._obs(), float(reward.data[0]), False, False, {}

    def _obs(self) -> np.ndarray:
        with no_grad():
            return self.twin.observe(self.state[None, :]).data[0].astype(np.float32)
