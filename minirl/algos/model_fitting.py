"""The real-data half of model-based RL: collecting transitions from a black box, fitting models to them.

Used by `minirl.algos.model_based` (SVG(H) through the learned models) and by the experiments that
measure model error (`minirl.experiments.model_error`).

* data: `Transitions` (real steps, episode by episode), `collect` (random or policy actions, the true
  env only), `make_env`;
* model fitting: `fit_dynamics` / `dynamics_error` (Eq. (1) of `minirl.algos.world_models`),
  `fit_reward_regression`, and the preference route: `scripted_judge` answers "which of two segments
  is better?", `preference_pairs` draws the questions, `fit_reward_preferences` fits a Bradley-Terry
  reward model to the answers, `preference_accuracy` scores it on held-out pairs.

A model fitted on fewer transitions than `min_transitions` warns with a `ModelWarning` that carries
its held-out error. Shapes of `Transitions` are in `minirl.algos.model_based`'s table.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

from ..autograd import no_grad
from ..checks import fraction, generator, nonnegative_int, number, positive_int
from ..optim import Adam
from ..rollout import check_finite
from .world_models import (DynamicsModel, RewardModel, bradley_terry_loss, dynamics_loss,
                           preference_probability, reward_regression_loss)

__all__ = ["ModelWarning", "Transitions", "make_env", "collect", "drive", "fit_dynamics", "prepare_dynamics",
           "finish_dynamics", "dynamics_error", "fit_reward_regression", "prepare_reward", "finish_reward",
           "scripted_judge", "preference_pairs", "fit_reward_preferences", "preference_accuracy"]


class ModelWarning(UserWarning):
    """A learned model was fitted on too little data; its held-out error is in the message."""


# ------------------------------------------------------------------------------------- data
@dataclasses.dataclass
class Transitions:
    """Real transitions, appended episode by episode (see the module's shape table)."""

    obs: np.ndarray
    act: np.ndarray
    rew: np.ndarray
    next_obs: np.ndarray
    episode: np.ndarray
    val: np.ndarray

    @classmethod
    def empty(cls, obs_dim: int, act_dim: int) -> "Transitions":
        return cls(np.zeros((0, obs_dim)), np.zeros((0, act_dim)), np.zeros(0), np.zeros((0, obs_dim)),
                   np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool))

    def __len__(self) -> int:
        return len(self.rew)

    def extend(self, other: "Transitions") -> "Transitions":
        return Transitions(*(np.concatenate([a, b]) for a, b in zip(dataclasses.astuple(self), dataclasses.astuple(other))))

    def subset(self, mask) -> "Transitions":
        return Transitions(*(a[mask] for a in dataclasses.astuple(self)))

    def noisy(self, obs_noise: float, reward_noise: float, rng: np.random.Generator) -> "Transitions":
        """A copy with Gaussian noise on the observations and the reward labels (sensor/label noise)."""
        if obs_noise == 0 and reward_noise == 0:
            return self
        out = dataclasses.replace(self)
        if obs_noise:
            out.obs = self.obs + obs_noise * rng.standard_normal(self.obs.shape)
            out.next_obs = self.next_obs + obs_noise * rng.standard_normal(self.next_obs.shape)
        if reward_noise:
            out.rew = self.rew + reward_noise * rng.standard_normal(self.rew.shape)
        return out


def make_env(env):
    """An env id (str) becomes `gymnasium.make(id)`; an env object is used as it is."""
    import gymnasium as gym

    if isinstance(env, str):
        from ..rollout import resolve_env_id
        resolve_env_id(env)                      # a module:Env-v0 id imports nothing the user did not name
        return gym.make(env)
    if not hasattr(env, "step") or not hasattr(env, "reset"):
        raise TypeError(f"env must be a Gymnasium id (str) or an environment, got {type(env).__name__}")
    return env


def _action_scale(env) -> float:
    space = env.action_space
    low, high = np.asarray(getattr(space, "low", np.nan)), np.asarray(getattr(space, "high", np.nan))
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high)) and np.allclose(low, -high)
            and np.allclose(high, high.flat[0])):
        raise ValueError(f"model-based training needs a bounded, symmetric Box action space "
                         f"[-a_max, a_max] (like Pendulum's [-2, 2]), got {space}")
    return float(high.flat[0])


