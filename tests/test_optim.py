"""Tests of minirl.optim against hand-worked updates."""

import numpy as np
import pytest

from minirl.autograd import Tensor
from minirl.optim import SGD, Adam, LinearSchedule, clip_grad_norm_, global_grad_norm


def param(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def test_plain_sgd():
    p = param([1.0, -2.0])
    opt = SGD([p], lr=0.1)
    p.grad = np.array([0.5, -1.0])
    opt.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 + 0.1], rtol=1e-15)


def test_sgd_momentum_by_hand():
    """v1 = g1 = 1;  v2 = 0.9 * 1 + 2 = 2.9;  v3 = 0.9 * 2.9 - 1 = 1.61; theta -= 0.1 v each step."""
    p = param([0.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    expected = [-0.1, -0.1 - 0.29, -0.1 - 0.29 - 0.161]
    for g, want in zip([1.0, 2.0, -1.0], expected):
        p.grad = np.array([g])
        opt.step()
        np.testing.assert_allclose(p.data, [want], rtol=1e-14)


def test_adam_hand_worked_two_steps():
    """lr 0.1, betas (0.9, 0.999), eps 1e-8, theta0 = 1, gradients 2 then -1.

    step 1: m = 0.2, v = 0.004, m_hat = 0.2 / 0.1 = 2, v_hat = 0.004 / 0.001 = 4
            theta1 = 1 - 0.1 * 2 / (2 + 1e-8)
    step 2: m = 0.9 * 0.2 + 0.1 * (-1) = 0.08, v = 0.999 * 0.004 + 0.001 * 1 = 0.004996
            m_hat = 0.08 / 0.19, v_hat = 0.004996 / 0.001999
            theta2 = theta1 - 0.1 * m_hat / (sqrt(v_hat) + 1e-8)
    """
    p = param([1.0])
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    p.grad = np.array([2.0])
    opt.step()
    theta1 = 1 - 0.1 * 2 / (2 + 1e-8)
    np.testing.assert_allclose(p.data, [theta1], rtol=1e-14)
    np.testing.assert_allclose(opt.m[0], [0.2], rtol=1e-14)
    np.testing.assert_allclose(opt.v[0], [0.004], rtol=1e-14)
    p.grad = np.array([-1.0])
    opt.step()
    theta2 = theta1 - 0.1 * (0.08 / 0.19) / (np.sqrt(0.004996 / 0.001999) + 1e-8)
    np.testing.assert_allclose(p.data, [theta2], rtol=1e-13)
    assert opt.step_count == 2


def test_adam_eps_matters_for_tiny_gradients():
    """With g = 1e-6 the first step is lr * g / (|g| + eps): about lr for eps 1e-8, lr / 11 for eps 1e-5."""
    for eps, step in ((1e-8, 1e-6 / (1e-6 + 1e-8)), (1e-5, 1e-6 / (1e-6 + 1e-5))):
        p = param([0.0])
        opt = Adam([p], lr=1.0, eps=eps)
        p.grad = np.array([1e-6])
        opt.step()
        np.testing.assert_allclose(p.data, [-step], rtol=1e-9)


def test_optimisers_skip_parameters_without_gradient_and_keep_dtype():
    a = Tensor(np.ones(2, dtype=np.float32), requires_grad=True)
    b = param([5.0])
    for opt in (SGD([a, b], lr=0.1, momentum=0.5), Adam([a, b], lr=0.1)):
        a.grad, b.grad = np.ones(2, dtype=np.float32), None
        opt.step()
        np.testing.assert_array_equal(b.data, [5.0])
        assert a.data.dtype == np.float32


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.05, momentum=0.9), lambda ps: Adam(ps, lr=0.05)])
def test_optimizer_state_dict_resumes_the_same_trajectory(make):
    grads = [np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([-1.0, 3.0]), np.array([2.0, 0.0])]
    p = param([0.0, 0.0])
    opt = make([p])
    for g in grads:
        p.grad = g
        opt.step()
    q = param([0.0, 0.0])
    first = make([q])
    for g in grads[:2]:
        q.grad = g
        first.step()
    resumed = make([q])
    resumed.load_state_dict(first.state_dict())
    for g in grads[2:]:
        q.grad = g
        resumed.step()
    np.testing.assert_array_equal(q.data, p.data)


