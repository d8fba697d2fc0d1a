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

from ..autograd import Tensor
from ..nn import pytorch_default_init
from ..normalize import ObsNormalizer
from ..policies import CategoricalPolicy, GaussianPolicy, ValueFunction
from ..rollout import VecEnv
from .agent import Agent

__all__ = ["ActorCriticAgent"]


class ActorCriticAgent(Agent):
    """Environment, policy and critic, observation normalisation, evaluation `act`, checkpoints."""

    def __init__(self, env: str | Callable[[], gym.Env], config, seed: int):
        from .presets import PRESET_ENV_IDS          # (imported late: presets imports the algorithms)
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise TypeError(f"seed must be an integer, got {seed!r}")
        self.config, self.seed = config, int(seed)
        self.venv = VecEnv(env, config.num_envs, preset_ids=PRESET_ENV_IDS)
        self.env_id = self.venv.env_id
        init_seq, sample_seq, eval_seq = np.random.SeedSequence(self.seed).spawn(3)
        init_rng = np.random.default_rng(init_seq)
        self.rng = np.random.default_rng(sample_seq)            # sampling actions, shuffling minibatches
        self.eval_rng = np.random.default_rng(eval_seq)         # act(deterministic=False): keeps training
                                                                # reproducible however often act() is called
        self.rngs = {"rng": self.rng, "eval_rng": self.eval_rng}
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
        self._obs = None                                         # current observations (N, obs_dim)

    # ------------------------------------------------------------------ helpers
    def _normalize(self, obs: np.ndarray, update: bool = False) -> np.ndarray:
        return obs if self.obs_norm is None else self.obs_norm(obs, update=update)

    def _reset_envs(self) -> np.ndarray:
        # a fresh agent resets with its seed; a resumed one with a seed derived from its step count
        return self.venv.reset(seed=self.seed + 1_000_003 * self.updates)

    @staticmethod
    def _check_finite(loss: Tensor, what: str, info: dict) -> None:
        if not np.isfinite(loss.data).all():
            details = ", ".join(f"{k}={v:.4g}" for k, v in info.items())
            raise FloatingPointError(
                f"{what} is not finite ({float(loss.data)}; {details}): training diverged. The update was "
                "not applied; lower the learning rate or check the rewards/observations for inf/NaN.")

    # ------------------------------------------------------------------ acting
    def act(self, obs, deterministic: bool = True) -> np.ndarray:
        """Environment-ready actions for one observation (obs_dim,) or a batch (B, obs_dim).

        Applies the saved observation normalisation (without updating it); deterministic=True takes
        the mode (argmax / the Gaussian mean); continuous actions are clipped to the bounds.
        """
        obs = np.asarray(obs, dtype=np.float64)
        single = obs.ndim == 1
        if obs.shape[-1] != self.venv.obs_dim:
            raise ValueError(f"act: observation shape {obs.shape} does not end in obs_dim={self.venv.obs_dim}")
        batch = self._normalize(obs.reshape(-1, self.venv.obs_dim))
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

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        self._obs = None                                         # environments restart from a reset

    def close(self) -> None:
        self.venv.close()
