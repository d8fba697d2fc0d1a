"""Which inputs make the driving reward learnable? (item 1 of `minirl driving`, lesson 11)

Two input sets for a reward model of highway-fast-v0, both describing the state *after* the step
(the env pays r_t for s_{t+1}) together with the action a_t (one-hot):

    privileged  x = (crashed, target lane, forward speed, on_road)(s_{t+1})      4 numbers
    observation x = Kinematics o_{t+1}: 5 cars x (presence, x, y, vx, vy)          25 numbers

and two model sizes on our autograd (`minirl.algos.world_models.RewardModel`): linear (no hidden
layer) and a small MLP (64, 64, tanh). Two ways to fit them, both on the training episodes only:

* regression, L = mean (r_psi(x_t, a_t) - r_t)^2, scored by R^2 = 1 - SSE / SST on the test episodes;
* Bradley-Terry on judged segment pairs (`minirl.algos.segment_prefs`; a perfect judge prefers the
  segment with the higher true return), scored by pair accuracy on test-episode pairs, overall,
  without a crash, and with a crash; repeated for several numbers of training pairs.

Episodes, not transitions, are split into train and test: steps of one episode are strongly
correlated, and a random split of transitions would test on near-copies of the training data.

The toy language's counterpart (lessons 08-10): a Bradley-Terry reward model of the gold reward
(`minirl.algos.reward_model_bt`) trained on the same numbers of pairs from pi_ref; its accuracy on
fresh pairs against the gold order, and R^2 = squared correlation of proxy and gold on responses
from pi_ref after removing each prompt's mean (a BT reward is only defined up to a constant per
prompt). There the model's input, the response, *is* the whole state: nothing is hidden from it.

Shapes: x (T, F); act (T, 5); rewards (T,); starts (2, N); every row a dict of plain numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...algos.model_fitting import (ModelWarning, Transitions, fit_reward_preferences, fit_reward_regression,
                                   scripted_judge)
from ...algos.segment_prefs import accuracy_by_crash, pair_accuracy, sample_pairs, segment_steps, segment_sums
from ...algos.world_models import RewardModel
from ...autograd import no_grad
from ...stats import r_squared

__all__ = ["INPUTS", "MODELS", "split_episodes", "reward_inputs", "fit_regression", "fit_preferences",
           "score_pairs", "evaluate_pairs", "toy_reward_rows"]

INPUTS = ("privileged", "observation")
MODELS = {"linear": (), "mlp": (64, 64)}


def split_episodes(n_episodes: int, test_fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Random (train ids, test ids) of `n_episodes` episodes; at least one of each."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    if n_episodes < 2:
        raise ValueError(f"need at least 2 episodes to split into train and test, got {n_episodes}")
    perm = rng.permutation(n_episodes)
    k = min(max(1, int(round(test_fraction * n_episodes))), n_episodes - 1)
    return np.sort(perm[k:]), np.sort(perm[:k])


def reward_inputs(data, inputs: str) -> np.ndarray:
    """(T, F) model inputs of every step: `privileged` (F = 4) or `observation` (F = 25)."""
    if inputs == "privileged":
        return data.privileged()
    if inputs == "observation":
        return data.flat_obs("next_obs")
    raise ValueError(f"inputs must be one of {INPUTS}, got {inputs!r}")


def _varying(x_train: np.ndarray) -> np.ndarray:
    """Columns that vary in the training data (a constant column carries nothing, and its tiny
    standard deviation would blow up any test value that differs from the constant)."""
    return x_train.std(axis=0) > 1e-6


def _model(n_in: int, model: str, rng: np.random.Generator) -> RewardModel:
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    return RewardModel(n_in, 5, rng=rng, hidden=MODELS[model])


class _Columns:
    """A reward model that sees only the columns `keep` of its inputs (same call signature)."""

    def __init__(self, net: RewardModel, keep: np.ndarray):
        self.net, self.keep = net, keep

    def __call__(self, x, act):
        return self.net(np.asarray(x)[..., self.keep], act)

    def segment_score(self, x, act):
        return self.net.segment_score(np.asarray(x)[..., self.keep], act)


def fit_regression(x, act, reward, train, model: str, rng: np.random.Generator, *, steps: int) -> tuple[_Columns, float]:
    """Fit r_psi(x, a) to the rewards of the `train` rows; return (model, R^2 on the other rows)."""
    train = np.asarray(train, dtype=bool)
    keep = _varying(x[train])
    net = _model(int(keep.sum()), model, rng)
    data = Transitions(x[:, keep], act, reward, x[:, keep], np.zeros(len(reward), dtype=np.int64), ~train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        fit_reward_regression(net, data, rng, steps=steps, lr=3e-3)
    with no_grad():
        pred = net(x[~train][:, keep], act[~train]).data
    return _Columns(net, keep), r_squared(pred, reward[~train])


def _pairs(x, act, reward, starts, length: int) -> dict:
    steps = segment_steps(starts, length)                                  # (2, N, L)
    return {"obs_a": x[steps[0]], "act_a": act[steps[0]], "obs_b": x[steps[1]], "act_b": act[steps[1]],
            "return_a": segment_sums(reward, starts[0], length),
            "return_b": segment_sums(reward, starts[1], length)}


def fit_preferences(x, act, reward, episode, n_pairs: int, model: str, rng: np.random.Generator, *,
                    length: int, steps: int) -> _Columns:
    """Bradley-Terry fit on `n_pairs` judged segment pairs drawn from these (training) steps."""
    keep = _varying(x)
    starts = sample_pairs(episode, length, n_pairs, rng)                   # (2, N)
    pairs = _pairs(x[:, keep], act, reward, starts, length)
    pairs["prefs"] = scripted_judge(pairs["return_a"], pairs["return_b"], rng)
    net = _model(int(keep.sum()), model, rng)
    fit_reward_preferences(net, pairs, rng, steps=steps, lr=3e-3, val_fraction=0.0, min_pairs=0)
    return _Columns(net, keep)


def score_pairs(model, x, act, starts, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The model's segment scores R_psi of both segments of every pair: two (N,) arrays."""
    steps = segment_steps(starts, length)
    with no_grad():
        return (model.segment_score(x[steps[0]], act[steps[0]]).data,
                model.segment_score(x[steps[1]], act[steps[1]]).data)


