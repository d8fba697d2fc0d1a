"""`minirl driving`: is driving's reward hard to learn, and if something fails, what?

The seed's claim was that a driving reward model is hard to learn. Measured precisely, the claim
is narrower: an **outcome** reward ("what happened", read off the observation after each step) is
learnable; what is hard is the **world's response** to actions, so a reward over *actions* (what a
language reward model is) and a learned world model both fail, and an optimiser finds the failures.
This module runs the measurements on the shipped highway-fast-v0 data (`data`), with the toy
language of lessons 08-10 beside it:

1. which inputs make the reward learnable: regression on privileged features against observations;
2. preference-learned rewards (outcome; action sequence, from recorded segments or from comparisons
   of sequences from one state, `comparisons`) beside the toy language's, like for like;
3. the world model, and what its error is made of (car switches, constant velocity, stable identities);
4. baselines and one planner through four models in the real env (needs the [driving] extra);
5. the 2 x 2 "who is to blame" table and the action-sequence reward's over-optimisation curve, from
   pools of candidate action sequences rolled out in exact copies of the real env;
6. with `long`: PPO in the real env on the env's reward, the learned reward, and a survival reward.

Everything returns plain data (`DrivingResult`); `tables` summarises it with intervals,
`minirl.plotting.driving` draws it, `minirl.commands.driving` writes it. The real-env parts run as
independent seeded tasks on `workers` processes (`pool`), started before the models are fitted when
they do not need them; results do not depend on the number of workers. The learned models of the
first seed drive the real-env parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...algos.segment_prefs import sample_pairs
from ...autograd import no_grad
from ...stats import r_squared
from . import models as dm
from . import planner as dp
from . import reward as dr
from . import toy
from .candidates import candidate_task
from .pool import TaskPool, default_workers
from .within import pool_rows

__all__ = ["DrivingConfig", "DrivingResult", "run_driving", "count_units"]


@dataclass(frozen=True)
class DrivingConfig:
    seeds: tuple = (0, 1, 2)             # data splits, pairs and model initialisations
    test_fraction: float = 0.25          # of the episodes
    segment_len: int = 5                 # steps per judged segment and per candidate action sequence
    pair_counts: tuple = (100, 300, 1000, 3000)
    n_test_pairs: int = 3000
    reg_steps: int = 1500                # Adam steps of each regression reward model
    bt_steps: int = 1500                 # ... of each Bradley-Terry reward model (both worlds)
    dyn_steps: int = 3000                # ... of each world model
    eval_duration: int = 20              # s (= steps) per real evaluation episode
    baseline_episodes: int = 20          # per baseline
    planner_episodes: int = 5            # per planner arm (the first seeds of the baselines')
    planner_horizon: int = 4
    planner_candidates: int = 32
    starts: int = 16                     # real start states of the candidate pools
    candidates: int = 64                 # random action sequences per start
    warmup: int = 3                      # careful-driver steps before each start
    bon_n: tuple = (1, 2, 4, 8, 16, 32, 64)
    long: bool = False                   # add PPO and the exact-copy planner with the learned reward
    ppo_seeds: tuple = (0, 1, 2)
    ppo_steps: int = 5000                # real steps of PPO training per arm and seed
    ppo_episodes: int = 30               # evaluation episodes per arm and seed

    @classmethod
    def fast(cls, long: bool = False) -> "DrivingConfig":
        return cls(seeds=(0,), pair_counts=(100, 1000), n_test_pairs=1000, reg_steps=300, bt_steps=300,
                   dyn_steps=600, eval_duration=6, baseline_episodes=2, planner_episodes=1, planner_candidates=8,
                   starts=2, candidates=8, bon_n=(1, 2, 4, 8), long=long, ppo_seeds=(0,), ppo_steps=256,
                   ppo_episodes=1)

    def __post_init__(self):
        if max(self.bon_n) > self.candidates or min(self.bon_n) < 1:
            raise ValueError(f"bon_n must lie in 1..candidates={self.candidates}, got {self.bon_n}")
        if self.planner_episodes > self.baseline_episodes:
            raise ValueError("planner_episodes must not exceed baseline_episodes (they share the seeds)")


def count_units(config: DrivingConfig, evaluate: bool) -> int:
    """Progress units: one per seed (models), then one per real-env task."""
    if not evaluate:
        return len(config.seeds)
    planners = 3 + (1 if config.long else 0)
    ppo = 3 * len(config.ppo_seeds) if config.long else 0
    return (len(config.seeds) + len(dp.BASELINES) * config.baseline_episodes
            + planners * config.planner_episodes + config.starts + ppo)


@dataclass
class DrivingResult:
    input_rows: list = field(default_factory=list)      # seed, inputs, model, r2
    formula_rows: list = field(default_factory=list)    # seed, r2, crashes, found, steps_no_crash, false_alarms
    reward_rows: list = field(default_factory=list)     # world, reward, trained_on, scored_on, seed, n_pairs, metrics
    world_rows: list = field(default_factory=list)      # seed, predictor, target, rows, car, feature, kind, r2, n
    switch_rows: list = field(default_factory=list)     # seed, switched, n
    toy_bon_rows: list = field(default_factory=list)    # seed, N, kl_bon, proxy_gain, paid_gain
    episode_rows: list = field(default_factory=list)    # arm, seed, return, predicted, steps, crashed, speed
    pools: list = field(default_factory=list)           # per start: obs, seqs, paid, crashed, steps, next_obs
    pool_scores: list = field(default_factory=list)     # per start: selector -> (K,) scores (first seed's models)
    sequence_readout: tuple = (0.0, 1.0)                # affine map of the action-sequence score to a return
    ppo_rows: list = field(default_factory=list)        # arm, train seed, episode seed, return, crashed, speed
    skipped: str | None = None                          # why the real-env parts did not run
    n_transitions: int = 0
    n_episodes: int = 0


def _baseline(name, seed, duration):
    from .collect import make_env

    env = make_env(duration=duration)
    try:
        row = dp.run_episode(lambda obs, e: (dp.BASELINES[name](obs), np.nan), env, seed)
    finally:
        env.close()
    return {"arm": name, **row}


def _planner(arm, seed, duration, horizon, n_candidates, models):
    """One episode of the planner arm `arm` (`dp.PLANNERS`); its own rng, seeded by the episode."""
    from .collect import make_env

    dynamics, score = dp.PLANNERS[arm]
    rng = np.random.default_rng([int(seed) % 2**32, list(dp.PLANNERS).index(arm)])
    learned = (lambda o, a: models["reward"](o, a)) if models else None        # noqa: E731
    if dynamics == "exact":
        policy = lambda obs, env: dp.plan_through_copy(                          # noqa: E731
            env, horizon=horizon, n_candidates=n_candidates, rng=rng, reward_fn=learned if score == "learned" else None)
    else:
        reward_fn, ends = (dp.true_reward_from_obs, True) if score == "formula" else (learned, False)
        policy = lambda obs, env: dp.plan_through_model(                         # noqa: E731
            obs, models["dynamics"], reward_fn, horizon=horizon, n_candidates=n_candidates, rng=rng, crash_ends=ends)
    env = make_env(duration=duration)
    try:
        row = dp.run_episode(policy, env, seed)
    finally:
        env.close()
    return {"arm": arm, **row}


def _ppo(kind, seed, model, config):
    from .rlhf import ppo_task

    out = ppo_task(kind, seed, model, total_steps=config.ppo_steps, episodes=config.ppo_episodes,
                   duration=config.eval_duration)
    return [{"arm": kind, "train_seed": out["seed"], "train_steps": out["train_steps"], **r} for r in out["episodes"]]


def _fit_seed(data, comparisons, seed, config, result) -> dict:
    """The data-only measurements of one seed (items 1-3); returns its models."""
    L = config.segment_len
    rng = np.random.default_rng([seed, 0])
    train_ids, test_ids = dr.split_episodes(data.n_episodes, config.test_fraction, rng)
    train_mask = np.isin(data.episode, train_ids)                              # (T,) bool
    train, test = data.episodes(train_ids), data.episodes(test_ids)
    act = data.action_onehot()
    models = {}
    for inputs in dr.INPUTS:                                                   # 1. which inputs
        x = dr.reward_inputs(data, inputs)
        for model in dr.MODELS:
            net, r2 = dr.fit_regression(x, act, data.reward, train_mask, model, np.random.default_rng([seed, 1]),
                                        steps=config.reg_steps)
            result.input_rows.append({"seed": seed, "inputs": inputs, "model": model, "r2": r2})
            if inputs == "observation" and model == "mlp":
                models["reward"] = net
    found, crashed = dp.crash_from_obs(test.next_obs), test.crashed
    result.formula_rows.append({"seed": seed, "r2": r_squared(dp.true_reward_from_obs(test.next_obs), test.reward),
                                "crashes": int(crashed.sum()), "found": int(found[crashed].sum()),
                                "steps_no_crash": int((~crashed).sum()), "false_alarms": int(found[~crashed].sum())})
    test_pairs = sample_pairs(test.episode, L, config.n_test_pairs, rng)       # 2. preference-learned rewards
    for n_pairs in config.pair_counts:
        starts = sample_pairs(train.episode, L, n_pairs, np.random.default_rng([seed, 2, n_pairs]))
        fitted = {"outcome": dr.fit_outcome(train, starts, np.random.default_rng([seed, 3, n_pairs]), length=L,
                                            steps=config.bt_steps),
                  "action sequence": dr.fit_sequence(train, starts, np.random.default_rng([seed, 4, n_pairs]),
                                                     length=L, steps=config.bt_steps),
                  "action sequence, one-state pairs": dr.fit_sequence_comparisons(
                      comparisons, n_pairs, np.random.default_rng([seed, 6, n_pairs]), steps=config.bt_steps)}
        for name, net in fitted.items():
            kind, trained_on = dr.LEARNED[name]
            models[name, n_pairs] = net
            result.reward_rows.append({"world": "driving", "reward": kind, "trained_on": trained_on,
                                       "scored_on": "recorded segments", "seed": seed, "n_pairs": n_pairs,
                                       **dr.score_reward(net, kind, test, test_pairs, L)})
        table = toy.toy_reward_model(n_pairs, seed, steps=config.bt_steps)
        result.reward_rows.append({"world": "toy language", "reward": "response (actions = outcome)",
                                   "trained_on": "one-prompt comparisons", "scored_on": "one prompt",
                                   "seed": seed, "n_pairs": n_pairs, **toy.toy_reward_row(table, seed)})
        if n_pairs == config.pair_counts[-1]:
            result.toy_bon_rows += [{"seed": seed, **r} for r in toy.toy_bon_curve(table, config.bon_n)]
    models["sequence"] = models["action sequence, one-state pairs", config.pair_counts[-1]]
    with no_grad():
        S, K, H = comparisons["seqs"].shape
        obs = np.repeat(comparisons["obs"].astype(np.float64), K, axis=0)                   # (S K, 25)
        score = models["sequence"](obs, np.eye(5)[comparisons["seqs"].reshape(S * K, H)].reshape(S * K, 5 * H)).data
    models["sequence_readout"] = dr.affine_readout(score, comparisons["paid"].reshape(-1))
    for target in dm.TARGETS:                                                  # 3. the world model
        net = dm.fit_world_model(data, train_mask, "mlp", np.random.default_rng([seed, 5]), steps=config.dyn_steps,
                                 target=target)
        if target == "next_obs":
            models["dynamics"] = net
        pred, cv = dm.predict(net, data, ~train_mask), dm.constant_velocity(data.obs[~train_mask])
        checks = [("world model", pred, "all rows"), ("constant velocity", cv, "all rows")]
        if target == "next_obs":
            checks += [("world model", pred, "same car"), ("constant velocity", cv, "same car")]
        for predictor, p, rows in checks:
            result.world_rows += [{"seed": seed, "predictor": predictor, "target": target, "rows": rows, **r}
                                  for r in dm.component_r2(p, data, ~train_mask, target=target,
                                                           only_same_car=rows == "same car")]
    switched, n = dm.switch_rate(data, ~train_mask)
    result.switch_rows.append({"seed": seed, "switched": switched, "n": n})
    return models


def run_driving(data, config: DrivingConfig | None = None, *, comparisons: dict | None = None, evaluate: bool = True,
                workers: int | None = None, progress: Callable[[str], None] | None = None) -> DrivingResult:
    """Run every measurement on `data` (a DrivingData) and `comparisons` (default: the shipped
    comparisons from one state, `comparisons.load_shipped()`). `evaluate=False` skips the real env."""
    config = config or DrivingConfig()
    if comparisons is None:
        from .comparisons import load_shipped
        comparisons = load_shipped()
    tick = progress or (lambda label: None)
    result = DrivingResult(n_transitions=len(data), n_episodes=data.n_episodes)
    if evaluate:
        from .collect import driving_extra_missing
        result.skipped = driving_extra_missing()
    else:
        result.skipped = "real-env evaluation not requested"
    real = result.skipped is None
    from .collect import episode_seed

    seeds = [episode_seed(10_000, k) for k in range(config.baseline_episodes)]     # disjoint from the data's
    D, H, K = config.eval_duration, config.planner_horizon, config.planner_candidates
    n_workers = (workers or default_workers()) if real else 1
    with TaskPool(n_workers) as pool:
        early = []                                                                 # need no learned model
        if real:
            early += [("pool", pool.submit(candidate_task, k, n_candidates=config.candidates,
                                           horizon=config.segment_len, warmup=config.warmup))
                      for k in range(config.starts)]
            early += [("episode", pool.submit(_planner, "planner: exact copy + env reward", s, D, H, K, None))
                      for s in seeds[:config.planner_episodes]]
            early += [("episode", pool.submit(_baseline, name, s, D)) for name in dp.BASELINES for s in seeds]
        per_seed = {}
        for seed in config.seeds:
            per_seed[seed] = _fit_seed(data, comparisons, seed, config, result)
            tick(f"seed {seed}")
        models = per_seed[config.seeds[0]]
        result.sequence_readout = models["sequence_readout"]
        late = []
        if real:
            arms = ["planner: world model + env formula", "planner: world model + learned reward"]
            arms += ["planner: exact copy + learned reward"] if config.long else []
            late += [("episode", pool.submit(_planner, arm, s, D, H, K, models))
                     for arm in arms for s in seeds[:config.planner_episodes]]
            if config.long:
                from .rlhf import REWARDS
                late += [("ppo", pool.submit(_ppo, kind, s, models["reward"], config))
                         for kind in REWARDS for s in config.ppo_seeds]
        for what, job in early + late:
            out = job.get()
            if what == "pool":
                result.pools.append(out)
            elif what == "episode":
                result.episode_rows.append(out)
            else:
                result.ppo_rows += out
            tick(what)
    if result.pools:
        result.reward_rows += pool_rows(result.pools, per_seed, config)
        from .candidates import score_pool
        result.pool_scores = [score_pool(p, models) for p in result.pools]
    return result
