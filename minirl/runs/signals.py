"""Stopping long work cleanly on Ctrl-C (SIGINT) and on SIGTERM (`kill`, `timeout`, `docker stop`, schedulers).

Python turns SIGINT into a KeyboardInterrupt wherever the program happens to be, possibly in the
middle of an optimiser step, and SIGTERM kills the process at once by default. Neither leaves files
that agree with each other. Inside `stop_requests()` both signals only *ask* to stop:

    with stop_requests() as stop:
        for row in agent.learn_iter(total_steps):    # the agent is consistent between two rows
            log(row)
            if stop.signum is not None:
                break                                 # checkpoint here: state and log agree

The first signal sets `stop.signum` and prints a one-line note; work continues to the next safe
point. A second signal raises KeyboardInterrupt at once (for a step that never ends). Outside the
main thread (where Python cannot install handlers) the context does nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager

__all__ = ["StopRequest", "stop_requests", "EXIT_CODES"]

# exit codes by signal, as a shell reports a process killed by it (128 + signal number)
EXIT_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


class StopRequest:
    """`signum` is None until a stop was asked for; then the signal's number."""

    def __init__(self, what: str):
        self.what, self.signum = what, None

    @property
    def name(self) -> str | None:
        return None if self.signum is None else signal.Signals(self.signum).name

    def __call__(self, signum, frame) -> None:
        if self.signum is not None:
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: stopping at once")
        self.signum = signum
        print(f"\n{signal.Signals(signum).name} received: {self.what} (send it again to stop at once)",
              file=sys.stderr, flush=True)


@contextmanager
def stop_requests(what: str = "stopping after the current step"):
    """Within the block, SIGINT and SIGTERM set `StopRequest.signum` instead of stopping the program."""
    request = StopRequest(what)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {s: signal.getsignal(s) for s in EXIT_CODES}
    for s in EXIT_CODES:
        signal.signal(s, request)
    try:
        yield request
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler if handler is not None else signal.SIG_DFL)
