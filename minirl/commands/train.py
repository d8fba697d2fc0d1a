"""`minirl train`: train an agent (REINFORCE, PPO, SAC, SHAC, SVG) on a Gymnasium environment.

    minirl train --algo ppo --env CartPole-v1 --seed 0 --out runs/ppo_cartpole_s0
    minirl train --algo ppo --env CartPole-v1 --seed 1 --lr 1e-3 --set clip_coef=0.1 --out runs/x
    minirl train --algo shac --env minirl/Pendulum-v1 --seed 0 --out runs/shac
    minirl train --resume runs/ppo_cartpole_s0 --total-steps 500000

Every hyperparameter of the algorithm's config can be overridden, either as its own option
(`--clip-coef 0.1`, `--learning-rate 1e-3`, short `--lr`) or with `--set name=value` (repeatable).
An env id with a tuned preset gets it; any other id gets the generic defaults (and a note saying so).
Every `--eval-every` env steps the deterministic policy plays `--eval-episodes` evaluation episodes
(defaults per task: `minirl.algos.presets.EVALUATION`). The run folder gets config.json,
progress.csv, checkpoint.npz and summary.json (see `minirl.runs.driver`); one process at a
time trains in it. Exit code: 0 done, 1 a write the disk refused (one line naming the file; resume it
once there is room), 2 bad arguments (one line, before any work), 3 stopped by a NaN, 130 / 143
stopped by Ctrl-C / SIGTERM (resume it later).
"""

from __future__ import annotations

import argparse
import dataclasses
import os

HELP = "train REINFORCE, PPO, SAC, SHAC or SVG on a Gymnasium environment"
DESCRIPTION = ("Train an agent on a Gymnasium environment. Writes DIR/config.json, DIR/progress.csv "
               "(one row per update, with evaluation returns), DIR/checkpoint.npz and DIR/summary.json; "
               "Ctrl-C or SIGTERM saves a checkpoint and `--resume DIR` continues. Every config field "
               "can be overridden (--set name=value).")

from ..algos.registry import ALGOS
from . import add_env_module_option, allow_env_modules, fail
from ..runs.driver import RunError
from ..runs.folder import RunWriteError

HP_PREFIX = "hp__"
LR_ALIAS = HP_PREFIX + "_lr_alias"          # --lr: learning_rate, or lr for configs that call it so
RUN_OPTIONS = ("total_steps", "stop_return", "seed", "out", "resume", "checkpoint_every", "eval_every",
               "eval_episodes")


def _config_fields() -> dict[str, tuple]:
    """field name -> (type of its default, algos having it); empty if the algorithms are not importable."""
    from ..algos.registry import config_class

    fields: dict[str, tuple] = {}
    for algo in ALGOS:
        try:
            cls = config_class(algo)
        except (ImportError, AttributeError):
            continue
        for f in dataclasses.fields(cls):
            kind = fields.get(f.name, (None, ()))
            fields[f.name] = (kind[0] or f.type, kind[1] + (algo,))
    return fields


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--algo", choices=list(ALGOS),
                        help="the algorithm (required unless --resume): " + "; ".join(
                            f"{name}: {entry.summary}" for name, entry in ALGOS.items()))
    parser.add_argument("--env", dest="env_id", metavar="ENV_ID",
                        help="a Gymnasium id, e.g. CartPole-v1, Pendulum-v1 (required unless --resume)")
    parser.add_argument("--seed", type=int, default=None, help="seed of every random number in the run (default 0)")
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
    parser.add_argument("--eval-every", type=int, default=None, metavar="STEPS",
                        help="env steps between evaluations (0: none; default: the task's, see presets.EVALUATION)")
    parser.add_argument("--eval-episodes", type=int, default=None, metavar="K",
                        help="deterministic evaluation episodes each time (default: the task's)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_env_module_option(parser)
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write progress.csv's scalars as TensorBoard logs in DIR/tensorboard "
                             "(needs the tensorboard extra: tensorboardX)")
    group = parser.add_argument_group(
        "hyperparameters", "any field of the algorithm's config (see minirl/algos/); "
        "values are read with the field's type; tuples as comma lists, e.g. --hidden 64,64")
    try:
        fields = _config_fields()
    except Exception:           # the algorithms failed to import: keep `minirl --help` working
        fields = {}
    group.add_argument("--lr", dest=LR_ALIAS, default=argparse.SUPPRESS, metavar="V",
                       help="learning_rate (or lr, for configs that call it so)")
    for name, (_, algos) in sorted(fields.items()):
        if name in ("num_envs", "lr") or name in RUN_OPTIONS:
            continue
        flags = [f"--{name.replace('_', '-')}"]
        if "_" in name:
            flags.append(f"--{name}")
        try:
            group.add_argument(*flags, dest=HP_PREFIX + name, default=argparse.SUPPRESS, metavar="V",
                               help=f"({', '.join(algos)})")
        except argparse.ArgumentError:      # a field named like a run option: reachable with --set
            continue


