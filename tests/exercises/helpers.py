"""Checks for exercise tests that fail with a message a learner can act on.

Import them in a test file next to this one (tests/exercises/ is on sys.path while pytest runs)::

    from helpers import assert_close, check_array, check_tensor

    def test_reward_to_go(lesson):
        m = lesson("returns")
        out = check_array(m.reward_to_go(np.ones(5), 0.5), shape=(5,), dtype_kind="f",
                          name="reward_to_go")
        assert_close(out, expected, name="reward_to_go", hint="did you discount from the end?")

A learner whose function returns the wrong kind of value then reads
"your reward_to_go returned shape (5, 1), expected (5,)" instead of a traceback from deep inside
training.
"""

from __future__ import annotations

import contextlib
import linecache
import os

import numpy as np

__all__ = ["check_array", "check_tensor", "check_scalar", "assert_close", "hint_on_error", "learner_error",
           "LearnerError", "is_stub", "LEARNER_MODULE_PREFIX"]

# The `lesson` fixture (conftest.py) loads a learner's file as a module named "minirl_lessons_<n>_...".
LEARNER_MODULE_PREFIX = "minirl_lessons_"

_KINDS = {"f": "floating-point", "i": "signed integer", "u": "unsigned integer", "b": "boolean",
          "c": "complex"}


def _kinds(dtype_kind: str) -> str:
    return " or ".join(_KINDS.get(k, repr(k)) for k in dtype_kind)


def _check_layout(arr: np.ndarray, shape, ndim, dtype_kind, name: str, what: str) -> None:
    if ndim is not None and arr.ndim != ndim:
        raise AssertionError(f"your {name} returned {what} with {arr.ndim} dimension(s) (shape "
                             f"{arr.shape}), expected {ndim}")
    if shape is not None:
        shape = tuple(shape)
        if arr.shape != shape:
            hint = ""
            if arr.size == int(np.prod(shape)):
                hint = " (same number of entries: a stray reshape, keepdims or [:, None]?)"
            elif arr.shape == shape[::-1]:
                hint = " (transposed?)"
            elif arr.ndim == len(shape):
                hint = " (a sum or mean over the wrong axis?)"
            raise AssertionError(f"your {name} returned {what} of shape {arr.shape}, expected "
                                 f"{shape}{hint}")
    if dtype_kind is not None and arr.dtype.kind not in dtype_kind:
        raise AssertionError(f"your {name} returned {what} of dtype {arr.dtype}, expected a "
                             f"{_kinds(dtype_kind)} dtype")


