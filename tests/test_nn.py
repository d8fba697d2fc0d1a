"""Tests of minirl.nn: initialisation, parameter discovery, state dicts, and a whole-network
gradient check against finite differences."""

import numpy as np
import pytest

from minirl.autograd import Tensor
from minirl.distributions import Categorical
from minirl.gradcheck import relative_error
from minirl.nn import MLP, Linear, Module, Sequential, Tanh, orthogonal_


@pytest.mark.parametrize("shape", [(4, 4), (8, 3), (3, 8), (64, 64), (64, 2)])
@pytest.mark.parametrize("gain", [1.0, np.sqrt(2), 0.01])
def test_orthogonal_init_is_orthogonal_with_the_gain(shape, gain):
    w = orthogonal_(shape, gain, np.random.default_rng(0))
    assert w.shape == shape
    rows, cols = shape
    gram = w.T @ w if rows >= cols else w @ w.T            # the smaller Gram matrix is gain^2 I
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(shape)), atol=1e-12)


def test_linear_init_forward_and_layout():
    layer = Linear(3, 5, rng=np.random.default_rng(1), gain=2.0)
    assert layer.weight.shape == (3, 5) and layer.bias.shape == (5,)
    np.testing.assert_array_equal(layer.bias.data, np.zeros(5))
    np.testing.assert_allclose(layer.weight.data @ layer.weight.data.T, 4.0 * np.eye(3), atol=1e-12)
    x = np.random.default_rng(2).standard_normal((7, 3))
    layer.bias.data = np.arange(5.0)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + np.arange(5.0), rtol=1e-13)
    assert Linear(3, 5, rng=np.random.default_rng(1), bias=False).bias is None


def test_linear_and_mlp_bad_arguments():
    with pytest.raises(ValueError, match="in_features.*0"):
        Linear(0, 3, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="Generator"):
        Linear(2, 3, rng=0)
    with pytest.raises(ValueError, match="'gelu'"):
        MLP([2, 3], rng=np.random.default_rng(0), activation="gelu")
    with pytest.raises(ValueError, match=r"\[2\]"):
        MLP([2], rng=np.random.default_rng(0))


def test_mlp_structure_names_and_gains():
    net = MLP([4, 8, 8, 2], rng=np.random.default_rng(3), output_gain=0.01)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias",
                     "layers.4.weight", "layers.4.bias"]
    assert net.num_parameters() == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 2 + 2
    assert isinstance(net.layers[1], Tanh)
    head = net.layers[4].weight.data
    np.testing.assert_allclose(head.T @ head, 1e-4 * np.eye(2), atol=1e-14)
    hidden = net.layers[2].weight.data
    np.testing.assert_allclose(hidden.T @ hidden, 2.0 * np.eye(8), atol=1e-12)


def test_mlp_policy_loss_gradient_matches_finite_differences():
    """The composite test: every parameter of a 3-5-4-3 tanh MLP under a policy-gradient loss."""
    rng = np.random.default_rng(4)
    net = MLP([3, 5, 4, 3], rng=rng, output_gain=0.5)
    for p in net.parameters():                                # non-zero biases, to exercise them
        p.data = p.data + 0.1 * rng.standard_normal(p.shape)
    x = rng.standard_normal((6, 3))
    actions = rng.integers(0, 3, size=6)
    advantages = rng.standard_normal(6)

    def loss():
        dist = Categorical(net(Tensor(x)))
        return -(dist.log_prob(actions) * Tensor(advantages)).mean() - 0.01 * dist.entropy().mean()

    net.zero_grad()
    loss().backward()
    h = 1e-6
    for name, p in net.named_parameters():
        numeric = np.zeros_like(p.data)
        for i in np.ndindex(p.shape):
            old = p.data[i]
            p.data[i] = old + h
            plus = loss().item()
            p.data[i] = old - h
            minus = loss().item()
            p.data[i] = old
            numeric[i] = (plus - minus) / (2 * h)
        assert relative_error(p.grad, numeric) < 1e-6, name


def test_state_dict_round_trip_and_copy_semantics():
    a = MLP([3, 4, 2], rng=np.random.default_rng(5))
    b = MLP([3, 4, 2], rng=np.random.default_rng(6))
    x = Tensor(np.random.default_rng(7).standard_normal((5, 3)))
    assert not np.allclose(a(x).data, b(x).data)
    state = a.state_dict()
    b.load_state_dict(state)
    np.testing.assert_array_equal(a(x).data, b(x).data)
    state["layers.0.weight"][:] = 0.0                        # the state is a copy...
    assert np.any(a.layers[0].weight.data != 0.0)
    a.layers[0].bias.data[:] = 1.0                            # ...and loading copied the values
    assert np.all(b.layers[0].bias.data == 0.0)


