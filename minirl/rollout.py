"""Rollouts over Gymnasium 1.x vector environments, with episode statistics and true next states.

`VecEnv` runs N copies of one environment in lock step, with one of three engines (`vectorization`):

* `"batch"` (the default where there is one): the task's NumPy batch engine (`minirl.batch_envs`:
  CartPole-v1, Pendulum-v1, minirl/Pendulum-v1), one call for all N environments, bit for bit what
  the loop below gives (a test checks).
* `"sync"`: Gymnasium's own `SyncVectorEnv` (`gymnasium.make_vec(..., vectorization_mode="sync")`)
  with the `SAME_STEP` autoreset mode below.
* `"loop"` (the default for other tasks): the same semantics written out as a plain loop over the N environments
  (each made by `gymnasium.make`, wrappers and checks included). `SyncVectorEnv` spends about 5 us
  per sub-environment per step on bookkeeping (checking each action against the space, merging info
  dicts), which for CartPole is as much as the physics; the loop skips it. A test checks that both
  engines give identical observations, rewards, flags and final observations (for environments
  whose observations have their space's dtype; `SyncVectorEnv` rounds other observations, but not
  final ones, to the space's dtype, the loop keeps them as the env returned them).

Both:

* **Autoreset mode, chosen explicitly: `SAME_STEP`.** When a sub-environment's episode ends, the
  same `step` call resets it: the returned observation is already the first one of the next episode,
  and the last observation of the finished episode is kept aside (`info["final_obs"]` with "sync").
  `VecEnv.step` puts it back in place, so `Step.next_obs[i]` is always the true s'_t of the transition just taken
  (needed to bootstrap a truncated episode: see `minirl.returns`). With Gymnasium's other mode
  (`NEXT_STEP`) the *next* `step` call would do the reset and ignore its action, and every
  algorithm would have to mask that fake transition.
* **Episode statistics.** Undiscounted return and length of every finished episode (raw rewards, before
  any reward scaling), returned by `step` in `Step.finished` as (env index, return, length).
* **Space validation at construction.** Observations: a 1-D `Box`. Actions: `Discrete` or a 1-D `Box`
  with finite bounds. Anything else (Dict, Tuple, MultiDiscrete, MultiBinary, image observations)
  fails at once, naming the space.

| attribute / result | shape | meaning |
|---|---|---|
| `reset()` | (N, obs_dim) float64 | first observations |
| `Step.obs` | (N, obs_dim) | observations to act on next (already reset where an episode ended) |
| `Step.next_obs` | (N, obs_dim) | s'_t: the final observation where an episode ended, else `obs` |
| `Step.reward` | (N,) float64 | raw rewards |
| `Step.terminated`, `Step.truncated` | (N,) bool | MDP end / time-limit cut |
"""

from __future__ import annotations

import importlib
from typing import Callable, NamedTuple, Sequence

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from .batch_envs import engine_for

__all__ = ["VecEnv", "Step", "check_spaces", "SUPPORTED_SPACES", "collect_episodes", "Episode", "resolve_env_id",
           "check_finite", "allow_env_modules", "allowed_env_modules", "ENV_MODULES_VARIABLE"]

SUPPORTED_SPACES = ("observations: Box with shape (obs_dim,); "
                    "actions: Discrete(n) or Box with shape (act_dim,) and finite bounds")


class Step(NamedTuple):
    obs: np.ndarray            # (N, obs_dim)
    next_obs: np.ndarray       # (N, obs_dim)
    reward: np.ndarray         # (N,)
    terminated: np.ndarray     # (N,) bool
    truncated: np.ndarray      # (N,) bool
    finished: list             # [(env_index, episode_return, episode_length), ...]


def check_spaces(obs_space: gym.Space, act_space: gym.Space, where: str = "environment") -> None:
    """Raise ValueError naming the space if minirl cannot handle it."""
    if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
        kind = "image" if isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) >= 2 else "unsupported"
        raise ValueError(f"{where}: {kind} observation space {obs_space} is not supported; "
                         f"supported: {SUPPORTED_SPACES}")
    if isinstance(act_space, gym.spaces.Discrete):
        return
    if isinstance(act_space, gym.spaces.Box) and len(act_space.shape) == 1:
        if not (np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high))):
            raise ValueError(f"{where}: action space {act_space} has infinite bounds; "
                             f"supported: {SUPPORTED_SPACES}")
        return
    raise ValueError(f"{where}: action space {act_space} is not supported; supported: {SUPPORTED_SPACES}")


VECTORIZATIONS = ("auto", "batch", "loop", "sync")


ENV_MODULES_VARIABLE = "MINIRL_ENV_MODULES"    # the modules the user named (--env-module), comma-separated


