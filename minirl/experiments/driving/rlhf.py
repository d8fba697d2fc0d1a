"""RLHF with a real optimiser: PPO in the real highway-fast-v0 on three rewards (`minirl driving --long`).

The dynamics here are the real env's; only the reward differs between the arms:

| arm               | reward PPO is trained on                                         |
|-------------------|------------------------------------------------------------------|
| `env reward`      | what highway-env pays (crash, lane, speed)                       |
| `learned reward`  | the learned outcome reward r_psi(o_{t+1}, a_t) (MLP regression on observations) |
| `survival reward` | 1 per step until the episode ends: "do not crash", nothing else  |

Each arm trains `minirl.algos.ppo.PPO` (through its public constructor, with a factory that builds
the wrapped env) for the same number of real steps on several seeds, then drives `episodes`
evaluation episodes with the deterministic policy on seeds shared by every arm. Per episode: the
env's return, whether it crashed, and the mean forward speed. The survival arm says what a reward
that only pays for staying alive teaches; the gap between the learned and the env arm is what the
optimiser found in the learned reward.

Observations are flattened to 25 numbers; episodes last `duration` s (steps).
"""

from __future__ import annotations

import numpy as np

__all__ = ["REWARDS", "PPO_CONFIG", "ppo_task"]

REWARDS = ("env reward", "learned reward", "survival reward")
# One PPO configuration for every arm: a short horizon (gamma 0.9: a crash a few seconds ahead
# matters), several epochs over small batches because real steps are expensive.
PPO_CONFIG = dict(learning_rate=5e-4, num_envs=2, num_steps=128, update_epochs=10, num_minibatches=4,
                  gamma=0.9, gae_lambda=0.95, ent_coef=0.01, hidden_sizes=(64, 64))


def _env_factory(kind: str, reward_model, duration: int):
    """A zero-argument factory of highway-fast-v0 with flat observations and the arm's reward."""
    import gymnasium as gym

    from ...autograd import no_grad
    from .collect import make_env

    class ArmReward(gym.Wrapper):
        """Replaces the env's reward by the arm's; keeps the env's in info["env_reward"]."""

        def step(self, action):
            obs, reward, terminated, truncated, info = self.env.step(action)
            info = dict(info, env_reward=float(reward))
            if kind == "learned reward":
                with no_grad():
                    reward = float(np.asarray(reward_model(obs.reshape(1, 25).astype(np.float64),
                                                           np.eye(5)[[int(action)]]).data)[0])
            elif kind == "survival reward":
                reward = 1.0
            return obs, reward, terminated, truncated, info

    def make():
        return ArmReward(gym.wrappers.FlattenObservation(make_env(duration=duration)))

    return make


def ppo_task(kind: str, seed: int, reward_model, *, total_steps: int, episodes: int, duration: int,
             eval_base_seed: int = 30_000) -> dict:
    """Train PPO on the arm's reward for `total_steps` real steps, then evaluate it.

    Returns {"arm", "seed", "train_steps", "episodes": [{seed, return, crashed, speed, steps}]}.
    """
    from ...algos.ppo import PPO, PPOConfig
    from .collect import episode_seed, make_env
    from .planner import forward_speed

    if kind not in REWARDS:
        raise ValueError(f"reward must be one of {REWARDS}, got {kind!r}")
    agent = PPO(_env_factory(kind, reward_model, duration), PPOConfig(**PPO_CONFIG), seed=int(seed))
    try:
        for _ in agent.learn_iter(int(total_steps)):
            pass
        steps = int(agent.global_step)
    finally:
        agent.close()
    env, rows = make_env(duration=duration), []
    try:
        for k in range(episodes):
            ep_seed = episode_seed(eval_base_seed, k)
            obs, _ = env.reset(seed=ep_seed)
            paid, speeds, done = 0.0, [], False
            while not done:
                obs, reward, terminated, truncated, _ = env.step(int(agent.act(obs.reshape(25).astype(np.float64))))
                paid += float(reward)
                speeds.append(forward_speed(env))
                done = terminated or truncated
            rows.append({"seed": ep_seed, "return": paid, "crashed": bool(env.unwrapped.vehicle.crashed),
                         "speed": float(np.mean(speeds)), "steps": len(speeds)})
    finally:
        env.close()
    return {"arm": kind, "seed": int(seed), "train_steps": steps, "episodes": rows}
