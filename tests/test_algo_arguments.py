"""Bad arguments to the RLHF and model-fitting algorithms fail before any work, in one line that names
the argument, the value and what is accepted (issue 12).

Before these checks: `train_dpo(batch_size=0)` returned NaN losses and trained nothing,
`train_dpo(steps=-3)` returned [] silently, `train_dpo(beta="0.1")` raised NumPy's own TypeError,
and infinite or NaN coefficients ran to NaN policies.
"""

from __future__ import annotations

import numpy as np
import pytest

from minirl.algos import model_fitting as mf
from minirl.algos import world_models as wm
from minirl.algos.best_of_n import best_of_n_kl_bound, best_of_n_log_probs, sample_best_of_n
from minirl.algos.dpo import train_dpo
from minirl.algos.filtered_ft import filtered_finetune, preferred_finetune, top_fraction_mask
from minirl.algos.reward_model_bt import RewardModel, train_reward_model
from minirl.algos.rlhf_pg import kl_penalised_rewards, ppo_rlhf, rloo_rlhf, table_reward
from minirl.algos.st_reward import st_reward_backprop
from minirl.envs.toylang import Preferences, TabularPolicy, ToyLanguage, sft

NAN, INF = float("nan"), float("inf")
LANG = ToyLanguage(vocab=("good", "bad", "not"), prompts=("praise:", "complain:"), length=3)
REF = TabularPolicy(LANG)
PREFS = Preferences(np.array([0, 1]), np.array([[0, 0, 0], [1, 1, 1]]), np.array([[1, 1, 1], [0, 0, 0]]))
GOLD = table_reward(LANG, np.zeros((LANG.P, LANG.num_sequences)))
RM = RewardModel(LANG, np.random.default_rng(0), hidden=4)


def _rng():
    return np.random.default_rng(0)


def _data(n=20):
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(n, 3))
    return mf.Transitions(obs, rng.uniform(-1, 1, size=(n, 1)), rng.normal(size=n), obs + 0.1, np.zeros(n, np.int64),
                          np.arange(n) % 5 == 0)


def _dyn():
    return wm.DynamicsModel(3, 1, rng=_rng(), hidden=(4,))


def _rew():
    return wm.RewardModel(3, 1, rng=_rng(), hidden=(4,))


