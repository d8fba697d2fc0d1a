"""Lesson 01: backward rules of a tiny autograd (`lessons/autograd.py`).

Each test builds an output with the module's own `Tensor`, calls `out.backward(g)` with a known
upstream gradient g = dL/d(out), and compares the gradient that reaches the inputs with the chain
rule written out by hand. The last test checks a whole expression against finite differences.

    pytest -m lesson01                     # the reference implementation
    pytest --impl lessons -m lesson01      # your implementation
"""

import numpy as np
import pytest
from helpers import assert_close, hint_on_error

pytestmark = pytest.mark.lesson01


def leaf(m, values):
    return m.Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def grad_of(t, name):
    if t.grad is None:
        raise AssertionError(f"{name}.grad is None after backward: your backward rule returned None "
                             "for this input (return one gradient per input, in order)")
    return t.grad


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------ _unbroadcast

@pytest.mark.parametrize("grad_shape,shape", [((2, 3), (3,)), ((2, 3), (2, 1)), ((4, 2, 3), (2, 1)),
                                              ((2, 3), ()), ((2, 3), (1, 3))])
def test_unbroadcast_sums_over_broadcast_axes(lesson, grad_shape, shape):
    m = lesson("autograd")
    g = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape) + 1.0
    with hint_on_error("the gradient must have the input's shape: sum the added leading axes away, and "
                       "sum length-1 axes with keepdims=True (a reshape cannot shrink a stretched axis)",
                       name="_unbroadcast"):
        out = m._unbroadcast(g, shape)
    # the input was copied along the broadcast axes, so its gradient is the sum over those copies
    expected = g.sum(axis=tuple(range(g.ndim - len(shape))))
    expected = expected.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True).reshape(shape)
    assert np.shape(out) == shape, (
        f"_unbroadcast returned shape {np.shape(out)} for an input of shape {shape}: the gradient must "
        "have the input's shape (sum the added leading axes away, and sum length-1 axes with keepdims)")
    assert_close(out, expected, name="_unbroadcast",
                 hint="an input broadcast along an axis was used once per entry of that axis: sum g over it")


# ------------------------------------------------------------------ mul

def test_mul_backward(lesson):
    m = lesson("autograd")
    rng = np.random.default_rng(0)
    a, b, g = leaf(m, rng.standard_normal((2, 3))), leaf(m, rng.standard_normal((2, 3))), rng.standard_normal((2, 3))
    with hint_on_error("d(ab)/da = b and d(ab)/db = a, each times the upstream g", name="mul backward"):
        (a * b).backward(g)
    ga, gb = grad_of(a, "a"), grad_of(b, "b")
    if np.allclose(ga, g * a.data) and not np.allclose(ga, g * b.data):
        raise AssertionError("a.grad is g * a, but d(ab)/da = b: each input's gradient uses the *other* input")
    if np.allclose(ga, b.data) and not np.allclose(g, 1.0):
        raise AssertionError("a.grad is b without the upstream gradient: multiply by g (the chain rule)")
    assert_close(ga, g * b.data, name="mul backward (a.grad)", hint="d(ab)/da = b, times the upstream g")
    assert_close(gb, g * a.data, name="mul backward (b.grad)", hint="d(ab)/db = a, times the upstream g")


def test_mul_backward_with_broadcasting(lesson):
    m = lesson("autograd")
    # mul's backward reduces a broadcast input's gradient with YOUR _unbroadcast: check that first, so
    # a wrong _unbroadcast is blamed, not mul
    probe = m._unbroadcast(np.arange(12.0).reshape(4, 3), (3,))
    if np.shape(probe) != (3,) or not np.allclose(probe, [18.0, 22.0, 26.0]):
        raise AssertionError(f"this test needs your _unbroadcast, which is wrong: _unbroadcast(arange(12)"
                             f".reshape(4, 3), (3,)) gave {probe!r}, expected [18, 22, 26]. Make "
                             "test_unbroadcast_sums_over_broadcast_axes pass first")
    rng = np.random.default_rng(1)
    a, b, g = leaf(m, rng.standard_normal((4, 3))), leaf(m, rng.standard_normal(3)), rng.standard_normal((4, 3))
    (a * b).backward(g)
    assert grad_of(b, "b").shape == (3,), (
        f"b has shape (3,) but b.grad has shape {b.grad.shape}: reduce the gradient to the input's shape "
        "with _unbroadcast")
    assert_close(a.grad, g * b.data, name="mul backward (a.grad)")
    assert_close(b.grad, (g * a.data).sum(axis=0), name="mul backward (b.grad)",
                 hint="b was broadcast over the 4 rows, so its gradient sums the 4 rows' contributions")


