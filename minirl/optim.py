"""Optimisers (`SGD`, `Adam`), global-norm gradient clipping and a linear learning-rate schedule.

Every optimiser updates `param.data` from `param.grad`; parameters whose `.grad` is None are
skipped. Only `clip_grad_norm_` modifies gradient arrays, in place (each leaf owns its `.grad`).

Each parameter must be listed once. A parameter listed twice (`Adam(actor.parameters() +
critic.parameters())` when the two share a layer) would be stepped twice per `step()` and counted
twice in a gradient norm, so the optimisers, `global_grad_norm` and `clip_grad_norm_` refuse it with
a ValueError naming both positions (PyTorch refuses a parameter in two groups too). `Module.parameters()`
lists a shared parameter once; to combine lists, dedupe them: `list({id(p): p for p in ps}.values())`.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from .autograd import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "clip_grad_norm_", "clip_grad_norm_per_seed_", "nonfinite_norm_error",
           "global_grad_norm", "LinearSchedule"]


def _is_real(x) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool)


def _check_listed_once(params: list, who: str) -> None:
    """Raise a one-line ValueError if the same Tensor appears twice in `params`."""
    first: dict[int, int] = {}
    for i, p in enumerate(params):
        j = first.setdefault(id(p), i)
        if j != i:
            raise ValueError(f"{who}: parameter {i} is the same Tensor as parameter {j} (listed twice, so it "
                             f"would count twice): list each parameter once, e.g. "
                             f"list({{id(p): p for p in params}}.values())")


class Optimizer:
    def __init__(self, params: Iterable[Tensor], lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError("optimizer parameters must be Tensors with requires_grad=True")
        _check_listed_once(self.params, type(self).__name__)
        if not _is_real(lr) or not np.isfinite(lr) or lr < 0:
            raise ValueError(f"learning rate must be a finite number >= 0, got lr={lr!r}")
        self.lr = float(lr)
        self.step_count = 0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        return {"lr": np.asarray(self.lr), "step_count": np.asarray(self.step_count)}

    def load_state_dict(self, state: dict) -> None:
        self.lr = float(state["lr"])
        self.step_count = int(state["step_count"])


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball) momentum.

        v <- mu v + g;   theta <- theta - lr v          (mu = 0: plain SGD)
    """

    def __init__(self, params, lr: float = 1e-2, momentum: float = 0.0):
        super().__init__(params, lr)
        if not _is_real(momentum) or not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be a number in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.step_count += 1
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            if self.momentum:
                self.velocity[i] = self.momentum * self.velocity[i] + p.grad
                p.data = p.data - self.lr * self.velocity[i]
            else:
                p.data = p.data - self.lr * p.grad

    def state_dict(self):
        return {**super().state_dict(), **{f"velocity.{i}": v for i, v in enumerate(self.velocity)}}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.velocity = [np.array(state[f"velocity.{i}"]) for i in range(len(self.params))]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015, Algorithm 1).

        m <- b1 m + (1 - b1) g;        v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t);        v_hat = v / (1 - b2^t)
        theta <- theta - lr m_hat / (sqrt(v_hat) + eps)

    `eps` defaults to 1e-8 (the paper); PPO implementations use 1e-5.

    Speed: a network has a dozen small parameter arrays, and six NumPy calls per array per step cost
    more than the arithmetic. So Adam keeps every parameter in **one flat buffer** (each `p.data`
    becomes a view into it) and updates all of them with a handful of in-place calls over the
    buffer. The arithmetic is the same, element by element, as the per-array loop (which is still
    used when some parameter has no gradient this step, or the parameters mix dtypes). If code
    rebinds a parameter (`p.data = ...`, as `Module.load_state_dict` does), the next step copies the
    new values into the buffer first. The update is in place: an array taken from `p.data` before a
    step changes with it (copy it to keep a snapshot).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        if (not isinstance(betas, (tuple, list)) or len(betas) != 2
                or not all(_is_real(b) and 0 <= b < 1 for b in betas)):
            raise ValueError(f"Adam: betas must be two numbers in [0, 1), e.g. (0.9, 0.999), got {betas!r}")
        b1, b2 = betas
        if not _is_real(eps) or not 0 < eps < np.inf:
            raise ValueError(f"Adam: eps must be a finite number > 0, got {eps!r}")
        self.b1, self.b2, self.eps = float(b1), float(b2), float(eps)
        dtypes = {p.data.dtype for p in self.params}
        self._flat = len(dtypes) == 1                          # else: one array per parameter, as in the paper
        if not self._flat:
            self.m = [np.zeros_like(p.data) for p in self.params]
            self.v = [np.zeros_like(p.data) for p in self.params]
            return
        dtype = dtypes.pop()
        self._bounds = np.cumsum([0] + [p.data.size for p in self.params])     # offsets into the buffers
        self._theta = np.empty(self._bounds[-1], dtype=dtype)                  # (P,) values (filled by _sync)
        self._m_flat = np.zeros(self._bounds[-1], dtype=dtype)                  # (P,) first moments
        self._v_flat = np.zeros(self._bounds[-1], dtype=dtype)                  # (P,) second moments
        self._make_views()

    def __setstate__(self, state: dict) -> None:
        """After `copy.deepcopy` or unpickling the views are independent arrays: rebuild them."""
        self.__dict__.update(state)
        if self._flat:
            self._make_views()

    def _make_views(self) -> None:
        """Per-parameter views of the flat buffers (self.m, self.v and each p.data); the parameters'
        current values are copied into the buffer."""
        def views(buffer):
            return [buffer[lo:hi].reshape(p.shape) for p, lo, hi in zip(self.params, self._bounds, self._bounds[1:])]
        self.m, self.v, self._views = views(self._m_flat), views(self._v_flat), views(self._theta)
        self._sync()

    def _sync(self) -> None:
        """Make every p.data a view into the flat buffer again (after code rebound one)."""
        for p, view in zip(self.params, self._views):
            if p.data is not view:
                if p.data.shape != view.shape:
                    raise ValueError(f"Adam: a parameter changed shape from {view.shape} to {p.data.shape}")
                view[...] = p.data
                p.data = view

    def step(self) -> None:
        self.step_count += 1
        t, b1, b2 = self.step_count, self.b1, self.b2
        correction1, correction2 = 1 - b1 ** t, 1 - b2 ** t
        grads = [p.grad for p in self.params]
        if not self._flat or any(g is None for g in grads):
            self._step_each(grads, correction1, correction2)
            return
        self._sync()
        g = np.concatenate([g.ravel() for g in grads])                             # (P,)
        m, v = self._m_flat, self._v_flat
        m *= b1
        m += (1 - b1) * g                                                           # b1 m + (1 - b1) g
        v *= b2
        v += (1 - b2) * (g * g)                                                     # b2 v + (1 - b2) g^2
        step = m / correction1                                                      # m_hat
        step *= self.lr
        step /= np.sqrt(v / correction2) + self.eps                                 # lr m_hat / (sqrt(v_hat) + eps)
        self._theta -= step

    def _step_each(self, grads, correction1: float, correction2: float) -> None:
        """The same update, one parameter array at a time (skipping those without a gradient)."""
        b1, b2 = self.b1, self.b2
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if g is None:
                continue
            self.m[i][...] = b1 * self.m[i] + (1 - b1) * g
            self.v[i][...] = b2 * self.v[i] + (1 - b2) * (g * g)
            m_hat = self.m[i] / correction1
            v_hat = self.v[i] / correction2
            p.data = p.data - (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.data.dtype, copy=False)

    def state_dict(self):
        state = super().state_dict()
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            state[f"m.{i}"], state[f"v.{i}"] = m.copy(), v.copy()
        return state

    def load_state_dict(self, state):
        super().load_state_dict(state)
        for i, p in enumerate(self.params):
            m, v = np.asarray(state[f"m.{i}"]), np.asarray(state[f"v.{i}"])
            if m.shape != p.shape or v.shape != p.shape:
                raise ValueError(f"Adam.load_state_dict: moment {i} has shape {m.shape}, parameter has {p.shape}")
            self.m[i][...], self.v[i][...] = m, v