CASES = {
    # DPO: the cases of issue 12 first
    "dpo batch_size=0": (lambda p: train_dpo(p, REF, PREFS, 0.1, batch_size=0, rng=_rng()),
                         ValueError, r"train_dpo: batch_size \(None = full batch\) must be a positive integer, got 0"),
    "dpo steps=-3": (lambda p: train_dpo(p, REF, PREFS, 0.1, steps=-3), ValueError, "steps must be a positive integer, got -3"),
    "dpo beta='0.1'": (lambda p: train_dpo(p, REF, PREFS, "0.1"), ValueError, r"beta .* finite number > 0, got '0.1'"),
    "dpo beta=inf": (lambda p: train_dpo(p, REF, PREFS, INF), ValueError, "beta .* got inf"),
    "dpo lr=nan": (lambda p: train_dpo(p, REF, PREFS, 0.1, lr=NAN), ValueError, "lr must be a finite number > 0, got nan"),
    "dpo kind": (lambda p: train_dpo(p, REF, PREFS, 0.1, kind="kto"), ValueError, "kind must be one of"),
    "dpo steps=True": (lambda p: train_dpo(p, REF, PREFS, 0.1, steps=True), ValueError, "steps .* got True"),
    "dpo batch no rng": (lambda p: train_dpo(p, REF, PREFS, 0.1, batch_size=2), TypeError, "rng must be a np.random.Generator"),
    "dpo ref": (lambda p: train_dpo(p, "ref", PREFS, 0.1), TypeError, "ref must be a TabularPolicy"),
    "dpo other language": (lambda p: train_dpo(p, TabularPolicy(ToyLanguage()), PREFS, 0.1), ValueError, "different languages"),
    # RLHF by policy gradient
    "ppo kl_coef=inf": (lambda p: ppo_rlhf(p, REF, GOLD, _rng(), kl_coef=INF), ValueError, "kl_coef must be a finite number >= 0, got inf"),
    "ppo kl_coef='0.1'": (lambda p: ppo_rlhf(p, REF, GOLD, _rng(), kl_coef="0.1"), ValueError, "kl_coef .* got '0.1'"),
    "ppo clip=0": (lambda p: ppo_rlhf(p, REF, GOLD, _rng(), clip=0.0), ValueError, "clip must be a finite number > 0"),
    "ppo gae_lambda": (lambda p: ppo_rlhf(p, REF, GOLD, _rng(), gae_lambda=1.5), ValueError, r"gae_lambda .* in \[0, 1\], got 1.5"),
    "ppo lr=nan": (lambda p: ppo_rlhf(p, REF, GOLD, _rng(), lr=NAN), ValueError, "lr .* got nan"),
    "ppo rng": (lambda p: ppo_rlhf(p, REF, GOLD, 0), TypeError, "rng must be a np.random.Generator"),
    "ppo reward_fn": (lambda p: ppo_rlhf(p, REF, "gold", _rng()), TypeError, "reward_fn must be callable"),
    "rloo iterations=-3": (lambda p: rloo_rlhf(p, REF, GOLD, _rng(), iterations=-3), ValueError, "iterations must be a positive integer, got -3"),
    "rloo kl_coef=nan": (lambda p: rloo_rlhf(p, REF, GOLD, _rng(), kl_coef=NAN), ValueError, "kl_coef .* got nan"),
    "kl rewards kl_coef=inf": (lambda p: kl_penalised_rewards(np.ones(2), np.zeros((2, 3)), np.zeros((2, 3)), INF),
                               ValueError, "kl_coef .* got inf"),
    # straight-through backprop through the reward model
    "st temperature=0": (lambda p: st_reward_backprop(p, REF, RM, _rng(), temperature=0.0), ValueError, "temperature must be a finite number > 0"),
    "st batch_size=0": (lambda p: st_reward_backprop(p, REF, RM, _rng(), batch_size=0), ValueError, "batch_size must be a positive integer, got 0"),
    "st kl_coef=inf": (lambda p: st_reward_backprop(p, REF, RM, _rng(), kl_coef=INF), ValueError, "kl_coef .* got inf"),
    "st reward_model": (lambda p: st_reward_backprop(p, REF, GOLD, _rng()), TypeError, "reward_model must be a RewardModel"),
    # best-of-N
    "bon N=True": (lambda p: best_of_n_log_probs(np.log(np.full((2, 27), 1 / 27)), np.zeros((2, 27)), True),
                   ValueError, "N must be a positive integer, got True"),
    "bon reward nan": (lambda p: best_of_n_log_probs(np.log(np.full((2, 27), 1 / 27)), np.full((2, 27), NAN), 4),
                       ValueError, "reward holds NaN"),
    "bon bound nan": (lambda p: best_of_n_kl_bound(NAN), ValueError, "N must be a finite number >= 1"),
    "bon sample rng": (lambda p: sample_best_of_n(p, np.zeros((2, 27)), [0], 4, None), TypeError, "rng must be"),
    "bon sample table": (lambda p: sample_best_of_n(p, np.zeros((2, 5)), [0], 4, _rng()), ValueError, r"reward_table must be a \(P, S\)"),
    # filtered / preferred fine-tuning, SFT
    "filtered keep_fraction='0.1'": (lambda p: filtered_finetune(p, GOLD, _rng(), keep_fraction="0.1"), ValueError, "keep_fraction .* got '0.1'"),
    "filtered rounds=-3": (lambda p: filtered_finetune(p, GOLD, _rng(), rounds=-3), ValueError, "rounds must be a positive integer, got -3"),
    "filtered samples=0": (lambda p: filtered_finetune(p, GOLD, _rng(), samples=0), ValueError, "samples must be a positive integer, got 0"),
    "top fraction nan scores": (lambda p: top_fraction_mask([0, 0], [1.0, NAN], 0.5), ValueError, "1 scores are NaN"),
    "preferred steps=-3": (lambda p: preferred_finetune(p, PREFS, steps=-3), ValueError, "steps must be a positive integer, got -3"),
    "sft lr=inf": (lambda p: sft(p, [0], [[0, 1, 2]], lr=INF), ValueError, "sft: lr .* got inf"),
    "sft weights": (lambda p: sft(p, [0, 1], [[0, 1, 2], [0, 0, 0]], weights=[0.0, 0.0]), ValueError, "weights must be"),
    # Bradley-Terry reward model
    "rm lr=nan": (lambda p: train_reward_model(LANG, PREFS, _rng(), lr=NAN), ValueError, "lr .* got nan"),
    "rm weight_decay=-1": (lambda p: train_reward_model(LANG, PREFS, _rng(), weight_decay=-1.0), ValueError, "weight_decay .* >= 0, got -1.0"),
    "rm rng": (lambda p: train_reward_model(LANG, PREFS, 0), TypeError, "rng must be"),
    "rm hidden": (lambda p: RewardModel(LANG, _rng(), hidden=0), ValueError, "hidden must be a positive integer, got 0"),
    # world models and model fitting
    "normalizer eps": (lambda p: wm.Normalizer(3, eps=NAN), ValueError, "eps .* got nan"),
    "normalizer nan data": (lambda p: wm.Normalizer(2).fit(np.array([[0.0, NAN], [1.0, 1.0]])), ValueError, "1 NaN or inf"),
    "imagined gamma='0.9'": (lambda p: wm.imagined_return(None, None, None, np.zeros((1, 3)), 2, _rng(), gamma="0.9"),
                             ValueError, r"gamma must be a finite number in \(0, 1\], got '0.9'"),
    "imagined action_scale=inf": (lambda p: wm.imagined_return(None, None, None, np.zeros((1, 3)), 2, _rng(), action_scale=INF),
                                  ValueError, "action_scale .* got inf"),
    "fit_dynamics steps=-3": (lambda p: mf.fit_dynamics(_dyn(), _data(), _rng(), steps=-3), ValueError, "steps must be an integer >= 0, got -3"),
    "fit_dynamics batch=0": (lambda p: mf.fit_dynamics(_dyn(), _data(), _rng(), steps=2, batch=0), ValueError, "batch must be a positive integer, got 0"),
    "fit_reward lr=inf": (lambda p: mf.fit_reward_regression(_rew(), _data(), _rng(), steps=2, lr=INF), ValueError, "lr .* got inf"),
    "judge temperature=nan": (lambda p: mf.scripted_judge([1.0], [0.0], _rng(), temperature=NAN), ValueError, "temperature .* got nan"),
    "pairs segment_len=0": (lambda p: mf.preference_pairs(_data(), 4, 0, _rng()), ValueError, "segment_len must be a positive integer, got 0"),
    "fit prefs val_fraction=1": (lambda p: mf.fit_reward_preferences(_rew(), {"prefs": np.ones(4)}, _rng(), steps=1, val_fraction=1.0),
                                 ValueError, r"val_fraction .* in \[0, 1\), got 1.0"),
    "collect n_steps=-3": (lambda p: mf.collect("Pendulum-v1", None, _rng(), n_steps=-3), ValueError, "n_steps must be a positive integer, got -3"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_argument_fails_before_any_work_in_one_line(case):
    call, error, match = CASES[case]
    policy = REF.copy()
    before = policy.logits.data.copy()
    with pytest.raises(error, match=match) as info:
        call(policy)
    assert "\n" not in str(info.value)
    np.testing.assert_array_equal(policy.logits.data, before)      # nothing was trained


def test_dpo_minibatches_still_train():
    policy = REF.copy()
    losses = train_dpo(policy, REF, PREFS, 0.1, steps=3, batch_size=2, rng=_rng())
    assert len(losses) == 3 and np.all(np.isfinite(losses))
    assert not np.array_equal(policy.logits.data, REF.logits.data)