# ------------------------------------------------------------------ exp and tanh

def test_exp_backward(lesson):
    m = lesson("autograd")
    x, g = leaf(m, [-1.0, 0.0, 0.5, 2.0]), np.array([1.0, -2.0, 0.5, 3.0])
    with hint_on_error("d exp(x)/dx = exp(x) (the output itself), times g", name="exp backward"):
        x.exp().backward(g)
    assert_close(grad_of(x, "x"), g * np.exp(x.data), name="exp backward",
                 hint="d exp(x)/dx = exp(x) (the output itself), times g")


def test_tanh_backward(lesson):
    m = lesson("autograd")
    x, g = leaf(m, [-1.5, -0.2, 0.3, 1.0]), np.array([1.0, 2.0, -1.0, 0.5])
    with hint_on_error("d tanh(x)/dx = 1 - tanh(x)^2, times g", name="tanh backward"):
        x.tanh().backward(g)
    t = np.tanh(x.data)
    got = grad_of(x, "x")
    if np.allclose(got, g * (1 - t)):
        raise AssertionError("x.grad is g * (1 - tanh(x)): the derivative is 1 - tanh(x)^2 (did you forget to square?)")
    if np.allclose(got, g * (1 - x.data ** 2)):
        raise AssertionError("x.grad is g * (1 - x^2): square the output tanh(x), not the input x")
    assert_close(got, g * (1 - t * t), name="tanh backward", hint="d tanh(x)/dx = 1 - tanh(x)^2, times g")


# ------------------------------------------------------------------ matmul

@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((5, 2, 3), (5, 3, 4))])
def test_matmul_backward(lesson, sa, sb):
    m = lesson("autograd")
    rng = np.random.default_rng(2)
    a, b = leaf(m, rng.standard_normal(sa)), leaf(m, rng.standard_normal(sb))
    out = a @ b
    g = rng.standard_normal(out.shape)
    with hint_on_error("dL/dA = G B^T has A's shape and dL/dB = A^T G has B's shape (check which factor is "
                       "transposed; swap the last two axes with np.swapaxes(X, -1, -2), not .T)",
                       name="matmul backward"):
        out.backward(g)
    # promote 1-D operands to matrices, as numpy's @ does, then C = A B => dA = G B^T, dB = A^T G
    A = a.data[None, :] if a.ndim == 1 else a.data
    B = b.data[:, None] if b.ndim == 1 else b.data
    G = np.expand_dims(g, -2) if a.ndim == 1 else g
    G = np.expand_dims(G, -1) if b.ndim == 1 else G
    expected_a = (G @ np.swapaxes(B, -1, -2)).reshape(sa)
    expected_b = (np.swapaxes(A, -1, -2) @ G).reshape(sb)
    assert grad_of(a, "a").shape == sa and grad_of(b, "b").shape == sb, (
        f"gradient shapes {a.grad.shape} and {b.grad.shape}, expected {sa} and {sb}: dL/dA = G B^T has A's "
        "shape and dL/dB = A^T G has B's shape (check which factor is transposed)")
    assert_close(a.grad, expected_a, name="matmul backward (a.grad)", hint="dL/dA = G @ B^T")
    assert_close(b.grad, expected_b, name="matmul backward (b.grad)", hint="dL/dB = A^T @ G")