def allowed_env_modules() -> set[str]:
    """The modules an env id of the `module:Env-v0` form may name: those the user named with
    `--env-module` (here or in the process that started this one: the variable is inherited)."""
    import os
    return {m for m in os.environ.get(ENV_MODULES_VARIABLE, "").split(",") if m}


def allow_env_modules(names) -> None:
    """Import each module the user named on the command line (`--env-module NAME`: it registers their
    ids) and let env ids name it, in this process and every process it starts. ValueError (one line)
    for a name that is not a module name or cannot be imported."""
    import os
    import re
    names = list(names or [])
    for name in names:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", name):
            raise ValueError(f"--env-module {name!r} is not a module name: give one like my_envs or pkg.envs")
        try:
            importlib.import_module(name)
        except Exception as exc:                       # noqa: BLE001 (the user's module: say what it raised)
            raise ValueError(f"--env-module {name}: cannot import it ({type(exc).__name__}: {exc}); is it on "
                             "PYTHONPATH (or in the current folder)?") from None
    if names:
        os.environ[ENV_MODULES_VARIABLE] = ",".join(sorted(allowed_env_modules() | set(names)))


def resolve_env_id(env_id: str) -> str:
    """The registry id of `env_id`; the `module:Env-v0` form (as `gym.make` accepts) names `module`.

    `gym.make` honours that form but `gym.spec` does not, so minirl resolves it once here and keeps
    the full string wherever an environment is made again (evaluation, resume).

    **Code is never imported because a file says so.** An env id may come from a run folder's
    config.json, a checkpoint or a sweep file, and folders are shared, downloaded and unzipped; with
    the current folder on `sys.path` (`python -m minirl`), a planted `module.py` would run. So the
    module is imported only if the user named it on the command line (`--env-module module`,
    `allow_env_modules`); otherwise gymnasium.error.Error says so in one line, before anything is imported.
    """
    if ":" not in env_id:
        return env_id
    module, _, name = env_id.partition(":")
    if module not in allowed_env_modules():
        raise gym.error.Error(f"env id {env_id!r} names the module {module!r}, and minirl imports a module only when "
                              f"you name it yourself: add --env-module {module} if you trust that code, or use a "
                              "registered id")
    try:
        importlib.import_module(module)
    except ImportError as exc:
        raise gym.error.Error(f"{env_id}: cannot import module {module!r} ({exc}); the module:Env-v0 form "
                              "needs the module that registers Env-v0 to be importable") from None
    return name


