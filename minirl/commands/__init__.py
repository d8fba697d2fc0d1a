"""Sub-commands of the `minirl` command line; each module offers `add_arguments(parser)` and `run(args)`."""
