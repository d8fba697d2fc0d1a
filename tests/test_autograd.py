"""Tests of minirl.autograd: every operation against float64 central differences, plus the
engine's behaviour (accumulation, no_grad, dtypes) and its error messages.

The checked scalar is sum(op(x) * W) with a fixed random W, so that an operation whose outputs
always sum to a constant (softmax) still has a non-trivial gradient to check.
"""

import numpy as np
import pytest

from minirl.autograd import (Tensor, concatenate, is_grad_enabled, linear, maximum, minimum, no_grad,
                             stack, straight_through, tensor, where)
from minirl.gradcheck import gradient_check, numerical_gradient, relative_error

TOL = 1e-6


def check(op, *arrays, seed=0):
    """Assert that autograd and central differences agree on sum(op(*xs) * W) for every input."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    out_shape = op(*[Tensor(a) for a in arrays]).shape
    w = np.random.default_rng(seed).standard_normal(out_shape)
    errors = gradient_check(lambda *ts: op(*ts) * Tensor(w), arrays)
    assert max(errors) < TOL, f"relative errors {errors} for input shapes {[a.shape for a in arrays]}"


def away_from_zero(rng, shape, low=0.2, high=2.0):
    """Random values with |x| in [low, high]: far from the kinks of relu/abs/clip."""
    return rng.uniform(low, high, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng, shape):
    """Values with no two entries within 0.05 of each other (max/min/minimum have no ties)."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.1 + rng.uniform(0, 0.05, n)).reshape(shape) - 0.05 * n


# ------------------------------------------------------------------ broadcasting patterns

def random_broadcast_pair(rng):
    """Two shapes that broadcast together: drop leading axes and set axes to 1 at random."""
    ndim = int(rng.integers(0, 4))
    base = tuple(int(n) for n in rng.integers(2, 4, size=ndim))

    def variant():
        keep = int(rng.integers(0, ndim + 1))
        shape = list(base[ndim - keep:])
        for i in range(len(shape)):
            if rng.random() < 0.3:
                shape[i] = 1
        return tuple(shape)

    return variant(), variant()


FIXED_PAIRS = [((), ()), ((3,), ()), ((), (3,)), ((2, 3), (3,)), ((3,), (2, 3)), ((2, 3), (2, 1)),
               ((2, 1), (1, 3)), ((4, 1, 3), (2, 1)), ((1,), (2, 3)), ((2, 3), (2, 3))]
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a ** b,
    "minimum": minimum,
    "maximum": maximum,
    "where": lambda a, b: where(a.data > 0.5, a, b),
}


def binary_inputs(name, rng, sa, sb):
    if name in ("div", "pow"):                      # positive base / denominator
        return rng.uniform(0.5, 2.0, sa), rng.uniform(0.5, 2.0, sb)
    if name in ("minimum", "maximum"):              # no ties between the two operands
        a = rng.uniform(0, 1, sa)
        return a, np.broadcast_to(rng.uniform(0, 1, sb), sb) + 2.0 * (rng.random(sb) < 0.5) - 1.0
    return rng.standard_normal(sa), rng.standard_normal(sb)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_every_broadcast_pattern(name):
    rng = np.random.default_rng(1)
    pairs = FIXED_PAIRS + [random_broadcast_pair(rng) for _ in range(12)]
    for sa, sb in pairs:
        check(BINARY[name], *binary_inputs(name, rng, sa, sb))


def test_binary_ops_with_constants_on_either_side():
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 2.0, (2, 3))
    for op in (lambda t: 2.0 + t, lambda t: t + 2.0, lambda t: 2.0 - t, lambda t: t - 2.0, lambda t: 3.0 * t,
               lambda t: t * np.arange(3.0), lambda t: np.arange(3.0) * t, lambda t: 1.5 / t,
               lambda t: t / 1.5, lambda t: t ** 3, lambda t: t ** -0.5, lambda t: 2.0 ** t,
               lambda t: t ** np.array([1.0, 2.0, 3.0]), lambda t: -t):
        check(op, x)


# ------------------------------------------------------------------ matmul and linear

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                 ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 4)),
                 ((5, 2, 3), (3,))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(sa, sb):
    rng = np.random.default_rng(3)
    check(lambda a, b: a @ b, rng.standard_normal(sa), rng.standard_normal(sb))


