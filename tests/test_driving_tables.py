"""The numbers behind `minirl driving`'s tables, recomputed exactly on small hand-made cases.

Wilson intervals, the exact best-of-N over a pool (against brute force over every subset), the
paired comparison of selectors on one pool, the within-start accuracy and R^2, and the summary
rows (crashes k/n with their interval). No highway-env needed.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from minirl.experiments.driving import tables as dt
from minirl.experiments.driving.reward import affine_readout, squared_correlation
from minirl.experiments.driving.selection import best_of_n_table, gain_curve, kl_bon, subset_best_of_n_weights
from minirl.experiments.driving.within import within_start
from minirl.stats import wilson_interval


# ------------------------------------------------------------------------------ Wilson intervals
def test_wilson_interval_hand_computed():
    # 0 of 20: (0, z^2 / (n + z^2)) with z = 1.959964
    z = 1.959963984540054
    assert wilson_interval(0, 20) == pytest.approx((0.0, z * z / (20 + z * z)), abs=1e-12)
    low, high = wilson_interval(12, 20)
    p, n = 0.6, 20
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert (low, high) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert (low, high) == pytest.approx((0.3866, 0.7812), abs=1e-4)        # the textbook values
    # the ends are exact (no rounding past 0 or 1), and k of n mirrors n - k of n
    assert wilson_interval(0, 20)[0] == 0.0 and wilson_interval(20, 20)[1] == 1.0
    assert wilson_interval(20, 20)[0] == pytest.approx(1.0 - wilson_interval(0, 20)[1], abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError, match="0 <= k <= n"):
        wilson_interval(3, 2)


# ------------------------------------------------------------------------------ best-of-N over a pool
def _brute_force(scores, values, n):
    """E[value of the best-scored member] over every n-subset, ties split evenly."""
    total = []
    for subset in combinations(range(len(scores)), n):
        best = max(scores[i] for i in subset)
        winners = [i for i in subset if scores[i] == best]
        total.append(np.mean([values[i] for i in winners]))
    return float(np.mean(total))


def test_subset_weights_hand_example_and_brute_force():
    np.testing.assert_allclose(subset_best_of_n_weights(np.array([3.0, 1.0, 2.0]), 2), [2 / 3, 0, 1 / 3])
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=7).astype(float)                  # ties on purpose
    values = rng.standard_normal(7)
    for n in range(1, 8):
        w = subset_best_of_n_weights(scores, n)
        assert w.sum() == pytest.approx(1.0)
        assert w @ values == pytest.approx(_brute_force(scores, values, n)), n
    assert subset_best_of_n_weights(scores, 1) == pytest.approx(np.full(7, 1 / 7))
    with pytest.raises(ValueError, match="1..7"):
        subset_best_of_n_weights(scores, 8)


def test_paired_selectors_share_one_pool():
    """Two selectors on the same candidates: each one's E_N[paid] is the brute-force value, and the
    oracle (scoring by the paid return itself) is never beaten at any N."""
    rng = np.random.default_rng(1)
    paid = rng.standard_normal((3, 6))                                  # 3 starts x 6 candidates
    proxy = paid + rng.standard_normal((3, 6))
    for n in (1, 2, 4, 6):
        oracle = best_of_n_table(paid, {"paid": paid}, [n])
        learned = best_of_n_table(proxy, {"paid": paid}, [n])
        for s in range(3):
            assert learned[s]["paid"] == pytest.approx(_brute_force(proxy[s], paid[s], n))
            assert oracle[s]["paid"] >= learned[s]["paid"] - 1e-12


def test_gain_curve_units_and_kl():
    paid = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 3.0, 3.0]])
    rows = gain_curve(paid, {"paid": paid, "crashed": (paid < 1).astype(float)}, [1, 2, 4])
    assert [r["N"] for r in rows] == [1, 2, 4] and rows[0]["n_starts"] == 2
    assert rows[0]["paid_gain"] == pytest.approx(0.0) and rows[0]["crashed"] == pytest.approx(0.125)
    std = np.sqrt(np.mean([np.var(paid[0]), np.var(paid[1])]))         # pooled within-start std
    assert rows[2]["paid_gain"] == pytest.approx(np.mean([3 - 1.5, 3 - 2]) / std)
    assert rows[2]["crashed"] == 0.0
    assert kl_bon(1) == 0.0 and kl_bon(2) == pytest.approx(np.log(2) - 0.5)


# ------------------------------------------------------------------------------ within one start
def test_within_start_accuracy_and_r2_by_hand():
    pools = [{"paid": np.array([1.0, 2.0, 3.0]), "crashed": np.array([True, False, False])},
             {"paid": np.array([5.0, 4.0, 6.0]), "crashed": np.array([False, False, False])}]
    scores = [np.array([0.0, 2.0, 1.0]), np.array([9.0, 8.0, 7.0])]
    out = within_start(scores, pools)
    # pool 0: pairs (0,1) right, (0,2) right, (1,2) wrong; pool 1: (0,1) right, (0,2) wrong, (1,2) wrong
    assert out["overall"] == pytest.approx(3 / 6)
    assert out["n_crash"] == 2 and out["crash"] == pytest.approx(1.0)   # the two pairs with candidate 0 of pool 0
    s = np.array([-1.0, 1.0, 0.0, 1.0, 0.0, -1.0])                     # centred per start
    t = np.array([-1.0, 0.0, 1.0, 0.0, -1.0, 1.0])
    assert out["r2"] == pytest.approx(np.corrcoef(s, t)[0, 1] ** 2)
    assert squared_correlation([1, 2, 3], [2, 4, 6.5]) == pytest.approx(np.corrcoef([1, 2, 3], [2, 4, 6.5])[0, 1] ** 2)
    assert affine_readout([0.0, 1.0, 2.0], [1.0, 3.0, 5.0]) == pytest.approx((1.0, 2.0))


# ------------------------------------------------------------------------------ summary rows
class _Result:
    def __init__(self, **kw):
        self.__dict__.update(kw)


def test_policy_table_counts_crashes_with_their_interval():
    rows = [{"arm": "a", "return": r, "crashed": c, "speed": 20.0, "predicted": np.nan}
            for r, c in ((10.0, False), (4.0, True), (12.0, False), (3.0, True))]
    table = dt.policy_table(_Result(episode_rows=rows))
    assert len(table) == 1
    row = table[0]
    assert (row["crashes"], row["n"], row["crash_rate"]) == (2, 4, 0.5)
    assert (row["crash_low"], row["crash_high"]) == pytest.approx(wilson_interval(2, 4))
    assert row["return"] == pytest.approx(7.25) and row["return_low"] <= 7.25 <= row["return_high"]


def test_blame_table_counts_crashes_of_the_winner_over_the_starts():
    paid = np.array([[1.0, 2.0], [3.0, 0.0]])
    crashed = np.array([[0.0, 1.0], [0.0, 1.0]])
    pools = [{"paid": p, "crashed": c} for p, c in zip(paid, crashed)]
    scores = [{"exact + env reward": p, "exact + learned reward": -p, "model + env formula": -p,
               "model + learned reward": p} for p in paid]
    table = dt.blame_table(_Result(pools=pools, pool_scores=scores), [1, 2])
    oracle = [r for r in table if r["dynamics"] == "exact copy" and r["score"] == "env reward"]
    wrong = [r for r in table if r["dynamics"] == "exact copy" and r["score"] == "learned reward"]
    assert oracle[0]["crashes"] == pytest.approx(1.0) and oracle[0]["n"] == 2        # N = 1: 1/2 + 1/2
    assert oracle[1]["crashes"] == pytest.approx(1.0) and oracle[1]["paid"] == pytest.approx(2.5)
    assert wrong[1]["crashes"] == pytest.approx(1.0) and wrong[1]["paid"] == pytest.approx(0.5)


def test_the_shipped_ppo_table_is_what_its_episodes_give():
    """Lesson 11 shows the PPO table of a `minirl driving --long` run (too long for a lesson): every
    number in it must follow from the episodes shipped with it."""
    import json

    from minirl.experiments.driving import MEASURED_PPO

    if not MEASURED_PPO.exists():
        pytest.skip("no `minirl driving --long` run is shipped (lesson 11 says so instead of showing a table)")
    record = json.loads(MEASURED_PPO.read_text())
    assert record["command"].startswith("minirl driving --long") and "--fast" not in record["command"]
    again = dt.ppo_table(_Result(ppo_rows=record["episodes"]))
    assert len(again) == len(record["table"]) == 3
    for got, shipped in zip(again, record["table"]):
        for key, value in got.items():
            assert shipped[key] == (pytest.approx(value) if isinstance(value, float) else value), key
        assert shipped["n"] >= 30 * 3 and shipped["seeds"] == 3


def test_overopt_table_hand_example_and_the_toy_mean_over_seeds():
    """Driving rows: the action-sequence selector's exact best-of-N on a 1-start pool of 3, its
    promise read through the affine readout; toy rows: mean and range over the seeds."""
    pools = [{"paid": np.array([1.0, 2.0, 4.0]), "crashed": np.array([1.0, 0.0, 0.0])}]
    scores = [{"action-sequence reward": np.array([3.0, 1.0, 2.0])}]
    toy_rows = [{"seed": 0, "N": 2, "kl_bon": kl_bon(2), "proxy_gain": 1.0, "paid_gain": 0.5},
                {"seed": 1, "N": 2, "kl_bon": kl_bon(2), "proxy_gain": 3.0, "paid_gain": 1.5}]
    result = _Result(pools=pools, pool_scores=scores, sequence_readout=(1.0, 2.0), toy_bon_rows=toy_rows)
    table = dt.overopt_table(result, [1, 2])
    drive = [r for r in table if r["world"] == "driving"]
    # N = 2: the subsets {0,1}, {0,2}, {1,2} are won by 0, 0, 2 (weights 2/3, 0, 1/3)
    assert drive[1]["paid"] == pytest.approx(2 / 3 * 1.0 + 1 / 3 * 4.0)
    assert drive[1]["crashes"] == pytest.approx(2 / 3) and drive[1]["n"] == 1
    assert drive[1]["promised"] == pytest.approx(1.0 + 2.0 * (2 / 3 * 3.0 + 1 / 3 * 2.0))
    std = np.std([1.0, 2.0, 4.0])
    assert drive[1]["paid_gain"] == pytest.approx((2.0 - 7 / 3) / std)
    assert drive[0]["paid_gain"] == pytest.approx(0.0) and drive[0]["kl_bon"] == 0.0
    toy_row = next(r for r in table if r["world"] == "toy language")
    assert (toy_row["proxy_gain"], toy_row["paid_gain"]) == pytest.approx((2.0, 1.0))
    assert (toy_row["paid_gain_low"], toy_row["paid_gain_high"], toy_row["n"]) == (0.5, 1.5, 2)


def test_reward_table_means_over_seeds_and_counts_the_pairs_scored():
    base = {"world": "driving", "reward": "outcome", "trained_on": "recorded segments",
            "scored_on": "recorded segments", "n_pairs": 100, "n_crash": 4, "n_no_crash": 6}
    rows = [{**base, "seed": s, "overall": acc, "crash": c, "r2": r2}
            for s, acc, c, r2 in ((0, 0.8, 0.5, 0.6), (1, 0.9, 0.75, 0.7), (2, 1.0, 1.0, 0.8))]
    table = {r["metric"]: r for r in dt.reward_table(_Result(reward_rows=rows))}
    assert set(table) == {"pair accuracy", "pair accuracy, crash pairs", "R^2"}
    assert table["pair accuracy"]["mean"] == pytest.approx(0.9) and table["pair accuracy"]["seeds"] == 3
    assert table["pair accuracy, crash pairs"]["mean"] == pytest.approx(0.75)
    assert table["R^2"]["mean"] == pytest.approx(0.7)
    assert table["pair accuracy"]["pairs_scored"] == 10 and table["pair accuracy, crash pairs"]["pairs_scored"] == 4
    for r in table.values():
        assert r["low"] <= r["mean"] <= r["high"]


def test_inputs_and_world_tables_hand_example():
    inputs = [{"seed": s, "inputs": "observation", "model": "mlp", "r2": v} for s, v in ((0, 0.8), (1, 0.9))]
    formula = [{"seed": s, "r2": 0.5, "crashes": 10, "found": f, "steps_no_crash": 100, "false_alarms": a}
               for s, f, a in ((0, 7, 1), (1, 8, 0))]
    table = {r["quantity"]: r for r in dt.inputs_table(_Result(input_rows=inputs, formula_rows=formula))}
    r = table["R^2 of a mlp regression on observation"]
    assert (r["value"], r["low"], r["high"], r["n"]) == pytest.approx((0.85, 0.8, 0.9, 2))
    found = table["crashes the formula's box test finds"]
    assert (found["count"], found["n"], found["value"]) == (15, 20, 0.75)
    assert (found["low"], found["high"]) == pytest.approx(wilson_interval(15, 20))
    assert table["false alarms on crash-free steps"]["count"] == 1
    world = [{"seed": s, "predictor": "world model", "target": "next_obs", "rows": "all rows", "car": "others",
              "feature": "x", "r2": v, "n": 50} for s, v in ((0, 0.4), (1, 0.6))]
    switches = [{"seed": 0, "switched": 3, "n": 20}, {"seed": 1, "switched": 2, "n": 30}]
    rows = dt.world_table(_Result(world_rows=world, switch_rows=switches))
    assert (rows[0]["r2"], rows[0]["low"], rows[0]["high"]) == pytest.approx((0.5, 0.4, 0.6))
    switch = rows[-1]
    assert (switch["switched"], switch["values"], switch["switch_rate"]) == (5, 50, 0.1)
    assert (switch["low"], switch["high"]) == pytest.approx(wilson_interval(5, 50))


def test_ppo_table_pools_the_seeds_and_counts_crashes_per_seed():
    rows = [{"arm": "learned reward", "train_seed": s, "train_steps": 256, "seed": k, "return": 2.0 * k,
             "crashed": c, "speed": 20.0 + k} for s, cs in ((0, (True, False)), (1, (False, False)))
            for k, c in enumerate(cs)]
    (row,) = dt.ppo_table(_Result(ppo_rows=rows))
    assert (row["crashes"], row["n"], row["seeds"], row["crashes_per_seed"]) == (1, 4, 2, "1/2 0/2")
    assert (row["crash_low"], row["crash_high"]) == pytest.approx(wilson_interval(1, 4))
    assert row["speed"] == pytest.approx(20.5) and row["return"] == pytest.approx(1.0)
    assert row["train_steps"] == 256
