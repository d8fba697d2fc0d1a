"""Comparisons from one state: what a language-style reward model of driving would be trained on.

A language reward model learns from two responses to the *same prompt*. The driving analogue is two
action sequences from the *same state*, judged by what each led to. Recorded driving never shows
that (each state is followed by one action sequence only), so these comparisons come from the
simulator: from S real start states, K random H-step action sequences each, rolled out in exact
copies of the env (`candidates.candidate_task`, the same code as `minirl driving`'s evaluation
pools, on other start seeds). The shipped copy has S = 300 starts of K = 16 sequences of 5 steps.

| field   | shape      | dtype   | meaning                                            |
|---------|------------|---------|----------------------------------------------------|
| obs     | (S, 25)    | float32 | the observation at the start state                 |
| seqs    | (S, K, H)  | int8    | the candidate action sequences                     |
| paid    | (S, K)     | float64 | what each sequence paid in the real env            |
| crashed | (S, K)     | bool    | did it crash                                       |
| steps   | (S, K)     | int8    | steps before the episode ended (H if it did not)   |
| seed    | (S,)       | int64   | the start's reset seed                             |

Collecting the shipped copy takes about 7 minutes of CPU time (`REGENERATE`; 2 processes).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np

from .data import save_npz

__all__ = ["SHIPPED", "REGENERATE", "FIELDS", "load", "load_shipped", "collect", "sample_pairs"]

SHIPPED = Path(__file__).resolve().parent / "highway_fast_v0_comparisons.npz"
REGENERATE = ("minirl driving collect-comparisons --out minirl/experiments/driving/highway_fast_v0_comparisons.npz "
              "--starts 300 --candidates 16 --seed 40000")
FIELDS = {"obs": np.float32, "seqs": np.int8, "paid": np.float64, "crashed": bool, "steps": np.int8, "seed": np.int64}


def collect(starts: int, candidates: int, seed: int, *, horizon: int = 5, warmup: int = 3, workers: int = 1,
            progress=None) -> dict:
    """Roll `candidates` random `horizon`-step sequences from each of `starts` start states (the k-th
    start and its sequences seeded by [seed, k]); returns the arrays of the table above and "meta"."""
    from .candidates import candidate_task
    from .pool import TaskPool

    for name, value in (("starts", starts), ("candidates", candidates)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"collect-comparisons: {name} must be a positive integer, got {value!r}")
    with TaskPool(workers) as pool:
        jobs = [pool.submit(candidate_task, k, n_candidates=candidates, horizon=horizon, warmup=warmup,
                            base_seed=seed) for k in range(starts)]
        outs = []
        for job in jobs:
            outs.append(job.get())
            if progress is not None:
                progress(len(outs))
    arrays = {name: np.stack([np.asarray(o[name]) for o in outs]).astype(dtype) for name, dtype in FIELDS.items()}
    import gymnasium
    import highway_env

    meta = {"env_id": "highway-fast-v0", "base_seed": int(seed), "starts": int(starts), "candidates": int(candidates),
            "horizon": int(horizon), "warmup": int(warmup),
            "command": f"minirl driving collect-comparisons --out FILE --starts {starts} --candidates {candidates} "
                       f"--seed {seed}",
            "highway_env_version": getattr(highway_env, "__version__", "unknown"),
            "gymnasium_version": gymnasium.__version__, "numpy_version": np.__version__}
    return {**arrays, "meta": meta}


def save(path, comparisons: dict) -> str:
    return save_npz(path, {k: comparisons[k] for k in FIELDS}, comparisons["meta"])


def load(path) -> dict:
    """Read a comparisons file; one-line errors (never unpickling) for anything else."""
    path = os.fspath(path)
    not_data = f"{path} is not a driving comparisons set (an .npz file written by `minirl driving collect-comparisons`)"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"driving comparisons {path} do not exist: make them with "
                                f"`minirl driving collect-comparisons --out {path}` (needs the [driving] extra)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{not_data}: it is not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in (*FIELDS, "meta") if k not in z.files]
            if missing:
                raise ValueError(f"{not_data}: it lacks the fields {', '.join(missing)}")
            out = {k: z[k].astype(dtype) for k, dtype in FIELDS.items()}
            out["meta"] = json.loads(z["meta"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{not_data}: its meta member is not JSON") from None
    except ValueError as exc:
        if str(exc).startswith(not_data):
            raise
        raise ValueError(f"{not_data}: a member is not a plain numeric array") from None
    S, K = out["paid"].shape if out["paid"].ndim == 2 else (0, 0)
    if out["paid"].ndim != 2 or out["obs"].shape != (S, 25) or out["seqs"].shape[:2] != (S, K) or \
            out["crashed"].shape != (S, K) or out["steps"].shape != (S, K) or out["seed"].shape != (S,):
        raise ValueError(f"{not_data}: its arrays do not have the shapes (S, 25), (S, K, H), (S, K) and (S,)")
    if not np.all(np.isfinite(out["paid"])) or not np.all(np.isfinite(out["obs"])):
        raise ValueError(f"{not_data}: field {'paid' if not np.all(np.isfinite(out['paid'])) else 'obs'} "
                         "holds NaN or inf")
    return out


def load_shipped() -> dict:
    return load(SHIPPED)


def sample_pairs(comparisons: dict, n_pairs: int, rng: np.random.Generator) -> dict:
    """`n_pairs` pairs of sequences from one start each (start uniform, then two sequences uniform),
    as `fit_reward_preferences` takes them (segments of one step: the start's observation and the
    one-hot actions), judged by the noiseless judge on what they paid."""
    from ...algos.model_fitting import scripted_judge

    S, K, H = comparisons["seqs"].shape
    s = rng.integers(0, S, size=n_pairs)
    i, j = rng.integers(0, K, size=n_pairs), rng.integers(0, K, size=n_pairs)
    obs = comparisons["obs"][s].astype(np.float64)[:, None]                            # (N, 1, 25)
    onehot = lambda k: np.eye(5)[comparisons["seqs"][s, k]].reshape(n_pairs, 1, 5 * H)   # noqa: E731
    return {"obs_a": obs, "act_a": onehot(i), "obs_b": obs, "act_b": onehot(j),
            "prefs": scripted_judge(comparisons["paid"][s, i], comparisons["paid"][s, j], rng)}
