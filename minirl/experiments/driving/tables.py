"""The summary tables of `minirl driving`: one row per quantity, driving beside the toy language.

Every number is a mean over the seeds of `DrivingResult` (per-seed values are in the CSV files the
command writes). A toy-language cell is NaN where the toy world has no counterpart, and the `note`
says why (e.g. nothing in the toy language is hidden from the reward model, and its "dynamics",
appending a token, is known exactly).

Columns: table, quantity, driving, toy_language, note.
"""

from __future__ import annotations

import numpy as np

__all__ = ["summary_tables", "TABLES"]

TABLES = ("reward learnability", "accuracy vs data", "world model", "over-optimisation", "planner")
NAN = float("nan")


def _mean(rows, key, **where) -> float:
    vals = [r[key] for r in rows if all(r.get(k) == v for k, v in where.items())]
    vals = [v for v in vals if v is not None and np.isfinite(v)]
    return float(np.mean(vals)) if vals else NAN


def _row(table, quantity, driving, toy=NAN, note=""):
    return {"table": table, "quantity": quantity, "driving": float(driving), "toy_language": float(toy),
            "note": note}


def summary_tables(result, config) -> list[dict]:
    """All five tables as one list of rows (see the module docstring)."""
    rows = []
    big = config.pair_counts[-1]
    t = "reward learnability"
    toy_acc = _mean(result.toy_rows, "accuracy", n_pairs=big)
    toy_r2 = _mean(result.toy_rows, "r2", n_pairs=big)
    hidden_note = "toy: nothing is hidden from the model (the response is the whole state)"
    for inputs in ("privileged", "observation"):
        for model in ("linear", "mlp"):
            obs_mlp = inputs == "observation" and model == "mlp"
            rows.append(_row(t, f"R^2 of the reward, {model} on {inputs}",
                             _mean(result.reward_rows, "r2", inputs=inputs, model=model, n_pairs=big),
                             toy_r2 if obs_mlp else NAN,
                             "toy: squared correlation with gold, BT model on the response" if obs_mlp else hidden_note))
    rows.append(_row(t, "R^2 of the env's own reward formula read off the observation",
                     np.mean(result.formula["r2"]), NAN, "crash = boxes within 0.5 m (crash_from_obs)"))
    rows.append(_row(t, "  ... share of crashes it detects", np.mean(result.formula["crash_recall"])))
    rows.append(_row(t, "  ... false alarms per crash-free step", np.mean(result.formula["false_alarms"])))
    for inputs in ("privileged", "observation"):
        for model in ("linear", "mlp"):
            obs_mlp = inputs == "observation" and model == "mlp"
            for group, label in (("overall", "all"), ("no_crash", "no-crash"), ("crash", "crash")):
                rows.append(_row(t, f"BT pair accuracy, {model} on {inputs}, {label} pairs",
                                 _mean(result.reward_rows, group, inputs=inputs, model=model, n_pairs=big),
                                 toy_acc if obs_mlp and group == "overall" else NAN,
                                 f"{big} training pairs; toy: held-out pairs from pi_ref vs the gold order"
                                 if obs_mlp and group == "overall" else ""))
    rows.append(_row(t, "share of test pairs with a crash",
                     _mean([{"f": r["n_crash"] / (r["n_crash"] + r["n_no_crash"])} for r in result.reward_rows], "f")))

    t = "accuracy vs data"
    for n in config.pair_counts:
        for inputs in ("privileged", "observation"):
            for group in ("overall", "crash"):
                rows.append(_row(t, f"{n} pairs: MLP on {inputs}, {'all' if group == 'overall' else 'crash'} pairs",
                                 _mean(result.reward_rows, group, inputs=inputs, model="mlp", n_pairs=n),
                                 _mean(result.toy_rows, "accuracy", n_pairs=n)
                                 if inputs == "observation" and group == "overall" else NAN))

    t = "world model"
    for model in ("linear", "mlp"):
        for car in ("ego", "others"):
            for feature in ("x", "y", "vx", "vy"):
                note = "ego x is clipped to +1 after 200 m: its change is almost always 0" \
                    if car == "ego" and feature == "x" else ""
                rows.append(_row(t, f"one-step R^2 of the change, {model}, {car} {feature}",
                                 _mean(result.world_rows, "r2", model=model, car=car, feature=feature), 1.0,
                                 note or "toy: the next state (prefix + token) is known exactly"))
        for kind in ("position", "velocity"):
            rows.append(_row(t, f"mean R^2, {model}, {kind}", _mean(result.world_rows, "r2", model=model, kind=kind),
                             1.0))

    t = "over-optimisation"
    shown = sorted({config.bon_n[0], config.bon_n[len(config.bon_n) // 2], config.bon_n[-1]})
    for n in shown:
        toy_true = _mean(result.toy_bon_rows, "true_gain", N=n)
        toy_proxy = _mean(result.toy_bon_rows, "proxy_gain", N=n)
        for inputs in ("privileged", "observation"):
            obs = inputs == "observation"
            rows.append(_row(t, f"best-of-{n}, MLP on {inputs}: proxy gain (ref. std)",
                             _mean(result.bon_rows, "proxy_gain", inputs=inputs, N=n), toy_proxy if obs else NAN))
            rows.append(_row(t, f"best-of-{n}, MLP on {inputs}: true gain (ref. std)",
                             _mean(result.bon_rows, "true_gain", inputs=inputs, N=n), toy_true if obs else NAN,
                             "toy: gold gain" if obs else ""))
            rows.append(_row(t, f"best-of-{n}, MLP on {inputs}: crash rate of the winner",
                             _mean(result.bon_rows, "crash_rate", inputs=inputs, N=n)))

    seq_n = sorted({r["N"] for r in result.seq_rows})
    for n in ([seq_n[0], seq_n[len(seq_n) // 2], seq_n[-1]] if seq_n else []):
        toy_n = min(config.bon_n, key=lambda m: abs(np.log(m) - np.log(n)))
        for proxy in dict.fromkeys(r["proxy"] for r in result.seq_rows):
            learned = proxy == "learned reward"
            sel = dict(proxy=proxy, N=n)
            rows.append(_row(t, f"best-of-{n} action sequences, {proxy}: predicted {config.seq_horizon}-step return",
                             _mean(result.seq_rows, "predicted", **sel),
                             _mean(result.toy_bon_rows, "proxy_gain", N=toy_n) if learned else NAN,
                             f"through the world model; toy: proxy gain at N={toy_n} (ref. std)" if learned else ""))
            rows.append(_row(t, f"best-of-{n} action sequences, {proxy}: paid in the real env",
                             _mean(result.seq_rows, "paid", **sel),
                             _mean(result.toy_bon_rows, "true_gain", N=toy_n) if learned else NAN,
                             f"toy: gold gain at N={toy_n} (ref. std)" if learned else ""))
            rows.append(_row(t, f"best-of-{n} action sequences, {proxy}: crash rate",
                             float(np.mean([r["crashed"] for r in result.seq_rows if r["proxy"] == proxy
                                            and r["N"] == n]))))

    t = "planner"
    toy_gap = _mean(result.toy_bon_rows, "proxy_gain", N=config.bon_n[-1]) - \
        _mean(result.toy_bon_rows, "true_gain", N=config.bon_n[-1])
    for arm in dict.fromkeys(r["arm"] for r in result.planner_rows):
        episodes = [r for r in result.planner_rows if r["arm"] == arm]
        rows.append(_row(t, f"{arm}: return paid", _mean(episodes, "return")))
        rows.append(_row(t, f"{arm}: crash rate", float(np.mean([r["crashed"] for r in episodes]))))
        if "planner" in arm:
            gap = _mean([{"g": r["predicted"] - r["return"]} for r in episodes], "g")
            rows.append(_row(t, f"{arm}: predicted minus paid return", gap,
                             toy_gap if "learned" in arm else NAN,
                             f"toy: best-of-{config.bon_n[-1]} proxy gain minus gold gain (ref. std)"
                             if "learned" in arm else ""))
    if not result.planner_rows:
        rows.append(_row(t, f"skipped: {result.skipped}", NAN))
    return rows
