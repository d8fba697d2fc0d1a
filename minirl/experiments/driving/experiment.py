"""`minirl driving`: where a model is hard to learn, next to the toy language where it is easy.

The seed question: for language, a learned reward model is easy to build and makes the environment
differentiable; for driving, "what inputs/outputs do we need to accurately predict the reward?"
This experiment answers it on the shipped highway-fast-v0 transitions (`minirl.experiments.driving.data`), with
the toy language of lessons 08-10 in the second column of every table:

1. reward learnability on privileged features versus observations (`reward`);
2. one-step world-model error per component (`models`);
3. over-optimisation: best-of-N by the learned reward, proxy against true (`models`);
4. a planner through the learned models, checked in the real env (`planner`; needs the
   [driving] extra, skipped with a one-line message otherwise).

Everything returns plain data (`DrivingResult`); `minirl.plotting.driving` draws it and
`minirl.commands.driving` writes the CSV files. Seeds: the train/test split of episodes, the pairs
and the model initialisations all come from `np.random.default_rng([seed, ...])`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ...algos.segment_prefs import sample_pairs, segment_starts, segment_sums
from ...stats import r_squared
from . import models as dm
from . import planner as dp
from . import reward as dr

__all__ = ["DrivingConfig", "DrivingResult", "run_driving", "count_units"]


@dataclass
class DrivingConfig:
    seeds: tuple = (0, 1, 2)
    test_fraction: float = 0.25          # of the episodes
    segment_len: int = 5                 # steps per compared segment
    pair_counts: tuple = (100, 300, 1000, 3000)
    n_test_pairs: int = 3000
    reg_steps: int = 1500                # Adam steps of each regression reward model
    bt_steps: int = 1500                 # ... of each Bradley-Terry reward model
    dyn_steps: int = 3000                # ... of each world model
    toy_rm_steps: int = 600              # the toy language's reward models (as in lesson 10)
    bon_n: tuple = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096)
    planner_horizon: int = 4
    planner_candidates: int = 128
    eval_episodes: int = 5               # real episodes per planner arm
    eval_duration: int = 20              # steps (s) per real evaluation episode
    seq_starts: int = 24                 # real start states of the best-of-N action-sequence curve
    seq_n: tuple = (1, 4, 16, 64, 256)
    seq_horizon: int = 5
    seq_warmup: int = 3                  # careful-driver steps before each start state

    @classmethod
    def fast(cls) -> "DrivingConfig":
        return cls(seeds=(0,), pair_counts=(100, 1000), n_test_pairs=1000, reg_steps=300, bt_steps=300,
                   dyn_steps=600, toy_rm_steps=200, bon_n=(1, 4, 16, 64, 256, 1024), eval_episodes=1,
                   eval_duration=8, seq_starts=2, seq_n=(1, 16, 256))


def count_units(config: DrivingConfig, evaluate: bool) -> int:
    """Progress units: one per seed (models) plus one per real evaluation episode and start state."""
    return len(config.seeds) + (len(dp.ARMS) * config.eval_episodes + 1 if evaluate else 0)


@dataclass
class DrivingResult:
    reward_rows: list = field(default_factory=list)      # seed, inputs, model, n_pairs, r2, accuracies
    formula: dict = field(default_factory=dict)          # the env's formula on observations
    toy_rows: list = field(default_factory=list)         # seed, n_pairs, accuracy, r2
    world_rows: list = field(default_factory=list)       # seed, model, car, feature, kind, r2
    bon_rows: list = field(default_factory=list)         # seed, inputs, N, kl, gains, crash_rate
    toy_bon_rows: list = field(default_factory=list)     # seed, N, kl, gains
    planner_rows: list = field(default_factory=list)     # arm, seed, return, predicted, steps, crashed
    seq_rows: list = field(default_factory=list)         # proxy, seed, N, predicted, paid, crashed
    skipped: str | None = None                           # why the planner's real-env step did not run
    n_transitions: int = 0
    n_episodes: int = 0


def run_driving(data, config: DrivingConfig | None = None, *, evaluate: bool = True,
                progress: Callable[[str], None] | None = None) -> DrivingResult:
    """Run items 1-4 on `data` (a DrivingData). `evaluate=False` skips the real-env planner step."""
    config = config or DrivingConfig()
    tick = progress or (lambda label: None)
    L = config.segment_len
    result = DrivingResult(n_transitions=len(data), n_episodes=data.n_episodes)
    act = data.action_onehot()                                              # (T, 5)
    inputs = {name: dr.reward_inputs(data, name) for name in dr.INPUTS}     # name -> (T, F)
    planner_models = None
    for seed in config.seeds:
        rng = np.random.default_rng([seed, 0])
        train_ids, test_ids = dr.split_episodes(data.n_episodes, config.test_fraction, rng)
        train = np.isin(data.episode, train_ids)                            # (T,) bool
        test_pairs = sample_pairs(data.episode[~train], L, config.n_test_pairs, rng)   # (2, N) into test rows
        for name, x in inputs.items():
            for model in dr.MODELS:
                reg, r2 = dr.fit_regression(x, act, data.reward, train, model, np.random.default_rng([seed, 1]),
                                            steps=config.reg_steps)
                if name == "observation" and model == "mlp" and planner_models is None:
                    planner_models = {"reward": reg}
                for n_pairs in config.pair_counts:
                    bt = dr.fit_preferences(x[train], act[train], data.reward[train], data.episode[train],
                                            n_pairs, model, np.random.default_rng([seed, 2, n_pairs]),
                                            length=L, steps=config.bt_steps)
                    acc = dr.evaluate_pairs(bt, x[~train], act[~train], data.reward[~train],
                                            data.crashed[~train], test_pairs, L)
                    result.reward_rows.append({"seed": seed, "inputs": name, "model": model, "n_pairs": n_pairs,
                                               "r2": r2, **acc})
                    if n_pairs == config.pair_counts[-1] and model == "mlp":
                        _bon(result, seed, name, bt, x[~train], act[~train], data, ~train, config)
        formula = dp.true_reward_from_obs(data.next_obs[~train])
        truth, crashed = data.reward[~train], data.crashed[~train]
        found = dp.crash_from_obs(data.next_obs[~train])
        result.formula.setdefault("r2", []).append(r_squared(formula, truth))
        result.formula.setdefault("crash_recall", []).append(float(found[crashed].mean()) if crashed.any() else np.nan)
        result.formula.setdefault("false_alarms", []).append(float(found[~crashed].mean()))
        toy_rows, tables = dr.toy_reward_rows(config.pair_counts, seed, steps=config.toy_rm_steps)
        result.toy_rows += [{"seed": seed, **r} for r in toy_rows]
        result.toy_bon_rows += [{"seed": seed, **r} for r in dm.toy_bon_curve(tables[config.pair_counts[-1]],
                                                                                config.bon_n)]
        for model in ("linear", "mlp"):
            net = dm.fit_world_model(data, train, model, np.random.default_rng([seed, 3]), steps=config.dyn_steps)
            result.world_rows += [{"seed": seed, "model": model, **r} for r in dm.component_r2(net, data, ~train)]
            if model == "mlp" and "dynamics" not in planner_models:
                planner_models["dynamics"] = net
        tick(f"seed {seed}")
    if evaluate:
        from .collect import driving_extra_missing
        result.skipped = driving_extra_missing()
        if result.skipped is None:
            _evaluate_planners(result, planner_models, config, tick)
    else:
        result.skipped = "real-env evaluation not requested"
    return result


def _bon(result, seed, name, model, x, act, data, rows, config):
    """Best-of-N over every test segment, judged by `model`, for item 3."""
    episode, reward, crashed = data.episode[rows], data.reward[rows], data.crashed[rows]
    starts = segment_starts(episode, config.segment_len)                    # (M,)
    proxy, _ = dr.score_pairs(model, x, act, np.stack([starts, starts]), config.segment_len)
    true = segment_sums(reward, starts, config.segment_len)
    crash = segment_sums(crashed, starts, config.segment_len) > 0
    result.bon_rows += [{"seed": seed, "inputs": name, **r} for r in dm.bon_curve(proxy, true, crash, config.bon_n)]


def _evaluate_planners(result, models, config, tick):
    from .collect import careful_action, episode_seed, make_env

    env = make_env(duration=config.eval_duration)
    seeds = [episode_seed(10_000, k) for k in range(config.eval_episodes)]    # disjoint from the data's
    rng = np.random.default_rng([10_000, 1])
    learned = lambda o, a: models["reward"](o, a)                             # noqa: E731
    plan = {"planner + learned reward": lambda o: dp.shooting_plan(
                o, models["dynamics"], learned, horizon=config.planner_horizon,
                n_candidates=config.planner_candidates, rng=rng),
            "planner + true reward formula": lambda o: dp.shooting_plan(
                o, models["dynamics"], dp.true_reward_from_obs, horizon=config.planner_horizon,
                n_candidates=config.planner_candidates, rng=rng, crash_ends=True),
            "IDLE (env baseline)": lambda o: (1, np.nan),
            "careful driver": lambda o: (careful_action(o), np.nan)}
    for arm in dp.ARMS:
        rows = dp.evaluate_policy(plan[arm], env, seeds, progress=lambda: tick(arm))
        result.planner_rows += [{"arm": arm, **r} for r in rows]
    env.close()
    env = make_env()                                                          # full 30-step episodes
    proxies = {"learned reward": (learned, False), "true reward formula": (dp.true_reward_from_obs, True)}
    result.seq_rows = dp.best_of_n_sequences(
        env, [episode_seed(20_000, k) for k in range(config.seq_starts)], models["dynamics"], proxies,
        config.seq_n, horizon=config.seq_horizon, warmup=config.seq_warmup, warmup_policy=careful_action,
        rng=np.random.default_rng([20_000, 1]))
    env.close()
    tick("best-of-N action sequences")
