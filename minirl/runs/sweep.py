"""A sweep: seeds x a grid over `minirl train` settings, expanded into trials (one run folder each).

The same sweep, two ways to write it:

    minirl sweep --algo ppo --env CartPole-v1 --seeds 0-9 \\
        --grid learning_rate=1e-3,3e-4 clip_coef=0.1,0.2 --out runs/sweep

    {"algo": "ppo", "env": "CartPole-v1", "seeds": "0-9",            # sweep.json (or .toml, same keys)
     "grid": {"learning_rate": [1e-3, 3e-4], "clip_coef": [0.1, 0.2]}}

| key (file) | flag | meaning |
|---|---|---|
| `algo`, `env` | `--algo`, `--env` | what to train (may also be grid keys) |
| `seeds` | `--seeds` | "0-9", "0,3,7", "0-4,10" or a list of integers |
| `grid` | `--grid NAME=V1,V2 ...` | every combination runs; NAME is a config field (`minirl train --help`) or one of `algo`, `env`, `total_steps`, `eval_every`, `eval_episodes`, `stop_return` |
| `set` | `--set NAME=VALUE` | a config field fixed for every trial |
| `total_steps`, `eval_every`, `eval_episodes`, `stop_return` | same flags | fixed run settings (default: the preset's) |
| `threshold` | `--threshold` | the evaluation return the report counts steps to (default: the env's) |

In a flag, grid values are split at commas outside brackets: `hidden_sizes=[64,64],[32,32]`.
Values are read with the field's type, so `1e-3` and `0.001` are the same value and the flag form
and the file form give the same trials.

Trials: for each seed, for each combination (seed-major, so a half-done sweep has every setting),
a `Trial` in the folder `<algo>-<env>/<name=value,...>/s<seed>` (grid names sorted, `algo` and
`env` only in the first part; `/` in an env id becomes `_`; no second part without a grid), e.g.
`ppo-CartPole-v1/clip_coef=0.1,learning_rate=0.001/s3`. The folder of a setting is the trial
folder without its last part. The expanded plan is written to OUT/sweep.json; a rerun into the same
OUT must expand to the same trials (then it continues the sweep), and OUT/sweep.json is itself a
valid sweep file (`minirl sweep --file OUT/sweep.json --out OUT`).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field

from .trials import Trial, trial_record

__all__ = ["SweepError", "Sweep", "RUN_SETTINGS", "parse_seeds", "split_values", "parse_grid_items",
           "sweep_from_flags", "sweep_from_file", "expand", "setting_of", "plan_record", "check_plan",
           "write_plan", "read_plan", "check_threshold", "check_path_lengths", "PLAN_NAME", "MAX_TRIALS"]

PLAN_NAME = "sweep.json"
MAX_TRIALS = 10_000                 # seeds x settings; more is refused before anything is built
NAME_MAX = 255                      # bytes in one folder name (ext4, XFS, APFS, NTFS: 255)
# run settings a sweep can fix or vary besides config fields: name -> (type, minimum)
RUN_SETTINGS = {"algo": (str, None), "env": (str, None), "total_steps": (int, 1), "eval_every": (int, 0),
                "eval_episodes": (int, 1), "stop_return": (float, None)}
FILE_KEYS = ("algo", "env", "seeds", "grid", "set", "total_steps", "eval_every", "eval_episodes",
             "stop_return", "threshold")
PLAN_KEYS = ("minirl_sweep", "trials")          # written into sweep.json besides FILE_KEYS


class SweepError(ValueError):
    """A sweep that cannot run as written; the message is one line naming the value and what is accepted."""


@dataclass
class Sweep:
    seeds: list[int]
    base: dict = field(default_factory=dict)      # RUN_SETTINGS given once (None: the preset's)
    fixed: dict = field(default_factory=dict)     # config field -> value (or text), every trial
    grid: dict = field(default_factory=dict)      # name -> list of values (or texts), in the given order
    threshold: float | None = None

    def to_file(self) -> dict:
        """The sweep-file form (JSON-ready; unset keys left out)."""
        out = {k: self.base[k] for k in RUN_SETTINGS if self.base.get(k) is not None}
        out["seeds"] = list(self.seeds)
        if self.grid:
            out["grid"] = {k: list(v) for k, v in self.grid.items()}
        if self.fixed:
            out["set"] = dict(self.fixed)
        if self.threshold is not None:
            out["threshold"] = self.threshold
        return {k: out[k] for k in FILE_KEYS if k in out}


# ------------------------------------------------------------------------------------------------
# Reading the two forms
# ------------------------------------------------------------------------------------------------

def parse_seeds(text) -> list[int]:
    """"0-9" -> [0..9]; "0,3,7"; "0-4,10"; a list of integers passes (checked). Seeds are >= 0, no repeats.

    Linear in the number of seeds, and counted before any list is built: more than MAX_TRIALS seeds
    (a sweep has at least one trial per seed) is refused in one line saying how many that would be.
    """
    if isinstance(text, (list, tuple)):
        items = list(text)
        if not all(isinstance(s, int) and not isinstance(s, bool) for s in items):
            raise SweepError(f"seeds must be integers >= 0, got {items!r}")
        ranges = [(s, s) for s in items]
    else:
        ranges = []
        for part in str(text).split(","):
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not m or (m.group(2) is not None and int(m.group(2)) < int(m.group(1))):
                raise SweepError(f"cannot read seeds {text!r}: give a range like 0-9, a list like 0,3,7, or both (0-4,10)")
            ranges.append((int(m.group(1)), int(m.group(2) if m.group(2) is not None else m.group(1))))
    count = sum(last - first + 1 for first, last in ranges)
    if count > MAX_TRIALS:
        raise SweepError(f"seeds {text!r} are {count:,} seeds, so at least {count:,} trials; a sweep runs at most "
                         f"{MAX_TRIALS:,}: give fewer seeds (e.g. 0-9), or split the sweep")
    seeds = [s for first, last in ranges for s in range(first, last + 1)]
    if not seeds or min(seeds) < 0:
        raise SweepError(f"seeds must be integers >= 0, got {text!r}")
    seen: set[int] = set()
    repeated = sorted({s for s in seeds if s in seen or seen.add(s)})
    if repeated:
        shown = repeated[:10] + (["..."] if len(repeated) > 10 else [])
        raise SweepError(f"seed(s) {shown} given more than once in {text!r}: give each seed once")
    return seeds


def split_values(text: str) -> list[str]:
    """Split "a,b,[1,2]" at commas outside brackets: ["a", "b", "[1,2]"]."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts]


