"""What a lesson says about its own runs: sentences computed from the numbers, or claims checked.

A notebook that states a result of one of its runs ("passed -200 after 2,600 steps", "the gold reward
peaks then falls") must not be able to contradict its own figure. Two ways, both through a `Chapter`
made in the notebook's set-up cell:

| call | what it does | full mode | fast mode (`MINIRL_FAST=1`) |
|---|---|---|---|
| `Chapter(lesson, fast, cannot_show)` | the chapter's record | nothing shown | prints, once, what the shrunken budget cannot show |
| `chapter.say(text)` | a sentence built from the run's numbers (an f-string), shown as Markdown under the cell | shown | shown (it describes this run) |
| `chapter.check(holds, claim, measured)` | a claim the lesson's text makes, with the numbers that decide it | raises `ClaimError` at once if it does not hold | recorded; listed at the end |
| `chapter.check(..., also_fast=True)` | a claim that does not depend on the budget (an exact computation) | raises | raises |
| `chapter.report()` (the last code cell) | every claim checked, with its measured numbers | a list: all hold | the claims this small run does not show |

So a full-mode run (`make site`, or `MINIRL_FULL=1 pytest tests/test_notebooks.py`) cannot finish while
a sentence of the lesson is false for that run, and the fast mode never shows a full-mode number beside a
fast-mode figure: what it shows is computed from its own run, and what it cannot show is said once.

`report()` attaches `{"lesson", "mode", "checked", "failed"}` to its output's metadata under
`METADATA_KEY`, so a test can read from an executed notebook which claims were checked in which mode.

Only the standard library; IPython (present in any Jupyter kernel) displays the Markdown, and without it
the text is printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

METADATA_KEY = "minirl_claims"


class ClaimError(AssertionError):
    """A claim of the lesson's text does not hold for this run."""


@dataclass
class Claim:
    claim: str
    holds: bool
    measured: str = ""


def _display_markdown(text: str, metadata: dict | None = None) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        get_ipython = None
    if get_ipython is None or get_ipython() is None:      # outside a kernel: plain text
        print(text)
        return
    display(Markdown(text), metadata=metadata)


@dataclass
class Chapter:
    """The claims one lesson makes about its runs (see the module docstring).

    `lesson` is the lesson's number ("07"), `fast` whether this run is the fast mode, `cannot_show` one
    or two sentences on what the fast mode's budgets are too small to show (printed once, in fast mode).
    """

    lesson: str
    fast: bool
    cannot_show: str = ""
    claims: list[Claim] = field(default_factory=list)

    def __post_init__(self):
        if not isinstance(self.fast, bool):
            raise TypeError(f"Chapter(fast=...) must be True or False, got {self.fast!r}")
        if self.fast:
            note = self.cannot_show.strip() or "its budgets are shrunk for CI."
            _display_markdown(f"**Fast mode** (`MINIRL_FAST=1`): {note} The sentences under the figures "
                              "describe this run; the claims the full run checks are listed at the end.")

    @property
    def mode(self) -> str:
        return "fast" if self.fast else "full"

    def say(self, text: str) -> None:
        """Show `text` (Markdown, built from this run's numbers) under the cell."""
        _display_markdown(text)

    def check(self, holds, claim: str, measured: str = "", also_fast: bool = False) -> None:
        """Record whether `claim` (a sentence of the lesson) holds in this run, `measured` the numbers
        that decide it. In full mode, and in fast mode when `also_fast`, a claim that does not hold
        raises `ClaimError` naming it. (Returns None, so a check at the end of a cell shows nothing.)"""
        holds = bool(holds)
        self.claims.append(Claim(claim, holds, measured))
        if not holds and (not self.fast or also_fast):
            raise ClaimError(f"lesson {self.lesson}, {self.mode} mode: the text says \"{claim}\", but this run "
                             f"does not show it ({measured or 'no numbers given'}). Fix the code or the "
                             "sentence: the lesson must say what its run shows.")

    @property
    def summary(self) -> dict:
        """{"lesson", "mode", "checked": how many claims, "failed": the claims that do not hold}."""
        return {"lesson": self.lesson, "mode": self.mode, "checked": len(self.claims),
                "failed": [c.claim for c in self.claims if not c.holds]}

    def report(self) -> None:
        """Show the list of checked claims (the last code cell of the chapter), with `summary` attached
        to the output's metadata."""
        failed = [c for c in self.claims if not c.holds]

        def line(c: Claim) -> str:
            return f"- {c.claim}" + (f" ({c.measured})" if c.measured else "")

        if not self.claims:
            text = "This chapter checks no claim about its runs."
        elif not failed:
            text = (f"**What this run checked.** The {len(self.claims)} claims this chapter makes about its "
                    f"runs hold in this {self.mode}-mode run:\n\n" + "\n".join(line(c) for c in self.claims))
        else:
            text = (f"**Fast mode cannot show** {len(failed)} of the {len(self.claims)} claims this chapter "
                    "checks in full mode (its budgets are too small):\n\n" + "\n".join(line(c) for c in failed))
        _display_markdown(text, metadata={METADATA_KEY: self.summary})
