"""Lesson 02: sampling, densities and gradients of policy distributions (`lessons/distributions.py`).

Randomness is replayed: a test draws the same numbers from a generator with the same seed as the
one it hands to your code, so it knows exactly which sample you should return.

    pytest -m lesson02                     # the reference implementation
    pytest --impl lessons -m lesson02      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_array, check_tensor

from minirl.autograd import Tensor

pytestmark = pytest.mark.lesson02


def log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


class ZeroUniforms(np.random.Generator):
    """A generator whose uniforms are exactly 0.0."""

    def random(self, size=None, dtype=np.float64, out=None):
        return np.zeros(size)


# ------------------------------------------------------------------ Categorical.sample

def test_categorical_sample_inverts_the_cdf(lesson):
    m = lesson("distributions")
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((500, 4))
    samples = check_array(m.Categorical(Tensor(logits)).sample(np.random.default_rng(1)), shape=(500,),
                          dtype_kind="iu", name="Categorical.sample")
    probs = np.exp(log_softmax(logits))
    cdf = np.cumsum(probs, axis=-1)
    u = np.random.default_rng(1).random((500, 1)) * cdf[:, -1:]       # the uniforms your code drew
    expected = np.array([np.searchsorted(c, x, side="right") for c, x in zip(cdf, u[:, 0])])
    if np.all(samples == expected - 1):
        raise AssertionError("every sample is one less than expected: the sample is the number of cdf "
                             "entries <= u (the first k with u < cdf_k), did you subtract 1?")
    if np.all(samples == np.minimum(4 - expected, 3)):
        raise AssertionError("you counted the cdf entries ABOVE u (u < cdf_k): the sample is the number of "
                             "entries at or below u, (u >= cdf).sum(axis=-1)")
    wrong = np.flatnonzero(samples != expected)
    assert wrong.size == 0, (
        f"{wrong.size} of 500 samples differ from inverse-CDF sampling with the generator's uniforms "
        f"(first: row {wrong[0] if wrong.size else None}, got {samples[wrong[:1]]}, expected "
        f"{expected[wrong[:1]]}); the sample is the first k with u < cdf_k")


def test_categorical_sample_never_picks_a_zero_probability_action(lesson):
    m = lesson("distributions")
    d = m.Categorical(Tensor(np.array([[-np.inf, 0.0, -np.inf, 0.0]] * 3)))
    got = d.sample(ZeroUniforms(np.random.PCG64(0)))
    assert np.all(np.asarray(got) == 1), (
        f"with u = 0 and probabilities [0, 0.5, 0, 0.5] you sampled {got}, expected action 1: "
        "count the cdf entries with cdf_k <= u (>=), not cdf_k < u, or action 0 can be drawn")


# ------------------------------------------------------------------ Categorical.entropy

def test_categorical_entropy(lesson):
    m = lesson("distributions")
    rng = np.random.default_rng(2)
    logits = 2 * rng.standard_normal((5, 3))
    d = m.Categorical(Tensor(logits, requires_grad=True))
    h = check_tensor(d.entropy(), shape=(5,), name="Categorical.entropy", requires_grad=True)
    logp = log_softmax(logits)
    expected = -(np.exp(logp) * logp).sum(axis=-1)
    assert np.all(h.data >= 0) or not np.allclose(h.data, -expected), \
        "your entropy is negative: H = -sum_a p(a) log p(a) (log p <= 0, so H >= 0); did you forget the minus?"
    assert_close(h, expected, name="Categorical.entropy", hint="H = -sum over the last axis of p * log p",
                 slips={"average over the 3 actions: H is a SUM over actions": expected / 3})
    uniform = m.Categorical(Tensor(np.zeros(4))).entropy()
    assert_close(uniform, np.log(4.0), name="entropy of the uniform distribution over 4 actions",
                 hint="the uniform distribution over K actions has entropy log K")


def test_categorical_entropy_gradient_and_masked_actions(lesson):
    m = lesson("distributions")
    logits = Tensor(np.array([[0.5, -1.0, 2.0], [-np.inf, 0.0, 1.0]]), requires_grad=True)
    h = m.Categorical(logits).entropy()
    assert np.all(np.isfinite(h.data)), (
        f"entropy {h.data} with a masked action (logit -inf): 0 * log 0 must count as 0; use the "
        "prepared log_p (log-probabilities with 0 where the probability is 0)")
    h.sum().backward()
    x = logits.data
    p = np.exp(log_softmax(x))
    logp = np.where(p > 0, log_softmax(x), 0.0)
    # dH/dx_i = -p_i (log p_i + H)
    expected = -p * (logp + (-(p * logp).sum(-1, keepdims=True)))
    assert logits.grad is not None, "no gradient reached the logits: compute the entropy from Tensors"
    assert_close(logits.grad, expected, name="gradient of the entropy", hint="dH/dlogit_i = -p_i (log p_i + H)")


# ------------------------------------------------------------------ Gumbel-softmax straight-through

@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_gumbel_softmax_st_forward_and_backward(lesson, temperature):
    m = lesson("distributions")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((6, 4))
    w = rng.standard_normal((6, 4))
    logits = Tensor(x, requires_grad=True)
    y = check_tensor(m.Categorical(logits).gumbel_softmax_st(np.random.default_rng(4), temperature=temperature),
                     shape=(6, 4), name="gumbel_softmax_st", requires_grad=True)
    (y * Tensor(w)).sum().backward()

    u = np.random.default_rng(4).random((6, 4))             # the same noise your code drew
    gumbel = -np.log(-np.log(u + 1e-20) + 1e-20)
    hard = np.eye(4)[(x + gumbel).argmax(axis=1)]
    if not np.all(np.isin(y.data, (0.0, 1.0))):
        raise AssertionError("the forward value is not one-hot: return straight_through(hard, y_soft) so the "
                             "value is the hard sample and only the gradient is the relaxed one")
    assert_close(y.data, hard, name="gumbel_softmax_st forward",
                 hint="the one-hot sample is at argmax(logits + g) (Gumbel-max trick)")
    soft = Tensor(x, requires_grad=True)
    (((soft + gumbel) * (1.0 / temperature)).softmax(axis=-1) * Tensor(w)).sum().backward()
    assert logits.grad is not None and np.any(logits.grad != 0), \
        "no gradient reached the logits: a one-hot array has none, the gradient must come from the softmax"
    untempered = Tensor(x, requires_grad=True)
    ((untempered + gumbel).softmax(axis=-1) * Tensor(w)).sum().backward()
    if temperature != 1.0 and np.allclose(logits.grad, untempered.grad):
        raise AssertionError("your gradient ignores the temperature: the relaxed sample is "
                             "softmax((logits + g) / temperature)")
    multiplied = Tensor(x, requires_grad=True)
    (((multiplied + gumbel) * temperature).softmax(axis=-1) * Tensor(w)).sum().backward()
    if temperature != 1.0 and np.allclose(logits.grad, multiplied.grad):
        raise AssertionError("you multiplied by the temperature: divide by it, softmax((logits + g) / "
                             "temperature) (a low temperature makes the relaxed sample sharper)")
    assert_close(logits.grad, soft.grad, name="gumbel_softmax_st backward",
                 hint="the backward pass is that of y_soft = softmax((logits + g) / temperature)")


# ------------------------------------------------------------------ Normal

def test_normal_rsample_is_reparameterised(lesson):
    m = lesson("distributions")
    mean = Tensor(np.array([[0.5, -1.0, 2.0]] * 4), requires_grad=True)
    log_std = Tensor(np.array([0.0, -1.0, 0.7]), requires_grad=True)
    a = check_tensor(m.Normal(mean, log_std).rsample(np.random.default_rng(5)), shape=(4, 3),
                     name="Normal.rsample", requires_grad=True)
    eps = np.random.default_rng(5).standard_normal((4, 3))
    std = np.exp(log_std.data)
    assert_close(a.data, mean.data + std * eps, name="Normal.rsample value",
                 slips={"use log_std as the std: std = exp(log_std) (self.std)": mean.data + log_std.data * eps,
                        "scale eps by the variance std^2: a = mean + std * eps": mean.data + std ** 2 * eps},
                 hint="a = mean + std * eps with eps ~ N(0, 1) drawn from rng.standard_normal(self.shape)")
    a.sum().backward()
    if log_std.grad is None or np.all(log_std.grad == 0):
        raise AssertionError("no gradient reached log_std: build a = mean + std * eps from Tensors (self.std), "
                             "not from .data or a plain sample")
    assert_close(mean.grad, np.ones((4, 3)), name="d a / d mean", hint="a = mean + std * eps, so da/dmean = 1")
    assert_close(log_std.grad, (std * eps).sum(axis=0), name="d a / d log_std",
                 hint="da/dlog_std = std * eps (chain rule through std = exp(log_std)), summed over the batch")


def normal_logpdf(a, mu, sigma):
    return -0.5 * np.log(2 * np.pi * sigma ** 2) - (a - mu) ** 2 / (2 * sigma ** 2)


def test_normal_log_prob(lesson):
    m = lesson("distributions")
    rng = np.random.default_rng(6)
    mu, log_std, a = rng.standard_normal((5, 2)), 0.5 * rng.standard_normal(2), rng.standard_normal((5, 2))
    mean_t, log_std_t = Tensor(mu, requires_grad=True), Tensor(log_std, requires_grad=True)
    lp = check_tensor(m.Normal(mean_t, log_std_t).log_prob(a), shape=(5,), name="Normal.log_prob",
                      requires_grad=True)
    sigma = np.exp(log_std)
    expected = normal_logpdf(a, mu, sigma).sum(-1)
    diff = lp.data - expected
    if np.allclose(diff, diff[0]) and not np.allclose(diff, 0):
        raise AssertionError(f"your log_prob is off by the constant {diff[0]:.4f}: check -log sigma and "
                             "-log(2 pi)/2 per dimension")
    assert_close(lp, expected, name="Normal.log_prob",
                 slips={"divide a - mu by the variance: z = (a - mu) / sigma, then -z^2 / 2":
                        (-0.5 * ((a - mu) / sigma ** 2) ** 2 - log_std - 0.5 * np.log(2 * np.pi)).sum(-1)},
                 hint="log N(a; mu, sigma) = sum_d [-(a - mu)^2 / (2 sigma^2) - log sigma - log(2 pi)/2]")
    lp.sum().backward()
    assert_close(mean_t.grad, (a - mu) / sigma ** 2, name="d log_prob / d mean", hint="(a - mu) / sigma^2")
    assert_close(log_std_t.grad, ((a - mu) ** 2 / sigma ** 2 - 1).sum(0), name="d log_prob / d log_std",
                 hint="(a - mu)^2 / sigma^2 - 1 per dimension")


def test_normal_kl(lesson):
    m = lesson("distributions")
    rng = np.random.default_rng(7)
    mu_p, mu_q = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    ls_p, ls_q = 0.4 * rng.standard_normal((3, 2)), 0.4 * rng.standard_normal((3, 2))
    p = m.Normal(Tensor(mu_p), Tensor(ls_p))
    q = m.Normal(Tensor(mu_q), Tensor(ls_q))
    kl = check_tensor(p.kl(q), shape=(3,), name="Normal.kl")
    sp, sq = np.exp(ls_p), np.exp(ls_q)
    expected = (np.log(sq / sp) + (sp ** 2 + (mu_p - mu_q) ** 2) / (2 * sq ** 2) - 0.5).sum(-1)
    reversed_kl = (np.log(sp / sq) + (sq ** 2 + (mu_p - mu_q) ** 2) / (2 * sp ** 2) - 0.5).sum(-1)
    if np.allclose(kl.data, reversed_kl):
        raise AssertionError("you computed KL(q || p): self.kl(other) is KL(self || other), the expectation "
                             "under self")
    assert_close(kl, expected, name="Normal.kl",
                 slips={"drop the 2 in 2 sigma_q^2": (np.log(sq / sp) + (sp ** 2 + (mu_p - mu_q) ** 2) / sq ** 2
                                                     - 0.5).sum(-1),
                        "flip the log-ratio: the first term is log(sigma_q / sigma_p)":
                        (np.log(sp / sq) + (sp ** 2 + (mu_p - mu_q) ** 2) / (2 * sq ** 2) - 0.5).sum(-1)},
                 hint="KL = sum_d [log(sigma_q / sigma_p) + (sigma_p^2 + (mu_p - mu_q)^2) / (2 sigma_q^2) - 1/2]")
    assert_close(p.kl(p), np.zeros(3), name="KL(p || p)", hint="a distribution's KL to itself is 0")
