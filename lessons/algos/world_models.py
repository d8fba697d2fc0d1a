# Lesson 07, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/07_learning_models.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 07
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 07 --force

"""Learned models of a black box: a dynamics model, a reward model, and imagination through them.

A black-box environment only answers `env.step(a) -> (s', r)` with floats. To get a gradient from
reward to policy we *learn* differentiable stand-ins from the transitions it returned, then
backpropagate through the stand-ins (lesson 07; the loop lives in `minirl.algos.model_based`).

1. **Dynamics model** (one-step regression on state *deltas*, inputs and targets normalised):

       f_phi(s, a) ~ (s' - s - mu_delta) / sigma_delta
       L_dyn(phi) = mean_i || f_phi(norm(s_i, a_i)) - norm_delta(s'_i - s_i) ||^2 / D        (1)

   Predicting the small change s' - s instead of s' itself is a common choice (e.g. Nagabandi
   et al., 2018): the network only learns what the step changes.

2. **Reward model**, two ways:

   * regression on the observed rewards: L_r(psi) = mean_i (r_psi(s_i, a_i) - r_i)^2;
   * from preferences only (Bradley & Terry, 1952; as used by Christiano et al., 2017, Eq. 1): a
     judge says which of two trajectory segments sigma^A, sigma^B is better, y = 1 if A. The model
     scores a segment by its summed predicted reward R_psi(sigma) = sum_t r_psi(s_t, a_t) and

         P_psi(A > B) = sigmoid(R_psi(A) - R_psi(B))
         L_BT(psi) = -mean [ y log P_psi(A > B) + (1 - y) log (1 - P_psi(A > B)) ]           (2)

     Only differences of R_psi matter, so the learned reward is defined up to a constant per step
     (harmless for a fixed-horizon objective) and its scale is set by how noisy the judge is.

3. **Imagination (SVG(H), Heess et al., 2015)**: roll the policy out for H steps inside the learned
   models with reparameterised actions a_t = a_max tanh(mu(s_t) + sigma eps_t), eps_t ~ N(0, I):

       J(theta) = mean over start states s_0 of  sum_{t<H} gamma^t r_psi(s_t, a_t),
       s_{t+1} = s_t + delta_phi(s_t, a_t)                                                    (3)

   Every term is a differentiable function of theta, so dJ/dtheta is exact backprop through time
   through the *learned* models: a pathwise gradient of the model's return, not the world's.

| symbol | shape | meaning |
|---|---|---|
| obs, s | (B, obs_dim) | observations (Pendulum: [cos th, sin th, th_dot], obs_dim = 3) |
| act, a | (B, act_dim) | actions after squashing into [-a_max, a_max] |
| delta | (B, obs_dim) | s' - s |
| score_a, score_b | (N,) | R_psi of the two segments of N preference pairs |
| prefs | (N,) | 1.0 if the judge preferred segment A, 0.0 if B (fractions allowed) |
| seg_obs, seg_act | (N, L, obs_dim), (N, L, act_dim) | N segments of L steps |
"""

from __future__ import annotations


import numpy as np

from minirl.autograd import Tensor, concatenate
from minirl.checks import number
from minirl.nn import MLP, Module, frozen  # noqa: F401  (frozen: re-exported, used by model_based)

__all__ = ["Normalizer", "dynamics_loss", "reward_regression_loss", "bradley_terry_loss",
           "preference_probability", "DynamicsModel", "RewardModel", "squash_action",
           "imagined_return", "frozen"]


