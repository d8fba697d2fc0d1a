"""Optimise through the learned models, then drive the real car (item 4 of `minirl driving`).

**Planner: random shooting (model-predictive control).** At each real step, from the current
observation o_0, draw K action sequences a^k_{0:H} uniformly from the 5 actions, roll each through
the learned one-step world model f_phi (lesson 07), score it, and execute the first action of the
best sequence; re-plan at the next step (Nagabandi et al., 2018):

    o^k_{t+1} = f_phi(o^k_t, a^k_t),      J(k) = sum_{t<H} alive^k_t r(o^k_{t+1}, a^k_t),
    a_0 = a^{k*}_0,   k* = argmax_k J(k)

Two scores r, with the same world model:

* **learned reward**: the MLP regression reward model on observations (item 1); it has no crash
  flag, so it cannot know that a crash ends the episode (alive = 1 throughout);
* **true reward formula**: highway-env's own reward function (`minirl.experiments.driving.data`'s docstring)
  evaluated on the imagined observation: lane from the ego's y, speed from its vx, and a crash
  whenever another present car's box touches the ego's (|dx| < 5.5 m and |dy| < 2.5 m); a predicted
  crash also ends the imagined episode (alive = 0 afterwards).

Both are evaluated in the real highway-fast-v0 on the same evaluation seeds (disjoint from the data),
beside the env's IDLE policy and the careful driver that collected part of the data. Per episode:
the return the env paid, whether it crashed, and the return the planner *predicted* for the steps
it took (the sum of r(f_phi(o_t, a_t), a_t) for its executed actions): the gap between the two is
what optimising through the models promised and did not deliver.

**Best-of-N action sequences, paid in the real env** (item 3, off the data). The planner's inner
step as an over-optimisation curve: from a real start state draw K = max(N) random sequences, score
each through the world model with a proxy (learned reward or the formula), and for each N take the
best of the first N. The winner's *predicted* H-step return is what the proxy promises; the real env,
copied at the start state (`copy.deepcopy`) and stepped with the winner's actions, says what it pays
and whether it crashes. Unlike best-of-N over recorded segments, the candidates here are imagined:
the proxy is asked about states it never saw.

Shapes: obs (25,) per real step; imagined batches (K, 25); sequences (K, H) ints.
"""

from __future__ import annotations

import copy

import numpy as np

from ...autograd import no_grad
from .data import LANES, V_RANGE, X_RANGE, Y_RANGE, lane_from_obs

__all__ = ["true_reward_from_obs", "crash_from_obs", "shooting_plan", "evaluate_policy", "best_of_n_sequences",
           "ARMS"]

ARMS = ("planner + learned reward", "planner + true reward formula", "IDLE (env baseline)", "careful driver")
CAR_LENGTH, CAR_WIDTH = 5.0, 2.0
# highway-env declares a crash when the boxes will overlap one 0.2 s frame ahead, then pushes the
# cars apart: at the observed crash step they touch (dx ~ 5 m) rather than overlap. A 0.5 m margin
# catches about two thirds of the crashes in the shipped data (measured by `minirl driving`).
MARGIN = 0.5


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


def shooting_plan(obs, dynamics, reward_fn, *, horizon: int, n_candidates: int, rng: np.random.Generator,
                  crash_ends: bool = False) -> tuple[int, float]:
    """Random-shooting MPC: (first action of the best sequence, its predicted one-step reward).

    `dynamics(o (K, 25), a (K, 5)) -> o' (K, 25)` (a Tensor or array); `reward_fn(o', a) -> (K,)`.
    With `crash_ends`, rewards after a predicted crash (`crash_from_obs`) count zero.
    """
    if horizon < 1 or n_candidates < 1:
        raise ValueError(f"shooting_plan: horizon and n_candidates must be >= 1, got {horizon}, {n_candidates}")
    seqs = rng.integers(0, 5, size=(n_candidates, horizon))                # (K, H)
    total, first = _imagine(obs, seqs, dynamics, reward_fn, crash_ends)
    best = int(np.argmax(total))
    return int(seqs[best, 0]), float(first[best])


