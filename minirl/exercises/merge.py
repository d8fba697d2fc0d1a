"""Carry a learner's work into a newer stub: a three-way merge, one exercise function at a time.

When the course changes (a `git pull`, a newer wheel), a lesson's fresh stub may change: a docstring,
a helper, the signature of an exercise. `minirl course update` must keep what the learner wrote and
still give them the new stub. With three texts of the file,

| text | what it is |
|---|---|
| `old` | the fresh stub the learner's file was made from (kept in `.minirl/fresh/`) |
| `mine` | the learner's file now |
| `new` | today's fresh stub |

each file is cut into *units*, the exercise functions (those whose body is a `raise
NotImplementedError("lesson NN: implement NAME, ...")` in a stub, outermost only), and the *rest*
(everything else, with one placeholder line per unit). Then:

* the rest of `mine` equals the rest of `old` (the learner only wrote inside the exercise
  functions): the merge is `new`'s rest with, for each unit, the learner's version if they changed
  it, else `new`'s. A unit the learner changed *and* whose stub changed is a conflict: the learner's
  version is kept and reported, so they can compare it with the new stub.
* otherwise (the learner edited outside the exercises, or the file does not parse) there is no safe
  merge: the caller keeps the learner's file as it is and says where the new stub is.

Without `old` (a folder made before the course kept its fresh stubs) `new` serves as the base.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .stubs import exercise_functions, function_spans

__all__ = ["Merge", "merge", "changed_functions"]


@dataclass
class Merge:
    """The outcome of `merge`: `text` is None when no safe merge exists (`reason` says why)."""

    text: str | None
    kept: list[str] = field(default_factory=list)        # units where the learner's version was carried over
    conflicts: list[str] = field(default_factory=list)   # ... whose stub also changed
    reason: str = ""


def _spans_by_name(text: str) -> dict[str, tuple[int, int]] | None:
    """Qualified function name -> (first, last) line, 1-based; None if `text` is not valid Python."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    return {name: (first, last) for first, last, name in function_spans(tree)}


def _outermost(names) -> list[str]:
    names = list(dict.fromkeys(names))
    return [n for n in names if not any(n.startswith(other + ".") for other in names if other != n)]


def _split(text: str, units: list[str]) -> tuple[list[str], dict[str, str]] | None:
    """(rest lines with one placeholder per unit, {unit: its source}); None if `text` does not parse."""
    spans = _spans_by_name(text)
    if spans is None:
        return None
    lines = text.splitlines()
    found = sorted((spans[n][0], spans[n][1], n) for n in units if n in spans)
    rest, sources, at = [], {}, 1
    for first, last, name in found:
        if first < at:                # inside a unit already cut out (cannot happen for outermost units)
            continue
        rest.extend(lines[at - 1:first - 1])
        rest.append(f"\0unit {name}\0")
        sources[name] = "\n".join(lines[first - 1:last])
        at = last + 1
    rest.extend(lines[at - 1:])
    return rest, sources


def merge(mine: str, old: str | None, new: str) -> Merge:
    """Three-way merge of a learner's lesson file (module doc)."""
    units = _outermost(exercise_functions(new) + (exercise_functions(old) if old else []))
    split_mine, split_new = _split(mine, units), _split(new, units)
    split_base = _split(old, units) if old is not None else split_new
    if split_mine is None:
        return Merge(None, reason="your file is not valid Python right now")
    if split_new is None or split_base is None:
        return Merge(None, reason="the stub does not parse")
    rest_mine, own = split_mine
    rest_base, base = split_base
    rest_new, fresh = split_new
    if rest_mine != rest_base:
        return Merge(None, reason="you changed lines outside the exercise functions")
    edited = [name for name in own if own[name] != base.get(name)]
    lost = [name for name in edited if name not in fresh]
    if lost:
        return Merge(None, reason=f"the exercise {', '.join(lost)} is no longer in the new stub")
    out = []
    for line in rest_new:
        if line.startswith("\0unit "):
            name = line[len("\0unit "):-1]
            out.append(own[name] if name in edited else fresh[name])
        else:
            out.append(line)
    conflicts = [name for name in edited if old is not None and base.get(name) != fresh.get(name)]
    return Merge("\n".join(out) + "\n", kept=edited, conflicts=conflicts)


def changed_functions(old: str, new: str) -> list[str]:
    """Qualified names of the functions whose own lines differ between two stubs, added ones included.

    A function's own lines leave out the functions nested in it, so a changed `Tensor.exp.backward`
    is reported as that, not also as `Tensor.exp`.
    """
    def own_lines(text):
        spans = _spans_by_name(text) or {}
        lines = text.splitlines()
        out = {}
        for name, (a, b) in spans.items():
            inner = [spans[c] for c in spans if c.startswith(name + ".")]
            out[name] = [line if not any(x <= k <= y for x, y in inner) else None
                         for k, line in enumerate(lines[a - 1:b], start=a)]
            out[name] = [line for line in out[name] if line is not None]
        return out

    before, after = own_lines(old), own_lines(new)
    return [name for name in after if before.get(name) != after[name]]
