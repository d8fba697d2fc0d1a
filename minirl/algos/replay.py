"""A replay buffer of transitions (s, a, r, s', terminated) for off-policy learning (SAC).

A ring of `capacity` slots: once full, each new transition overwrites the oldest. `sample` draws a
minibatch uniformly with replacement (as stable-baselines3 and CleanRL do). Only `terminated` is
stored, not `truncated`: a time-limit cut is not an end of the MDP, so its transition bootstraps
from s' like any other (and s' is the true final observation, `minirl.rollout.Step.next_obs`).

| array | shape | dtype |
|---|---|---|
| `obs`, `next_obs` | (capacity, obs_dim) | `dtype` (the networks' precision) |
| `actions` | (capacity, act_dim) | `dtype` (SAC stores the squashed action in [-1, 1]) |
| `rewards` | (capacity,) | `dtype` |
| `terminated` | (capacity,) | bool |

Checkpoints: `state_dict()` saves only the filled part (a 1M buffer after 10k steps saves 10k rows),
plus the write position; `load_state_dict` puts it back into a buffer of the same capacity.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ReplayBuffer", "VARIABLE_KEYS"]

_ARRAYS = ("obs", "actions", "rewards", "next_obs", "terminated")
VARIABLE_KEYS = tuple(f"replay.{k}" for k in _ARRAYS)     # entries whose length follows the fill level


class ReplayBuffer:
    def __init__(self, capacity: int, obs_dim: int, act_dim: int, dtype=np.float32):
        if not isinstance(capacity, (int, np.integer)) or capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be an integer >= 1, got {capacity!r}")
        self.capacity, self.dtype = int(capacity), np.dtype(dtype)
        self.obs = np.zeros((self.capacity, obs_dim), dtype=self.dtype)
        self.actions = np.zeros((self.capacity, act_dim), dtype=self.dtype)
        self.rewards = np.zeros(self.capacity, dtype=self.dtype)
        self.next_obs = np.zeros((self.capacity, obs_dim), dtype=self.dtype)
        self.terminated = np.zeros(self.capacity, dtype=bool)
        self.pos = 0            # next slot to write
        self.size = 0           # filled slots

    def __len__(self) -> int:
        return self.size

    def add(self, obs, actions, rewards, next_obs, terminated) -> None:
        """Store N transitions: obs, next_obs (N, obs_dim), actions (N, act_dim), rewards, terminated (N,)."""
        n = len(rewards)
        idx = (self.pos + np.arange(n)) % self.capacity if self.pos + n > self.capacity else slice(self.pos, self.pos + n)
        self.obs[idx], self.actions[idx], self.rewards[idx] = obs, actions, rewards
        self.next_obs[idx], self.terminated[idx] = next_obs, terminated
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.size + n, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """(obs, actions, rewards, next_obs, terminated) of `batch_size` transitions drawn uniformly."""
        if self.size == 0:
            raise ValueError("ReplayBuffer.sample: the buffer is empty")
        idx = rng.integers(0, self.size, batch_size)                          # (batch,)
        return (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminated[idx])

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, np.ndarray]:
        n = self.size
        state = {k: getattr(self, k)[:n] for k in _ARRAYS}
        state.update(pos=np.asarray(self.pos), size=np.asarray(n), capacity=np.asarray(self.capacity))
        return state

    def load_state_dict(self, state: dict) -> None:
        n, capacity = int(state["size"]), int(state["capacity"])
        if capacity != self.capacity:
            raise ValueError(f"ReplayBuffer: the checkpoint's buffer holds {capacity} slots, this one "
                             f"{self.capacity} (a different buffer_size)")
        for k in _ARRAYS:
            value = np.asarray(state[k])
            own = getattr(self, k)
            if value.shape[1:] != own.shape[1:] or len(value) != n:
                raise ValueError(f"ReplayBuffer: '{k}' has shape {value.shape}, expected ({n}, "
                                 f"{', '.join(map(str, own.shape[1:]))}) (a different environment?)")
            own[:n] = value
            own[n:] = 0
        self.pos, self.size = int(state["pos"]), n
