"""When does the gradient pay? Every arm on every d of a task family, and the gradient's SNR against d.

Lesson 13. `minirl compare --task minirl/PendulumRow --dims 1,2,4,8,16` runs each arm of
`minirl.experiments.compare` (REINFORCE, PPO, SAC, SHAC, SVG) on each member `<family>-d<d>-v0` of
a family whose knob is the number of action dimensions d (`minirl.envs.pendulum_row`), for several
seeds. Each run is a trial (`minirl.runs.trials`) in `OUT/runs/<arm>-d<d>-s<seed>`, judged by the
same evaluation protocol as every comparison: K deterministic episodes of the black-box env, every
`eval_every` env steps; env steps count every transition an arm consumed (simulated twin steps
included), never evaluation episodes. The result per (arm, d) is the number of env steps to the
first evaluation at or above the threshold of that d.

Beside the runs, `measure_snr` measures the mechanism: at the initial policy of each seed (the
network every arm starts from: (64, 64), tanh), `repeats` independent gradient estimates from
`rollouts` short rollouts each, score function and pathwise on the same rollouts
(`minirl.algos.gradient_snr`), summarised by their signal-to-noise ratio and by their mean cosine to a
reference gradient (the mean of `reference_repeats` further pathwise estimates).

| function | returns |
|---|---|
| `plan_dimensions(family, dims, arms, seeds, ...)` | a checked `DimensionStudy`, no runs yet |
| `run_dimensions(study, out, executor, progress)` | the study with its runs (and SNR rows) |
| `measure_snr(family, d, seed, ...)` | SNR and cosine rows of one (d, seed) |
| `summarize(study)` | one row per (arm, d): seeds that reached, median and IQM steps with a band |
| `ratio_rows(summary, numerator, denominator)` | per d, the ratio of two arms' median steps |

A seed that never reached the threshold counts as slower than any other (`median_time_to`); in the
IQM and its band it counts as its budget, so those points are lower bounds (`censored`).
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..stats import bootstrap_ci, median_time_to
from .compare import ARMS, FAST_EVAL_EVERY, Run, _load_run, check_request, first_hit

__all__ = ["FAMILIES", "DimensionStudy", "family_ids", "plan_dimensions", "trials_for", "run_dimensions",
           "measure_snr", "summarize", "ratio_rows", "SNR_SETTINGS"]

# Task families with stated budgets per arm (env steps at every d). PPO and REINFORCE get the most:
# the point of the study is how their steps grow with d, and a run that never reaches the threshold
# only gives a lower bound. SVG is the costliest per step (it fits a model of the d-dim dynamics).
FAMILIES: dict[str, dict] = {
    "minirl/PendulumRow": dict(
        dims=(1, 2, 4, 8, 16),
        total_steps=dict(reinforce=20_000, ppo=80_000, sac=5_000, shac=6_000, svg=2_500),
        fast_steps=dict(reinforce=1_000, ppo=2_048, sac=1_000, shac=1_000, svg=600)),
}
SNR_SETTINGS = dict(rollouts=8, repeats=128, reference_repeats=128, steps=16, gamma=0.99, log_std=-0.5)
FAST_SNR_SETTINGS = dict(SNR_SETTINGS, repeats=8, reference_repeats=16)


def family_ids(family: str, dims) -> dict[int, str]:
    """{d: '<family>-d<d>-v0'} for each d, each a registered id (ValueError, one line, otherwise)."""
    import gymnasium as gym

    from .. import envs  # noqa: F401  (registers the ids)
    ids = {}
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 1:
            raise ValueError(f"dims must be positive integers, got {d!r}")
        env_id = f"{family}-d{int(d)}-v0"
        if env_id not in gym.registry:
            known = sorted({k.rsplit("-d", 1)[0] for k in gym.registry if "-d" in k and k.startswith("minirl/")})
            raise ValueError(f"{env_id!r} is not registered: --dims needs a task family with one id per d "
                             f"('<family>-d<d>-v0'); families: {known}")
        ids[int(d)] = env_id
    return ids


@dataclass
class DimensionStudy:
    family: str
    dims: list[int]
    arms: list[str]
    seeds: list[int]
    budgets: dict[str, int]                    # env steps per run, per arm (the same at every d)
    thresholds: dict[int, float]               # per d: the env's reward_threshold
    ids: dict[int, str]
    fast: bool = False
    snr: bool = True                           # also measure the gradients' SNR
    runs: list[tuple[int, Run]] = field(default_factory=list)      # (d, run)
    snr_rows: list[dict] = field(default_factory=list)
    stopped: str | None = None


def plan_dimensions(family: str = "minirl/PendulumRow", dims=None, arms=tuple(ARMS), seeds: int = 3,
                    total_steps: int | None = None, fast: bool = False, snr: bool = True) -> DimensionStudy:
    """The study to run, checked (ValueError, one line, before any work), with no runs yet.

    dims: the family's stated dims if None. total_steps: env steps per run (None: the family's budget
    per arm, the fast one if `fast`).
    """
    from ..algos.presets import reward_threshold

    stated = FAMILIES.get(family, {})
    dims = list(stated.get("dims", ())) if dims is None else list(dims)
    if not dims:
        raise ValueError(f"no dims given, and {family!r} states none; families with stated dims: {sorted(FAMILIES)}")
    if len(set(dims)) != len(dims):
        raise ValueError(f"dims given more than once: {dims}")
    ids = family_ids(family, sorted(dims))
    arms = list(arms)
    for env_id in ids.values():
        check_request(env_id, arms)
    if not isinstance(seeds, (int, np.integer)) or isinstance(seeds, bool) or seeds <= 0:
        raise ValueError(f"seeds must be a positive integer, got {seeds!r}")
    if total_steps is not None and (not isinstance(total_steps, (int, np.integer)) or total_steps <= 0):
        raise ValueError(f"total_steps must be a positive integer, got {total_steps!r}")
    key = "fast_steps" if fast else "total_steps"
    budgets = {a: int(total_steps) if total_steps is not None else int(stated.get(key, {}).get(a, 2_000 if fast else 50_000))
               for a in arms}
    thresholds = {}
    for d, env_id in ids.items():
        value = reward_threshold(env_id)
        if value is None:
            raise ValueError(f"{env_id} states no reward_threshold: the study needs one per d")
        thresholds[d] = value
    return DimensionStudy(family, sorted(ids), arms, list(range(int(seeds))), budgets, thresholds, ids, fast, snr)


def trials_for(study: DimensionStudy) -> list:
    """One `Trial` per (arm, d, seed): folder `<arm>-d<d>-s<seed>`, the preset config of the arm for that id."""
    from ..runs.trials import Trial
    return [Trial(f"{arm}-d{d}-s{seed}", arm, study.ids[d], seed, total_steps=study.budgets[arm],
                  eval_every=FAST_EVAL_EVERY if study.fast else None)
            for d in study.dims for arm in study.arms for seed in study.seeds]


def measure_snr(family: str, d: int, seed: int, *, rollouts: int, repeats: int, reference_repeats: int,
                steps: int, gamma: float, log_std: float) -> list[dict]:
    """SNR and mean cosine to a reference of both estimators at the initial policy of `seed` on d.

    The policy is a `GaussianPolicy` with (64, 64) tanh layers (PPO's, SVG's) and log-std `log_std`;
    the start states come from the twin's reset. Returns one row per estimator.
    """
    from ..algos.gradient_snr import ESTIMATORS, estimator_gradients, gradient_snr, mean_cosine
    from ..envs import make_twin
    from ..policies import GaussianPolicy

    twin = make_twin(f"{family}-d{d}-v0")
    init, sample, reference = np.random.default_rng(np.random.SeedSequence([seed, d])).spawn(3)
    policy = GaussianPolicy(twin.obs_dim, twin.act_dim, rng=init, hidden=(64, 64), log_std_init=log_std)
    kwargs = dict(rollouts=rollouts, steps=steps, gamma=gamma)
    estimates = estimator_gradients(twin, policy, repeats=repeats, rng=sample, **kwargs)
    ref = estimator_gradients(twin, policy, repeats=reference_repeats, rng=reference, **kwargs)["pathwise"].mean(axis=0)
    return [{"d": d, "seed": seed, "estimator": name, "snr": gradient_snr(estimates[name]),
             "cosine": mean_cosine(estimates[name], ref), "rollouts": rollouts, "repeats": repeats,
             "steps": steps, "parameters": int(estimates[name].shape[1])} for name in ESTIMATORS]


def _snr_task(family: str, d: int, seed: int, settings: dict) -> list[dict]:
    return measure_snr(family, d, seed, **settings)


def run_dimensions(study: DimensionStudy, out: str | None = None, jobs: int | None = None, executor=None,
                   progress: Callable[[str], None] | None = None) -> DimensionStudy:
    """Run every trial of the study (and the SNR measurements) on `executor`; fill `study.runs`, `snr_rows`.

    out: folder of the runs (`out/<arm>-d<d>-s<seed>`; None: a temporary folder, removed afterwards).
    progress: called with a short text as each trial or measurement ends.
    """
    from ..runs.local import LocalExecutor
    from ..runs.trials import check_folder, run_trials

    trials = trials_for(study)
    dims_of = {t.name: d for t, d in zip(trials, (d for d in study.dims for _ in study.arms for _ in study.seeds))}
    scratch = tempfile.TemporaryDirectory(prefix="minirl-dims-") if out is None else None
    root = scratch.name if scratch else out
    try:
        for t in trials:
            check_folder(t, os.path.join(root, t.name))
        executor = executor or LocalExecutor(jobs)
        if study.snr:
            settings = FAST_SNR_SETTINGS if study.fast else SNR_SETTINGS
            tasks = {f"snr-d{d}-s{s}": (study.family, d, s, settings) for d in study.dims for s in study.seeds}
            rows = []
            for outcome in executor.run(_snr_task, tasks):
                if outcome.ok:
                    rows.extend(outcome.value)
                if progress:
                    progress(f"{outcome.key}: " + ("done" if outcome.ok else "failed"))
            study.snr_rows = sorted(rows, key=lambda r: (r["d"], r["seed"], r["estimator"]))
            study.stopped = getattr(executor, "stopped", None)
            if study.stopped:                                  # a stop request: no trial starts
                study.runs = [(dims_of[t.name], Run(t.algo, t.seed, [], error="not run (stopped)")) for t in trials]
                return study
        finished: dict[str, Run] = {}
        for t, outcome in run_trials(executor, trials, root):
            run = _load_run(t.algo, t.seed, os.path.join(root, t.name), outcome.value,
                            None if outcome.ok else outcome.error)
            finished[t.name] = run
            if progress:
                hit = first_hit(run.rows, study.thresholds[dims_of[t.name]])
                progress(f"{t.name}: " + ("failed" if run.error else
                                          f"{hit['step']:.0f} steps" if hit else "never"))
        study.runs = [(dims_of[t.name], finished.get(t.name) or Run(t.algo, t.seed, [], error="not run (stopped)"))
                      for t in trials]
        study.stopped = getattr(executor, "stopped", None)
    finally:
        if scratch is not None:
            scratch.cleanup()
    return study


def _steps_to(run: Run, threshold: float) -> float:
    hit = first_hit(run.rows, threshold)
    return float(hit["step"]) if hit else math.nan


def summarize(study: DimensionStudy) -> list[dict]:
    """One row per (arm, d): seeds that reached the threshold, the median env steps to it over all seeds
    (never = slower than any seed), the IQM over seeds with a 95% bootstrap band (a seed that never
    reached it counts as its budget: `censored` says how many did), and the per-seed steps."""
    table = []
    for arm in study.arms:
        for d in study.dims:
            runs = [r for dd, r in study.runs if dd == d and r.arm == arm]
            steps = [_steps_to(r, study.thresholds[d]) for r in runs]
            budget = study.budgets[arm]
            filled = np.array([s if math.isfinite(s) else budget for s in steps], dtype=float)
            centre, low, high = bootstrap_ci(filled, "iqm") if len(filled) else (math.nan,) * 3
            table.append({
                "arm": arm, "label": ARMS[arm].label, "d": d, "threshold": study.thresholds[d],
                "budget_steps": budget, "seeds": len(runs), "failed": sum(r.error is not None for r in runs),
                "reached": sum(math.isfinite(s) for s in steps), "censored": sum(not math.isfinite(s) for s in steps),
                "median_steps": median_time_to(steps), "iqm_steps": float(centre), "iqm_low": float(low),
                "iqm_high": float(high),
                "steps_per_seed": " ".join("never" if not math.isfinite(s) else f"{s:.0f}" for s in steps),
            })
    return table


def ratio_rows(summary: list[dict], numerator: str = "ppo", denominator: str = "shac") -> list[dict]:
    """Per d: median steps of `numerator` over those of `denominator`. When the numerator's median seed
    never reached the threshold, its budget stands in and the ratio is a lower bound (`lower_bound`)."""
    by = {(r["arm"], r["d"]): r for r in summary}
    rows = []
    for d in sorted({r["d"] for r in summary}):
        top, bottom = by.get((numerator, d)), by.get((denominator, d))
        if top is None or bottom is None:
            continue
        num, den = top["median_steps"], bottom["median_steps"]
        lower = not math.isfinite(num)
        if lower:
            num = float(top["budget_steps"])
        ratio = num / den if math.isfinite(den) and den > 0 else math.nan
        rows.append({"d": d, "numerator": numerator, "denominator": denominator, "ratio": ratio,
                     "lower_bound": lower and math.isfinite(ratio)})
    return rows