def test_clipping_scales_to_exactly_the_max_norm_and_keeps_the_direction():
    a, b = param([0.0, 0.0]), param([0.0])
    a.grad, b.grad = np.array([3.0, 0.0]), np.array([4.0])      # global norm 5
    before = clip_grad_norm_([a, b], max_norm=2.0)
    assert before == 5.0
    np.testing.assert_allclose(global_grad_norm([a, b]), 2.0, rtol=1e-15)
    np.testing.assert_allclose(np.concatenate([a.grad, b.grad]), [1.2, 0.0, 1.6], rtol=1e-15)


def test_clipping_leaves_small_gradients_alone_and_refuses_bad_input():
    a = param([0.0, 0.0])
    a.grad = np.array([0.3, 0.4])
    assert clip_grad_norm_([a, param([1.0])], max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a.grad, [0.3, 0.4])
    with pytest.raises(ValueError, match="max_norm.*0"):
        clip_grad_norm_([a], max_norm=0.0)
    a.grad = np.array([np.inf, 1.0])
    assert clip_grad_norm_([a], max_norm=1.0) == np.inf          # reported, gradients left as they are
    np.testing.assert_array_equal(a.grad, [np.inf, 1.0])
    a.grad = np.array([np.nan, 1.0])
    with pytest.raises(FloatingPointError, match="nan"):
        clip_grad_norm_([a], max_norm=1.0, error_if_nonfinite=True)


def test_linear_schedule():
    s = LinearSchedule(3e-4, 0.0, 100)
    assert s(0) == 3e-4 and s(100) == 0.0 and s(250) == 0.0 and s(-5) == 3e-4
    assert s(25) == pytest.approx(2.25e-4, rel=1e-14)
    assert LinearSchedule(1.0, 0.1, 10)(5) == pytest.approx(0.55, rel=1e-14)
    with pytest.raises(ValueError, match="total.*0"):
        LinearSchedule(1.0, 0.0, 0)


def test_optimizer_bad_arguments():
    with pytest.raises(ValueError, match="empty"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match="requires_grad"):
        Adam([Tensor(np.ones(2))])
    with pytest.raises(ValueError, match="lr=-1"):
        SGD([param([1.0])], lr=-1)
    with pytest.raises(ValueError, match="momentum.*1.5"):
        SGD([param([1.0])], lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="betas"):
        Adam([param([1.0])], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="eps"):
        Adam([param([1.0])], eps=0.0)


@pytest.mark.parametrize("make, match", [
    (lambda p: SGD(p, lr="0.1"), r"lr='0.1'"), (lambda p: SGD(p, lr=float("nan")), "lr=nan"),
    (lambda p: SGD(p, momentum="0.9"), "momentum.*'0.9'"), (lambda p: Adam(p, eps=float("nan")), "eps.*nan"),
    (lambda p: Adam(p, betas=(0.9,)), r"betas.*\(0.9,\)"), (lambda p: Adam(p, betas=(0.9, "0.99")), "betas")])
def test_optimizer_hyperparameters_of_the_wrong_type_or_not_finite_fail_in_one_line(make, match):
    with pytest.raises(ValueError, match=match) as e:
        make([param([1.0])])
    assert "\n" not in str(e.value)


def _adam_by_the_formula(values, grads, lr, b1=0.9, b2=0.999, eps=1e-8):
    """Adam written out per array, the paper's Algorithm 1, as the reference for the flat buffer."""
    theta = [np.array(v) for v in values]
    m = [np.zeros_like(v) for v in theta]
    v2 = [np.zeros_like(v) for v in theta]
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            m[i] = b1 * m[i] + (1 - b1) * g
            v2[i] = b2 * v2[i] + (1 - b2) * (g * g)
            theta[i] = theta[i] - lr * (m[i] / (1 - b1 ** t)) / (np.sqrt(v2[i] / (1 - b2 ** t)) + eps)
    return theta


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_flat_adam_equals_the_per_array_formula_bit_for_bit(dtype):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,), (4, 2), (2,)]
    values = [rng.normal(size=s).astype(dtype) for s in shapes]
    grads = [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(5)]
    params = [Tensor(v.copy(), requires_grad=True) for v in values]
    opt = Adam(params, lr=0.01)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = g
        opt.step()
    for p, want in zip(params, _adam_by_the_formula(values, grads, lr=0.01)):
        assert p.data.dtype == dtype
        np.testing.assert_array_equal(p.data, want)


