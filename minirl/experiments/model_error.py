"""When a learned model misleads: the return gap as model error grows (less data, noisier data).

For each setting of one *knob* we run the model-based arm (`minirl.algos.model_based.run`: SVG(H)
through learned models of the black-box env, Dyna-like re-collection) and then score its final policy
twice, from the same fixed start states:

* `true_return`: the 200-step return in the real dynamics (rolled out in the differentiable twin,
  which has exactly the black box's dynamics; the learner itself never touched the twin);
* `imagined_return`: the 200-step return the learned models *predict* for the same policy and starts.

Derived numbers:

    optimism   = imagined_return - true_return         (how much the model flatters the policy)
    return_gap = true_return(cleanest setting, same seed) - true_return      (what the error costs)
    dyn_error  = one-step normalised MSE of the learned dynamics on the policy's own true trajectory

| knob | what it does | cleanest value |
|---|---|---|
| `data_fraction` | keep only this share of the real steps as model data | 1.0 |
| `obs_noise` | Gaussian noise (std) on the observations the models are fitted on | 0.0 |
| `reward_noise` | Gaussian noise (std) on the reward labels of the regression reward model | 0.0 |
| `judge_temperature` | Boltzmann noise of the judge (preference reward model) | 0.0 |
| `n_pairs` | how many judged pairs the preference reward model gets | the largest |

**The planning probe** (`run_planning_gap`, fast and low-variance: what the tests and the notebook's
fast mode use). No policy and no re-collection: fit the models once on random black-box transitions,
then optimise an open-loop torque sequence a_{0:H} for each of a fixed set of start states by
gradient ascent on the model's H-step return (backprop through the learned models), execute the plan
in the real dynamics, and compare with the same optimisation through the true dynamics:

    return_gap = true return of the plan optimised in the TRUE model - true return of the plan
                 optimised in the LEARNED model  (>= 0 up to optimisation noise)

Its knobs: `n_transitions` (less data), `obs_noise`, `reward_noise`.

Everything returned is plain data (`ModelErrorPoint` rows, `summarise` tables); figures are in
`minirl.plotting.model_error`.
"""

from __future__ import annotations

import dataclasses
import time
import warnings

import numpy as np

from ..algos import model_based as mb
from ..algos.world_models import DynamicsModel, RewardModel, frozen, imagined_return, squash_action
from ..autograd import Tensor, no_grad, stack, straight_through
from ..optim import Adam
from ..envs import make_twin

__all__ = ["KNOBS", "PLAN_KNOBS", "ModelErrorPoint", "run_model_error", "run_planning_gap", "plan_actions",
           "summarise", "FAST"]

KNOBS = {
    "data_fraction": {"values": (1.0, 0.3, 0.1, 0.03), "cleanest": max, "config": {}},
    "obs_noise": {"values": (0.0, 0.05, 0.15, 0.4), "cleanest": min, "config": {}},
    "reward_noise": {"values": (0.0, 1.0, 3.0, 9.0), "cleanest": min, "config": {}},
    "judge_temperature": {"values": (0.0, 3.0, 10.0, 30.0), "cleanest": min,
                          "config": {"reward_model": "preferences"}},
    "n_pairs": {"values": (1000, 200, 50, 10), "cleanest": max, "config": {"reward_model": "preferences"}},
}

# A cheaper setting of the online sweep (the notebook's full mode): half the policy updates per
# episode and a longer random warm-up than the defaults; about 2.5 s of CPU per 1000 real steps.
FAST = {"total_steps": 6000, "config": {"policy_updates": 20, "initial_random_steps": 1000}}


@dataclasses.dataclass
class ModelErrorPoint:
    """One run: `knob` set to `value` for `seed` (see the module docstring for the quantities)."""

    knob: str
    value: float
    seed: int
    true_return: float
    imagined_return: float
    optimism: float
    dyn_error: float
    warnings: int
    time_s: float
    return_gap: float = float("nan")


def _rollout_scores(agent, twin, start_state, horizon: int, rng: np.random.Generator) -> tuple[float, float, float]:
    """(true return, imagined return, on-policy one-step dynamics error) from the same start states."""
    policy, scale = agent.policy, agent.action_scale
    with no_grad():
        state, true_total = Tensor(start_state), np.zeros(len(start_state))
        obs_list, act_list, next_list = [], [], []
        for _ in range(horizon):
            obs = twin.observe(state)                                      # (B, 3)
            act = squash_action(policy.mean_action(obs), scale)            # (B, 1)
            state, r = twin.step(state, act)
            true_total += r.data
            obs_list.append(obs.data), act_list.append(act.data), next_list.append(twin.observe(state).data)
        obs0 = twin.observe(Tensor(start_state))
        with frozen(agent.dynamics, agent.reward):
            imagined = imagined_return(policy, agent.dynamics, agent.reward, obs0, horizon, rng, gamma=1.0,
                                       action_scale=scale, stochastic=False).item()
        n = sum(len(o) for o in obs_list)
        on_policy = mb.Transitions(np.concatenate(obs_list), np.concatenate(act_list), np.zeros(n),
                                   np.concatenate(next_list), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool))
        dyn_error = mb.dynamics_error(agent.dynamics, on_policy)
    return float(true_total.mean()), float(imagined), dyn_error


