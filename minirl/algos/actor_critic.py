"""The base of the on-policy black-box agents (REINFORCE, PPO): vector env, actor, critic, normalisation.

`ActorCriticAgent` owns

| member | what |
|---|---|
| `venv` | `minirl.rollout.VecEnv` with `config.num_envs` copies of the task |
| `policy` | `CategoricalPolicy` (Discrete actions) or `GaussianPolicy` (Box actions) |
| `value` | `ValueFunction`, the critic |
| `obs_norm` | running observation normalisation (`config.normalize_obs`), saved with the checkpoint |
| `rng`, `eval_rng` | sampling while training; sampling in `act(deterministic=False)` (so acting never changes training) |

and implements `act` (environment-ready actions) and the checkpoint parts of `minirl.algos.agent.Agent`.
Subclasses set `self.optimizer` and implement `learn_iter`.
"""

from __future__ import annotations

from typing import Callable

import gymnasium as gym
import numpy as np

from ..nn import pytorch_default_init
from ..normalize import ObsNormalizer
from ..policies import CategoricalPolicy, GaussianPolicy, ValueFunction
from .agent import EnvAgent

__all__ = ["ActorCriticAgent"]


class ActorCriticAgent(EnvAgent):
    """Environment, policy and critic, observation normalisation, evaluation `act`, checkpoints."""

    def __init__(self, env: str | Callable[[], gym.Env], config, seed: int, config_type: type):
        super().__init__(env, config, seed, config_type)
        config, init_rng = self.config, self.init_rng
        # ---- networks: separate actor and critic, orthogonal init (head gains from the config)
        c, v = config, self.venv
        common = dict(rng=init_rng, hidden=tuple(c.hidden_sizes), activation=c.activation, dtype=c.dtype)
        if v.discrete:
            self.policy = CategoricalPolicy(v.obs_dim, v.n_actions, head_gain=c.policy_head_gain, **common)
        else:
            self.policy = GaussianPolicy(v.obs_dim, v.act_dim, head_gain=c.policy_head_gain,
                                         log_std_init=c.log_std_init, **common)
        self.value = ValueFunction(v.obs_dim, head_gain=c.value_head_gain, **common)
        if not c.ortho_init:
            pytorch_default_init(self.policy, init_rng)
            pytorch_default_init(self.value, init_rng)
        self.obs_norm = ObsNormalizer(v.obs_dim, clip=c.obs_clip) if c.normalize_obs else None
        self._init_counters()

    # ------------------------------------------------------------------ helpers
    def _normalize(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        return obs if self.obs_norm is None else self.obs_norm(obs, update=update)

    def _reset_envs(self) -> np.ndarray:
        # a fresh agent resets with its seed; a resumed one with a seed derived from its step count
        return self.venv.reset(seed=self.seed + 1_000_003 * self.updates)

    # ------------------------------------------------------------------ acting
    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Environment-ready actions for one observation (obs_dim,) or a batch (B, obs_dim).

        Applies the saved observation normalisation (without updating it); deterministic=True takes
        the mode (argmax / the Gaussian mean); continuous actions are clipped to the bounds.
        """
        batch, single = self._obs_batch(obs)
        batch = self._normalize(batch)
        actions = self.policy.act(batch, self.eval_rng, deterministic=deterministic)
        if self.venv.discrete:
            actions = actions + self.venv.action_start
        else:
            actions = self.venv.clip_action(actions)
        return actions[0] if single else actions

    # ------------------------------------------------------------------ checkpoints
    def _parts(self) -> list[tuple[str, object]]:
        parts = [("policy.", self.policy), ("value.", self.value), ("optim.", self.optimizer)]
        if self.obs_norm is not None:
            parts.append(("", self.obs_norm))                    # its own keys: obs_rms.*
        return parts