def parse_overrides(args, algo: str | None = None) -> dict:
    """Collect hyperparameter overrides from `--name V`, `--lr`, `--num-envs` and `--set name=V`."""
    overrides = {k[len(HP_PREFIX):]: v for k, v in vars(args).items()
                 if k.startswith(HP_PREFIX) and k != LR_ALIAS}
    if LR_ALIAS in vars(args):
        name = "learning_rate"
        if algo is not None:
            from ..algos.registry import config_class
            import dataclasses
            names = {f.name for f in dataclasses.fields(config_class(algo))}
            name = "learning_rate" if "learning_rate" in names or "lr" not in names else "lr"
        overrides[name] = vars(args)[LR_ALIAS]
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
    from ..runs import driver
    from ..runs.spec import resolve_run

    refused = allow_env_modules("train", args)
    if refused is not None:
        return refused
    board = None
    try:
        overrides = parse_overrides(args, args.algo if args.algo in ALGOS else None)
        common = dict(progress=not args.no_progress, checkpoint_every_s=args.checkpoint_every)
        if args.resume:
            given = [flag for flag, value in (("--algo", args.algo), ("--env", args.env_id), ("--out", args.out),
                                              ("--seed", args.seed), ("--eval-every", args.eval_every),
                                              ("--eval-episodes", args.eval_episodes)) if value is not None]
            if overrides or given:
                what = ", ".join(given + (["hyperparameters"] if overrides else []))
                raise driver.RunError(f"--resume continues a run with its saved settings, so {what} would be "
                                         "ignored: drop them (it accepts only --total-steps, --stop-return, "
                                         "--checkpoint-every), or start a new run with --out")
            board = _tensorboard(args, args.resume, common)
            code = driver.resume_run(args.resume, total_steps=args.total_steps,
                                     stop_return=args.stop_return, **common)
            return _said(code, args.resume)
        missing = [flag for flag, value in (("--algo", args.algo), ("--env", args.env_id),
                                            ("--out", args.out)) if not value]
        if missing:
            raise driver.RunError(f"missing {', '.join(missing)} (or give --resume DIR)")
        spec = resolve_run(args.algo, args.env_id, 0 if args.seed is None else args.seed, overrides=overrides,
                           total_steps=args.total_steps, eval_every=args.eval_every,
                           eval_episodes=args.eval_episodes, stop_return=args.stop_return)
        board = _tensorboard(args, args.out, common)
        return _said(driver.start_run(args.out, spec, **common), args.out)
    except RunWriteError as exc:                          # the disk refused a write: not the user's input
        return fail("train", exc, code=1)
    except driver.RUN_ERRORS as exc:
        return fail("train", exc, _env_hint(args, exc))
    except ImportError as exc:                                # --tensorboard without tensorboardX
        return fail("train", exc)
    except Exception as exc:
        if type(exc).__module__.startswith("gymnasium"):      # e.g. an unknown env id
            return fail("train", f"{type(exc).__name__}: {exc}", _env_hint(args, exc, always=True))
        raise
    finally:
        if board is not None:
            board.close()


def _tensorboard(args, folder, common: dict):
    """With --tensorboard: a writer in FOLDER/tensorboard fed each progress row (through the driver's callback)."""
    if not args.tensorboard:
        return None
    from ..logger import TensorBoardWriter
    board = TensorBoardWriter(os.path.join(folder, "tensorboard"))
    common["callback"] = lambda _agent, row: board.write(row)
    return board


def _said(code: int, folder) -> int:
    """Print the run's one-line summary (steps, final returns, time, where its files are); return `code`."""
    from ..runs.folder import RunFiles, read_json_or_none
    summary = read_json_or_none(RunFiles(os.fspath(folder)).summary) if folder else None
    if isinstance(summary, dict):
        def ret(value):
            return "n/a" if value is None else f"{value:.1f}"
        evaluation = summary.get("final_eval_return_mean")
        spread = summary.get("final_eval_return_std")
        print(f"{summary.get('algo')} on {summary.get('env_id')}, seed {summary.get('seed')}: "
              f"{summary.get('final_step', 0):,} env steps in {summary.get('total_time_s') or 0:.1f} s; final "
              f"training return {ret(summary.get('final_return_mean'))}, evaluation {ret(evaluation)}"
              + (f" ± {spread:.1f}" if evaluation is not None and spread is not None else "")
              + f" ({summary.get('stop_reason')}); files in {folder}")
    return code


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
