"""Drive the real car: baselines, and one planner through three kinds of model (`minirl driving`).

**Planner: random shooting (model-predictive control).** At each real step, draw K action
sequences a^k_{0:H} uniformly from the 5 actions, predict each one's H-step return through a
model, execute the first action of the best, and re-plan at the next step (Nagabandi et al., 2018):

    J(k) = sum_{t<H} alive^k_t r(o^k_{t+1}, a^k_t),      a_0 = a^{k*}_0,   k* = argmax_k J(k)

The same planner (same K, H, random sequences) runs with four models:

| dynamics                              | score r                                    |
|---------------------------------------|--------------------------------------------|
| exact copy of the env (`envmodel`)    | the env's reward (the upper bound)         |
| exact copy of the env                 | the learned outcome reward on the copy's observations |
| learned world model o' = f_phi(o, a)  | the env's reward formula read off the imagined observation |
| learned world model                   | the learned outcome reward                 |

With the exact copy a crash or the time limit ends the sequence (alive = 0 after it), as in the
real env. Through the learned world model the formula's crash test (two boxes within 0.5 m) ends
it; the learned reward has no crash flag and never does.

**Baselines.** Three fixed policies on the same seeds: always SLOWER (brake to the lowest target
speed and keep the lane), "keep lane and speed" (the env's IDLE action, which still runs into
slower cars ahead), and the careful driver that collected part of the data (`collect.careful_action`).

Every episode row: the return the env paid, the return the planner *predicted* for the steps it
took (sum of the predicted one-step rewards of its executed actions; NaN for baselines), steps,
crashed, and the mean forward speed (m/s).

Shapes: obs (5, 5) per real step; imagined batches (K, 25); sequences (K, H) ints.
"""

from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from .collect import careful_action
from .data import LANES, V_RANGE, X_RANGE, Y_RANGE, lane_from_obs
from .envmodel import rollout_tree

__all__ = ["true_reward_from_obs", "crash_from_obs", "imagine", "plan_through_model", "plan_through_copy",
           "run_episode", "crash_side", "BASELINES", "PLANNERS", "forward_speed"]

CAR_LENGTH, CAR_WIDTH = 5.0, 2.0
# highway-env declares a crash when the boxes will overlap one 0.2 s frame ahead, then pushes the
# cars apart: at the observed crash step they touch (dx ~ 5 m) rather than overlap. A 0.5 m margin
# catches most of the crashes in the shipped data (`minirl driving` prints how many).
MARGIN = 0.5
SLOWER, IDLE = 4, 1

BASELINES = {"always SLOWER": lambda obs: SLOWER,
             "keep lane and speed (IDLE)": lambda obs: IDLE,
             "careful driver": careful_action}
# planner arm -> (dynamics, score)
PLANNERS = {"planner: exact copy + env reward": ("exact", "env"),
            "planner: exact copy + learned reward": ("exact", "learned"),
            "planner: world model + env formula": ("model", "formula"),
            "planner: world model + learned reward": ("model", "learned")}


def crash_from_obs(obs) -> np.ndarray:
    """Does any present car's box touch the ego's (within MARGIN)? obs (B, 25) or (B, 5, 5) -> (B,) bool."""
    o = np.asarray(obs, dtype=np.float64).reshape(-1, 5, 5)
    dx, dy = o[:, 1:, 1] * X_RANGE, o[:, 1:, 2] * Y_RANGE                  # (B, 4) metres
    return np.any((o[:, 1:, 0] > 0) & (np.abs(dx) < CAR_LENGTH + MARGIN) & (np.abs(dy) < CAR_WIDTH + MARGIN), axis=1)


def true_reward_from_obs(obs, act=None) -> np.ndarray:
    """highway-fast-v0's reward formula on features read from an observation, (B,).

        r = (w_c crash + w_l lane / 2 + w_v clip((vx - 20) / 10, 0, 1) - w_c) / (w_v + w_l - w_c)
        w_c = -1, w_l = 0.1, w_v = 0.4
    """
    o = np.asarray(obs, dtype=np.float64).reshape(-1, 5, 5)
    lane = lane_from_obs(o)
    speed = np.clip((o[:, 0, 3] * V_RANGE - 20.0) / 10.0, 0.0, 1.0)
    raw = -1.0 * crash_from_obs(o) + 0.1 * lane / (LANES - 1) + 0.4 * speed
    return (raw + 1.0) / 1.5


def _data(x) -> np.ndarray:
    return np.asarray(getattr(x, "data", x), dtype=np.float64)


