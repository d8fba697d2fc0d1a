"""Running observation normalisation and reward scaling (PPO implementation details for control).

Continuous-control observations mix units (angles, velocities in the tens) and rewards can be large;
networks learn faster when both are roughly unit-scale. Both statistics change during training and
are part of the trained agent: they are saved in its `state_dict` and applied again at evaluation.

| class | what it keeps | transform |
|---|---|---|
| `RunningMeanStd(shape)` | mean (shape), var (shape), count | - |
| `ObsNormalizer(obs_dim)` | running mean/var of observations | clip((o - mean) / sqrt(var + eps), -c, c) |
| `RewardScaler(num_envs, gamma)` | per-env discounted return R, running var of R | clip(r / sqrt(var(R) + eps), -c, c) |

Merging a batch into the running statistics uses the parallel-variance formula (Chan, Golub &
LeVeque, 1979): with (m_a, v_a, n_a) the running values and (m_b, v_b, n_b) the batch's,

    delta = m_b - m_a;  n = n_a + n_b;  m = m_a + delta n_b / n
    v = (v_a n_a + v_b n_b + delta^2 n_a n_b / n) / n

Reward scaling divides rewards by the standard deviation of a running *discounted return*, not of the
reward itself (the scheme of Engstrom et al., 2020, "Implementation matters in deep policy gradients").
The mean is not subtracted, so the sign of every reward is kept.

Each class takes `population=S` to keep S seeds' statistics side by side (`minirl.stacking`):
arrays get a leading seed axis and a batch axis of 1, batches come as (S, B, ...), and each seed's
statistics are exactly those of its single-seed run (every formula above is element-wise, and each
seed's batch mean and variance are reduced over its own rows).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RunningMeanStd", "ObsNormalizer", "RewardScaler"]


class RunningMeanStd:
    """Running mean and (population) variance of a stream of batches of shape (B, *shape).

    With `population=S`: mean and var (S, 1, *shape), count (S, 1, 1...); batches (S, B, *shape).
    """

    def __init__(self, shape: tuple = (), epsilon: float = 1e-4, population: int | None = None):
        shape = tuple(shape)
        self.shape, self.population = shape, population
        lead = () if population is None else (int(population), 1)
        self.mean = np.zeros(lead + shape, dtype=np.float64)
        self.var = np.ones(lead + shape, dtype=np.float64)
        # a tiny prior count avoids dividing by zero
        self.count = float(epsilon) if population is None else np.full(lead + (1,) * len(shape), float(epsilon))

    def update(self, batch: np.ndarray) -> None:
        batch = np.asarray(batch, dtype=np.float64)
        axis = 0 if self.population is None else 1                      # the batch axis
        if batch.shape[axis + 1:] != self.shape or (axis and batch.shape[0] != self.population):
            lead = "B" if not axis else f"{self.population}, B"
            raise ValueError(f"RunningMeanStd.update: batch shape {batch.shape} does not fit "
                             f"({', '.join([lead, *map(str, self.shape)])})")
        n_b = batch.shape[axis]
        if n_b == 0:
            return
        m_b, v_b = batch.mean(axis=axis, keepdims=bool(axis)), batch.var(axis=axis, keepdims=bool(axis))
        n_a = self.count
        n = n_a + n_b
        delta = m_b - self.mean
        self.mean = self.mean + delta * (n_b / n)
        self.var = (self.var * n_a + v_b * n_b + delta * delta * (n_a * n_b / n)) / n
        self.count = n

    def state_dict(self, prefix: str = "") -> dict[str, np.ndarray]:
        return {f"{prefix}mean": self.mean.copy(), f"{prefix}var": self.var.copy(),
                f"{prefix}count": np.array(self.count)}

    def load_state_dict(self, state: dict, prefix: str = "") -> None:
        mean, var = np.asarray(state[f"{prefix}mean"]), np.asarray(state[f"{prefix}var"])
        if mean.shape != self.mean.shape or var.shape != self.var.shape:
            raise ValueError(f"normaliser statistics '{prefix}mean'/'{prefix}var' have shapes "
                             f"{mean.shape}/{var.shape}, expected {self.mean.shape}")
        self.mean, self.var = mean.astype(np.float64), var.astype(np.float64)
        count = np.asarray(state[f"{prefix}count"], dtype=np.float64)
        self.count = float(count) if self.population is None else count.reshape(np.shape(self.count)).copy()


class ObsNormalizer:
    """o -> clip((o - mean) / sqrt(var + eps), -clip, clip) with running statistics.

    Shapes: obs (B, obs_dim) -> (B, obs_dim), or (S, B, obs_dim) with `population=S`. `update=True`
    folds the batch into the statistics first (training); evaluation uses `update=False`.
    """

    def __init__(self, obs_dim: int, clip: float = 10.0, eps: float = 1e-8, population: int | None = None):
        if clip <= 0:
            raise ValueError(f"ObsNormalizer: clip must be > 0, got {clip}")
        self.rms = RunningMeanStd((obs_dim,), population=population)
        self.clip, self.eps = float(clip), float(eps)

    def __call__(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        obs = np.asarray(obs, dtype=np.float64)
        if update:
            lead = () if self.rms.population is None else (self.rms.population,)
            self.rms.update(obs.reshape(lead + (-1, self.rms.shape[0])))
        return np.clip((obs - self.rms.mean) / np.sqrt(self.rms.var + self.eps), -self.clip, self.clip)

    def state_dict(self, prefix: str = "obs_rms.") -> dict[str, np.ndarray]:
        return self.rms.state_dict(prefix)

    def load_state_dict(self, state: dict, prefix: str = "obs_rms.") -> None:
        self.rms.load_state_dict(state, prefix)


class RewardScaler:
    """r_t -> clip(r_t / sqrt(var(R) + eps), -clip, clip), with R <- gamma R (1 - done) + r per env.

    Shapes: rewards (N,), dones (N,) bool -> scaled rewards (N,), or (S, N) with `population=S`. The
    running discounted return R is reset to 0 after each finished episode (after it has been used for
    this step's statistics).
    """

    def __init__(self, num_envs: int, gamma: float, clip: float = 10.0, eps: float = 1e-8,
                 population: int | None = None):
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"RewardScaler: gamma must be in [0, 1], got {gamma}")
        if clip <= 0:
            raise ValueError(f"RewardScaler: clip must be > 0, got {clip}")
        self.rms = RunningMeanStd((), population=population)
        lead = () if population is None else (int(population),)
        self.ret = np.zeros(lead + (num_envs,), dtype=np.float64)  # (N,) or (S, N) running discounted return
        self.gamma, self.clip, self.eps = float(gamma), float(clip), float(eps)

    def __call__(self, rewards: np.ndarray, dones: np.ndarray) -> np.ndarray:
        rewards = np.asarray(rewards, dtype=np.float64)
        self.ret = self.ret * self.gamma + rewards
        self.rms.update(self.ret)
        self.ret = np.where(dones, 0.0, self.ret)
        return np.clip(rewards / np.sqrt(self.rms.var + self.eps), -self.clip, self.clip)

    def state_dict(self, prefix: str = "ret_rms.") -> dict[str, np.ndarray]:
        return {**self.rms.state_dict(prefix), f"{prefix}running_return": self.ret.copy()}

    def load_state_dict(self, state: dict, prefix: str = "ret_rms.") -> None:
        self.rms.load_state_dict(state, prefix)
        ret = np.asarray(state[f"{prefix}running_return"], dtype=np.float64)
        if ret.shape != self.ret.shape:
            raise ValueError(f"RewardScaler: saved running return has shape {ret.shape} "
                             f"(num_envs={ret.shape[0] if ret.ndim else '?'}), expected {self.ret.shape}")
        self.ret = ret.copy()
