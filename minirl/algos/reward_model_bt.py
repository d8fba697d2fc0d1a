"""A reward model learned from preference pairs with the Bradley-Terry loss.

People cannot be differentiated; a model of their preferences can. Given pairs where y_w was
preferred to y_l under prompt x, fit r_phi so that the Bradley-Terry probability of each label is
high (Bradley & Terry, 1952; the RLHF reward model of Christiano et al. 2017, Stiennon et al. 2020,
Ouyang et al. 2022 eq. 1):

    P_phi(y_w > y_l | x) = sigmoid(r_phi(x, y_w) - r_phi(x, y_l))
    loss(phi) = -E[log sigmoid(r_phi(x, y_w) - r_phi(x, y_l))] = E[softplus(-(r_w - r_l))]

Only differences of rewards are identified: r_phi + c(x) fits the data equally well.

The model: an MLP on the features onehot(x) (outer) onehot(y_0), ..., onehot(y_{L-1}), so the linear
part can give each word a prompt-dependent value at each position, and the hidden layer can learn
interactions ("not good", repeats). It also accepts *soft* token vectors, so gradients can flow
from the reward back into a policy's samples (`st_reward`).

Shapes
------
| name         | shape        |
|--------------|--------------|
| prompts      | (B,)         |
| seqs         | (B, L) int   |
| tokens       | (B, L, V) one-hot or relaxed, a Tensor |
| features     | (B, P*L*V)   |
| r            | (B,)         |
"""

from __future__ import annotations

import numpy as np

from ..autograd import Tensor, no_grad
from ..checks import generator, number, positive_int
from ..envs.toylang import Preferences, ToyLanguage
from ..nn import MLP, Module
from ..optim import Adam

__all__ = ["RewardModel", "bradley_terry_loss", "train_reward_model", "preference_accuracy"]


def bradley_terry_loss(r_chosen: Tensor, r_rejected: Tensor) -> Tensor:
    """Mean of -log sigmoid(r_w - r_l) = softplus(r_l - r_w) over the batch (a scalar Tensor)."""
    if r_chosen.shape != r_rejected.shape:
        raise ValueError(f"bradley_terry_loss: r_chosen {r_chosen.shape} and r_rejected {r_rejected.shape} differ")
    return (r_rejected - r_chosen).softplus().mean()


class RewardModel(Module):
    """r_phi(x, y) = MLP(onehot(x) (outer) onehot(y)), a scalar per (prompt, response)."""

    def __init__(self, lang: ToyLanguage, rng: np.random.Generator, hidden: int = 64):
        if not isinstance(lang, ToyLanguage):
            raise TypeError(f"RewardModel: lang must be a ToyLanguage, got {type(lang).__name__}")
        positive_int("RewardModel", "hidden", hidden)
        self.lang = lang
        self.net = MLP([lang.P * lang.L * lang.V, hidden, 1], rng=rng, activation="tanh")

    def forward_tokens(self, prompts, tokens: Tensor) -> Tensor:
        """r for one-hot or relaxed tokens (B, L, V); differentiable in `tokens`. Returns (B,)."""
        lang = self.lang
        prompts = lang.check_prompts(prompts)
        if tokens.shape != (len(prompts), lang.L, lang.V):
            raise ValueError(f"RewardModel: tokens must have shape {(len(prompts), lang.L, lang.V)}, got {tokens.shape}")
        B = len(prompts)
        mask = np.zeros((B, lang.P, 1))
        mask[np.arange(B), prompts] = 1.0
        feats = (tokens.reshape(B, 1, lang.L * lang.V) * mask).reshape(B, lang.P * lang.L * lang.V)
        return self.net(feats).reshape(B)

    def forward(self, prompts, seqs) -> Tensor:
        seqs = self.lang.check_sequences(seqs)
        onehot = np.eye(self.lang.V)[seqs]                                    # (B, L, V)
        return self.forward_tokens(prompts, Tensor(onehot))

    def table(self) -> np.ndarray:
        """r_phi for every prompt and response, (P, S): the proxy reward used by the exact tools."""
        lang = self.lang
        with no_grad():
            rows = [self(np.full(lang.num_sequences, x), lang.sequences).data for x in range(lang.P)]
        return np.stack(rows)


def preference_accuracy(model: RewardModel, prefs: Preferences) -> float:
    """Fraction of pairs where the model scores the chosen response strictly higher."""
    with no_grad():
        margin = model(prefs.prompts, prefs.chosen).data - model(prefs.prompts, prefs.rejected).data
    return float(np.mean(margin > 0))


def train_reward_model(lang: ToyLanguage, prefs: Preferences, rng: np.random.Generator, *,
                       hidden: int = 64, steps: int = 600, batch_size: int = 256, lr: float = 3e-3,
                       weight_decay: float = 1e-4) -> tuple[RewardModel, list[float]]:
    """Fit a `RewardModel` to `prefs` by minibatch Adam on the Bradley-Terry loss (+ L2 weight decay).

    Returns (model, loss per step). Preferences that are empty or one-sided are refused when the
    `Preferences` set is built.
    """
    if not isinstance(prefs, Preferences):
        raise TypeError(f"train_reward_model needs a Preferences set, got {type(prefs).__name__}")
    for name, v in (("steps", steps), ("batch_size", batch_size), ("hidden", hidden)):
        positive_int("train_reward_model", name, v)
    number("train_reward_model", "lr", lr, low=0, low_open=True)
    number("train_reward_model", "weight_decay", weight_decay, low=0)
    generator("train_reward_model", rng)
    if not isinstance(lang, ToyLanguage):
        raise TypeError(f"train_reward_model: lang must be a ToyLanguage, got {type(lang).__name__}")
    lang.check_prompts(prefs.prompts)
    lang.check_sequences(prefs.chosen)
    lang.check_sequences(prefs.rejected)
    model = RewardModel(lang, rng, hidden)
    params = model.parameters()
    opt = Adam(params, lr=lr)
    n, losses = len(prefs), []
    for _ in range(steps):
        idx = rng.integers(0, n, size=min(batch_size, n))
        loss = bradley_terry_loss(model(prefs.prompts[idx], prefs.chosen[idx]),
                                  model(prefs.prompts[idx], prefs.rejected[idx]))
        if weight_decay:
            loss = loss + weight_decay * sum((p * p).sum() for p in params)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model, losses
