# Lesson 01, your exercise: replace each `raise NotImplementedError(...)` below with your code.
# The lesson: notebooks/01_autograd.ipynb. What this file imports from `minirl` is the reference code.
# Check your code (from the repository root, environment active: source .venv/bin/activate):
#     minirl exercises check 01
# Start this file again from a fresh stub (your changes are lost):
#     minirl exercises generate --lesson 01 --force

"""Reverse-mode automatic differentiation over NumPy arrays.

A `Tensor` wraps a NumPy array. Every operation on tensors that require a gradient records its
inputs and a *backward rule*: given dL/d(output), return dL/d(input) for each input. Calling
`loss.backward()` visits the recorded graph in reverse topological order and applies the rules
(the chain rule), accumulating dL/d(leaf) into each leaf's `.grad`.

Names mirror PyTorch so that what you learn here transfers::

    x = Tensor([[1.0, 2.0]], requires_grad=True)
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    loss = (x @ w).tanh().sum()
    loss.backward()          # fills x.grad (1, 2) and w.grad (2, 3)

Conventions
-----------
* Each operation's backward rule sits right under its forward computation; the comment on the
  rule gives the derivative it implements.
* Broadcasting: if an input was broadcast in the forward pass, its gradient is summed over the
  broadcast axes (`_unbroadcast`), so `x.grad.shape == x.shape` always holds.
* Gradients accumulate across `backward` calls into leaves (tensors you created with
  `requires_grad=True`), exactly as in PyTorch; call `zero_grad` (or set `.grad = None`) between
  steps. Intermediate tensors keep `.grad = None`.
* Gradient arrays are never modified in place by this module; each leaf's `.grad` is its own
  writable array (you may scale it in place, e.g. for clipping).
* Inside `with no_grad():` no graph is recorded (use it for acting and evaluation).
* float64 and float32 both work; a Python number combined with a tensor takes the tensor's dtype.

Lesson 01 (notebooks/01_autograd.ipynb): the learner writes the parts marked `# BEGIN SOLUTION`,
the backward rules of `_unbroadcast`, `*`, `@`, `exp`, `tanh`, `sum` and `log_softmax`; the tests
in tests/exercises/test_lesson01_autograd.py check them against the chain rule written by hand.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "Tensor", "no_grad", "is_grad_enabled", "tensor", "concatenate", "stack", "where",
    "minimum", "maximum", "linear", "straight_through",
]

_GRAD_ENABLED = True
_creation_counter = itertools.count()                   # numbers every Tensor in creation order
_creation_id = operator.attrgetter("_id")               # sort key: a Tensor's creation number


@contextlib.contextmanager
def no_grad():
    """Context manager: operations inside record no graph (like `torch.no_grad()`)."""
    global _GRAD_ENABLED
    previous, _GRAD_ENABLED = _GRAD_ENABLED, False
    try:
        yield
    finally:
        _GRAD_ENABLED = previous


def _matmul_input_grad(grad, promoted: tuple, shape: tuple):
    """A matmul operand's gradient (..., n, k), computed for the promoted operand, reduced to `shape`.

    Sums the batch axes the operand was broadcast over and drops a promoted 1-D operand's extra
    axis. A gradient whose last two axes are not the operand's (a slip in the backward rule) is
    returned as it is, so that the check of `.grad`'s shape names the slip.
    """
    if grad is None or grad.shape[-2:] != tuple(promoted[-2:]):
        return grad
    return _unbroadcast(grad, promoted).reshape(shape)


def is_grad_enabled() -> bool:
    return _GRAD_ENABLED


def _unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum `grad` over the axes along which an input of `shape` was broadcast.

    An input x of shape (3,) added to y of shape (2, 3) is used twice (once per row), so
    dL/dx = the sum of dL/d(out) over the new leading axis. Likewise a length-1 axis that was
    stretched is summed back with keepdims. Shapes: grad (broadcast shape) -> (shape).
    """
    if grad.shape == shape:
        return grad
    raise NotImplementedError("lesson 01: implement _unbroadcast, see notebooks/01_autograd.ipynb")


