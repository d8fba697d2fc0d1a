"""The `minirl` sub-commands, one module each (`HELP`, `add_arguments(parser)`, `run(args) -> int`)."""

from __future__ import annotations

import sys

__all__ = ["fail"]


def fail(command: str, message, hint: str | None = None, code: int = 2) -> int:
    """Print `minirl COMMAND: error: MESSAGE (HINT)` as ONE line on stderr; return `code` (2: bad input).

    `message` may be an exception; a multi-line text (some library errors are) is joined into one line.
    """
    text = " ".join(str(message).split())
    if hint:
        text = f"{text} ({hint})"
    print(f"minirl {command}: error: {text}", file=sys.stderr)
    return code