def check_finite(what: str, values, env_id) -> None:
    """Raise FloatingPointError naming the env if an observation or reward from it is NaN or inf."""
    values = np.asarray(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise FloatingPointError(f"environment {env_id!r} returned a non-finite {what} ({values.tolist()}): "
                                 "the environment is broken or its state diverged; nothing was learned from it")


def _make_vector_env(env, num_envs: int, preset_ids: Sequence[str], vectorization: str):
    """(engine, env id or None): a `SyncVectorEnv` ("sync"), a `minirl.batch_envs.BatchEnv` ("batch") or a
    list of N `gymnasium.Env` ("loop")."""
    kwargs = {"autoreset_mode": AutoresetMode.SAME_STEP}
    if isinstance(env, str):
        try:
            gym.spec(resolve_env_id(env))           # unknown ids fail here, before any env is built
        except gym.error.Error as exc:
            hint = f"\nminirl has tuned presets for: {', '.join(preset_ids)}" if preset_ids else ""
            raise type(exc)(f"{exc}{hint}") from exc
        try:
            if vectorization == "sync":
                return gym.make_vec(env, num_envs=num_envs, vectorization_mode="sync", vector_kwargs=kwargs), env
            if vectorization == "batch":
                return engine_for(env)(env, num_envs), env
            return [gym.make(env) for _ in range(num_envs)], env
        except gym.error.DependencyNotInstalled as exc:
            from .about import install_hint
            raise gym.error.DependencyNotInstalled(
                f"{exc}\n(minirl: `{install_hint('box2d')}` for LunarLander, "
                f"`{install_hint('mujoco')}` for MuJoCo tasks)") from exc
    if not callable(env):
        raise TypeError(f"env must be a Gymnasium id string or a zero-argument factory returning a "
                        f"gymnasium.Env, got {type(env).__name__}")
    first = env()
    if not isinstance(first, gym.Env):
        raise TypeError(f"the env factory returned {type(first).__name__}, expected a gymnasium.Env")
    spec = getattr(first, "spec", None)
    env_id = spec.id if spec is not None else None
    if vectorization == "sync":
        first.close()
        return gym.vector.SyncVectorEnv([env] * num_envs, **kwargs), env_id
    return [first] + [env() for _ in range(num_envs - 1)], env_id


class VecEnv:
    """N synchronous copies of one environment, `SAME_STEP` autoreset, episode statistics.

    Args:
        env: a Gymnasium id ("CartPole-v1") or a zero-argument factory returning a `gymnasium.Env`.
        num_envs: N >= 1.
        preset_ids: ids listed in the error message when `env` is an unknown id.
        vectorization: "auto" ("batch" where the task has a batch engine, else "loop"), "batch"
            (`minirl.batch_envs`), "loop" (minirl's loop over the envs) or "sync" (Gymnasium's SyncVectorEnv).
    """

    def __init__(self, env: str | Callable[[], gym.Env], num_envs: int, *, preset_ids: Sequence[str] = (),
                 vectorization: str = "auto"):
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if vectorization not in VECTORIZATIONS:
            raise ValueError(f"vectorization must be one of {VECTORIZATIONS}, got {vectorization!r}")
        if vectorization == "auto":
            vectorization = "batch" if engine_for(env) is not None else "loop"
        elif vectorization == "batch" and engine_for(env) is None:
            raise ValueError(f"vectorization='batch': {env!r} has no batch engine (minirl.batch_envs has "
                             "CartPole-v1, Pendulum-v1, minirl/Pendulum-v1)")
        self.vectorization = vectorization
        self.envs, self.env_id = _make_vector_env(env, int(num_envs), preset_ids, vectorization)
        self.num_envs = int(num_envs)
        if vectorization == "sync":
            obs_space, act_space = self.envs.single_observation_space, self.envs.single_action_space
        elif vectorization == "batch":
            obs_space, act_space = self.envs.observation_space, self.envs.action_space
        else:
            obs_space, act_space = self.envs[0].observation_space, self.envs[0].action_space
        try:
            check_spaces(obs_space, act_space, where=f"environment {self.env_id or env!r}")
        except ValueError:
            self.close()
            raise
        self.observation_space, self.action_space = obs_space, act_space
        self.obs_dim = int(obs_space.shape[0])
        self.discrete = isinstance(act_space, gym.spaces.Discrete)
        if self.discrete:
            self.n_actions, self.act_dim = int(act_space.n), None
            self.action_start = int(act_space.start)        # Discrete(n, start): env actions start..start+n-1
        else:
            self.n_actions, self.act_dim = None, int(act_space.shape[0])
            self.action_low = act_space.low.astype(np.float64)     # (act_dim,)
            self.action_high = act_space.high.astype(np.float64)   # (act_dim,)
        self._ep_return = np.zeros(self.num_envs)
        self._ep_length = np.zeros(self.num_envs, dtype=np.int64)

    @property
    def reward_threshold(self) -> float | None:
        if self.vectorization == "batch":
            spec = self.envs.spec
        else:
            spec = getattr(self.envs.envs[0] if self.vectorization == "sync" else self.envs[0], "spec", None)
        return None if spec is None else spec.reward_threshold

    def reset(self, seed: int | Sequence[int] | None = None) -> np.ndarray:
        """Reset every sub-environment (sub-env i gets seed + i, or seed[i] from a sequence of N seeds);
        in-progress episode stats are dropped."""
        self._ep_return[:] = 0.0
        self._ep_length[:] = 0
        if seed is None or isinstance(seed, (int, np.integer)):
            seeds = [None if seed is None else int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = [int(s) for s in seed]
            if len(seeds) != self.num_envs:
                raise ValueError(f"reset: {len(seeds)} seeds for {self.num_envs} environments")
        if self.vectorization == "sync":
            obs, _ = self.envs.reset(seed=seeds if seed is not None else None)
            obs = np.asarray(obs, dtype=np.float64)
        elif self.vectorization == "batch":
            obs = self.envs.reset(seeds)
        else:
            obs = np.zeros((self.num_envs, self.obs_dim))
            for i, e in enumerate(self.envs):
                obs[i] = e.reset(seed=seeds[i])[0]
        check_finite("observation", obs, self.env_id)
        return obs

    def keep(self, indices) -> None:
        """Go on with the sub-environments `indices` only, each in its current state (episode, time
        limit, random generator); the others are closed. (A stacked learner drops seeds that ended.)"""
        indices = [int(i) for i in indices]
        if self.vectorization == "sync":
            raise ValueError("VecEnv.keep needs the 'batch' or 'loop' engine")
        if self.vectorization == "batch":
            self.envs.keep(indices)
        else:
            for i, e in enumerate(self.envs):
                if i not in indices:
                    e.close()
            self.envs = [self.envs[i] for i in indices]
        self.num_envs = len(indices)
        self._ep_return, self._ep_length = self._ep_return[indices], self._ep_length[indices]

    def clip_action(self, actions: np.ndarray) -> np.ndarray:
        """Clip continuous actions to the action bounds (discrete actions pass through)."""
        if self.discrete:
            return actions
        return np.clip(actions, self.action_low, self.action_high)

    def step(self, actions: np.ndarray) -> Step:
        """Step every sub-environment once. Discrete actions are 0..n-1 (shifted by the space's start)."""
        env_actions = actions + self.action_start if self.discrete else actions   # NumPy integers
        if self.vectorization == "batch":
            engine = self.envs.step
        else:
            engine = self._step_loop if self.vectorization == "loop" else self._step_sync
        obs, reward, term, trunc, final = engine(env_actions)
        if not np.isfinite(obs.sum() + reward.sum()):     # one cheap test per step; details only on failure
            check_finite("observation", obs, self.env_id)
            check_finite("reward", reward, self.env_id)
        self._ep_return += reward
        self._ep_length += 1
        next_obs, finished = obs, []
        if final:
            next_obs = obs.copy()
            for i, last in final.items():
                next_obs[i] = last                  # s'_t of the finished episode
                finished.append((i, float(self._ep_return[i]), int(self._ep_length[i])))
                self._ep_return[i] = 0.0
                self._ep_length[i] = 0
        return Step(obs, next_obs, reward, term, trunc, finished)

    # Each engine returns obs (already reset where an episode ended), reward, terminated, truncated
    # and `final`: {env index: last observation of the episode that ended there}.
    def _step_sync(self, env_actions):
        obs, reward, term, trunc, info = self.envs.step(env_actions)
        obs = np.asarray(obs, dtype=np.float64)                 # (N, obs_dim)
        term, trunc = np.asarray(term, dtype=bool), np.asarray(trunc, dtype=bool)
        done = term | trunc
        final = {}
        if done.any():
            has_final = info.get("_final_obs", done)
            for i in np.flatnonzero(done):                      # (no final observation: keep obs)
                final[int(i)] = info["final_obs"][i] if has_final[i] else obs[i]
        return obs, np.asarray(reward, dtype=np.float64), term, trunc, final

    def _step_loop(self, env_actions):
        """SAME_STEP autoreset written out, one env at a time."""
        obs = np.empty((self.num_envs, self.obs_dim))
        rewards, terms, truncs = [], [], []
        final = {}
        for i, e in enumerate(self.envs):
            obs[i], r, te, tr, _ = e.step(env_actions[i])
            rewards.append(r)
            terms.append(te)
            truncs.append(tr)
            if te or tr:
                final[i] = obs[i].copy()            # the last observation of the episode ...
                obs[i] = e.reset()[0]               # ... and the first one of the next
        return (obs, np.array(rewards, dtype=np.float64), np.array(terms, dtype=bool),
                np.array(truncs, dtype=bool), final)

    def close(self) -> None:
        if self.vectorization in ("sync", "batch"):
            self.envs.close()
        else:
            for e in self.envs:
                e.close()


class Episode(NamedTuple):
    obs: np.ndarray            # (L, obs_dim)
    actions: np.ndarray        # (L,) int or (L, act_dim) float: the actions sampled (before clipping)
    rewards: np.ndarray        # (L,)
    terminated: bool           # False: the episode was truncated (time limit)
    final_obs: np.ndarray      # (obs_dim,) s'_{L-1}


def collect_episodes(venv: VecEnv, obs: np.ndarray, act_fn: Callable[[np.ndarray], np.ndarray],
                     episodes_per_env: int = 1) -> tuple[list[Episode], np.ndarray, int]:
    """Run every sub-environment until each has finished `episodes_per_env` complete episodes.

    All envs must be at the start of an episode (call `venv.reset()` first). An env that is done
    keeps being stepped (a vector env steps all of them) but its extra transitions are dropped: keeping
    only the first k episodes of each env makes every episode an independent sample of the current
    policy (stopping when the batch holds M episodes in total would over-sample short episodes).

    Args:
        act_fn: obs (N, obs_dim) -> actions (N,) or (N, act_dim); the returned actions are stored and
            then clipped to the bounds before being sent to the environment.
    Returns:
        (episodes, last observation (N, obs_dim), number of stored transitions).
    """
    N = venv.num_envs
    buffers = [([], [], []) for _ in range(N)]          # per env: obs, actions, rewards
    done_count = np.zeros(N, dtype=np.int64)
    episodes: list[Episode] = []
    used = 0
    while (done_count < episodes_per_env).any():
        actions = act_fn(obs)
        step = venv.step(venv.clip_action(actions))
        active = done_count < episodes_per_env            # (N,) envs whose transitions we keep
        for i in np.flatnonzero(active):
            buffers[i][0].append(obs[i])
            buffers[i][1].append(actions[i])
            buffers[i][2].append(step.reward[i])
            used += 1
            if step.terminated[i] or step.truncated[i]:
                o, a, r = buffers[i]
                episodes.append(Episode(np.array(o), np.array(a), np.array(r),
                                        bool(step.terminated[i]), step.next_obs[i].copy()))
                buffers[i] = ([], [], [])
                done_count[i] += 1
        obs = step.obs
    return episodes, obs, used