def _expand_reduced(g: np.ndarray, axis, keepdims: bool, ndim: int) -> np.ndarray:
    """Re-insert the axes a reduction removed, so that `g` broadcasts against the input again."""
    if keepdims:
        return g
    if axis is None:
        return np.reshape(g, (1,) * ndim)
    return np.expand_dims(g, axis)


def _as_array(value) -> np.ndarray:
    return value.data if isinstance(value, Tensor) else np.asarray(value)


def _numeric_array(data) -> np.ndarray:
    """np.asarray(data), refusing anything that is not real numbers (one line naming the value)."""
    try:
        arr = np.asarray(data)
    except (ValueError, TypeError):                          # e.g. a ragged list [[1, 2], [3]]
        arr = None
    if arr is None or arr.dtype.kind not in "biuf":
        kind = "a ragged list" if arr is None else f"dtype {arr.dtype}"
        raise TypeError(f"Tensor: data must be real numbers (bool, int or float), got {_short(data)} "
                        f"({kind}); convert it first, e.g. Tensor(np.asarray(x, dtype=np.float64))")
    return arr


def _short(value) -> str:
    text = repr(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


class Tensor:
    """An n-dimensional array that can record how it was computed.

    Args:
        data: numbers: a scalar, a (nested) list or an array of bool, int or float. Python floats
            become float64. Strings, None, complex numbers and ragged lists are refused.
        requires_grad: if True, `backward` fills `.grad` for this tensor. Only floating-point
            data can require a gradient.
    """

    __slots__ = ("data", "grad", "requires_grad", "_parents", "_backward", "_op", "_id")
    __array_priority__ = 1000  # so `ndarray * Tensor` calls Tensor.__rmul__

    def __init__(self, data, requires_grad: bool = False):
        data = data.data if isinstance(data, Tensor) else _numeric_array(data)
        if requires_grad and not np.issubdtype(data.dtype, np.floating):
            raise TypeError(
                f"only floating-point tensors can require gradients, got dtype {data.dtype}; "
                "pass float data, e.g. Tensor(np.asarray(x, dtype=np.float64), requires_grad=True)")
        self.data: np.ndarray = data
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple = ()
        self._backward: Callable | None = None
        self._op = ""
        self._id = next(_creation_counter)          # creation order: a node is newer than its inputs

    # ------------------------------------------------------------------ graph plumbing
    @staticmethod
    def _make(data: np.ndarray, parents: Sequence["Tensor"], backward: Callable, op: str) -> "Tensor":
        """Create the output of an operation; record the graph only if a parent needs a gradient.

        `backward(g)` receives dL/d(output) (same shape as `data`) and returns one gradient
        (or None) per parent, in order.
        """
        out = Tensor.__new__(Tensor)
        out.data, out.grad, out._op, out._id = data, None, op, next(_creation_counter)
        out.requires_grad, out._parents, out._backward = False, (), None
        if _GRAD_ENABLED:
            for p in parents:
                if p.requires_grad:
                    out.requires_grad, out._parents, out._backward = True, tuple(parents), backward
                    break
        return out

    def backward(self, grad=None) -> None:
        """Back-propagate dL/d(self) through the recorded graph into the leaves' `.grad`.

        Args:
            grad: dL/d(self). May be omitted only when `self` holds a single element (then 1).
        """
        if not self.requires_grad:
            raise RuntimeError("backward() called on a tensor that does not require grad "
                               "(no input had requires_grad=True, or it was computed under no_grad())")
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar, but this tensor has shape "
                    f"{self.shape}; reduce it first (e.g. .sum() or .mean()) or pass grad=")
            grad = np.ones_like(self.data)
        else:
            grad = np.asarray(_as_array(grad), dtype=self.data.dtype)
            if grad.shape != self.shape:
                raise ValueError(f"backward(grad): grad has shape {grad.shape}, tensor has shape {self.shape}")

        # Every node that needs a gradient, newest first. A node is always created after its inputs,
        # so sorting by creation number (newest first) visits each node before any of its inputs:
        # a reverse topological order, without a recursive search. (Tensors hash by identity.)
        order, seen, stack = [], {self}, [self]
        while stack:
            node = stack.pop()
            order.append(node)
            for p in node._parents:
                if p.requires_grad and p not in seen:
                    seen.add(p)
                    stack.append(p)
        order.sort(key=_creation_id, reverse=True)

        grads = {self: grad}                                # dL/d(node), filled child-first
        for node in order:
            g = grads.pop(node, None)
            if g is None:
                continue
            if node._backward is None:                      # a leaf: accumulate, PyTorch-style
                # (a private, writable copy in the leaf's dtype: grads may be shared views)
                node.grad = np.array(g, dtype=node.data.dtype) if node.grad is None else node.grad + g
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                grads[parent] = pg if parent not in grads else grads[parent] + pg

    # ------------------------------------------------------------------ basic properties
    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return self.data.size

    def __len__(self) -> int:
        return len(self.data)

    def item(self) -> float:
        return self.data.item()

    def numpy(self) -> np.ndarray:
        return self.data

    def detach(self) -> "Tensor":
        """The same values, cut from the graph (gradients stop here)."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def astype(self, dtype) -> "Tensor":
        out = self.data.astype(dtype)
        return Tensor._make(out, (self,), lambda g: (g.astype(self.data.dtype),), "astype")

    def __repr__(self) -> str:
        flag = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({np.array2string(self.data, precision=4, threshold=20)}{flag})"

    # ------------------------------------------------------------------ arithmetic
    @staticmethod
    def _lift(value, like: np.ndarray) -> "Tensor":
        if isinstance(value, Tensor):
            return value
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and like.dtype.kind == "f" and arr.ndim == 0:
            arr = arr.astype(like.dtype)                  # a Python scalar keeps the tensor's dtype
        return Tensor(arr)

    @staticmethod
    def _broadcast_check(a: np.ndarray, b: np.ndarray, op: str) -> None:
        if a.shape == b.shape or a.ndim == 0 or b.ndim == 0:    # the common cases, checked fast
            return
        try:
            np.broadcast_shapes(a.shape, b.shape)
        except ValueError:
            raise ValueError(f"cannot broadcast shapes {a.shape} and {b.shape} in '{op}'") from None

    def __add__(self, other):
        other = Tensor._lift(other, self.data)
        Tensor._broadcast_check(self.data, other.data, "+")
        a, b = self, other
        # d(a+b)/da = 1, d(a+b)/db = 1
        return Tensor._make(a.data + b.data, (a, b),
                            lambda g: (_unbroadcast(g, a.shape), _unbroadcast(g, b.shape)), "add")

    def __radd__(self, other):
        return self.__add__(other)

    def __sub__(self, other):
        other = Tensor._lift(other, self.data)
        Tensor._broadcast_check(self.data, other.data, "-")
        a, b = self, other
        # d(a-b)/da = 1, d(a-b)/db = -1
        return Tensor._make(a.data - b.data, (a, b),
                            lambda g: (_unbroadcast(g, a.shape), _unbroadcast(-g, b.shape)), "sub")

    def __rsub__(self, other):
        return Tensor._lift(other, self.data).__sub__(self)

    def __mul__(self, other):
        other = Tensor._lift(other, self.data)
        Tensor._broadcast_check(self.data, other.data, "*")
        a, b = self, other

        def backward(g):
            # d(ab)/da = b, d(ab)/db = a; reduce over broadcast axes with _unbroadcast
            raise NotImplementedError("lesson 01: implement Tensor.__mul__.backward, see notebooks/01_autograd.ipynb")
            return ga, gb

        return Tensor._make(a.data * b.data, (a, b), backward, "mul")

    def __rmul__(self, other):
        return self.__mul__(other)

    def __truediv__(self, other):
        other = Tensor._lift(other, self.data)
        Tensor._broadcast_check(self.data, other.data, "/")
        a, b = self, other
        out = a.data / b.data
        # d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b
        return Tensor._make(out, (a, b),
                            lambda g: (_unbroadcast(g / b.data, a.shape) if a.requires_grad else None,
                                       _unbroadcast(-g * out / b.data, b.shape) if b.requires_grad else None),
                            "div")

    def __rtruediv__(self, other):
        return Tensor._lift(other, self.data).__truediv__(self)

    def __pow__(self, exponent):
        a = self
        if not isinstance(exponent, Tensor) and np.ndim(exponent) > 0:
            exponent = Tensor(np.asarray(exponent))     # an array exponent may broadcast: treat as b
        if isinstance(exponent, Tensor):               # a^b with a tensor exponent
            b = exponent
            Tensor._broadcast_check(a.data, b.data, "**")
            out = a.data ** b.data
            # d(a^b)/da = b a^(b-1), d(a^b)/db = a^b log a
            return Tensor._make(out, (a, b), lambda g: (
                _unbroadcast(g * b.data * a.data ** (b.data - 1), a.shape) if a.requires_grad else None,
                _unbroadcast(g * out * np.log(a.data), b.shape) if b.requires_grad else None), "pow")
        p = exponent
        # d(a^p)/da = p a^(p-1)
        return Tensor._make(a.data ** p, (a,), lambda g: (g * p * a.data ** (p - 1),), "pow")

    def __rpow__(self, base):
        return Tensor._lift(base, self.data).__pow__(self)

    def __neg__(self):
        # d(-a)/da = -1
        return Tensor._make(-self.data, (self,), lambda g: (-g,), "neg")

    def __matmul__(self, other):
        other = Tensor._lift(other, self.data)
        a, b = self, other
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul needs at least 1-D operands, got shapes {a.shape} and {b.shape}")
        inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
        if a.shape[-1] != inner_b:
            raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} (inner dimensions "
                             f"{a.shape[-1]} and {inner_b} differ)")
        try:
            out = a.data @ b.data
        except ValueError:
            raise ValueError(f"matmul shape mismatch: {a.shape} @ {b.shape} (batch dimensions "
                             f"{a.shape[:-2]} and {b.shape[:-2]} do not broadcast)") from None

        def backward(g):
            # C = A B  =>  dL/dA = G B^T,  dL/dB = A^T G   (1-D operands are promoted, then squeezed)
            if a.ndim == 1 and b.ndim == 1:                 # inner product: d(a.b)/da = b
                return g * b.data, g * a.data
            A = a.data[None, :] if a.ndim == 1 else a.data
            B = b.data[:, None] if b.ndim == 1 else b.data
            G = g
            if a.ndim == 1:
                G = np.expand_dims(G, -2)
            if b.ndim == 1:
                G = np.expand_dims(G, -1)
            raise NotImplementedError("lesson 01: implement Tensor.__matmul__.backward, see notebooks/01_autograd.ipynb")
            return _matmul_input_grad(ga, A.shape, a.shape), _matmul_input_grad(gb, B.shape, b.shape)

        return Tensor._make(out, (a, b), backward, "matmul")

    def __rmatmul__(self, other):
        return Tensor._lift(other, self.data).__matmul__(self)

    # Comparisons give plain boolean arrays (no gradient flows through a comparison). There is
    # deliberately no __eq__: tensors hash and compare by identity, which `backward` relies on.
    def __lt__(self, other):
        return self.data < _as_array(other)

    def __le__(self, other):
        return self.data <= _as_array(other)

    def __gt__(self, other):
        return self.data > _as_array(other)

    def __ge__(self, other):
        return self.data >= _as_array(other)

    # ------------------------------------------------------------------ elementwise functions
    def exp(self):
        out = np.exp(self.data)

        def backward(g):
            # d exp(a)/da = exp(a)
            raise NotImplementedError("lesson 01: implement Tensor.exp.backward, see notebooks/01_autograd.ipynb")

        return Tensor._make(out, (self,), backward, "exp")

    def log(self):
        a = self
        # d log(a)/da = 1/a
        return Tensor._make(np.log(a.data), (a,), lambda g: (g / a.data,), "log")

    def tanh(self):
        out = np.tanh(self.data)

        def backward(g):
            # d tanh(a)/da = 1 - tanh(a)^2
            raise NotImplementedError("lesson 01: implement Tensor.tanh.backward, see notebooks/01_autograd.ipynb")

        return Tensor._make(out, (self,), backward, "tanh")

    def sigmoid(self):
        out = 0.5 * (np.tanh(0.5 * self.data) + 1)  # numerically stable sigmoid
        # d s(a)/da = s(a)(1 - s(a))
        return Tensor._make(out, (self,), lambda g: (g * out * (1 - out),), "sigmoid")

    def relu(self):
        mask = self.data > 0
        # d relu(a)/da = 1 if a > 0 else 0
        return Tensor._make(self.data * mask, (self,), lambda g: (g * mask,), "relu")

    def softplus(self):
        a = self
        out = np.logaddexp(0, a.data)
        # d log(1 + e^a)/da = sigmoid(a)
        return Tensor._make(out, (a,), lambda g: (g * 0.5 * (np.tanh(0.5 * a.data) + 1),), "softplus")

    def sqrt(self):
        out = np.sqrt(self.data)
        # d sqrt(a)/da = 1 / (2 sqrt(a))
        return Tensor._make(out, (self,), lambda g: (g / (2 * out),), "sqrt")

    def abs(self):
        sign = np.sign(self.data)
        # d|a|/da = sign(a)  (0 at a = 0)
        return Tensor._make(np.abs(self.data), (self,), lambda g: (g * sign,), "abs")

    def square(self):
        a = self
        # d a^2/da = 2a
        return Tensor._make(a.data * a.data, (a,), lambda g: (2 * g * a.data,), "square")

    def sin(self):
        a = self
        # d sin(a)/da = cos(a)
        return Tensor._make(np.sin(a.data), (a,), lambda g: (g * np.cos(a.data),), "sin")

    def cos(self):
        a = self
        # d cos(a)/da = -sin(a)
        return Tensor._make(np.cos(a.data), (a,), lambda g: (-g * np.sin(a.data),), "cos")

    def clip(self, low=None, high=None):
        """Clamp values to [low, high]; the gradient is 1 inside and 0 where a bound is active."""
        a = self
        if low is None and high is None:
            raise ValueError("clip: give low, high or both")
        out = a.data
        if low is not None:
            out = np.maximum(out, low)     # (two ufuncs: np.clip's Python-level dispatch costs more)
        if high is not None:
            out = np.minimum(out, high)
        if a.data.dtype.kind == "f":
            out = out.astype(a.data.dtype, copy=False)  # a float64 bound keeps float32 data float32
        inside = out == a.data
        # d clip(a)/da = 1 where low < a < high, else 0
        return Tensor._make(out, (a,), lambda g: (g * inside,), "clip")

    # ------------------------------------------------------------------ reductions
    def sum(self, axis=None, keepdims: bool = False):
        a = self
        out = a.data.sum(axis=axis, keepdims=keepdims)

        def backward(g):
            # d sum(a)/da_i = 1: every summed entry receives g (re-insert the summed axes, broadcast)
            raise NotImplementedError("lesson 01: implement Tensor.sum.backward, see notebooks/01_autograd.ipynb")

        return Tensor._make(np.asarray(out), (a,), backward, "sum")

    def mean(self, axis=None, keepdims: bool = False):
        a = self
        total = a.data.sum(axis=axis, keepdims=keepdims)   # (the sum, then one division: as np.mean does)
        n = a.data.size // max(np.size(total), 1)           # entries averaged into each output
        out = np.asarray(total / n)

        def backward(g):
            # d mean(a)/da_i = 1/n: like sum, with g divided by the number of averaged entries
            if axis is None:                                 # the usual case: one number spread evenly
                return (np.full(a.shape, g / n, dtype=g.dtype),)
            return (np.broadcast_to(_expand_reduced(g, axis, keepdims, a.ndim) / n, a.shape),)

        return Tensor._make(out, (a,), backward, "mean")

    def var(self, axis=None, keepdims: bool = False):
        """Population variance (divides by n), like `np.var`."""
        centred = self - self.mean(axis=axis, keepdims=True)
        return (centred * centred).mean(axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims: bool = False):
        a = self
        out = a.data.max(axis=axis, keepdims=True)

        def backward(g):
            # d max(a)/da_i = 1 for the maximal entries (ties share the gradient equally)
            g = _expand_reduced(g, axis, keepdims, a.ndim)
            mask = a.data == out
            return (mask * (g / mask.sum(axis=axis, keepdims=True, dtype=g.dtype)),)   # (a float32 g stays float32)

        result = out if keepdims else (out.reshape(()) if axis is None else np.squeeze(out, axis=axis))
        return Tensor._make(np.asarray(result), (a,), backward, "max")

    def min(self, axis=None, keepdims: bool = False):
        return -((-self).max(axis=axis, keepdims=keepdims))

    def logsumexp(self, axis=-1, keepdims: bool = False):
        a = self
        m = a.data.max(axis=axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        lse = np.log(np.exp(a.data - m).sum(axis=axis, keepdims=True)) + m

        def backward(g):
            # d logsumexp(a)/da_i = softmax(a)_i
            g = _expand_reduced(g, axis, keepdims, a.ndim)
            return (g * np.exp(a.data - lse),)

        out = lse if keepdims else (lse.reshape(()) if axis is None else np.squeeze(lse, axis=axis))
        return Tensor._make(out, (a,), backward, "logsumexp")

    def log_softmax(self, axis=-1):
        a = self
        shifted = a.data - a.data.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

        def backward(g):
            # d log_softmax(a)_j/da_i = [i = j] - softmax(a)_i  =>  dL/da = g - softmax(a) * sum_j g_j
            raise NotImplementedError("lesson 01: implement Tensor.log_softmax.backward, see notebooks/01_autograd.ipynb")

        return Tensor._make(out, (a,), backward, "log_softmax")

    def softmax(self, axis=-1):
        a = self
        e = np.exp(a.data - a.data.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)
        # d softmax_j/da_i = s_j([i = j] - s_i)  =>  dL/da = s * (g - sum(g * s))
        return Tensor._make(out, (a,), lambda g: (out * (g - (g * out).sum(axis=axis, keepdims=True)),),
                            "softmax")

    # ------------------------------------------------------------------ shape and indexing
    def reshape(self, *shape):
        a = self
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        # reshaping moves no values: the gradient is reshaped back
        return Tensor._make(a.data.reshape(shape), (a,), lambda g: (g.reshape(a.shape),), "reshape")

    def transpose(self, *axes):
        a = self
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = tuple(int(i) % a.ndim for i in axes) if axes else tuple(reversed(range(a.ndim)))
        if sorted(axes) != list(range(a.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the {a.ndim} axes "
                             f"of shape {a.shape}")
        inverse = tuple(np.argsort(axes))
        # the gradient of a permutation is the inverse permutation
        return Tensor._make(a.data.transpose(axes), (a,), lambda g: (g.transpose(inverse),), "transpose")

    @property
    def T(self):
        return self.transpose()

    def __getitem__(self, key):
        a = self
        if isinstance(key, Tensor):
            key = key.data
        elif isinstance(key, tuple):
            key = tuple(k.data if isinstance(k, Tensor) else k for k in key)

        parts = key if isinstance(key, tuple) else (key,)
        basic = all(k is None or k is Ellipsis or isinstance(k, slice)
                    or (isinstance(k, (int, np.integer)) and not isinstance(k, bool)) for k in parts)

        def backward(g):
            # indexing picks entries: scatter g back to where they came from (add for repeats)
            full = np.zeros_like(a.data)
            if basic:                                # slices and integers never repeat an entry
                full[key] = g
            else:
                np.add.at(full, key, g)
            return (full,)

        return Tensor._make(a.data[key], (a,), backward, "getitem")

    def gather(self, index, axis: int = -1):
        """Pick one entry per position along `axis`: out[..., j] = a[..., index[..., j]].

        Same semantics as `np.take_along_axis(a, index, axis)` (and `torch.gather`). Typical use:
        the log-probability of each chosen action, `logp.gather(actions[:, None], axis=1)`.
        """
        a = self
        index = np.asarray(_as_array(index))
        if index.dtype.kind not in "iu":
            raise TypeError(f"gather needs integer indices, got dtype {index.dtype}")
        if index.ndim != a.ndim:
            raise ValueError(f"gather: index shape {index.shape} must have as many axes as the "
                             f"tensor's shape {a.shape}")
        n = a.shape[axis]
        if index.size and (index.min() < 0 or index.max() >= n):
            raise IndexError(f"gather: indices must lie in [0, {n}) along axis {axis} of shape "
                             f"{a.shape}, got range [{index.min()}, {index.max()}]")
        shape = list(a.shape)
        shape[axis] = index.shape[axis]
        if index.shape != tuple(shape):
            try:
                index = np.broadcast_to(index, shape)        # size-1 index axes follow a's shape
            except ValueError:
                raise ValueError(f"gather: index shape {index.shape} does not fit the tensor's shape "
                                 f"{a.shape} off axis {axis}") from None
        # positions to read: index[...] along `axis`, the position itself along every other axis
        # (an open grid: axis d holds arange(shape[d]) shaped to broadcast along d only)
        if a.ndim == 2 and axis in (-1, 1):              # one pick per row, the usual case
            grid = (np.arange(shape[0])[:, None], index)
        else:
            grid = [np.arange(k).reshape([k if i == d else 1 for i in range(a.ndim)])
                    for d, k in enumerate(shape)]
            grid[axis] = index
            grid = tuple(grid)
        out = a.data[grid]

        def backward(g):
            # scatter-add g into the gathered positions (an entry gathered twice gets both)
            full = np.zeros_like(a.data)
            np.add.at(full, grid, g)
            return (full,)

        return Tensor._make(out, (a,), backward, "gather")


def tensor(data, requires_grad: bool = False, dtype=None) -> Tensor:
    """Build a Tensor, converting to `dtype` first (float64 by default for Python numbers)."""
    arr = np.asarray(_as_array(data), dtype=dtype)
    if dtype is None and arr.dtype.kind in "iub" and requires_grad:
        arr = arr.astype(np.float64)
    return Tensor(arr, requires_grad=requires_grad)


def _tensors(values: Iterable) -> list:
    return [v if isinstance(v, Tensor) else Tensor(v) for v in values]


def _pair(a, b) -> tuple:
    """Lift two operands to Tensors; a bare Python number takes the other operand's dtype."""
    if isinstance(a, Tensor):
        return a, Tensor._lift(b, a.data)
    if isinstance(b, Tensor):
        return Tensor._lift(a, b.data), b
    return Tensor(a), Tensor(b)


