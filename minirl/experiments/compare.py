"""The side-by-side comparison: black-box and differentiable arms on one task, several seeds.

Every arm is a `minirl train` run of one algorithm (`minirl.algos.registry`) on the same task, and
every arm is judged by the same evaluation protocol (`minirl.evaluation`): K deterministic episodes
of the *black-box* Gymnasium env on fixed seeds, every `eval_every` env steps. The arms differ only
in where their gradient comes from:

| arm | gradient | what it needs besides `env.step` floats |
|---|---|---|
| `reinforce` | score function, E[grad log pi(a|s) (G - b)] | nothing (black box) |
| `ppo` | clipped score function with GAE (trust region) | nothing (black box) |
| `sac` | backprop through a *learned critic* Q(s, a) fitted to the rewards | nothing: the black box made differentiable by learning Q (the model-free sibling of a learned reward model) |
| `shac` | backprop through time through the true dynamics | a differentiable twin of the task |
| `svg` | backprop through a *learned model* of dynamics and reward | nothing: the black box made differentiable by learning a model |

Env steps count every transition an arm consumed: random warm-up, the data its models are fitted on,
and every simulated step through the twin. Evaluation episodes never count.

Each run is a trial (`minirl.runs.trials`) in its own folder `OUT/runs/<arm>-s<seed>`, run by an
executor (`minirl.runs.executor`: local worker processes, or a Ray cluster), so an interrupted
comparison resumes where it stopped and a finished run is never repeated. An arm's seeds train
together in one process where its algorithm has a stacked learner (`minirl.runs.group`: the same
folders and numbers, less CPU; `stack=False` runs them one per process). This module returns plain
data (`Comparison`, rows); `minirl.plotting.compare` draws it and `minirl compare` writes it.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..stats import first_reach, median_time_to

__all__ = ["Arm", "ARMS", "TASKS", "Run", "Comparison", "check_request", "threshold_for",
           "budget_for", "trials_for", "plan_comparison", "run_comparison", "first_hit", "summarize", "curve_rows"]


@dataclass(frozen=True)
class Arm:
    """How an arm (an algorithm of `minirl.algos.registry`) appears in tables and figures. What a task
    must offer it (a twin, Box actions) is the registry's (`minirl.runs.spec.check_pair`)."""

    label: str
    gradient: str                # where the gradient comes from (one phrase, for tables)


ARMS: dict[str, Arm] = {
    "reinforce": Arm("REINFORCE", "score function (black box)"),
    "ppo": Arm("PPO", "score function + trust region (black box)"),
    "sac": Arm("SAC", "backprop through a learned critic Q(s,a)"),
    "shac": Arm("SHAC", "backprop through the differentiable twin"),
    "svg": Arm("SVG", "backprop through a learned model"),
}

# Tasks with stated settings: the threshold (on the evaluation return), an easier second line, and
# the budget per arm (env steps). Pendulum: -200 is where benchmark tables put a solved swing-up
# (rl-baselines3-zoo lists about -150 to -175 for PPO, SAC, TD3); -400 means "usually swings up".
# REINFORCE does not learn Pendulum within 200k steps (minirl.algos.presets), so its budget only
# shows the flat start of that curve at the cost of the others.
TASKS: dict[str, dict] = {
    "minirl/Pendulum-v1": dict(threshold=-200.0, easy_threshold=-400.0,
                               total_steps=dict(reinforce=20_000, ppo=150_000, sac=5_000, shac=25_000,
                                                svg=6_000)),
    "minirl/CliffCart-v0": dict(threshold=70.0, easy_threshold=None,
                                total_steps=dict(reinforce=60_000, ppo=60_000, sac=10_000, shac=10_000,
                                                 svg=10_000)),
}
FAST_STEPS = 2_000
FAST_EVAL_EVERY = 500


@dataclass
class Run:
    arm: str
    seed: int
    rows: list[dict]             # every logged row: step, time_s, episodes, return_mean, eval_return_mean, ...
    summary: dict | None = None
    warnings: list[str] = field(default_factory=list)   # warnings the run raised (e.g. ModelWarning)
    error: str | None = None     # the trial failed (twice): why
    folder: str | None = None


@dataclass
class Comparison:
    task: str
    threshold: float
    arms: list[str]
    seeds: list[int]
    budgets: dict[str, int]
    easy_threshold: float | None = None
    fast: bool = False           # tiny budgets, frequent evaluations (a smoke test)
    runs: list[Run] = field(default_factory=list)
    stopped: str | None = None   # "SIGINT"/"SIGTERM" if a stop request cut the comparison short

    def curves(self, arm: str, x: str = "step", metric: str = "eval") -> list[tuple[np.ndarray, np.ndarray]]:
        """Per-seed (x, y) arrays of one arm; x "step" or "time_s", metric "eval" or "train" (NaN rows dropped)."""
        column = {"eval": "eval_return_mean", "train": "return_mean"}[metric]
        out = []
        for run in self.runs:
            if run.arm != arm:
                continue
            xs = np.array([r[x] for r in run.rows], dtype=float)
            ys = np.array([r.get(column, math.nan) for r in run.rows], dtype=float)
            keep = np.isfinite(xs) & np.isfinite(ys)
            if keep.any():
                out.append((xs[keep], ys[keep]))
        return out


