"""Recording `highway-fast-v0` transitions with a seeded behaviour policy (needs the [driving] extra).

highway-env is imported here, inside `make_env`, and nowhere else in minirl: reading the shipped
data, fitting models to it and the lesson never need it.

The behaviour policy is a mixture, chosen per episode so that the data holds both careful driving
and crashes:

    a_t = careful(o_t)                  with probability 1 - eps_e
    a_t ~ Uniform{0, ..., 4}            with probability eps_e,      eps_e ~ Uniform(EPSILONS)

`careful` reads the Kinematics observation like a cautious driver: keep a gap of 20 m to the car
ahead in your lane (change to a freer lane with no car within 10 m behind, else brake), drift right
when the right lane is free for 35 m (the reward pays for the right lane), speed up when the road
ahead is free for 40 m. It still crashes now and then (it does not see cars cutting in); the
uniform actions crash often.

Determinism: episode e is reset with seed `episode_seed(seed, e)` and draws its actions from
`np.random.default_rng([seed, e])`, so episode e is the same whatever else was collected, and the
first k episodes of a long collection equal a short collection with the same seed.
"""

from __future__ import annotations

import numpy as np

from .data import (ACTIONS, EPISODE_FIELDS, LANE_WIDTH, LANES, TRANSITION_FIELDS, V_RANGE, X_RANGE, Y_RANGE, DrivingData,
                   lane_from_obs)

__all__ = ["ENV_ID", "EPSILONS", "make_env", "careful_action", "episode_seed", "collect", "driving_extra_missing",
           "observed_cars", "car_ids", "tracked_rows"]

ENV_ID = "highway-fast-v0"
EPSILONS = (0.0, 0.1, 0.3, 1.0)
SAFE_GAP, SAFE_TIME = 12.0, 3.0     # the careful driver keeps SAFE_GAP + SAFE_TIME * closing speed
LEFT, IDLE, RIGHT, FASTER, SLOWER = range(5)


def driving_extra_missing() -> str | None:
    """None when highway-env can be imported, else the one-line reason and the fix."""
    try:
        import highway_env  # noqa: F401
    except ImportError as exc:
        from ...about import install_hint
        return (f"highway-env is not installed ({exc.name or exc}); install the driving extra: "
                f"{install_hint('driving')}")
    return None


def make_env(duration: int | None = None):
    """gymnasium.make("highway-fast-v0") with its default config (optionally a shorter `duration` in s)."""
    import gymnasium as gym
    import highway_env  # noqa: F401  (registers the highway-* ids)

    config = {} if duration is None else {"duration": int(duration)}
    return gym.make(ENV_ID, config=config) if config else gym.make(ENV_ID)


def episode_seed(seed: int, episode: int) -> int:
    """The env reset seed of episode `episode` of a collection with seed `seed`."""
    return int(np.random.SeedSequence([int(seed), int(episode)]).generate_state(1)[0])


def careful_action(obs) -> int:
    """A cautious driver's action from one (5, 5) Kinematics observation (see the module docstring)."""
    obs = np.asarray(obs, dtype=np.float64)
    lane = int(lane_from_obs(obs))
    others = obs[1:][obs[1:, 0] > 0]
    dx, dy = others[:, 1] * X_RANGE, others[:, 2] * Y_RANGE          # metres, relative to the ego car
    dv = others[:, 3] * V_RANGE                                        # their speed minus ours, m/s

    def lane_state(offset):
        """(free distance ahead minus the safe gap, no car close behind) in lane `offset` to the right."""
        inside = np.abs(dy - offset * LANE_WIDTH) < 0.6 * LANE_WIDTH
        front = inside & (dx > 0)
        room = np.min(dx[front] - SAFE_GAP - SAFE_TIME * np.maximum(-dv[front], 0)) if front.any() else np.inf
        back = inside & (dx <= 0)
        clear = not np.any(back & (dx > -SAFE_GAP - SAFE_TIME * np.maximum(dv, 0)))
        return room, clear

    room, _ = lane_state(0)
    right = lane_state(1) if lane < LANES - 1 else (-np.inf, False)
    left = lane_state(-1) if lane > 0 else (-np.inf, False)
    if room < 0:                                                       # too close: leave the lane or brake
        for (r, clear), act in ((right, RIGHT), (left, LEFT)):
            if clear and r > max(room, 0) + 10:
                return act
        return SLOWER
    if right[1] and right[0] > 15:
        return RIGHT
    return FASTER if room > 15 else IDLE


def observed_cars(env) -> list:
    """The cars shown in rows 1-4 of the Kinematics observation the env returns now, in row order.

    The same query as highway-env's `KinematicObservation.observe`: the nearest cars within the
    perception distance, sorted by longitudinal distance, none more than 10 m behind (`see_behind`).
    """
    u = env.unwrapped
    kind = u.observation_type
    close = u.road.close_objects_to(u.vehicle, u.PERCEPTION_DISTANCE, count=kind.vehicles_count - 1,
                                    see_behind=kind.see_behind, sort=kind.order == "sorted",
                                    vehicles_only=not kind.include_obstacles)
    return list(close[-kind.vehicles_count + 1:]) if close else []


