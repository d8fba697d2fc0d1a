"""Tabular autoregressive policies over the toy language, the corpus writer, SFT and the reference policy.

Policies are tabular and autoregressive: one row of V logits per (prompt, prefix),

    pi(y | x) = prod_t softmax(logits[x, prefix(y_<t)])[y_t]

which can represent *every* distribution over responses (chain rule), so the exact optimum of any
objective is reachable. Prefixes are numbered breadth-first: the empty prefix is 0, prefixes of
length t occupy ids offset_t ... offset_t + V^t - 1 with offset_t = 1 + V + ... + V^(t-1).

The reference policy pi_ref is fitted by supervised fine-tuning (SFT) to a corpus written by a
"writer" Markov chain that rarely repeats itself (`writer_logits`, `writer_corpus`, `sft`,
`reference_policy`). Shapes: see `minirl.envs.toylang.language`.
"""

from __future__ import annotations

import functools

import numpy as np

from ...autograd import Tensor
from ...checks import fraction, nonnegative_int, number, positive_int
from ...nn import Module
from ...optim import Adam
from .language import ToyLanguage, _default_language

__all__ = ["TabularPolicy", "check_policy_pair", "writer_logits", "writer_log_probs", "writer_corpus", "sft", "reference_policy"]


# ---------------------------------------------------------------------- tabular autoregressive policy
class TabularPolicy(Module):
    """pi(y | x) = prod_t softmax(logits[x, prefix(y_<t)])[y_t], one logit row per (prompt, prefix).

    Parameter: logits, Tensor (P, N, V). Initialised to zero (uniform over responses) unless given.
    """

    def __init__(self, lang: ToyLanguage, logits=None):
        self.lang = lang
        shape = (lang.P, lang.num_prefixes, lang.V)
        init = np.zeros(shape) if logits is None else np.array(logits, dtype=np.float64)
        if init.shape != shape:
            raise ValueError(f"TabularPolicy: logits must have shape {shape}, got {init.shape}")
        self.logits = Tensor(init, requires_grad=True)

    def copy(self) -> "TabularPolicy":
        return TabularPolicy(self.lang, self.logits.data.copy())

    def log_prob_table(self) -> Tensor:
        """log pi(v | x, prefix) for every prompt, prefix and token, (P, N, V)."""
        return self.logits.log_softmax(axis=-1)

    def token_log_probs(self, prompts, seqs) -> Tensor:
        """log pi(y_t | x, y_<t) for a batch, (B, L)."""
        prompts, seqs = self.lang.check_prompts(prompts), self.lang.check_sequences(seqs)
        pre = self.lang.prefix_index(seqs)                                     # (B, L)
        return self.log_prob_table()[prompts[:, None], pre, seqs]

    def sequence_log_probs(self, prompts, seqs) -> Tensor:
        """log pi(y | x) = sum_t log pi(y_t | x, y_<t), (B,)."""
        return self.token_log_probs(prompts, seqs).sum(axis=-1)

    def step_logits(self, prompts, seqs) -> Tensor:
        """Logits of the next-token distribution at every step of each response, (B, L, V)."""
        prompts, seqs = self.lang.check_prompts(prompts), self.lang.check_sequences(seqs)
        return self.logits[prompts[:, None], self.lang.prefix_index(seqs)]

    def all_log_probs(self) -> Tensor:
        """log pi(y | x) for every prompt and every response, (P, S) -- the exact distribution."""
        lang = self.lang
        table = self.log_prob_table()
        p = np.arange(lang.P)[:, None, None]
        return table[p, lang.prefix_ids[None], lang.sequences[None]].sum(axis=-1)   # (P, S)

    def sample(self, prompts, rng: np.random.Generator) -> np.ndarray:
        """Sample responses token by token, (B, L) int."""
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"sample needs an np.random.Generator, got {type(rng).__name__}")
        prompts = self.lang.check_prompts(prompts)
        lang, B = self.lang, len(prompts)
        seqs = np.zeros((B, lang.L), dtype=np.int64)
        code = np.zeros(B, dtype=np.int64)
        logits = self.logits.data
        for t in range(lang.L):
            row = logits[prompts, lang.offsets[t] + code]                    # (B, V)
            probs = np.exp(row - row.max(-1, keepdims=True))
            cdf = np.cumsum(probs, -1)
            u = rng.random((B, 1)) * cdf[:, -1:]
            seqs[:, t] = np.minimum((u > cdf).sum(-1), lang.V - 1)
            code = code * lang.V + seqs[:, t]
        return seqs

    @classmethod
    def from_sequence_log_probs(cls, lang: ToyLanguage, logp) -> "TabularPolicy":
        """The tabular policy whose response distribution is exp(logp), logp (P, S).

        Conditionals by marginalisation: pi(v | x, prefix) = mass(prefix + v) / mass(prefix). A
        prefix with zero mass gets a uniform row (it is never reached, so any row is exact).
        """
        logp = np.asarray(logp, dtype=np.float64)
        if logp.shape != (lang.P, lang.num_sequences):
            raise ValueError(f"from_sequence_log_probs: expected shape {(lang.P, lang.num_sequences)}, got {logp.shape}")
        logits = np.zeros((lang.P, lang.num_prefixes, lang.V))
        mass = logp                                                          # (P, V^L): log mass of full prefixes
        for t in range(lang.L - 1, -1, -1):
            m = mass.reshape(lang.P, lang.V ** t, lang.V)                   # (P, V^t, V): children of each prefix
            top = m.max(-1, keepdims=True)
            finite = np.isfinite(top)
            safe_top = np.where(finite, top, 0.0)
            with np.errstate(divide="ignore"):
                parent = np.log(np.exp(m - safe_top).sum(-1, keepdims=True)) + safe_top
            cond = np.where(finite, m - np.where(finite, parent, 0.0), 0.0)  # uniform row if unreachable
            logits[:, lang.offsets[t]:lang.offsets[t] + lang.V ** t] = np.where(np.isfinite(cond), cond, -1e9)
            mass = np.where(finite, parent, -np.inf)[..., 0]                 # (P, V^t)
        return cls(lang, logits)


