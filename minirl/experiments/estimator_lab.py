"""The gradient-estimator lab: score function versus pathwise, measured against exact gradients.

Every experiment returns plain data (a dataclass of arrays, `rows()` for a CSV table); the figures
are drawn by `minirl.plotting.estimators`, the CLI is `minirl estimators`.

Rewards (each works on a NumPy array *and* on a Tensor, x of shape (..., D) -> (...)):

| reward                 | f(x)                                 | exact gradient from                  |
|------------------------|--------------------------------------|--------------------------------------|
| `Quadratic(k)`         | sum_d (x_d - k)^2                    | closed form                          |
| `Cosine(k)`            | sum_d cos(k x_d)                     | closed form                          |
| `Step(c)`              | sum_d 1[x_d > c]                     | closed form (Gaussian density at c)  |
| `StiffSigmoid(s, c)`   | sum_d sigmoid(s (x_d - c))           | quadrature                           |
| `LogisticMap(r, H)`    | x_H with x_0 = sigmoid(a), x_{t+1} = r x_t (1 - x_t) | quadrature           |

Known variances (x ~ N(mu, sigma^2) in 1-D, gradient with respect to mu, one sample; derived with
y = (x - mu)/sigma ~ N(0, 1), E y^2 = 1, E y^4 = 3, E y^6 = 15, and d = mu - k):

    Quadratic, pathwise:  g = 2 (x - k)                     Var = 4 sigma^2            (4 for every k)
    Quadratic, score:     g = (sigma y + d)^2 y / sigma     Var = 15 sigma^2 + 14 d^2 + d^4 / sigma^2
                          at mu = sigma = 1: k = 1 -> 15,  k = -3 (d = 4) -> 15 + 224 + 256 = 495
    Cosine, pathwise:     g = -k sin(k x)
                          Var = k^2/2 (1 - cos(2 k mu) e^{-2 k^2 sigma^2}) - k^2 sin^2(k mu) e^{-k^2 sigma^2}
                          -> k^2 / 2 for large k
    Cosine, score:        g = cos(k x) y / sigma
                          Var = (1 + cos(2 k mu) (1 - 4 k^2 sigma^2) e^{-2 k^2 sigma^2}) / (2 sigma^2) - (grad)^2
                          -> 1 / (2 sigma^2) for large k: the order of the two flips as k grows
    (using E[cos(a + b y)] = cos(a) e^{-b^2/2} and E[y^2 cos(a + b y)] = cos(a) (1 - b^2) e^{-b^2/2})

In D dimensions with f = sum_d (x_d - k)^2 the pathwise variance of each coordinate stays 4 sigma^2,
while the score-function coordinate g_1 = f(x) y_1 / sigma carries the noise of all D terms
(see `quadratic_score_variance`): at d = 0, sigma = 1 it is (D + 2)(D + 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..autograd import Tensor, where
from ..estimators import categorical_gradients, normal_gradients, quadrature_normal_gradient

__all__ = [
    "Quadratic", "Cosine", "Step", "StiffSigmoid", "LogisticMap", "LinearCategorical",
    "quadratic_score_variance", "cosine_variances", "variance_with_se",
    "Sweep", "sample_count_sweep", "parameter_sweep", "dimension_sweep", "temperature_sweep",
    "FailureCase", "failure_cases", "horizon_sweep",
]


# ---------------------------------------------------------------------------------------------
# Rewards
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Quadratic:
    """f(x) = sum_d (x_d - k)^2.  E f = sum_d (mu_d - k)^2 + sigma_d^2."""
    k: float

    def __call__(self, x):
        return ((x - self.k) ** 2).sum(axis=-1)

    def exact_gradient(self, mean, log_std):
        """(dJ/dmean, dJ/dlog_std) = (2 (mu - k), 2 sigma^2)."""
        mean, std = np.asarray(mean, dtype=np.float64), np.exp(np.asarray(log_std, dtype=np.float64))
        return 2 * (mean - self.k), np.broadcast_to(2 * std ** 2, mean.shape).copy()


@dataclass(frozen=True)
class Cosine:
    """f(x) = sum_d cos(k x_d).  E f = sum_d cos(k mu_d) exp(-k^2 sigma_d^2 / 2)."""
    k: float

    def __call__(self, x):
        kx = x * self.k
        return (kx.cos() if isinstance(kx, Tensor) else np.cos(kx)).sum(axis=-1)

    def exact_gradient(self, mean, log_std):
        """dJ/dmu = -k sin(k mu) e^{-k^2 s^2/2};  dJ/dlog s = -k^2 s^2 cos(k mu) e^{-k^2 s^2/2}."""
        mean, std = np.asarray(mean, dtype=np.float64), np.exp(np.asarray(log_std, dtype=np.float64))
        damp = np.exp(-0.5 * self.k ** 2 * std ** 2)
        return -self.k * np.sin(self.k * mean) * damp, -(self.k * std) ** 2 * np.cos(self.k * mean) * damp


@dataclass(frozen=True)
class Step:
    """f(x) = sum_d 1[x_d > c] (Heaviside). Its derivative is 0 almost everywhere.

    As a Tensor it is `where(x > c, 1 + 0 x, 0 x)`: in the graph, with gradient exactly 0, which is
    what autograd (here or in any framework) gives for a step. The true gradient is not 0:
    E f = Phi((mu - c)/sigma), so dJ/dmu = phi(z)/sigma and dJ/dlog sigma = -z phi(z), z = (mu - c)/sigma.
    """
    c: float = 0.0

    def __call__(self, x):
        if isinstance(x, Tensor):
            zero = x * 0.0                                                # connected, gradient 0
            return where(x.data > self.c, zero + 1.0, zero).sum(axis=-1)
        return (x > self.c).astype(np.float64).sum(axis=-1)

    def exact_gradient(self, mean, log_std):
        mean, std = np.asarray(mean, dtype=np.float64), np.exp(np.asarray(log_std, dtype=np.float64))
        z = (mean - self.c) / std
        phi = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
        return phi / std, -z * phi


@dataclass(frozen=True)
class StiffSigmoid:
    """f(x) = sum_d sigmoid(s (x_d - c)): a step smoothed over a width 1/s. Exact gradient by quadrature."""
    slope: float = 1000.0
    c: float = 0.0

    def __call__(self, x):
        u = (x - self.c) * self.slope
        return (u.sigmoid() if isinstance(u, Tensor) else 0.5 * (np.tanh(0.5 * u) + 1)).sum(axis=-1)

    def exact_gradient(self, mean, log_std):
        return _quadrature(self, mean, log_std, n_points=400_001)

    def pathwise_variance(self, mean, log_std) -> float:
        """Per-sample Var of the pathwise g = s sigmoid'(s (x - c)), by quadrature (1-D)."""
        def f_prime(x):                                                    # x (n, 1) -> (n,)
            s = _sig(self.slope * (x[:, 0] - self.c))
            return self.slope * s * (1 - s)

        second = _expectation(lambda x: f_prime(x) ** 2, float(mean), float(np.exp(log_std)))
        first = _expectation(f_prime, float(mean), float(np.exp(log_std)))
        return second - first ** 2