def car_ids(env, cars) -> np.ndarray:
    """(5,) int: the ego's and `cars`' indices in the road's vehicle list, -1 for an empty row."""
    index = {id(v): i for i, v in enumerate(env.unwrapped.road.vehicles)}
    ids = [index[id(env.unwrapped.vehicle)]] + [index.get(id(v), -1) for v in cars]
    return np.array(ids + [-1] * (5 - len(ids)), dtype=np.int16)


def tracked_rows(env, cars) -> np.ndarray:
    """(5, 5) float32: the ego and `cars` now, normalised exactly as the Kinematics observation.

    Called after a step with the cars observed before it, this is the next observation with the
    previous step's row order: an observation with stable car identities.
    """
    import pandas as pd

    u = env.unwrapped
    kind, ego = u.observation_type, u.vehicle
    records = [ego.to_dict()] + [v.to_dict(ego, observe_intentions=kind.observe_intentions) for v in cars]
    df = kind.normalize_obs(pd.DataFrame.from_records(records)[kind.features])
    out = np.zeros((5, 5), dtype=np.float32)
    out[:len(records)] = df.values
    return out


def _record_step(rows, env, obs, action, reward, next_obs, terminated, truncated, episode, t, cars_before):
    v = env.unwrapped.vehicle
    cars_after = observed_cars(env)
    for key, value in (("obs", obs), ("next_obs", next_obs), ("action", action), ("reward", reward),
                       ("terminated", terminated), ("truncated", truncated), ("crashed", v.crashed),
                       ("on_road", v.on_road), ("lane", v.target_lane_index[2]),
                       ("speed", v.speed * np.cos(v.heading)), ("ego_x", v.position[0]),
                       ("ego_y", v.position[1]), ("heading", v.heading), ("episode", episode), ("t", t),
                       ("obs_ids", car_ids(env, cars_before)), ("next_ids", car_ids(env, cars_after)),
                       ("next_tracked", tracked_rows(env, cars_before))):
        rows[key].append(value)
    return cars_after


def collect(n_steps: int, seed: int = 0, *, env=None, progress=None) -> DrivingData:
    """Whole episodes of the behaviour policy until at least `n_steps` transitions are recorded.

    Args:
        n_steps: minimum number of transitions (the last episode is finished, not cut).
        seed: the collection seed (episode e uses `episode_seed(seed, e)` and rng [seed, e]).
        env: a highway-fast-v0 env to use (default: `make_env()`).
        progress: optional callable(n_recorded) called after each episode.
    """
    if not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"collect: n_steps must be a positive integer, got {n_steps!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"collect: seed must be an integer >= 0, got {seed!r}")
    env = env if env is not None else make_env()
    rows = {k: [] for k in TRANSITION_FIELDS}
    per_episode = {k: [] for k in EPISODE_FIELDS}
    episode = 0
    while len(rows["reward"]) < n_steps:
        rng = np.random.default_rng([int(seed), episode])
        eps = float(rng.choice(EPSILONS))
        reset_seed = episode_seed(seed, episode)
        obs, _ = env.reset(seed=reset_seed)
        per_episode["episode_seed"].append(reset_seed)
        per_episode["episode_eps"].append(eps)
        t, done, cars = 0, False, observed_cars(env)
        while not done:
            action = int(rng.integers(len(ACTIONS))) if rng.random() < eps else careful_action(obs)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            cars = _record_step(rows, env, obs, action, float(reward), next_obs, bool(terminated), bool(truncated),
                                episode, t, cars)
            obs, t, done = next_obs, t + 1, terminated or truncated
        episode += 1
        if progress is not None:
            progress(len(rows["reward"]))
    import gymnasium
    import highway_env

    meta = {"env_id": ENV_ID, "seed": int(seed), "n_steps": int(n_steps),
            "command": f"minirl driving collect --out FILE --steps {int(n_steps)} --seed {int(seed)}",
            "behaviour": f"careful driver, uniform random action with probability eps per episode, "
                         f"eps drawn from {list(EPSILONS)}",
            "highway_env_version": getattr(highway_env, "__version__", "unknown"),
            "gymnasium_version": gymnasium.__version__, "numpy_version": np.__version__,
            "actions": list(ACTIONS), "config": _plain(env.unwrapped.config)}
    return DrivingData(**{k: np.array(v) for k, v in rows.items()},
                       **{k: np.array(v) for k, v in per_episode.items()}, meta=meta)


def _plain(value):
    """A JSON-ready copy of an env config (NumPy scalars and arrays become Python values)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
