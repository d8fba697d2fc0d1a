"""The toy language of lessons 08-10, measured exactly like driving (`minirl driving`'s second world).

Like for like with `reward`: the same noiseless judge (`scripted_judge`: the higher gold reward
wins, ties a coin flip), the same numbers of pairs, the same model class and trainer
(`minirl.algos.world_models.RewardModel`, an MLP 64-64 tanh, Bradley-Terry by
`fit_reward_preferences`, same batch, step size and number of steps), and the same definitions:

* pair accuracy on fresh pairs drawn like the training pairs (a prompt, two responses from
  pi_ref), against the gold order, ties 1/2;
* R^2 = squared correlation of the model's score with the gold reward over responses from pi_ref,
  after removing each prompt's mean (the judge only compares responses to one prompt, so a
  Bradley-Terry score is defined up to a constant per prompt).

In the toy language the response *is* the action sequence and *is* the outcome: the world's
response to a token is to append it. So its outcome reward and its action-sequence reward are one
model, and it has no crash.

Its over-optimisation curve is exact (lesson 10): best-of-N against pi_ref with the learned model
as the proxy, gains in pi_ref's standard deviation pooled over prompts, against KL_BoN(N).

Shapes: prompts (B,); responses (B, L); tables (P, S) over every response.
"""

from __future__ import annotations

import numpy as np

from ...algos.best_of_n import best_of_n_log_probs
from ...algos.model_fitting import scripted_judge
from ...algos.segment_prefs import pair_accuracy
from ...algos.world_models import RewardModel
from ...algos.model_fitting import fit_reward_preferences
from ...autograd import no_grad
from .reward import BT_BATCH, BT_LR, MODELS, squared_correlation
from .selection import kl_bon

__all__ = ["toy_reward_model", "toy_reward_row", "toy_bon_curve"]


def _features(lang, prompts, seqs) -> tuple[np.ndarray, np.ndarray]:
    """One-hot prompt (B, P) and one-hot response (B, L V): the model's two inputs."""
    return np.eye(lang.P)[prompts], np.eye(lang.V)[seqs].reshape(len(seqs), lang.L * lang.V)


def _lang():
    from ...envs.toylang import ToyLanguage, reference_policy

    lang = ToyLanguage()
    return lang, reference_policy(lang)


def toy_reward_model(n_pairs: int, seed: int, *, steps: int) -> np.ndarray:
    """A Bradley-Terry model of the gold reward on `n_pairs` judged pairs from pi_ref; its table (P, S)."""
    lang, ref = _lang()
    rng = np.random.default_rng([seed, 7, int(n_pairs)])
    prompts = rng.integers(0, lang.P, size=int(n_pairs))
    a, b = ref.sample(prompts, rng), ref.sample(prompts, rng)
    (pa, ya), (pb, yb) = _features(lang, prompts, a), _features(lang, prompts, b)
    prefs = scripted_judge(lang.gold_reward(prompts, a), lang.gold_reward(prompts, b), rng)
    pairs = {"obs_a": pa[:, None], "act_a": ya[:, None], "obs_b": pb[:, None], "act_b": yb[:, None], "prefs": prefs}
    net = RewardModel(lang.P, lang.L * lang.V, rng=rng, hidden=MODELS["mlp"])
    fit_reward_preferences(net, pairs, rng, steps=steps, batch=BT_BATCH, lr=BT_LR, val_fraction=0.0, min_pairs=0)
    with no_grad():
        return np.stack([net(*_features(lang, np.full(lang.num_sequences, x), lang.sequences)).data
                         for x in range(lang.P)])                                   # (P, S)


def toy_reward_row(table, seed: int, n_test: int = 4000) -> dict:
    """Held-out accuracy and R^2 of a proxy table (P, S), on fresh pi_ref pairs and responses."""
    lang, ref = _lang()
    rng = np.random.default_rng([seed, 99])
    prompts = rng.integers(0, lang.P, size=n_test)
    ia, ib = (lang.sequence_index(ref.sample(prompts, rng)) for _ in range(2))
    gold = lang.gold_table
    acc = pair_accuracy(table[prompts, ia], table[prompts, ib], gold[prompts, ia], gold[prompts, ib])
    return {"overall": acc, "r2": squared_correlation(table[prompts, ia], gold[prompts, ia], groups=prompts),
            "n_scored": int(n_test)}


def toy_bon_curve(table, ns) -> list[dict]:
    """Exact best-of-N against pi_ref with `table` (P, S) as the proxy: gains of proxy and gold."""
    from ...envs import toylang_exact as ex

    lang, ref = _lang()
    lref = ref.all_log_probs().data                                                   # (P, S)
    gold, proxy = lang.gold_table, np.asarray(table, dtype=np.float64)

    def ref_std(values):
        p = np.exp(lref)
        centred = values - (p * values).sum(-1, keepdims=True)
        return float(np.sqrt((p * centred ** 2).sum(-1).mean()))

    g0, p0 = ex.expected_reward(lref, gold), ex.expected_reward(lref, proxy)
    rows = []
    for n in ns:
        logp = best_of_n_log_probs(lref, proxy, int(n))
        rows.append({"N": int(n), "kl_bon": float(kl_bon(int(n))), "kl_exact": ex.kl_divergence(logp, lref),
                     "proxy_gain": (ex.expected_reward(logp, proxy) - p0) / ref_std(proxy),
                     "paid_gain": (ex.expected_reward(logp, gold) - g0) / ref_std(gold)})
    return rows
