"""The one-step world model of the observations, and what its error is made of.

**World model.** `minirl.algos.world_models.DynamicsModel` (linear, or an MLP 64-64), fitted on the
training episodes to predict the change of the Kinematics observation,
o_{t+1} = o_t + delta_phi(o_t, a_t). On the test episodes its error is the R^2 of the change per
component c in {ego, others} x {x, y, vx, vy}:

    R^2_c = 1 - sum_i (delta_hat_ic - delta_ic)^2 / sum_i (delta_ic - mean(delta_c))^2

(the other cars' rows 1-4 pooled, counted where the row shows a car before and after the step).
R^2 = 0 is no better than predicting the average change.

**What the error is made of.** The observation's rows 1-4 are the 4 nearest cars *at each step*
(`minirl.experiments.driving.data`), so a row can show another car after the step: the "change"
is then the difference between two cars, which no model of driving can predict. Cars more than
10 m behind are not observed at all. Three checks separate bookkeeping from driving:

* the **switch rate**: the share of other-car rows, present before and after, whose car changed;
* a **constant-velocity** predictor: every car keeps its velocity for the 1 s step,
  x' = x + vx dt, y' = y + vy dt (in the observation's units: x / 200 m, y / 12 m, v / 80 m/s);
* **stable identities**: the targets `next_tracked` follow the cars of o_t (what an observation that
  keeps each car in its row would show); a world model fitted to them, and the constant-velocity
  predictor on them, say how predictable the other cars' *motion* is.

Ego x is clipped to +1 two steps into an episode (absolute x over 200 m), so its change is almost
always zero.

Shapes: obs (T, 5, 5); flat inputs (T, 25); act (T, 5); rows are dicts of plain numbers.
"""

from __future__ import annotations

import warnings

import numpy as np

from ...algos.model_fitting import ModelWarning, Transitions, fit_dynamics
from ...algos.world_models import DynamicsModel
from ...autograd import no_grad
from ...stats import r_squared
from .data import V_RANGE, X_RANGE, Y_RANGE

__all__ = ["FEATURES", "TARGETS", "fit_world_model", "predict", "constant_velocity", "component_r2",
           "switch_rate", "same_car_rows"]

FEATURES = ("x", "y", "vx", "vy")                      # columns 1..4 of a Kinematics row
TARGETS = ("next_obs", "next_tracked")
WORLD_MODELS = {"linear": (), "mlp": (64, 64)}
DT = 1.0                                               # s per env step (policy frequency 1 Hz)


def fit_world_model(data, train, model: str, rng: np.random.Generator, *, steps: int,
                    target: str = "next_obs") -> DynamicsModel:
    """Fit `target` - o_t on the `train` rows of `data` (a DrivingData); `model` is linear or mlp."""
    if model not in WORLD_MODELS:
        raise ValueError(f"model must be one of {sorted(WORLD_MODELS)}, got {model!r}")
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    train = np.asarray(train, dtype=bool)
    net = DynamicsModel(25, 5, rng=rng, hidden=WORLD_MODELS[model])
    # input scales floored at 1e-3: a feature constant in the training data (the ego's presence, a
    # clipped x) must not turn a small change at test time into a huge normalised input
    net.in_norm.eps = 1e-3
    nxt = getattr(data, target).reshape(len(data), 25).astype(np.float64)
    transitions = Transitions(data.flat_obs("obs"), data.action_onehot(), data.reward, nxt,
                              data.episode.astype(np.int64), ~train)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        fit_dynamics(net, transitions, rng, steps=steps, lr=3e-3)
    return net


def predict(net: DynamicsModel, data, rows) -> np.ndarray:
    """The world model's next observation for the `rows` (bool mask) of `data`, (n, 5, 5)."""
    rows = np.asarray(rows, dtype=bool)
    with no_grad():
        return net(data.obs[rows].reshape(-1, 25).astype(np.float64), data.action_onehot()[rows]).data.reshape(-1, 5, 5)


def constant_velocity(obs) -> np.ndarray:
    """Every car keeps its (relative) velocity for one step: (..., 5, 5) -> (..., 5, 5), clipped to [-1, 1]."""
    o = np.array(obs, dtype=np.float64)
    o[..., 1] += o[..., 3] * V_RANGE * DT / X_RANGE                       # x += vx dt
    o[..., 2] += o[..., 4] * V_RANGE * DT / Y_RANGE                       # y += vy dt
    o[..., 1:] = np.clip(o[..., 1:], -1.0, 1.0)
    return o * (np.asarray(obs)[..., :1] > 0)                             # empty rows stay empty


def same_car_rows(data, rows) -> np.ndarray:
    """(n, 5) bool: row k shows the same car before and after the step (ego row: always)."""
    rows = np.asarray(rows, dtype=bool)
    return data.obs_ids[rows] == data.next_ids[rows]


def switch_rate(data, rows) -> tuple[int, int]:
    """(switched, n): other-car rows present before and after the step whose car changed, of n such rows."""
    rows = np.asarray(rows, dtype=bool)
    present = (data.obs[rows][:, 1:, 0] > 0) & (data.next_obs[rows][:, 1:, 0] > 0)    # (n, 4)
    switched = ~same_car_rows(data, rows)[:, 1:]
    return int((switched & present).sum()), int(present.sum())


def component_r2(pred, data, rows, *, target: str = "next_obs", only_same_car: bool = False) -> list[dict]:
    """R^2 of the predicted change per (car, feature) on the `rows` (bool mask) of `data`.

    `pred` (n, 5, 5) is the predicted next observation of those rows, scored against `target`
    (`next_obs` or `next_tracked`); `only_same_car` keeps only the rows that kept their car.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    rows = np.asarray(rows, dtype=bool)
    obs, nxt = data.obs[rows].astype(np.float64), getattr(data, target)[rows].astype(np.float64)   # (n, 5, 5)
    delta, delta_hat = nxt - obs, np.asarray(pred, dtype=np.float64) - obs
    present = (obs[:, :, 0] > 0) & (nxt[:, :, 0] > 0)                                      # (n, 5)
    if only_same_car:
        present &= same_car_rows(data, rows)
    out = []
    for car, car_rows in (("ego", [0]), ("others", [1, 2, 3, 4])):
        mask = np.zeros_like(present)
        mask[:, car_rows] = present[:, car_rows]
        for j, feature in enumerate(FEATURES, start=1):
            d, d_hat = delta[:, :, j][mask], delta_hat[:, :, j][mask]
            out.append({"car": car, "feature": feature, "kind": "position" if feature in ("x", "y") else "velocity",
                        "r2": r_squared(d_hat, d), "n": int(d.size)})
    return out
