"""PPO with a clipped surrogate and GAE, separate actor and critic (Schulman et al., 2017).

Pseudocode (Algorithm 1 of the paper, with the implementation details of the widely cited list,
Huang et al., 2022, "The 37 implementation details of PPO", each a `PPOConfig` field)::

    for update = 1, 2, ...:
        lr <- lr0 (1 - steps_done / total_steps)                         (anneal_lr)
        run pi_old in N envs for T steps -> (s, a, log pi_old(a|s), r, term, trunc, V_old(s))
        advantages A, returns R = A + V_old by GAE(gamma, lambda)        (minirl.returns.gae)
        for epoch = 1..K:                                                 (update_epochs)
            for each of M shuffled minibatches (no replacement):          (num_minibatches)
                L = L_clip + c_v L_V - c_e H                              (minirl.algos.ppo_loss)
                one Adam step on actor and critic, global grad-norm clip  (adam_eps, max_grad_norm)
            stop the epochs early if approx KL (k3) > target_kl           (target_kl)

| symbol | shape | meaning |
|---|---|---|
| N, T | - | `num_envs`, `num_steps`; batch B = N T |
| obs | (T, N, obs_dim) | normalised observations the actions were taken in |
| actions | (T, N) int or (T, N, act_dim) | sampled actions (unclipped: what the policy is trained on) |
| logp, values, rewards | (T, N) | log pi_old(a|s), V_old(s), (scaled) rewards |
| next_values | (T, N) | V(s'_t): the final observation after a truncation (bootstrap), else V(s_{t+1}) |

Truncation bootstraps from the value of the final observation; termination does not (see
`minirl.returns`). Many single-file PPOs treat both alike, or bootstrap from the *reset* observation.

Expected results are in `minirl.algos.presets` (CartPole-v1 preset: solved at a median of 59.4k
env steps over seeds 0-4). Each log row also splits its wall time into `rollout_s` and `update_s`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..autograd import no_grad
from ..normalize import RewardScaler
from ..optim import Adam, clip_grad_norm_
from ..returns import gae
from .ppo_loss import explained_variance, ppo_loss
from .actor_critic import ActorCriticAgent
from .agent import ConfigMixin, check_common_fields, require

__all__ = ["PPOConfig", "PPO", "train"]


@dataclass
class PPOConfig(ConfigMixin):
    """Every PPO hyperparameter and implementation detail, each a named switch."""

    learning_rate: float = 2.5e-4        # Adam step size (actor and critic share one optimiser)
    anneal_lr: bool = True               # decay the learning rate linearly to 0 over total_steps
    adam_eps: float = 1e-5               # Adam epsilon (1e-5 as in the original code, not 1e-8)
    num_envs: int = 4                    # N parallel environments (SAME_STEP autoreset: minirl.rollout)
    num_steps: int = 128                 # T steps per env per update (batch B = N T)
    update_epochs: int = 4               # K passes over the batch
    num_minibatches: int = 4             # M shuffled minibatches per epoch (B must divide by M)
    gamma: float = 0.99                  # discount
    gae_lambda: float = 0.95             # GAE lambda
    norm_adv: bool = True                # standardise advantages per minibatch
    clip_coef: float = 0.2               # epsilon of the clipped surrogate
    clip_vloss: bool = False             # clip the value loss around V_old as well (off: it does not help)
    ent_coef: float = 0.01               # entropy bonus c_e
    vf_coef: float = 0.5                 # value-loss coefficient c_v
    max_grad_norm: float | None = 0.5    # global gradient-norm clip (None: off)
    target_kl: float | None = None       # stop the epochs early when approx KL (k3) exceeds it (None: off)
    hidden_sizes: tuple = (64, 64)       # hidden widths of actor and critic (separate networks)
    activation: str = "tanh"             # "tanh" | "relu"
    dtype: str = "float32"               # the networks' precision: float32 (as PyTorch) is ~2x faster here
    ortho_init: bool = True              # orthogonal init, hidden gain sqrt(2) (False: PyTorch-style uniform)
    policy_head_gain: float = 0.01       # gain of the policy's last layer: near-uniform initial policy
    value_head_gain: float = 1.0         # gain of the critic's last layer
    log_std_init: float = 0.0            # initial state-independent log std (continuous actions)
    normalize_obs: bool = False          # running observation normalisation (saved with the checkpoint)
    obs_clip: float = 10.0               # clip normalised observations
    normalize_reward: bool = False       # divide rewards by the std of a running discounted return
    reward_clip: float = 10.0            # clip scaled rewards
    clip_actions: bool = True            # clip continuous actions to the bounds; the unclipped one is trained on

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.num_minibatches

    def __post_init__(self):
        name = type(self).__name__
        self.check_types()
        check_common_fields(self, name)
        for field in ("num_steps", "update_epochs", "num_minibatches"):
            value = getattr(self, field)
            require(isinstance(value, int) and value >= 1, name, field, value, "an integer >= 1")
        require(self.batch_size % self.num_minibatches == 0, name, "num_minibatches", self.num_minibatches,
                 f"a divisor of the batch size num_envs * num_steps = {self.batch_size}")
        # norm_adv standardises advantages within each minibatch: one sample standardises to exactly 0,
        # so the policy loss would be 0 forever
        require(not (self.norm_adv and self.minibatch_size < 2), name, "num_minibatches", self.num_minibatches,
                f"at most batch_size / 2 = {self.batch_size // 2} with norm_adv (a minibatch of one sample "
                "standardises its advantage to 0 and the policy never learns), or norm_adv=false")
        require(0.0 <= self.gae_lambda <= 1.0, name, "gae_lambda", self.gae_lambda, "a number in [0, 1]")
        require(self.clip_coef > 0, name, "clip_coef", self.clip_coef, "a number > 0")
        require(self.vf_coef >= 0, name, "vf_coef", self.vf_coef, "a number >= 0")
        require(self.target_kl is None or self.target_kl > 0, name, "target_kl", self.target_kl,
                 "None (off) or a number > 0")
        require(self.obs_clip > 0 and self.reward_clip > 0, name, "obs_clip/reward_clip",
                 (self.obs_clip, self.reward_clip), "numbers > 0")


class PPO(ActorCriticAgent):
    """PPO agent: `learn_iter(total_steps)` yields one log row per update."""

    algo = "ppo"

    def __init__(self, env, config: PPOConfig | None = None, seed: int = 0):
        super().__init__(env, config, seed, PPOConfig)
        config = self.config
        self.params = self.policy.parameters() + self.value.parameters()
        self.optimizer = Adam(self.params, lr=config.learning_rate, eps=config.adam_eps)
        self.reward_scaler = (RewardScaler(config.num_envs, config.gamma, clip=config.reward_clip)
                              if config.normalize_reward else None)

    def _parts(self):
        parts = super()._parts()
        if self.reward_scaler is not None:
            parts.append(("", self.reward_scaler))               # its own keys: ret_rms.*
        return parts

    def _reset_envs(self):
        if self.reward_scaler is not None:
            self.reward_scaler.ret[:] = 0.0          # new episodes: the running discounted return restarts
        return super()._reset_envs()

    # ------------------------------------------------------------------ one rollout
    def _collect(self):
        """Run the policy T steps in N envs. The critic does not choose actions, so it is evaluated
        afterwards in one batched pass over all T N observations (plus V(s_T) and the final
        observations of truncated episodes) instead of T small ones."""
        c, venv, T, N = self.config, self.venv, self.config.num_steps, self.config.num_envs
        obs_buf = np.zeros((T, N, venv.obs_dim), dtype=self.policy.dtype)
        act_buf = np.zeros((T, N), dtype=np.int64) if venv.discrete else np.zeros((T, N, venv.act_dim))
        logp_buf, rew_buf = np.zeros((T, N)), np.zeros((T, N))
        term_buf, trunc_buf = np.zeros((T, N), dtype=bool), np.zeros((T, N), dtype=bool)
        cuts = []                                   # (t, env indices, normalised final observations)
        obs = self._obs
        for t in range(T):
            o = self._normalize(obs, update=True)                                 # (N, obs_dim)
            action, logp_buf[t] = self.policy.sample_with_log_prob(o, self.rng)   # (N,) or (N, act_dim)
            step = venv.step(venv.clip_action(action) if c.clip_actions else action)
            obs_buf[t], act_buf[t] = o, action
            reward = step.reward
            if self.reward_scaler is not None:
                reward = self.reward_scaler(reward, step.terminated | step.truncated)
            rew_buf[t], term_buf[t], trunc_buf[t] = reward, step.terminated, step.truncated
            if step.finished:                                # some episode ended in this step
                cut = step.truncated & ~step.terminated      # time-limit cuts: bootstrap from V(final obs)
                if cut.any():
                    cuts.append((t, np.flatnonzero(cut), self._normalize(step.next_obs[cut])))
                for _, ep_return, _ in step.finished:
                    self._record_episode(ep_return)
            obs = step.obs
        self._obs = obs

        # ---- the critic, batched: V(s_t) for all t, V(s_T), V(final obs) of truncated episodes
        with no_grad():
            v = self.value(np.concatenate([obs_buf.reshape(T * N, -1), self._normalize(obs),
                                           *[f for _, _, f in cuts]])).data       # (T N + N + cuts,)
        val_buf = v[:T * N].reshape(T, N)                                         # V(s_t)
        # V(s'_t) = V(s_{t+1}) inside an episode (V(s_T) after the last step) ...
        next_val_buf = np.concatenate([val_buf[1:], v[T * N:T * N + N][None]], axis=0)    # (T, N)
        k = T * N + N
        for t, idx, _ in cuts:                       # ... and V(final observation) after a truncation
            next_val_buf[t, idx] = v[k:k + len(idx)]
            k += len(idx)
        return obs_buf, act_buf, logp_buf, rew_buf, val_buf, next_val_buf, term_buf, trunc_buf

    # ------------------------------------------------------------------ training loop
    def learn_iter(self, total_steps: int) -> Iterator[dict]:
        c = self.config
        B, MB = c.batch_size, c.minibatch_size
        if self._obs is None:
            self._obs = self._reset_envs()
        while self.global_step < total_steps:
            t0 = time.perf_counter()
            # ---- learning-rate annealing (position from the step counter, so resuming continues it)
            lr = c.learning_rate * (1.0 - self.global_step / total_steps) if c.anneal_lr else c.learning_rate
            self.optimizer.lr = lr

            # ---- 1. rollout: N envs x T steps with the current policy
            obs, actions, logp_old, rewards, values, next_values, term, trunc = self._collect()
            self.global_step += B
            t_rollout = time.perf_counter() - t0

            # ---- 2. advantages and critic targets by GAE(lambda)
            adv, returns = gae(rewards, values, next_values, term, trunc, c.gamma, c.gae_lambda)  # (T, N)
            b_obs = obs.reshape(B, -1)                                            # (B, obs_dim)
            b_act = actions.reshape(B, *actions.shape[2:])                        # (B,) or (B, act_dim)
            b_logp, b_adv, b_ret, b_val = (x.reshape(B) for x in (logp_old, adv, returns, values))

            # ---- 3. K epochs of shuffled minibatch updates
            stats, epochs_done = [], 0
            for epoch in range(c.update_epochs):
                perm = self.rng.permutation(B)
                epoch_k3 = []
                for start in range(0, B, MB):
                    mb = perm[start:start + MB]                                   # (MB,) indices
                    mb_obs = b_obs[mb]                                            # (MB, obs_dim)
                    dist = self.policy.dist(mb_obs)
                    if c.ent_coef > 0:
                        entropy = dist.entropy()                                  # (MB,)
                    else:                            # only logged: no graph to back-propagate through
                        with no_grad():
                            entropy = dist.entropy()
                    loss, info = ppo_loss(
                        dist.log_prob(b_act[mb]), entropy, self.value(mb_obs),
                        logp_old=b_logp[mb], advantages=b_adv[mb], v_old=b_val[mb], returns=b_ret[mb],
                        clip_coef=c.clip_coef, vf_coef=c.vf_coef, ent_coef=c.ent_coef,
                        clip_vloss=c.clip_vloss, norm_adv=c.norm_adv)
                    self._check_finite(loss, "loss", info)
                    self.optimizer.zero_grad()
                    loss.backward()
                    if c.max_grad_norm is not None:
                        # a non-finite gradient raises FloatingPointError before the step is taken
                        info["grad_norm"] = clip_grad_norm_(self.params, c.max_grad_norm,
                                                            error_if_nonfinite=True)
                    self.optimizer.step()
                    stats.append(info)
                    epoch_k3.append(info["approx_kl_k3"])
                epochs_done = epoch + 1
                if c.target_kl is not None and np.mean(epoch_k3) > c.target_kl:
                    break                                                         # early stop on KL

            # ---- 4. log one row
            self.updates += 1
            elapsed = time.perf_counter() - t0
            self.train_time += elapsed
            row = {"step": self.global_step, "time_s": self.train_time, "episodes": self.episodes,
                   "return_mean": self._return_mean()}
            row.update({k: float(np.mean([s[k] for s in stats])) for k in stats[0]})
            row.update({"explained_variance": explained_variance(b_val, b_ret), "learning_rate": lr,
                        "epochs_done": epochs_done, "updates": self.updates, "rollout_s": t_rollout,
                        "update_s": elapsed - t_rollout,
                        "steps_per_s": self.global_step / max(self.train_time, 1e-9)})
            yield row


def train(env, *, seed: int, total_steps: int, config: PPOConfig | None = None) -> list[dict]:
    """Train PPO for `total_steps` env steps; returns the log rows (config None: the env's preset)."""
    agent = PPO(env, config, seed)
    try:
        return list(agent.learn_iter(total_steps))
    finally:
        agent.close()
