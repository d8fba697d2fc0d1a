"""The gradient-estimator lab: every estimator against the exact gradient, the known variances,
where pathwise fails, bad input, and a fast run of `minirl estimators`.

Statistical checks compare a Monte Carlo mean with the exact value within 4 standard errors (seeded,
so each run is deterministic; 4 SE keeps an honest estimator from failing by bad luck).
"""

from __future__ import annotations

import csv
import os

import numpy as np
import pytest

from minirl.autograd import Tensor
from minirl.distributions import Normal
from minirl.estimators import (BlackBoxError, categorical_gradients, exact_categorical_gradient,
                               normal_gradients, pathwise_objective, quadrature_normal_gradient,
                               reparameterise, score_function_surrogate)
from minirl.experiments import estimator_lab as lab
from minirl.gradcheck import gradient_check

MEAN, LOG_STD = np.array([1.0, -0.5]), np.array([0.0, np.log(0.7)])


def assert_within_se(estimates, exact, n_se=4.0, what=""):
    """Mean of the (B, D) estimates equals `exact` (D,) within n_se standard errors, per coordinate."""
    estimates = np.asarray(estimates)
    mean = estimates.mean(axis=0)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(estimates.shape[0])
    z = np.abs(mean - exact) / np.maximum(se, 1e-12)
    assert np.all(z < n_se), f"{what}: mean {mean} vs exact {exact}, off by {z} standard errors ({se})"


# ------------------------------------------------------------------------------ exact gradients
@pytest.mark.parametrize("f,rtol", [(lab.Quadratic(-1.0), 1e-9), (lab.Cosine(1.5), 1e-9),
                                    (lab.Step(0.3), 1e-4)])   # a jump: the trapezoid rule is first order
def test_closed_form_gradients_match_quadrature(f, rtol):
    gm, gs = f.exact_gradient([0.4], [np.log(0.8)])
    qm, qs = quadrature_normal_gradient(f, 0.4, 0.8)
    np.testing.assert_allclose([gm[0], gs[0]], [qm, qs], rtol=rtol, atol=1e-12)


def test_quadrature_gradient_matches_finite_difference_of_the_expectation():
    f, h = lab.StiffSigmoid(20.0, 0.2), 1e-5

    def expectation(mu, std):
        z = np.linspace(-12, 12, 400_001)
        return np.trapezoid(f((mu + std * z)[:, None]) * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi), z)

    gm, gs = quadrature_normal_gradient(f, 0.1, 0.6)
    fd_mean = (expectation(0.1 + h, 0.6) - expectation(0.1 - h, 0.6)) / (2 * h)
    fd_log_std = (expectation(0.1, 0.6 * np.exp(h)) - expectation(0.1, 0.6 * np.exp(-h))) / (2 * h)
    np.testing.assert_allclose([gm, gs], [fd_mean, fd_log_std], rtol=1e-6)


def test_exact_categorical_gradient_is_p_times_centred_values():
    p, v = np.array([0.1, 0.6, 0.3]), np.array([2.0, -1.0, 5.0])
    got = exact_categorical_gradient(lab.LinearCategorical(tuple(v)), np.log(p) + 3.0)   # logits shift-invariant
    np.testing.assert_allclose(got, p * (v - p @ v), atol=1e-12)
    # and central differences of sum_k softmax(logits)_k v_k
    h, logits, fd = 1e-6, np.log(p), np.zeros(3)
    for i in range(3):
        e = np.eye(3)[i] * h
        fd[i] = ((np.exp(logits + e) / np.exp(logits + e).sum()) @ v
                 - (np.exp(logits - e) / np.exp(logits - e).sum()) @ v) / (2 * h)
    np.testing.assert_allclose(got, fd, atol=1e-8)


# ------------------------------------------------------------------------------ float64 gradient checks
def test_pathwise_objective_gradient_check():
    eps = np.random.default_rng(0).standard_normal((3, 4, 2))
    for f in (lab.Quadratic(0.5), lab.Cosine(1.3), lab.StiffSigmoid(3.0, 0.1), lab.LogisticMap(3)):
        errors = gradient_check(lambda m, s: pathwise_objective(m, s, eps, f),
                                [np.tile(MEAN, (3, 1, 1)), np.tile(LOG_STD, (3, 1, 1))])
        assert max(errors) < 1e-6, (f, errors)


