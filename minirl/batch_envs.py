"""A few classic-control tasks stepped as one NumPy batch, bit for bit what stepping them one by one gives.

`minirl.rollout.VecEnv` and the evaluation protocol step N copies of an environment. For most
Gymnasium tasks that is a Python loop over N `gymnasium.Env` objects, each step a few microseconds of
bookkeeping around a few floating-point operations. For the tasks below, the same operations are
written once over arrays of N states, so one call steps all of them:

| engine | Gymnasium ids | state | per-env step, one by one -> batched (N = 10) |
|---|---|---|---|
| `CartPoleBatch` | `CartPole-v1` | (N, 4) x, x_dot, theta, theta_dot | ~7 us -> ~1 us |
| `PendulumBatch` | `Pendulum-v1` | (N, 2) th, thdot | ~20 us -> ~3 us |
| `TwinPendulumBatch` | `minirl/Pendulum-v1` | (N, 2) th, thdot | ~50 us -> ~2 us |

**The same floats.** Each engine repeats its Gymnasium environment's arithmetic operation by
operation, in the same order (IEEE addition and multiplication give the same result on an array
element as on a scalar, and NumPy's sin and cos give the same result whatever the array's length),
(and where Gymnasium squares a NumPy scalar with C's pow, so does the engine), so observations, rewards and flags are identical to `gymnasium.make(id)` stepped one env at a time
(tests/test_batch_envs.py checks thousands of steps, resets and truncations). Each sub-environment
keeps its own random generator, made exactly as Gymnasium makes it (`reset(seed=s)` seeds env i's
generator; an autoreset continues it), and its own step counter for the registered time limit.

The engines follow `VecEnv`'s loop engine: `step(actions)` returns (obs (N, obs_dim) float64,
reward (N,), terminated (N,), truncated (N,), final {env index: last observation}), with the ended
sub-environments already reset (SAME_STEP autoreset). `engine_for(env_id)` gives the engine class of
an id, or None; `register(env_id, cls)` adds one (minirl's own Pendulum registers itself).
"""

from __future__ import annotations

import math
from typing import Sequence

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding

__all__ = ["BatchEnv", "CartPoleBatch", "PendulumBatch", "TwinPendulumBatch", "pendulum_step", "square", "c_pow2",
           "engine_for", "register"]