def global_grad_norm(params: Iterable[Tensor]) -> float:
    """sqrt(sum over all parameters of ||grad||^2), skipping parameters without a gradient.
    A parameter listed twice is refused (its gradient would count twice)."""
    params = list(params)
    _check_listed_once(params, "global_grad_norm")
    return _grad_norm(params)


def _grad_norm(params: list[Tensor]) -> float:
    grads = [p.grad.ravel() for p in params if p.grad is not None]
    if not grads:
        return 0.0
    flat = np.concatenate(grads) if len(grads) > 1 else grads[0]
    return float(np.sqrt(np.dot(flat, flat)))            # one BLAS call for all the arrays


def clip_grad_norm_(params: Iterable[Tensor], max_norm: float, error_if_nonfinite: bool = False) -> float:
    """Rescale all gradients together so that their global norm is at most `max_norm`.

    Returns the norm *before* clipping (useful to log). If it exceeds max_norm, every gradient is
    multiplied by max_norm / norm, so the direction is unchanged and the new norm is max_norm.

    A gradient holding inf or NaN has no meaningful norm: the gradients are then left untouched and
    the returned norm is inf or NaN, so the caller can see it (log it, skip the step); with
    `error_if_nonfinite=True` a FloatingPointError is raised instead.
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be > 0, got {max_norm}")
    params = list(params)
    _check_listed_once(params, "clip_grad_norm_")
    params = [p for p in params if p.grad is not None]
    norm = _grad_norm(params)                        # listed-once already checked
    if not np.isfinite(norm):
        if error_if_nonfinite:
            raise nonfinite_norm_error(norm)
        return norm
    if norm > max_norm:
        scale = max_norm / norm                      # norm > max_norm > 0: no division by zero
        scaled = set()                               # ids of the arrays scaled in place
        for p in params:
            if id(p.grad) in scaled:                 # an array shared with a parameter done already
                continue
            if p.grad.flags.writeable:
                np.multiply(p.grad, scale, out=p.grad)   # in place (backward gives each leaf its own array)
                scaled.add(id(p.grad))
            else:
                p.grad = p.grad * scale              # a read-only gradient set by hand
    return norm


def nonfinite_norm_error(norm: float) -> FloatingPointError:
    """The error `clip_grad_norm_(..., error_if_nonfinite=True)` raises (stacked learners report it per seed)."""
    return FloatingPointError(f"clip_grad_norm_: the gradient norm is {norm}; a gradient holds "
                              "inf or NaN (did the loss diverge?)")


def clip_grad_norm_per_seed_(params: Iterable[Tensor], max_norm: float) -> np.ndarray:
    """`clip_grad_norm_` for parameters stacked over S seeds (`minirl.stacking`): each seed's gradients
    are clipped to their own global norm, exactly as that seed's single run clips them.

    Every gradient has the seed axis first, (S, ...). Returns the S norms before clipping; a seed whose
    norm is not finite is left untouched (its norm, inf or NaN, tells the caller).
    """
    if not max_norm > 0:
        raise ValueError(f"clip_grad_norm_per_seed_: max_norm must be > 0, got {max_norm}")
    params = list(params)
    _check_listed_once(params, "clip_grad_norm_per_seed_")
    params = [p for p in params if p.grad is not None]
    if not params:
        return np.zeros(0)
    S = params[0].grad.shape[0]
    flat = np.concatenate([p.grad.reshape(S, -1) for p in params], axis=1)              # (S, P)
    # each row's dot product with itself: per row the same BLAS dot as `_grad_norm`'s
    norms = np.sqrt((flat[:, None, :] @ flat[:, :, None])[:, 0, 0])                    # (S,)
    big = np.isfinite(norms) & (norms > max_norm)
    if big.any():
        # the factor of each seed as its single run computes it: a Python float max_norm / norm, then
        # multiplied in the gradients' precision (1 where nothing is clipped: x * 1 = x exactly)
        scale = np.where(big, max_norm / np.where(big, norms.astype(np.float64), 1.0), 1.0)
        for p in params:
            factor = scale.astype(p.grad.dtype).reshape((S,) + (1,) * (p.grad.ndim - 1))
            if p.grad.flags.writeable:
                np.multiply(p.grad, factor, out=p.grad)
            else:
                p.grad = p.grad * factor
    return norms.astype(np.float64)


class LinearSchedule:
    """A value that moves linearly from `start` to `end` over `total` steps, then stays at `end`.

        value(t) = start + (end - start) * min(t / total, 1)

    PPO anneals the learning rate from its initial value to 0 over training:
    `opt.lr = LinearSchedule(3e-4, 0.0, n_updates)(update)`.
    """

    def __init__(self, start: float, end: float, total: int):
        if total <= 0:
            raise ValueError(f"LinearSchedule: total must be > 0, got {total}")
        self.start, self.end, self.total = float(start), float(end), int(total)

    def __call__(self, t: int) -> float:
        frac = min(max(t, 0) / self.total, 1.0)
        return self.start + (self.end - self.start) * frac