def evaluate_pairs(model, x, act, reward, crashed, starts, length: int) -> dict:
    """`accuracy_by_crash` of `model` on the pairs `starts` (2, N) of these (test) steps."""
    score_a, score_b = score_pairs(model, x, act, starts, length)
    return accuracy_by_crash(score_a, score_b, segment_sums(reward, starts[0], length),
                             segment_sums(reward, starts[1], length),
                             segment_sums(crashed, starts[0], length) > 0,
                             segment_sums(crashed, starts[1], length) > 0)


def toy_reward_rows(pair_counts, seed: int, *, steps: int, n_test: int = 4000) -> tuple[list, dict]:
    """The toy language's reward models: one row per number of pairs, and the proxy tables.

    Returns (rows with n_pairs, accuracy, r2; {n_pairs: proxy reward table (P, S)}).
    """
    from ...algos.reward_model_bt import train_reward_model
    from ...envs.toylang import ToyLanguage, reference_policy, sample_preferences

    lang = ToyLanguage()
    ref = reference_policy(lang)
    test_rng = np.random.default_rng([seed, 99])
    prompts = test_rng.integers(0, lang.P, size=n_test)
    a, b = ref.sample(prompts, test_rng), ref.sample(prompts, test_rng)
    ia, ib = lang.sequence_index(a), lang.sequence_index(b)
    gold = lang.gold_table
    rows, tables = [], {}
    for n_pairs in pair_counts:
        rng = np.random.default_rng([seed, int(n_pairs)])
        rm, _ = train_reward_model(lang, sample_preferences(lang, ref, int(n_pairs), rng), rng, steps=steps)
        proxy = rm.table()                                                  # (P, S)
        acc = pair_accuracy(proxy[prompts, ia], proxy[prompts, ib], gold[prompts, ia], gold[prompts, ib])
        g, p = gold[prompts, ia], proxy[prompts, ia]                         # responses drawn from pi_ref
        g, p = g - _prompt_means(g, prompts, lang.P), p - _prompt_means(p, prompts, lang.P)   # centred per prompt
        r2 = float(np.corrcoef(g, p)[0, 1] ** 2)
        rows.append({"n_pairs": int(n_pairs), "accuracy": acc, "r2": r2})
        tables[int(n_pairs)] = proxy
    return rows, tables


def _prompt_means(values: np.ndarray, prompts: np.ndarray, n_prompts: int) -> np.ndarray:
    sums = np.bincount(prompts, weights=values, minlength=n_prompts)
    counts = np.maximum(np.bincount(prompts, minlength=n_prompts), 1)
    return (sums / counts)[prompts]