def concatenate(tensors: Sequence, axis: int = 0) -> Tensor:
    ts = _tensors(tensors)
    try:
        out = np.concatenate([t.data for t in ts], axis=axis)
    except ValueError as exc:
        raise ValueError(f"concatenate along axis {axis}: shapes {[t.shape for t in ts]}: {exc}") from None
    bounds = np.cumsum([t.shape[axis] for t in ts])[:-1]
    # each input receives its own slice of the output gradient
    return Tensor._make(out, ts, lambda g: tuple(np.split(g, bounds, axis=axis)), "concatenate")


def stack(tensors: Sequence, axis: int = 0) -> Tensor:
    ts = _tensors(tensors)
    try:
        out = np.stack([t.data for t in ts], axis=axis)
    except ValueError:
        raise ValueError(f"stack needs equal shapes, got {[t.shape for t in ts]}") from None
    # each input receives its own slice of the output gradient
    return Tensor._make(out, ts, lambda g: tuple(np.moveaxis(g, axis, 0)), "stack")


def where(condition, a, b) -> Tensor:
    """Pick from `a` where `condition` holds, else from `b` (both broadcast)."""
    cond = np.asarray(_as_array(condition), dtype=bool)
    a, b = _pair(a, b)
    if not (cond.shape == a.shape == b.shape):             # (equal shapes, the usual case, broadcast)
        try:
            np.broadcast_shapes(cond.shape, a.shape, b.shape)
        except ValueError:
            raise ValueError(f"where: cannot broadcast condition {cond.shape}, a {a.shape} and b {b.shape}") from None
    out = np.where(cond, a.data, b.data)
    # d/da = 1 where cond, d/db = 1 where not cond
    return Tensor._make(out, (a, b), lambda g: (_unbroadcast(np.where(cond, g, 0), a.shape),
                                                 _unbroadcast(np.where(cond, 0, g), b.shape)), "where")


