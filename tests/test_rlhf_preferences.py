"""Reward model (Bradley-Terry), DPO and best-of-N on the toy language."""

import itertools

import numpy as np
import pytest

from minirl.algos.best_of_n import best_of_n_kl_bound, best_of_n_log_probs, sample_best_of_n
from minirl.algos.dpo import dpo_loss, dpo_population_loss, implied_reward, train_dpo
from minirl.algos.reward_model_bt import (RewardModel, bradley_terry_loss, preference_accuracy,
                                          train_reward_model)
from minirl.autograd import Tensor
from minirl.envs import toylang_exact as ex
from minirl.envs.toylang import (ToyLanguage, bradley_terry_label, reference_policy,
                                 sample_preferences)
from minirl.gradcheck import gradient_check
from minirl.optim import Adam


@pytest.fixture(scope="module")
def tiny():
    return ToyLanguage(vocab=("good", "bad", "not"), prompts=("praise:", "complain:"), length=3)


@pytest.fixture(scope="module")
def lang():
    return ToyLanguage()


# ---------------------------------------------------------------- Bradley-Terry reward model
def test_bradley_terry_loss_value_and_gradient():
    r = Tensor(np.array([0.0, 1.0, -2.0]))
    zero = Tensor(np.zeros(3))
    expected = np.mean([np.log(2), np.log(1 + np.exp(-1.0)), np.log(1 + np.exp(2.0))])
    assert bradley_terry_loss(r, zero).item() == pytest.approx(expected)
    rng = np.random.default_rng(0)
    errs = gradient_check(bradley_terry_loss, [rng.normal(size=7), rng.normal(size=7)])
    assert max(errs) < 1e-8, errs


def test_reward_model_gradient_through_soft_tokens(tiny):
    rng = np.random.default_rng(1)
    model = RewardModel(tiny, rng, hidden=5)
    prompts = np.array([0, 1, 1])
    errs = gradient_check(lambda tok: model.forward_tokens(prompts, tok), [rng.random((3, 3, 3))])
    assert errs[0] < 1e-7, errs


def test_reward_model_ranks_held_out_pairs_better_than_chance(lang):
    rng = np.random.default_rng(0)
    ref = reference_policy(lang)
    train = sample_preferences(lang, ref, 2000, rng)
    test = sample_preferences(lang, ref, 2000, rng)
    model, losses = train_reward_model(lang, train, rng)
    assert np.mean(losses[-50:]) < np.mean(losses[:50])
    # held-out pairs labelled by the gold ordering (ties removed): chance is 0.5
    g_a, g_b = lang.gold_reward(test.prompts, test.chosen), lang.gold_reward(test.prompts, test.rejected)
    keep = g_a != g_b
    truth = bradley_terry_label(lang, test.prompts[keep], test.chosen[keep], test.rejected[keep],
                                deterministic=True)
    acc = preference_accuracy(model, truth)
    assert acc > 0.70, f"held-out accuracy {acc:.3f}: should beat chance (0.5) by at least 0.2"
    with pytest.raises(TypeError, match="Preferences"):
        train_reward_model(lang, (test.prompts, test.chosen), rng)


# ---------------------------------------------------------------- DPO
def test_dpo_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    inputs = [rng.normal(size=6) for _ in range(2)]
    ref_w, ref_l = rng.normal(size=6), rng.normal(size=6)
    for kind in ("dpo", "ipo"):
        errs = gradient_check(lambda w, l: dpo_loss(w, l, ref_w, ref_l, 0.3, kind), inputs)
        assert max(errs) < 1e-8, (kind, errs)
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(Tensor(inputs[0]), Tensor(inputs[1]), ref_w, ref_l, 0.0)
    with pytest.raises(ValueError, match="kind"):
        dpo_loss(Tensor(inputs[0]), Tensor(inputs[1]), ref_w, ref_l, 0.1, kind="kto")


def test_dpo_population_loss_gradient(tiny):
    rng = np.random.default_rng(3)
    lref = reference_policy(tiny, corpus_size=200, steps=50).all_log_probs().data

    def f(logits):
        logp = logits.log_softmax(axis=-1)
        return dpo_population_loss(logp, lref, tiny.gold_table, 0.5)
    errs = gradient_check(f, [rng.normal(size=(2, 27))])
    assert errs[0] < 1e-7, errs


