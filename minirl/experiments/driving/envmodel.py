"""The real env as its own model: an exact copy, stepped without drawing the observation.

A planner or a best-of-N selector that plans through `copy.deepcopy` of the highway env has the
*exact* dynamics: what would happen is what will happen. It is the upper bound against which the
learned world model is judged (`minirl driving`, the "who is to blame" table).

    fast_step(u, a) = (r, terminated, truncated)        what `env.step(a)` returns, minus obs and info

`rollout_tree` rolls K action sequences of H steps from the env's current state. Sequences that
share a prefix share its simulation (a trie walked depth first), so K = 64 random sequences of 5
steps cost about 200 simulated steps instead of 320. A sequence whose episode ends (crash or time
limit) earns nothing after the end, exactly as in the real env.

highway-fast-v0 simulates about 20 ms per step on one core (the other cars' IDM controllers query
every neighbour); drawing the Kinematics observation adds about 5 ms (a pandas table).

Shapes: seqs (K, H) ints in 0..4; rewards (K, H) (0 after the end); next_obs (K, H, 25) (NaN after
the end); returns, crashed, steps (K,).
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["fast_step", "rollout_tree"]


def fast_step(u, action: int) -> tuple[float, bool, bool]:
    """One step of the unwrapped highway env `u`, as `AbstractEnv.step` does it, without drawing the
    observation or the info dict: (reward, terminated, truncated)."""
    u.time += 1 / u.config["policy_frequency"]
    u._simulate(int(action))
    return float(u._reward(int(action))), bool(u._is_terminated()), bool(u._is_truncated())


def rollout_tree(env, seqs, *, observe: bool = False) -> dict:
    """Roll every action sequence of `seqs` (K, H) from `env`'s current state in exact copies.

    `env` is left untouched. With `observe`, the Kinematics observation after every step is drawn
    too (for a reward model that reads observations). Returns {"rewards" (K, H), "returns" (K,),
    "crashed" (K,) bool, "steps" (K,) int: steps before the episode ended or H, and "next_obs"
    (K, H, 25) if `observe`}.
    """
    seqs = np.asarray(seqs, dtype=np.int64)
    if seqs.ndim != 2 or seqs.shape[1] < 1 or seqs.size == 0:
        raise ValueError(f"rollout_tree: seqs must be a (K, H) array of actions with K, H >= 1, got {seqs.shape}")
    if seqs.min() < 0 or seqs.max() > 4:
        raise ValueError(f"rollout_tree: actions must be in 0..4, got {seqs.min()}..{seqs.max()}")
    K, H = seqs.shape
    out = {"rewards": np.zeros((K, H)), "crashed": np.zeros(K, dtype=bool), "steps": np.full(K, H)}
    if observe:
        out["next_obs"] = np.full((K, H, 25), np.nan)
    root = env.unwrapped

    def walk(state, depth: int, members: np.ndarray, owned: bool) -> None:
        groups = [(a, members[seqs[members, depth] == a]) for a in np.unique(seqs[members, depth])]
        for i, (action, group) in enumerate(groups):
            last = i == len(groups) - 1
            child = state if (owned and last) else copy.deepcopy(state)      # the last child may reuse the parent
            reward, terminated, truncated = fast_step(child, action)
            out["rewards"][group, depth] = reward
            if observe:
                out["next_obs"][group, depth] = child.observation_type.observe().reshape(25)
            if terminated or truncated:
                out["crashed"][group] = terminated
                out["steps"][group] = depth + 1
            elif depth + 1 < H:
                walk(child, depth + 1, group, True)

    walk(root, 0, np.arange(K), False)
    out["returns"] = out["rewards"].sum(axis=1)
    return out