def minimum(a, b) -> Tensor:
    """Elementwise minimum; at ties the gradient goes to `a`."""
    a, b = _pair(a, b)
    return where(a.data <= b.data, a, b)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; at ties the gradient goes to `a`."""
    a, b = _pair(a, b)
    return where(a.data >= b.data, a, b)


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """Fused affine map y = x W + b, one graph node instead of two (it is the hot path).

    Shapes: x (..., n_in), weight (n_in, n_out), bias (n_out,)  ->  y (..., n_out).

    With a leading seed axis (S networks side by side, `minirl.stacking`), each seed's slice is the
    same map with its own weights, one batched matrix product for all of them:
    x (S, B, n_in), weight (S, n_in, n_out), bias (S, 1, n_out)  ->  y (S, B, n_out).
    """
    x, weight = _tensors((x, weight))
    stacked = weight.ndim == 3
    if x.shape[-1] != weight.shape[-2] or (stacked and (x.ndim != 3 or x.shape[0] != weight.shape[0])):
        raise ValueError(f"linear: input shape {x.shape} does not fit weight shape {weight.shape} "
                         f"(need x.shape[-1] == weight.shape[-2]; a stacked weight (S, n_in, n_out) needs x (S, B, n_in))")
    out = x.data @ weight.data
    if bias is not None:
        out += bias.data
    xs = x.data.reshape(-1, x.shape[-1]) if not stacked else x.data

    def backward(g):
        # dL/dx = G W^T, dL/dW = x^T G, dL/db = sum of G over the batch (each seed's own, when stacked)
        w_t = np.swapaxes(weight.data, -1, -2)
        if x.requires_grad and w_t.shape[-2] == 1:
            # one output: G W^T is an outer product, which NumPy computes in a plain loop as 0 + g w;
            # the same floats (a -0.0 product becomes +0.0 there too) from one broadcast multiply, faster
            gx = g * w_t + 0.0
        else:
            gx = g @ w_t if x.requires_grad else None
        if stacked:
            gw = np.swapaxes(xs, 1, 2) @ g if weight.requires_grad else None
            gb = np.add.reduce(g, axis=1, keepdims=True) if bias is not None and bias.requires_grad else None
        else:
            g2 = g.reshape(-1, g.shape[-1])
            gw = xs.T @ g2 if weight.requires_grad else None
            gb = np.add.reduce(g2, axis=0) if bias is not None and bias.requires_grad else None   # (= g2.sum(0))
        return (gx, gw, gb) if bias is not None else (gx, gw)

    parents = (x, weight, bias) if bias is not None else (x, weight)
    return Tensor._make(out, parents, backward, "linear")


def straight_through(forward_value, surrogate: Tensor) -> Tensor:
    """A tensor whose *value* is `forward_value` but whose *gradient* flows to `surrogate`.

    The straight-through trick: e.g. a one-hot sample forward, a relaxed softmax backward.
    """
    value = np.asarray(_as_array(forward_value), dtype=surrogate.data.dtype)
    if value.shape != surrogate.shape:
        raise ValueError(f"straight_through: value shape {value.shape} != surrogate shape {surrogate.shape}")
    # d out / d surrogate = identity (by definition of the estimator)
    return Tensor._make(value, (surrogate,), lambda g: (g,), "straight_through")