def test_matmul_with_plain_array_on_either_side():
    rng = np.random.default_rng(4)
    m = rng.standard_normal((3, 3))
    x = rng.standard_normal((2, 3))
    check(lambda t: t @ m, x)
    check(lambda t: m @ t.T, x)


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 5, 3)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear(x_shape, with_bias):
    rng = np.random.default_rng(5)
    inputs = [rng.standard_normal(x_shape), rng.standard_normal((3, 4))]
    if with_bias:
        inputs.append(rng.standard_normal(4))
    check(lambda *ts: linear(*ts), *inputs)
    out = linear(*[Tensor(a) for a in inputs])
    expected = inputs[0] @ inputs[1] + (inputs[2] if with_bias else 0)
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)


# ------------------------------------------------------------------ elementwise functions

UNARY = {
    "exp": (lambda t: t.exp(), "normal"),
    "log": (lambda t: t.log(), "positive"),
    "tanh": (lambda t: t.tanh(), "normal"),
    "relu": (lambda t: t.relu(), "kinked"),
    "sigmoid": (lambda t: t.sigmoid(), "normal"),
    "softplus": (lambda t: t.softplus(), "normal"),
    "sqrt": (lambda t: t.sqrt(), "positive"),
    "abs": (lambda t: t.abs(), "kinked"),
    "square": (lambda t: t.square(), "normal"),
    "sin": (lambda t: t.sin(), "normal"),
    "cos": (lambda t: t.cos(), "normal"),
    "clip": (lambda t: t.clip(-1.0, 1.0), "kinked"),
    "clip_low": (lambda t: t.clip(low=-1.0), "kinked"),
    "clip_high": (lambda t: t.clip(high=1.0), "kinked"),
    "neg": (lambda t: -t, "normal"),
    "astype": (lambda t: t.astype(np.float64) * 2.0, "normal"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
def test_unary_ops(name, shape):
    op, domain = UNARY[name]
    rng = np.random.default_rng(6)
    if domain == "positive":
        x = rng.uniform(0.3, 3.0, shape)
    elif domain == "kinked":
        x = away_from_zero(rng, shape, 0.1, 0.9) + np.where(rng.random(shape) < 0.3, 1.0, 0.0) * np.sign(
            away_from_zero(rng, shape))            # some entries beyond the clip bounds (|x| > 1.1)
    else:
        x = rng.standard_normal(shape)
    check(op, x)


def test_elementwise_values():
    x = np.array([-2.0, -0.5, 0.0, 0.5, 3.0])
    t = Tensor(x)
    np.testing.assert_allclose(t.sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(t.softplus().data, np.log1p(np.exp(x)), rtol=1e-14)
    np.testing.assert_array_equal(t.relu().data, np.maximum(x, 0))
    np.testing.assert_array_equal(t.clip(-1, 1).data, np.clip(x, -1, 1))


def test_relu_abs_clip_gradients_at_the_kinks():
    x = Tensor(np.array([-1.0, 0.0, 1.0, 2.0]), requires_grad=True)
    (x.relu() + x.abs() + x.clip(-1.0, 1.0)).sum().backward()
    # relu'(0) = 0 and |x|'(0) = 0 by convention; clip passes the gradient at and inside its bounds
    np.testing.assert_array_equal(x.grad, [0 - 1 + 1, 0 + 0 + 1, 1 + 1 + 1, 1 + 1 + 0])


def test_clip_one_sided_keeps_dtype_and_refuses_no_bounds():
    x = np.array([-2.0, 0.5, 3.0], dtype=np.float32)
    np.testing.assert_array_equal(Tensor(x).clip(low=0.0).data, np.clip(x, 0.0, None))
    np.testing.assert_array_equal(Tensor(x).clip(high=1.0).data, np.clip(x, None, 1.0))
    assert Tensor(x).clip(0.8, 1.2).dtype == np.float32
    with pytest.raises(ValueError, match="clip"):
        Tensor(x).clip()
    np.testing.assert_array_equal(Tensor(np.array([1, 2, 3])).clip(1.5, 2.5).data, [1.5, 2.0, 2.5])


# ------------------------------------------------------------------ reductions

AXIS_CASES = [None, 0, 1, 2, -1, -2, (0, 2), (-1, 0), (0, 1, 2)]
REDUCTIONS = {
    "sum": lambda t, axis, k: t.sum(axis=axis, keepdims=k),
    "mean": lambda t, axis, k: t.mean(axis=axis, keepdims=k),
    "max": lambda t, axis, k: t.max(axis=axis, keepdims=k),
    "min": lambda t, axis, k: t.min(axis=axis, keepdims=k),
    "var": lambda t, axis, k: t.var(axis=axis, keepdims=k),
    "logsumexp": lambda t, axis, k: t.logsumexp(axis=axis, keepdims=k),
}
NUMPY_REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "var": np.var}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_every_axis_and_keepdims(name, keepdims):
    rng = np.random.default_rng(7)
    x = distinct(rng, (2, 3, 4))
    for axis in AXIS_CASES:
        op = lambda t, axis=axis: REDUCTIONS[name](t, axis, keepdims)   # noqa: E731
        check(op, x)
        if name in NUMPY_REDUCTIONS:
            expected = NUMPY_REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
        else:
            m = x.max(axis=axis, keepdims=True)
            expected = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
            expected = expected if keepdims else np.squeeze(expected, axis=axis)
        got = op(Tensor(x)).data
        assert got.shape == np.shape(expected), f"{name} axis={axis}: shape {got.shape} != {np.shape(expected)}"
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_reductions_of_vectors_and_scalars():
    rng = np.random.default_rng(8)
    for name in REDUCTIONS:
        if name == "var":
            continue
        check(lambda t: REDUCTIONS[name](t, None, False), distinct(rng, (5,)))
        check(lambda t: REDUCTIONS[name](t, -1, False), distinct(rng, (5,)))
    check(lambda t: t.sum(), np.array(1.5))


def test_max_ties_share_the_gradient_equally():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 0]])