def run_model_error(knob: str, values=None, seeds=(0, 1, 2), *, total_steps: int = 5000, config=None,
                    env: str = "minirl/Pendulum-v1", n_eval: int = 16, eval_seed: int = 12345,
                    horizon: int = 200, progress=None) -> list[ModelErrorPoint]:
    """Run the model-based arm for every (value, seed) of `knob` and score each final policy.

    Args:
        knob: one of `KNOBS`.
        values: the knob's settings (default `KNOBS[knob]["values"]`).
        seeds: training seeds; the evaluation start states are the same for every run (`eval_seed`).
        total_steps: real env steps per run.
        config: further `ModelBasedConfig` fields (dict), e.g. `FAST["config"]`.
        env: a Gymnasium id with a differentiable twin (used only to score, never to learn).
        n_eval: start states scored per run; horizon: steps scored (Pendulum's episode: 200).
        progress: optional callable(point) after each run.
    Returns:
        one `ModelErrorPoint` per run, `return_gap` filled in against the cleanest value per seed.
    """
    if knob not in KNOBS:
        raise ValueError(f"run_model_error: unknown knob {knob!r}; choose from {sorted(KNOBS)}")
    values = tuple(KNOBS[knob]["values"] if values is None else values)
    if len(values) == 0:
        raise ValueError("run_model_error: give at least one value")
    twin = make_twin(env)
    start_state = twin.reset(np.random.default_rng(eval_seed), n_eval).data      # (n_eval, state_dim)
    points = []
    for value in values:
        for seed in seeds:
            cfg = {**KNOBS[knob]["config"], **(config or {}), knob: value}
            t0 = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", mb.ModelWarning)
                _, agent = mb.run(env, seed=seed, total_steps=total_steps, config=cfg)
            true_ret, imagined, dyn_error = _rollout_scores(agent, twin, start_state, horizon,
                                                            np.random.default_rng(seed))
            if agent.cfg.reward_model == "preferences":
                imagined = float("nan")         # a preference reward has an arbitrary offset per step
            point = ModelErrorPoint(knob, float(value), int(seed), true_ret, imagined, imagined - true_ret,
                                    dyn_error, sum(issubclass(w.category, mb.ModelWarning) for w in caught),
                                    time.perf_counter() - t0)
            points.append(point)
            if progress is not None:
                progress(point)
    cleanest = KNOBS[knob]["cleanest"](values)
    reference = {p.seed: p.true_return for p in points if p.value == cleanest}
    for p in points:
        p.return_gap = reference[p.seed] - p.true_return
    return points


def summarise(points) -> list[dict]:
    """Per (knob, value): means over seeds of every quantity, plus the number of seeds."""
    rows = []
    keys = list(dict.fromkeys((p.knob, p.value) for p in points))       # in order of first appearance
    for knob, value in keys:
        group = [p for p in points if p.knob == knob and p.value == value]
        row = {"knob": knob, "value": value, "seeds": len(group)}
        for field in ("true_return", "imagined_return", "optimism", "return_gap", "dyn_error", "warnings", "time_s"):
            vals = np.array([getattr(p, field) for p in group], dtype=np.float64)
            row[field] = float(np.mean(vals)) if np.isfinite(vals).any() else float("nan")
        rows.append(row)
    return rows


# ------------------------------------------------------------------------------------- planning probe
PLAN_KNOBS = {"n_transitions": {"values": (4000, 400, 100), "cleanest": max},
              "obs_noise": {"values": (0.0, 0.1, 0.3), "cleanest": min},
              "reward_noise": {"values": (0.0, 2.0, 6.0), "cleanest": min}}


def _true_model(twin):
    """The real dynamics and reward as functions of (obs, act), for planning and scoring.

    Pendulum's obs [cos th, sin th, th_dot] determines the state; the angle is recovered with atan2.
    """
    def step(obs, act):
        state = stack([_angle(obs), obs[:, 2]], axis=1)                     # (B, 2) [th, th_dot]
        return twin.step(state, act)

    def dynamics(obs, act):
        return twin.observe(step(obs, act)[0])

    def reward(obs, act):
        return step(obs, act)[1]

    return dynamics, reward


def _angle(obs: Tensor) -> Tensor:
    """th = atan2(sin, cos) as a Tensor op: value exact, gradient of the angle on the unit circle,
    d th = cos dsin - sin dcos (valid for cos^2 + sin^2 = 1)."""
    c, s = obs[:, 0], obs[:, 1]
    th = np.arctan2(s.data, c.data)
    # a surrogate whose gradient is (-sin, cos) at the current point; its value is replaced by th
    surrogate = c * (-s.data) + s * c.data
    return straight_through(th, surrogate)


