"""Driving transitions from highway-env: the data set, how it is stored, and the shipped copy.

`highway-fast-v0` (Farama's highway-env) is a black box whose reward is a hand-written function of
*privileged simulator state* (Leurent, 2018, `HighwayEnv._rewards`):

    r = on_road * lmap(w_c crashed + w_l lane / (lanes - 1) + w_v clip((v cos h - 20) / 10, 0, 1),
                       [w_c, w_v + w_l] -> [0, 1])                w_c = -1, w_l = 0.1, w_v = 0.4

while the agent's default *Kinematics* observation is 5 vehicles x (presence, x, y, vx, vy), the
ego car first (absolute, normalised and clipped: x is clipped to 1 after 200 m), the four nearest
others relative to it. The crash flag is in neither. `DrivingData` keeps both views of every step,
so a reward model can be fitted on either (lesson 11, `minirl driving`).

Shapes (N transitions, E episodes)
----------------------------------
| field                     | shape      | dtype   | meaning                                      |
|---------------------------|------------|---------|----------------------------------------------|
| obs, next_obs             | (N, 5, 5)  | float32 | Kinematics observation before / after a step |
| action                    | (N,)       | int8    | 0 LANE_LEFT, 1 IDLE, 2 LANE_RIGHT, 3 FASTER, 4 SLOWER |
| reward                    | (N,)       | float64 | what the env paid                            |
| terminated, truncated     | (N,)       | bool    | crash / time limit                           |
| crashed, on_road          | (N,)       | bool    | privileged, after the step                   |
| lane                      | (N,)       | int8    | target lane index (0 = left), the reward's   |
| speed                     | (N,)       | float64 | forward speed v cos(heading), m/s            |
| ego_x, ego_y, heading     | (N,)       | float64 | ego position (m) and heading (rad)           |
| episode, t                | (N,)       | int32, int16 | episode id, step within the episode     |
| obs_ids, next_ids         | (N, 5)     | int16   | which car each row of obs / next_obs shows (its index in the road's vehicle list, row 0 the ego car; -1: empty row) |
| next_tracked              | (N, 5, 5)  | float32 | the cars of obs's rows one step later, in obs's row order (an observation with stable car identities) |
| episode_seed, episode_eps | (E,)       | int64, float64 | reset seed and behaviour randomness    |

**The observation's rows are not cars.** Rows 1-4 are the 4 nearest cars *at that step*, sorted by
longitudinal distance, so row k of `next_obs` can show another car than row k of `obs` (compare
`obs_ids` with `next_ids`), and cars more than 10 m behind the ego (`see_behind=False`) are not
observed at all. `next_tracked` follows the cars of `obs` instead: where no row switched car it
equals `next_obs` exactly.

Files are `.npz` archives written byte for byte the same for the same arrays (fixed zip
timestamps), so "regenerating gives the same file" can be tested by comparing bytes.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["ACTIONS", "DrivingData", "SHIPPED", "REGENERATE", "save_npz", "load", "load_shipped", "X_RANGE",
           "Y_RANGE", "V_RANGE", "LANE_WIDTH", "LANES", "lane_from_obs"]

ACTIONS = ("LANE_LEFT", "IDLE", "LANE_RIGHT", "FASTER", "SLOWER")
# Kinematics normalisation of highway-fast-v0 (3 lanes of 4 m): x in [-200, 200] m,
# y in [-12, 12] m, vx, vy in [-80, 80] m/s, each mapped to [-1, 1] and clipped.
X_RANGE, Y_RANGE, V_RANGE, LANE_WIDTH, LANES = 200.0, 12.0, 80.0, 4.0, 3


def lane_from_obs(obs) -> np.ndarray:
    """The ego car's lane index (0 = left) read from observations (..., 5, 5): its y over the lane width."""
    o = np.asarray(obs, dtype=np.float64)
    return np.clip(np.rint(o[..., 0, 2] * Y_RANGE / LANE_WIDTH), 0, LANES - 1)
SHIPPED = Path(__file__).resolve().parent / "highway_fast_v0.npz"
# The command that wrote SHIPPED (tests/test_driving_data.py re-runs its first episodes).
REGENERATE = "minirl driving collect --out minirl/experiments/driving/highway_fast_v0.npz --steps 4000 --seed 0"

TRANSITION_FIELDS = {"obs": np.float32, "next_obs": np.float32, "action": np.int8, "reward": np.float64,
                     "terminated": bool, "truncated": bool, "crashed": bool, "on_road": bool,
                     "lane": np.int8, "speed": np.float64, "ego_x": np.float64, "ego_y": np.float64,
                     "heading": np.float64, "episode": np.int32, "t": np.int16, "obs_ids": np.int16,
                     "next_ids": np.int16, "next_tracked": np.float32}
EPISODE_FIELDS = {"episode_seed": np.int64, "episode_eps": np.float64}
PRIVILEGED = ("crashed", "lane", "speed", "on_road")


