"""Checkpoints: an agent's `state_dict()` plus metadata in one `.npz` file, saved atomically.

Layout of `checkpoint.npz` (a NumPy zip archive, loaded without pickle):

| entry | what |
|---|---|
| `__minirl_meta__` | a 0-d string array holding JSON: format version, algo, env_id, step, config, extra |
| every other name | one array of the agent's `state_dict()` (parameters, optimiser moments, observation-normaliser statistics, random-generator state, counters) |

Saving writes to a temporary file in the same folder, flushes it to disk, then renames it over the
old checkpoint with `os.replace`. A rename within a folder is atomic, so whatever moment a run is
killed, `checkpoint.npz` is either the previous complete checkpoint or the new complete one, never
a half-written file.

Loading refuses, with the reason, a file that is missing, not a valid archive (truncated or
corrupted: the zip CRC of every entry is checked by reading all of them), written by another format
version, for another algorithm or environment, or whose arrays do not match the names and shapes
the agent expects.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

__all__ = ["FORMAT_VERSION", "META_KEY", "CheckpointError", "Checkpoint", "save_checkpoint",
           "load_checkpoint", "check_compatible"]

FORMAT_VERSION = 1
META_KEY = "__minirl_meta__"


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why."""


@dataclass
class Checkpoint:
    """What `load_checkpoint` returns: the arrays and the metadata."""

    state: dict[str, np.ndarray]
    algo: str
    env_id: str
    step: int
    config: dict
    extra: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


def to_jsonable(x):
    """numpy scalars/arrays and tuples -> plain Python, non-finite floats -> None (valid JSON)."""
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return to_jsonable(x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def save_checkpoint(path: str, state: Mapping[str, np.ndarray], *, algo: str, env_id: str, step: int,
                    config: Mapping | None = None, extra: Mapping | None = None) -> str:
    """Write `state` and metadata to `path` atomically; return the path.

    Args:
        state: name -> array (numeric arrays only; object arrays would need pickle and are refused).
        algo, env_id: what the state belongs to (checked again on load).
        step: environment steps taken so far.
        config: the hyperparameters (JSON-serialisable dict).
        extra: anything else JSON-serialisable the caller wants back (e.g. run bookkeeping).
    """
    arrays = {}
    for name, value in state.items():
        if name == META_KEY:
            raise ValueError(f"save_checkpoint: {META_KEY!r} is reserved for the metadata")
        arr = np.asarray(value)
        if arr.dtype == object:
            raise ValueError(f"save_checkpoint: entry {name!r} is an object array; only numeric and "
                             "string arrays can be saved without pickle")
        arrays[name] = arr
    meta = {"format_version": FORMAT_VERSION, "algo": str(algo), "env_id": str(env_id),
            "step": int(step), "config": to_jsonable(dict(config or {})),
            "extra": to_jsonable(dict(extra or {}))}
    arrays[META_KEY] = np.array(json.dumps(meta))
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", suffix=".npz.tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_checkpoint(path: str, *, algo: str | None = None, env_id: str | None = None,
                    expected: Mapping[str, np.ndarray] | None = None,
                    any_shape: Iterable[str] = ()) -> Checkpoint:
    """Read a checkpoint, refusing it (CheckpointError) if it is unusable.

    Args:
        algo, env_id: if given, the checkpoint must have been written for these.
        expected: a reference state dict (e.g. a freshly built agent's `state_dict()`); the
            checkpoint must have exactly its names, with the same shapes.
        any_shape: names whose shape may differ from `expected` (e.g. a list of recent returns
            that grows from 0 to 100 entries).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            if META_KEY not in names:
                raise CheckpointError(f"{path} is not a minirl checkpoint (no {META_KEY} entry)")
            # Reading every entry checks its CRC, so a corrupted byte anywhere is caught here.
            state = {name: np.array(data[name]) for name in names if name != META_KEY}
            meta_text = str(data[META_KEY])
    except CheckpointError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError) as exc:
        raise CheckpointError(f"{path} is corrupt or not a checkpoint: {type(exc).__name__}: {exc}") from exc
    try:
        meta = json.loads(meta_text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: the metadata is not valid JSON ({exc})") from exc
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format version {version!r}; this minirl reads "
                              f"version {FORMAT_VERSION}")
    ckpt = Checkpoint(state=state, algo=meta.get("algo", ""), env_id=meta.get("env_id", ""),
                      step=int(meta.get("step", 0)), config=meta.get("config", {}),
                      extra=meta.get("extra", {}), format_version=version)
    check_compatible(ckpt, algo=algo, env_id=env_id, expected=expected, any_shape=any_shape, path=path)
    return ckpt


def check_compatible(ckpt: Checkpoint, *, algo: str | None = None, env_id: str | None = None,
                     expected: Mapping[str, np.ndarray] | None = None, any_shape: Iterable[str] = (),
                     path: str = "checkpoint") -> None:
    """Raise CheckpointError naming the first mismatch between `ckpt` and what the caller needs."""
    if algo is not None and ckpt.algo != algo:
        raise CheckpointError(f"{path} was written by algo {ckpt.algo!r}, not {algo!r}")
    if env_id is not None and ckpt.env_id != env_id:
        raise CheckpointError(f"{path} was written for env {ckpt.env_id!r}, not {env_id!r}")
    if expected is None:
        return
    missing = sorted(set(expected) - set(ckpt.state))
    unexpected = sorted(set(ckpt.state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{path} does not match the agent: missing entries {missing}, "
                              f"unexpected entries {unexpected}")
    any_shape = set(any_shape)
    for name, ref in expected.items():
        if name in any_shape:
            continue
        got = ckpt.state[name].shape
        want = np.shape(ref)
        if got != want:
            raise CheckpointError(f"{path}: entry {name!r} has shape {got}, the agent expects {want} "
                                  "(a different network size or environment?)")
