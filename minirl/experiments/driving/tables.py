"""The tables of `minirl driving`, each in its own units, each number with its n and an interval.

| table              | one row per                         | interval                                    |
|--------------------|-------------------------------------|---------------------------------------------|
| `policies`         | baseline or planner arm             | crash rate: Wilson 95%; return: bootstrap over episodes |
| `blame`            | (dynamics, score) and N             | bootstrap 95% over the start states         |
| `overopt`          | world and N                         | driving: bootstrap over starts; toy: exact, mean over seeds |
| `rewards`          | world, reward, training and scoring pairs, pairs, metric | bootstrap 95% over seeds |
| `inputs`           | regression inputs and model; the formula's crash detection | range over seeds; Wilson |
| `world_model`      | predictor, target, rows, component  | range over seeds; the switch rate: Wilson  |
| `ppo` (--long)     | reward PPO was trained on           | Wilson (crashes), bootstrap over episodes  |

Crash counts in `blame` and `overopt` are expectations over the random N-subsets of each pool
(`selection`), so they can be fractional; n is the number of start states.
"""

from __future__ import annotations

import numpy as np

from ...stats import bootstrap_ci, wilson_interval
from .candidates import BLAME
from .planner import BASELINES, PLANNERS
from .selection import gain_curve

__all__ = ["TABLES", "policy_table", "blame_table", "overopt_table", "reward_table", "inputs_table",
           "world_table", "ppo_table", "all_tables", "rate_row"]

TABLES = ("policies", "blame", "overopt", "rewards", "inputs", "world_model", "ppo")


def rate_row(k: int, n: int, prefix: str = "crash") -> dict:
    """{prefix}es k, n, rate and its Wilson 95% interval."""
    low, high = wilson_interval(int(k), int(n))
    return {f"{prefix}es": int(k), "n": int(n), f"{prefix}_rate": k / n if n else float("nan"),
            f"{prefix}_low": low, f"{prefix}_high": high}


def _mean_ci(values) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return (float("nan"),) * 3
    centre, low, high = bootstrap_ci(v, statistic="mean")
    return float(centre), float(low), float(high)


def _episodes_summary(rows) -> dict:
    ret, ret_low, ret_high = _mean_ci([r["return"] for r in rows])
    speed = float(np.mean([r["speed"] for r in rows]))
    out = {**rate_row(sum(bool(r["crashed"]) for r in rows), len(rows)), "return": ret, "return_low": ret_low,
           "return_high": ret_high, "speed": speed}
    if any("hit" in r for r in rows):
        out["hit_ahead"] = sum(r.get("hit") == "ahead" for r in rows)
    return out


def policy_table(result) -> list[dict]:
    """One row per arm: crashes of n episodes with a Wilson interval, return paid, predicted, speed."""
    out = []
    order = [*BASELINES, *PLANNERS]
    arms = sorted(dict.fromkeys(r["arm"] for r in result.episode_rows),
                  key=lambda a: order.index(a) if a in order else len(order))
    for arm in arms:
        rows = [r for r in result.episode_rows if r["arm"] == arm]
        predicted = [r["predicted"] for r in rows if np.isfinite(r["predicted"])]
        out.append({"arm": arm, **_episodes_summary(rows),
                    "predicted": float(np.mean(predicted)) if predicted else float("nan")})
    return out


def _stack(result, key) -> np.ndarray:
    return np.stack([np.asarray(p[key], dtype=np.float64) for p in result.pools])      # (S, K)


def _selector_curve(result, selector, ns) -> list[dict]:
    scores = np.stack([s[selector] for s in result.pool_scores])                        # (S, K)
    return gain_curve(scores, {"paid": _stack(result, "paid"), "crashed": _stack(result, "crashed"),
                               "proxy": scores}, ns)


def blame_table(result, ns) -> list[dict]:
    """The 2 x 2 (dynamics x score) at every N: paid return, crashes of the winner, promised return."""
    out = []
    for (dynamics, score), selector in BLAME.items():
        for r in _selector_curve(result, selector, ns):
            n = r["n_starts"]
            out.append({"dynamics": dynamics, "score": score, "N": r["N"], "paid": r["paid"],
                        "paid_low": r["paid_low"], "paid_high": r["paid_high"], "crashes": r["crashed"] * n,
                        "crashes_low": r["crashed_low"] * n, "crashes_high": r["crashed_high"] * n, "n": n,
                        "promised": r["proxy"]})
    return out


def overopt_table(result, ns) -> list[dict]:
    """The action-sequence reward's best-of-N curve (driving) beside the toy language's exact one."""
    out = []
    if result.pool_scores:
        a, b = result.sequence_readout
        for r in _selector_curve(result, "action-sequence reward", ns):
            n = r["n_starts"]
            out.append({"world": "driving", "N": r["N"], "kl_bon": r["kl_bon"], "proxy_gain": r["proxy_gain"],
                        "paid_gain": r["paid_gain"], "paid_gain_low": r["paid_gain_low"],
                        "paid_gain_high": r["paid_gain_high"], "paid": r["paid"], "paid_low": r["paid_low"],
                        "paid_high": r["paid_high"], "promised": a + b * r["proxy"],
                        "crashes": r["crashed"] * n, "crashes_low": r["crashed_low"] * n,
                        "crashes_high": r["crashed_high"] * n, "n": n})
    for N in sorted({r["N"] for r in result.toy_bon_rows}):
        rows = [r for r in result.toy_bon_rows if r["N"] == N]
        out.append({"world": "toy language", "N": N, "kl_bon": rows[0]["kl_bon"],
                    "proxy_gain": float(np.mean([r["proxy_gain"] for r in rows])),
                    "paid_gain": float(np.mean([r["paid_gain"] for r in rows])),
                    "paid_gain_low": float(np.min([r["paid_gain"] for r in rows])),
                    "paid_gain_high": float(np.max([r["paid_gain"] for r in rows])), "n": len(rows)})
    return out