class Normalizer:
    """z = (x - mean) / std per feature, with statistics fixed by `fit` (std floored at `eps`).

    Shapes: fit(x (N, D)); __call__(x (..., D)) -> (..., D), Tensor in, Tensor out.
    """

    def __init__(self, dim: int, eps: float = 1e-6):
        if not isinstance(dim, (int, np.integer)) or dim <= 0:
            raise ValueError(f"Normalizer: dim must be a positive integer, got {dim!r}")
        number("Normalizer", "eps", eps, low=0, low_open=True)
        self.dim, self.eps = int(dim), float(eps)
        self.mean = np.zeros(dim)
        self.std = np.ones(dim)

    def fit(self, x) -> "Normalizer":
        x = np.asarray(x, dtype=np.float64).reshape(-1, self.dim)
        if len(x) < 2:
            raise ValueError(f"Normalizer.fit needs at least 2 rows of width {self.dim}, got {len(x)}")
        if not np.all(np.isfinite(x)):
            raise ValueError(f"Normalizer.fit: the data holds {int((~np.isfinite(x)).sum())} NaN or inf values: "
                             "fit on finite observations and actions")
        self.mean, self.std = x.mean(axis=0), np.maximum(x.std(axis=0), self.eps)
        return self

    def __call__(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std

    def inverse(self, z: Tensor) -> Tensor:
        return z * self.std + self.mean

    def state_dict(self) -> dict:
        return {"mean": self.mean.copy(), "std": self.std.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.mean, self.std = np.array(state["mean"], dtype=np.float64), np.array(state["std"], dtype=np.float64)


# ------------------------------------------------------------------------------------- losses
def dynamics_loss(pred_delta: Tensor, target_delta) -> Tensor:
    """Eq. (1): mean squared error between predicted and observed (normalised) deltas.

    Shapes: pred_delta (B, D) Tensor, target_delta (B, D) array or Tensor -> scalar Tensor
    (averaged over both the batch and the D features: the last two axes, so S seeds' models stacked
    as (S, B, D) give one loss per seed, `minirl.stacking`).
    """
    target = target_delta if isinstance(target_delta, Tensor) else Tensor(np.asarray(target_delta, dtype=pred_delta.dtype))
    if pred_delta.shape != target.shape:
        raise ValueError(f"dynamics_loss: prediction shape {pred_delta.shape} != target shape {target.shape}")
    raise NotImplementedError("lesson 07: implement dynamics_loss, see notebooks/07_learning_models.ipynb")


def reward_regression_loss(pred_reward: Tensor, target_reward) -> Tensor:
    """L_r = mean_i (r_psi(s_i, a_i) - r_i)^2.  Shapes: (B,), (B,) -> scalar (the mean over the last axis)."""
    target = target_reward if isinstance(target_reward, Tensor) else Tensor(np.asarray(target_reward, dtype=pred_reward.dtype))
    if pred_reward.shape != target.shape:
        raise ValueError(f"reward_regression_loss: prediction shape {pred_reward.shape} != target shape {target.shape}")
    err = pred_reward - target                                  # (B,)
    return (err * err).mean(axis=-1)


def preference_probability(score_a, score_b) -> np.ndarray:
    """P(A > B) = sigmoid(score_a - score_b) as a plain array (no graph). Shapes: (N,), (N,) -> (N,)."""
    d = np.asarray(getattr(score_a, "data", score_a), dtype=np.float64) - np.asarray(getattr(score_b, "data", score_b), dtype=np.float64)
    return 0.5 * (np.tanh(0.5 * d) + 1.0)


def bradley_terry_loss(score_a: Tensor, score_b: Tensor, prefs) -> Tensor:
    """Eq. (2): the Bradley-Terry negative log-likelihood of the judge's answers.

    With d = score_a - score_b: -log sigmoid(d) = softplus(-d) and -log(1 - sigmoid(d)) = softplus(d),
    which stays finite for large |d| (never take the log of a sigmoid that rounded to 0).

    Shapes: score_a (N,), score_b (N,) Tensors; prefs (N,) in [0, 1] (1 = A preferred) -> scalar.
    """
    y = np.asarray(getattr(prefs, "data", prefs), dtype=np.float64)
    if score_a.shape != score_b.shape or y.shape != score_a.shape:
        raise ValueError(f"bradley_terry_loss: score_a {score_a.shape}, score_b {score_b.shape} and "
                         f"prefs {y.shape} must have the same shape (N,)")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"bradley_terry_loss: prefs must lie in [0, 1] (1 = A preferred), got range "
                         f"[{y.min()}, {y.max()}]")
    raise NotImplementedError("lesson 07: implement bradley_terry_loss, see notebooks/07_learning_models.ipynb")


# ------------------------------------------------------------------------------------- models
class DynamicsModel(Module):
    """s' = s + delta_phi(s, a): an MLP on normalised (s, a) predicting the normalised delta.

    Call `fit_normalisers(obs, act, next_obs)` on the training data before training.
    Shapes: forward(obs (B, obs_dim), act (B, act_dim)) -> next_obs (B, obs_dim);
    normalised_delta(...) -> (B, obs_dim), the quantity the loss (1) compares.
    """

    def __init__(self, obs_dim: int, act_dim: int, *, rng: np.random.Generator, hidden: tuple = (64, 64),
                 activation: str = "tanh"):
        for field, value in (("obs_dim", obs_dim), ("act_dim", act_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"DynamicsModel: {field} must be a positive integer, got {value!r}")
        self.obs_dim, self.act_dim = int(obs_dim), int(act_dim)
        self.net = MLP([obs_dim + act_dim, *hidden, obs_dim], rng=rng, activation=activation, output_gain=1.0)
        self.in_norm = Normalizer(obs_dim + act_dim)
        self.delta_norm = Normalizer(obs_dim)

    def fit_normalisers(self, obs, act, next_obs) -> None:
        obs, act = np.asarray(obs, dtype=np.float64), np.asarray(act, dtype=np.float64)
        self.in_norm.fit(np.concatenate([obs, act], axis=1))
        self.delta_norm.fit(np.asarray(next_obs, dtype=np.float64) - obs)

    def normalised_delta(self, obs, act) -> Tensor:
        x = concatenate([_tensor(obs), _tensor(act)], axis=-1)  # (B, obs_dim + act_dim)
        return self.net(self.in_norm(x))                        # (B, obs_dim)

    def forward(self, obs, act) -> Tensor:
        obs = _tensor(obs)
        return obs + self.delta_norm.inverse(self.normalised_delta(obs, act))

    def state_dict(self):
        state = super().state_dict()
        for name, norm in (("in_norm", self.in_norm), ("delta_norm", self.delta_norm)):
            state.update({f"{name}.{k}": v for k, v in norm.state_dict().items()})
        return state

    def load_state_dict(self, state, strict: bool = True):
        state = dict(state)
        for name, norm in (("in_norm", self.in_norm), ("delta_norm", self.delta_norm)):
            norm.load_state_dict({k: state.pop(f"{name}.{k}") for k in ("mean", "std")})
        super().load_state_dict(state, strict)


class RewardModel(Module):
    """r_psi(s, a): an MLP on normalised (s, a) -> a scalar per row, plus segment scores for Eq. (2).

    Shapes: forward(obs (B, obs_dim), act (B, act_dim)) -> (B,);
    segment_score(seg_obs (N, L, obs_dim), seg_act (N, L, act_dim)) -> (N,) = sum over the L steps.
    The output is `out_scale * net(...) + out_shift` (set `out_*` to the reward statistics when
    regressing, so the network itself learns a normalised target).
    """

    def __init__(self, obs_dim: int, act_dim: int, *, rng: np.random.Generator, hidden: tuple = (64, 64),
                 activation: str = "tanh"):
        for field, value in (("obs_dim", obs_dim), ("act_dim", act_dim)):
            if not isinstance(value, (int, np.integer)) or value <= 0:
                raise ValueError(f"RewardModel: {field} must be a positive integer, got {value!r}")
        self.obs_dim, self.act_dim = int(obs_dim), int(act_dim)
        self.net = MLP([obs_dim + act_dim, *hidden, 1], rng=rng, activation=activation, output_gain=1.0)
        self.in_norm = Normalizer(obs_dim + act_dim)
        self.out_shift, self.out_scale = 0.0, 1.0

    def fit_normalisers(self, obs, act) -> None:
        self.in_norm.fit(np.concatenate([np.asarray(obs, dtype=np.float64), np.asarray(act, dtype=np.float64)], axis=1))

    def forward(self, obs, act) -> Tensor:
        x = concatenate([_tensor(obs), _tensor(act)], axis=-1)  # (..., obs_dim + act_dim)
        out = self.net(self.in_norm(x))                         # (..., 1)
        out = out.reshape(out.shape[:-1])                       # (...)
        return out * self.out_scale + self.out_shift

    def segment_score(self, seg_obs, seg_act) -> Tensor:
        return self.forward(seg_obs, seg_act).sum(axis=-1)      # (N, L) -> (N,)

    def state_dict(self):
        state = super().state_dict()
        state.update({f"in_norm.{k}": v for k, v in self.in_norm.state_dict().items()})
        state["out_shift"], state["out_scale"] = np.asarray(self.out_shift), np.asarray(self.out_scale)
        return state

    def load_state_dict(self, state, strict: bool = True):
        state = dict(state)
        self.in_norm.load_state_dict({k: state.pop(f"in_norm.{k}") for k in ("mean", "std")})
        shift, scale = (np.asarray(state.pop(k), dtype=np.float64) for k in ("out_shift", "out_scale"))
        # numbers, or one per seed (S, 1) when S models are stacked (`minirl.stacking`)
        self.out_shift, self.out_scale = (float(shift), float(scale)) if shift.ndim == 0 else (shift, scale)
        super().load_state_dict(state, strict)


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x, dtype=np.float64))


