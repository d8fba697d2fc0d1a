"""`minirl sweep`: seeds x a grid over `minirl train` settings, on local processes or a Ray cluster.

    minirl sweep --algo ppo --env CartPole-v1 --seeds 0-9 --grid learning_rate=1e-3,3e-4 --out runs/sweep
    minirl sweep --file sweep.json --out runs/sweep        # the same sweep written as a file (JSON or TOML)
    minirl sweep ... --ray auto                            # on the Ray cluster this machine belongs to
    minirl sweep --report runs/sweep                       # the table and figure, at any time

Every trial is a `minirl train` run in its own folder under --out
(`<algo>-<env>/<name=value,...>/s<seed>`, see `minirl.runs.sweep`); OUT/sweep.json holds the
expanded plan. Rerunning the command continues the sweep: finished trials are skipped, interrupted
ones resume from their checkpoints. The seeds of one setting train together in one process, stacked
(`minirl.runs.group`), where the algorithm allows it: the same folders, files and numbers as one
process per seed, for less CPU (`--no-stack`: one process per trial). A trial that raises or whose worker dies is retried once, then
counted as failed (OUT/failures.json); the sweep goes on. At the end (and with --report) it writes
OUT/report.csv (per setting: IQM of the final training and evaluation returns with bootstrap
intervals, steps to the threshold, failures) and OUT/report.png, and prints the table.
Exit code: 0 all finished, 1 some failed, 2 bad input (one line, before any work), 130 / 143 stopped
by Ctrl-C / SIGTERM (run it again to continue).
"""

from __future__ import annotations

import os
import sys

from . import add_env_module_option, allow_env_modules, fail, undone_if_failed, write_failed

HELP = "seeds x a grid of train settings, on local processes or a Ray cluster"
DESCRIPTION = ("Run `minirl train` for every seed and every combination of a grid of settings, each in its own "
               "folder under --out, on local worker processes (default) or a Ray cluster (--ray); rerun to "
               "continue; report IQM and bootstrap intervals per setting.")

SWEEP_FLAGS = ("algo", "env", "seeds", "grid", "sets", "total_steps", "eval_every", "eval_episodes", "stop_return")


def add_arguments(parser) -> None:
    parser.add_argument("--algo", default=None, help="the algorithm (as in `minirl train`)")
    parser.add_argument("--env", default=None, metavar="ENV_ID", help="a Gymnasium id, e.g. CartPole-v1")
    parser.add_argument("--seeds", default=None, help="seeds: a range 0-9, a list 0,3,7, or both (default 0)")
    parser.add_argument("--grid", nargs="+", action="extend", default=[], metavar="NAME=V1,V2",
                        help="values to sweep: a config field (learning_rate=1e-3,3e-4) or algo, env, "
                             "total_steps, eval_every, eval_episodes, stop_return; every combination runs")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                        help="a config field fixed for every trial (repeatable)")
    parser.add_argument("--total-steps", default=None, metavar="N", help="env steps per trial (default: the preset's)")
    parser.add_argument("--eval-every", default=None, metavar="STEPS", help="env steps between evaluations")
    parser.add_argument("--eval-episodes", default=None, metavar="K", help="evaluation episodes each time")
    parser.add_argument("--stop-return", default=None, metavar="R", help="stop a trial once its training mean reaches R")
    parser.add_argument("--threshold", default=None, metavar="R",
                        help="evaluation return the report counts steps to (default: the env's)")
    parser.add_argument("--file", default=None, metavar="PATH", help="the sweep as a JSON or TOML file instead of flags")
    parser.add_argument("--out", default="runs/sweep", metavar="DIR", help="folder of the sweep")
    parser.add_argument("--jobs", default=None, metavar="N", help="local worker processes (default: one per core)")
    parser.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                        help="run on Ray: 'auto' (the cluster this machine joined), HOST:PORT, or nothing to "
                             "start a Ray instance here (needs the ray extra)")
    parser.add_argument("--no-stack", dest="stack", action="store_false",
                        help="run every trial in its own process (by default the seeds of a setting train "
                             "together, stacked, where the algorithm allows: the same files and numbers, less CPU)")
    parser.add_argument("--report", default=None, metavar="DIR",
                        help="only write and print the report of the sweep in DIR (any time)")
    add_env_module_option(parser)