def test_logsumexp_is_stable_for_large_and_infinite_inputs():
    x = Tensor(np.array([[1000.0, 1000.0], [-np.inf, 0.0]]), requires_grad=True)
    out = x.logsumexp(axis=1)
    np.testing.assert_allclose(out.data, [1000.0 + np.log(2.0), 0.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5], [0.0, 1.0]])


# ------------------------------------------------------------------ softmax family

@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1), ((2, 3, 4), -1)])
def test_softmax_family(op, shape, axis):
    rng = np.random.default_rng(9)
    x = 3 * rng.standard_normal(shape)
    check(lambda t: getattr(t, op)(axis=axis), x)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    got = getattr(Tensor(x), op)(axis=axis).data
    np.testing.assert_allclose(got, p if op == "softmax" else np.log(p), rtol=1e-12, atol=1e-14)


def test_log_softmax_of_huge_logits_is_finite():
    out = Tensor(np.array([1e4, 0.0, -1e4])).log_softmax()
    assert np.all(np.isfinite(out.data[:2])) and out.data[0] == 0.0


# ------------------------------------------------------------------ shapes and indexing

def test_reshape_transpose():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 4))
    check(lambda t: t.reshape(6, 4), x)
    check(lambda t: t.reshape((4, -1)), x)
    check(lambda t: t.transpose(), x)
    check(lambda t: t.transpose(1, 2, 0), x)
    check(lambda t: t.transpose((2, 0, 1)), x)
    check(lambda t: t.transpose(-1, 0, 1), x)
    check(lambda t: t.reshape(6, 4).T, x)
    assert Tensor(x).transpose(-1, 0, 1).shape == (4, 2, 3)
    with pytest.raises(ValueError, match="permutation"):
        Tensor(x).transpose(0, 0, 1)


@pytest.mark.parametrize("key", [
    0, -1, slice(1, 3), (slice(None), 1), (Ellipsis, 0), (None, 1), ([0, 0, 2],), (np.array([2, 0, 2]), 1),
    (slice(None), np.array([1, 1, 0])), np.array([True, False, True]), (1, slice(None, None, -1)),
])
def test_getitem(key):
    rng = np.random.default_rng(11)
    check(lambda t: t[key], rng.standard_normal((3, 4)))


def test_getitem_with_repeated_indices_accumulates():
    x = Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize("shape,axis,index_shape", [((5, 4), 1, (5, 1)), ((5, 4), -1, (5, 3)), ((5, 4), 0, (2, 4)),
                                                    ((2, 3, 4), 2, (2, 3, 1)), ((2, 3, 4), 1, (2, 5, 4))])
def test_gather(shape, axis, index_shape):
    rng = np.random.default_rng(12)
    x = rng.standard_normal(shape)
    index = rng.integers(0, shape[axis], size=index_shape)       # repeats included
    check(lambda t: t.gather(index, axis=axis), x)
    np.testing.assert_array_equal(Tensor(x).gather(index, axis=axis).data, np.take_along_axis(x, index, axis))


