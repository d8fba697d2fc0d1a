"""The seed axis (minirl.stacking): each stacked seed computes bit for bit what it computes alone."""

import numpy as np
import pytest

from minirl.algos.ppo_loss import ppo_loss
from minirl.autograd import Tensor, linear
from minirl.distributions import Categorical, Normal
from minirl.gradcheck import gradient_check
from minirl.nn import MLP
from minirl.normalize import ObsNormalizer, RewardScaler
from minirl.optim import Adam, clip_grad_norm_, clip_grad_norm_per_seed_
from minirl.policies import CategoricalPolicy, GaussianPolicy, ValueFunction
from minirl.stacking import SeedStreams, split_state, stack_modules, stack_state, stacked_shape

S = 3


def test_stacked_linear_passes_the_float64_finite_difference_check():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((S, 5, 4)), rng.standard_normal((S, 4, 3)), rng.standard_normal((S, 1, 3))
    errors = gradient_check(lambda x, w, b: linear(x, w, b).tanh(), [x, w, b])
    assert max(errors) < 1e-7, errors


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stacked_linear_equals_numpy_and_each_seed_alone(dtype):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((S, 64, 4), (S, 4, 64), (S, 1, 64)))
    g = rng.standard_normal((S, 64, 64)).astype(dtype)
    xs, ws, bs = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    out = linear(xs, ws, bs)
    np.testing.assert_array_equal(out.data, np.matmul(x, w) + b)                # NumPy's own batched matmul
    out.backward(g)
    for s in range(S):
        x1, w1, b1 = Tensor(x[s], requires_grad=True), Tensor(w[s], requires_grad=True), Tensor(b[s, 0], requires_grad=True)
        one = linear(x1, w1, b1)
        one.backward(g[s])
        np.testing.assert_array_equal(out.data[s], one.data)
        np.testing.assert_array_equal(xs.grad[s], x1.grad)
        np.testing.assert_array_equal(ws.grad[s], w1.grad)
        np.testing.assert_array_equal(bs.grad[s, 0], b1.grad)


def test_stacked_linear_refuses_an_input_without_the_seed_axis():
    with pytest.raises(ValueError, match="stacked weight"):
        linear(Tensor(np.zeros((5, 4))), Tensor(np.zeros((S, 4, 3))))


def test_seed_streams_draw_what_each_generator_draws_alone():
    streams = SeedStreams([np.random.default_rng(s) for s in range(S)])
    alone = [np.random.default_rng(s) for s in range(S)]
    np.testing.assert_array_equal(streams.random((S, 4, 1)), [g.random((4, 1)) for g in alone])
    np.testing.assert_array_equal(streams.standard_normal((S, 2)), [g.standard_normal(2) for g in alone])
    np.testing.assert_array_equal(streams.permutation(7), [g.permutation(7) for g in alone])
    np.testing.assert_array_equal(streams.integers(0, 9, (S, 5)), [g.integers(0, 9, 5) for g in alone])
    np.testing.assert_array_equal(streams.uniform(-1, 1, (S, 2)), [g.uniform(-1, 1, 2) for g in alone])
    with pytest.raises(ValueError, match="number of seeds"):
        streams.random((2, 4))


