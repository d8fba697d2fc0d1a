"""RLHF by policy gradient: PPO with a per-token KL penalty, and RLOO with the same reward.

Lesson 08. The reward model r_phi scores a whole response; the RLHF recipe (Ziegler et al. 2019,
eq. 2; Stiennon et al. 2020, eq. 1; Ouyang et al. 2022, eq. 2) maximises

    J(pi) = E_(x, y ~ pi) [ r_phi(x, y) ] - beta KL(pi || pi_ref)

and spreads the KL over the tokens, so every token gets a reward:

    r_t = -beta (log pi(y_t | x, y_<t) - log pi_ref(y_t | x, y_<t)) + [t = L-1] r_phi(x, y)

Summed over t, the expectation of sum_t r_t is exactly J(pi) (the KL of an autoregressive model is
the expected sum of its per-token log-ratios). The reward model is only *queried*: both methods
below are score-function (black-box) estimators and would work unchanged with a person in the loop.

* **PPO** (Schulman et al. 2017): a tabular critic V(x, prefix), advantages by GAE with gamma = 1,
  the clipped surrogate per token, several epochs of minibatches on each batch.
* **RLOO** (REINFORCE leave-one-out; Kool et al. 2019, Ahmadian et al. 2024): k responses per
  prompt, each response's baseline is the mean return of the other k - 1, one gradient step per
  batch, no critic:

    A_i = R_i - (1/(k-1)) sum_(j != i) R_j,     grad = -mean_i A_i grad log pi(y_i | x)

Shapes
------
| name               | shape  |
|--------------------|--------|
| prompts            | (B,)   |
| seqs               | (B, L) |
| score              | (B,)   r_phi(x, y) |
| logp, ref_logp     | (B, L) per-token log-probabilities |
| rewards, adv       | (B, L) |
| returns (RLOO)     | (B,) with B = n_prompts * k, the k samples of a prompt adjacent |
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd import Tensor, minimum, no_grad
from ..checks import fraction, generator, number, positive_int
from ..envs.toylang import TabularPolicy, check_policy_pair
from ..optim import Adam

__all__ = ["kl_penalised_rewards", "rloo_advantages", "gae", "ppo_rlhf", "rloo_rlhf", "table_reward"]


def table_reward(lang, table) -> Callable:
    """A reward function (prompts, seqs) -> (B,) that looks scores up in a (P, S) table."""
    table = np.asarray(table, dtype=np.float64)
    return lambda prompts, seqs: table[prompts, lang.sequence_index(seqs)]


def kl_penalised_rewards(score, logp, ref_logp, kl_coef: float) -> np.ndarray:
    """Per-token RLHF reward r_t = -kl_coef (logp_t - ref_logp_t), plus the score at the last token.

    Args:
        score: r_phi(x, y) per response, (B,).
        logp, ref_logp: log pi and log pi_ref of each sampled token, (B, L).
        kl_coef: beta >= 0.
    Returns:
        rewards (B, L), a new array.
    """
    kl_coef = number("kl_penalised_rewards", "kl_coef", kl_coef, low=0)
    score, logp, ref_logp = (np.asarray(a, dtype=np.float64) for a in (score, logp, ref_logp))
    if logp.shape != ref_logp.shape or logp.ndim != 2 or score.shape != logp.shape[:1]:
        raise ValueError(f"kl_penalised_rewards: score {score.shape}, logp {logp.shape}, ref_logp "
                         f"{ref_logp.shape}; expected (B,), (B, L), (B, L)")
    # BEGIN SOLUTION
    rewards = -kl_coef * (logp - ref_logp)                 # (B, L) the KL penalty on every token
    rewards[:, -1] += score                                # the reward model speaks at the end
    return rewards
    # END SOLUTION


def rloo_advantages(returns, k: int) -> np.ndarray:
    """Leave-one-out advantages A_i = R_i - mean of the other k-1 returns of the same prompt, (B,).

    `returns` (B,) holds B/k groups of k consecutive samples that share a prompt.
    """
    returns = np.asarray(returns, dtype=np.float64)
    if not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"rloo_advantages: k must be an integer >= 2 (a baseline needs another sample), got {k!r}")
    if returns.ndim != 1 or returns.size % k:
        raise ValueError(f"rloo_advantages: returns must be 1-D with a length divisible by k={k}, got {returns.shape}")
    # BEGIN SOLUTION
    R = returns.reshape(-1, k)                                          # (B/k, k)
    baseline = (R.sum(axis=1, keepdims=True) - R) / (k - 1)             # mean of the others
    return (R - baseline).reshape(-1)
    # END SOLUTION


def gae(rewards: np.ndarray, values: np.ndarray, lam: float) -> np.ndarray:
    """Generalised advantage estimation with gamma = 1 and V(after the last token) = 0, (B, L).

        delta_t = r_t + V_(t+1) - V_t;   A_t = sum_k lam^k delta_(t+k)     (Schulman et al. 2016, eq. 16)
    """
    B, L = rewards.shape
    next_values = np.concatenate([values[:, 1:], np.zeros((B, 1))], axis=1)   # (B, L)
    deltas = rewards + next_values - values
    adv = np.zeros_like(deltas)
    running = np.zeros(B)
    for t in range(L - 1, -1, -1):
        running = deltas[:, t] + lam * running
        adv[:, t] = running
    return adv


def _check_common(fn: str, policy, ref, reward_fn, rng, callback, kl_coef, **ints) -> None:
    """The checks both trainers share, made before any sampling."""
    check_policy_pair(fn, policy, ref)
    if not callable(reward_fn):
        raise TypeError(f"{fn}: reward_fn must be callable (prompts, seqs) -> scores, got {type(reward_fn).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"{fn}: callback must be callable or None, got {type(callback).__name__}")
    generator(fn, rng)
    number(fn, "kl_coef", kl_coef, low=0)
    for name, v in ints.items():
        positive_int(fn, name, v)


def _evaluate(callback, history, iteration, policy):
    if callback is not None:
        row = callback(iteration, policy)
        if row is not None:
            history.append(row)


def ppo_rlhf(policy: TabularPolicy, ref: TabularPolicy, reward_fn: Callable, rng: np.random.Generator, *,
             kl_coef: float = 0.1, iterations: int = 100, batch_size: int = 256, epochs: int = 4,
             minibatches: int = 4, clip: float = 0.2, lr: float = 0.05, value_lr: float = 0.1,
             gae_lambda: float = 0.95, normalize_advantages: bool = True,
             callback: Callable | None = None, eval_every: int = 10) -> list:
    """PPO on the KL-penalised per-token reward; updates `policy` in place.

    Args:
        reward_fn: (prompts (B,), seqs (B, L)) -> scores (B,), e.g. a reward model or `table_reward`.
        kl_coef: beta of the per-token KL penalty.
        normalize_advantages: standardise advantages per batch (a common PPO detail).
        callback: called as callback(iteration, policy) before training and every `eval_every`
            iterations; its non-None results are returned as the history list.
    """
    _check_common("ppo_rlhf", policy, ref, reward_fn, rng, callback, kl_coef, iterations=iterations,
                  batch_size=batch_size, epochs=epochs, minibatches=minibatches, eval_every=eval_every)
    for name, v in (("lr", lr), ("value_lr", value_lr), ("clip", clip)):
        number("ppo_rlhf", name, v, low=0, low_open=True)
    fraction("ppo_rlhf", "gae_lambda", gae_lambda)
    if minibatches > batch_size:
        raise ValueError(f"ppo_rlhf: minibatches ({minibatches}) cannot exceed batch_size ({batch_size})")
    lang = policy.lang
    values = Tensor(np.zeros((lang.P, lang.num_prefixes)), requires_grad=True)   # tabular critic
    opt = Adam(policy.parameters(), lr=lr)
    value_opt = Adam([values], lr=value_lr)
    history: list = []
    _evaluate(callback, history, 0, policy)
    for it in range(1, iterations + 1):
        # ---- collect a batch with the current policy
        prompts = rng.integers(0, lang.P, size=batch_size)
        seqs = policy.sample(prompts, rng)                                     # (B, L)
        pre = lang.prefix_index(seqs)                                          # (B, L)
        with no_grad():
            old_logp = policy.token_log_probs(prompts, seqs).data              # (B, L)
            ref_logp = ref.token_log_probs(prompts, seqs).data                 # (B, L)
        rewards = kl_penalised_rewards(reward_fn(prompts, seqs), old_logp, ref_logp, kl_coef)
        v = values.data[prompts[:, None], pre]                                 # (B, L)
        adv = gae(rewards, v, gae_lambda)
        targets = adv + v                                                      # (B, L) lambda-returns
        if normalize_advantages:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        # ---- several epochs of clipped updates
        for _ in range(epochs):
            for idx in np.array_split(rng.permutation(batch_size), minibatches):
                logp = policy.token_log_probs(prompts[idx], seqs[idx])           # (b, L)
                ratio = (logp - old_logp[idx]).exp()
                surrogate = minimum(ratio * adv[idx], ratio.clip(1 - clip, 1 + clip) * adv[idx])
                loss = -surrogate.mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                v_pred = values[prompts[idx][:, None], pre[idx]]                 # (b, L)
                v_loss = ((v_pred - targets[idx]) ** 2).mean()
                value_opt.zero_grad()
                v_loss.backward()
                value_opt.step()
        if it % eval_every == 0 or it == iterations:
            _evaluate(callback, history, it, policy)
    return history


def rloo_rlhf(policy: TabularPolicy, ref: TabularPolicy, reward_fn: Callable, rng: np.random.Generator, *,
              kl_coef: float = 0.1, iterations: int = 100, prompts_per_batch: int = 64, k: int = 4,
              lr: float = 0.05, callback: Callable | None = None, eval_every: int = 10) -> list:
    """REINFORCE with a leave-one-out baseline on the sequence-level KL-penalised return.

    R_i = r_phi(x, y_i) - kl_coef sum_t (log pi - log pi_ref)(y_i,t); k samples per prompt.
    """
    _check_common("rloo_rlhf", policy, ref, reward_fn, rng, callback, kl_coef, iterations=iterations,
                  prompts_per_batch=prompts_per_batch, eval_every=eval_every)
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 2:
        raise ValueError(f"rloo_rlhf: k must be an integer >= 2 (a baseline needs another sample), got {k!r}")
    number("rloo_rlhf", "lr", lr, low=0, low_open=True)
    lang = policy.lang
    opt = Adam(policy.parameters(), lr=lr)
    history: list = []
    _evaluate(callback, history, 0, policy)
    for it in range(1, iterations + 1):
        prompts = np.repeat(rng.integers(0, lang.P, size=prompts_per_batch), k)   # (B,) groups of k
        seqs = policy.sample(prompts, rng)
        logp = policy.token_log_probs(prompts, seqs)                              # (B, L) Tensor
        with no_grad():
            ref_logp = ref.token_log_probs(prompts, seqs).data
        returns = kl_penalised_rewards(reward_fn(prompts, seqs), logp.data, ref_logp, kl_coef).sum(-1)
        adv = rloo_advantages(returns, k)                                         # (B,)
        loss = -(logp.sum(axis=-1) * adv).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if it % eval_every == 0 or it == iterations:
            _evaluate(callback, history, it, policy)
    return history
