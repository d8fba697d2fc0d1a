"""The report of a sweep: one row per setting, from the trial folders alone (any time, even mid-sweep).

    report = sweep_report(out)                  # reads OUT/sweep.json, every trial folder, failures.json
    report.rows                                 # one dict per setting (the columns below)
    report.curves[setting]                      # per-seed (step, evaluation return) of its finished trials

A trial is `failed` (listed in OUT/failures.json, stopped by a NaN or an error, or a finished
folder that does not hold its own run: an unreadable config.json or progress.csv, or the algorithm,
env, seed or a grid value of another trial, as a copied folder has: so a copy is never counted as
a second seed of its original), `finished` (its summary says the budget or
`stop_return` was reached) or `pending` (not run yet, running, or interrupted). Every failed trial
has its reason in `report.failures`, which `minirl sweep` prints as its "failed:" lines, so the
counts and the lines always agree. Only finished trials enter the statistics, each run once. Over the n finished seeds of a setting:

| column | what |
|---|---|
| `final_return_iqm` [`_low`, `_high`] | IQM over seeds of the last training `return_mean` (mean of the last 100 episodes), 95% percentile-bootstrap interval (`minirl.stats`, 2000 resamples, Generator seeded 0) |
| `final_eval_iqm` [`_low`, `_high`] | the same for the last evaluation return (deterministic policy, K episodes) |
| `reached` | seeds whose evaluation return reached `threshold` |
| `steps_to_threshold` | median over seeds of the first env step whose evaluation return >= `threshold`, a seed that never reached it counting as infinitely slow (so: NaN, printed "never", unless at least half reached it) |
| `steps_per_seed` | those steps, seed by seed ("never" where not reached) |

IQM (Agarwal et al. 2021): the mean of the middle 50% of the values (`minirl.stats.iqm`); with
fewer than 4 seeds it is the plain mean.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field

import numpy as np

from ..stats import first_reach, median_time_to
from .folder import finished, read_json_or_none
from .sweep import SweepError, read_plan, setting_of
from .sweep_run import read_failures

__all__ = ["SweepReport", "sweep_report", "trial_status", "format_report", "write_report_csv", "REPORT_COLUMNS"]

N_BOOT = 2000
FIXED_COLUMNS = ("setting", "algo", "env_id", "trials", "finished", "failed", "pending",
                 "final_return_iqm", "final_return_low", "final_return_high",
                 "final_eval_iqm", "final_eval_low", "final_eval_high",
                 "threshold", "reached", "steps_to_threshold", "steps_per_seed")
REPORT_COLUMNS = FIXED_COLUMNS


@dataclass
class SweepReport:
    out: str
    grid_names: list[str]
    rows: list[dict] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)               # failed trial -> why
    curves: dict[str, list[tuple[np.ndarray, np.ndarray]]] = field(default_factory=dict)
    thresholds: dict[str, float | None] = field(default_factory=dict)    # env id -> threshold

    @property
    def columns(self) -> list[str]:
        return [*FIXED_COLUMNS[:3], *self.grid_names, *FIXED_COLUMNS[3:]]


def trial_status(folder: str, failures: dict, name: str, record: dict | None = None) -> tuple[str, str | None]:
    """("finished" | "failed" | "pending", the reason when failed) of one trial (see the module doc).

    `record`: the trial as the plan holds it; a finished folder must hold that run (algo, env, seed).
    """
    if name in failures:
        entry = failures[name]
        return "failed", str(entry.get("error") if isinstance(entry, dict) else entry)
    summary = read_json_or_none(os.path.join(folder, "summary.json")) or {}
    reason = summary.get("stop_reason")
    if finished(summary):
        config = read_json_or_none(os.path.join(folder, "config.json"))
        if not isinstance(config, dict):
            return "failed", (f"{os.path.join(folder, 'config.json')} cannot be read: remove the folder and rerun "
                              "the sweep to train this trial again")
        if record is not None:
            saved = config.get("config") if isinstance(config.get("config"), dict) else {}
            differ = [k for k in ("algo", "env_id", "seed") if config.get(k) != record.get(k)]
            differ += [k for k, v in (record.get("overrides") or {}).items() if saved.get(k) != v]
            if differ:
                shown = ", ".join(f"{k} {config.get(k, saved.get(k))!r}" for k in differ)
                return "failed", (f"the folder holds another run ({shown}; a copied folder?): remove it and rerun "
                                  "the sweep to train this trial")
        if not _rows(folder).get("step", np.zeros(0)).size:
            return "failed", (f"{os.path.join(folder, 'progress.csv')} cannot be read or has no rows: remove the "
                              "folder and rerun the sweep to train this trial again")
        return "finished", None
    if reason in ("nan", "error"):
        return "failed", str(summary.get("error") or f"stopped by {'a NaN' if reason == 'nan' else 'an error'}")
    return "pending", None


def _rows(folder: str) -> dict[str, np.ndarray]:
    from ..logger import read_csv
    path = os.path.join(folder, "progress.csv")
    try:
        return read_csv(path)
    except (OSError, ValueError):
        return {}


def _last_finite(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(values[-1]) if values.size else math.nan


def _interval(values: list[float]) -> tuple[float, float, float]:
    from ..stats import bootstrap_ci
    values = [v for v in values if math.isfinite(v)]
    if not values:
        return math.nan, math.nan, math.nan
    centre, low, high = bootstrap_ci(np.array(values), "iqm", n_boot=N_BOOT, rng=np.random.default_rng(0))
    return float(centre), float(low), float(high)


def _threshold_for(env_id: str, given: float | None) -> float | None:
    if given is not None:
        return float(given)
    from ..algos.presets import reward_threshold
    return reward_threshold(env_id)


def _grid_value(record: dict, name: str):
    if name == "env":
        return record["env_id"]
    if name in record and name != "overrides":
        return record[name]
    return record.get("overrides", {}).get(name)


def sweep_report(out: str, threshold: float | None = None) -> SweepReport:
    """The report of the sweep in OUT (module doc); `threshold` overrides the plan's and the envs'."""
    plan = read_plan(out)
    if plan is None:
        raise SweepError(f"{out} holds no sweep (no {os.path.join(out, 'sweep.json')}): give the --out folder of "
                         "a `minirl sweep`")
    threshold = threshold if threshold is not None else plan.get("threshold")
    failures = read_failures(out)
    grid_names = sorted(plan.get("grid", {}))
    report = SweepReport(out, grid_names)
    by_setting: dict[str, list[dict]] = {}
    for record in plan["trials"]:
        by_setting.setdefault(setting_of(record["name"]), []).append(record)
    for setting, records in by_setting.items():
        first = records[0]
        env_id = first["env_id"]
        level = report.thresholds.setdefault(env_id, _threshold_for(env_id, threshold))
        counts = {"finished": 0, "failed": 0, "pending": 0}
        finals, evals, steps, curves = [], [], [], []
        for record in records:
            folder = os.path.join(out, record["name"])
            status, why = trial_status(folder, failures, record["name"], record)
            counts[status] += 1
            if status == "failed":
                report.failures[record["name"]] = why
            if status != "finished":
                continue
            data = _rows(folder)
            step = data.get("step", np.zeros(0))
            ev = data.get("eval_return_mean", np.full(step.shape, np.nan))
            finals.append(_last_finite(data.get("return_mean", [])))
            evals.append(_last_finite(ev))
            hit = first_reach(ev, level)
            steps.append(math.inf if hit is None else float(step[hit]))
            keep = np.isfinite(ev)
            if keep.any():
                curves.append((step[keep], ev[keep]))
        report.curves[setting] = curves
        f_c, f_lo, f_hi = _interval(finals)
        e_c, e_lo, e_hi = _interval(evals)
        median = median_time_to(steps)
        report.rows.append({
            "setting": setting, "algo": first["algo"], "env_id": env_id,
            **{name: _grid_value(first, name) for name in grid_names},
            "trials": len(records), **counts,
            "final_return_iqm": f_c, "final_return_low": f_lo, "final_return_high": f_hi,
            "final_eval_iqm": e_c, "final_eval_low": e_lo, "final_eval_high": e_hi,
            "threshold": math.nan if level is None else level,
            "reached": sum(math.isfinite(s) for s in steps),
            "steps_to_threshold": median,
            "steps_per_seed": " ".join("never" if not math.isfinite(s) else f"{s:.0f}" for s in steps),
        })
    return report


def _ci(row: dict, key: str) -> str:
    c, lo, hi = row[f"{key}_iqm"], row[f"{key}_low"], row[f"{key}_high"]
    return "-" if not math.isfinite(c) else f"{c:.1f} [{lo:.1f}, {hi:.1f}]"


def format_report(report: SweepReport) -> str:
    """The printed table: one line per setting."""
    width = max([len("setting")] + [len(r["setting"]) for r in report.rows])
    head = (f"{'setting':<{width}}  {'finished':>8} {'failed':>6}  {'final return (IQM [95% CI])':>28}  "
            f"{'final eval (IQM [95% CI])':>28}  {'reached':>7}  {'steps to threshold':>18}")
    lines = [head, "-" * len(head)]
    for r in report.rows:
        threshold = "" if not math.isfinite(r["threshold"]) else f" (>= {r['threshold']:g})"
        steps = ("-" if not threshold else "never" if not math.isfinite(r["steps_to_threshold"])
                 else f"{r['steps_to_threshold']:,.0f}")
        lines.append(f"{r['setting']:<{width}}  {r['finished']:>4}/{r['trials']:<3} {r['failed']:>6}  "
                     f"{_ci(r, 'final_return'):>28}  {_ci(r, 'final_eval'):>28}  "
                     f"{r['reached']:>3}/{r['finished']:<3}  {steps + threshold:>18}")
    return "\n".join(lines)


def write_report_csv(report: SweepReport, path: str) -> str:
    """Write the table atomically (a temporary file renamed over it), so a full disk never leaves half a
    table; an existing report.csv that cannot be written (read-only) is refused with the OSError."""
    import csv
    if os.path.exists(path):
        with open(path, "r+b"):                      # PermissionError for a read-only file: kept as it is
            pass
    tmp = f"{path}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=report.columns)
            writer.writeheader()
            writer.writerows(report.rows)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
