"""Lesson 13: the policy gradient's signal-to-noise ratio, score function against pathwise
(`lessons/algos/gradient_snr.py`).

Every expected number is worked out in the comments.

    pytest -m lesson13                     # the reference implementation
    pytest --impl lessons -m lesson13      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, check_scalar, check_tensor

from minirl.autograd import Tensor
from minirl.policies import GaussianPolicy

pytestmark = pytest.mark.lesson13


# ------------------------------------------------------------------------------------------- gradient_snr
def test_gradient_snr_by_hand(lesson):
    m = lesson("algos.gradient_snr")
    # rows (1, 0) and (3, 0): mean (2, 0), |mean|^2 = 4; S = (1 + 1) / (2 - 1) = 2; SNR = (4 - 2/2) / 2 = 1.5
    snr = check_scalar(m.gradient_snr(np.array([[1.0, 0.0], [3.0, 0.0]])), name="gradient_snr")
    # the usual slips, by hand: no S / R: 4 / 2 = 2; S over R, not R - 1: S = 1, (4 - 1/2) / 1 = 3.5;
    # S instead of S / R: (4 - 2) / 2 = 1; the norm |gbar| = 2 for its square: (2 - 1) / 2 = 0.5
    assert_close(snr, 1.5, name="gradient_snr([[1, 0], [3, 0]])",
                 slips={"forgot to subtract S / R from |gbar|^2 (the noise's share of it)": 2.0,
                        "divided the squared deviations by R instead of R - 1": 3.5,
                        "subtracted S instead of S / R": 1.0,
                        "used the norm |gbar| instead of its square |gbar|^2": 0.5},
                 hint="SNR = (|gbar|^2 - S / R) / S with S = sum of squared deviations / (R - 1)")
    # three rows, two parameters: mean (1, 1), |mean|^2 = 2; deviations (-1,1), (0,-2), (1,1): S = (2+4+2)/2 = 4
    # SNR = (2 - 4/3) / 4 = 1/6
    assert_close(m.gradient_snr(np.array([[0.0, 2.0], [1.0, -1.0], [2.0, 2.0]])), 1 / 6,
                 name="gradient_snr (3 x 2 example)",
                 hint="S is the sum over parameters AND rows of the squared deviations, divided by R - 1")


def test_gradient_snr_of_estimates_that_never_vary_is_infinite(lesson):
    m = lesson("algos.gradient_snr")
    value = m.gradient_snr(np.ones((4, 3)))
    assert value == np.inf, f"identical estimates have no noise: the SNR is inf, got {value!r} (divide by zero?)"


def test_gradient_snr_recovers_a_known_ratio(lesson):
    m = lesson("algos.gradient_snr")
    # g ~ N(mu, sigma^2 I) with |mu|^2 = 10 * 0.5^2 = 2.5 and E|g - mu|^2 = 10 * 2^2 = 40: SNR = 1/16
    rng = np.random.default_rng(0)
    mu = np.full(10, 0.5)
    g = mu + 2.0 * rng.standard_normal((20_000, 10))
    assert_close(m.gradient_snr(g), 1 / 16, name="gradient_snr of 20,000 Gaussian rows", rtol=0.08,
                 hint="the unbiased estimate (|gbar|^2 - S/R) / S should be close to |mu|^2 / (P sigma^2)")


# ------------------------------------------------------------------------------------------- score_surrogate
def test_score_surrogate_value_and_gradient_by_hand(lesson):
    m = lesson("algos.gradient_snr")
    rewards = np.array([[1.0, 3.0], [2.0, 0.0]])                 # (T = 2, B = 2)
    log_probs = Tensor(np.array([[0.1, 0.2], [0.3, 0.4]]), requires_grad=True)
    out = check_tensor(m.score_surrogate(log_probs, rewards, 0.5), shape=(), name="score_surrogate")
    # G_1 = (2, 0); G_0 = r_0 + 0.5 G_1 = (2, 3). Leave-one-out baselines (B = 2: the other rollout's G):
    # t = 0: b = (3, 2), G - b = (-1, 1); t = 1: b = (0, 2), G - b = (2, -2).
    # weights gamma^t (G - b) / B: t = 0: (-0.5, 0.5); t = 1: 0.5 * (2, -2) / 2 = (0.5, -0.5)
    # surrogate = -0.05 + 0.1 + 0.15 - 0.2 = 0
    out.backward()
    # slips, by hand: no 1/B: (-1, 1), (1, -1); no gamma^t: t = 1 weighs (2, -2) / 2 = (1, -1); the batch
    # mean as baseline (the rollout itself included): G - b = (-0.5, 0.5), (1, -1), half the weights
    assert_close(log_probs.grad, [[-0.5, 0.5], [0.5, -0.5]], name="d score_surrogate / d log_probs",
                 slips={"forgot the 1/B average": [[-1.0, 1.0], [1.0, -1.0]],
                        "left out gamma^t": [[-0.5, 0.5], [1.0, -1.0]],
                        "used the batch mean as baseline (it includes the rollout itself: leave it out)":
                            [[-0.25, 0.25], [0.25, -0.25]]},
                 hint="weights gamma^t (G_t - mean of the OTHER rollouts' G_t) / B; rewards-to-go count from t "
                      "to the END of the rollout")
    assert_close(out.data, 0.0, name="score_surrogate value", hint="sum of log_probs * weights, divided by B")


def test_score_surrogate_keeps_no_gradient_through_the_rewards(lesson):
    m = lesson("algos.gradient_snr")
    rewards = Tensor(np.array([[1.0, 2.0, 4.0]]), requires_grad=True)
    log_probs = Tensor(np.zeros((1, 3)), requires_grad=True)
    m.score_surrogate(log_probs, rewards, 0.9).backward()
    assert rewards.grad is None, "the score function uses the rewards' values only: use rewards.data"


# ------------------------------------------------------------------------------------------- a probe twin
class Bandit:
    """A one-step probe: d independent dimensions, reward -1/d sum_i (a_i - 1)^2, observation always 1.

    With a = mu + sigma eps, E[r] = -1/d sum_i ((mu_i - 1)^2 + sigma_i^2): its exact gradient is
    autograd of that expression.
    """

    horizon = 1

    def __init__(self, d):
        self.d, self.obs_dim, self.act_dim = d, 1, d

    def reset(self, rng, batch):
        return Tensor(np.zeros((batch, 1)))

    def observe(self, state):
        return Tensor(np.ones((state.shape[0], 1)))

    def step(self, state, action):
        return state, -((action - 1.0) ** 2).mean(axis=1)


def _policy(d, seed=0, zero_mean=False):
    policy = GaussianPolicy(1, d, rng=np.random.default_rng(seed), hidden=(), log_std_init=-0.5, head_gain=1.0)
    if zero_mean:                        # every mean at 0, a distance 1 from the best action at every d
        for p in policy.net.parameters():
            p.data[...] = 0.0
    return policy


def _exact_gradient(policy, d):
    for p in policy.parameters():
        p.grad = None
    mean = policy.mean_action(np.ones((1, 1)))                                   # (1, d)
    value = -(((mean - 1.0) ** 2).sum() + (policy.log_std * 2).exp().sum()) * (1.0 / d)
    value.backward()
    return np.concatenate([np.ravel(p.grad) for p in policy.parameters()])


def test_rollout_records_rewards_with_their_graph_and_the_log_probs_of_the_actions(lesson):
    m = lesson("algos.gradient_snr")
    policy = _policy(2)
    rng = np.random.default_rng(5)
    rewards, log_probs = m.rollout(Bandit(2), policy, Tensor(np.zeros((3, 1))), 1, rng)
    check_tensor(rewards, shape=(1, 3), name="rollout's rewards")
    check_tensor(log_probs, shape=(1, 3), name="rollout's log_probs")
    eps = np.random.default_rng(5).standard_normal((3, 2))                       # the same draw
    mean = policy.mean_action(np.ones((3, 1))).data
    a = mean + np.exp(policy.log_std.data) * eps
    assert_close(rewards.data[0], -((a - 1) ** 2).mean(axis=1), name="rollout's rewards",
                 hint="a = mean + exp(log_std) * eps with eps = rng.standard_normal(mean.shape), one draw per step")
    expected = (-0.5 * eps ** 2 - policy.log_std.data - 0.5 * np.log(2 * np.pi)).sum(axis=1)
    assert_close(log_probs.data[0], expected, name="rollout's log_probs",
                 hint="log_probs are policy.dist(obs).log_prob(a) of the action just taken")
    assert rewards.requires_grad, "the rewards must keep the graph back to the policy (pathwise gradient)"
    for p in policy.parameters():
        p.grad = None
    log_probs.sum().backward()
    # a held fixed: log N(a; mu, sigma) = -(a - mu)^2 / (2 sigma^2) - log sigma - ..., whose derivative in
    # log sigma is (a - mu)^2 / sigma^2 - 1 = eps^2 - 1, summed over the 3 rows
    assert_close(policy.log_std.grad, (eps ** 2 - 1).sum(axis=0), name="d log_probs / d log_std",
                 hint="[-3, -3] means the action kept its graph (a = mu + sigma eps makes log N(a) = -eps^2/2 - "
                      "log sigma - ...): the score function treats a as a sample, log_prob(a.detach()) at "
                      "obs.detach()")


@pytest.mark.parametrize("d", [1, 4])
def test_both_estimators_are_unbiased_on_the_probe(lesson, d):
    m = lesson("algos.gradient_snr")
    policy = _policy(d, seed=d)
    exact = _exact_gradient(policy, d)
    g = m.estimator_gradients(Bandit(d), policy, rollouts=16, repeats=3000, steps=1, gamma=1.0,
                              rng=np.random.default_rng(1))
    for name in ("score", "pathwise"):
        mean, se = g[name].mean(axis=0), g[name].std(axis=0) / np.sqrt(len(g[name]))
        assert np.all(np.abs(mean - exact) < 4 * se + 1e-9), (
            f"{name}: mean of 3000 estimates {np.round(mean, 3)} differs from the exact gradient "
            f"{np.round(exact, 3)} by more than 4 standard errors: a biased estimator (a baseline that "
            "includes the rollout itself shrinks the score function by (B - 1) / B)")


def test_the_score_functions_snr_falls_with_d_and_the_pathwise_one_does_not(lesson):
    """The mechanism of lesson 13, on the probe: the same rollouts, two estimators, d = 1 and d = 16."""
    m = lesson("algos.gradient_snr")
    snr = {}
    for d in (1, 16):
        g = m.estimator_gradients(Bandit(d), _policy(d, zero_mean=True), rollouts=8, repeats=400, steps=1,
                                  gamma=1.0, rng=np.random.default_rng(2))
        snr[d] = {name: m.gradient_snr(g[name]) for name in g}
    assert snr[16]["score"] < snr[1]["score"] / 4, (
        f"score-function SNR {snr[1]['score']:.3g} at d = 1 and {snr[16]['score']:.3g} at d = 16: it should fall "
        "by far more than 4x (each dimension's noise multiplies a return that mixes all 16)")
    assert snr[1]["pathwise"] / 2 < snr[16]["pathwise"] < snr[1]["pathwise"] * 2, (
        f"pathwise SNR {snr[1]['pathwise']:.3g} at d = 1 and {snr[16]['pathwise']:.3g} at d = 16: each dimension's "
        "derivative is its own, so it should stay within 2x")