# ------------------------------------------------------------------ sum

@pytest.mark.parametrize("axis,keepdims", [(None, False), (None, True), (0, False), (1, False), (-1, True),
                                           ((0, 2), False)])
def test_sum_backward(lesson, axis, keepdims):
    m = lesson("autograd")
    rng = np.random.default_rng(3)
    x = leaf(m, rng.standard_normal((2, 3, 4)))
    out = x.sum(axis=axis, keepdims=keepdims)
    g = rng.standard_normal(out.shape)
    try:
        out.backward(g)
    except ValueError as exc:
        raise AssertionError(
            f"backward of sum(axis={axis}, keepdims={keepdims}) failed: {exc}. With keepdims=False the summed "
            "axes are gone from g: put them back with np.expand_dims(g, axis) before broadcasting") from exc
    # every summed entry receives the upstream gradient of the sum it went into
    expected = np.broadcast_to(g if keepdims or axis is None else np.expand_dims(g, axis), (2, 3, 4))
    assert grad_of(x, "x").shape == (2, 3, 4), (
        f"x.grad has shape {x.grad.shape}, expected (2, 3, 4): broadcast g back to the input's shape "
        "(after re-inserting the summed axes when keepdims=False)")
    assert_close(x.grad, expected, name=f"sum(axis={axis}, keepdims={keepdims}) backward",
                 hint="d sum/dx_i = 1: x.grad is g repeated along the summed axes; with keepdims=False "
                      "first put the summed axes back (np.expand_dims), else g lines up with the wrong axis")


# ------------------------------------------------------------------ log_softmax

@pytest.mark.parametrize("axis", [-1, 0])
def test_log_softmax_backward(lesson, axis):
    m = lesson("autograd")
    rng = np.random.default_rng(4)
    x, g = leaf(m, 2 * rng.standard_normal((3, 4))), rng.standard_normal((3, 4))
    with hint_on_error("dL/dx = g - softmax(x) * sum_j g_j, summing over the same axis as the softmax",
                       name=f"log_softmax(axis={axis}) backward"):
        x.log_softmax(axis=axis).backward(g)
    p = softmax(x.data, axis=axis)
    got = grad_of(x, "x")
    if np.allclose(got, g):
        raise AssertionError("x.grad equals g: the -softmax(x) * sum(g) term is missing "
                             "(every output depends on every input through the normaliser)")
    if np.allclose(got, g - p * g):
        raise AssertionError("x.grad is g - softmax * g: the second term sums g over the softmax axis, "
                             "g - softmax(x) * sum_j g_j")
    assert_close(got, g - p * g.sum(axis=axis, keepdims=True), name=f"log_softmax(axis={axis}) backward",
                 hint="dL/dx = g - softmax(x) * sum_j g_j, summing over the same axis as the softmax")


# ------------------------------------------------------------------ everything together

def test_a_small_network_matches_finite_differences(lesson):
    m = lesson("autograd")
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 5)), rng.standard_normal(5)]
    weights = rng.standard_normal((4, 5))

    def loss(x, w, b):
        return ((x @ w + b).tanh().log_softmax(axis=-1) * m.Tensor(weights)).exp().sum()

    tensors = [leaf(m, a) for a in arrays]
    loss(*tensors).backward()
    h = 1e-6
    for k, (name, t) in enumerate(zip(["x", "w", "b"], tensors)):
        numeric = np.zeros_like(arrays[k])
        for i in np.ndindex(arrays[k].shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[k][i] += h
            minus[k][i] -= h
            numeric[i] = (loss(*map(m.Tensor, plus)).item() - loss(*map(m.Tensor, minus)).item()) / (2 * h)
        assert_close(grad_of(t, name), numeric, name=f"network (gradient of {name})",
                     rtol=1e-6, atol=1e-8,
                     hint="this test combines every rule of lesson 01 (and _unbroadcast, for the bias b): "
                          "make the single-rule tests pass first; if they all pass, look at how the "
                          "gradients from two uses of the same tensor add up")