class _Collector:
    """Steps a black-box env episode by episode and remembers episode returns (true env only)."""

    def __init__(self, env, rng: np.random.Generator, val_fraction: float):
        self.env, self.rng, self.val_fraction = env, rng, val_fraction
        self.obs_dim = int(np.prod(env.observation_space.shape))
        self.act_dim = int(np.prod(env.action_space.shape))
        self.scale = _action_scale(env)
        self.returns: list[float] = []
        self.episodes_started = 0
        self.steps = 0

    def run(self, policy, max_steps: int, n_episodes: int, min_steps: int = 0) -> Transitions:
        """`n_episodes` whole episodes, more while fewer than `min_steps` steps were taken (random
        actions if `policy` is None); never more than `max_steps` steps."""
        return drive(self.collecting(policy is None, max_steps, n_episodes, min_steps),
                     lambda obs: policy.act(obs, self.rng)[0])

    def collecting(self, random: bool, max_steps: int, n_episodes: int, min_steps: int = 0):
        """`run` as a generator: it yields each observation (obs_dim,) the policy must act on, takes
        back the policy's pre-squash action (act_dim,) by `send`, and returns the Transitions (so
        several seeds' collectors can share one stacked policy call per step: `drive`)."""
        rows = {k: [] for k in ("obs", "act", "rew", "next_obs", "episode")}
        done_eps = 0
        while (done_eps < n_episodes or len(rows["rew"]) < min_steps) and max_steps > 0:
            obs, _ = self.env.reset(seed=int(self.rng.integers(2 ** 31 - 1)))
            ep, ret, finished = self.episodes_started, 0.0, False
            self.episodes_started += 1
            while max_steps > 0:
                if random:
                    act = self.rng.uniform(-self.scale, self.scale, self.act_dim)
                else:
                    u = yield np.asarray(obs, dtype=np.float64)                        # (act_dim,)
                    act = self.scale * np.tanh(u)
                next_obs, r, terminated, truncated, _ = self.env.step(act.astype(self.env.action_space.dtype))
                if not np.isfinite(np.sum(next_obs) + r):     # one cheap test per step, as VecEnv.step
                    check_finite("observation", next_obs, getattr(self.env.spec, "id", None))
                    check_finite("reward", r, getattr(self.env.spec, "id", None))
                for key, value in (("obs", obs), ("act", act), ("rew", r), ("next_obs", next_obs), ("episode", ep)):
                    rows[key].append(np.asarray(value, dtype=np.float64))
                obs, ret, max_steps = next_obs, ret + float(r), max_steps - 1
                self.steps += 1
                if terminated or truncated:
                    finished = True
                    break
            if finished:
                self.returns.append(ret)
                done_eps += 1
        n = len(rows["rew"])
        if n == 0:
            return Transitions.empty(self.obs_dim, self.act_dim)
        return Transitions(np.stack(rows["obs"]).reshape(n, -1), np.stack(rows["act"]).reshape(n, -1),
                           np.array(rows["rew"]), np.stack(rows["next_obs"]).reshape(n, -1),
                           np.array(rows["episode"], dtype=np.int64), self.rng.random(n) < self.val_fraction)


def drive(collecting, act):
    """Run a collector's `collecting` generator to its end, answering each observation with `act(obs)`;
    its Transitions."""
    try:
        obs = next(collecting)
        while True:
            obs = collecting.send(act(obs))
    except StopIteration as end:
        return end.value


def collect(env, policy, rng: np.random.Generator, *, n_steps: int | None = None, n_episodes: int | None = None,
            val_fraction: float = 0.1) -> tuple[Transitions, list[float]]:
    """Real transitions from `env` with `policy` (None = uniform random actions).

    Give `n_steps` (stop after that many steps) and/or `n_episodes` (stop after that many complete
    episodes). Returns the transitions and the returns of the completed episodes.
    """
    if n_steps is None and n_episodes is None:
        raise ValueError("collect: give n_steps and/or n_episodes")
    for name, v in (("n_steps", n_steps), ("n_episodes", n_episodes)):
        if v is not None:
            positive_int("collect", name, v)
    fraction("collect", "val_fraction", val_fraction, one=False)
    generator("collect", rng)
    c = _Collector(make_env(env), rng, val_fraction)
    data = c.run(policy, n_steps if n_steps is not None else 10 ** 12,
                 n_episodes if n_episodes is not None else 10 ** 12)
    return data, c.returns