def test_gather_errors():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(TypeError, match="integer"):
        x.gather(np.zeros((3, 1)), axis=1)
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 4\)"):
        x.gather(np.zeros(3, dtype=int), axis=1)
    with pytest.raises(IndexError, match=r"\[0, 4\)"):
        x.gather(np.full((3, 1), 4), axis=1)
    with pytest.raises(IndexError, match=r"got range \[-1, -1\]"):
        x.gather(np.full((3, 1), -1), axis=1)
    with pytest.raises(ValueError, match=r"\(2, 1\).*\(3, 4\)"):
        x.gather(np.zeros((2, 1), dtype=int), axis=1)


def test_gather_broadcasts_size_one_index_axes():
    rng = np.random.default_rng(18)
    x, index = rng.standard_normal((3, 4)), np.array([[2, 0]])     # (1, 2): the same picks in every row
    check(lambda t: t.gather(index, axis=1), x)
    np.testing.assert_array_equal(Tensor(x).gather(index, axis=1).data, x[:, [2, 0]])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis):
    rng = np.random.default_rng(13)
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    check(lambda x, y, z: concatenate([x, y, z], axis=axis), a, b, c)
    check(lambda x, y, z: stack([x, y, z], axis=axis), a, b, c)
    np.testing.assert_array_equal(concatenate([Tensor(a), b], axis=axis).data, np.concatenate([a, b], axis=axis))
    np.testing.assert_array_equal(stack([Tensor(a), b], axis=axis).data, np.stack([a, b], axis=axis))


def test_concatenate_unequal_lengths():
    rng = np.random.default_rng(14)
    check(lambda x, y: concatenate([x, y], axis=1), rng.standard_normal((2, 1)), rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match=r"\(2, 1\).*\(3, 4\)"):
        concatenate([Tensor(np.zeros((2, 1))), Tensor(np.zeros((3, 4)))], axis=1)


def test_where_broadcasts_condition_and_operands():
    rng = np.random.default_rng(15)
    cond = rng.random((2, 3)) < 0.5
    check(lambda a, b: where(cond, a, b), rng.standard_normal((3,)), rng.standard_normal((2, 1)))
    check(lambda a: where(cond, a, 0.0), rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        where(cond, Tensor(np.zeros(4)), 0.0)


def test_minimum_maximum_ties_go_to_first_argument():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    (minimum(a, b) + maximum(a, b)).sum().backward()
    np.testing.assert_array_equal(a.grad, [2.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.0, 1.0])


def test_composite_expression():
    rng = np.random.default_rng(16)

    def f(x, w, b):
        h = (x @ w + b).tanh()
        return (h.softmax(axis=-1) * h.sigmoid()).sum(axis=0).log() / (w.square().mean() + 1.0).sqrt()

    check(f, rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5))


# ------------------------------------------------------------------ engine behaviour

def test_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    (3 * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [5.0, 7.0])
    x.zero_grad()
    assert x.grad is None


def test_a_tensor_used_twice_gets_both_contributions_and_intermediates_keep_no_grad():
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True)
    y = x.exp()
    z = y * y + y            # dz/dx = (2 e^{2x} + e^x)
    z.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp(2 * x.data) + np.exp(x.data), rtol=1e-14)
    assert y.grad is None and z.grad is None


def test_leaf_gradients_are_private_writable_arrays():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.flags.writeable
    a.grad *= 2.0
    np.testing.assert_array_equal(b.grad, np.ones(3))


def test_backward_with_explicit_gradient():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (x * 2.0).backward(np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -2.0])


def test_no_grad_records_nothing_and_restores_state():
    x = Tensor(np.ones(2), requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = (x * 2).sum()
    assert is_grad_enabled()
    assert not y.requires_grad and y._parents == ()
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            1 / 0
    assert is_grad_enabled()


def test_detach_stops_the_gradient():
    x = Tensor(np.array([2.0]), requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0])      # not 4: the detached factor is a constant


def test_straight_through_value_and_gradient():
    s = Tensor(np.array([0.2, 0.8]), requires_grad=True)
    out = straight_through(np.array([0.0, 1.0]), s)
    np.testing.assert_array_equal(out.data, [0.0, 1.0])
    (out * Tensor(np.array([3.0, 5.0]))).sum().backward()
    np.testing.assert_array_equal(s.grad, [3.0, 5.0])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        straight_through(np.zeros(3), s)