@dataclass(frozen=True)
class LogisticMap:
    """f(a) = x_H of the logistic map x_{t+1} = r x_t (1 - x_t) started at x_0 = sigmoid(a).

    Chaotic for r = 3.9 (Lyapunov exponent about 0.5): |dx_H/da| typically grows like e^{0.5 H}, and
    its mean square faster still (measured: about 10x every two steps), so the pathwise estimator
    (backprop through H steps) explodes with the horizon. f stays in [0, 1], so the score-function
    per-sample variance stays below E[f^2 y^2] / sigma^2 <= 1 / sigma^2.
    """
    horizon: int = 10
    r: float = 3.9

    def __call__(self, a):
        x = a.sigmoid() if isinstance(a, Tensor) else 0.5 * (np.tanh(0.5 * a) + 1)
        for _ in range(self.horizon):
            x = self.r * x * (1 - x)
        return x.sum(axis=-1)

    def exact_gradient(self, mean, log_std):
        # x_H wiggles on a scale of about e^{-0.5 H} in a; 1e6 points resolve it up to H ~ 20
        # (the trapezoid rule on this smooth integrand agrees to 1e-12 with 5e5 points at H = 16)
        return _quadrature(self, mean, log_std, n_points=1_000_001)


@dataclass(frozen=True)
class LinearCategorical:
    """f(y) = sum_k v_k y_k for a one-hot y: the reward v_a of category a."""
    values: tuple

    def __call__(self, y):
        return (y * np.asarray(self.values, dtype=np.float64)).sum(axis=-1)