def test_load_state_dict_names_missing_unexpected_and_misshaped_parameters():
    net = MLP([3, 4, 2], rng=np.random.default_rng(8))
    state = net.state_dict()
    missing = {k: v for k, v in state.items() if k != "layers.2.bias"}
    with pytest.raises(KeyError, match="layers.2.bias"):
        net.load_state_dict(missing)
    with pytest.raises(KeyError, match="extra.weight"):
        net.load_state_dict({**state, "extra.weight": np.zeros(1)})
    with pytest.raises(ValueError, match=r"layers.0.weight.*\(3, 4\).*\(4, 3\)"):
        net.load_state_dict({**state, "layers.0.weight": np.zeros((4, 3))})
    net.load_state_dict(missing, strict=False)               # non-strict: load what is there


def test_parameter_discovery_zero_grad_and_train_flag():
    class Net(Module):
        def __init__(self):
            self.body = Sequential(Linear(2, 3, rng=np.random.default_rng(0)), Tanh())
            self.heads = [Linear(3, 1, rng=np.random.default_rng(1)), Linear(3, 2, rng=np.random.default_rng(2))]
            self.log_std = Tensor(np.zeros(2), requires_grad=True)
            self.constant = Tensor(np.ones(2))                # no grad: not a parameter

        def forward(self, x):
            h = self.body(x)
            return self.heads[0](h), self.heads[1](h) + self.log_std

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["body.layers.0.weight", "body.layers.0.bias", "heads.0.weight", "heads.0.bias",
                     "heads.1.weight", "heads.1.bias", "log_std"]
    v, pi = net(Tensor(np.ones((4, 2))))
    (v.sum() + pi.sum()).backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.eval()
    assert all(not m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_dicts_of_modules_are_searched_and_shared_parameters_count_once():
    class Heads(Module):
        def __init__(self):
            rng = np.random.default_rng(9)
            self.trunk = Linear(2, 3, rng=rng)
            self.heads = {"pi": Linear(3, 2, rng=rng), "v": Linear(3, 1, rng=rng)}
            self.also_trunk = self.trunk                      # the same layer under a second name
            self.pair = [[Linear(1, 1, rng=rng)]]             # nested containers are searched too

    net = Heads()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["trunk.weight", "trunk.bias", "heads.pi.weight", "heads.pi.bias", "heads.v.weight",
                     "heads.v.bias", "pair.0.0.weight", "pair.0.0.bias"]
    assert len(net.parameters()) == len({id(p) for p in net.parameters()}) == 8
    assert len(list(net.modules())) == 5                     # net, trunk, pi, v, the nested Linear
    restored = Heads()
    restored.load_state_dict(net.state_dict())
    np.testing.assert_array_equal(restored.heads["v"].weight.data, net.heads["v"].weight.data)


def test_float32_network_trains_in_float32():
    net = MLP([3, 8, 2], rng=np.random.default_rng(10), dtype=np.float32)
    x = Tensor(np.random.default_rng(11).standard_normal((5, 3)).astype(np.float32))
    out = net(x)
    assert out.dtype == np.float32
    (out * out).mean().backward()
    assert all(p.dtype == np.float32 and p.grad.dtype == np.float32 for p in net.parameters())


@pytest.mark.parametrize("activation", ["tanh", "relu", "identity"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_array_equals_forward_bit_for_bit(activation, dtype):
    rng = np.random.default_rng(0)
    net = MLP([3, 8, 8, 2], rng=rng, activation=activation, dtype=dtype)
    x = rng.normal(size=(5, 3)).astype(dtype)
    out = net.forward_array(x)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, net(Tensor(x)).data)


def test_frozen_passes_gradients_through_and_restores_each_flag():
    from minirl.nn import MLP, frozen
    net = MLP([2, 3, 1], rng=np.random.default_rng(0))
    params = net.parameters()
    params[0].requires_grad = False                      # one parameter was frozen before: it stays so
    x = Tensor(np.ones((4, 2)), requires_grad=True)
    with frozen(net):
        assert not any(p.requires_grad for p in params)
        net(x).sum().backward()
    assert x.grad is not None and np.abs(x.grad).sum() > 0, "the gradient passes through the frozen net"
    assert all(p.grad is None for p in params), "no weight gradient inside the block"
    assert [p.requires_grad for p in params] == [False] + [True] * (len(params) - 1)