# ------------------------------------------------------------------------------------- imagination
def squash_action(pre_action: Tensor, action_scale: float) -> Tensor:
    """a = a_max tanh(u): a smooth map from the Gaussian's unbounded u into [-a_max, a_max]."""
    return pre_action.tanh() * action_scale


def imagined_return(policy, dynamics, reward, start_obs, horizon: int, rng: np.random.Generator, *,
                    gamma: float = 0.99, action_scale: float = 1.0, stochastic: bool = True) -> Tensor:
    """Eq. (3): the SVG(H) objective, the discounted H-step return of `policy` inside the models.

    Args:
        policy: a `GaussianPolicy` (its `dist(obs)` gives the pre-squash Normal).
        dynamics: callable (obs (B, D), act (B, A)) -> next obs (B, D) Tensor, e.g. a `DynamicsModel`.
        reward: callable (obs (B, D), act (B, A)) -> (B,) Tensor, e.g. a `RewardModel`.
        start_obs: (B, D) start states (real observations from the replay data).
        horizon: H >= 1 imagined steps.
        stochastic: reparameterised sample u = mu + sigma eps (True) or the mean u = mu (False).
    Returns:
        a scalar Tensor: the mean over the B start states of sum_{t<H} gamma^t r_t (over the last
        axis: S stacked seeds, start_obs (S, B, D), give one value per seed, (S,)).
    """
    if not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"imagined_return: horizon must be an integer >= 1, got {horizon!r}")
    number("imagined_return", "gamma", gamma, low=0, high=1, low_open=True)
    number("imagined_return", "action_scale", action_scale, low=0, low_open=True)
    obs = _tensor(start_obs)                                    # (B, D)
    raise NotImplementedError("lesson 07: implement imagined_return, see notebooks/07_learning_models.ipynb")