def _sig(u):
    return 0.5 * (np.tanh(0.5 * u) + 1)


def _quadrature(f, mean, log_std, n_points):
    mean, log_std = np.atleast_1d(mean).astype(float), np.atleast_1d(log_std).astype(float)
    if mean.size != 1:
        raise ValueError(f"{type(f).__name__}: the exact gradient by quadrature is 1-D only, got mean {mean}")
    gm, gs = quadrature_normal_gradient(f, mean[0], float(np.exp(log_std[0])), n_points=n_points)
    return np.array([gm]), np.array([gs])


def _expectation(h, mean: float, std: float, n_points: int = 400_001, width: float = 12.0) -> float:
    z = np.linspace(-width, width, n_points)
    density = np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)
    return float(np.trapezoid(h((mean + std * z)[:, None]) * density, z))


# ---------------------------------------------------------------------------------------------
# Closed-form variances (see the module docstring)
# ---------------------------------------------------------------------------------------------
def quadratic_score_variance(mu: float, k: float, sigma: float = 1.0, dim: int = 1) -> float:
    """Per-sample Var of one coordinate of the score-function gradient for f = sum_d (x_d - k)^2.

    With u_d = (sigma y_d + d)^2, R = sum_{d >= 2} u_d and g_1 = (u_1 + R) y_1 / sigma:
        E[g_1^2] sigma^2 = E[u_1^2 y^2] + 2 E[R] E[u_1 y^2] + E[R^2]
        E[u_1^2 y^2] = 15 s^4 + 18 s^2 d^2 + d^4,  E[u_1 y^2] = 3 s^2 + d^2,
        E[R] = (D-1)(s^2 + d^2),  E[R^2] = (D-1)(2 s^4 + 4 s^2 d^2) + (D-1)^2 (s^2 + d^2)^2
    and Var = E[g_1^2] - (2 d)^2. For D = 1: 15 s^2 + 14 d^2 + d^4 / s^2.
    """
    d, s2, m = mu - k, sigma ** 2, dim - 1
    second = (15 * s2 ** 2 + 18 * s2 * d ** 2 + d ** 4 + 2 * m * (s2 + d ** 2) * (3 * s2 + d ** 2)
              + m * (2 * s2 ** 2 + 4 * s2 * d ** 2) + m ** 2 * (s2 + d ** 2) ** 2) / s2
    return float(second - 4 * d ** 2)


def cosine_variances(mu: float, k, sigma: float = 1.0):
    """(score, pathwise) per-sample variances of dJ/dmu for f = cos(k x), x ~ N(mu, sigma^2)."""
    k = np.asarray(k, dtype=np.float64)
    grad = -k * np.sin(k * mu) * np.exp(-0.5 * k ** 2 * sigma ** 2)
    e2 = np.exp(-2 * k ** 2 * sigma ** 2)
    score = (1 + np.cos(2 * k * mu) * (1 - 4 * k ** 2 * sigma ** 2) * e2) / (2 * sigma ** 2) - grad ** 2
    pathwise = 0.5 * k ** 2 * (1 - np.cos(2 * k * mu) * e2) - grad ** 2
    return score, pathwise


