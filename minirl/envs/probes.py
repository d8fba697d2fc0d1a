"""Probe environments: tiny tasks whose right answer is known, to test an RL algorithm piece by piece.

When a full task fails to learn, the bug can be anywhere. Each probe isolates one piece (the idea is
from Andy Jones' "Debugging RL, without the agonizing pain", 2021):

| class | observation | reward | what a correct agent learns | tests |
|---|---|---|---|---|
| `ConstantReward` | 0 | 1, episode of one step | V(s) = 1 | the critic's regression |
| `ObsReward` | -1 or +1 at random | = observation, one step | V(s) = s | the critic uses the observation |
| `ActionReward` | 0 | discrete: 1 for action 1, 0 for 0; continuous: 1 - (a - 0.5)^2 | picks action 1 / a = 0.5 | the policy gradient's sign |
| `ObsActionReward` | -1 or +1 | discrete: 1 if action = (obs > 0); continuous: 1 - (a - 0.5 obs)^2 | action follows the observation | policy conditioning |
| `TwoStepDiscount` | 0 then 1 | 0 then 1, two steps | V(first) = gamma, V(second) = 1 | discounting, bootstrapping |
| `Survive` | 0, constant | 1 every step, *truncated* after `horizon` steps | V(s) = 1 / (1 - gamma) | truncation is bootstrapped, not treated as an end |

In `Survive` the observation does not reveal the time, so a critic that (wrongly) treats the time
limit as a termination can only learn the average of the truncated returns: for gamma = 0.9 and
horizon 20 about 6.1 instead of 10.

Each class takes `continuous=False` (a `Discrete(2)` action space) or `continuous=True` (a
`Box(-1, 1, (1,))` action space). The classes are *not* registered as Gymnasium ids: build them
through a factory, e.g. `PPO(lambda: ActionReward(continuous=True), config, seed=0)`.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["ProbeEnv", "ConstantReward", "ObsReward", "ActionReward", "ObsActionReward",
           "TwoStepDiscount", "Survive", "PROBES"]


class ProbeEnv(gym.Env):
    """Base class: a 1-D observation in [-1, 1] and a Discrete(2) or Box(-1, 1, (1,)) action space."""

    metadata = {"render_modes": []}

    def __init__(self, continuous: bool = False):
        self.continuous = bool(continuous)
        self.observation_space = gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32)
        self.action_space = (gym.spaces.Box(-1.0, 1.0, shape=(1,), dtype=np.float32) if self.continuous
                             else gym.spaces.Discrete(2))
        self._obs = 0.0

    def _observation(self) -> np.ndarray:
        return np.array([self._obs], dtype=np.float32)

    def _action_value(self, action) -> float:
        if self.continuous:
            return float(np.asarray(action, dtype=np.float64).reshape(-1)[0])
        return float(int(action))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self._t = 0
        self._obs = self._first_obs()
        return self._observation(), {}

    def _first_obs(self) -> float:
        return 0.0

    def _random_sign(self) -> float:
        return float(self.np_random.choice([-1.0, 1.0]))


class ConstantReward(ProbeEnv):
    """One step, reward 1: V = 1."""

    def step(self, action):
        return self._observation(), 1.0, True, False, {}


class ObsReward(ProbeEnv):
    """Observation +-1 at random, reward = observation, one step: V(s) = s."""

    def _first_obs(self):
        return self._random_sign()

    def step(self, action):
        return self._observation(), float(self._obs), True, False, {}


class ActionReward(ProbeEnv):
    """One step; discrete: reward 1 for action 1, else 0; continuous: 1 - (a - 0.5)^2 (best a = 0.5)."""

    def step(self, action):
        a = self._action_value(action)
        reward = 1.0 - (a - 0.5) ** 2 if self.continuous else float(a == 1)
        return self._observation(), reward, True, False, {}


class ObsActionReward(ProbeEnv):
    """Observation +-1; discrete: reward 1 if action == (obs > 0); continuous: 1 - (a - 0.5 obs)^2."""

    def _first_obs(self):
        return self._random_sign()

    def step(self, action):
        a = self._action_value(action)
        if self.continuous:
            reward = 1.0 - (a - 0.5 * self._obs) ** 2
        else:
            reward = float(a == float(self._obs > 0))
        return self._observation(), reward, True, False, {}


class TwoStepDiscount(ProbeEnv):
    """Two steps: observation 0 (reward 0), then 1 (reward 1, end). V(0) = gamma, V(1) = 1."""

    def step(self, action):
        self._t += 1
        if self._t == 1:
            self._obs = 1.0
            return self._observation(), 0.0, False, False, {}
        return self._observation(), 1.0, True, False, {}


class Survive(ProbeEnv):
    """Reward 1 every step, never terminates, truncated after `horizon` steps: V = 1 / (1 - gamma)."""

    def __init__(self, continuous: bool = False, horizon: int = 20):
        super().__init__(continuous)
        if horizon < 1:
            raise ValueError(f"Survive: horizon must be >= 1, got {horizon}")
        self.horizon = int(horizon)

    def step(self, action):
        self._t += 1
        return self._observation(), 1.0, False, self._t >= self.horizon, {}


PROBES = {cls.__name__: cls for cls in (ConstantReward, ObsReward, ActionReward, ObsActionReward,
                                        TwoStepDiscount, Survive)}
