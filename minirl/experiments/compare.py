"""The side-by-side comparison: black-box arms versus differentiable arms on one task, several seeds.

Every arm trains the same kind of policy (`minirl.policies.GaussianPolicy`) on the same task and
reports the same rows (step, time_s, episodes, return_mean = mean return of the last 100 episodes on
the true dynamics). The arms differ only in where their gradient comes from:

| arm | gradient | needs |
|---|---|---|
| `reinforce` | score function, E[grad log pi(a|s) (G - b)] | only `env.step` floats (black box) |
| `ppo` | clipped score function with GAE (trust region) | only `env.step` floats (black box) |
| `pathwise` | backprop through time through the true twin (SHAC) | a differentiable twin |
| `model` | backprop through a *learned* model of the black box (SVG) | only `env.step` floats |

This module returns plain data (`Comparison`, lists of dicts); `minirl.plotting.compare` draws it and
`minirl compare` writes it. Arms are imported only when they run, so a missing arm fails alone.
"""

from __future__ import annotations

import importlib
import math
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

__all__ = ["Arm", "ARMS", "TASKS", "Run", "Comparison", "check_request", "threshold_for",
           "budget_for", "run_arm", "run_comparison", "first_hit", "summarize", "curve_rows"]


@dataclass(frozen=True)
class Arm:
    label: str
    module: str                  # has train(env, *, seed, total_steps, config=None) -> list[dict]
    needs_twin: bool = False
    preset: str | None = None    # name in minirl.algos.presets (black-box arms), else None


ARMS: dict[str, Arm] = {
    "reinforce": Arm("REINFORCE (black box)", "minirl.algos.reinforce", preset="reinforce"),
    "ppo": Arm("PPO (black box)", "minirl.algos.ppo", preset="ppo"),
    "pathwise": Arm("pathwise through the twin (SHAC)", "minirl.algos.pathwise", needs_twin=True),
    "model": Arm("pathwise through a learned model (SVG)", "minirl.algos.model_based"),
}

# Tasks with stated settings: the return called "reached" and the default budget per arm (env steps).
# Pendulum's -400 means most episodes swing up and hold; the env's own threshold (-200) is stricter.
TASKS: dict[str, dict] = {
    "minirl/Pendulum-v1": dict(threshold=-400.0,
                               total_steps=dict(reinforce=50_000, ppo=50_000, pathwise=50_000, model=12_000)),
    "minirl/CliffCart-v0": dict(threshold=70.0,
                                total_steps=dict(reinforce=60_000, ppo=60_000, pathwise=10_000, model=10_000)),
}
FAST_STEPS = 2_000


@dataclass
class Run:
    arm: str
    seed: int
    rows: list[dict]             # step, time_s, episodes, return_mean (rows before the first episode dropped)
    warnings: list[str] = field(default_factory=list)   # messages of the warnings the run raised (e.g. ModelWarning)


@dataclass
class Comparison:
    task: str
    threshold: float
    arms: list[str]
    seeds: list[int]
    budgets: dict[str, int]
    runs: list[Run] = field(default_factory=list)

    def curves(self, arm: str, x: str = "step") -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-seed (x, return_mean) arrays of one arm, x = "step" or "time_s"."""
        return [(np.array([r[x] for r in run.rows]), np.array([r["return_mean"] for r in run.rows]))
                for run in self.runs if run.arm == arm and run.rows]


def check_request(task: str, arms) -> None:
    """Fail early: unknown arms, or a pathwise arm on a task without a differentiable twin."""
    import gymnasium as gym
    import minirl.envs  # noqa: F401  (registers the minirl/ ids)
    from minirl.envs import TWINS

    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise ValueError(f"unknown arms {unknown or arms}; choose from {sorted(ARMS)}")
    if task not in gym.registry:
        raise ValueError(f"unknown task {task!r}; tasks with stated settings: {sorted(TASKS)} "
                         f"(any registered Gymnasium id works for the black-box arms)")
    twin_arms = [a for a in arms if ARMS[a].needs_twin]
    if twin_arms and task not in TWINS:
        raise ValueError(f"arm(s) {twin_arms} need a differentiable twin, and {task!r} has none; "
                         f"tasks with a twin: {sorted(TWINS)} (or drop the arm: --arms "
                         f"{' '.join(a for a in arms if a not in twin_arms) or 'ppo'})")


def threshold_for(task: str) -> float:
    """The stated threshold of a task: from TASKS, else the env's spec.reward_threshold."""
    if task in TASKS:
        return TASKS[task]["threshold"]
    import gymnasium as gym
    value = gym.spec(task).reward_threshold
    if value is None:
        raise ValueError(f"task {task!r} states no reward_threshold; pass one explicitly (--threshold)")
    return float(value)


def budget_for(task: str, arm: str, total_steps: int | None, fast: bool) -> int:
    if total_steps is not None:
        return int(total_steps)
    if fast:
        return FAST_STEPS
    return int(TASKS.get(task, {}).get("total_steps", {}).get(arm, 50_000))