def variance_with_se(g: np.ndarray, axis: int = 0):
    """Sample variance of g along `axis` and its standard error sqrt(Var[(g - mean)^2] / n)."""
    g = np.asarray(g, dtype=np.float64)
    sq = (g - g.mean(axis=axis, keepdims=True)) ** 2
    n = g.shape[axis]
    return sq.sum(axis=axis) / (n - 1), sq.std(axis=axis) / np.sqrt(n)


# ---------------------------------------------------------------------------------------------
# Experiments
# ---------------------------------------------------------------------------------------------
@dataclass
class Sweep:
    """One curve per estimator over a swept quantity x.

    variance[name], variance_se[name], mse[name], bias[name]: arrays (len(x),) for dJ/dmu (averaged
    over coordinates in the dimension sweep); analytic[name]: closed-form variance where one exists.
    """
    name: str
    x_label: str
    x: np.ndarray
    exact: np.ndarray
    n_samples: int | None = None
    variance: dict = field(default_factory=dict)
    variance_se: dict = field(default_factory=dict)
    mse: dict = field(default_factory=dict)
    bias: dict = field(default_factory=dict)
    analytic: dict = field(default_factory=dict)

    def rows(self) -> list[dict]:
        """A CSV table: one row per (x, estimator)."""
        out = []
        for name in self.variance:
            for i, x in enumerate(self.x):
                out.append({"experiment": self.name, self.x_label: float(x), "estimator": name,
                            "exact_gradient": float(self.exact[i]), "variance": float(self.variance[name][i]),
                            "variance_se": float(self.variance_se[name][i]), "bias": float(self.bias[name][i]),
                            "mse": float(self.mse[name][i]),
                            "analytic_variance": (float(self.analytic[name][i]) if name in self.analytic
                                                  else "")})
        return out


def _record(sweep: Sweep, name: str, g: np.ndarray, exact: np.ndarray, scale: float = 1.0):
    """Append the statistics of estimates g (B, D) against exact (D,); scale multiplies variances."""
    sq = ((g - g.mean(axis=0)) ** 2).mean(axis=1)                         # (B,) mean over coordinates
    # coordinates share f, so their squared deviations are correlated: take the SE over batches
    var, se = sq.mean() * g.shape[0] / (g.shape[0] - 1), sq.std() / np.sqrt(g.shape[0])
    err = g - exact                                                       # (B, D)
    for key, value in (("variance", scale * var), ("variance_se", scale * se),
                       ("mse", (err ** 2).mean()), ("bias", err.mean())):
        getattr(sweep, key).setdefault(name, []).append(float(value))


def _finish(sweep: Sweep) -> Sweep:
    for key in ("variance", "variance_se", "mse", "bias"):
        setattr(sweep, key, {k: np.asarray(v) for k, v in getattr(sweep, key).items()})
    sweep.analytic = {k: np.asarray(v, dtype=np.float64) for k, v in sweep.analytic.items()}
    return sweep


def sample_count_sweep(rng, ns=(2, 4, 8, 16, 32, 64, 128), k: float = -3.0, mu: float = 1.0,
                       n_batches: int = 4000) -> Sweep:
    """Variance and MSE of the N-sample estimate of dJ/dmu versus N, x ~ N(mu, 1), f = (x - k)^2.

    Analytic: Var = per-sample variance / N for "score" (495 / N at the defaults) and "pathwise" (4 / N).
    The batch-mean baseline is biased by -grad / N (see `minirl.estimators`).
    """
    f, exact = Quadratic(k), 2 * (mu - k)
    sweep = Sweep("sample_count", "n_samples", np.asarray(ns, dtype=float), np.full(len(ns), exact))
    for n in ns:
        for est in ("score", "score_mean", "score_loo", "pathwise"):
            g, _ = normal_gradients(f, [mu], [0.0], rng, n, est, n_batches)
            _record(sweep, est, g, np.array([exact]))
    ns = np.asarray(ns, dtype=float)
    sweep.analytic = {"score": quadratic_score_variance(mu, k) / ns, "pathwise": 4.0 / ns}
    return _finish(sweep)