class BatchEnv:
    """N copies of one registered task with per-env generators and time limits (subclasses: the physics).

    Attributes mirror a vector env's: `num_envs`, `spec`, `observation_space`, `action_space`
    (of one sub-environment), and `reference` (one `gymnasium.make(id)`, where the constants are read).
    """

    obs_dim: int
    state_dim: int

    def __init__(self, env_id: str, num_envs: int):
        self.env_id, self.num_envs = env_id, int(num_envs)
        self.reference = gym.make(env_id)
        self.spec = self.reference.spec
        self.observation_space, self.action_space = self.reference.observation_space, self.reference.action_space
        self.max_steps = self.spec.max_episode_steps                        # the registered TimeLimit
        self._read_constants(self.reference.unwrapped)
        self.rngs: list = [None] * self.num_envs                              # one generator per sub-env
        self.state = np.zeros((self.num_envs, self.state_dim))
        self.elapsed = np.zeros(self.num_envs, dtype=np.int64)

    def _read_constants(self, env) -> None:
        raise NotImplementedError

    def _initial_state(self, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    def _observe(self, state: np.ndarray) -> np.ndarray:
        """(k, state_dim) -> (k, obs_dim) float64 (the env's float32 observation, widened)."""
        raise NotImplementedError

    def _physics(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance self.state in place; return (rewards (N,), terminated (N,) bool)."""
        raise NotImplementedError

    def reset_one(self, i: int, seed: int | None = None) -> np.ndarray:
        """Reset sub-env i as `env.reset(seed=seed)` would (None: continue its generator); its observation."""
        if seed is not None or self.rngs[i] is None:
            self.rngs[i], _ = seeding.np_random(seed)
        self.state[i] = self._initial_state(self.rngs[i])
        self.elapsed[i] = 0
        return self._observe(self.state[i:i + 1])[0]

    def reset(self, seeds: Sequence[int | None]) -> np.ndarray:
        """Reset every sub-env (env i with seeds[i]); (N, obs_dim)."""
        return np.stack([self.reset_one(i, s) for i, s in enumerate(seeds)])

    def keep(self, indices: Sequence[int]) -> None:
        """Go on with the sub-environments `indices` only (their states, generators and step counters)."""
        self.rngs = [self.rngs[i] for i in indices]
        self.state, self.elapsed = self.state[indices], self.elapsed[indices]
        self.num_envs = len(self.rngs)

    def step(self, actions):
        rewards, terminated = self._physics(actions)
        self.elapsed += 1
        truncated = self.elapsed >= self.max_steps
        obs = self._observe(self.state)                                         # (N, obs_dim)
        final = {}
        for i in np.flatnonzero(terminated | truncated):                        # SAME_STEP autoreset
            final[int(i)] = obs[i].copy()
            obs[i] = self.reset_one(int(i))
        return obs, rewards, terminated, truncated, final

    def close(self) -> None:
        self.reference.close()


class CartPoleBatch(BatchEnv):
    """Gymnasium's CartPoleEnv (Euler integration), N at a time. Actions: integers 0 or 1 (N,)."""

    obs_dim, state_dim = 4, 4

    def _read_constants(self, env) -> None:
        if env.kinematics_integrator != "euler":
            raise ValueError("CartPoleBatch repeats the Euler integrator only")
        self.c = {k: getattr(env, k) for k in ("gravity", "masspole", "total_mass", "length", "polemass_length",
                                               "force_mag", "tau", "theta_threshold_radians", "x_threshold")}

    def _initial_state(self, rng):
        return rng.uniform(low=-0.05, high=0.05, size=(4,))

    def _observe(self, state):
        return state.astype(np.float32).astype(np.float64)

    def _physics(self, actions):
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,) or not ((actions == 0) | (actions == 1)).all():
            raise ValueError(f"CartPole: actions must be {self.num_envs} integers in {{0, 1}}, got {actions!r}")
        c = self.c
        x, x_dot, theta, theta_dot = self.state.T                             # (N,) each
        force = np.where(actions == 1, c["force_mag"], -c["force_mag"])
        costheta, sintheta = np.cos(theta), np.sin(theta)
        # the operations of CartPoleEnv.step, in its order
        temp = (force + c["polemass_length"] * np.square(theta_dot) * sintheta) / c["total_mass"]
        thetaacc = (c["gravity"] * sintheta - costheta * temp) / (
            c["length"] * (4.0 / 3.0 - c["masspole"] * np.square(costheta) / c["total_mass"]))
        xacc = temp - c["polemass_length"] * thetaacc * costheta / c["total_mass"]
        tau = c["tau"]
        x, x_dot = x + tau * x_dot, x_dot + tau * xacc
        theta, theta_dot = theta + tau * theta_dot, theta_dot + tau * thetaacc
        self.state = np.stack((x, x_dot, theta, theta_dot), axis=1)
        terminated = ((x < -c["x_threshold"]) | (x > c["x_threshold"])
                      | (theta < -c["theta_threshold_radians"]) | (theta > c["theta_threshold_radians"]))
        return np.ones(self.num_envs), terminated


def square(x: np.ndarray) -> np.ndarray:
    """x * x: what `x ** 2` gives on an array (NumPy's fast path), and so minirl's twin."""
    return x * x


def c_pow2(x: np.ndarray) -> np.ndarray:
    """C's pow(x, 2.0) element by element: what `x ** 2` gives on a NumPy scalar, and so Gymnasium's
    Pendulum. It is not always x * x: glibc's pow differs from it in the last bit for about 1 x in 1,000."""
    return np.array([math.pow(v, 2.0) for v in x.tolist()]).reshape(x.shape)


def pendulum_step(th, thdot, u, *, g: float, m: float, l: float, dt: float, max_speed: float,
                  max_torque: float, pow2=square) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Pendulum-v1 step on arrays of angles, speeds and torques (any equal shapes).

    Returns (new th, new thdot, reward), the reward -cost of the state and clipped torque before the
    step, with the operations in Gymnasium's order (see `minirl.envs.pendulum` for the equations);
    `pow2` squares (`square` for minirl's twin, `c_pow2` for Gymnasium's environment).
    """
    u = np.minimum(np.maximum(u, -max_torque), max_torque)
    wrapped = np.mod(th + np.pi, 2 * np.pi) - np.pi                          # angle_normalize
    cost = pow2(wrapped) + 0.1 * pow2(thdot) + 0.001 * pow2(u)
    new_thdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l ** 2) * u) * dt
    new_thdot = np.minimum(np.maximum(new_thdot, -max_speed), max_speed)
    return th + new_thdot * dt, new_thdot, -cost


class PendulumBatch(BatchEnv):
    """Gymnasium's PendulumEnv, N at a time. Actions (N, 1)."""

    obs_dim, state_dim = 3, 2
    pow2 = staticmethod(c_pow2)

    def _read_constants(self, env) -> None:
        source = getattr(env, "twin", env)                     # minirl's PendulumEnv keeps them on its twin
        self.c = {k: float(getattr(source, k)) for k in ("g", "m", "l", "dt", "max_speed", "max_torque")}

    def _initial_state(self, rng):
        return rng.uniform(low=-np.array([np.pi, 1.0]), high=np.array([np.pi, 1.0]))

    def _observe(self, state):
        th, thdot = state[:, 0], state[:, 1]
        return np.stack([np.cos(th), np.sin(th), thdot], axis=1).astype(np.float32).astype(np.float64)

    def _physics(self, actions):
        actions = np.asarray(actions, dtype=np.float64)
        if actions.shape != (self.num_envs, 1):
            raise ValueError(f"Pendulum: actions must have shape ({self.num_envs}, 1), got {actions.shape}")
        th, thdot, reward = pendulum_step(self.state[:, 0], self.state[:, 1], actions[:, 0], pow2=self.pow2,
                                          **self.c)
        self.state = np.stack([th, thdot], axis=1)
        return reward, np.zeros(self.num_envs, dtype=bool)


class TwinPendulumBatch(PendulumBatch):
    """minirl/Pendulum-v1 (`minirl.envs.pendulum.PendulumEnv`), N at a time: its squares are x * x."""

    pow2 = staticmethod(square)


_ENGINES: dict[str, type] = {"CartPole-v1": CartPoleBatch, "Pendulum-v1": PendulumBatch}


def register(env_id: str, cls: type) -> None:
    """Step `env_id` with the batch engine `cls` (its environment must do exactly cls's arithmetic)."""
    _ENGINES[env_id] = cls


def engine_for(env_id) -> type | None:
    """The batch engine class of a Gymnasium id, or None (then environments are stepped one by one)."""
    return _ENGINES.get(env_id) if isinstance(env_id, str) else None