def _config_for(arm: Arm, task: str):
    """Black-box arms on a minirl/ copy of a Gymnasium task use that task's tuned preset."""
    if arm.preset is None:
        return None
    from minirl.algos import presets
    base = task.split("/", 1)[1] if task.startswith("minirl/") else task
    key = base if (arm.preset, base) in presets.PRESETS else task
    return presets.preset(arm.preset, key)


def run_arm(arm_name: str, task: str, seed: int, total_steps: int) -> Run:
    """Train one arm for one seed; keep only the shared columns (as floats) of rows with a return."""
    import minirl  # noqa: F401  (worker processes register the ids too)
    arm = ARMS[arm_name]
    module = importlib.import_module(arm.module)
    with warnings.catch_warnings(record=True) as caught:     # collected, and reported once by the caller
        warnings.simplefilter("always")
        rows = module.train(task, seed=seed, total_steps=total_steps, config=_config_for(arm, task))
    keep = []
    for r in rows:
        ret = float(r["return_mean"])
        if math.isfinite(ret):
            keep.append({"step": int(r["step"]), "time_s": float(r["time_s"]),
                         "episodes": int(r["episodes"]), "return_mean": ret})
    return Run(arm_name, seed, keep, [f"{w.category.__name__}: {w.message}" for w in caught])


def run_comparison(task: str = "minirl/Pendulum-v1", arms=("reinforce", "ppo", "pathwise", "model"),
                   seeds: int = 3, total_steps: int | None = None, fast: bool = False,
                   threshold: float | None = None, jobs: int = 1,
                   progress: Callable[[Run], None] | None = None) -> Comparison:
    """Run every arm for seeds 0..seeds-1 (in `jobs` worker processes) and collect the rows.

    Args:
        total_steps: env steps per run; None: the task's stated budget per arm (FAST_STEPS if fast).
        threshold: the return to reach; None: `threshold_for(task)`.
        progress: called with each finished Run (e.g. to advance a progress bar).
    """
    arms = list(arms)
    check_request(task, arms)
    if not isinstance(seeds, (int, np.integer)) or seeds <= 0:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    if total_steps is not None and (not isinstance(total_steps, (int, np.integer)) or total_steps <= 0):
        raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
    if not isinstance(jobs, (int, np.integer)) or jobs <= 0:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    result = Comparison(task, threshold_for(task) if threshold is None else float(threshold), arms,
                        list(range(seeds)), {a: budget_for(task, a, total_steps, fast) for a in arms})
    work = [(a, task, s, result.budgets[a]) for s in result.seeds for a in arms]
    finished: dict[tuple, Run] = {}
    if jobs == 1:
        for item in work:
            run = run_arm(*item)
            finished[(run.arm, run.seed)] = run
            if progress:
                progress(run)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(run_arm, *item) for item in work]
            for fut in as_completed(futures):
                run = fut.result()
                finished[(run.arm, run.seed)] = run
                if progress:
                    progress(run)
    result.runs = [finished[(a, s)] for a in arms for s in result.seeds]
    return result


def first_hit(rows: list[dict], threshold: float) -> dict | None:
    """The first row whose return_mean reaches the threshold (None if never)."""
    return next((r for r in rows if r["return_mean"] >= threshold), None)


def summarize(comp: Comparison) -> list[dict]:
    """One row per arm: final return (mean and min/max over seeds), steps and seconds to the threshold.

    Steps/seconds to the threshold are medians over the seeds that reached it (`reached` says how
    many); empty when none did.
    """
    table = []
    for arm in comp.arms:
        runs = [r for r in comp.runs if r.arm == arm and r.rows]
        finals = np.array([r.rows[-1]["return_mean"] for r in runs])
        hits = [first_hit(r.rows, comp.threshold) for r in runs]
        hits = [h for h in hits if h is not None]
        table.append({
            "arm": arm, "label": ARMS[arm].label, "seeds": len(runs), "budget_steps": comp.budgets[arm],
            "final_return_mean": float(finals.mean()) if len(finals) else float("nan"),
            "final_return_min": float(finals.min()) if len(finals) else float("nan"),
            "final_return_max": float(finals.max()) if len(finals) else float("nan"),
            "threshold": comp.threshold, "reached": len(hits),
            "steps_to_threshold": float(np.median([h["step"] for h in hits])) if hits else float("nan"),
            "seconds_to_threshold": float(np.median([h["time_s"] for h in hits])) if hits else float("nan"),
            "train_seconds_mean": float(np.mean([r.rows[-1]["time_s"] for r in runs])) if runs else float("nan"),
        })
    return table


def curve_rows(comp: Comparison) -> list[dict]:
    """Every logged row of every run, tagged with its arm and seed (the long format of curves.csv)."""
    return [{"arm": run.arm, "seed": run.seed, **row} for run in comp.runs for row in run.rows]