def _name(raw: str, where: str) -> str:
    name = raw.strip().replace("-", "_")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SweepError(f"{where}: {raw!r} is not a setting name (a config field such as learning_rate, or one "
                         f"of {list(RUN_SETTINGS)})")
    if name == "seed":
        raise SweepError(f"{where}: seeds are set with --seeds (file: \"seeds\"), not as a grid or --set value")
    return name


def parse_grid_items(items, what: str = "--grid") -> dict[str, list[str]]:
    """["learning_rate=1e-3,3e-4", ...] -> {"learning_rate": ["1e-3", "3e-4"], ...} (order kept)."""
    grid: dict[str, list[str]] = {}
    for item in items or []:
        if "=" not in item:
            raise SweepError(f"{what} expects NAME=V1,V2,..., got {item!r}")
        raw, text = item.split("=", 1)
        name = _name(raw, what)
        if name in grid:
            raise SweepError(f"{what}: {name} given twice")
        values = split_values(text) if what == "--grid" else [text.strip()]
        if any(v == "" for v in values):
            raise SweepError(f"{what} {item!r}: an empty value; give values separated by commas")
        grid[name] = values
    return grid


def _check_layout(base: dict, fixed: dict, grid: dict) -> None:
    """A name either fixed or swept, never both; algo and env given somewhere; run settings not in --set."""
    both = sorted((set(base) & set(grid)) | (set(fixed) & set(grid)))
    if both:
        raise SweepError(f"{', '.join(both)} both fixed and in the grid: give each setting once")
    run_in_set = sorted(set(fixed) & set(RUN_SETTINGS))
    if run_in_set:
        raise SweepError(f"{', '.join(run_in_set)} cannot be set with --set (file: \"set\"): use its own "
                         f"option (file: its own key), or put it in the grid")
    for key in ("algo", "env"):
        if base.get(key) is None and key not in grid:
            raise SweepError(f"no {key}: give --{key} (file: \"{key}\") or put {key} in the grid")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise SweepError(f"grid {name}: give a non-empty list of values, got {values!r}")