def test_a_long_chain_does_not_hit_the_recursion_limit():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(5000):
        y = y + x
    y.backward()
    assert x.grad == 5001.0


def test_float32_stays_float32_and_matches_float64():
    rng = np.random.default_rng(17)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)]

    def run(dtype):
        ts = [Tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        x, w, b = ts
        h = linear(x, w, b).tanh()
        loss = (h.log_softmax(axis=-1) * 0.5 + where(h.data > 0, h, 0.0) - maximum(h, 0.1)).mean() + (x @ w).var()
        loss = loss + h.logsumexp(axis=-1).sum() + h.max(axis=0).sum() + h.sigmoid().sqrt().sum() / 2.0
        loss.backward()
        return loss, ts

    loss32, ts32 = run(np.float32)
    loss64, ts64 = run(np.float64)
    assert loss32.dtype == np.float32
    for t32, t64 in zip(ts32, ts64):
        assert t32.grad.dtype == np.float32
        np.testing.assert_allclose(t32.grad, t64.grad, rtol=1e-4, atol=1e-5)


def test_max_and_min_pass_float32_gradients_on():
    """A reduction's backward must keep the gradient's dtype: a float64 gradient flowing into float32
    layers makes every later matrix product mix dtypes (NumPy's slow path) without any error."""
    x = Tensor(np.array([[1.0, 3.0], [2.0, 0.5]], dtype=np.float32), requires_grad=True)
    seen = []
    y = Tensor._make(x.data * 1, (x,), lambda g: (seen.append(g.dtype) or g,), "probe")
    (y.min(axis=0).sum() + y.max(axis=1).sum() + y.max()).backward()
    assert seen == [np.dtype(np.float32)]


# ------------------------------------------------------------------ construction and errors

def test_integer_data_cannot_require_grad():
    with pytest.raises(TypeError, match="int64"):
        Tensor(np.array([1, 2]), requires_grad=True)
    t = tensor([1, 2], requires_grad=True)           # the `tensor` helper converts to float64
    assert t.dtype == np.float64 and t.requires_grad


def test_broadcast_mismatch_names_both_shapes():
    a, b = Tensor(np.zeros((2, 3))), Tensor(np.zeros((4,)))
    for op in (lambda: a + b, lambda: a - b, lambda: a * b, lambda: a / b, lambda: a ** b):
        with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
            op()


def test_matmul_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        Tensor(np.zeros((2, 3))) @ Tensor(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"\(2, 2, 3\) @ \(3, 3, 5\)"):
        Tensor(np.zeros((2, 2, 3))) @ Tensor(np.zeros((3, 3, 5)))
    with pytest.raises(ValueError, match=r"\(\) and \(3,\)"):
        Tensor(np.array(1.0)) @ Tensor(np.zeros(3))
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        linear(Tensor(np.zeros((2, 3))), Tensor(np.zeros((4, 5))))


def test_backward_on_non_scalar_needs_a_gradient():
    y = Tensor(np.ones((2, 2)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*\(2, 2\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 2\)"):
        y.backward(np.ones(3))


def test_gradcheck_catches_a_wrong_rule():
    """The checker itself can fail: a deliberately wrong derivative is detected."""
    x = np.array([0.3, -0.7])

    def wrong_square(t):
        return Tensor._make(t.data ** 2, (t,), lambda g: (g * t.data,), "wrong_square")   # misses the 2

    assert max(gradient_check(wrong_square, [x])) > 0.1
    np.testing.assert_allclose(numerical_gradient(lambda t: t * t, [x], 0), 2 * x, rtol=1e-8)
    assert relative_error(np.array([1.0]), np.array([1.0 + 1e-9])) < 1e-8


@pytest.mark.parametrize("data, kind", [("abc", "dtype <U3"), (None, "dtype object"), ([1.0, None], "dtype object"),
                                        ([[1, 2], [3]], "a ragged list"), (1 + 2j, "dtype complex128"),
                                        (np.array(["0.5"]), "dtype <U3")])
def test_tensor_refuses_data_that_is_not_real_numbers_in_one_line(data, kind):
    """Before (issue 12): Tensor("abc") was accepted and failed later, deep inside an operation."""
    with pytest.raises(TypeError, match=f"Tensor: data must be real numbers .*\\({kind}\\)") as e:
        Tensor(data)
    assert "\n" not in str(e.value)
    assert Tensor(True).data.dtype == np.bool_ and Tensor([1, 2]).data.dtype == np.int64   # numbers still pass
