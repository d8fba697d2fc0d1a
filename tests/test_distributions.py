"""Tests of minirl.distributions against closed forms, Monte Carlo and finite differences."""

import numpy as np
import pytest

from minirl.autograd import Tensor, no_grad
from minirl.distributions import Categorical, Normal
from minirl.gradcheck import gradient_check

TOL = 1e-6


def np_log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


class ZeroUniforms(np.random.Generator):
    """A generator whose uniforms are all exactly 0.0 (the edge case of inverse-CDF sampling)."""

    def random(self, size=None, dtype=np.float64, out=None):
        return np.zeros(size)


# ------------------------------------------------------------------ Categorical

def test_categorical_log_prob_entropy_kl_closed_forms():
    rng = np.random.default_rng(0)
    logits, other = 2 * rng.standard_normal((5, 4)), 2 * rng.standard_normal((5, 4))
    actions = rng.integers(0, 4, size=5)
    d, q = Categorical(Tensor(logits)), Categorical(Tensor(other))
    logp, logq = np_log_softmax(logits), np_log_softmax(other)
    p = np.exp(logp)
    np.testing.assert_allclose(d.probs, p, rtol=1e-12)
    np.testing.assert_allclose(d.log_prob(actions).data, logp[np.arange(5), actions], rtol=1e-12)
    np.testing.assert_allclose(d.entropy().data, -(p * logp).sum(-1), rtol=1e-12)
    np.testing.assert_allclose(d.kl(q).data, (p * (logp - logq)).sum(-1), rtol=1e-12)
    assert np.all(d.kl(d).data == 0.0)
    uniform = Categorical(Tensor(np.zeros(6)))
    np.testing.assert_allclose(uniform.entropy().data, np.log(6), rtol=1e-14)


def test_categorical_gradients_match_finite_differences():
    rng = np.random.default_rng(1)
    logits, other = rng.standard_normal((3, 2, 4)), rng.standard_normal((3, 2, 4))
    actions = rng.integers(0, 4, size=(3, 2))
    w = rng.standard_normal((3, 2))
    checks = [
        (lambda x: Categorical(x).log_prob(actions) * Tensor(w), [logits]),
        (lambda x: Categorical(x).entropy() * Tensor(w), [logits]),
        (lambda x, y: Categorical(x).kl(Categorical(y)) * Tensor(w), [logits, other]),
    ]
    for f, inputs in checks:
        assert max(gradient_check(f, inputs)) < TOL


def test_categorical_sample_frequencies_match_probabilities():
    probs = np.array([0.1, 0.2, 0.3, 0.4])
    n = 40_000
    d = Categorical(Tensor(np.broadcast_to(np.log(probs), (n, 4)).copy()))
    samples = d.sample(np.random.default_rng(2))
    assert samples.shape == (n,) and np.issubdtype(samples.dtype, np.integer)
    freq = np.bincount(samples, minlength=4) / n
    stderr = np.sqrt(probs * (1 - probs) / n)
    assert np.all(np.abs(freq - probs) < 5 * stderr), f"frequencies {freq} vs probabilities {probs}"


def test_categorical_never_samples_a_zero_probability_category():
    logits = np.array([[-np.inf, 0.0, -np.inf, 1.0]] * 2000)
    d = Categorical(Tensor(logits))
    samples = d.sample(np.random.default_rng(3))
    assert set(np.unique(samples)) == {1, 3}
    # the edge case u = 0 exactly must still pick the first category with positive probability
    assert np.all(d.sample(ZeroUniforms(np.random.PCG64(0))) == 1)


