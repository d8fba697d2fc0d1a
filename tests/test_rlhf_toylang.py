"""The toy language and its exact tools, checked against brute force on a tiny instance."""


import numpy as np
import pytest

from minirl.envs import toylang_exact as ex
from minirl.envs.toylang import (Preferences, TabularPolicy, ToyLanguage, bradley_terry_label,
                                 reference_policy, sample_preferences, sft, writer_corpus,
                                 writer_log_probs)


@pytest.fixture(scope="module")
def tiny():
    return ToyLanguage(vocab=("good", "bad", "not"), prompts=("praise:", "complain:"), length=3)


def random_policy(lang, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return TabularPolicy(lang, scale * rng.standard_normal((lang.P, lang.num_prefixes, lang.V)))


# ---------------------------------------------------------------- enumeration and indexing
def test_enumeration_lists_every_response_once(tiny):
    assert tiny.sequences.shape == (27, 3)
    assert len({tuple(s) for s in tiny.sequences}) == 27
    np.testing.assert_array_equal(tiny.sequence_index(tiny.sequences), np.arange(27))
    assert tiny.num_prefixes == 1 + 3 + 9


def test_prefix_ids_identify_prefixes(tiny):
    seen = {}
    for s, ids in zip(tiny.sequences, tiny.prefix_ids):
        for t in range(3):
            key = tuple(s[:t])
            assert seen.setdefault(ids[t], key) == key, "two different prefixes share an id"
    assert sorted(seen) == list(range(tiny.num_prefixes))


def test_gold_reward_hand_computed():
    lang = ToyLanguage()
    cases = {("praise:", "very good good ."): 2 + 1 - 1 + 0.5,     # very doubles, one repeat, tidy end
             ("praise:", "not good okay bad"): -1 + 0.3 - 1,
             ("complain:", "not bad . ."): -1 - 1 + 0.5,             # "not bad" is mild praise; ". ." repeats
             ("describe:", "okay very okay ."): 0.8 + 1.6 + 0.5}
    for (prompt, text), expected in cases.items():
        got = lang.gold_reward([lang.prompts.index(prompt)], lang.encode(text)[None])[0]
        assert got == pytest.approx(expected), (prompt, text)


def test_bad_input_is_refused_with_a_message(tiny):
    with pytest.raises(ValueError, match="prompt index out of range"):
        tiny.check_prompts([0, 2])
    with pytest.raises(ValueError, match="unknown prompt"):
        tiny.check_prompts(["hello:"])
    with pytest.raises(ValueError, match="token id out of range"):
        tiny.check_sequences([[0, 1, 3]])
    with pytest.raises(ValueError, match="shape"):
        tiny.check_sequences([[0, 1]])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tiny.encode("good great bad")
    with pytest.raises(ValueError, match="exactly 3 words"):
        tiny.encode("good bad")
    with pytest.raises(ValueError, match="too many"):
        ToyLanguage(length=9)


# ---------------------------------------------------------------- preferences
def test_preferences_refuse_empty_and_one_sided():
    with pytest.raises(ValueError, match="non-empty"):
        Preferences(np.zeros(0, int), np.zeros((0, 3), int), np.zeros((0, 3), int))
    same = np.array([[0, 1, 2], [1, 1, 1]])
    with pytest.raises(ValueError, match="one-sided"):
        Preferences(np.array([0, 1]), same, same.copy())


def test_preferences_split_is_a_partition(tiny):
    rng = np.random.default_rng(0)
    prefs = bradley_terry_label(tiny, np.zeros(10, int), tiny.sequences[:10], tiny.sequences[10:20], rng)
    train, held = prefs.split(0.3, rng)
    assert len(train) == 7 and len(held) == 3
    pairs = lambda p: {(int(x), tuple(w), tuple(l)) for x, w, l in zip(p.prompts, p.chosen, p.rejected)}
    assert pairs(train) | pairs(held) == pairs(prefs) and not pairs(train) & pairs(held)
    with pytest.raises(ValueError, match="fraction"):
        prefs.split(1.0, rng)


def test_bradley_terry_oracle_frequency_matches_sigmoid(tiny):
    a = np.tile(tiny.encode("good good good"), (20000, 1))             # gold 3 - 2 = 1 under praise
    b = np.tile(tiny.encode("bad not bad"), (20000, 1))                # gold -1 + 0 + 1 = 0
    prompts = np.zeros(20000, int)
    prefs = bradley_terry_label(tiny, prompts, a, b, np.random.default_rng(0))
    frac = np.mean(np.all(prefs.chosen == a, axis=1))
    assert frac == pytest.approx(1 / (1 + np.exp(-1.0)), abs=0.01)
    det = bradley_terry_label(tiny, prompts[:5], a[:5], b[:5], deterministic=True)
    assert np.all(det.chosen == a[:5])
    with pytest.raises(ValueError, match="temperature"):
        bradley_terry_label(tiny, prompts, a, b, np.random.default_rng(0), temperature=0.0)


# ---------------------------------------------------------------- exact distributions
def test_all_log_probs_match_brute_force_product_of_conditionals(tiny):
    pol = random_policy(tiny, 0)
    logits = pol.logits.data
    lp = pol.all_log_probs().data
    for x in range(tiny.P):
        for s, seq in enumerate(tiny.sequences):
            total, prefix_id = 0.0, 0
            for t, tok in enumerate(seq):
                row = logits[x, prefix_id]
                total += row[tok] - np.log(np.exp(row).sum())
                prefix_id = tiny.offsets[t + 1] + int(np.ravel_multi_index(seq[:t + 1], (3,) * (t + 1)))
            assert lp[x, s] == pytest.approx(total)
    np.testing.assert_allclose(np.exp(lp).sum(-1), 1.0)
    seq_lp = pol.sequence_log_probs(np.ones(27, int), tiny.sequences).data
    np.testing.assert_allclose(seq_lp, lp[1])


def test_sampling_frequencies_match_exact_probabilities(tiny):
    pol = random_policy(tiny, 1)
    n = 40000
    seqs = pol.sample(np.zeros(n, int), np.random.default_rng(2))
    freq = np.bincount(tiny.sequence_index(seqs), minlength=27) / n
    p = np.exp(pol.all_log_probs().data[0])
    # 5 standard errors of a binomial proportion
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / n) + 1e-4)