def _given(args) -> list[str]:
    return [f"--{name.replace('_', '-').replace('sets', 'set')}" for name in SWEEP_FLAGS
            if getattr(args, name) not in (None, [])]


def _write_report(out: str, threshold):
    """Write report.csv and report.png, print the table and one "failed:" line per failed trial.
    Returns (exit code, the report): 1 if a file could not be written (one line naming it)."""
    from minirl.runs.sweep_report import format_report, sweep_report, write_report_csv
    from minirl.plotting import save_figure
    from minirl.plotting.sweep import sweep_figure

    report = sweep_report(out, threshold)
    paths = {"table": os.path.join(out, "report.csv"), "figure": os.path.join(out, "report.png")}
    try:
        write_report_csv(report, paths["table"])
    except OSError as exc:
        return write_failed("sweep", exc, paths["table"]), report
    fig = sweep_figure(report)
    if fig is None:
        del paths["figure"]
    else:
        try:
            save_figure(fig, paths["figure"])
        except OSError as exc:
            import matplotlib.pyplot as plt
            plt.close(fig)
            return write_failed("sweep", exc, paths["figure"]), report
    print(format_report(report))
    print("(IQM over finished seeds with a 95% bootstrap interval; steps to threshold: median over finished seeds "
          "of the first evaluation at or above it, a seed that never reached it counting as infinitely slow)")
    if "figure" not in paths:
        print("no figure yet: no setting has a finished trial with an evaluation")
    for what, path in paths.items():
        print(f"{what:>8}: {path}")
    for name, error in report.failures.items():
        print(f"failed: {name}: {' '.join(str(error).split())[:300]}")
    return 0, report


def report_only(args) -> int:
    from minirl.runs.sweep import SweepError, check_threshold, read_plan
    from minirl.outputs import OutputPathError, check_out_dir

    try:
        given = _given(args) + [f for f, v in (("--file", args.file), ("--jobs", args.jobs),
                                                ("--ray", args.ray)) if v is not None] + (
            [] if args.stack else ["--no-stack"])
        if given:
            raise SweepError(f"--report only reads the sweep in its folder, so {', '.join(given)} would be ignored: "
                             "drop them (it accepts --threshold)")
        if not os.path.isdir(args.report):
            raise SweepError(f"--report {args.report} is not a folder: give the --out folder of a `minirl sweep`")
        threshold = check_threshold(args.threshold)
        if read_plan(args.report) is None:
            raise SweepError(f"{args.report} holds no sweep.json: give the --out folder of a `minirl sweep`")
        check_out_dir(args.report, flag="--report")
    except (SweepError, OutputPathError) as exc:
        return fail("sweep", exc)
    code, report = _write_report(args.report, threshold)
    return code or (1 if report.failures else 0)