def test_categorical_with_masked_logits_has_finite_entropy_kl_and_gradients():
    x = Tensor(np.array([[-np.inf, 0.0, 1.0], [0.5, -np.inf, -np.inf]]), requires_grad=True)
    d = Categorical(x)
    q = Categorical(Tensor(np.zeros((2, 3))))
    p1 = np.exp(np_log_softmax(np.array([0.0, 1.0])))
    np.testing.assert_allclose(d.entropy().data, [-(p1 * np.log(p1)).sum(), 0.0], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(d.kl(q).data, [np.log(3) - d.entropy().data[0], np.log(3)], rtol=1e-12)
    (d.entropy().sum() + d.kl(q).sum()).backward()
    assert np.all(np.isfinite(x.grad)), x.grad


def test_categorical_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        Categorical(Tensor(np.array([0.0, np.nan])))
    with pytest.raises(ValueError, match=r"\+inf"):
        Categorical(Tensor(np.array([0.0, np.inf])))
    with pytest.raises(ValueError, match=r"row is -inf"):
        Categorical(Tensor(np.array([[0.0, 1.0], [-np.inf, -np.inf]])))
    with pytest.raises(ValueError, match="at least one axis"):
        Categorical(Tensor(np.array(1.0)))
    d = Categorical(Tensor(np.zeros((3, 4))))
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        d.log_prob(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        d.log_prob(np.array([0, 1, 4]))
    with pytest.raises(TypeError, match="integer"):
        d.log_prob(np.array([0.5, 1.0, 2.0]))
    with pytest.raises(TypeError, match="Generator"):
        d.sample(0)
    with pytest.raises(TypeError, match="Generator"):
        d.gumbel_softmax_st(np.random.RandomState(0))
    with pytest.raises(ValueError, match="temperature"):
        d.gumbel_softmax_st(np.random.default_rng(0), temperature=0.0)


# ------------------------------------------------------------------ Gumbel straight-through

def test_gumbel_st_is_one_hot_and_distributed_like_the_categorical():
    probs = np.array([0.5, 0.3, 0.2])
    n = 30_000
    d = Categorical(Tensor(np.broadcast_to(np.log(probs), (n, 3)).copy()))
    y = d.gumbel_softmax_st(np.random.default_rng(4), temperature=0.7)
    assert y.shape == (n, 3)
    assert set(np.unique(y.data)) <= {0.0, 1.0} and np.all(y.data.sum(axis=1) == 1.0)
    freq = y.data.mean(axis=0)
    assert np.all(np.abs(freq - probs) < 5 * np.sqrt(probs * (1 - probs) / n)), freq


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_gumbel_st_backward_equals_the_relaxed_softmax_gradient(temperature):
    rng = np.random.default_rng(5)
    logits_np = rng.standard_normal((6, 4))
    w = rng.standard_normal((6, 4))                          # an arbitrary downstream loss sum(w * y)

    logits = Tensor(logits_np, requires_grad=True)
    y = Categorical(logits).gumbel_softmax_st(np.random.default_rng(6), temperature=temperature)
    (y * Tensor(w)).sum().backward()

    # the same Gumbel noise, by replaying the generator: g = -log(-log u)
    u = np.random.default_rng(6).random((6, 4))
    gumbel = -np.log(-np.log(u + 1e-20) + 1e-20)
    relaxed_logits = Tensor(logits_np, requires_grad=True)
    y_soft = ((relaxed_logits + gumbel) * (1.0 / temperature)).softmax(axis=-1)
    (y_soft * Tensor(w)).sum().backward()

    np.testing.assert_array_equal(y.data, np.eye(4)[(logits_np + gumbel).argmax(axis=1)])
    np.testing.assert_allclose(logits.grad, relaxed_logits.grad, rtol=1e-12, atol=1e-15)
    # and that relaxed gradient itself is right: finite differences through the softmax
    f = lambda x: ((x + gumbel) * (1.0 / temperature)).softmax(axis=-1) * Tensor(w)   # noqa: E731
    assert max(gradient_check(f, [logits_np])) < TOL


# ------------------------------------------------------------------ Normal

def np_normal_logpdf(a, mu, sigma):
    return -0.5 * np.log(2 * np.pi * sigma ** 2) - (a - mu) ** 2 / (2 * sigma ** 2)


def test_normal_log_prob_entropy_kl_closed_forms():
    rng = np.random.default_rng(7)
    mu, log_std = rng.standard_normal((5, 3)), 0.5 * rng.standard_normal(3)
    mu_q, log_std_q = rng.standard_normal((5, 3)), 0.5 * rng.standard_normal((5, 3))
    a = rng.standard_normal((5, 3))
    p, q = Normal(Tensor(mu), Tensor(log_std)), Normal(Tensor(mu_q), Tensor(log_std_q))
    s, s_q = np.exp(log_std), np.exp(log_std_q)
    np.testing.assert_allclose(p.log_prob(a).data, np_normal_logpdf(a, mu, s).sum(-1), rtol=1e-12)
    entropy = 0.5 * np.log(2 * np.pi * np.e * s ** 2) * np.ones((5, 3))
    np.testing.assert_allclose(p.entropy().data, entropy.sum(-1), rtol=1e-12)
    kl = np.log(s_q / s) + (s ** 2 + (mu - mu_q) ** 2) / (2 * s_q ** 2) - 0.5
    np.testing.assert_allclose(p.kl(q).data, kl.sum(-1), rtol=1e-12)
    np.testing.assert_allclose(p.kl(p).data, 0.0, atol=1e-15)
    assert p.shape == (5, 3) and p.entropy().shape == (5,)


def test_normal_kl_and_entropy_agree_with_monte_carlo():
    rng = np.random.default_rng(8)
    p = Normal(Tensor(np.array([0.3, -1.0])), Tensor(np.array([0.2, -0.4])))
    q = Normal(Tensor(np.array([-0.5, 0.0])), Tensor(np.array([0.0, 0.1])))
    n = 100_000
    a = p.mean.data + p.std.data * rng.standard_normal((n, 2))
    logp = np_normal_logpdf(a, p.mean.data, p.std.data).sum(-1)
    logq = np_normal_logpdf(a, q.mean.data, q.std.data).sum(-1)
    for estimate, exact in ((logp - logq, p.kl(q).item()), (-logp, p.entropy().item())):
        stderr = estimate.std() / np.sqrt(n)
        assert abs(estimate.mean() - exact) < 5 * stderr, (estimate.mean(), exact, stderr)


def test_normal_gradients_match_finite_differences():
    rng = np.random.default_rng(9)
    mu, log_std, a = rng.standard_normal((4, 3)), 0.3 * rng.standard_normal(3), rng.standard_normal((4, 3))
    mu_q, log_std_q = rng.standard_normal((4, 3)), 0.3 * rng.standard_normal((4, 3))
    w = rng.standard_normal(4)
    checks = [
        (lambda m, s, x: Normal(m, s).log_prob(x) * Tensor(w), [mu, log_std, a]),
        (lambda m, s: Normal(m, s).entropy() * Tensor(w), [mu, log_std]),
        (lambda m, s, m2, s2: Normal(m, s).kl(Normal(m2, s2)) * Tensor(w), [mu, log_std, mu_q, log_std_q]),
    ]
    for f, inputs in checks:
        assert max(gradient_check(f, inputs)) < TOL


def test_normal_rsample_is_mean_plus_std_times_the_generators_noise():
    mu, log_std = Tensor(np.array([[1.0, -2.0]]), requires_grad=True), Tensor(np.array([0.0, np.log(3.0)]),
                                                                            requires_grad=True)
    a = Normal(mu, log_std).rsample(np.random.default_rng(10))
    eps = np.random.default_rng(10).standard_normal((1, 2))
    np.testing.assert_allclose(a.data, [[1.0 + eps[0, 0], -2.0 + 3.0 * eps[0, 1]]], rtol=1e-14)
    a.sum().backward()
    np.testing.assert_array_equal(mu.grad, [[1.0, 1.0]])                 # da/dmu = 1
    np.testing.assert_allclose(log_std.grad, [eps[0, 0], 3.0 * eps[0, 1]], rtol=1e-14)   # da/dlog s = s eps


def test_rsample_gradient_of_a_quadratic_matches_the_analytic_gradient_in_expectation():
    """E[(a - k)^2] = (mu - k)^2 + sigma^2, so dE/dmu = 2 (mu - k) and dE/dlog sigma = 2 sigma^2."""
    mu0, log_std0, k = np.array([0.5, -1.0]), np.array([-0.3, 0.4]), np.array([1.5, 0.0])
    n = 50_000
    mu, log_std = Tensor(mu0, requires_grad=True), Tensor(log_std0, requires_grad=True)
    a = Normal(mu + Tensor(np.zeros((n, 2))), log_std).rsample(np.random.default_rng(11))   # (n, 2)
    ((a - Tensor(k)) ** 2).mean(axis=0).sum().backward()
    sigma = np.exp(log_std0)
    eps = (a.data - mu0) / sigma
    per_sample = {"mu": 2 * (a.data - k), "log_std": 2 * (a.data - k) * sigma * eps}   # (n, 2) each
    for name, grad, exact in (("mu", mu.grad, 2 * (mu0 - k)), ("log_std", log_std.grad, 2 * sigma ** 2)):
        np.testing.assert_allclose(grad, per_sample[name].mean(axis=0), rtol=1e-10)
        stderr = per_sample[name].std(axis=0) / np.sqrt(n)
        assert np.all(np.abs(grad - exact) < 5 * stderr), f"{name}: {grad} vs {exact} (stderr {stderr})"


def test_normal_sample_statistics():
    d = Normal(Tensor(np.full((20_000, 2), [1.0, -3.0])), Tensor(np.log([0.5, 2.0])))
    x = d.sample(np.random.default_rng(12))
    assert x.shape == (20_000, 2)
    assert np.all(np.abs(x.mean(axis=0) - [1.0, -3.0]) < 5 * np.array([0.5, 2.0]) / np.sqrt(20_000))
    np.testing.assert_allclose(x.std(axis=0), [0.5, 2.0], rtol=0.03)
    np.testing.assert_array_equal(d.mode()[0], [1.0, -3.0])


def test_normal_bad_input():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Normal(Tensor(np.zeros((2, 3))), Tensor(np.zeros(4)))
    with pytest.raises(ValueError, match="NaN"):
        Normal(Tensor(np.array([np.nan])), Tensor(np.zeros(1)))
    d = Normal(Tensor(np.zeros((2, 3))), Tensor(np.zeros(3)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        d.log_prob(np.zeros(3))
    with pytest.raises(TypeError, match="Generator"):
        d.rsample(None)


def test_float32_distributions_stay_float32():
    logits = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    d = Categorical(logits)
    y = d.gumbel_softmax_st(np.random.default_rng(0))
    assert d.log_prob(np.array([0, 2])).dtype == np.float32 and y.dtype == np.float32
    (y.sum() + d.entropy().sum()).backward()
    assert logits.grad.dtype == np.float32
    mu = Tensor(np.zeros((2, 3), dtype=np.float32), requires_grad=True)
    n = Normal(mu, Tensor(np.zeros(3, dtype=np.float32)))
    a = n.rsample(np.random.default_rng(0))
    assert a.dtype == np.float32 and n.log_prob(a).dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("discrete", [True, False])
def test_policy_fast_sampling_equals_the_distribution_path(dtype, discrete):
    """`sample_with_log_prob` (the rollout's NumPy-only path) draws the same actions with the same
    log-probabilities as `dist(obs).sample` / `log_prob` from the same generator state."""
    from minirl.policies import CategoricalPolicy, GaussianPolicy
    rng = np.random.default_rng(0)
    if discrete:
        policy = CategoricalPolicy(3, 4, rng=rng, hidden=(8,), head_gain=1.0, dtype=dtype)
    else:
        policy = GaussianPolicy(3, 2, rng=rng, hidden=(8,), head_gain=1.0, dtype=dtype)
    obs = rng.normal(size=(6, 3))
    actions, logp = policy.sample_with_log_prob(obs, np.random.default_rng(7))
    with no_grad():
        d = policy.dist(obs)
        want = d.sample(np.random.default_rng(7))
        want_logp = d.log_prob(want).data
    np.testing.assert_array_equal(actions, want)
    np.testing.assert_array_equal(logp, want_logp)
    assert logp.dtype == dtype


@pytest.mark.parametrize("name, mean, log_std", [("mean", [np.inf, 0.0], [0.0, 0.0]), ("mean", [-np.inf, 0.0], [0.0, 0.0]),
                                                 ("log_std", [0.0, 0.0], [np.inf, 0.0]), ("log_std", [0.0], [-np.inf])])
def test_normal_refuses_an_infinite_mean_or_log_std(name, mean, log_std):
    """Before (issue 12): an infinite mean or log_std was accepted and sampled inf / NaN actions."""
    with pytest.raises(ValueError, match=f"Normal: {name} holds NaN or inf .*finite {name}") as e:
        Normal(Tensor(np.array(mean)), Tensor(np.array(log_std)))
    assert "\n" not in str(e.value)


def test_categorical_takes_logits_or_probs_by_keyword():
    """The positional argument is logits; probs= takes probabilities (normalised, as in PyTorch)."""
    p = np.array([[0.2, 0.3, 0.5], [0.0, 0.25, 0.75]])
    by_probs = Categorical(probs=p)
    np.testing.assert_allclose(by_probs.probs, p, rtol=1e-12, atol=0)
    np.testing.assert_allclose(Categorical(probs=2 * p).probs, p, rtol=1e-12)          # normalised
    assert by_probs.logits.data[1, 0] == -np.inf                                       # never drawn
    np.testing.assert_array_equal(Categorical(logits=np.log(p[0])).probs, Categorical(np.log(p[0])).probs)
    assert not np.allclose(Categorical(p[0]).probs, p[0])                               # positional = logits
    # probs= is differentiable: d log pi(a) / d p_a = 1/p_a - 1/sum(p), checked by finite differences
    errs = gradient_check(lambda q: Categorical(probs=q).log_prob(np.array([1, 2])).sum(),
                          [np.array([[0.2, 0.3, 0.5], [0.1, 0.25, 0.75]])])
    assert max(errs) < 1e-7, errs


@pytest.mark.parametrize("kwargs, match", [
    ({}, "exactly one of logits .* and probs=, got neither"),
    ({"logits": np.zeros(3), "probs": np.ones(3) / 3}, "exactly one .* got both"),
    ({"probs": np.array([0.5, -0.1, 0.6])}, "probs must be finite numbers >= 0 .* use logits= \\(the positional"),
    ({"probs": np.array([0.5, np.nan])}, "probs must be finite"),
    ({"probs": np.zeros((2, 3))}, "sums to 0"),
    ({"logits": np.array([np.inf, 0.0])}, "probabilities go in probs=, not in the positional argument, which is logits")])
def test_categorical_refuses_ambiguous_or_invalid_input_in_one_line(kwargs, match):
    with pytest.raises((TypeError, ValueError), match=match) as e:
        Categorical(**kwargs)
    assert "\n" not in str(e.value)
