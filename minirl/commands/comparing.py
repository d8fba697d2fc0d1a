"""What `minirl compare` and its `--dims` branch (`compare_dims`) share: the checked plan, output folder and
executor; the message of a stopped comparison; CSV tables and their write failures."""

from __future__ import annotations

import csv
import os
import sys

from . import fail

__all__ = ["prepare", "stopped", "write_csv", "write_outputs"]


def write_csv(path: str, rows: list[dict]) -> None:
    """Rows (dicts with the same keys) as a CSV file with a header; an empty table has the header 'arm'."""
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["arm"])
        writer.writeheader()
        writer.writerows(rows)


def write_outputs(write, out: str) -> int | None:
    """Call `write()` (the tables and the figure); None, or the exit code of a one-line error naming the
    file a full or read-only disk refused."""
    try:
        write()
    except OSError as exc:
        from . import write_failed
        return write_failed("compare", exc, out)
    return None


def prepare(args, plan, trials):
    """The checked plan (`plan()`, which raises ValueError), the output folder and the executor, or the exit
    code of a one-line error: (plan, out, executor, where) or (None, code, None, None).

    trials: plan -> its trials; a folder `out/runs/<name>` holding a run of other settings is refused before
    any work. A refused command (e.g. a Ray cluster that does not answer) leaves no empty --out behind."""
    from minirl.outputs import OutputPathError, check_out_dir
    from minirl.runs.backends import make_executor
    from minirl.runs.trials import check_folder

    from . import undone_if_failed
    try:
        if args.jobs is not None and args.jobs <= 0:
            raise ValueError(f"--jobs must be positive, got {args.jobs}")
        planned = plan()
        with undone_if_failed(args.out):
            out = check_out_dir(args.out)
            for t in trials(planned):
                check_folder(t, os.path.join(out, "runs", t.name))
            executor = make_executor(args.jobs, args.ray)
    except (ValueError, OutputPathError, ImportError, ConnectionError) as exc:
        return None, fail("compare", exc), None, None
    return planned, out, executor, f"Ray ({args.ray})" if args.ray else f"{executor.jobs} worker process(es)"


def stopped(name: str, out: str, trials, executor) -> int:
    """Say what a stop request (SIGINT, SIGTERM) did to each unfinished trial; the exit code."""
    import signal

    from minirl.runs.signals import EXIT_CODES
    from minirl.runs.sweep_run import describe_stopped, is_finished
    runs = os.path.join(out, "runs")
    unfinished = [t.name for t in trials if not is_finished(os.path.join(runs, t.name))]
    for line in describe_stopped(runs, unfinished, name, getattr(executor, "cancelled", ())):
        print(line, file=sys.stderr)
    return EXIT_CODES[signal.Signals[name]]
