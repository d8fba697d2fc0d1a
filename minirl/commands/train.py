"""`minirl train`: train REINFORCE or PPO on a Gymnasium environment, from the command line.

    minirl train --algo ppo --env CartPole-v1 --seed 0 --out runs/ppo_cartpole_s0
    minirl train --algo ppo --env CartPole-v1 --seed 1 --lr 1e-3 --set clip_coef=0.1 --out runs/x
    minirl train --resume runs/ppo_cartpole_s0 --total-steps 500000

Every hyperparameter of the algorithm's config can be overridden, either as its own option
(`--clip-coef 0.1`, `--learning-rate 1e-3`, short `--lr`) or with `--set name=value` (repeatable).
An env id with a tuned preset gets it; any other id gets the generic defaults (and a note saying so).
The run folder gets config.json, progress.csv, checkpoint.npz and summary.json (see
`minirl.experiments.train_run`). Exit code: 0 done, 130 interrupted (Ctrl-C; resume it later),
3 stopped by a NaN loss, 2 bad arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

HELP = "train REINFORCE or PPO on a Gymnasium environment"
DESCRIPTION = ("Train REINFORCE or PPO on a Gymnasium environment. Writes DIR/config.json, DIR/progress.csv "
               "(one row per update), DIR/checkpoint.npz and DIR/summary.json; Ctrl-C saves a checkpoint "
               "and `--resume DIR` continues. Every config field can be overridden (--set name=value).")

from ..experiments.train_run import RunError

HP_PREFIX = "hp__"
ALIASES = {"learning_rate": ["--lr"]}    # short spellings of common fields


def _config_fields() -> dict[str, tuple]:
    """field name -> (type of its default, algos having it); empty if the algorithms are not importable."""
    from ..experiments import train_run

    fields: dict[str, tuple] = {}
    for algo in sorted(train_run.ALGOS):
        try:
            cls = train_run.config_class(algo)
        except (ImportError, AttributeError):
            continue
        for f in dataclasses.fields(cls):
            kind = fields.get(f.name, (None, ()))
            fields[f.name] = (kind[0] or f.type, kind[1] + (algo,))
    return fields


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algo", choices=["reinforce", "ppo"], help="the algorithm (required unless --resume)")
    parser.add_argument("--env", dest="env_id", metavar="ENV_ID",
                        help="a Gymnasium id, e.g. CartPole-v1, Pendulum-v1 (required unless --resume)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random number in the run")
    parser.add_argument("--total-steps", type=int, default=None,
                        help="environment-step budget (default: the preset's)")
    parser.add_argument("--stop-return", type=float, default=None,
                        help="stop once the mean return of the last 100 episodes reaches this")
    parser.add_argument("--num-envs", type=int, default=None, help="parallel environments (a config field)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="override any hyperparameter, e.g. --set clip_coef=0.1 (repeatable)")
    parser.add_argument("--resume", metavar="DIR", default=None,
                        help="continue the interrupted or finished run in DIR (appends to its progress.csv)")
    parser.add_argument("--out", default=None, metavar="DIR", help="run folder to create")
    parser.add_argument("--checkpoint-every", type=float, default=60.0, metavar="SECONDS",
                        help="seconds between periodic checkpoints (0: after every update)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    group = parser.add_argument_group(
        "hyperparameters", "any field of the algorithm's config (see minirl/algos/); "
        "values are read with the field's type; tuples as comma lists, e.g. --hidden 64,64")
    try:
        fields = _config_fields()
    except Exception:           # the algorithms failed to import: keep `minirl --help` working
        fields = {}
    for name, (_, algos) in sorted(fields.items()):
        if name == "num_envs":
            continue
        flags = [f"--{name.replace('_', '-')}"]
        if "_" in name:
            flags.append(f"--{name}")
        flags += ALIASES.get(name, [])
        try:
            group.add_argument(*flags, dest=HP_PREFIX + name, default=argparse.SUPPRESS, metavar="V",
                               help=f"({', '.join(algos)})")
        except argparse.ArgumentError:      # a field named like a run option: reachable with --set
            continue


def parse_overrides(args) -> dict:
    """Collect hyperparameter overrides from `--name V`, `--num-envs` and `--set name=V`."""
    overrides = {k[len(HP_PREFIX):]: v for k, v in vars(args).items() if k.startswith(HP_PREFIX)}
    if getattr(args, "num_envs", None) is not None:
        overrides["num_envs"] = str(args.num_envs)
    for item in args.overrides or []:
        if "=" not in item:
            raise RunError(f"--set expects NAME=VALUE, got {item!r}")
        name, value = item.split("=", 1)
        name = name.strip().replace("-", "_")
        if not name:
            raise RunError(f"--set expects NAME=VALUE, got {item!r}")
        overrides[name] = value
    return overrides


def run(args) -> int:
    from ..checkpoint import CheckpointError
    from ..experiments import train_run

    try:
        overrides = parse_overrides(args)
        common = dict(progress=not args.no_progress, checkpoint_every_s=args.checkpoint_every)
        if args.resume:
            if overrides or args.algo or args.env_id:
                raise train_run.RunError("--resume continues a run with its saved config; it accepts only "
                                         "--total-steps, --stop-return and --checkpoint-every")
            return train_run.resume_run(args.resume, total_steps=args.total_steps,
                                        stop_return=args.stop_return, **common)
        missing = [flag for flag, value in (("--algo", args.algo), ("--env", args.env_id),
                                            ("--out", args.out)) if not value]
        if missing:
            raise train_run.RunError(f"missing {', '.join(missing)} (or give --resume DIR)")
        return train_run.start_run(args.out, args.algo, args.env_id, args.seed,
                                   total_steps=args.total_steps, stop_return=args.stop_return,
                                   overrides=overrides, **common)
    except (train_run.RunError, CheckpointError) as exc:
        print(f"minirl train: error: {exc}", file=sys.stderr)
        hint = _env_hint(args, exc)
        if hint:
            print(hint, file=sys.stderr)
        return 2
    except Exception as exc:
        if type(exc).__module__.startswith("gymnasium"):      # e.g. an unknown env id
            print(f"minirl train: error: {type(exc).__name__}: {exc}", file=sys.stderr)
            hint = _env_hint(args, exc, always=True)
            if hint:
                print(hint, file=sys.stderr)
            return 2
        raise


def _env_hint(args, exc, always: bool = False) -> str | None:
    """For an env id the registry does not know, list the ids with presets (unless already said)."""
    if not getattr(args, "env_id", None) or "presets" in str(exc):
        return None
    if not always:
        import gymnasium as gym
        try:
            gym.spec(args.env_id)
            return None
        except Exception:
            pass
    try:
        from ..algos.presets import PRESET_ENV_IDS
    except ImportError:
        return None
    return f"environments with presets: {', '.join(PRESET_ENV_IDS)}"
