"""Stopping long work cleanly on Ctrl-C (SIGINT) and on SIGTERM (`kill`, `timeout`, systemd, Slurm, `docker stop`).

Python turns SIGINT into a KeyboardInterrupt wherever the program happens to be, possibly in the
middle of an optimiser step, and SIGTERM kills the process at once by default. Neither leaves files
that agree with each other. Inside `stop_requests()` both signals only *ask* to stop:

    with stop_requests() as stop:
        with stop.armed():                            # only here may a second Ctrl-C interrupt the work
            for row in agent.learn_iter(total_steps): # the agent is consistent between two rows
                log(row)
                if stop.signum is not None:
                    break                             # checkpoint here: state and log agree
        write the checkpoint and the summary          # still inside: no signal can cut these short

The rules, whatever order and however many copies arrive:

| signal | what it does |
|---|---|
| the first SIGINT or SIGTERM | a stop request: `stop.signum` is set, a one-line note is printed, work continues to the next safe point |
| more SIGTERMs | nothing: copies of the same request. `timeout` signals the command and then its whole process group, systemd and Slurm signal every process of the job, a sweep's parent passes the request on: a worker sees it two or three times. Every one of these escalates with SIGKILL after a grace period, which is the way to stop at once |
| a second SIGINT (a person pressing Ctrl-C again) | stop at once: KeyboardInterrupt, raised only inside `stop.armed()` (in the training loop, for a step that never ends) and only once |
| anything after that | nothing: the files are being written |

Contexts nest: an inner `stop_requests()` (a trial's training loop inside a sweep worker) shares the
outer request, so a signal that reached the worker before its trial started still stops the trial
at its first row. `source` (for the outermost context) is a second way to ask: a callable that
returns a signal number when some other process asked this one to stop (a sweep's parent sets a
shared value rather than send a signal, which works on every platform). Outside the main thread
(where Python cannot install handlers) the context installs nothing and only `source` can ask.
"""

from __future__ import annotations

import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable

__all__ = ["StopRequest", "stop_requests", "EXIT_CODES"]

# exit codes by signal, as a shell reports a process killed by it (128 + signal number)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def _say(text: str) -> None:
    """One line on stderr, written with os.write: print() inside a signal handler can meet a write the
    handler interrupted and fail with "reentrant call"."""
    try:
        os.write(2, (text + "\n").encode(errors="replace"))
    except OSError:
        pass


class StopRequest:
    """`signum` is None until a stop was asked for; then the signal's number (see the module doc)."""

    def __init__(self, what: str, source: Callable[[], int | None] | None = None):
        self.what, self.source = what, source
        self._signum: int | None = None
        self._armed = 0                    # > 0 while a second SIGINT may raise KeyboardInterrupt
        self.at_once = False               # a second SIGINT raised KeyboardInterrupt

    @property
    def signum(self) -> int | None:
        if self._signum is None and self.source is not None:
            asked = self.source()
            if asked:
                self._signum = int(asked)
                _say(f"{signal.Signals(self._signum).name} passed on by the parent process: {self.what}")
        return self._signum

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def clear(self) -> None:
        """Forget a request (a sweep worker, between two trials)."""
        self._signum, self.at_once = None, False

    @contextmanager
    def armed(self):
        """Within the block a second SIGINT stops at once (KeyboardInterrupt), once."""
        self._armed += 1
        try:
            yield self
        finally:
            self._armed -= 1

    def __call__(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self.signum is None:
            self._signum = signum
            again = ("press Ctrl-C again to stop at once" if signum == signal.SIGINT else
                     "more SIGTERMs change nothing; Ctrl-C or SIGKILL stops at once")
            _say(f"\n{name} received: {self.what} ({again})")
            return
        if signum == signal.SIGINT and self._armed > 0 and not self.at_once:
            self.at_once = True
            raise KeyboardInterrupt(f"second {name}: stopping at once")


_current: StopRequest | None = None          # the request of the outermost active context


@contextmanager
def stop_requests(what: str = "stopping after the current step", source: Callable[[], int | None] | None = None):
    """Within the block, SIGINT and SIGTERM ask to stop (`StopRequest.signum`) instead of stopping the program."""
    global _current
    if _current is not None:                  # nested: share the outer request
        yield _current
        return
    request = StopRequest(what, source)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.getsignal(s) for s in EXIT_CODES}
    for s in EXIT_CODES:
        signal.signal(s, request)
    _current = request
    try:
        yield request
    finally:
        _current = None
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