def run(args) -> int:
    from minirl.runs import sweep as sw
    from minirl.runs.backends import make_executor
    from minirl.runs.folder import RunFiles, RunLock
    from minirl.runs.trials import check_folder
    from minirl.outputs import check_out_dir

    refused = allow_env_modules("sweep", args)
    if refused is not None:
        return refused
    if args.report is not None:
        return report_only(args)
    try:
        if args.file is not None:
            given = _given(args)
            if given:
                raise sw.SweepError(f"give the sweep either as flags or as --file, not both (--file with "
                                    f"{', '.join(given)})")
            sweep = sw.sweep_from_file(args.file)
            if args.threshold is not None:
                sweep.threshold = sw.check_threshold(args.threshold)
        else:
            seeds = "0" if args.seeds is None else args.seeds          # --seeds '' is refused, not seed 0
            sweep = sw.sweep_from_flags(algo=args.algo, env=args.env, seeds=seeds, grid=args.grid, sets=args.sets,
                                        total_steps=args.total_steps, eval_every=args.eval_every,
                                        eval_episodes=args.eval_episodes, stop_return=args.stop_return,
                                        threshold=args.threshold)
        jobs = None
        if args.jobs is not None:
            if args.ray is not None:
                raise sw.SweepError("--jobs counts local worker processes; with --ray the cluster's CPUs decide: "
                                    "drop one of them")
            if not args.jobs.isdigit() or int(args.jobs) < 1:
                raise sw.SweepError(f"--jobs must be an integer >= 1, got {args.jobs!r}")
            jobs = int(args.jobs)
        if args.ray is not None:                         # the address and the package, before any work
            from minirl.runs.ray_backend import check_address, check_available
            check_address(args.ray)
            check_available()
        trials = sw.expand(sweep)
        record = sw.plan_record(sweep, trials)
        sw.check_path_lengths(args.out, trials)
        with undone_if_failed(args.out):                  # e.g. a Ray cluster that does not answer: no empty --out
            out = check_out_dir(args.out)
            continuing = sw.check_plan(out, record)
            for t in trials:                              # a folder holding a run of other settings: refuse now
                check_folder(t, os.path.join(out, t.name))
            lock = RunLock(RunFiles(out), what="swept").acquire()   # one sweep at a time in OUT
            try:
                executor = make_executor(jobs, args.ray)
            except BaseException:
                lock.release()
                if not [n for n in os.listdir(out) if n != ".lock"] and os.path.exists(os.path.join(out, ".lock")):
                    os.remove(os.path.join(out, ".lock"))     # the lock file alone is not a sweep
                raise
    except (ValueError, ImportError, ConnectionError) as exc:     # SweepError, OutputPathError, RunFolderError
        return fail("sweep", exc)
    try:
        return _run(args, sweep, trials, record, out, continuing, executor)
    finally:
        lock.release()


def _run(args, sweep, trials, record, out, continuing, executor) -> int:
    from tqdm import tqdm

    from minirl.runs import sweep as sw
    from minirl.runs.folder import remove_temp_files
    from minirl.runs.sweep_run import is_finished, run_sweep

    remove_temp_files(out)                           # sweep.json, failures.json, report.csv of a killed sweep
    if getattr(executor, "remote", False):
        from minirl.runs.trials import remove_stale_trial_folders
        remove_stale_trial_folders()                 # a killed sweep's trials on this machine (Ray workers)
    sw.write_plan(out, record)

    settings = len({sw.setting_of(t.name) for t in trials})
    already = sum(is_finished(os.path.join(out, t.name)) for t in trials)
    where = getattr(executor, "description", None) or f"{executor.jobs} local worker process(es)"
    print(f"{len(trials)} trials ({settings} setting(s) x {len(sweep.seeds)} seed(s)) in {out}"
          f"{f', {already} finished already' if continuing else ''}; running on {where}")
    failed = 0
    with tqdm(total=len(trials), initial=already, desc="trials", unit="trial", file=sys.stderr) as bar:
        def on_outcome(trial, outcome, status):
            nonlocal failed
            failed += status == "failed"
            bar.set_postfix_str(f"{failed} failed" if failed else "", refresh=False)
            if status != "stopped":
                bar.update(1)
        try:
            result = run_sweep(out, trials, executor, on_outcome, stack=args.stack)
        except KeyboardInterrupt:                    # a second Ctrl-C: the executor stopped the trials at once
            print("\nsecond Ctrl-C: the running trials were stopped at once, each keeping its last checkpoint; run "
                  "the same command again to continue them from there", file=sys.stderr)
            return 130
    close = getattr(executor, "close", None)
    if close is not None:
        close()
    code, report = _write_report(out, sweep.threshold)
    if result.stopped:
        import signal

        from minirl.runs.signals import EXIT_CODES
        from minirl.runs.sweep_run import describe_stopped
        name = getattr(executor, "stopped", None) or "SIGINT"
        for line in describe_stopped(out, result.stopped, name, getattr(executor, "cancelled", ())):
            print(line, file=sys.stderr)
        return EXIT_CODES[signal.Signals[name]]
    return code or (1 if report.failures else 0)
