"""The toy language itself: prompts, every response, the gold reward and the preference oracle.

(`minirl.envs.toylang` gathers this module and `policy`, the tabular policies and the SFT reference.)

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

Policies over it (tabular, autoregressive) are in `minirl.envs.toylang.policy`.

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

__all__ = ["VOCAB", "PROMPTS", "ToyLanguage", "Preferences", "sample_preferences", "bradley_terry_label"]

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