@dataclasses.dataclass
class DrivingData:
    """Transitions of highway-fast-v0 with both the observation and the privileged state (table above)."""

    obs: np.ndarray
    next_obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    crashed: np.ndarray
    on_road: np.ndarray
    lane: np.ndarray
    speed: np.ndarray
    ego_x: np.ndarray
    ego_y: np.ndarray
    heading: np.ndarray
    episode: np.ndarray
    t: np.ndarray
    obs_ids: np.ndarray
    next_ids: np.ndarray
    next_tracked: np.ndarray
    episode_seed: np.ndarray
    episode_eps: np.ndarray
    meta: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        n = len(self.reward)
        for name, dtype in {**TRANSITION_FIELDS, **EPISODE_FIELDS}.items():
            setattr(self, name, np.asarray(getattr(self, name), dtype=dtype))
        for name in TRANSITION_FIELDS:
            if len(getattr(self, name)) != n:
                raise ValueError(f"DrivingData: field {name} has {len(getattr(self, name))} rows, "
                                 f"reward has {n}; every transition field needs one row per step")
        if self.obs.shape[1:] != (5, 5) or self.next_obs.shape != self.obs.shape or \
                self.next_tracked.shape != self.obs.shape:
            raise ValueError(f"DrivingData: obs, next_obs and next_tracked must be (N, 5, 5) Kinematics observations, "
                             f"got {self.obs.shape}, {self.next_obs.shape} and {self.next_tracked.shape}")
        if self.obs_ids.shape != (n, 5) or self.next_ids.shape != (n, 5):
            raise ValueError(f"DrivingData: obs_ids and next_ids must be (N, 5) = {(n, 5)}, "
                             f"got {self.obs_ids.shape} and {self.next_ids.shape}")
        for name, dtype in {**TRANSITION_FIELDS, **EPISODE_FIELDS}.items():
            values = getattr(self, name)
            if np.dtype(dtype).kind == "f" and not np.all(np.isfinite(values)):
                bad = np.flatnonzero(~np.isfinite(values.reshape(len(values), -1)).all(axis=1))
                raise ValueError(f"DrivingData: field {name} holds {len(bad)} rows with NaN or inf "
                                 f"(first at row {bad[0]}); a driving data set needs finite values")

    def __len__(self) -> int:
        return len(self.reward)

    @property
    def n_episodes(self) -> int:
        return len(self.episode_seed)

    def privileged(self) -> np.ndarray:
        """(N, 4) float: crashed, target lane, forward speed, on_road after each step."""
        return np.stack([getattr(self, k).astype(np.float64) for k in PRIVILEGED], axis=1)

    def flat_obs(self, which: str = "next_obs") -> np.ndarray:
        """(N, 25) float64: the 5 x 5 observation `obs` or `next_obs`, one row per step."""
        if which not in ("obs", "next_obs"):
            raise ValueError(f"flat_obs: which must be 'obs' or 'next_obs', got {which!r}")
        return getattr(self, which).reshape(len(self), 25).astype(np.float64)

    def action_onehot(self) -> np.ndarray:
        """(N, 5) float64 one-hot actions."""
        return np.eye(len(ACTIONS))[self.action]

    def episodes(self, ids) -> "DrivingData":
        """The transitions of the given episode ids (order kept), with their per-episode rows."""
        ids = np.asarray(ids, dtype=np.int64)
        keep = np.isin(self.episode, ids)
        rows = {k: getattr(self, k)[keep] for k in TRANSITION_FIELDS}
        return DrivingData(**rows, episode_seed=self.episode_seed[ids], episode_eps=self.episode_eps[ids],
                           meta=dict(self.meta))

    def arrays(self) -> dict:
        return {k: getattr(self, k) for k in (*TRANSITION_FIELDS, *EPISODE_FIELDS)}

    def save(self, path) -> str:
        """Write the data and `meta` to `path` (.npz, the same bytes for the same data)."""
        return save_npz(path, self.arrays(), self.meta)


def save_npz(path, arrays: dict, meta: dict) -> str:
    """Write `arrays` and `meta` (as JSON) into an .npz that is the same bytes for the same input.

    `np.savez_compressed` stamps each member with the current time; here every member gets the zip
    epoch (1980-01-01) and the members are written in sorted order.
    """
    path = os.fspath(path)
    members = dict(arrays)
    members["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(members[name]), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    return path


def load(path) -> DrivingData:
    """Read a file written by `DrivingData` / `minirl driving collect`; one-line errors for bad files.

    Anything else (not an .npz archive, an archive of other arrays, arrays that need pickle, NaN
    values) is refused with one line that says the file is not a driving data set. Nothing is ever
    unpickled.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"driving data {path} does not exist: make it with "
                                f"`minirl driving collect --out {path}` (needs the [driving] extra)")
    not_data = f"{path} is not a driving data set (an .npz file written by `minirl driving collect`)"
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{not_data}: it is not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in (*TRANSITION_FIELDS, *EPISODE_FIELDS, "meta") if k not in z.files]
            if missing:
                raise ValueError(f"{not_data}: it lacks the fields {', '.join(missing)}")
            arrays = {k: z[k] for k in (*TRANSITION_FIELDS, *EPISODE_FIELDS)}
            meta = json.loads(z["meta"].tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):        # both are ValueErrors: caught first
        raise ValueError(f"{not_data}: its meta member is not JSON") from None
    except ValueError as exc:
        if str(exc).startswith(not_data):
            raise
        raise ValueError(f"{not_data}: a member is not a plain numeric array") from None
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"{not_data}: it cannot be read ({type(exc).__name__})") from None
    try:
        return DrivingData(**arrays, meta=meta)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{not_data}: {str(exc).removeprefix('DrivingData: ')}") from None


def load_shipped() -> DrivingData:
    """The data set shipped with minirl (regenerate it with `REGENERATE`)."""
    return load(SHIPPED)
