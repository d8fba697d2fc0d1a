"""World-model error per state component, and over-optimisation of a learned driving reward.

**One-step world model** (items 2 of `minirl driving`). A dynamics model of the observations,
`minirl.algos.world_models.DynamicsModel` (linear, or an MLP 64-64), fitted on the training
episodes to predict the change of the Kinematics observation, o_{t+1} = o_t + delta_phi(o_t, a_t).
On the test episodes its error is reported per component as the R^2 of the change:

    R^2_c = 1 - sum_i (delta_hat_ic - delta_ic)^2 / sum_i (delta_ic - mean(delta_c))^2

for c in {ego, others} x {x, y, vx, vy} (the other cars' rows 1-4 pooled, counted only where the
car is present before and after the step). R^2 = 0 is no better than predicting the average change.
Caveats the numbers carry: the ego's x is clipped to +1 two steps into an episode (so its change is
zero almost always), and the other rows are the 4 *nearest* cars sorted by distance, so a row can
switch to another car between two steps.

**Over-optimisation** (item 3). Best-of-N over a fixed pool of M test segments with the learned
reward as the judge: draw N segments uniformly from the pool, keep the one the proxy scores highest.
Over a finite pool the winner's distribution is exact (lesson 10, `best_of_n_log_probs` with a
uniform reference pi_0 = 1/M), so for each N:

    E_N[R_true], E_N[R_proxy], P_N(crash), KL(pi_N || pi_0)

and the toy language's exact curve beside it (pi_ref and a learned proxy table). Gains are in units
of the reference's standard deviation, (E_N[R] - E_0[R]) / std_0[R], so the two worlds share axes.

Shapes: obs (T, 25); act (T, 5); proxy, true, crash (M,); rows are dicts of plain numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...algos.best_of_n import best_of_n_log_probs
from ...algos.model_fitting import ModelWarning, Transitions, fit_dynamics
from ...algos.world_models import DynamicsModel
from ...autograd import no_grad
from ...stats import r_squared
from .reward import MODELS

__all__ = ["FEATURES", "fit_world_model", "component_r2", "bon_curve", "toy_bon_curve"]

FEATURES = ("x", "y", "vx", "vy")                      # columns 1..4 of a Kinematics row


def fit_world_model(data, train, model: str, rng: np.random.Generator, *, steps: int) -> DynamicsModel:
    """Fit o_{t+1} - o_t on the `train` rows of `data` (a DrivingData); `model` is linear or mlp."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}")
    train = np.asarray(train, dtype=bool)
    net = DynamicsModel(25, 5, rng=rng, hidden=MODELS[model])
    # input scales floored at 1e-3: a feature constant in the training data (the ego's presence, a
    # clipped x) must not turn a small change at test time into a huge normalised input
    net.in_norm.eps = 1e-3
    transitions = Transitions(data.flat_obs("obs"), data.action_onehot(), data.reward, data.flat_obs("next_obs"),
                              data.episode.astype(np.int64), ~train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        fit_dynamics(net, transitions, rng, steps=steps, lr=3e-3)
    return net


def component_r2(net: DynamicsModel, data, rows) -> list[dict]:
    """R^2 of the predicted change per (car, feature) on the `rows` (bool mask) of `data`."""
    rows = np.asarray(rows, dtype=bool)
    obs, nxt = data.obs[rows].astype(np.float64), data.next_obs[rows].astype(np.float64)   # (n, 5, 5)
    with no_grad():
        pred = net(obs.reshape(-1, 25), data.action_onehot()[rows]).data.reshape(-1, 5, 5)
    delta, delta_hat = nxt - obs, pred - obs
    present = (obs[:, :, 0] > 0) & (nxt[:, :, 0] > 0)                                      # (n, 5)
    out = []
    for car, car_rows in (("ego", [0]), ("others", [1, 2, 3, 4])):
        mask = np.zeros_like(present)
        mask[:, car_rows] = present[:, car_rows]
        for j, feature in enumerate(FEATURES, start=1):
            d, d_hat = delta[:, :, j][mask], delta_hat[:, :, j][mask]
            out.append({"car": car, "feature": feature,
                        "kind": "position" if feature in ("x", "y") else "velocity",
                        "r2": r_squared(d_hat, d), "n": int(d.size), "std_change": float(d.std()) if d.size else 0.0})
    return out


def _uniform_bon(proxy: np.ndarray, values: dict, ns) -> list[dict]:
    """Exact best-of-N over a pool with a uniform reference: E_N of each of `values` and the KL."""
    proxy = np.asarray(proxy, dtype=np.float64)
    logp0 = np.full((1, len(proxy)), -np.log(len(proxy)))
    rows = []
    for n in ns:
        logp = best_of_n_log_probs(logp0, proxy[None], int(n))[0]                         # (M,)
        p = np.exp(logp)
        kl = float(np.sum(np.where(p > 0, p * (logp - logp0[0]), 0.0)))
        rows.append({"N": int(n), "kl": max(kl, 0.0), **{k: float(p @ v) for k, v in values.items()}})
    return rows


def bon_curve(proxy, true_return, crash, ns) -> list[dict]:
    """Best-of-N over a segment pool judged by `proxy`: rows of N, kl, and gains of proxy and true
    return in reference standard deviations, plus the winner's crash probability."""
    proxy, true_return = np.asarray(proxy, dtype=np.float64), np.asarray(true_return, dtype=np.float64)
    crash = np.asarray(crash, dtype=np.float64)
    rows = _uniform_bon(proxy, {"proxy": proxy, "true": true_return, "crash_rate": crash}, ns)
    for r in rows:
        r["proxy_gain"] = (r["proxy"] - proxy.mean()) / max(proxy.std(), 1e-12)
        r["true_gain"] = (r["true"] - true_return.mean()) / max(true_return.std(), 1e-12)
    return rows


def toy_bon_curve(proxy_table, ns) -> list[dict]:
    """The toy language's exact best-of-N curve against pi_ref with a learned proxy table (P, S)."""
    from ...envs import toylang_exact as ex
    from ...envs.toylang import ToyLanguage, reference_policy

    lang = ToyLanguage()
    lref = reference_policy(lang).all_log_probs().data                                   # (P, S)
    gold, proxy = lang.gold_table, np.asarray(proxy_table, dtype=np.float64)

    def ref_std(table):
        p = np.exp(lref)
        centred = table - (p * table).sum(-1, keepdims=True)
        return float(np.sqrt((p * centred ** 2).sum(-1).mean()))

    g0, p0 = ex.expected_reward(lref, gold), ex.expected_reward(lref, proxy)
    rows = []
    for n in ns:
        logp = best_of_n_log_probs(lref, proxy, int(n))
        rows.append({"N": int(n), "kl": ex.kl_divergence(logp, lref),
                     "proxy_gain": (ex.expected_reward(logp, proxy) - p0) / ref_std(proxy),
                     "true_gain": (ex.expected_reward(logp, gold) - g0) / ref_std(gold)})
    return rows
