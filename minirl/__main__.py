"""`python -m minirl ...` is the same command as `minirl ...`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
