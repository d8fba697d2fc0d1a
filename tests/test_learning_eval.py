"""Seeded learning tests on the evaluation protocol, one per arm of `minirl compare`, at cheap budgets.

Each runs the real `minirl train` driver (`start_run`) and reads `solved_eval_step` from summary.json:
the first evaluation (10 deterministic episodes of the black-box env on the fixed evaluation seeds)
whose mean reaches the threshold. Budgets are a little above what the seed needs (measured here), so
a regression that slows learning fails (budgets are 1.3-1.7x the measured step, room for float32 kernels
that differ between CPUs).

| arm | task, seed | reached at (measured) | budget |
|---|---|---|---|
| PPO (CartPole preset) | CartPole-v1, 0 | 500 at 15k of a 40k budget (the training mean needs 55k); the learning rate anneals over the budget, so a shorter one learns less per step | 40k |
| REINFORCE (CartPole preset) | CartPole-v1, 0 | 494 at 15.7k | 25k |
| SHAC (twin preset) | minirl/Pendulum-v1, 1 | -200 at 14k | 20k |
| SVG (preset) | minirl/Pendulum-v1, 0 | -200 at 3k | 5k |
"""

from __future__ import annotations

import json

import pytest

from minirl.runs.driver import start_run
from minirl.runs.spec import resolve_run

pytestmark = pytest.mark.slow


def _solved_eval(tmp_path, algo, env, seed, steps, every):
    out = tmp_path / algo
    assert start_run(str(out), resolve_run(algo, env, seed, total_steps=steps, eval_every=every),
                     progress=False) == 0
    with open(out / "summary.json") as f:
        return json.load(f)


@pytest.mark.parametrize("algo,env,seed,steps,every", [
    ("ppo", "CartPole-v1", 0, 40_000, 5_000),
    ("reinforce", "CartPole-v1", 0, 25_000, 5_000),
    ("shac", "minirl/Pendulum-v1", 1, 20_000, 1_000),
    ("svg", "minirl/Pendulum-v1", 0, 5_000, 1_000),
])
def test_arm_reaches_the_threshold_on_the_evaluation_return(tmp_path, algo, env, seed, steps, every):
    summary = _solved_eval(tmp_path, algo, env, seed, steps, every)
    assert summary["solved_eval_step"] is not None, (
        f"{algo} on {env} (seed {seed}) never reached {summary['reward_threshold']} on the evaluation return "
        f"within {steps} steps: last evaluation {summary['final_eval_return_mean']}")