def _check_size(sweep: "Sweep") -> None:
    """seeds x combinations <= MAX_TRIALS, counted without building them (one line saying how many)."""
    combos = math.prod(len(v) for v in sweep.grid.values())
    trials = len(sweep.seeds) * combos
    if trials > MAX_TRIALS:
        raise SweepError(f"{len(sweep.seeds):,} seed(s) x {combos:,} setting(s) = {trials:,} trials; a sweep runs at "
                         f"most {MAX_TRIALS:,}: give fewer seeds or grid values, or split the sweep")


def sweep_from_flags(*, algo=None, env=None, seeds="0", grid=(), sets=(), total_steps=None, eval_every=None,
                     eval_episodes=None, stop_return=None, threshold=None) -> Sweep:
    """The flag form (texts as typed on the command line)."""
    base = {"algo": algo, "env": env, "total_steps": total_steps, "eval_every": eval_every,
            "eval_episodes": eval_episodes, "stop_return": stop_return}
    base = {k: v for k, v in base.items() if v is not None}
    fixed = {k: v[0] for k, v in parse_grid_items(sets, "--set").items()}
    sweep = Sweep(parse_seeds(seeds), base, fixed, parse_grid_items(grid), check_threshold(threshold))
    _check_layout(sweep.base, sweep.fixed, sweep.grid)
    _check_size(sweep)
    return sweep


def check_threshold(value):
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise SweepError(f"threshold must be a finite number, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SweepError(f"threshold must be a finite number, got {value!r}")
    return float(value)


def sweep_from_file(path: str) -> Sweep:
    """The file form: JSON (.json) or TOML (.toml, Python >= 3.11) with the keys of the module table."""
    path = os.fspath(path)
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".json", ".toml"):
        raise SweepError(f"sweep file {path}: name it .json or .toml (got {suffix or 'no suffix'})")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise SweepError(f"cannot read sweep file {path}: {exc.strerror or exc}") from None
    try:
        if suffix == ".json":
            data = json.loads(raw.decode())
        else:
            if sys.version_info >= (3, 11):
                import tomllib
            else:                                       # the same parser, a dependency on Python 3.10
                import tomli as tomllib
            data = tomllib.loads(raw.decode())
    except SweepError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:     # JSONDecodeError, TOMLDecodeError
        raise SweepError(f"sweep file {path} is not valid {suffix[1:].upper()}: {exc}") from None
    if not isinstance(data, dict):
        raise SweepError(f"sweep file {path} holds a {type(data).__name__}, not an object of keys {list(FILE_KEYS)}")
    unknown = sorted(set(data) - set(FILE_KEYS) - set(PLAN_KEYS))
    if unknown:
        raise SweepError(f"sweep file {path}: unknown key(s) {unknown}; accepted: {list(FILE_KEYS)}")
    grid, fixed = data.get("grid", {}), data.get("set", {})
    for key, value in (("grid", grid), ("set", fixed)):
        if not isinstance(value, dict):
            raise SweepError(f"sweep file {path}: \"{key}\" must be an object (name -> value{'s' * (key == 'grid')})")
    grid = {_name(k, f"{path} grid"): list(v) if isinstance(v, (list, tuple)) else v for k, v in grid.items()}
    fixed = {_name(k, f"{path} set"): v for k, v in fixed.items()}
    base = {k: data[k] for k in RUN_SETTINGS if data.get(k) is not None}
    sweep = Sweep(parse_seeds(data.get("seeds", "0")), base, fixed, grid, check_threshold(data.get("threshold")))
    _check_layout(sweep.base, sweep.fixed, sweep.grid)
    _check_size(sweep)
    return sweep