METRICS = {"overall": "pair accuracy", "crash": "pair accuracy, crash pairs", "r2": "R^2"}


def _scored(row: dict, key: str) -> int:
    """How many held-out pairs a metric was computed on (for R^2: the pairs of the accuracy)."""
    if key == "crash":
        return int(row["n_crash"])
    return int(row["n_crash"] + row["n_no_crash"]) if "n_crash" in row else int(row.get("n_scored", 0))


def reward_table(result) -> list[dict]:
    """Like for like: per world, reward, what it was trained on, what it is scored on and number of
    pairs, each metric's mean over seeds with a 95% bootstrap interval over the seeds (the toy
    language has no crash pairs)."""
    out = []
    fields = ("world", "reward", "trained_on", "scored_on", "n_pairs")
    for key in dict.fromkeys(tuple(r[f] for f in fields) for r in result.reward_rows):
        rows = [r for r in result.reward_rows if tuple(r[f] for f in fields) == key]
        for metric_key, metric in METRICS.items():
            if metric_key not in rows[0]:
                continue
            mean, low, high = _mean_ci([r[metric_key] for r in rows])
            out.append({**dict(zip(fields, key)), "metric": metric, "mean": mean, "low": low, "high": high,
                        "seeds": len(rows), "pairs_scored": _scored(rows[0], metric_key)})
    return out


def inputs_table(result) -> list[dict]:
    """Regression R^2 by inputs and model (mean and range over seeds); the formula's crash test."""
    out = []
    for inputs, model in dict.fromkeys((r["inputs"], r["model"]) for r in result.input_rows):
        v = [r["r2"] for r in result.input_rows if (r["inputs"], r["model"]) == (inputs, model)]
        out.append({"quantity": f"R^2 of a {model} regression on {inputs}", "value": float(np.mean(v)),
                    "low": float(np.min(v)), "high": float(np.max(v)), "n": len(v)})
    f = result.formula_rows
    v = [r["r2"] for r in f]
    out.append({"quantity": "R^2 of the env's formula read off the observation", "value": float(np.mean(v)),
                "low": float(np.min(v)), "high": float(np.max(v)), "n": len(v)})
    for quantity, k, n in (("crashes the formula's box test finds", "found", "crashes"),
                           ("false alarms on crash-free steps", "false_alarms", "steps_no_crash")):
        kk, nn = sum(r[k] for r in f), sum(r[n] for r in f)
        rate = rate_row(kk, nn)
        out.append({"quantity": quantity, "value": rate["crash_rate"], "low": rate["crash_low"],
                    "high": rate["crash_high"], "n": nn, "count": kk})
    return out


def world_table(result) -> list[dict]:
    """One-step R^2 of the change per predictor, target, rows and component; and the switch rate."""
    out = []
    keys = dict.fromkeys((r["predictor"], r["target"], r["rows"], r["car"], r["feature"]) for r in result.world_rows)
    for key in keys:
        rows = [r for r in result.world_rows if (r["predictor"], r["target"], r["rows"], r["car"], r["feature"]) == key]
        v = [r["r2"] for r in rows]
        out.append({"predictor": key[0], "target": key[1], "rows": key[2], "car": key[3], "feature": key[4],
                    "r2": float(np.mean(v)), "low": float(np.min(v)), "high": float(np.max(v)),
                    "values": rows[0]["n"]})
    k, n = sum(r["switched"] for r in result.switch_rows), sum(r["n"] for r in result.switch_rows)
    rate = rate_row(k, n)
    out.append({"predictor": "rows that switch car", "target": "next_obs", "rows": "all rows", "car": "others",
                "feature": "-", "r2": float("nan"), "switch_rate": rate["crash_rate"], "low": rate["crash_low"],
                "high": rate["crash_high"], "values": n, "switched": k})
    return out


def ppo_table(result) -> list[dict]:
    """Per reward PPO was trained on: crashes of all evaluation episodes (every seed), speed, return."""
    out = []
    for arm in dict.fromkeys(r["arm"] for r in result.ppo_rows):
        rows = [r for r in result.ppo_rows if r["arm"] == arm]
        seeds = sorted({r["train_seed"] for r in rows})
        per_seed = [f"{sum(r['crashed'] for r in rows if r['train_seed'] == s)}/"
                    f"{sum(1 for r in rows if r['train_seed'] == s)}" for s in seeds]
        out.append({"arm": arm, **_episodes_summary(rows), "seeds": len(seeds), "crashes_per_seed": " ".join(per_seed),
                    "train_steps": rows[0]["train_steps"]})
    return out


def all_tables(result, config) -> dict:
    """Every table that has data, name -> rows."""
    tables = {"policies": policy_table(result), "rewards": reward_table(result), "inputs": inputs_table(result),
              "world_model": world_table(result), "overopt": overopt_table(result, config.bon_n)}
    if result.pool_scores:
        tables["blame"] = blame_table(result, config.bon_n)
    if result.ppo_rows:
        tables["ppo"] = ppo_table(result)
    return {name: tables[name] for name in TABLES if tables.get(name)}
