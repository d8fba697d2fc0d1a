"""The evaluation protocol: K deterministic episodes of the black-box task on fixed seeds.

Training curves (`return_mean`, the mean of the last 100 *training* episodes) lag the policy and mix
in exploration noise: on Pendulum the window spans 20,000 env steps, and an algorithm's random
warm-up episodes count in it. So every run also measures its current policy the way benchmark
tables do (rl-baselines3-zoo, the SAC and SHAC papers):

* every `eval_every` env steps (and at the end of the budget), play `K = eval_episodes` episodes of the
  *black-box* Gymnasium environment (never a twin or a learned model),
* with the policy's deterministic action (`agent.act(obs, deterministic=True)`: the mode, or the
  Gaussian mean, squashed or clipped into the action box as the algorithm acts),
* on the fixed seeds `EVAL_SEED_BASE + i`, i = 0..K-1: every run, arm and algorithm meets the same K
  start states, and training never resets with a seed that large (its seeds are the run's seed plus
  small offsets), so evaluation and training episodes are disjoint.

Evaluation episodes are not training data: they do not count as env steps, and the run driver does
not count their seconds in `time_s`. The K episodes run side by side (one batched policy call per
step), so an evaluation costs about as much as one episode's worth of policy calls; where the task
has a NumPy batch engine (`minirl.batch_envs`: CartPole-v1, Pendulum-v1, minirl/Pendulum-v1) one
call also steps the K environments, with the same floats as K separate `gymnasium.make` envs
(a test checks): on Pendulum about 10 ms per evaluation instead of 100-150 ms.

| name | shape | meaning |
|---|---|---|
| obs | (k, obs_dim) | observations of the k episodes still running |
| returns | (K,) | undiscounted return of each evaluation episode |
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np

from .batch_envs import engine_for

__all__ = ["EVAL_SEED_BASE", "evaluate_policy", "make_eval_env", "play_episodes"]

EVAL_SEED_BASE = 10 ** 12


def make_eval_env(env_id: str, **kwargs) -> gym.Env:
    """`gym.make(env_id)`; an id of the `module:Env-v0` form needs its module allowed first
    (`minirl.rollout.resolve_env_id`: never imported because a file names it)."""
    from .rollout import resolve_env_id
    resolve_env_id(env_id)
    return gym.make(env_id, **kwargs)


def evaluate_policy(act: Callable[[np.ndarray], np.ndarray], env_id: str, episodes: int = 10,
                    seed_base: int = EVAL_SEED_BASE, max_steps: int | None = None) -> np.ndarray:
    """Returns (episodes,) of `act` on `env_id`, episode i reset with seed `seed_base + i`.

    Args:
        act: maps observations (k, obs_dim) to environment-ready actions (k,) or (k, act_dim).
        env_id: the black-box Gymnasium id.
        episodes: K >= 1.
        max_steps: stop an episode after this many steps (None: the env's own time limit). An env
            with neither would never end, so one of the two must exist.
    """
    if not isinstance(episodes, (int, np.integer)) or isinstance(episodes, bool) or episodes < 1:
        raise ValueError(f"evaluate_policy: episodes must be an integer >= 1, got {episodes!r}")
    batch = engine_for(env_id)
    if batch is not None:                      # one NumPy call steps all K (minirl.batch_envs: the same floats)
        envs = batch(env_id, int(episodes))
        spec, discrete = envs.spec, isinstance(envs.action_space, gym.spaces.Discrete)
    else:
        envs = [make_eval_env(env_id) for _ in range(int(episodes))]
        spec, discrete = envs[0].spec, isinstance(envs[0].action_space, gym.spaces.Discrete)
    try:
        limit = max_steps if max_steps is not None else spec.max_episode_steps if spec else None
        if limit is None:
            raise ValueError(f"evaluate_policy: {env_id} has no time limit; pass max_steps")
        seeds = [seed_base + i for i in range(int(episodes))]
        if batch is not None:
            obs = envs.reset(seeds)
        else:
            obs = np.stack([np.asarray(e.reset(seed=s)[0], dtype=np.float64) for e, s in zip(envs, seeds)])
        returns = np.zeros(int(episodes))
        running = np.ones(int(episodes), dtype=bool)
        for _ in range(int(limit)):
            idx = np.flatnonzero(running)
            if len(idx) == 0:
                break
            actions = np.asarray(act(obs[idx]))                               # (k,) or (k, act_dim)
            if batch is not None:
                obs, ended = _step_batch(envs, idx, actions, discrete, returns)
            else:
                ended = _step_each(envs, idx, actions, discrete, returns, obs)
            running[ended] = False
        return returns
    finally:
        for e in (envs if isinstance(envs, list) else [envs]):
            e.close()


def _step_each(envs, idx, actions, discrete, returns, obs) -> list:
    """Step the running envs `idx` one by one; add their rewards to `returns`; the indices that ended."""
    ended = []
    for j, i in enumerate(idx):
        o, r, terminated, truncated, _ = envs[i].step(int(actions[j]) if discrete else actions[j])
        returns[i] += float(r)
        obs[i] = o
        if terminated or truncated:
            ended.append(i)
    return ended


def _step_batch(envs, idx, actions, discrete, returns):
    """Step all K envs of a batch engine (the ended ones with a dummy action, their results unused)."""
    full = np.zeros((envs.num_envs,) + actions.shape[1:], dtype=np.int64 if discrete else np.float64)
    full[idx] = actions
    obs, reward, terminated, truncated, _ = envs.step(full)
    returns[idx] += reward[idx]
    done = terminated | truncated
    return obs, idx[done[idx]]


def play_episodes(agent, env_id: str, episodes: int, seed: int, deterministic: bool = True,
                  render: str | None = None, max_frames: int = 500):
    """Play `episodes` episodes with `agent.act`, one after the other, episode i reset with seed `seed + i`;
    return (returns (episodes,), lengths (episodes,), frames). (`minirl eval`, the notebooks' GIFs.)

    `frames` holds the first episode's rendered RGB frames (at most `max_frames`) if `render` is set.
    """
    env = make_eval_env(env_id, render_mode=render) if render else make_eval_env(env_id)
    returns, lengths, frames = [], [], []
    try:
        for ep in range(episodes):
            obs, _ = env.reset(seed=seed + ep)
            total, length, done = 0.0, 0, False
            while not done:
                if render and ep == 0 and len(frames) < max_frames:
                    frames.append(env.render())
                action = agent.act(obs, deterministic=deterministic)
                action = np.asarray(action)
                if action.ndim > 0 and action.shape[0] == 1 and (
                        env.action_space.shape == () or action.ndim > len(env.action_space.shape)):
                    action = action[0]                         # the agent returned a batch of one
                if isinstance(env.action_space, gym.spaces.Discrete):
                    action = int(action)
                elif isinstance(env.action_space, gym.spaces.Box):
                    action = np.clip(action, env.action_space.low, env.action_space.high)
                obs, reward, terminated, truncated, _ = env.step(action)
                total += float(reward)
                length += 1
                done = terminated or truncated
            returns.append(total)
            lengths.append(length)
    finally:
        env.close()
    return np.asarray(returns), np.asarray(lengths), frames
