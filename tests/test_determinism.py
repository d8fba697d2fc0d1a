"""The same seed gives bit-identical results; a different seed gives different ones."""

import numpy as np

from minirl.autograd import Tensor
from minirl.distributions import Categorical, Normal
from minirl.nn import MLP
from minirl.optim import Adam, clip_grad_norm_


def run(seed: int) -> dict:
    """Initialise a policy, train it a few steps on sampled actions, and collect every output."""
    rng = np.random.default_rng(seed)
    net = MLP([4, 16, 16, 3], rng=rng, output_gain=0.01)
    opt = Adam(net.parameters(), lr=1e-2, eps=1e-5)
    log_std = Tensor(np.zeros(3), requires_grad=True)
    out = {"init": np.concatenate([p.data.ravel() for p in net.parameters()])}
    for step in range(5):
        obs = rng.standard_normal((32, 4))
        logits = net(Tensor(obs))
        dist = Categorical(logits)
        actions = dist.sample(rng)
        onehot = dist.gumbel_softmax_st(rng, temperature=0.5)
        normal = Normal(logits, log_std)
        a = normal.rsample(rng)
        loss = (-(dist.log_prob(actions) * Tensor(rng.standard_normal(32))).mean()
                + (onehot * a).sum() * 0.01 + normal.entropy().mean() * 0.01)
        opt.zero_grad()
        log_std.grad = None
        loss.backward()
        clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        out[f"actions{step}"], out[f"onehot{step}"], out[f"a{step}"] = actions, onehot.data, a.data
        out[f"normal_sample{step}"] = normal.sample(rng)
        out[f"loss{step}"] = np.array(loss.item())
    out["final"] = np.concatenate([p.data.ravel() for p in net.parameters()] + [log_std.grad])
    return out


def test_same_seed_is_bit_identical():
    first, second = run(123), run(123)
    assert first.keys() == second.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key], err_msg=key)


def test_different_seed_differs():
    first, other = run(123), run(124)
    assert not np.array_equal(first["init"], other["init"])
    assert not np.array_equal(first["final"], other["final"])