def check_request(task: str, arms) -> None:
    """Fail early, one line (ValueError): unknown or repeated arms, an unknown task, or an arm the task
    cannot offer what it needs (a twin, Box actions: `minirl.runs.spec.check_pair`)."""
    from ..runs.spec import check_pair

    arms = list(arms)
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise ValueError(f"unknown arms {unknown or arms}; choose from {sorted(ARMS)}")
    repeated = sorted({a for a in arms if arms.count(a) > 1})
    if repeated:
        raise ValueError(f"arm(s) {repeated} given more than once: each arm runs once per seed (use --seeds for more runs)")
    for arm in arms:
        check_pair(arm, task)


def threshold_for(task: str) -> float:
    """The stated threshold of a task: from TASKS, else the env's (or presets.THRESHOLDS)."""
    if task in TASKS:
        return TASKS[task]["threshold"]
    from minirl.algos.presets import reward_threshold
    value = reward_threshold(task)
    if value is None:
        raise ValueError(f"task {task!r} states no reward_threshold; pass one explicitly (--threshold)")
    return float(value)


def budget_for(task: str, arm: str, total_steps: int | None, fast: bool) -> int:
    if total_steps is not None:
        return int(total_steps)
    if fast:
        return FAST_STEPS
    return int(TASKS.get(task, {}).get("total_steps", {}).get(arm, 50_000))


def trials_for(comp: "Comparison", fast: bool = False) -> list:
    """One `Trial` per (arm, seed): folder `<arm>-s<seed>`, the task's preset config for the arm."""
    from ..runs.trials import Trial
    return [Trial(f"{arm}-s{seed}", arm, comp.task, seed, total_steps=comp.budgets[arm],
                  eval_every=FAST_EVAL_EVERY if fast else None)
            for arm in comp.arms for seed in comp.seeds]


def _load_run(arm: str, seed: int, folder: str, result=None, error: str | None = None) -> Run:
    from ..logger import read_csv
    from ..runs.folder import read_json_or_none
    path = os.path.join(folder, "progress.csv")
    rows = []
    if os.path.exists(path):
        data = read_csv(path)
        n = len(data.get("step", []))
        rows = [{k: float(v[i]) for k, v in data.items()} for i in range(n)]
    summary = read_json_or_none(os.path.join(folder, "summary.json"))
    return Run(arm, seed, rows, summary, list(getattr(result, "warnings", []) or []), error, folder)


def plan_comparison(task: str = "minirl/Pendulum-v1", arms=("reinforce", "ppo", "sac", "shac", "svg"),
                    seeds: int = 3, total_steps: int | None = None, fast: bool = False,
                    threshold: float | None = None) -> Comparison:
    """The comparison to run, checked (ValueError, one line, before any work), with no runs yet.

    Args:
        seeds: seeds 0 .. seeds-1 per arm.
        total_steps: env steps per run; None: the task's stated budget per arm (FAST_STEPS if fast).
        threshold: the evaluation return to reach; None: `threshold_for(task)`.
    """
    arms = list(arms)
    check_request(task, arms)
    if not isinstance(seeds, (int, np.integer)) or isinstance(seeds, bool) or seeds <= 0:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    if total_steps is not None and (not isinstance(total_steps, (int, np.integer)) or total_steps <= 0):
        raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
    if threshold is not None and not math.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    easy = TASKS.get(task, {}).get("easy_threshold")
    return Comparison(task, threshold_for(task) if threshold is None else float(threshold), arms,
                      list(range(seeds)), {a: budget_for(task, a, total_steps, fast) for a in arms},
                      easy_threshold=easy if threshold is None else None, fast=fast)