# ------------------------------------------------------------------------------------------------
# Expansion
# ------------------------------------------------------------------------------------------------

def _run_value(name: str, value):
    """A run setting read with its type (ints accept "1e5"); bad values raise SweepError."""
    kind, minimum = RUN_SETTINGS[name]
    if kind is str:
        if not isinstance(value, str) or not value.strip():
            raise SweepError(f"{name} must be a non-empty string, got {value!r}")
        return value.strip()
    try:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not math.isfinite(number):
            raise ValueError
        if kind is int:
            if not float(number).is_integer():
                raise ValueError
            number = int(number)
    except (ValueError, TypeError):
        raise SweepError(f"{name} must be {'an integer' if kind is int else 'a finite number'}, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise SweepError(f"{name} must be >= {minimum}, got {value!r}")
    return float(number) if kind is float else number


def _check_pair(algo: str, env: str) -> None:
    """`minirl.runs.spec.check_pair` (the algorithm can train on the env), as a SweepError."""
    from ..algos.registry import ConfigError
    from .spec import check_pair
    try:
        check_pair(algo, env)
    except ConfigError as exc:
        raise SweepError(str(exc)) from None


def _fmt(value) -> str:
    """A value as it appears in a folder name: 0.001, 64x64, true, none; unsafe characters become _."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, float):
        text = repr(value)
    elif isinstance(value, (list, tuple)):
        text = "x".join(_fmt(v) for v in value)
    elif value is None:
        text = "none"
    else:
        text = str(value)
    return re.sub(r"[^A-Za-z0-9._+-]", "_", text)


def _check_name_lengths(folder: str) -> None:
    """Each folder name of a setting fits a file system's name limit (NAME_MAX bytes), or SweepError."""
    for part in folder.split("/"):
        size = len(part.encode())
        if size > NAME_MAX:
            raise SweepError(f"the grid values make a folder name of {size} bytes ({part[:48]}...); folder names "
                             f"can have at most {NAME_MAX}: give shorter values (e.g. fewer list items) or fewer "
                             "grid keys per sweep")


def check_path_lengths(out: str, trials: list[Trial], limit: int = 4000) -> None:
    """Every file of every trial below OUT has a path shorter than `limit` characters (Linux allows 4096;
    a checkpoint's temporary file adds 30), or SweepError naming the longest."""
    longest = max(trials, key=lambda t: len(t.name), default=None)
    if longest is None:
        return
    path = os.path.join(os.path.abspath(out), longest.name, ".checkpoint-XXXXXXXX.npz.tmp")
    if len(path) >= limit:
        raise SweepError(f"the trial folder {longest.name[:48]}... under {out} makes paths of {len(path)} characters; "
                         f"at most {limit} work everywhere: choose a shorter --out or shorter grid values")


def setting_of(trial_name: str) -> str:
    """The setting of a trial: its folder without the seed part."""
    return trial_name.rsplit("/", 1)[0]


def expand(sweep: Sweep) -> list[Trial]:
    """Every (seed, combination) as a Trial (module doc), values read with their types; bad names,
    values or algo/env pairs raise SweepError (one line) before anything runs."""
    from .spec import resolve_run

    names = list(sweep.grid)
    combos = [dict(zip(names, values)) for values in itertools.product(*(sweep.grid[n] for n in names))]
    settings = []                                          # (folder, algo, env, run settings, overrides)
    checked: set = set()
    for combo in combos:
        run = {k: _run_value(k, v) for k, v in {**sweep.base, **{k: v for k, v in combo.items()
                                                                 if k in RUN_SETTINGS}}.items()}
        algo, env = run["algo"], run["env"]
        if (algo, env) not in checked:
            _check_pair(algo, env)
            checked.add((algo, env))
        overrides = {**sweep.fixed, **{k: v for k, v in combo.items() if k not in RUN_SETTINGS}}
        try:
            spec = resolve_run(algo, env, 0, overrides=overrides, check_env=False, **{
                k: run.get(k) for k in ("total_steps", "eval_every", "eval_episodes", "stop_return")})
        except ValueError as exc:                          # ConfigError, RunError: one line
            raise SweepError(str(exc)) from None
        resolved = spec.config.to_dict()
        overrides = {k: resolved[k] for k in overrides}    # the value the trial will use, typed
        shown = {**{k: v for k, v in run.items() if k not in ("algo", "env")}, **overrides}
        label = ",".join(f"{k}={_fmt(shown[k])}" for k in sorted(names) if k not in ("algo", "env"))
        folder = f"{_fmt(algo)}-{_fmt(env)}" + (f"/{label}" if label else "")
        _check_name_lengths(folder)
        settings.append((folder, algo, env, run, overrides))
    folders = [s[0] for s in settings]
    twice = sorted({f for f in folders if folders.count(f) > 1})
    if twice:
        raise SweepError(f"the grid gives the setting {twice[0]} more than once (values equal once read with "
                         f"their types, e.g. 1e-3 and 0.001): give each value once")
    trials = []
    for seed in sweep.seeds:
        for folder, algo, env, run, overrides in settings:
            trials.append(Trial(f"{folder}/s{seed}", algo, env, seed, total_steps=run.get("total_steps"),
                                overrides=dict(overrides), eval_every=run.get("eval_every"),
                                eval_episodes=run.get("eval_episodes"), stop_return=run.get("stop_return")))
    return trials


# ------------------------------------------------------------------------------------------------
# The plan in OUT/sweep.json
# ------------------------------------------------------------------------------------------------

def plan_record(sweep: Sweep, trials: list[Trial]) -> dict:
    """What OUT/sweep.json holds: the sweep (file form) and its expanded trials."""
    return {"minirl_sweep": 1, **sweep.to_file(), "trials": [trial_record(t) for t in trials]}


def read_plan(out: str) -> dict | None:
    """OUT/sweep.json, or None if there is none; SweepError if it is unreadable."""
    path = os.path.join(out, PLAN_NAME)
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            plan = json.load(f)
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path} cannot be read ({exc}): restore it, or choose another --out") from None
    if not isinstance(plan, dict) or not isinstance(plan.get("trials"), list):
        raise SweepError(f"{path} is not a minirl sweep plan (no trial list): restore it, or choose another --out")
    return plan


def check_plan(out: str, record: dict) -> bool:
    """Whether OUT already holds this sweep (True) or nothing (False); SweepError for another sweep."""
    from .folder import LOCK_FILES
    plan = read_plan(out)
    if plan is None:
        mine = [n for n in (os.listdir(out) if os.path.isdir(out) else []) if n not in LOCK_FILES]
        if mine:
            shown = ", ".join(sorted(mine)[:3])
            raise SweepError(f"{out} is not empty ({shown}) and holds no {PLAN_NAME}: choose a new or empty --out")
        return False
    old = {t.get("name"): t for t in plan["trials"] if isinstance(t, dict)}
    new = {t["name"]: json.loads(json.dumps(t)) for t in record["trials"]}
    if old != new:
        differ = sorted(set(old) ^ set(new)) or sorted(n for n in new if old.get(n) != new[n])
        raise SweepError(f"{out} holds another sweep ({len(differ)} trial(s) differ, e.g. {differ[0]}): continue it "
                         f"with `minirl sweep --file {os.path.join(out, PLAN_NAME)} --out {out}`, or choose another --out")
    return True


def write_plan(out: str, record: dict) -> str:
    from .folder import write_json
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, PLAN_NAME)
    write_json(path, record)
    return path
