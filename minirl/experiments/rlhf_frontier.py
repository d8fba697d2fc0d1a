"""The reward-KL frontier: gold reward against exact KL(pi || pi_ref) for every RLHF method.

For each seed: sample preference pairs from pi_ref, label them with the Bradley-Terry oracle, train a
reward model (the proxy), then run every method over its sweep and record, at checkpoints, the
*exact* KL from the reference, the exact expected gold reward and the exact expected proxy reward:

| method          | optimises          | sweep                              |
|-----------------|--------------------|------------------------------------|
| best-of-N       | proxy (no training)| N                                  |
| PPO             | proxy - beta KL    | beta (kl_coef) x training steps    |
| RLOO            | proxy - beta KL    | beta x training steps              |
| ST backprop     | proxy - beta KL    | beta x training steps              |
| filtered FT     | proxy as a label   | kept fraction x rounds             |
| preferred FT    | chosen responses   | SFT steps                          |
| DPO             | the preferences    | beta x training steps              |
| pi*_beta(proxy) | proxy - beta KL, exactly | beta (the ideal RL run)      |

Drawn over the exact optimal frontier {pi*_beta for the *gold* reward}: no policy can lie above it,
since E_pi[r] <= max_pi' {E_pi'[r] - beta KL(pi')} + beta KL(pi) for every beta.

Returns plain data (`FrontierResult`); `minirl.plotting.rlhf` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ..algos.best_of_n import best_of_n_log_probs
from ..algos.dpo import train_dpo
from ..algos.filtered_ft import filtered_finetune, preferred_finetune
from ..algos.reward_model_bt import preference_accuracy, train_reward_model
from ..algos.rlhf_pg import ppo_rlhf, rloo_rlhf, table_reward
from ..algos.st_reward import st_reward_backprop
from ..envs import toylang_exact as ex
from ..envs.toylang import ToyLanguage, bradley_terry_label, reference_policy, sample_preferences

__all__ = ["FrontierResult", "FrontierConfig", "run_frontier", "optimal_gold_frontier", "COLUMNS"]

COLUMNS = ("method", "setting", "seed", "kl", "gold_reward", "proxy_reward")


@dataclass
class FrontierConfig:
    """Budgets of the sweep; `FrontierConfig.fast()` shrinks them for tests and notebooks."""
    n_pairs: int = 2000
    rm_steps: int = 600
    bon_n: tuple = (2, 4, 8, 16, 32, 64, 128, 256, 1024)
    betas: tuple = (0.03, 0.1, 0.3, 1.0)
    ppo_iterations: int = 60
    ppo_lr: float = 0.01
    rloo_iterations: int = 150
    st_iterations: int = 100
    dpo_betas: tuple = (0.03, 0.1, 0.3, 1.0)
    dpo_steps: int = 300
    dpo_lr: float = 0.01
    filter_fractions: tuple = (0.3, 0.1, 0.03)
    filter_rounds: int = 3
    preferred_steps: int = 150
    preferred_lr: float = 0.03
    n_checkpoints: int = 6
    methods: tuple = ("best-of-N", "PPO", "RLOO", "ST backprop", "filtered FT", "preferred FT", "DPO",
                      "pi*(proxy)")

    @classmethod
    def fast(cls) -> "FrontierConfig":
        return cls(n_pairs=1000, rm_steps=300, bon_n=(4, 16, 64, 256), betas=(0.1, 0.5),
                   ppo_iterations=20, rloo_iterations=60, st_iterations=40, dpo_betas=(0.1, 0.5),
                   dpo_steps=100, filter_fractions=(0.1,), filter_rounds=2, preferred_steps=60,
                   n_checkpoints=2)


@dataclass
class FrontierResult:
    rows: list = field(default_factory=list)          # dicts with COLUMNS
    optimal_kl: np.ndarray = None                      # (K,) exact frontier for the gold reward
    optimal_gold: np.ndarray = None                    # (K,)
    rm_accuracy: dict = field(default_factory=dict)    # seed -> held-out accuracy (gold ordering)
    reference_gold: float = 0.0

    def points(self, method: str, seed: int | None = None) -> np.ndarray:
        """(n, 2) array of (kl, gold_reward) for one method (and seed)."""
        sel = [(r["kl"], r["gold_reward"]) for r in self.rows
               if r["method"] == method and (seed is None or r["seed"] == seed)]
        return np.array(sel, dtype=np.float64).reshape(-1, 2)

    def frontier_at(self, kl) -> np.ndarray:
        """Best gold reward reachable at each KL (interpolated along the exact optimal frontier)."""
        order = np.argsort(self.optimal_kl)
        return np.interp(kl, self.optimal_kl[order], self.optimal_gold[order])

    def summary(self, budgets=(1.0, 2.0, 4.0)) -> list[dict]:
        """Per method and KL budget: the best gold reward among its points with KL <= budget,
        averaged over seeds (mean), next to the optimum at that budget."""
        out = []
        methods = list(dict.fromkeys(r["method"] for r in self.rows))
        seeds = sorted({r["seed"] for r in self.rows})
        for m in methods:
            row = {"method": m}
            for b in budgets:
                best = []
                for s in seeds:
                    pts = self.points(m, s)
                    ok = pts[pts[:, 0] <= b]
                    best.append(ok[:, 1].max() if len(ok) else np.nan)
                row[f"gold@KL<={b:g}"] = float(np.nanmean(best)) if not np.all(np.isnan(best)) else np.nan
            out.append(row)
        out.append({"method": "optimal (exact)", **{f"gold@KL<={b:g}": float(self.frontier_at(b)) for b in budgets}})
        return out


def optimal_gold_frontier(lang: ToyLanguage, logp_ref: np.ndarray, num: int = 80):
    """(KL, gold) of pi*_beta for the gold reward over a log-spaced beta grid from 100 down to 0.002,
    starting with pi_ref itself (beta = infinity: KL 0)."""
    kl, gold = ex.optimal_frontier(logp_ref, lang.gold_table, np.geomspace(100.0, 0.002, num))
    return np.concatenate([[0.0], kl]), np.concatenate([[ex.expected_reward(logp_ref, lang.gold_table)], gold])


def run_frontier(seeds=(0, 1, 2), config: FrontierConfig | None = None, lang: ToyLanguage | None = None,
                 progress: Callable[[str], None] | None = None) -> FrontierResult:
    """Run the whole sweep for every seed. `progress(label)` is called after each unit of work."""
    config = config or FrontierConfig()
    unknown = set(config.methods) - set(FrontierConfig().methods)
    if unknown:
        raise ValueError(f"unknown methods {sorted(unknown)}; accepted: {FrontierConfig().methods}")
    lang = lang or ToyLanguage()
    ref = reference_policy(lang)
    lref = ref.all_log_probs().data
    result = FrontierResult()
    result.optimal_kl, result.optimal_gold = optimal_gold_frontier(lang, lref)
    result.reference_gold = ex.expected_reward(lref, lang.gold_table)
    tick = progress or (lambda label: None)

    for seed in seeds:
        rng = np.random.default_rng(seed)
        prefs = sample_preferences(lang, ref, config.n_pairs, rng)
        rm, _ = train_reward_model(lang, prefs, rng, steps=config.rm_steps)
        proxy = rm.table()                                                     # (P, S)
        held = sample_preferences(lang, ref, 2000, rng)
        distinct = lang.gold_reward(held.prompts, held.chosen) != lang.gold_reward(held.prompts, held.rejected)
        truth = bradley_terry_label(lang, held.prompts[distinct], held.chosen[distinct],
                                    held.rejected[distinct], deterministic=True)
        result.rm_accuracy[seed] = preference_accuracy(rm, truth)
        tick(f"seed {seed}: reward model")

        def record(method, setting, logp):
            result.rows.append({"method": method, "setting": setting, "seed": seed,
                                "kl": ex.kl_divergence(logp, lref),
                                "gold_reward": ex.expected_reward(logp, lang.gold_table),
                                "proxy_reward": ex.expected_reward(logp, proxy)})

        def recorder(method, prefix):
            return lambda step, policy: record(method, f"{prefix},step={step}", policy.all_log_probs().data)

        reward_fn = table_reward(lang, proxy)
        if "best-of-N" in config.methods:
            for n in config.bon_n:
                record("best-of-N", f"N={n}", best_of_n_log_probs(lref, proxy, n))
            tick(f"seed {seed}: best-of-N")
        if "pi*(proxy)" in config.methods:
            for beta in np.geomspace(3.0, 0.03, 9):
                record("pi*(proxy)", f"beta={beta:.3g}", ex.optimal_log_probs(lref, proxy, beta))
        for beta in config.betas:
            if "PPO" in config.methods:
                ppo_rlhf(ref.copy(), ref, reward_fn, rng, kl_coef=beta, iterations=config.ppo_iterations,
                         lr=config.ppo_lr, eval_every=max(1, config.ppo_iterations // config.n_checkpoints),
                         callback=recorder("PPO", f"beta={beta:g}"))
                tick(f"seed {seed}: PPO beta={beta:g}")
            if "RLOO" in config.methods:
                rloo_rlhf(ref.copy(), ref, reward_fn, rng, kl_coef=beta, iterations=config.rloo_iterations,
                          eval_every=max(1, config.rloo_iterations // config.n_checkpoints),
                          callback=recorder("RLOO", f"beta={beta:g}"))
                tick(f"seed {seed}: RLOO beta={beta:g}")
            if "ST backprop" in config.methods:
                st_reward_backprop(ref.copy(), ref, rm, rng, kl_coef=beta, iterations=config.st_iterations,
                                   eval_every=max(1, config.st_iterations // config.n_checkpoints),
                                   callback=recorder("ST backprop", f"beta={beta:g}"))
                tick(f"seed {seed}: ST beta={beta:g}")
        if "DPO" in config.methods:
            for beta in config.dpo_betas:
                train_dpo(ref.copy(), ref, prefs, beta, steps=config.dpo_steps, lr=config.dpo_lr,
                          eval_every=max(1, config.dpo_steps // config.n_checkpoints),
                          callback=recorder("DPO", f"beta={beta:g}"))
                tick(f"seed {seed}: DPO beta={beta:g}")
        if "filtered FT" in config.methods:
            for q in config.filter_fractions:
                filtered_finetune(ref.copy(), reward_fn, rng, keep_fraction=q, rounds=config.filter_rounds,
                                  callback=lambda r, pol, q=q: record("filtered FT", f"keep={q:g},round={r}",
                                                                      pol.all_log_probs().data))
                tick(f"seed {seed}: filtered FT keep={q:g}")
        if "preferred FT" in config.methods:
            preferred_finetune(ref.copy(), prefs, steps=config.preferred_steps, lr=config.preferred_lr,
                               eval_every=max(1, config.preferred_steps // config.n_checkpoints),
                               callback=recorder("preferred FT", "sft"))
            tick(f"seed {seed}: preferred FT")
    # step 0 of every run is pi_ref itself: keep one copy per method and seed
    seen, rows = set(), []
    for r in result.rows:
        key = (r["method"], r["seed"], r["kl"] == 0.0)
        if r["kl"] == 0.0 and key in seen:
            continue
        seen.add(key)
        rows.append(r)
    result.rows = rows
    return result


def count_units(seeds, config: FrontierConfig | None = None) -> int:
    """How many progress ticks `run_frontier` makes (for a progress bar)."""
    config = config or FrontierConfig()
    m = config.methods
    per_seed = 1 + ("best-of-N" in m) + len(config.betas) * sum(x in m for x in ("PPO", "RLOO", "ST backprop"))
    per_seed += ("DPO" in m) * len(config.dpo_betas) + ("filtered FT" in m) * len(config.filter_fractions)
    per_seed += "preferred FT" in m
    return per_seed * len(seeds)