def test_from_sequence_log_probs_round_trip_including_zeros(tiny):
    lp = random_policy(tiny, 3, scale=2.0).all_log_probs().data.copy()
    lp[0, :9] = -np.inf                                        # responses starting with "good": impossible
    lp[0] -= np.log(np.exp(lp[0]).sum())
    back = TabularPolicy.from_sequence_log_probs(tiny, lp).all_log_probs().data
    np.testing.assert_allclose(np.exp(back), np.exp(lp), atol=1e-12)


# ---------------------------------------------------------------- KL, objective, optimum
def test_kl_of_a_policy_with_itself_is_zero_and_matches_brute_force(tiny):
    lp, lq = random_policy(tiny, 4).all_log_probs().data, random_policy(tiny, 5).all_log_probs().data
    assert ex.kl_divergence(lp, lp) == 0.0
    brute = np.mean([sum(np.exp(lp[x, s]) * (lp[x, s] - lq[x, s]) for s in range(27)) for x in range(2)])
    assert ex.kl_divergence(lp, lq) == pytest.approx(brute, rel=1e-12)
    assert ex.kl_divergence(lp, lq) > 0


def test_infinite_kl_is_reported_not_nan(tiny):
    lp = random_policy(tiny, 6).all_log_probs().data
    lref = lp.copy()
    lref[1, 0] = -np.inf
    lref[1] -= np.log(np.exp(lref[1]).sum())
    assert ex.kl_divergence(lp, lref) == np.inf
    assert ex.kl_divergence(lp, lref, per_prompt=True)[0] < np.inf
    with pytest.raises(ex.InfiniteKLError, match="response 0 of prompt 1"):
        ex.kl_divergence(lp, lref, strict=True)
    # the other direction is finite: zero-probability terms contribute nothing
    assert np.isfinite(ex.kl_divergence(lref, lp))
    with pytest.raises(ValueError, match="NaN"):
        ex.kl_divergence(np.full_like(lp, np.nan), lp)
    with pytest.raises(ValueError, match="not normalised"):
        ex.kl_divergence(lp + 1.0, lp)


