"""Reward-model over-optimisation: proxy reward keeps rising, gold reward peaks and falls.

After Gao, Schulman & Hilton (2023, "Scaling laws for reward model overoptimization"): optimise a
learned reward model (the proxy) harder and harder, and measure both the proxy and the gold reward
against d = sqrt(KL(pi || pi_ref)). Their functional forms (eq. 1 and 2), with rewards measured
relative to pi_ref (so R(0) = 0):

    best-of-N:   R_gold(d) = d (alpha - beta d)
    RL:          R_gold(d) = d (alpha - beta log d)

Here, for reward models trained on several numbers of preference pairs and several seeds:

* best-of-N against the proxy, exactly, for N from 1 to about 10^5;
* RL against the proxy, two ways: the exact KL-regularised optimum pi*_beta(proxy) over a sweep of
  beta (the idealised RL run), and an actual RLOO run with a small KL coefficient, checkpointed;
* best-of-N's exact KL next to the analytic value log N - (N - 1)/N, which bounds it.

Fits are least squares over all seeds of one (method, data size). Returns plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..algos.best_of_n import best_of_n_kl_bound, best_of_n_log_probs
from ..algos.reward_model_bt import train_reward_model
from ..algos.rlhf_pg import rloo_rlhf, table_reward
from ..envs import toylang_exact as ex
from ..envs.toylang import ToyLanguage, reference_policy, sample_preferences

__all__ = ["OveroptConfig", "OveroptResult", "run_overopt", "fit_gold_curve", "COLUMNS"]

COLUMNS = ("method", "setting", "seed", "n_pairs", "kl", "gold_reward", "proxy_reward")


@dataclass
class OveroptConfig:
    pair_counts: tuple = (500, 2000, 10000)
    rm_steps: int = 600
    bon_n: tuple = tuple(int(n) for n in np.unique(np.geomspace(1, 1e5, 26).round()))
    betas: tuple = tuple(np.geomspace(10.0, 0.01, 25))
    rloo_kl_coef: float = 0.01
    rloo_iterations: int = 300
    rloo_lr: float = 0.05
    eval_every: int = 20

    @classmethod
    def fast(cls) -> "OveroptConfig":
        return cls(pair_counts=(500, 2000, 10000), rm_steps=200, bon_n=(1, 4, 16, 64, 256, 1024, 8192, 100000),
                   betas=tuple(np.geomspace(3.0, 0.03, 8)), rloo_iterations=150, eval_every=25)


@dataclass
class OveroptResult:
    rows: list = field(default_factory=list)
    fits: list = field(default_factory=list)        # dicts: method, n_pairs, alpha, beta, r2, peak_d, peak_gold
    bound: dict = field(default_factory=dict)       # N -> (exact KL mean over seeds/sizes, analytic bound)

    def curves(self, method: str, n_pairs: int, quantity: str = "gold_reward"):
        """Per-seed (sqrt KL, reward - reward of pi_ref) curves, sorted by KL, each starting at the
        reference point (0, 0): a list of (x, y)."""
        out = []
        for seed in sorted({r["seed"] for r in self.rows}):
            rows = sorted((r for r in self.rows if r["method"] == method and r["n_pairs"] == n_pairs
                           and r["seed"] == seed), key=lambda r: r["kl"])
            if rows:
                base = _base(self.rows, seed, n_pairs, quantity)
                d = np.sqrt([0.0] + [r["kl"] for r in rows])              # every run starts at pi_ref
                out.append((d, np.array([0.0] + [r[quantity] - base for r in rows])))
        return out


def _base(rows, seed, n_pairs, quantity):
    """The reward of pi_ref itself (every method's KL-0 point)."""
    return next(r[quantity] for r in rows if r["seed"] == seed and r["n_pairs"] == n_pairs
                and r["method"] == "reference")


def fit_gold_curve(d, gain, form: str) -> tuple[float, float, float]:
    """Least-squares fit of gain = d (alpha - beta d) ("bon") or d (alpha - beta log d) ("rl").

    Returns (alpha, beta, R^2). Points with d = 0 carry no information (both sides are 0).
    """
    d, gain = np.asarray(d, dtype=np.float64), np.asarray(gain, dtype=np.float64)
    keep = d > 0
    d, gain = d[keep], gain[keep]
    if form == "bon":
        X = np.stack([d, -d * d], axis=1)
    elif form == "rl":
        X = np.stack([d, -d * np.log(d)], axis=1)
    else:
        raise ValueError(f"fit_gold_curve: form must be 'bon' or 'rl', got {form!r}")
    if len(d) < 2:
        raise ValueError(f"fit_gold_curve: need at least 2 points with d > 0, got {len(d)}")
    (alpha, beta), *_ = np.linalg.lstsq(X, gain, rcond=None)
    resid = gain - X @ np.array([alpha, beta])
    total = np.sum((gain - gain.mean()) ** 2)
    return float(alpha), float(beta), float(1 - resid @ resid / total) if total > 0 else 1.0


def run_overopt(seeds=(0, 1, 2), config: OveroptConfig | None = None, lang: ToyLanguage | None = None,
                progress: Callable[[str], None] | None = None) -> OveroptResult:
    config = config or OveroptConfig()
    lang = lang or ToyLanguage()
    ref = reference_policy(lang)
    lref = ref.all_log_probs().data
    gold = lang.gold_table
    tick = progress or (lambda label: None)
    result = OveroptResult()
    bound_kl: dict = {}
    for seed in seeds:
        for n_pairs in config.pair_counts:
            rng = np.random.default_rng([seed, n_pairs])
            prefs = sample_preferences(lang, ref, n_pairs, rng)
            rm, _ = train_reward_model(lang, prefs, rng, steps=config.rm_steps)
            proxy = rm.table()

            def record(method, setting, logp):
                result.rows.append({"method": method, "setting": setting, "seed": seed, "n_pairs": n_pairs,
                                    "kl": ex.kl_divergence(logp, lref),
                                    "gold_reward": ex.expected_reward(logp, gold),
                                    "proxy_reward": ex.expected_reward(logp, proxy)})

            record("reference", "pi_ref", lref)
            for n in config.bon_n:
                logp = best_of_n_log_probs(lref, proxy, n)
                record("best-of-N", f"N={n}", logp)
                bound_kl.setdefault(n, []).append(result.rows[-1]["kl"])
            for beta in config.betas:
                record("RL (exact pi*)", f"beta={beta:.3g}", ex.optimal_log_probs(lref, proxy, beta))
            rloo_rlhf(ref.copy(), ref, table_reward(lang, proxy), rng, kl_coef=config.rloo_kl_coef,
                      iterations=config.rloo_iterations, lr=config.rloo_lr, eval_every=config.eval_every,
                      callback=lambda it, pol: record("RL (RLOO)", f"step={it}", pol.all_log_probs().data)
                      if it > 0 else None)
            tick(f"seed {seed}, {n_pairs} pairs")
    result.bound = {n: (float(np.mean(k)), float(best_of_n_kl_bound(n))) for n, k in sorted(bound_kl.items())}

    for method, form in (("best-of-N", "bon"), ("RL (exact pi*)", "rl"), ("RL (RLOO)", "rl")):
        for n_pairs in config.pair_counts:
            curves = result.curves(method, n_pairs)
            if not curves:
                continue
            d = np.concatenate([c[0] for c in curves])
            g = np.concatenate([c[1] for c in curves])
            alpha, beta, r2 = fit_gold_curve(d, g, form)
            # where the gold gain peaks, per seed, averaged (the observed peak, not the fitted one)
            peaks = [(x[np.argmax(y)], y.max()) for x, y in curves]
            result.fits.append({"method": method, "n_pairs": n_pairs, "alpha": alpha, "beta": beta,
                                "r2": r2, "peak_d": float(np.mean([p[0] for p in peaks])),
                                "peak_gold_gain": float(np.mean([p[1] for p in peaks])),
                                "final_proxy_gain": float(np.mean([c[1][-1] for c in
                                                                   result.curves(method, n_pairs, "proxy_reward")])),
                                "final_gold_gain": float(np.mean([y[-1] for _, y in curves]))})
    return result
