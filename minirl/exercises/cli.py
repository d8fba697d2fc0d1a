"""The command lines `minirl exercises check|status|generate` and `minirl course start|update`.

`python -m minirl.exercises ...` is the same as `minirl exercises ...`.
"""

from __future__ import annotations

import argparse
import sys

from . import folder, runner

__all__ = ["add_arguments", "run", "add_course_arguments", "run_course", "main"]

_DIR_HELP = "your course folder (default: the one you are in, or lessons/ of a clone)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `generate` / `check` / `status` sub-commands."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    gen = sub.add_parser("generate", help="write the lesson stubs (never overwrites your work without --force)")
    gen.add_argument("--lesson", action="append", metavar="NN",
                     help="only this lesson (repeatable); with --force this resets it")
    gen.add_argument("--out", default=None, help=_DIR_HELP)
    gen.add_argument("--force", action="store_true",
                     help="overwrite files that differ from a fresh stub (a copy goes to .minirl/backup/)")
    ch = sub.add_parser("check", help="run a lesson's exercise tests on your code, with their hints")
    ch.add_argument("lessons", nargs="*", metavar="NN", help="lesson numbers (default: every lesson)")
    ch.add_argument("--impl", default=None, help=_DIR_HELP)
    ch.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failing test")
    st = sub.add_parser("status", help="run each lesson's exercise tests against your files")
    st.add_argument("--lesson", action="append", metavar="NN", help="only this lesson (repeatable)")
    st.add_argument("--impl", "--out", dest="impl", default=None, help=_DIR_HELP)


def _errors(fn):
    """Run `fn()`; a bad lesson number or a missing folder is one line on stderr and exit status 2."""
    try:
        return fn()
    except (ValueError, FileNotFoundError, FileExistsError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run(args) -> int:
    action = getattr(args, "action", None) or "generate"
    if action == "check":
        return _errors(lambda: runner.check(args.lessons, args.impl,
                                            pytest_args=["-x"] if args.exitfirst else []))
    if action == "status":
        def show():
            rows = runner.status(getattr(args, "impl", None), getattr(args, "lesson", None))
            return 0 if all(s.startswith("passed") or s == "not available yet" for _, s in rows) else 1
        return _errors(show)
    result = _errors(lambda: folder.generate(getattr(args, "out", None), getattr(args, "lesson", None),
                                             getattr(args, "force", False)))
    if isinstance(result, int):
        return result
    if result["backup"] is not None:
        print(f"reset {len(result['reset'])} file(s) that differed from a fresh stub; copies of them are in "
              f"{folder.shown(result['backup'])}")
    if result["kept"]:
        print(f"kept {len(result['kept'])} file(s) with your changes (nothing was lost); "
              "pass --force with --lesson NN to reset one")
        # Asked for specific lessons and could not write them: say so in the exit status.
        return 1 if getattr(args, "lesson", None) else 0
    return 0


def add_course_arguments(parser: argparse.ArgumentParser) -> None:
    """The `start` / `update` sub-commands of `minirl course`."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    st = sub.add_parser("start", help="make a course folder: every lesson's stub, the notebooks, a README")
    st.add_argument("folder", nargs="?", default=None, metavar="FOLDER",
                    help="a new or empty folder (default: lessons/ in a clone, else minirl-course)")
    up = sub.add_parser("update", help="bring a newer course into your course folder, keeping your work")
    up.add_argument("folder", nargs="?", default=None, metavar="FOLDER", help=_DIR_HELP)


def run_course(args) -> int:
    action = getattr(args, "action", None)
    if action == "start":
        def begin():
            target = args.folder
            if target is None:
                target = folder.REPO_DIR / "lessons" if folder.in_clone() else "minirl-course"
            made = folder.start(target)
            print(f"next: open {folder.shown(made)}/notebooks/01_autograd.ipynb in Jupyter, write "
                  f"{folder.shown(made)}/autograd.py, and check it with `minirl exercises check 01` "
                  f"in {folder.shown(made)}")
            return 0
        return _errors(begin)
    if action == "update":
        def refresh():
            folder.update(args.folder)
            return 0
        return _errors(refresh)
    print("minirl course: give an action: start FOLDER, or update (see minirl course --help)", file=sys.stderr)
    return 2


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minirl.exercises",
                                     description="Generate, reset and check the lesson exercises.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