# ------------------------------------------------------------------------------------- model fitting
def _warn_if_small(what: str, n_train: int, min_transitions: int, error: float, error_name: str) -> None:
    if n_train < min_transitions:
        warnings.warn(f"{what} was trained on only {n_train} transitions (fewer than min_transitions="
                      f"{min_transitions}); its held-out {error_name} is {error:.3g}. A policy optimised "
                      "through it may exploit its errors: collect more data.", ModelWarning, stacklevel=3)


def _check_fit(who: str, rng, steps, batch, lr, optimizer, min_count=None, min_name="min_transitions") -> None:
    generator(who, rng)
    nonnegative_int(who, "steps", steps)
    positive_int(who, "batch", batch)
    number(who, "lr", lr, low=0, low_open=True)
    if optimizer is not None and not isinstance(optimizer, Adam):
        raise TypeError(f"{who}: optimizer must be an Adam or None, got {type(optimizer).__name__}")
    if min_count is not None:
        nonnegative_int(who, min_name, min_count)


def fit_dynamics(model: DynamicsModel, data: Transitions, rng: np.random.Generator, *, steps: int,
                 batch: int = 256, optimizer: Adam | None = None, lr: float = 1e-3,
                 min_transitions: int = 500) -> dict:
    """Adam on Eq. (1) over the training part of `data`; returns {"train_loss", "val_error", "n_train"}.

    `val_error` is the loss (1) on the held-out transitions: the mean squared error in normalised
    units, i.e. about the fraction of the deltas' variance the model leaves unexplained (1.0 = no
    better than predicting the mean delta). NaN if nothing is held out; `train_loss` is NaN for steps=0.
    """
    _check_fit("fit_dynamics", rng, steps, batch, lr, optimizer, min_transitions)
    train, val, target = prepare_dynamics(model, data)
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    loss = None
    for _ in range(steps):
        idx = rng.integers(0, len(train), size=min(batch, len(train)))
        opt.zero_grad()
        loss = dynamics_loss(model.normalised_delta(train.obs[idx], train.act[idx]), target[idx])
        loss.backward()
        opt.step()
    return finish_dynamics(model, float(loss.item()) if loss is not None else float("nan"), train, val,
                           min_transitions)


def prepare_dynamics(model: DynamicsModel, data: Transitions) -> tuple[Transitions, Transitions, np.ndarray]:
    """Split `data` into training and held-out parts, fit the model's normalisers to the training part;
    (train, val, normalised target deltas (N, D)). The first part of `fit_dynamics`."""
    train, val = data.subset(~data.val), data.subset(data.val)
    if len(train) < 2:
        raise ValueError(f"fit_dynamics: need at least 2 training transitions, got {len(train)}")
    model.fit_normalisers(train.obs, train.act, train.next_obs)
    return train, val, (train.next_obs - train.obs - model.delta_norm.mean) / model.delta_norm.std


def finish_dynamics(model: DynamicsModel, train_loss: float, train: Transitions, val: Transitions,
                    min_transitions: int) -> dict:
    """The held-out error, the warning if the data was small, the info dict. The last part of `fit_dynamics`."""
    val_error = dynamics_error(model, val)
    _warn_if_small("The dynamics model", len(train), min_transitions, val_error, "normalised MSE")
    return {"train_loss": train_loss, "val_error": val_error, "n_train": len(train)}


def dynamics_error(model: DynamicsModel, data: Transitions) -> float:
    """Loss (1) of `model` on `data` (normalised MSE of the one-step deltas); NaN for empty data."""
    if len(data) == 0:
        return float("nan")
    with no_grad():
        target = (data.next_obs - data.obs - model.delta_norm.mean) / model.delta_norm.std
        return float(dynamics_loss(model.normalised_delta(data.obs, data.act), target).item())


