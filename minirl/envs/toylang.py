"""A toy language small enough to enumerate: prompts, every sequence, a gold reward, a preference
oracle, and a reference policy trained by supervised fine-tuning (SFT).

The whole RLHF pipeline needs four things, all here at toy scale:

* a **language**: prompts x and responses y = (y_0, ..., y_{L-1}) over a vocabulary of V tokens.
  With V = 6 and L = 4 there are V^L = 1296 responses per prompt, so every expectation over
  responses is an exact sum (see `toylang_exact`);
* a hidden **gold reward** r(x, y), standing in for human taste: per-token sentiment that depends
  on the prompt, with interactions ("not" flips the next word, "very" doubles it, repeating a word
  is annoying, ending with "." is tidy);
* a **preference oracle** that labels pairs like a person would, by Bradley-Terry sampling
  (Bradley & Terry, 1952):  P(a preferred to b | x) = sigmoid((r(x, a) - r(x, b)) / temperature);
* a **reference policy** pi_ref(y | x): an autoregressive model fitted by SFT to a corpus written by
  a "writer" Markov chain that rarely repeats itself.

Policies are tabular and autoregressive: one row of V logits per (prompt, prefix),

    pi(y | x) = prod_t softmax(logits[x, prefix(y_<t)])[y_t]

which can represent *every* distribution over responses (chain rule), so the exact optimum of any
objective is reachable. Prefixes are numbered breadth-first: the empty prefix is 0, prefixes of
length t occupy ids offset_t ... offset_t + V^t - 1 with offset_t = 1 + V + ... + V^(t-1).

Shapes
------
| symbol | meaning                              | default |
|--------|--------------------------------------|---------|
| P      | number of prompts                    | 3       |
| V      | vocabulary size                      | 6       |
| L      | response length (fixed)              | 4       |
| S      | number of responses, V^L             | 1296    |
| N      | number of prefixes, (V^L - 1)/(V - 1)| 259     |
| B      | batch size                           |         |
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ..autograd import Tensor
from ..nn import Module
from ..optim import Adam

__all__ = ["VOCAB", "PROMPTS", "ToyLanguage", "Preferences", "TabularPolicy", "writer_corpus",
           "writer_logits", "writer_log_probs", "sample_preferences", "bradley_terry_label", "sft",
           "reference_policy"]

VOCAB = ("good", "bad", "okay", "not", "very", ".")
PROMPTS = ("praise:", "complain:", "describe:")
# Value of each sentiment word under each prompt (words not listed are worth 0).
TASTE = {
    "praise:": {"good": 1.0, "bad": -1.0, "okay": 0.3},
    "complain:": {"good": -1.0, "bad": 1.0, "okay": -0.3},
    "describe:": {"good": -0.2, "bad": -0.2, "okay": 0.8},
}


class ToyLanguage:
    """Vocabulary, prompts, the enumeration of all responses, and the gold reward.

    Gold reward (the hidden "human taste"), for prompt x and response y of length L:

        r(x, y) = sum_t m_t * taste[x][y_t]  -  repeat_penalty * #{t : y_t = y_(t-1)}
                  + end_bonus * [y_(L-1) = "."]

    with the modifier m_t = -1 after "not", 2 after "very", 1 otherwise.

    Args:
        vocab: token strings (at least 2, distinct).
        prompts: prompt strings; each needs an entry in `taste`.
        length: response length L (at least 1).
        taste: {prompt: {token: value}}; defaults to `TASTE`.
        repeat_penalty, end_bonus: the two interaction terms above.
    """

    def __init__(self, vocab=VOCAB, prompts=PROMPTS, length: int = 4, taste=None,
                 repeat_penalty: float = 1.0, end_bonus: float = 0.5):
        vocab, prompts = tuple(vocab), tuple(prompts)
        if len(vocab) < 2 or len(set(vocab)) != len(vocab):
            raise ValueError(f"ToyLanguage: vocab needs at least 2 distinct tokens, got {vocab}")
        if not prompts or len(set(prompts)) != len(prompts):
            raise ValueError(f"ToyLanguage: prompts must be distinct and non-empty, got {prompts}")
        if not isinstance(length, (int, np.integer)) or length < 1:
            raise ValueError(f"ToyLanguage: length must be a positive integer, got {length!r}")
        taste = TASTE if taste is None else taste
        missing = [p for p in prompts if p not in taste]
        if missing:
            raise ValueError(f"ToyLanguage: no taste given for prompts {missing}; taste has {sorted(taste)}")
        if len(vocab) ** length > 200_000:
            raise ValueError(f"ToyLanguage: V^L = {len(vocab)}^{length} responses is too many to enumerate "
                             "(limit 200000); use a smaller vocabulary or length")
        self.vocab, self.prompts, self.length = vocab, prompts, int(length)
        self.repeat_penalty, self.end_bonus = float(repeat_penalty), float(end_bonus)
        self.taste = np.array([[taste[p].get(v, 0.0) for v in vocab] for p in prompts])   # (P, V)
        V, L = self.V, self.L
        # every response, in base-V order: response s has digits y_0 ... y_(L-1)
        self.sequences = np.array(np.unravel_index(np.arange(V ** L), (V,) * L)).T.copy()  # (S, L)
        self.offsets = np.array([sum(V ** k for k in range(t)) for t in range(L + 1)])     # (L+1,)
        self.prefix_ids = self.prefix_index(self.sequences)                                  # (S, L)
        self.gold_table = self._gold(self.sequences)                                         # (P, S)

    def _key(self) -> tuple:
        return (self.vocab, self.prompts, self.length, self.taste.tobytes(), self.repeat_penalty, self.end_bonus)

    def __eq__(self, other):
        return isinstance(other, ToyLanguage) and self._key() == other._key()

    def __hash__(self):                      # equal languages share cached reference policies
        return hash(self._key())

    # ------------------------------------------------------------------ sizes
    @property
    def V(self) -> int:
        return len(self.vocab)

    @property
    def L(self) -> int:
        return self.length

    @property
    def P(self) -> int:
        return len(self.prompts)

    @property
    def num_sequences(self) -> int:
        return self.V ** self.L

    @property
    def num_prefixes(self) -> int:
        return int(self.offsets[-1])

    def __repr__(self):
        return (f"ToyLanguage(V={self.V}, L={self.L}, P={self.P}, S={self.num_sequences} responses "
                f"per prompt)")

    # ------------------------------------------------------------------ validation and encoding
    def check_prompts(self, prompts) -> np.ndarray:
        """Prompt indices as an int array; anything outside [0, P) is an error."""
        arr = np.asarray(prompts)
        if arr.dtype.kind in "US":
            return np.array([self._prompt_id(p) for p in arr.ravel()]).reshape(arr.shape)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"prompts must be integer indices or prompt strings, got dtype {arr.dtype}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.P):
            raise ValueError(f"prompt index out of range: got values in [{arr.min()}, {arr.max()}], "
                             f"accepted 0..{self.P - 1} ({', '.join(self.prompts)})")
        return arr.astype(np.int64)

    def _prompt_id(self, prompt: str) -> int:
        if prompt not in self.prompts:
            raise ValueError(f"unknown prompt {prompt!r}; accepted prompts: {self.prompts}")
        return self.prompts.index(prompt)

    def check_sequences(self, seqs) -> np.ndarray:
        """Responses as an int array (B, L); wrong length or tokens outside [0, V) are errors."""
        arr = np.asarray(seqs)
        if arr.dtype.kind not in "iu":
            raise TypeError(f"responses must be integer token ids, got dtype {arr.dtype}; "
                            "use encode() for strings")
        if arr.ndim != 2 or arr.shape[1] != self.L:
            raise ValueError(f"responses must have shape (B, {self.L}), got {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.V):
            raise ValueError(f"token id out of range: got values in [{arr.min()}, {arr.max()}], "
                             f"accepted 0..{self.V - 1} ({', '.join(self.vocab)})")
        return arr.astype(np.int64)

    def encode(self, text: str) -> np.ndarray:
        """'good very good .' -> token ids (L,); unknown words and wrong lengths are errors."""
        words = text.split()
        unknown = [w for w in words if w not in self.vocab]
        if unknown:
            raise ValueError(f"words {unknown} are not in the vocabulary {self.vocab}")
        if len(words) != self.L:
            raise ValueError(f"a response has exactly {self.L} words, got {len(words)}: {text!r}")
        return np.array([self.vocab.index(w) for w in words])

    def decode(self, seq) -> str:
        return " ".join(self.vocab[int(t)] for t in np.asarray(seq).ravel())

    def sequence_index(self, seqs) -> np.ndarray:
        """Index s in [0, S) of each response (its base-V number), shape (B,)."""
        seqs = self.check_sequences(seqs)
        return np.ravel_multi_index(seqs.T, (self.V,) * self.L)

    def prefix_index(self, seqs) -> np.ndarray:
        """prefix_ids[b, t] = id of the prefix y_<t of response b (the state before token t), (B, L)."""
        seqs = self.check_sequences(seqs)
        code = np.zeros(len(seqs), dtype=np.int64)
        ids = np.empty(seqs.shape, dtype=np.int64)
        for t in range(self.L):
            ids[:, t] = self.offsets[t] + code
            code = code * self.V + seqs[:, t]
        return ids

    # ------------------------------------------------------------------ gold reward
    def _gold(self, seqs: np.ndarray) -> np.ndarray:
        """Gold reward of every response under every prompt, (P, B)."""
        not_id = self.vocab.index("not") if "not" in self.vocab else -1
        very_id = self.vocab.index("very") if "very" in self.vocab else -1
        dot_id = self.vocab.index(".") if "." in self.vocab else -1
        modifier = np.ones(seqs.shape)                                        # (B, L)
        modifier[:, 1:][seqs[:, :-1] == not_id] = -1.0
        modifier[:, 1:][seqs[:, :-1] == very_id] = 2.0
        sentiment = (modifier[None] * self.taste[:, seqs]).sum(-1)           # (P, B)
        repeats = (seqs[:, 1:] == seqs[:, :-1]).sum(-1)                      # (B,)
        ending = seqs[:, -1] == dot_id                                        # (B,)
        return sentiment - self.repeat_penalty * repeats + self.end_bonus * ending

    def gold_reward(self, prompts, seqs) -> np.ndarray:
        """r(x_b, y_b) for a batch, (B,)."""
        prompts, idx = self.check_prompts(prompts), self.sequence_index(seqs)
        if prompts.shape != idx.shape:
            raise ValueError(f"prompts {prompts.shape} and responses {idx.shape[0]} differ in number")
        return self.gold_table[prompts, idx]


@functools.lru_cache(maxsize=None)
def _default_language() -> ToyLanguage:
    return ToyLanguage()


# ---------------------------------------------------------------------- preferences
@dataclass
class Preferences:
    """A set of labelled pairs: under prompt `prompts[i]`, `chosen[i]` was preferred to `rejected[i]`.

    Shapes: prompts (B,), chosen (B, L), rejected (B, L). Construction refuses an empty set and a
    one-sided set (every pair compares a response with itself, so nothing can be learned).
    """
    prompts: np.ndarray
    chosen: np.ndarray
    rejected: np.ndarray

    def __post_init__(self):
        self.prompts = np.asarray(self.prompts, dtype=np.int64)
        self.chosen = np.asarray(self.chosen, dtype=np.int64)
        self.rejected = np.asarray(self.rejected, dtype=np.int64)
        if self.prompts.ndim != 1 or len(self.prompts) == 0:
            raise ValueError(f"Preferences: need a non-empty 1-D array of prompts, got shape {self.prompts.shape}")
        n = len(self.prompts)
        if self.chosen.shape != self.rejected.shape or self.chosen.ndim != 2 or len(self.chosen) != n:
            raise ValueError(f"Preferences: chosen {self.chosen.shape} and rejected {self.rejected.shape} "
                             f"must both be ({n}, L)")
        if np.all(self.chosen == self.rejected):
            raise ValueError(f"Preferences: one-sided set: all {n} pairs compare a response with itself; "
                             "a preference needs two different responses")

    def __len__(self) -> int:
        return len(self.prompts)

    def subset(self, idx) -> "Preferences":
        return Preferences(self.prompts[idx], self.chosen[idx], self.rejected[idx])

    def split(self, fraction: float, rng: np.random.Generator) -> tuple["Preferences", "Preferences"]:
        """Random (train, held-out) split; `fraction` of the pairs go to the held-out part."""
        if not 0 < fraction < 1:
            raise ValueError(f"split fraction must be in (0, 1), got {fraction}")
        perm = rng.permutation(len(self))
        k = max(1, int(round(fraction * len(self))))
        return self.subset(perm[k:]), self.subset(perm[:k])


def bradley_terry_label(lang: ToyLanguage, prompts, a, b, rng: np.random.Generator | None = None,
                        deterministic: bool = False, temperature: float = 1.0) -> Preferences:
    """Label pairs (a_i, b_i) like a person would.

    Bradley-Terry: P(a > b | x) = sigmoid((r(x, a) - r(x, b)) / temperature); a label is one draw.
    `deterministic=True` always prefers the higher gold reward (ties go to `a`), and needs no rng.
    """
    if not temperature > 0:
        raise ValueError(f"bradley_terry_label: temperature must be > 0, got {temperature}")
    prompts = lang.check_prompts(prompts)
    a, b = lang.check_sequences(a), lang.check_sequences(b)
    diff = (lang.gold_reward(prompts, a) - lang.gold_reward(prompts, b)) / temperature   # (B,)
    if deterministic:
        a_wins = diff >= 0
    else:
        if not isinstance(rng, np.random.Generator):
            raise TypeError("bradley_terry_label: sampling labels needs an np.random.Generator "
                            "(or pass deterministic=True)")
        a_wins = rng.random(diff.shape) < 0.5 * (np.tanh(0.5 * diff) + 1)
    chosen = np.where(a_wins[:, None], a, b)
    rejected = np.where(a_wins[:, None], b, a)
    return Preferences(prompts, chosen, rejected)


def sample_preferences(lang: ToyLanguage, policy: "TabularPolicy", n_pairs: int, rng: np.random.Generator,
                       deterministic: bool = False, temperature: float = 1.0) -> Preferences:
    """n_pairs prompts drawn uniformly, two responses from `policy` for each, labelled by the oracle."""
    if not isinstance(n_pairs, (int, np.integer)) or n_pairs < 1:
        raise ValueError(f"sample_preferences: n_pairs must be a positive integer, got {n_pairs!r}")
    prompts = rng.integers(0, lang.P, size=n_pairs)
    a, b = policy.sample(prompts, rng), policy.sample(prompts, rng)
    return bradley_terry_label(lang, prompts, a, b, rng, deterministic, temperature)


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
    if not 0 <= smoothing < 1:
        raise ValueError(f"sft: smoothing must be in [0, 1), got {smoothing}")
    lang = policy.lang
    prompts, seqs = lang.check_prompts(prompts), lang.check_sequences(seqs)
    pre = lang.prefix_index(seqs)                                            # (B, L)
    w = np.ones(len(prompts)) if weights is None else np.asarray(weights, dtype=np.float64)
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
