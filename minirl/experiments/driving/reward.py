"""Reward models of driving: which inputs make the reward learnable, and what RLHF would learn.

**Which inputs?** (regression, the lesson's first question.) r_psi(x_t, a_t) fitted to the paid
rewards on the training episodes, L = mean (r_psi - r_t)^2, scored by R^2 = 1 - SSE / SST on the
test episodes, with x the state *after* the step (the env pays r_t for s_{t+1}):

    privileged  x = (crashed, target lane, forward speed, on_road)(s_{t+1})      4 numbers
    observation x = Kinematics o_{t+1}: 5 cars x (presence, x, y, vx, vy)          25 numbers

**Two reward models learned from preferences** (Bradley-Terry on judged pairs of L-step segments;
a noiseless judge prefers the higher true return, ties a coin flip):

* the **outcome reward** ("what happened"): a per-step r_psi(o_{t+1}, a_t), the segment's score
  the sum over its steps (Christiano et al., 2017). It reads the observation the world produced.
* the **action-sequence reward** ("what you do"): one score R_psi(o_s, a_s, ..., a_{s+L-1}) of the
  state a segment starts in and the actions taken. This is what a language reward model is: it
  scores a response (the actions) given a prompt (the state), and the world's response to the
  actions (the other cars, the crash) must be inside the model.

The action-sequence reward is also learned the way a language reward model is, from pairs of
sequences from *one* state (`comparisons`: the simulator's rollouts, since recorded driving never
shows two action sequences from one state). Each is scored on held-out pairs of test-episode segments: pair accuracy (ties 1/2), the same on
pairs with a crash in either segment, and R^2 = the squared correlation of the model's segment
score with the true segment return over every test segment (a Bradley-Terry score is defined up
to an affine map, so this is the R^2 of the best affine read-out). `toy` computes the same for the
toy language.

Episodes, not transitions, are split into train and test: steps of one episode are strongly
correlated, and a random split would test on near-copies of the training data.

Shapes: x (T, F); act (T, 5); rewards (T,); starts (2, N) or (M,); rows are dicts of plain numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...algos.model_fitting import (ModelWarning, Transitions, fit_reward_preferences, fit_reward_regression,
                                   scripted_judge)
from ...algos.segment_prefs import accuracy_by_crash, segment_starts, segment_steps, segment_sums
from ...algos.world_models import RewardModel
from ...autograd import no_grad
from ...stats import r_squared

__all__ = ["INPUTS", "MODELS", "KINDS", "LEARNED", "split_episodes", "reward_inputs", "fit_regression", "fit_outcome",
           "fit_sequence", "fit_sequence_comparisons", "sequence_inputs", "segment_scores", "score_reward", "squared_correlation", "affine_readout",
           "segment_starts", "segment_sums"]

INPUTS = ("privileged", "observation")
MODELS = {"linear": (), "mlp": (64, 64)}
KINDS = ("outcome", "action sequence")
# the preference-learned driving rewards: name -> (kind, what its judged pairs were)
LEARNED = {"outcome": ("outcome", "recorded segments"),
           "action sequence": ("action sequence", "recorded segments"),
           "action sequence, one-state pairs": ("action sequence", "one-state comparisons")}
BT_LR, BT_BATCH = 3e-3, 64                      # every Bradley-Terry fit, both worlds


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


class _Columns:
    """A reward model that sees only the columns `keep` of its inputs (same call signature).

    A column constant in the training data carries nothing, and its tiny standard deviation would
    blow up any test value that differs from the constant."""

    def __init__(self, net: RewardModel, keep: np.ndarray):
        self.net, self.keep = net, keep

    def __call__(self, x, act):
        return self.net(np.asarray(x)[..., self.keep], act)

    def segment_score(self, x, act):
        return self.net.segment_score(np.asarray(x)[..., self.keep], act)


def fit_regression(x, act, reward, train, model: str, rng: np.random.Generator, *, steps: int) -> tuple[_Columns, float]:
    """Fit r_psi(x, a) to the rewards of the `train` rows; return (model, R^2 on the other rows)."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    train = np.asarray(train, dtype=bool)
    keep = x[train].std(axis=0) > 1e-6
    net = RewardModel(int(keep.sum()), 5, rng=rng, hidden=MODELS[model])
    data = Transitions(x[:, keep], act, reward, x[:, keep], np.zeros(len(reward), dtype=np.int64), ~train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        fit_reward_regression(net, data, rng, steps=steps, lr=3e-3)
    with no_grad():
        pred = net(x[~train][:, keep], act[~train]).data
    return _Columns(net, keep), r_squared(pred, reward[~train])


def sequence_inputs(data, starts, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The action-sequence model's inputs for segments starting at `starts` (...,): the observation
    the segment starts in, (..., 25), and its actions one-hot, (..., 5 L)."""
    starts = np.asarray(starts, dtype=np.int64)
    steps = segment_steps(starts, length)                                     # (..., L)
    acts = np.eye(5)[data.action[steps]]                                      # (..., L, 5)
    return data.obs[starts].reshape(*starts.shape, 25).astype(np.float64), acts.reshape(*starts.shape, 5 * length)


def _judged(return_a, return_b, rng):
    return scripted_judge(return_a, return_b, rng)                            # noiseless; ties: a coin flip


def fit_outcome(train, starts, rng: np.random.Generator, *, length: int, steps: int) -> _Columns:
    """Bradley-Terry outcome reward r_psi(o_{t+1}, a_t) (MLP 64-64) on the judged segment pairs
    `starts` (2, N) of `train` (a DrivingData of the training episodes)."""
    x, act = train.flat_obs("next_obs"), train.action_onehot()
    keep = x.std(axis=0) > 1e-6
    steps_ab = segment_steps(starts, length)                                  # (2, N, L)
    pairs = {"obs_a": x[steps_ab[0]][..., keep], "act_a": act[steps_ab[0]],
             "obs_b": x[steps_ab[1]][..., keep], "act_b": act[steps_ab[1]],
             "prefs": _judged(*(segment_sums(train.reward, s, length) for s in starts), rng)}
    net = RewardModel(int(keep.sum()), 5, rng=rng, hidden=MODELS["mlp"])
    fit_reward_preferences(net, pairs, rng, steps=steps, batch=BT_BATCH, lr=BT_LR, val_fraction=0.0, min_pairs=0)
    return _Columns(net, keep)


def fit_sequence(train, starts, rng: np.random.Generator, *, length: int, steps: int) -> RewardModel:
    """Bradley-Terry action-sequence reward R_psi(o_s, a_{s:s+L}) (MLP 64-64) on the judged segment
    pairs `starts` (2, N) of `train` (a DrivingData of the training episodes)."""
    o, a = sequence_inputs(train, starts, length)                             # (2, N, 25), (2, N, 5 L)
    pairs = {"obs_a": o[0][:, None], "act_a": a[0][:, None], "obs_b": o[1][:, None], "act_b": a[1][:, None],
             "prefs": _judged(*(segment_sums(train.reward, s, length) for s in starts), rng)}
    net = RewardModel(25, 5 * length, rng=rng, hidden=MODELS["mlp"])
    fit_reward_preferences(net, pairs, rng, steps=steps, batch=BT_BATCH, lr=BT_LR, val_fraction=0.0, min_pairs=0)
    return net


def fit_sequence_comparisons(comparisons: dict, n_pairs: int, rng: np.random.Generator, *, steps: int) -> RewardModel:
    """Bradley-Terry action-sequence reward R_psi(o_0, a_{0:H}) (MLP 64-64) on `n_pairs` judged pairs of
    sequences from one start state each (`comparisons`: the simulator's answers, like two responses
    to one prompt)."""
    from .comparisons import sample_pairs as comparison_pairs

    pairs = comparison_pairs(comparisons, int(n_pairs), rng)
    net = RewardModel(25, pairs["act_a"].shape[-1], rng=rng, hidden=MODELS["mlp"])
    fit_reward_preferences(net, pairs, rng, steps=steps, batch=BT_BATCH, lr=BT_LR, val_fraction=0.0, min_pairs=0)
    return net


def segment_scores(model, kind: str, data, starts, length: int) -> np.ndarray:
    """The model's score of each segment starting at `starts` (...,) of `data`, (...,)."""
    starts = np.asarray(starts, dtype=np.int64)
    with no_grad():
        if kind == "outcome":
            steps = segment_steps(starts, length)
            return model.segment_score(data.flat_obs("next_obs")[steps], data.action_onehot()[steps]).data
        if kind == "action sequence":
            o, a = sequence_inputs(data, starts.reshape(-1), length)
            return model(o, a).data.reshape(starts.shape)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")


def squared_correlation(score, truth, groups=None) -> float:
    """R^2 of the best affine read-out of `score` for `truth`: their squared correlation, after
    removing each group's mean when `groups` is given (a toy-language prompt). NaN if either is constant."""
    s, t = np.asarray(score, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    if groups is not None:
        g = np.asarray(groups)
        for key in np.unique(g):
            s[g == key] -= s[g == key].mean()
            t[g == key] -= t[g == key].mean()
    if s.std() < 1e-12 or t.std() < 1e-12:
        return float("nan")
    return float(np.corrcoef(s, t)[0, 1] ** 2)


def affine_readout(score, truth) -> tuple[float, float]:
    """(a, b) of the least-squares fit truth ~ a + b score: a Bradley-Terry score read as a return."""
    s, t = np.asarray(score, dtype=np.float64), np.asarray(truth, dtype=np.float64)
    b = float(np.cov(s, t, bias=True)[0, 1] / max(s.var(), 1e-12))
    return float(t.mean() - b * s.mean()), b


def score_reward(model, kind: str, test, test_pairs, length: int) -> dict:
    """Held-out scores of a reward model on the test episodes `test` (a DrivingData): pair accuracy
    overall / no-crash / crash on `test_pairs` (2, N), the pair counts, and R^2 over every segment."""
    a, b = (segment_scores(model, kind, test, s, length) for s in test_pairs)
    ret_a, ret_b = (segment_sums(test.reward, s, length) for s in test_pairs)
    crash_a, crash_b = (segment_sums(test.crashed, s, length) > 0 for s in test_pairs)
    acc = accuracy_by_crash(a, b, ret_a, ret_b, crash_a, crash_b)
    every = segment_starts(test.episode, length)
    r2 = squared_correlation(segment_scores(model, kind, test, every, length), segment_sums(test.reward, every, length))
    return {**acc, "r2": r2}
