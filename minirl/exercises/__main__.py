"""`python -m minirl.exercises ...` is the same command as `minirl exercises ...`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