def fit_reward_regression(model: RewardModel, data: Transitions, rng: np.random.Generator, *, steps: int,
                          batch: int = 256, optimizer: Adam | None = None, lr: float = 1e-3,
                          min_transitions: int = 500) -> dict:
    """Adam on the squared error to the observed rewards; `val_error` = held-out MSE / Var(r)."""
    _check_fit("fit_reward_regression", rng, steps, batch, lr, optimizer, min_transitions)
    train, val, target = prepare_reward(model, data)
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    loss = None
    for _ in range(steps):
        idx = rng.integers(0, len(train), size=min(batch, len(train)))
        opt.zero_grad()
        pred = (model(train.obs[idx], train.act[idx]) - model.out_shift) * (1.0 / model.out_scale)
        loss = reward_regression_loss(pred, target[idx])
        loss.backward()
        opt.step()
    return finish_reward(model, float(loss.item()) if loss is not None else float("nan"), train, val,
                         min_transitions)


def prepare_reward(model: RewardModel, data: Transitions) -> tuple[Transitions, Transitions, np.ndarray]:
    """Split `data`, fit the model's input normaliser and output scale to the training part; (train, val,
    normalised reward labels (N,)). The first part of `fit_reward_regression`."""
    train, val = data.subset(~data.val), data.subset(data.val)
    if len(train) < 2:
        raise ValueError(f"fit_reward_regression: need at least 2 training transitions, got {len(train)}")
    model.fit_normalisers(train.obs, train.act)
    model.out_shift, model.out_scale = float(train.rew.mean()), float(max(train.rew.std(), 1e-6))
    return train, val, (train.rew - model.out_shift) / model.out_scale


def finish_reward(model: RewardModel, train_loss: float, train: Transitions, val: Transitions,
                  min_transitions: int) -> dict:
    """The held-out error (MSE / Var(r)), the warning if the data was small, the info dict."""
    val_error = float("nan")
    if len(val):
        with no_grad():
            err = model(val.obs, val.act).data - val.rew
        val_error = float(np.mean(err ** 2) / max(train.rew.var(), 1e-12))
    _warn_if_small("The reward model", len(train), min_transitions, val_error, "MSE / Var(r)")
    return {"train_loss": train_loss, "val_error": val_error, "n_train": len(train)}


def scripted_judge(return_a, return_b, rng: np.random.Generator, temperature: float = 0.0) -> np.ndarray:
    """The judge's answers to "is segment A better than B?" from the segments' TRUE returns.

    temperature 0: y = 1 if R_A > R_B, 0 if R_A < R_B, a coin flip on ties (a perfect judge);
    temperature T > 0: a Boltzmann-rational judge, y ~ Bernoulli(sigmoid((R_A - R_B) / T)).
    Shapes: (N,), (N,) -> (N,) of 0.0 / 1.0.
    """
    diff = np.asarray(return_a, dtype=np.float64) - np.asarray(return_b, dtype=np.float64)
    number("scripted_judge", "temperature", temperature, low=0)
    if np.isnan(diff).any():
        raise ValueError("scripted_judge: a segment return is NaN: the judge needs finite returns")
    if temperature == 0:
        coin = rng.random(diff.shape) < 0.5
        return np.where(diff > 0, 1.0, np.where(diff < 0, 0.0, coin.astype(np.float64)))
    return (rng.random(diff.shape) < preference_probability(diff / temperature, 0.0)).astype(np.float64)


