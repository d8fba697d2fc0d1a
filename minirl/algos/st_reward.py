"""Backpropagate through the reward model: Gumbel-softmax straight-through samples.

A person's score has no gradient; a reward model's does. Sample each token with the
straight-through Gumbel-softmax (Jang et al. 2017; Maddison et al. 2017): the forward pass uses an
exact one-hot sample, the backward pass the gradient of the relaxed sample
softmax((log pi + g)/tau). Feed the one-hot tokens to the reward model and differentiate the
KL-regularised objective end to end:

    loss = -mean_b r_phi(x_b, onehot(y_b))  +  beta mean_b sum_t KL(pi(. | x_b, y_b,<t) || pi_ref(. | x_b, y_b,<t))

The per-step KL is computed exactly over the V next tokens (its expectation along the sampled path
is the sequence-level KL). The estimator is biased: the reward's gradient with respect to a token
reaches the logits of that token's step only, never the choice of the later prefixes, and the
relaxation gradient is not the true one. It is often much lower-variance than the score function.

Shapes: prompts (B,); per step logits (B, V); tokens (B, L, V); rewards (B,).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..autograd import no_grad, stack
from ..checks import generator, number, positive_int
from ..distributions import Categorical
from ..envs.toylang import TabularPolicy
from ..optim import Adam
from .reward_model_bt import RewardModel

__all__ = ["st_reward_backprop"]


def st_reward_backprop(policy: TabularPolicy, ref: TabularPolicy, reward_model: RewardModel,
                       rng: np.random.Generator, *, kl_coef: float = 0.1, iterations: int = 200,
                       batch_size: int = 128, lr: float = 0.05, temperature: float = 1.0,
                       callback: Callable | None = None, eval_every: int = 10) -> list:
    """Maximise r_phi - beta KL by backprop through straight-through samples; updates `policy` in place.

    The reward model's parameters are frozen during training (restored afterwards).
    Returns the rows produced by callback(iteration, policy), as in `rlhf_pg`.
    """
    who = "st_reward_backprop"
    for name, p in (("policy", policy), ("ref", ref)):
        if not isinstance(p, TabularPolicy):
            raise TypeError(f"{who}: {name} must be a TabularPolicy, got {type(p).__name__}")
    if policy.logits.shape != ref.logits.shape:
        raise ValueError(f"{who}: policy {policy.logits.shape} and ref {ref.logits.shape} are tables of "
                         "different languages: give both policies of the same ToyLanguage")
    if not isinstance(reward_model, RewardModel):
        raise TypeError(f"{who}: reward_model must be a RewardModel (differentiable in its tokens), "
                        f"got {type(reward_model).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"{who}: callback must be callable or None, got {type(callback).__name__}")
    generator(who, rng)
    number(who, "kl_coef", kl_coef, low=0)
    for name, v in (("iterations", iterations), ("batch_size", batch_size), ("eval_every", eval_every)):
        positive_int(who, name, v)
    number(who, "lr", lr, low=0, low_open=True)
    number(who, "temperature", temperature, low=0, low_open=True)
    lang = policy.lang
    frozen = reward_model.parameters()
    opt = Adam(policy.parameters(), lr=lr)
    history: list = []

    def evaluate(it):
        if callback is not None:
            row = callback(it, policy)
            if row is not None:
                history.append(row)

    evaluate(0)
    for p in frozen:
        p.requires_grad = False
    try:
        for it in range(1, iterations + 1):
            prompts = rng.integers(0, lang.P, size=batch_size)
            code = np.zeros(batch_size, dtype=np.int64)
            tokens, kl = [], 0.0
            for t in range(lang.L):
                rows = lang.offsets[t] + code                                  # (B,) prefix ids
                dist = Categorical(policy.logits[prompts, rows])               # (B, V)
                with no_grad():
                    ref_logp = ref.logits[prompts, rows].log_softmax(axis=-1)  # (B, V)
                onehot = dist.gumbel_softmax_st(rng, temperature)              # (B, V), exact sample
                kl = kl + (dist.log_probs.exp() * (dist.log_probs - ref_logp)).sum(axis=-1)   # (B,)
                tokens.append(onehot)
                code = code * lang.V + onehot.data.argmax(-1)
            r = reward_model.forward_tokens(prompts, stack(tokens, axis=1))     # (B,)
            loss = -r.mean() + kl_coef * kl.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % eval_every == 0 or it == iterations:
                evaluate(it)
    finally:
        for p in frozen:
            p.requires_grad = True
    return history