def _members(cls, seeds, **kwargs):
    return [cls(rng=np.random.default_rng(s), **kwargs) for s in seeds]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stacked_policies_act_and_learn_as_each_seed_alone(dtype):
    """Sampling, log-probabilities, values, a PPO loss, its gradient, clipping and an Adam step."""
    for policy_cls, kw in ((CategoricalPolicy, dict(obs_dim=4, n_actions=2)),
                           (GaussianPolicy, dict(obs_dim=3, act_dim=2))):
        pols = _members(policy_cls, range(S), dtype=dtype, **kw)
        vals = _members(ValueFunction, range(10, 10 + S), obs_dim=kw["obs_dim"], dtype=dtype)
        pol, val = stack_modules(pols), stack_modules(vals)
        assert pol.net.layers[0].weight.shape == (S, kw["obs_dim"], 64) and pol.net.layers[0].bias.shape == (S, 1, 64)
        params = pol.parameters() + val.parameters()
        opt = Adam(params, lr=1e-2, eps=1e-5)
        singles = [p.parameters() + v.parameters() for p, v in zip(pols, vals)]
        opts = [Adam(ps, lr=1e-2, eps=1e-5) for ps in singles]
        data = np.random.default_rng(5)
        for _ in range(3):
            obs = data.standard_normal((S, 64, kw["obs_dim"]))
            act, logp = pol.sample_with_log_prob(obs, SeedStreams([np.random.default_rng(7 + s) for s in range(S)]))
            adv, ret = data.standard_normal((S, 64)), data.standard_normal((S, 64))
            dist = pol.dist(obs)
            loss, info = ppo_loss(dist.log_prob(act), dist.entropy(), val(obs), logp_old=logp - 0.1, advantages=adv,
                                  v_old=ret * 0.5, returns=ret, clip_coef=0.2, vf_coef=0.5, ent_coef=0.01)
            opt.zero_grad()
            loss.sum().backward()
            norms = clip_grad_norm_per_seed_(params, 0.5)
            opt.step()
            for s in range(S):
                a1, l1 = pols[s].sample_with_log_prob(obs[s], np.random.default_rng(7 + s))
                np.testing.assert_array_equal(act[s], a1)
                np.testing.assert_array_equal(logp[s], l1)
                d1 = pols[s].dist(obs[s])
                loss1, info1 = ppo_loss(d1.log_prob(a1), d1.entropy(), vals[s](obs[s]), logp_old=l1 - 0.1,
                                        advantages=adv[s], v_old=ret[s] * 0.5, returns=ret[s], clip_coef=0.2,
                                        vf_coef=0.5, ent_coef=0.01)
                assert loss.data[s] == loss1.data
                assert {k: v[s] for k, v in info.items()} == info1
                opts[s].zero_grad()
                loss1.backward()
                assert norms[s] == clip_grad_norm_(singles[s], 0.5)
                opts[s].step()
                for stacked, single in zip(params, singles[s]):
                    np.testing.assert_array_equal(stacked.data[s].reshape(single.shape), single.data)


def test_stacked_distributions_sample_as_each_seed_alone():
    logits, mean = np.random.default_rng(2).standard_normal((2, S, 5, 4))
    log_std = np.random.default_rng(3).standard_normal((S, 1, 4))
    cat = Categorical(logits).sample(SeedStreams([np.random.default_rng(s) for s in range(S)]))
    normal = Normal(mean, log_std).sample(SeedStreams([np.random.default_rng(s) for s in range(S)]))
    for s in range(S):
        np.testing.assert_array_equal(cat[s], Categorical(logits[s]).sample(np.random.default_rng(s)))
        np.testing.assert_array_equal(normal[s], Normal(mean[s], log_std[s, 0]).sample(np.random.default_rng(s)))


def test_stacked_normalisers_keep_each_seeds_statistics():
    obs_norm, rew = ObsNormalizer(3, population=S), RewardScaler(4, 0.99, population=S)
    singles = [(ObsNormalizer(3), RewardScaler(4, 0.99)) for _ in range(S)]
    rng = np.random.default_rng(0)
    for _ in range(20):
        obs, r, done = rng.standard_normal((S, 4, 3)) * 5, rng.standard_normal((S, 4)), rng.random((S, 4)) < 0.1
        o, scaled = obs_norm(obs, update=True), rew(r, done)
        for s, (on, rs) in enumerate(singles):
            np.testing.assert_array_equal(o[s], on(obs[s], update=True))
            np.testing.assert_array_equal(scaled[s], rs(r[s], done[s]))
    for s, (on, rs) in enumerate(singles):
        for stacked, single in ((obs_norm, on), (rew, rs)):
            mine = split_state(stacked.state_dict(), s, single.state_dict())
            for k, v in single.state_dict().items():
                np.testing.assert_array_equal(mine[k], v, err_msg=k)


def test_stack_state_and_split_state_round_trip():
    nets = [MLP([3, 8, 2], rng=np.random.default_rng(s)) for s in range(S)]
    opts = [Adam(n.parameters(), lr=1e-3) for n in nets]
    stacked = stack_modules(nets)
    opt = Adam(stacked.parameters(), lr=1e-3)
    opt.load_state_dict(stack_state([o.state_dict() for o in opts], opt.state_dict()))
    assert stacked.layers[0].weight.shape == stacked_shape(S, (3, 8)) == (S, 3, 8)
    assert stacked.layers[0].bias.shape == stacked_shape(S, (8,)) == (S, 1, 8)
    for s, net in enumerate(nets):
        back = split_state(stacked.state_dict(), s, net.state_dict())
        for k, v in net.state_dict().items():
            np.testing.assert_array_equal(back[k], v)
    opts[1].lr = 0.5
    with pytest.raises(ValueError, match="'lr' differs"):
        stack_state([o.state_dict() for o in opts], opt.state_dict())