@pytest.mark.parametrize("beta", [0.1, 0.5, 2.0])
def test_optimal_policy_reaches_closed_form_and_beats_perturbations(tiny, beta):
    lref = random_policy(tiny, 7).all_log_probs().data
    r = tiny.gold_table
    lstar = ex.optimal_log_probs(lref, r, beta)
    best = ex.objective(lstar, lref, r, beta)
    assert best == pytest.approx(ex.optimal_objective(lref, r, beta), abs=1e-12)
    # brute force closed form: beta * log sum_y pi_ref(y) exp(r(y)/beta), averaged over prompts
    brute = np.mean([beta * np.log(np.sum(np.exp(lref[x]) * np.exp(r[x] / beta))) for x in range(2)])
    assert best == pytest.approx(brute, rel=1e-10)
    rng = np.random.default_rng(8)
    for _ in range(50):
        z = lstar + rng.normal(0, 0.3, lstar.shape)
        z -= np.log(np.exp(z).sum(-1, keepdims=True))
        assert ex.objective(z, lref, r, beta) < best
    assert ex.objective(lref, lref, r, beta) < best


def test_beta_must_be_positive(tiny):
    lref = random_policy(tiny, 9).all_log_probs().data
    for beta in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="beta"):
            ex.optimal_log_probs(lref, tiny.gold_table, beta)


def test_every_policy_lies_on_or_below_the_optimal_frontier(tiny):
    lref = random_policy(tiny, 10).all_log_probs().data
    r = tiny.gold_table
    kls, rewards = ex.optimal_frontier(lref, r, [0.05, 0.2, 1.0, 5.0])
    assert np.all(np.diff(kls) < 0) and np.all(np.diff(rewards) < 0), "smaller beta: more KL, more reward"
    for seed in range(20):
        lp = random_policy(tiny, 100 + seed, scale=2.0).all_log_probs().data
        kl = ex.kl_divergence(lp, lref)
        assert ex.expected_reward(lp, r) <= ex.frontier_reward_at_kl(lref, r, kl) + 1e-9


# ---------------------------------------------------------------- the reference policy
def test_sft_reference_learns_the_writer_and_keeps_full_support():
    lang = ToyLanguage()
    prompts, seqs = writer_corpus(lang, 500, np.random.default_rng(0))
    losses = sft(TabularPolicy(lang), prompts, seqs, steps=50)
    assert np.all(np.diff(losses) < 0), "full-batch SFT with a small step should lower the loss every step"
    ref = reference_policy(lang)
    lp = ref.all_log_probs().data
    # SFT on 10,000 examples gets much closer to the writer than the uniform policy is
    lw = writer_log_probs(lang)
    kl_ref, kl_uniform = ex.kl_divergence(lw, lp), ex.kl_divergence(lw, TabularPolicy(lang).all_log_probs().data)
    assert kl_ref < 0.3 * kl_uniform, (kl_ref, kl_uniform)
    assert np.all(np.isfinite(lp)), "label smoothing must keep every response possible"
    repeats = (lang.sequences[:, 1:] == lang.sequences[:, :-1]).any(1)
    p_repeat = (np.exp(lp) * repeats).sum(-1)
    uniform_repeat = repeats.mean()                                   # 1 - (5/6)^3 = 0.42
    assert np.all(p_repeat < 0.5 * uniform_repeat), p_repeat
    # the sampled preference data are valid and mostly non-trivial
    prefs = sample_preferences(lang, ref, 200, np.random.default_rng(1))
    assert len(prefs) == 200 and np.mean(np.any(prefs.chosen != prefs.rejected, 1)) > 0.9
