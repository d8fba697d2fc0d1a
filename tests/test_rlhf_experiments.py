"""The frontier and over-optimisation experiments (fast budgets) and the `minirl rlhf` command."""

import csv

import numpy as np
import pytest

from minirl.algos.best_of_n import best_of_n_log_probs
from minirl.envs import toylang_exact as ex
from minirl.envs.toylang import ToyLanguage, reference_policy
from minirl.experiments.rlhf_frontier import COLUMNS, FrontierConfig, run_frontier
from minirl.experiments.rlhf_overopt import OveroptConfig, fit_gold_curve, run_overopt


@pytest.fixture(scope="module")
def frontier():
    return run_frontier(seeds=(0,), config=FrontierConfig.fast())


@pytest.mark.slow
def test_every_method_lies_on_or_below_the_optimal_frontier(frontier):
    lang = ToyLanguage()
    lref = reference_policy(lang).all_log_probs().data
    betas = np.geomspace(100, 0.002, 60)
    best = np.array([ex.optimal_objective(lref, lang.gold_table, b) for b in betas])     # V*(beta)
    methods = {r["method"] for r in frontier.rows}
    assert methods == set(FrontierConfig().methods)
    for r in frontier.rows:
        assert np.isfinite(r["kl"]) and r["kl"] >= 0
        # E[gold] - beta KL <= V*(beta) for every beta (Lagrangian bound, no interpolation)
        slack = best + betas * r["kl"] - r["gold_reward"]
        assert slack.min() > -1e-9, r


@pytest.mark.slow
def test_methods_raise_gold_reward_over_the_reference(frontier):
    for method in ("PPO", "RLOO", "DPO", "ST backprop", "best-of-N", "filtered FT"):
        best = frontier.points(method)[:, 1].max()
        assert best > frontier.reference_gold + 0.5, (method, best, frontier.reference_gold)
    # SFT on the chosen responses only tilts pi_ref gently (measured: +0.45 after 150 steps)
    assert frontier.points("preferred FT")[:, 1].max() > frontier.reference_gold + 0.2
    assert frontier.rm_accuracy[0] > 0.7


def test_best_of_n_on_the_gold_reward_is_near_optimal_at_low_kl():
    lang = ToyLanguage()
    lref = reference_policy(lang).all_log_probs().data
    base = ex.expected_reward(lref, lang.gold_table)
    for n in (2, 4, 8):
        logp = best_of_n_log_probs(lref, lang.gold_table, n)
        kl = ex.kl_divergence(logp, lref)
        gain = ex.expected_reward(logp, lang.gold_table) - base
        optimal_gain = ex.frontier_reward_at_kl(lref, lang.gold_table, kl) - base
        assert 0.9 * optimal_gain < gain <= optimal_gain + 1e-9, (n, gain, optimal_gain)


def test_fit_gold_curve_recovers_known_coefficients():
    d = np.linspace(0, 3, 20)
    alpha, beta, r2 = fit_gold_curve(d, d * (1.5 - 0.4 * d), "bon")
    assert (alpha, beta, r2) == pytest.approx((1.5, 0.4, 1.0))
    alpha, beta, r2 = fit_gold_curve(d, d * (2.0 - 0.7 * np.log(np.maximum(d, 1e-300))), "rl")
    assert (alpha, beta, r2) == pytest.approx((2.0, 0.7, 1.0))
    with pytest.raises(ValueError, match="form"):
        fit_gold_curve(d, d, "linear")


@pytest.mark.slow
def test_overoptimisation_proxy_rises_gold_peaks_and_falls():
    config = OveroptConfig.fast()
    config.pair_counts = (500, 10000)
    result = run_overopt(seeds=(0,), config=config)
    for n_pairs in config.pair_counts:
        (d, proxy), = result.curves("best-of-N", n_pairs, "proxy_reward")
        (_, gold), = result.curves("best-of-N", n_pairs, "gold_reward")
        # E[max of N draws] never decreases with N: the proxy keeps rising
        assert np.all(np.diff(proxy) > -1e-12), proxy
        assert gold.max() > gold[-1] + 0.1, f"{n_pairs} pairs: gold should peak before the end: {gold}"
    fits = {(f["method"], f["n_pairs"]): f for f in result.fits}
    assert fits[("best-of-N", 10000)]["peak_gold_gain"] > fits[("best-of-N", 500)]["peak_gold_gain"]
    for n, (exact, bound) in result.bound.items():
        assert exact <= bound + 1e-9, (n, exact, bound)


def test_command_writes_csv_and_figures(tmp_path, monkeypatch):
    """The command's plumbing, with budgets smaller still than --fast (the sweep itself is tested above)."""
    from minirl.cli import main
    from minirl.experiments import rlhf_frontier, rlhf_overopt
    tiny_frontier = FrontierConfig(n_pairs=300, rm_steps=50, bon_n=(4, 16), betas=(0.3,), ppo_iterations=4,
                                   rloo_iterations=10, st_iterations=6, dpo_betas=(0.3,), dpo_steps=10,
                                   filter_fractions=(0.1,), filter_rounds=1, n_checkpoints=2)
    tiny_overopt = OveroptConfig(pair_counts=(300, 600), rm_steps=50, bon_n=(1, 4, 64), betas=(1.0, 0.1),
                                 rloo_iterations=20, eval_every=10)
    monkeypatch.setattr(rlhf_frontier.FrontierConfig, "fast", classmethod(lambda cls: tiny_frontier))
    monkeypatch.setattr(rlhf_overopt.OveroptConfig, "fast", classmethod(lambda cls: tiny_overopt))
    assert main(["rlhf", "frontier", "--fast", "--seeds", "1", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "frontier.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == COLUMNS and len(rows) > 20
    assert {r["method"] for r in rows} == set(FrontierConfig().methods)
    assert (tmp_path / "frontier.png").stat().st_size > 10_000
    assert main(["rlhf", "overopt", "--fast", "--seeds", "2", "--out", str(tmp_path)]) == 0
    with open(tmp_path / "overopt.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"method", "setting", "seed", "kl", "gold_reward", "proxy_reward"} <= set(rows[0])
    assert {r["seed"] for r in rows} == {"0", "1"}
    for name in ("overopt.png", "bon_kl.png", "overopt_fits.csv"):
        assert (tmp_path / name).exists(), name
    assert main(["rlhf", "frontier", "--seeds", "0", "--out", str(tmp_path)]) == 2