def parameter_sweep(rng, family: str = "quadratic", ks=None, mu: float = 1.0, n_batches: int = 20000,
                    loo_samples: int = 16) -> Sweep:
    """Per-sample variance of dJ/dmu versus the parameter k of f, x ~ N(mu, 1).

    family "quadratic": f = (x - k)^2 (pathwise 4 for every k; score 15 at k = 1, 495 at k = -3);
    family "cosine":    f = cos(k x)  (pathwise ~ k^2/2 overtakes score ~ 1/2 as k grows).
    "score_loo" is reported per sample too: N x Var of its N-sample estimate (N = loo_samples).
    """
    if family not in ("quadratic", "cosine"):
        raise ValueError(f"family must be 'quadratic' or 'cosine', got {family!r}")
    if ks is None:
        ks = np.linspace(-3, 3, 13) if family == "quadratic" else np.array([0.25, 0.5, 1, 1.5, 2, 3, 4])
    ks = np.asarray(ks, dtype=float)
    make = Quadratic if family == "quadratic" else Cosine
    exacts = np.array([make(k).exact_gradient([mu], [0.0])[0][0] for k in ks])
    sweep = Sweep(f"parameter_{family}", "k", ks, exacts)
    for k, exact in zip(ks, exacts):
        for est in ("score", "pathwise"):
            g, _ = normal_gradients(make(k), [mu], [0.0], rng, 1, est, n_batches)
            _record(sweep, est, g, np.array([exact]))
        g, _ = normal_gradients(make(k), [mu], [0.0], rng, loo_samples, "score_loo", max(n_batches // loo_samples, 50))
        _record(sweep, "score_loo", g, np.array([exact]), scale=loo_samples)
    if family == "quadratic":
        sweep.analytic = {"score": [quadratic_score_variance(mu, k) for k in ks], "pathwise": np.full(ks.shape, 4.0)}
    else:
        score, pathwise = cosine_variances(mu, ks)
        sweep.analytic = {"score": score, "pathwise": pathwise}
    return _finish(sweep)


def dimension_sweep(rng, dims=(1, 2, 4, 8, 16, 32, 64), k: float = 1.0, mu: float = 1.0,
                    n_batches: int = 20000) -> Sweep:
    """Per-sample variance of one coordinate of dJ/dmu versus dimension D, f = sum_d (x_d - k)^2."""
    dims = np.asarray(dims, dtype=int)
    exact = 2 * (mu - k)
    sweep = Sweep("dimension", "dim", dims.astype(float), np.full(len(dims), exact))
    for dim in dims:
        for est in ("score", "pathwise"):
            g, _ = normal_gradients(Quadratic(k), np.full(dim, mu), np.zeros(dim), rng, 1, est, n_batches)
            _record(sweep, est, g, np.full(dim, exact))
    sweep.analytic = {"score": [quadratic_score_variance(mu, k, dim=int(d)) for d in dims],
                      "pathwise": np.full(dims.shape, 4.0)}
    return _finish(sweep)


def temperature_sweep(rng, taus=(0.1, 0.2, 0.5, 1.0, 2.0, 5.0), values=(10.0, 11.0, 13.0),
                      probs=(0.2, 0.3, 0.5), n_samples: int = 8, n_batches: int = 5000) -> Sweep:
    """Gumbel-softmax straight-through versus score-function estimates for a categorical, per temperature.

    f(a) = values[a]; the exact gradient is p * (v - p . v) (exhaustive sum; `exact` holds its norm).
    Variances, squared errors and the bias (a vector norm) are summed over the K logits. The
    score-function rows do not depend on tau (one measurement, repeated for plotting).
    """
    f, logits = LinearCategorical(tuple(values)), np.log(np.asarray(probs, dtype=float))
    p, v = np.asarray(probs, dtype=float) / np.sum(probs), np.asarray(values, dtype=float)
    exact = p * (v - p @ v)                                               # (K,)
    taus = np.asarray(taus, dtype=float)
    sweep = Sweep("temperature", "temperature", taus, np.full(len(taus), np.linalg.norm(exact)), n_samples)
    reference = {est: categorical_gradients(f, logits, rng, n_samples, est, n_batches)
                 for est in ("score", "score_loo")}
    for tau in taus:
        g = categorical_gradients(f, logits, rng, n_samples, "gumbel_st", n_batches, temperature=tau)
        for name, est in [("gumbel_st", g)] + list(reference.items()):
            var, se = variance_with_se(est, axis=0)
            err = est - exact
            for key, value in (("variance", var.sum()), ("variance_se", np.sqrt((se ** 2).sum())),
                               ("mse", (err ** 2).sum(axis=1).mean()),
                               ("bias", np.linalg.norm(err.mean(axis=0)))):
                getattr(sweep, key).setdefault(name, []).append(float(value))
    return _finish(sweep)


@dataclass
class FailureCase:
    """Batch estimates of dJ/dmu for one reward where the pathwise estimator fails.

    estimates[name]: (n_batches,) N-sample estimates; exact: the true gradient.
    """
    name: str
    description: str
    exact: float
    n_samples: int
    estimates: dict

    def summary(self) -> list[dict]:
        rows = []
        for est, g in self.estimates.items():
            rows.append({"case": self.name, "estimator": est, "exact_gradient": self.exact,
                         "n_samples": self.n_samples, "mean": float(g.mean()),
                         "standard_error": float(g.std(ddof=1) / np.sqrt(g.size)),
                         "median": float(np.median(g)), "std": float(g.std(ddof=1)),
                         "fraction_exactly_zero": float(np.mean(g == 0))})
        return rows


def failure_cases(rng, n_samples: int = 16, n_batches: int = 2000, horizon: int = 12) -> list[FailureCase]:
    """The three places where pathwise fails and the score function does not (x ~ N(mu, sigma^2))."""
    cases = [("step", "Heaviside step 1[x > 0], x ~ N(0.5, 1)", Step(0.0), 0.5, 0.0),
             ("stiff_sigmoid", "sigmoid(1000 x), x ~ N(0.5, 1)", StiffSigmoid(1000.0, 0.0), 0.5, 0.0),
             ("logistic_map", f"logistic map r = 3.9, {horizon} steps from sigmoid(a), a ~ N(0.5, 0.5^2)",
              LogisticMap(horizon), 0.5, np.log(0.5))]
    out = []
    for name, description, f, mu, log_std in cases:
        exact = float(f.exact_gradient([mu], [log_std])[0][0])
        estimates = {est: normal_gradients(f, [mu], [log_std], rng, n_samples, est, n_batches)[0][:, 0]
                     for est in ("pathwise", "score", "score_loo")}
        out.append(FailureCase(name, description, exact, n_samples, estimates))
    return out


def horizon_sweep(rng, horizons=(1, 2, 4, 6, 8, 10, 12, 14, 16), mu: float = 0.5, std: float = 0.5,
                  n_batches: int = 20000) -> Sweep:
    """Per-sample variance of dJ/dmu through H steps of the logistic map (r = 3.9), versus H."""
    horizons = np.asarray(horizons, dtype=int)
    exacts = np.array([LogisticMap(int(h)).exact_gradient([mu], [np.log(std)])[0][0] for h in horizons])
    sweep = Sweep("horizon", "horizon", horizons.astype(float), exacts)
    for h, exact in zip(horizons, exacts):
        for est in ("score", "pathwise"):
            g, _ = normal_gradients(LogisticMap(int(h)), [mu], [np.log(std)], rng, 1, est, n_batches)
            _record(sweep, est, g, np.array([exact]))
    return _finish(sweep)