def run_comparison(task: str | Comparison = "minirl/Pendulum-v1", arms=("reinforce", "ppo", "sac", "shac", "svg"),
                   seeds: int = 3, total_steps: int | None = None, fast: bool = False,
                   threshold: float | None = None, jobs: int | None = None, out: str | None = None,
                   executor=None, progress: Callable[[Run], None] | None = None, stack: bool = True) -> Comparison:
    """Run every arm for every seed as trials and collect their rows.

    `task` is a task id (the other request arguments as in `plan_comparison`) or a `Comparison` that
    `plan_comparison` returned (then they are ignored).

    Args:
        jobs: local worker processes (None: one per core); ignored when `executor` is given.
        out: folder for the runs (`out/<arm>-s<seed>`); None: a temporary folder, removed afterwards.
        executor: a backend (`minirl.runs.executor`; None: `LocalExecutor(jobs)`).
        progress: called with each finished Run (e.g. to advance a progress bar).
        stack: train an arm's seeds together, stacked, where the algorithm allows it (the same runs, less
            CPU: `minirl.runs.group`); False: one process per run.
    """
    from ..runs.local import LocalExecutor
    from ..runs.trials import check_folder, run_trials

    comp = task if isinstance(task, Comparison) else plan_comparison(task, arms, seeds, total_steps, fast, threshold)
    trials = trials_for(comp, comp.fast)
    scratch = tempfile.TemporaryDirectory(prefix="minirl-compare-") if out is None else None
    root = scratch.name if scratch else out
    try:
        for t in trials:                                    # refuse a folder of other settings before any work
            check_folder(t, os.path.join(root, t.name))
        executor = executor or LocalExecutor(jobs)
        finished: dict[str, Run] = {}
        for t, outcome in run_trials(executor, trials, root, stack=stack):   # remote executors: files come back
            run = _load_run(t.algo, t.seed, os.path.join(root, t.name), outcome.value,
                            None if outcome.ok else outcome.error)
            finished[t.name] = run
            if progress:
                progress(run)
        comp.runs = [finished.get(t.name) or Run(t.algo, t.seed, [], error="not run (stopped)") for t in trials]
        comp.stopped = getattr(executor, "stopped", None)
    finally:
        if scratch is not None:
            scratch.cleanup()
    return comp


def first_hit(rows: list[dict], threshold: float, column: str = "eval_return_mean") -> dict | None:
    """The first row whose `column` reaches the threshold (None if never)."""
    i = first_reach([r.get(column, math.nan) for r in rows], threshold)
    return None if i is None else rows[i]


def _final(rows: list[dict], column: str) -> float:
    values = [r[column] for r in rows if math.isfinite(r.get(column, math.nan))]
    return values[-1] if values else math.nan


def summarize(comp: Comparison) -> list[dict]:
    """One row per arm: final evaluation return (mean, min, max over seeds), seeds that reached the
    threshold, and the median and per-seed env steps and seconds to reach it (evaluation return; the
    median is over all seeds, one that never reached it counting as slower than any other:
    `minirl.stats.median_time_to`)."""
    table = []
    for arm in comp.arms:
        runs = [r for r in comp.runs if r.arm == arm]
        finals = np.array([_final(r.rows, "eval_return_mean") for r in runs])
        finals = finals[np.isfinite(finals)]
        hits = [first_hit(r.rows, comp.threshold) for r in runs]
        easy = [first_hit(r.rows, comp.easy_threshold) for r in runs] if comp.easy_threshold is not None else []
        steps = [h["step"] if h else math.nan for h in hits]
        secs = [h["time_s"] if h else math.nan for h in hits]
        reached = [s for s in steps if math.isfinite(s)]
        table.append({
            "arm": arm, "label": ARMS[arm].label, "gradient": ARMS[arm].gradient, "seeds": len(runs),
            "failed": sum(r.error is not None for r in runs), "budget_steps": comp.budgets[arm],
            "final_eval_mean": float(finals.mean()) if len(finals) else math.nan,
            "final_eval_min": float(finals.min()) if len(finals) else math.nan,
            "final_eval_max": float(finals.max()) if len(finals) else math.nan,
            "final_train_mean": float(np.nanmean([_final(r.rows, "return_mean") for r in runs]))
            if any(math.isfinite(_final(r.rows, "return_mean")) for r in runs) else math.nan,
            "threshold": comp.threshold, "reached": len(reached),
            "steps_to_threshold": median_time_to(steps),
            "seconds_to_threshold": median_time_to(secs),
            "steps_per_seed": " ".join("never" if not math.isfinite(s) else f"{s:.0f}" for s in steps),
            "easy_threshold": comp.easy_threshold if comp.easy_threshold is not None else math.nan,
            "steps_to_easy": median_time_to([h["step"] if h else math.nan for h in easy]),
            "train_seconds_mean": float(np.mean([r.rows[-1]["time_s"] for r in runs if r.rows]))
            if any(r.rows for r in runs) else math.nan,
        })
    return table


def curve_rows(comp: Comparison) -> list[dict]:
    """Every logged row of every run, tagged with its arm and seed (the long format of curves.csv)."""
    columns = ("step", "time_s", "episodes", "return_mean", "eval_return_mean", "eval_return_std")
    return [{"arm": run.arm, "seed": run.seed, **{k: row.get(k, math.nan) for k in columns}}
            for run in comp.runs for row in run.rows]