def test_flat_adam_takes_over_a_rebound_parameter():
    """`p.data = new` (as Module.load_state_dict does) must not be lost or overwritten by the buffer."""
    a, b = param([1.0, 2.0]), param([3.0])
    opt = Adam([a, b], lr=0.1)
    a.data = np.array([10.0, 20.0])                       # rebound: no longer a view into the buffer
    a.grad, b.grad = np.array([1.0, -1.0]), np.array([0.0])
    opt.step()
    np.testing.assert_allclose(a.data, [10.0 - 0.1, 20.0 + 0.1], rtol=1e-7)   # first Adam step: lr * sign(g)
    np.testing.assert_allclose(b.data, [3.0])
    a.grad, b.grad = np.array([1.0, 1.0]), None           # one parameter without a gradient: per-array path
    opt.step()
    assert b.data[0] == 3.0 and a.data[1] < 20.0 + 0.1


def test_adam_with_mixed_dtypes_keeps_each_dtype():
    a = param([1.0])
    b = Tensor(np.array([1.0], dtype=np.float32), requires_grad=True)
    opt = Adam([a, b], lr=0.1)
    a.grad, b.grad = np.array([1.0]), np.array([1.0], dtype=np.float32)
    opt.step()
    assert a.data.dtype == np.float64 and b.data.dtype == np.float32
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.9], rtol=1e-6)


def test_adam_survives_deepcopy_and_pickle():
    """A copied optimiser must keep updating its (copied) parameters, not a detached buffer."""
    import copy
    import pickle
    for clone in (copy.deepcopy, lambda x: pickle.loads(pickle.dumps(x))):
        a = param([1.0, 2.0])
        opt = Adam([a], lr=0.1)
        a.grad = np.array([1.0, 1.0])
        opt.step()
        a2, opt2 = clone((a, opt))
        a2.grad = np.array([1.0, 1.0])
        opt2.step()
        assert np.all(a2.data < a.data - 0.05)                  # the copy moved its own parameter
        np.testing.assert_array_equal(opt2.state_dict()["m.0"], opt2.m[0])
        assert opt2.state_dict()["m.0"][0] > opt.state_dict()["m.0"][0]


def test_clipping_handles_shared_and_read_only_gradients():
    a, b = param([3.0, 0.0]), param([0.0, 4.0])
    shared = np.array([3.0, 4.0])
    a.grad, b.grad = shared, shared                              # one array for two parameters
    clip_grad_norm_([a, b], max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(np.concatenate([a.grad, b.grad])), 1.0, rtol=1e-12)  # once, not twice
    c = param([0.0, 0.0])
    c.grad = np.broadcast_to(np.array(10.0), (2,))               # read-only
    clip_grad_norm_([c], max_norm=1.0)
    np.testing.assert_allclose(np.linalg.norm(c.grad), 1.0, rtol=1e-12)


@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: Adam(ps, lr=0.1),
                                  lambda ps: Adam(ps + [Tensor(np.ones(1, np.float32), requires_grad=True)])])
def test_optimisers_refuse_a_parameter_listed_twice(make):
    """Listed twice, a parameter would be stepped twice per step (issue 12): refused, naming both positions."""
    a, b = param([1.0]), param([2.0])
    with pytest.raises(ValueError, match=r"parameter 2 is the same Tensor as parameter 0 .*list each parameter once") as e:
        make([a, b, a])
    assert "\n" not in str(e.value)


def test_gradient_norm_and_clipping_refuse_a_parameter_listed_twice():
    a, b = param([0.0]), param([0.0])
    a.grad, b.grad = np.array([3.0]), np.array([4.0])
    for fn in (global_grad_norm, lambda ps: clip_grad_norm_(ps, max_norm=1.0)):
        with pytest.raises(ValueError, match="parameter 2 is the same Tensor as parameter 0"):
            fn([a, b, a])
    np.testing.assert_array_equal([a.grad[0], b.grad[0]], [3.0, 4.0])     # refused before touching anything
    assert clip_grad_norm_(iter([a, b]), max_norm=10.0) == 5.0             # a generator still works