def check_array(value, shape=None, dtype_kind: str | None = None, name: str = "function",
                ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """Assert `value` is a NumPy array (not a list, not a Tensor) of the given layout; return it.

    Args:
        shape: the expected shape (tuple), or None to skip.
        dtype_kind: accepted `dtype.kind` letters, e.g. "f" (float) or "iu" (integers).
        name: the function under test, for the message ("your reward_to_go returned ...").
        ndim: the expected number of dimensions (when the exact shape does not matter).
        finite: also require no NaN or inf (for floating-point arrays).
    """
    if value is None:
        raise AssertionError(f"your {name} returned None: did you forget the `return`?")
    if hasattr(value, "data") and hasattr(value, "requires_grad"):
        raise AssertionError(f"your {name} returned a Tensor, expected a NumPy array "
                             "(use `.data` for the array inside a Tensor)")
    if not isinstance(value, np.ndarray):
        raise AssertionError(f"your {name} returned a {type(value).__name__}, expected a NumPy array "
                             "(wrap it with np.asarray)")
    _check_layout(value, shape, ndim, dtype_kind, name, "an array")
    if finite and value.dtype.kind in "fc" and not np.all(np.isfinite(value)):
        raise AssertionError(f"your {name} returned an array containing NaN or inf: "
                             f"{np.array2string(value, threshold=10)}")
    return value


def check_tensor(value, shape=None, name: str = "function", ndim: int | None = None,
                 requires_grad: bool | None = None, dtype_kind: str | None = "f"):
    """Assert `value` is a minirl Tensor of the given layout; return it.

    `requires_grad=True` checks that the result is still connected to the graph (a common mistake is
    to compute with `.data` and wrap the result in a new Tensor, which cuts the gradient).
    """
    if value is None:
        raise AssertionError(f"your {name} returned None: did you forget the `return`?")
    if not (hasattr(value, "data") and hasattr(value, "requires_grad") and hasattr(value, "backward")):
        raise AssertionError(f"your {name} returned a {type(value).__name__}, expected a Tensor "
                             "(build it from Tensor operations so gradients can flow)")
    _check_layout(np.asarray(value.data), shape, ndim, dtype_kind, name, "a Tensor")
    if requires_grad is True and not value.requires_grad:
        raise AssertionError(f"your {name} returned a Tensor that is cut from the graph "
                             "(requires_grad=False): compute with Tensor operations, not on `.data`")
    return value


def check_scalar(value, name: str = "function") -> float:
    """Assert `value` is a single finite number (Python, NumPy or a one-element array); return it."""
    if value is None:
        raise AssertionError(f"your {name} returned None: did you forget the `return`?")
    data = value.data if hasattr(value, "requires_grad") else value
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise AssertionError(f"your {name} returned {type(value).__name__} {value!r}, expected a number")
    if arr.size != 1:
        raise AssertionError(f"your {name} returned shape {arr.shape}, expected a single number "
                             "(did you forget to sum or average?)")
    number = float(arr.reshape(()))
    if not np.isfinite(number):
        raise AssertionError(f"your {name} returned {number}, expected a finite number")
    return number


def assert_close(actual, expected, name: str = "function", hint: str = "", rtol: float = 1e-6,
                 atol: float = 1e-8, slips: dict | None = None) -> None:
    """Assert `actual` is close to `expected`; the message shows both, where they differ and `hint`.

    A ratio of 2 or 1/2 and a sign flip are recognised and named, since they are the usual slips.
    `slips` maps a known mistake, in words, to the value it gives (worked out by hand in the test):
    a result equal to one of them is named ("this is what you get if you ...").
    """
    a = np.asarray(actual.data if hasattr(actual, "requires_grad") else actual, dtype=np.float64)
    e = np.asarray(expected.data if hasattr(expected, "requires_grad") else expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"your {name} gave shape {a.shape}, expected {e.shape}")
    if np.allclose(a, e, rtol=rtol, atol=atol):
        return
    bad = ~np.isclose(a, e, rtol=rtol, atol=atol)
    where = np.argwhere(bad)[0] if a.ndim else ()
    first = f" (first at index {tuple(int(i) for i in where)}: {a[tuple(where)]:.6g} vs {e[tuple(where)]:.6g})" \
        if a.ndim else ""
    slip = ""
    nonzero = np.abs(e) > atol
    if nonzero.any():
        ratio = a[nonzero] / e[nonzero]
        if np.allclose(ratio, 2.0, rtol=1e-6):
            slip = " Your values are exactly twice the expected ones."
        elif np.allclose(ratio, 0.5, rtol=1e-6):
            slip = " Your values are exactly half the expected ones."
        elif np.allclose(ratio, -1.0, rtol=1e-6):
            slip = " Your values have the wrong sign."
    with np.printoptions(precision=5, threshold=12, suppress=True):
        message = (f"your {name} is wrong at {int(bad.sum())} of {bad.size} entries{first}.{slip}\n"
                   f"  got:      {a}\n  expected: {e}")
    for mistake, value in (slips or {}).items():
        value = np.asarray(value, dtype=np.float64)
        if value.shape == a.shape and np.allclose(a, value, rtol=rtol, atol=atol):
            message += f"\n  this is what you get if you {mistake}"
            break
    if hint:
        message += f"\n  hint: {hint}"
    raise AssertionError(message)


# ------------------------------------------------------------------ exceptions from the learner's code

def _learner_frame(tb):
    """The innermost traceback entry in a learner's module (else the innermost entry at all)."""
    last = mine = None
    while tb is not None:
        last = tb
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith(LEARNER_MODULE_PREFIX):
            mine = tb
        tb = tb.tb_next
    return mine or last


def _shown(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:                       # another drive (Windows)
        return path
    return path if rel.startswith("..") else rel


def is_stub(exc: BaseException) -> bool:
    """A fresh stub's `raise NotImplementedError("lesson NN: implement ...")` (reported by conftest)."""
    return isinstance(exc, NotImplementedError) and "implement" in str(exc) and str(exc).startswith("lesson ")


def learner_error(exc: BaseException, hint: str = "", name: str = "", doc: str = "") -> str:
    """A few lines for an exception raised by the learner's code: the one line of the exception, where
    it was raised in the learner's file (file, line, the line itself), the lesson's `hint` and `doc`
    (what the function should do, the first paragraph of its docstring).

        your _unbroadcast raised ValueError: cannot reshape array of size 6 into shape (2,1)
          at lessons/autograd.py, line 85, in _unbroadcast: return grad.reshape(shape)
          hint: sum the stretched length-1 axes with keepdims=True
    """
    text = str(exc).strip().splitlines()
    what = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    entry = _learner_frame(exc.__traceback__)
    lines = []
    if entry is not None:
        code = entry.tb_frame.f_code
        function = getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")
        source = linecache.getline(code.co_filename, entry.tb_lineno).strip()
        lines.append(f"your {name or function} raised {what}")
        lines.append(f"  at {_shown(code.co_filename)}, line {entry.tb_lineno}, in {function}"
                     + (f": {source}" if source else ""))
    else:
        lines.append(f"your {name or 'code'} raised {what}")
    if hint:
        lines.append(f"  hint: {hint}")
    if doc:
        lines.append(f"  what it should do: {doc}")
    return "\n".join(lines)


class LearnerError(AssertionError):
    """An exception of the learner's code, told in a few lines (conftest reports only the message)."""


@contextlib.contextmanager
def hint_on_error(hint: str, name: str = ""):
    """Around a call into the learner's code: an exception it raises becomes a short AssertionError
    with the lesson's `hint` (see `learner_error`). Assertions and a fresh stub's NotImplementedError
    pass through unchanged (the stub has its own short report)."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as exc:
        if is_stub(exc):
            raise
        raise LearnerError(learner_error(exc, hint, name)) from None