def imagine(obs, seqs, dynamics, reward_fn, crash_ends: bool) -> tuple[np.ndarray, np.ndarray]:
    """Predicted H-step return of each sequence (K, H) from `obs` through a learned world model, (K,),
    and the predicted reward of its first step, (K,). `dynamics(o (K, 25), a (K, 5))`, `reward_fn(o', a)`."""
    seqs = np.asarray(seqs, dtype=np.int64)
    eye = np.eye(5)
    o = np.repeat(np.asarray(obs, dtype=np.float64).reshape(1, 25), len(seqs), axis=0)
    total, alive, first = np.zeros(len(seqs)), np.ones(len(seqs)), None
    with no_grad():
        for t in range(seqs.shape[1]):
            a = eye[seqs[:, t]]                                            # (K, 5)
            o = _data(dynamics(o, a))                                      # (K, 25) imagined next obs
            r = _data(reward_fn(o, a))                                     # (K,)
            total += alive * r
            first = r if first is None else first
            if crash_ends:
                alive = alive * ~crash_from_obs(o)
    return total, first


def _check(horizon, n_candidates):
    if horizon < 1 or n_candidates < 1:
        raise ValueError(f"planner: horizon and n_candidates must be >= 1, got {horizon}, {n_candidates}")


def plan_through_model(obs, dynamics, reward_fn, *, horizon: int, n_candidates: int, rng: np.random.Generator,
                       crash_ends: bool = False) -> tuple[int, float]:
    """Random shooting through a learned world model: (first action of the best sequence, its
    predicted one-step reward)."""
    _check(horizon, n_candidates)
    seqs = rng.integers(0, 5, size=(n_candidates, horizon))                # (K, H)
    total, first = imagine(obs, seqs, dynamics, reward_fn, crash_ends)
    best = int(np.argmax(total))
    return int(seqs[best, 0]), float(first[best])


def learned_return(reward_fn, rollout: dict, seqs) -> tuple[np.ndarray, np.ndarray]:
    """The learned outcome reward summed over the steps each exact rollout lived, (K,), and its first
    step's value, (K,). `rollout` is `rollout_tree(..., observe=True)`."""
    seqs = np.asarray(seqs, dtype=np.int64)
    K, H = seqs.shape
    alive = np.arange(H)[None, :] < rollout["steps"][:, None]              # (K, H)
    obs = np.nan_to_num(rollout["next_obs"]).reshape(K * H, 25)
    with no_grad():
        r = _data(reward_fn(obs, np.eye(5)[seqs.reshape(-1)])).reshape(K, H)
    return np.sum(np.where(alive, r, 0.0), axis=1), r[:, 0]


def plan_through_copy(env, *, horizon: int, n_candidates: int, rng: np.random.Generator,
                      reward_fn=None) -> tuple[int, float]:
    """Random shooting through exact copies of `env` (its current state): score by the env's reward,
    or with `reward_fn(o', a)` by a learned reward on the copies' observations."""
    _check(horizon, n_candidates)
    seqs = rng.integers(0, 5, size=(n_candidates, horizon))
    rollout = rollout_tree(env, seqs, observe=reward_fn is not None)
    if reward_fn is None:
        total, first = rollout["returns"], rollout["rewards"][:, 0]
    else:
        total, first = learned_return(reward_fn, rollout, seqs)
    best = int(np.argmax(total))
    return int(seqs[best, 0]), float(first[best])


def forward_speed(env) -> float:
    """The ego car's forward speed v cos(heading), m/s (what the reward pays for)."""
    v = env.unwrapped.vehicle
    return float(v.speed * np.cos(v.heading))


def crash_side(env) -> str:
    """Where the car the ego crashed into was: "ahead", "behind" (along the road), or "" (no crash)."""
    u = env.unwrapped
    ego = u.vehicle
    others = [v for v in u.road.vehicles if v is not ego and v.crashed]
    if not ego.crashed or not others:
        return ""
    gap = min((ego.lane_distance_to(v) for v in others), key=abs)      # metres along the road, + ahead
    return "ahead" if gap > 0 else "behind"


def run_episode(policy, env, seed: int) -> dict:
    """One episode of `policy(obs, env) -> (action, predicted reward or NaN)` from reset seed `seed`.

    Returns {seed, return (paid), predicted, steps, crashed, hit (the other car was "ahead" or
    "behind"; "" without a crash), speed (mean forward speed, m/s)}.
    """
    obs, _ = env.reset(seed=int(seed))
    paid, predicted, steps, speeds, done = 0.0, 0.0, 0, [], False
    while not done:
        action, pred = policy(obs, env)
        obs, reward, terminated, truncated, _ = env.step(int(action))
        paid, predicted, steps = paid + float(reward), predicted + float(pred), steps + 1
        speeds.append(forward_speed(env))
        done = terminated or truncated
    return {"seed": int(seed), "return": paid, "predicted": predicted, "steps": steps,
            "crashed": bool(env.unwrapped.vehicle.crashed), "hit": crash_side(env), "speed": float(np.mean(speeds))}
