# Lesson 09, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/09_dpo_frontier.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 09
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 09 --force

"""Direct Preference Optimisation (DPO) and IPO: fit the optimum of the RLHF objective from preferences.

Lesson 09. The KL-regularised objective  max_pi E_pi[r] - beta KL(pi || pi_ref)  has the optimum
pi*(y|x) = pi_ref(y|x) exp(r(x,y)/beta) / Z(x)  (Rafailov et al. 2023, eq. 4). Solve for the reward,
r(x,y) = beta log(pi*(y|x)/pi_ref(y|x)) + beta log Z(x), put it in the Bradley-Terry likelihood, and
Z(x) cancels in the difference. The result is a classification loss on the policy itself
(Rafailov et al. 2023, eq. 7):

    L_DPO(pi) = -E_(x, y_w, y_l) [ log sigmoid( beta log(pi(y_w|x)/pi_ref(y_w|x))
                                                - beta log(pi(y_l|x)/pi_ref(y_l|x)) ) ]

No reward model, no sampling, no RL loop. IPO (Azar et al. 2024, "A general theoretical paradigm to
understand learning from human preferences") replaces the log-sigmoid by a squared loss that
regresses the same log-ratio difference h onto a fixed target, so it cannot push h to infinity on
deterministic preferences:

    h = log(pi(y_w|x)/pi_ref(y_w|x)) - log(pi(y_l|x)/pi_ref(y_l|x));   L_IPO = E[(h - 1/(2 tau))^2]

(`beta` plays the role of tau.)

Shapes
------
| name                       | shape  |
|----------------------------|--------|
| logp_chosen, logp_rejected | (B,) Tensors, log pi(y|x) summed over tokens |
| ref_logp_*                 | (B,) arrays or Tensors (no gradient needed)   |
| loss                       | ()     |
"""

from __future__ import annotations

import numpy as np

from minirl.autograd import Tensor, no_grad
from minirl.checks import generator, number, positive_int
from minirl.envs.toylang import Preferences, TabularPolicy, check_policy_pair
from minirl.envs.toylang_exact import check_beta
from minirl.optim import Adam
from minirl.algos.dpo_population import dpo_population_loss     # the exact loss of notebook 09, section 2

__all__ = ["dpo_loss", "train_dpo", "dpo_population_loss", "implied_reward"]

KINDS = ("dpo", "ipo")


def dpo_loss(logp_chosen: Tensor, logp_rejected: Tensor, ref_logp_chosen, ref_logp_rejected,
             beta: float, kind: str = "dpo") -> Tensor:
    """The DPO loss (Rafailov et al. 2023, eq. 7), or the IPO loss with kind="ipo"; a scalar Tensor.

    Args:
        logp_chosen, logp_rejected: log pi(y_w|x), log pi(y_l|x), Tensors (B,).
        ref_logp_chosen, ref_logp_rejected: the same under pi_ref, (B,).
        beta: KL coefficient (> 0); for IPO the regularisation strength tau.
        kind: "dpo" or "ipo".
    """
    beta = check_beta(beta)
    if kind not in KINDS:
        raise ValueError(f"dpo_loss: kind must be one of {KINDS}, got {kind!r}")
    if logp_chosen.shape != logp_rejected.shape:
        raise ValueError(f"dpo_loss: chosen {logp_chosen.shape} and rejected {logp_rejected.shape} differ")
    raise NotImplementedError("lesson 09: implement dpo_loss, see notebooks/09_dpo_frontier.ipynb")


def train_dpo(policy: TabularPolicy, ref: TabularPolicy, prefs: Preferences, beta: float, *,
              steps: int = 300, lr: float = 0.05, batch_size: int | None = None,
              rng: np.random.Generator | None = None, kind: str = "dpo",
              callback=None, eval_every: int = 50) -> list[float]:
    """Minimise the DPO (or IPO) loss on a preference set with Adam; updates `policy` in place.

    Full batch when `batch_size` is None (the toy sets are small), else minibatches of `batch_size`
    pairs drawn with replacement with `rng`. `callback(step, policy)`, if given, is called before
    training and every `eval_every` steps. Returns the loss per step. Every argument is checked
    before any work: steps, batch_size and eval_every are integers >= 1, lr a finite number > 0.
    """
    beta = check_beta(beta)
    check_policy_pair("train_dpo", policy, ref)
    if not isinstance(prefs, Preferences):
        raise TypeError(f"train_dpo needs a Preferences set, got {type(prefs).__name__}")
    steps, eval_every = positive_int("train_dpo", "steps", steps), positive_int("train_dpo", "eval_every", eval_every)
    number("train_dpo", "lr", lr, low=0, low_open=True)
    if kind not in KINDS:
        raise ValueError(f"train_dpo: kind must be one of {KINDS}, got {kind!r}")
    if batch_size is not None:
        batch_size = positive_int("train_dpo", "batch_size (None = full batch)", batch_size)
        generator("train_dpo (minibatches)", rng)
    if callback is not None and not callable(callback):
        raise TypeError(f"train_dpo: callback must be callable or None, got {type(callback).__name__}")
    for p in (policy, ref):
        p.lang.check_prompts(prefs.prompts)
        p.lang.check_sequences(prefs.chosen)
        p.lang.check_sequences(prefs.rejected)
    with no_grad():
        ref_w = ref.sequence_log_probs(prefs.prompts, prefs.chosen).data         # (B,)
        ref_l = ref.sequence_log_probs(prefs.prompts, prefs.rejected).data       # (B,)
    opt = Adam(policy.parameters(), lr=lr)
    losses = []
    if callback is not None:
        callback(0, policy)
    for step in range(1, steps + 1):
        idx = slice(None) if batch_size is None else rng.integers(0, len(prefs), size=batch_size)
        loss = dpo_loss(policy.sequence_log_probs(prefs.prompts[idx], prefs.chosen[idx]),
                        policy.sequence_log_probs(prefs.prompts[idx], prefs.rejected[idx]),
                        ref_w[idx], ref_l[idx], beta, kind)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if callback is not None and (step % eval_every == 0 or step == steps):
            callback(step, policy)
    return losses


def implied_reward(policy_logp, ref_logp, beta: float) -> np.ndarray:
    """The reward a DPO policy implies: beta log(pi/pi_ref), defined up to a per-prompt constant."""
    beta = check_beta(beta)
    return beta * (np.asarray(policy_logp) - np.asarray(ref_logp))