def preference_pairs(data: Transitions, n_pairs: int, segment_len: int, rng: np.random.Generator,
                     temperature: float = 0.0) -> dict:
    """`n_pairs` random pairs of `segment_len`-step segments (each inside one episode), judged.

    Returns {"obs_a", "act_a", "obs_b", "act_b": (N, L, dim) arrays, "prefs": (N,), "return_a",
    "return_b": (N,) true segment returns (for evaluation only: the model never sees them)}.
    """
    L = positive_int("preference_pairs", "segment_len", segment_len)
    positive_int("preference_pairs", "n_pairs", n_pairs)
    generator("preference_pairs", rng)
    n = len(data)
    if n < L:
        raise ValueError(f"preference_pairs: segments of {L} steps need at least {L} transitions, got {n}")
    starts = np.flatnonzero(data.episode[:n - L + 1] == data.episode[L - 1:])     # segments within an episode
    if len(starts) == 0:
        raise ValueError(f"preference_pairs: no episode in the data is {L} steps long; lower segment_len")
    s = rng.choice(starts, size=(2, n_pairs))                              # (2, N) start indices
    idx = s[..., None] + np.arange(L)                                      # (2, N, L)
    ret = data.rew[idx].sum(axis=-1)                                       # (2, N) true segment returns
    return {"obs_a": data.obs[idx[0]], "act_a": data.act[idx[0]], "obs_b": data.obs[idx[1]],
            "act_b": data.act[idx[1]], "return_a": ret[0], "return_b": ret[1],
            "prefs": scripted_judge(ret[0], ret[1], rng, temperature)}


def fit_reward_preferences(model: RewardModel, pairs: dict, rng: np.random.Generator, *, steps: int,
                           batch: int = 64, optimizer: Adam | None = None, lr: float = 1e-3,
                           val_fraction: float = 0.1, min_pairs: int = 100) -> dict:
    """Adam on the Bradley-Terry loss (2) over judged pairs; returns held-out agreement with the judge.

    `val_accuracy`: on held-out pairs, how often sigmoid(R(A) - R(B)) > 1/2 agrees with the judge.
    """
    _check_fit("fit_reward_preferences", rng, steps, batch, lr, optimizer, min_pairs, "min_pairs")
    fraction("fit_reward_preferences", "val_fraction", val_fraction, one=False)
    N = len(pairs["prefs"])
    n_val = int(round(val_fraction * N))
    order = rng.permutation(N)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if len(train_idx) < 1:
        raise ValueError(f"fit_reward_preferences: need at least one training pair, got {N} pairs")
    D, A = pairs["obs_a"].shape[-1], pairs["act_a"].shape[-1]
    model.fit_normalisers(np.concatenate([pairs["obs_a"], pairs["obs_b"]]).reshape(-1, D),
                          np.concatenate([pairs["act_a"], pairs["act_b"]]).reshape(-1, A))
    model.out_shift, model.out_scale = 0.0, 1.0
    opt = optimizer if optimizer is not None else Adam(model.parameters(), lr=lr)
    loss = None
    for _ in range(steps):
        i = rng.choice(train_idx, size=min(batch, len(train_idx)))
        opt.zero_grad()
        loss = bradley_terry_loss(model.segment_score(pairs["obs_a"][i], pairs["act_a"][i]),
                                  model.segment_score(pairs["obs_b"][i], pairs["act_b"][i]), pairs["prefs"][i])
        loss.backward()
        opt.step()
    val_accuracy = float("nan")
    if n_val:
        val_accuracy = preference_accuracy(model, {k: v[val_idx] for k, v in pairs.items()})
    if len(train_idx) < min_pairs:
        warnings.warn(f"The preference reward model was trained on only {len(train_idx)} judged pairs "
                      f"(fewer than min_pairs={min_pairs}); its held-out agreement with the judge is "
                      f"{val_accuracy:.3g}. Ask the judge more questions.", ModelWarning, stacklevel=2)
    return {"train_loss": float(loss.item()) if loss is not None else float("nan"),
            "val_accuracy": val_accuracy, "n_train": len(train_idx)}


def preference_accuracy(model: RewardModel, pairs: dict, truth: str = "prefs") -> float:
    """Fraction of pairs where the model's preferred segment is the one the judge preferred
    (`truth="prefs"`) or the one with the higher true return (`truth="returns"`). Ties count 1/2."""
    with no_grad():
        d = (model.segment_score(pairs["obs_a"], pairs["act_a"]).data
             - model.segment_score(pairs["obs_b"], pairs["act_b"]).data)         # (N,)
    y = pairs["prefs"] if truth == "prefs" else np.sign(pairs["return_a"] - pairs["return_b"]) * 0.5 + 0.5
    model_says = np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5))
    return float(np.mean(1.0 - np.abs(model_says - y)))
