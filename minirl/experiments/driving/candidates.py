"""One pool of candidate action sequences per real start state, scored by every selector.

From a real start state (a reset, then a few careful-driver steps), K random action sequences of H
steps are drawn once. Each is rolled out once in an exact copy of the env (`candidate_task`, the
expensive part, run before any model exists), which says what it *pays* and whether it *crashes*,
and is then scored by five selectors (`score_pool`):

| selector                | dynamics            | score                                              |
|-------------------------|---------------------|----------------------------------------------------|
| `exact + env reward`    | exact copy          | the paid return itself (the oracle)                |
| `exact + learned reward`| exact copy          | the learned outcome reward r_psi(o_{t+1}, a_t) on the copy's observations, summed while alive |
| `model + env formula`   | learned world model | the env's reward formula on imagined observations (a predicted crash ends the sequence) |
| `model + learned reward`| learned world model | the learned outcome reward on imagined observations |
| `action-sequence reward`| none                | R_psi(o_0, a_{0:H}): what RLHF learns, a score of *what you do* from where you are |

The first four form the 2 x 2 "who is to blame" table (dynamics x score); the fifth is the
language analogue whose over-optimisation curve `minirl driving` draws. `selection` turns these
arrays into best-of-N curves.

Shapes: seqs (K, H); every score and outcome array (K,).
"""

from __future__ import annotations

import numpy as np

from ...autograd import no_grad
from .collect import careful_action, episode_seed, make_env
from .planner import imagine, learned_return, true_reward_from_obs

__all__ = ["SELECTORS", "BLAME", "start_state", "candidate_task", "score_pool", "outcome_scores", "sequence_scores"]

SELECTORS = ("exact + env reward", "exact + learned reward", "model + env formula", "model + learned reward",
             "action-sequence reward")
# the 2 x 2 table: (dynamics, score) -> selector
BLAME = {("exact copy", "env reward"): "exact + env reward",
         ("exact copy", "learned reward"): "exact + learned reward",
         ("learned world model", "env reward"): "model + env formula",
         ("learned world model", "learned reward"): "model + learned reward"}


def start_state(env, base_seed: int, k: int, warmup: int):
    """Reset `env` and drive `warmup` careful steps; the k-th start of a series seeded by `base_seed`.

    A start whose warm-up ends the episode is skipped for the next reset seed of the series.
    Returns (obs, the reset seed used).
    """
    j = 0
    while True:
        seed = episode_seed(base_seed, 1000 * k + j)
        obs, _ = env.reset(seed=seed)
        ended = False
        for _ in range(warmup):
            obs, _, terminated, truncated, _ = env.step(int(careful_action(obs)))
            ended = ended or terminated or truncated
        if not ended:
            return obs, seed
        j += 1


def candidate_task(k: int, *, n_candidates: int, horizon: int, warmup: int, base_seed: int = 20_000) -> dict:
    """The k-th start state's pool: K random sequences (rng [base_seed, k]) rolled out in exact copies.

    Returns {"start", "seed", "obs" (25,), "seqs" (K, H), "paid", "crashed", "steps" (K,),
    "next_obs" (K, H, 25)}: everything the selectors need, so they can score it later.
    """
    from .envmodel import rollout_tree

    env = make_env()
    try:
        obs, seed = start_state(env, base_seed, k, warmup)
        seqs = np.random.default_rng([base_seed, k]).integers(0, 5, size=(n_candidates, horizon))
        real = rollout_tree(env, seqs, observe=True)
    finally:
        env.close()
    return {"start": int(k), "seed": int(seed), "obs": np.asarray(obs, dtype=np.float64).reshape(25), "seqs": seqs,
            "paid": real["returns"], "crashed": real["crashed"], "steps": real["steps"], "next_obs": real["next_obs"]}


def outcome_scores(reward_fn, pool: dict) -> np.ndarray:
    """A per-step outcome reward summed over the steps each candidate of `pool` lived, (K,)."""
    return learned_return(reward_fn, {"next_obs": pool["next_obs"], "steps": pool["steps"]}, pool["seqs"])[0]


def sequence_scores(model, pool: dict) -> np.ndarray:
    """An action-sequence reward R_psi(o_0, a_{0:H}) of every candidate of `pool`, (K,)."""
    seqs = pool["seqs"]
    K, H = seqs.shape
    with no_grad():
        return np.asarray(model(np.repeat(pool["obs"][None], K, axis=0), np.eye(5)[seqs].reshape(K, 5 * H)).data,
                          dtype=np.float64)


def score_pool(pool: dict, models: dict) -> dict:
    """Every selector's score of every candidate of `pool` (see the table above), name -> (K,).
    `models`: "reward" (r_psi(o', a)), "dynamics" (f_phi(o, a)), "sequence" (R_psi(o_0, actions))."""
    obs, seqs = pool["obs"], pool["seqs"]
    learned = lambda o, a: models["reward"](o, a)                                  # noqa: E731
    return {"exact + env reward": np.asarray(pool["paid"], dtype=np.float64),
            "exact + learned reward": outcome_scores(learned, pool),
            "model + env formula": imagine(obs, seqs, models["dynamics"], true_reward_from_obs, True)[0],
            "model + learned reward": imagine(obs, seqs, models["dynamics"], learned, False)[0],
            "action-sequence reward": sequence_scores(models["sequence"], pool)}