def _data(x) -> np.ndarray:
    return np.asarray(getattr(x, "data", x), dtype=np.float64)


def evaluate_policy(policy, env, seeds, *, progress=None) -> list[dict]:
    """Run `policy(obs) -> (action, predicted reward or NaN)` for one episode per reset seed.

    Returns one dict per episode: seed, return (paid), predicted (sum of the predictions for the
    steps taken), steps, crashed.
    """
    rows = []
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        paid, predicted, steps, done, terminated = 0.0, 0.0, 0, False, False
        while not done:
            action, pred = policy(obs)
            obs, reward, terminated, truncated, _ = env.step(int(action))
            paid, predicted, steps = paid + float(reward), predicted + float(pred), steps + 1
            done = terminated or truncated
        rows.append({"seed": int(seed), "return": paid, "predicted": predicted, "steps": steps,
                     "crashed": bool(env.unwrapped.vehicle.crashed)})
        if progress is not None:
            progress()
    return rows


def _imagine(obs, seqs, dynamics, reward_fn, crash_ends: bool) -> tuple[np.ndarray, np.ndarray]:
    """Predicted return of each sequence (K, H) from `obs` through the models, (K,), and the predicted
    reward of its first step, (K,)."""
    eye = np.eye(5)
    o = np.repeat(np.asarray(obs, dtype=np.float64).reshape(1, 25), len(seqs), axis=0)
    total, alive, first = np.zeros(len(seqs)), np.ones(len(seqs)), None
    with no_grad():
        for t in range(seqs.shape[1]):
            a = eye[seqs[:, t]]                                            # (K, 5)
            o = _data(dynamics(o, a))                                      # (K, 25) imagined next obs
            r = _data(reward_fn(o, a))                                     # (K,)
            total += alive * r
            if first is None:
                first = r
            if crash_ends:
                alive = alive * ~crash_from_obs(o)
    return total, first


def best_of_n_sequences(env, seeds, dynamics, proxies: dict, ns, *, horizon: int, warmup: int, warmup_policy,
                        rng: np.random.Generator) -> list[dict]:
    """Best-of-N random action sequences by each proxy, paid in the real env (see the docstring).

    `proxies` maps a name to (reward_fn, crash_ends). For each reset seed the env is driven `warmup`
    steps by `warmup_policy(obs) -> action`, then the N-curve is measured from that state.
    Returns rows: proxy, seed, N, predicted, paid (H-step returns), crashed.
    """
    ns = sorted(int(n) for n in ns)
    rows = []
    for seed in seeds:
        obs, _ = env.reset(seed=int(seed))
        for _ in range(warmup):
            obs, *_ = env.step(int(warmup_policy(obs)))
        seqs = rng.integers(0, 5, size=(ns[-1], horizon))                     # (K, H), shared by the proxies
        for name, (reward_fn, crash_ends) in proxies.items():
            predicted = _imagine(obs, seqs, dynamics, reward_fn, crash_ends)[0]  # (K,)
            paid = {}
            for n in ns:
                w = int(np.argmax(predicted[:n]))                             # best of the first n
                if w not in paid:
                    paid[w] = _replay(env, seqs[w])
                rows.append({"proxy": name, "seed": int(seed), "N": n, "predicted": float(predicted[w]),
                             "paid": paid[w][0], "crashed": paid[w][1]})
    return rows


def _replay(env, actions) -> tuple[float, bool]:
    """(return, crashed) of `actions` from the env's current state, on a copy of the env."""
    sim = copy.deepcopy(env)
    total = 0.0
    for a in actions:
        _, reward, terminated, truncated, _ = sim.step(int(a))
        total += float(reward)
        if terminated or truncated:
            return total, bool(terminated)
    return total, False