def check_policy_pair(who: str, policy, ref) -> None:
    """A trainer's policy and reference must be TabularPolicy tables of the same language."""
    for name, p in (("policy", policy), ("ref", ref)):
        if not isinstance(p, TabularPolicy):
            raise TypeError(f"{who}: {name} must be a TabularPolicy, got {type(p).__name__}")
    if policy.logits.shape != ref.logits.shape:
        raise ValueError(f"{who}: policy {policy.logits.shape} and ref {ref.logits.shape} are tables of "
                         "different languages: give both policies of the same ToyLanguage")


# ---------------------------------------------------------------------- corpus and SFT
def writer_logits(lang: ToyLanguage) -> np.ndarray:
    """The corpus writer's Markov chain: logit of the next token given (prompt, previous token).

    Shape (P, V + 1, V); row V is "no previous token". The writer leans mildly towards the prompt's
    taste and strongly avoids repeating itself, so repeats are rare in the corpus.
    """
    noise = np.random.default_rng(1234).normal(0.0, 0.5, (lang.P, lang.V + 1, lang.V))
    out = 0.6 * lang.taste[:, None, :] + noise                              # (P, V+1, V)
    out[:, np.arange(lang.V), np.arange(lang.V)] -= 2.5                      # avoid repeats
    return out


def writer_log_probs(lang: ToyLanguage) -> np.ndarray:
    """The writer's exact log-probability of every response, (P, S)."""
    W = writer_logits(lang)
    logw = W - np.log(np.exp(W).sum(-1, keepdims=True))                    # (P, V+1, V)
    seqs = lang.sequences
    prev = np.concatenate([np.full((len(seqs), 1), lang.V), seqs[:, :-1]], axis=1)   # (S, L)
    return logw[np.arange(lang.P)[:, None, None], prev[None], seqs[None]].sum(-1)


def writer_corpus(lang: ToyLanguage, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n (prompt, response) examples written by the Markov writer: prompts (n,), responses (n, L)."""
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"writer_corpus: n must be a positive integer, got {n!r}")
    W = writer_logits(lang)
    prompts = rng.integers(0, lang.P, size=n)
    seqs = np.zeros((n, lang.L), dtype=np.int64)
    prev = np.full(n, lang.V)
    for t in range(lang.L):
        row = W[prompts, prev]                                               # (n, V)
        probs = np.exp(row - row.max(-1, keepdims=True))
        cdf = np.cumsum(probs, -1)
        seqs[:, t] = np.minimum((rng.random((n, 1)) * cdf[:, -1:] > cdf).sum(-1), lang.V - 1)
        prev = seqs[:, t]
    return prompts, seqs


def sft(policy: TabularPolicy, prompts, seqs, steps: int = 300, lr: float = 0.1,
        smoothing: float = 0.05, weights=None, callback=None, eval_every: int = 50) -> list[float]:
    """Supervised fine-tuning: minimise the (label-smoothed) per-token cross-entropy, full batch, Adam.

        loss = -(1/B) sum_b w_b sum_t [(1 - eps) log pi(y_t | x, y_<t) + (eps/V) sum_v log pi(v | x, y_<t)]

    Label smoothing eps keeps every token possible, so KL against the result is always finite.
    `callback(step, policy)`, if given, runs every `eval_every` steps and after the last one.
    Returns the loss per step.
    """
    fraction("sft", "smoothing", smoothing, one=False)
    nonnegative_int("sft", "steps", steps)
    positive_int("sft", "eval_every", eval_every)
    number("sft", "lr", lr, low=0, low_open=True)
    lang = policy.lang
    prompts, seqs = lang.check_prompts(prompts), lang.check_sequences(seqs)
    if len(prompts) != len(seqs) or len(prompts) == 0:
        raise ValueError(f"sft: need as many prompts as responses, at least one, got {len(prompts)} and {len(seqs)}")
    pre = lang.prefix_index(seqs)                                            # (B, L)
    w = np.ones(len(prompts)) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != (len(prompts),) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"sft: weights must be {len(prompts)} finite numbers >= 0 with a positive sum")
    w = w / w.sum()
    target = np.full(seqs.shape + (lang.V,), smoothing / lang.V)           # (B, L, V)
    np.put_along_axis(target, seqs[..., None], 1 - smoothing + smoothing / lang.V, axis=-1)
    target *= w[:, None, None]
    opt = Adam(policy.parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        logp = policy.log_prob_table()[prompts[:, None], pre]              # (B, L, V)
        loss = -(logp * target).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if callback is not None and (step % eval_every == 0 or step == steps):
            callback(step, policy)
    return losses


@functools.lru_cache(maxsize=8)
def _reference_logits(lang: ToyLanguage, corpus_size: int, seed: int, steps: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    prompts, seqs = writer_corpus(lang, corpus_size, rng)
    policy = TabularPolicy(lang)
    sft(policy, prompts, seqs, steps=steps)
    return policy.logits.data.copy()


def reference_policy(lang: ToyLanguage | None = None, corpus_size: int = 10000, seed: int = 0,
                     steps: int = 300) -> TabularPolicy:
    """pi_ref: a tabular policy SFT-trained on `corpus_size` examples of the writer. Cached per arguments."""
    lang = _default_language() if lang is None else lang
    return TabularPolicy(lang, _reference_logits(lang, corpus_size, seed, steps))