def plan_actions(dynamics, reward, start_obs: np.ndarray, horizon: int, *, iters: int = 60, lr: float = 0.1,
                 action_scale: float = 2.0) -> tuple[np.ndarray, float]:
    """Open-loop plans a_{0:H} (B, H, act_dim) maximising sum_t r(s_t, a_t) inside the given model.

    a_t = a_max tanh(u_t); u starts at 0 and follows Adam on the model's return (backprop through
    time through `dynamics` and `reward`). Returns (actions (B, H, act_dim), model return of the plan).
    """
    B = len(start_obs)
    u = Tensor(np.zeros((B, horizon, 1)), requires_grad=True)                # (B, H, 1)
    opt = Adam([u], lr=lr)
    for _ in range(iters):
        opt.zero_grad()
        J = _plan_return(dynamics, reward, start_obs, squash_action(u, action_scale))
        (-J).backward()
        opt.step()
    with no_grad():
        acts = squash_action(u, action_scale)
        J = _plan_return(dynamics, reward, start_obs, acts)
    return acts.data, float(J.item())


def _plan_return(dynamics, reward, start_obs, acts: Tensor) -> Tensor:
    obs = Tensor(np.asarray(start_obs, dtype=np.float64))                   # (B, D)
    total = 0.0
    for t in range(acts.shape[1]):
        a = acts[:, t, :]                                                    # (B, 1)
        total = total + reward(obs, a)
        obs = dynamics(obs, a)
    return total.mean()


def run_planning_gap(knob: str, values=None, seeds=(0, 1), *, env: str = "minirl/Pendulum-v1",
                     n_transitions: int = 4000, model_steps: int = 400, horizon: int = 30, n_starts: int = 16,
                     iters: int = 60, eval_seed: int = 12345, progress=None) -> list[ModelErrorPoint]:
    """The planning probe (module docstring) for every (value, seed) of `knob` in `PLAN_KNOBS`.

    Per seed: `n_transitions` random-action transitions from the black box `env` (the seed also
    initialises the models); per value: corrupt/subsample, fit both models (`model_steps` Adam steps),
    plan `horizon` steps from the `n_starts` fixed start states, score the plan in the true dynamics.
    `true_return` / `imagined_return` are per-start H-step returns (means over the starts).
    """
    if knob not in PLAN_KNOBS:
        raise ValueError(f"run_planning_gap: unknown knob {knob!r}; choose from {sorted(PLAN_KNOBS)}")
    values = tuple(PLAN_KNOBS[knob]["values"] if values is None else values)
    twin = make_twin(env)
    if getattr(twin, "name", None) != "pendulum":
        raise ValueError(f"run_planning_gap is written for Pendulum (observations [cos, sin, th_dot]); "
                         f"got env {env!r}; use 'minirl/Pendulum-v1'")
    true_dyn, true_rew = _true_model(twin)
    start_obs = twin.observe(twin.reset(np.random.default_rng(eval_seed), n_starts)).data     # (S, 3)
    ref_acts, _ = plan_actions(true_dyn, true_rew, start_obs, horizon, iters=iters)
    with no_grad():
        reference = _plan_return(true_dyn, true_rew, start_obs, Tensor(ref_acts)).item()
    points = []
    for seed in seeds:
        n_max = max(n_transitions, int(max(values)) if knob == "n_transitions" else 0)
        clean, _ = mb.collect(env, None, np.random.default_rng(seed), n_steps=n_max, val_fraction=0.1)
        for value in values:
            t0 = time.perf_counter()
            rng = np.random.default_rng([seed, 1])                          # same model init per value
            data = clean.subset(np.arange(len(clean)) < (int(value) if knob == "n_transitions" else n_transitions))
            data = data.noisy(value if knob == "obs_noise" else 0.0, value if knob == "reward_noise" else 0.0, rng)
            dyn = DynamicsModel(3, 1, rng=rng)
            rew = RewardModel(3, 1, rng=rng)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", mb.ModelWarning)
                mb.fit_dynamics(dyn, data, rng, steps=model_steps, lr=2e-3)
                mb.fit_reward_regression(rew, data, rng, steps=model_steps, lr=2e-3)
            with frozen(dyn, rew):
                acts, imagined = plan_actions(dyn, rew, start_obs, horizon, iters=iters)
            with no_grad():
                true_ret = _plan_return(true_dyn, true_rew, start_obs, Tensor(acts)).item()
                # one-step error of the learned dynamics along the executed plan (normalised units)
                obs, rows = Tensor(start_obs), []
                for t in range(horizon):
                    nxt = true_dyn(obs, Tensor(acts[:, t]))
                    rows.append((obs.data, acts[:, t], nxt.data))
                    obs = nxt
            n = horizon * n_starts
            path = mb.Transitions(np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows]),
                                  np.zeros(n), np.concatenate([r[2] for r in rows]), np.zeros(n, dtype=np.int64),
                                  np.zeros(n, dtype=bool))
            point = ModelErrorPoint(knob, float(value), int(seed), float(true_ret), float(imagined),
                                    float(imagined - true_ret), mb.dynamics_error(dyn, path),
                                    sum(issubclass(w.category, mb.ModelWarning) for w in caught),
                                    time.perf_counter() - t0, float(reference - true_ret))
            points.append(point)
            if progress is not None:
                progress(point)
    return points
