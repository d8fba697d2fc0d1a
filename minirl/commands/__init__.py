"""The `minirl` sub-commands, one module each (`HELP`, `add_arguments(parser)`, `run(args) -> int`)."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

__all__ = ["fail", "write_failed", "add_env_module_option", "allow_env_modules", "undone_if_failed"]


def fail(command: str, message, hint: str | None = None, code: int = 2) -> int:
    """Print `minirl COMMAND: error: MESSAGE (HINT)` as ONE line on stderr; return `code` (2: bad input).

    `message` may be an exception; a multi-line text (some library errors are) is joined into one line.
    """
    text = " ".join(str(message).split())
    if hint:
        text = f"{text} ({hint})"
    print(f"minirl {command}: error: {text}", file=sys.stderr)
    return code


def write_failed(command: str, exc: OSError, path: str) -> int:
    """One line for a write the disk refused (full, read-only, over quota), naming the file; exit code 1."""
    where = exc.filename or path
    reason = exc.strerror or type(exc).__name__
    return fail(command, f"cannot write {where} ({reason}): free some space, or make it writable (or remove it), "
                         "then run the command again", code=1)


def add_env_module_option(parser) -> None:
    """`--env-module MODULE` (repeatable): the only way an env id of the `module:Env-v0` form gets its module
    imported (`minirl.rollout.resolve_env_id`)."""
    parser.add_argument("--env-module", dest="env_modules", action="append", default=[], metavar="MODULE",
                        help="import MODULE first, e.g. my_envs for the id my_envs:MyEnv-v0 (repeatable); minirl "
                             "never imports a module because a run folder or a sweep file names it")


def allow_env_modules(command: str, args) -> int | None:
    """Import the modules of `--env-module`; None, or the exit code of a one-line error."""
    from ..rollout import allow_env_modules as allow
    try:
        allow(getattr(args, "env_modules", None))
    except ValueError as exc:
        return fail(command, exc)
    return None


@contextmanager
def undone_if_failed(path):
    """Folders the block creates on the way to `path` are removed again (if still empty) when the block
    fails or is interrupted: a refused command (e.g. a Ray cluster that does not answer) leaves no empty --out."""
    new, probe = [], os.path.abspath(os.fspath(path))
    while not os.path.exists(probe) and os.path.dirname(probe) != probe:
        new.append(probe)                          # deepest first
        probe = os.path.dirname(probe)
    try:
        yield
    except BaseException:
        for folder in new:
            try:
                os.rmdir(folder)
            except OSError:
                break
        raise