def test_score_function_surrogate_gradient_check():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5, 2))
    fx = lab.Quadratic(0.5)(x)                                            # (3, 5)
    for baseline in ("none", "mean", "loo"):
        def surrogate(m, s):
            dist = Normal(m + Tensor(np.zeros(x.shape)), s)
            return score_function_surrogate(dist.log_prob(x), fx, baseline)
        errors = gradient_check(surrogate, [np.tile(MEAN, (3, 1, 1)), np.tile(LOG_STD, (3, 1, 1))])
        assert max(errors) < 1e-6, (baseline, errors)


def test_step_reward_tensor_is_in_the_graph_with_zero_gradient():
    x = Tensor(np.array([[-1.0], [0.2], [3.0]]), requires_grad=True)
    y = lab.Step(0.0)(x)
    np.testing.assert_array_equal(y.data, [0.0, 1.0, 1.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)


# ------------------------------------------------------------------------------ estimators vs exact gradient
@pytest.mark.parametrize("f", [lab.Quadratic(-1.0), lab.Cosine(1.5)], ids=["quadratic", "cosine"])
@pytest.mark.parametrize("estimator,n", [("score", 1), ("score_loo", 4), ("pathwise", 1)])
def test_unbiased_normal_estimators_agree_with_exact_gradient(f, estimator, n):
    rng = np.random.default_rng(2)
    gm, gs = normal_gradients(f, MEAN, LOG_STD, rng, n, estimator, n_batches=40000)
    em, es = f.exact_gradient(MEAN, LOG_STD)
    assert_within_se(gm, em, what=f"{estimator} d/dmean")
    assert_within_se(gs, es, what=f"{estimator} d/dlog_std")


def test_batch_mean_baseline_is_biased_by_one_over_n():
    """E[1/N sum (f_i - fbar) s_i] = (1 - 1/N) grad: f_i's own share of the baseline correlates with s_i."""
    f, n = lab.Quadratic(-2.0), 2
    gm, _ = normal_gradients(f, [1.0], [0.0], np.random.default_rng(3), n, "score_mean", n_batches=100000)
    exact = f.exact_gradient([1.0], [0.0])[0]                              # 6
    assert_within_se(gm, (1 - 1 / n) * exact, what="batch-mean baseline, N = 2")
    assert abs(gm.mean() - exact[0]) > 1.0, "the mean baseline should miss the exact gradient by grad / N = 3"


def test_leave_one_out_is_n_over_n_minus_1_times_batch_mean():
    f = lab.Quadratic(0.0)
    a, _ = normal_gradients(f, MEAN, LOG_STD, np.random.default_rng(4), 5, "score_mean", n_batches=7)
    b, _ = normal_gradients(f, MEAN, LOG_STD, np.random.default_rng(4), 5, "score_loo", n_batches=7)
    np.testing.assert_allclose(b, a * 5 / 4, rtol=1e-12)


@pytest.mark.parametrize("estimator,n", [("score", 1), ("score_loo", 3)])
def test_categorical_score_estimators_agree_with_exhaustive_sum(estimator, n):
    f, logits = lab.LinearCategorical((10.0, 11.0, 13.0, 9.0)), np.log([0.1, 0.2, 0.3, 0.4])
    g = categorical_gradients(f, logits, np.random.default_rng(5), n, estimator, n_batches=40000)
    assert_within_se(g, exact_categorical_gradient(f, logits), what=estimator)


def test_categorical_batch_mean_baseline_bias():
    f, logits, n = lab.LinearCategorical((1.0, -2.0, 4.0)), np.log([0.2, 0.3, 0.5]), 3
    g = categorical_gradients(f, logits, np.random.default_rng(6), n, "score_mean", n_batches=60000)
    assert_within_se(g, (1 - 1 / n) * exact_categorical_gradient(f, logits), what="score_mean")


def test_gumbel_straight_through_forward_is_exact_sample_and_backward_is_biased():
    f, logits = lab.LinearCategorical((1.0, -2.0, 4.0)), np.log([0.2, 0.3, 0.5])
    exact = exact_categorical_gradient(f, logits)
    st = {tau: categorical_gradients(f, logits, np.random.default_rng(7), 1, "gumbel_st", 40000, tau)
          for tau in (0.1, 0.5, 2.0)}
    # biased: at tau = 2 the mean misses the exact gradient by far more than its standard error
    g = st[2.0]
    se = g.std(axis=0) / np.sqrt(g.shape[0])
    assert np.max(np.abs(g.mean(axis=0) - exact) / se) > 20, "straight-through at tau = 2 should be visibly biased"
    # ... and the bias shrinks with the temperature while the variance grows
    bias = {tau: np.linalg.norm(g.mean(axis=0) - exact) for tau, g in st.items()}
    var = {tau: g.var(axis=0).sum() for tau, g in st.items()}
    assert bias[0.1] < bias[0.5] < bias[2.0], bias
    assert var[0.1] > 10 * var[2.0], var
    # the forward value is an exact one-hot sample of softmax(logits)
    from minirl.distributions import Categorical
    y = Categorical(np.tile(logits, (40000, 1))).gumbel_softmax_st(np.random.default_rng(8), 0.5).data
    assert np.all(y.sum(axis=1) == 1) and set(np.unique(y)) == {0.0, 1.0}
    assert_within_se(y, np.array([0.2, 0.3, 0.5]), what="Gumbel-max sample frequencies")


# ------------------------------------------------------------------------------ known variances
def test_closed_form_variances_have_the_known_values():
    assert lab.quadratic_score_variance(1.0, 1.0) == 15.0
    assert lab.quadratic_score_variance(1.0, -3.0) == 495.0
    for dim in (1, 2, 7, 30):                                             # d = 0: (D + 2)(D + 4)
        assert lab.quadratic_score_variance(1.0, 1.0, dim=dim) == (dim + 2) * (dim + 4)
    score, pathwise = lab.cosine_variances(1.0, np.array([10.0, 20.0]))
    np.testing.assert_allclose(pathwise, [50.0, 200.0], rtol=1e-6)          # -> k^2 / 2
    np.testing.assert_allclose(score, [0.5, 0.5], rtol=1e-6)                # -> 1 / 2


def test_cosine_variances_match_quadrature_of_the_second_moment():
    mu, sigma, k = 0.3, 0.8, 1.7
    z = np.linspace(-12, 12, 200_001)
    w = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    x = mu + sigma * z
    grad = -k * np.sin(k * mu) * np.exp(-0.5 * (k * sigma) ** 2)
    score_q = np.trapezoid((np.cos(k * x) * z / sigma) ** 2 * w, z) - grad ** 2
    path_q = np.trapezoid((k * np.sin(k * x)) ** 2 * w, z) - grad ** 2
    np.testing.assert_allclose(lab.cosine_variances(mu, k, sigma), [score_q, path_q], rtol=1e-8)


def test_parameter_sweep_reproduces_quadratic_variances():
    sweep = lab.parameter_sweep(np.random.default_rng(9), "quadratic", ks=[1.0, -3.0], n_batches=100000)
    for name in ("score", "pathwise"):
        z = np.abs(sweep.variance[name] - sweep.analytic[name]) / sweep.variance_se[name]
        assert np.all(z < 4), (name, sweep.variance[name], sweep.analytic[name], sweep.variance_se[name])
    np.testing.assert_allclose(sweep.variance["pathwise"], 4.0, rtol=0.03)
    np.testing.assert_allclose(sweep.variance["score"], [15.0, 495.0], rtol=0.15)
    # a baseline helps the score function: leave-one-out beats no baseline at k = -3
    assert sweep.variance["score_loo"][1] < 0.5 * sweep.variance["score"][1]


def test_cosine_order_flips_as_k_grows():
    sweep = lab.parameter_sweep(np.random.default_rng(10), "cosine", ks=[0.5, 3.0, 4.0], n_batches=40000)
    s, p = sweep.variance["score"], sweep.variance["pathwise"]
    assert p[0] < s[0] and p[1] > 5 * s[1], (s, p)
    for name in ("score", "pathwise"):
        z = np.abs(sweep.variance[name] - sweep.analytic[name]) / sweep.variance_se[name]
        assert np.all(z < 4), (name, sweep.variance[name], sweep.analytic[name])
    np.testing.assert_allclose(p[2], 4.0 ** 2 / 2, rtol=0.05)


def test_score_variance_grows_with_dimension_pathwise_does_not():
    sweep = lab.dimension_sweep(np.random.default_rng(11), dims=(1, 8, 32), n_batches=20000)
    for name in ("score", "pathwise"):
        z = np.abs(sweep.variance[name] - sweep.analytic[name]) / sweep.variance_se[name]
        assert np.all(z < 4), (name, sweep.variance[name], sweep.analytic[name])
    assert sweep.variance["score"][2] > 50 * sweep.variance["score"][0]
    np.testing.assert_allclose(sweep.variance["pathwise"], 4.0, rtol=0.03)


def test_sample_count_sweep_variance_falls_like_one_over_n():
    sweep = lab.sample_count_sweep(np.random.default_rng(12), ns=(2, 32), n_batches=20000)
    for name in ("score", "pathwise"):
        z = np.abs(sweep.variance[name] - sweep.analytic[name]) / sweep.variance_se[name]
        assert np.all(z < 4), (name, sweep.variance[name], sweep.analytic[name])
    # the biased batch-mean baseline: MSE = variance + bias^2 with bias = -grad / N = -4 at N = 2
    np.testing.assert_allclose(sweep.bias["score_mean"][0], -8.0 / 2, atol=0.3)
    rows = sweep.rows()
    assert len(rows) == 4 * 2 and {"n_samples", "estimator", "variance", "mse"} <= set(rows[0])


# ------------------------------------------------------------------------------ where pathwise fails
@pytest.fixture(scope="module")
def failures():
    return {c.name: c for c in lab.failure_cases(np.random.default_rng(13), n_samples=16, n_batches=5000)}


def test_step_reward_pathwise_is_exactly_zero(failures):
    case = failures["step"]
    assert case.exact > 0.3                                               # phi(0.5) = 0.352
    assert np.all(case.estimates["pathwise"] == 0.0)
    for name in ("score", "score_loo"):
        assert_within_se(case.estimates[name][:, None], np.array([case.exact]), what=f"step {name}")


def test_stiff_sigmoid_pathwise_median_is_far_and_spread_is_large(failures):
    case = failures["stiff_sigmoid"]
    path, loo = case.estimates["pathwise"], case.estimates["score_loo"]
    assert abs(np.median(path) - case.exact) > 0.8 * case.exact, np.median(path)
    assert path.std() > 10 * loo.std(), (path.std(), loo.std())
    assert abs(np.median(loo) - case.exact) < 0.1 * case.exact
    for name in ("score", "score_loo"):
        assert_within_se(case.estimates[name][:, None], np.array([case.exact]), what=f"sigmoid {name}")
    # the spread is what the per-sample pathwise variance (by quadrature) predicts for N = 16
    predicted = lab.StiffSigmoid(1000.0, 0.0).pathwise_variance(0.5, 0.0) / 16
    assert 0.5 < path.var() / predicted < 2.0, (path.var(), predicted)


def test_logistic_map_pathwise_explodes_with_horizon_score_stays_unbiased(failures):
    case = failures["logistic_map"]
    assert_within_se(case.estimates["score_loo"][:, None], np.array([case.exact]), what="logistic score_loo")
    sweep = lab.horizon_sweep(np.random.default_rng(14), horizons=(2, 8, 14), n_batches=20000)
    path, score = sweep.variance["pathwise"], sweep.variance["score"]
    assert path[1] > 100 * path[0] and path[2] > 100 * path[1], path
    assert np.all(score < 1 / 0.5 ** 2), score                           # f in [0, 1]: Var <= 1 / sigma^2
    assert path[2] > 1e4 * score[2]
    se = np.sqrt(score / 20000)
    assert np.all(np.abs(sweep.bias["score"]) < 4 * se), (sweep.bias["score"], se)


# ------------------------------------------------------------------------------ bad input
def test_pathwise_refuses_a_black_box_f_and_names_the_alternatives():
    rng = np.random.default_rng(0)
    black_box = lambda x: np.sum((np.asarray(x.data) - 1.0) ** 2, axis=-1)          # numpy on the values
    with pytest.raises(BlackBoxError, match="black box") as info:
        normal_gradients(black_box, MEAN, LOG_STD, rng, 4, "pathwise")
    assert "score_loo" in str(info.value) and "ndarray" in str(info.value)
    rebuilt = lambda x: Tensor(np.sum(x.data ** 2, axis=-1))                        # a Tensor cut from x
    with pytest.raises(BlackBoxError, match="not connected"):
        normal_gradients(rebuilt, MEAN, LOG_STD, rng, 4, "pathwise")
    with pytest.raises(BlackBoxError, match="gumbel_st"):
        categorical_gradients(lambda y: 1.0, [0.0, 1.0], rng, 4, "gumbel_st")
    # the same black box is fine for a score-function estimator
    gm, _ = normal_gradients(black_box, MEAN, LOG_STD, rng, 4, "score_loo", n_batches=3)
    assert gm.shape == (3, 2)


@pytest.mark.parametrize("call,match", [
    (lambda r: normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, r, 1, "score_loo"), "n_samples >= 2.*n_samples=1"),
    (lambda r: normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, r, 1, "score_mean"), "n_samples >= 2"),
    (lambda r: normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, r, 0, "score"), "positive integer, got 0"),
    (lambda r: normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, r, 2, "reinforce"), "accepted: score, score_mean"),
    (lambda r: normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, r, 2, "gumbel_st"), "unknown estimator 'gumbel_st'"),
    (lambda r: categorical_gradients(lab.LinearCategorical((1, 2)), [0, 0], r, 2, "pathwise"),
     "accepted: .*gumbel_st"),
    (lambda r: categorical_gradients(lab.LinearCategorical((1, 2)), [0, 0], r, 2, "gumbel_st", temperature=0),
     "temperature must be > 0, got 0"),
    (lambda r: categorical_gradients(lab.LinearCategorical((1,)), [0.0], r, 2), "K >= 2"),
    (lambda r: normal_gradients(lab.Quadratic(0), [np.nan], [0.0], r, 2), "finite"),
    (lambda r: normal_gradients(lambda x: x, MEAN, LOG_STD, r, 2, "pathwise"), "one value per sample"),
    (lambda r: normal_gradients(lambda x: x[..., 0, 0], MEAN, LOG_STD, r, 2, "score"), "one value per sample"),
    (lambda r: score_function_surrogate(Tensor(np.zeros(3)), np.zeros(3), "median"), "baseline must be one of"),
    (lambda r: score_function_surrogate(Tensor(np.zeros(1)), np.zeros(1), "loo"), "n_samples=1"),
    (lambda r: quadrature_normal_gradient(lab.Step(), 0.0, 0.0), "std must be > 0, got 0"),
    (lambda r: lab.parameter_sweep(r, "sine"), "'quadratic' or 'cosine', got 'sine'"),
    (lambda r: lab.StiffSigmoid().exact_gradient([0.0, 1.0], [0.0, 0.0]), "1-D only"),
])
def test_bad_input_fails_early_with_a_clear_message(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call(np.random.default_rng(0))


def test_sampling_needs_an_explicit_generator():
    with pytest.raises(TypeError, match="np.random.Generator"):
        normal_gradients(lab.Quadratic(0), MEAN, LOG_STD, 0, 2)


def test_same_seed_same_estimates():
    a = normal_gradients(lab.Cosine(2.0), MEAN, LOG_STD, np.random.default_rng(5), 3, "score_loo", 4)
    b = normal_gradients(lab.Cosine(2.0), MEAN, LOG_STD, np.random.default_rng(5), 3, "score_loo", 4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_reparameterise_is_mean_plus_std_times_noise():
    x = reparameterise(Tensor([[1.0, 2.0]]), Tensor([[0.0, np.log(3.0)]]), np.array([[0.5, -1.0]]))
    np.testing.assert_allclose(x.data, [[1.5, -1.0]])


# ------------------------------------------------------------------------------ the command
def test_minirl_estimators_fast_writes_figures_and_tables(tmp_path, capsys):
    from minirl.cli import main
    out = tmp_path / "tmp"
    assert main(["estimators", "--out", str(out), "--fast", "--seed", "1"]) == 0
    expected = {"sample_count", "parameter", "dimension", "temperature", "failures"}
    for name in expected:
        path = out / f"{name}.png"
        assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    tables = {p.name for p in out.glob("*.csv")}
    assert tables == {"sample_count.csv", "parameter_quadratic.csv", "parameter_cosine.csv",
                      "dimension.csv", "temperature.csv", "failures.csv", "horizon.csv"}
    with open(out / "parameter_quadratic.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3 * 13
    pathwise = [r for r in rows if r["estimator"] == "pathwise"]
    assert all(float(r["analytic_variance"]) == 4.0 for r in pathwise)
    assert all(abs(float(r["variance"]) - 4.0) < 0.6 for r in pathwise)
    with open(out / "failures.csv") as fh:
        rows = {(r["case"], r["estimator"]): r for r in csv.DictReader(fh)}
    assert float(rows[("step", "pathwise")]["fraction_exactly_zero"]) == 1.0
    assert "wrote 12 files" in capsys.readouterr().out
    assert os.path.getsize(out / "failures.png") > 10_000