def test_dpo_on_the_full_preference_distribution_recovers_the_optimal_policy(tiny):
    """The minimiser of the population DPO loss is pi*_beta for the reward that labelled the data."""
    beta = 0.5
    ref = reference_policy(tiny, corpus_size=200, steps=50)
    lref = ref.all_log_probs().data
    policy = ref.copy()
    opt = Adam(policy.parameters(), lr=0.05)
    for _ in range(1500):
        loss = dpo_population_loss(policy.all_log_probs(), lref, tiny.gold_table, beta)
        opt.zero_grad()
        loss.backward()
        opt.step()
    lp = policy.all_log_probs().data
    lstar = ex.optimal_log_probs(lref, tiny.gold_table, beta)
    kl = ex.kl_divergence(lp, lstar)
    assert kl < 1e-3, f"KL(pi_DPO || pi*_beta) = {kl:.2e}"
    # the implied reward equals the gold reward up to a per-prompt constant
    r_hat = implied_reward(lp, lref, beta)
    centred = lambda r: r - r.mean(-1, keepdims=True)
    assert np.abs(centred(r_hat) - centred(tiny.gold_table)).max() < 0.1


def test_dpo_on_sampled_preferences_raises_gold_reward(lang):
    rng = np.random.default_rng(4)
    ref = reference_policy(lang)
    prefs = sample_preferences(lang, ref, 2000, rng)
    lref = ref.all_log_probs().data
    base = ex.expected_reward(lref, lang.gold_table)
    for kind in ("dpo", "ipo"):
        policy = ref.copy()
        losses = train_dpo(policy, ref, prefs, beta=0.1, steps=60, kind=kind)
        assert losses[-1] < losses[0]
        gold = ex.expected_reward(policy.all_log_probs().data, lang.gold_table)
        assert gold > base + 0.5, f"{kind}: gold {gold:.3f} vs reference {base:.3f}"


# ---------------------------------------------------------------- best-of-N
def test_best_of_n_matches_brute_force_enumeration_with_ties(tiny):
    lref = reference_policy(tiny, corpus_size=200, steps=50).all_log_probs().data
    r = tiny.gold_table                                            # has many ties
    assert len(np.unique(r[0])) < 27
    n = 3
    for x in range(tiny.P):
        p = np.exp(lref[x])
        brute = np.zeros(27)
        for draw in itertools.product(range(27), repeat=n):
            prob = np.prod(p[list(draw)])
            scores = r[x, list(draw)]
            winners = [d for d, s in zip(draw, scores) if s == scores.max()]
            for w in winners:                                      # uniform among tied draws
                brute[w] += prob / len(winners)
        np.testing.assert_allclose(np.exp(best_of_n_log_probs(lref, r, n)[x]), brute, atol=1e-12)


def test_best_of_n_sampler_matches_exact_distribution(tiny):
    ref = reference_policy(tiny, corpus_size=200, steps=50)
    lref = ref.all_log_probs().data
    exact = np.exp(best_of_n_log_probs(lref, tiny.gold_table, 4))[1]
    samples = sample_best_of_n(ref, tiny.gold_table, np.ones(20000, int), 4, np.random.default_rng(5))
    freq = np.bincount(tiny.sequence_index(samples), minlength=27) / 20000
    assert np.all(np.abs(freq - exact) < 5 * np.sqrt(exact * (1 - exact) / 20000) + 1e-4)


def test_best_of_n_exact_kl_is_below_the_analytic_bound(lang):
    lref = reference_policy(lang).all_log_probs().data
    proxy = np.random.default_rng(6).normal(size=lref.shape)      # no ties
    assert ex.kl_divergence(best_of_n_log_probs(lref, proxy, 1), lref) == pytest.approx(0.0, abs=1e-12)
    for n in (2, 4, 16, 64, 256, 4096):
        kl = ex.kl_divergence(best_of_n_log_probs(lref, proxy, n), lref)
        assert kl <= best_of_n_kl_bound(n) + 1e-12, (n, kl)
    # as N grows pi_N tends to the argmax response, so its KL tends to -log pi_ref(argmax) (averaged
    # over prompts), while the analytic value log N - (N-1)/N grows without limit
    limit = np.mean(-lref[np.arange(lang.P), proxy.argmax(-1)])
    kl_big = ex.kl_divergence(best_of_n_log_probs(lref, proxy, 10**7), lref)
    assert kl_big == pytest.approx(limit, abs=1e-3) and best_of_n_kl_bound(10**7) > limit + 3
    with pytest.raises(ValueError, match="positive integer"):
        best_of_n_log_probs(lref, proxy, 0)
