"""What a run will be, decided in one place: (algo, env, seed, overrides, budget, evaluation) -> `RunSpec`.

Every way of starting a run goes through `resolve_run`: `minirl train`, each trial of `minirl sweep`
and `minirl compare` (`minirl.runs.trials`), and the check that a trial folder holds the run it should.
A run read back from its folder (resume, `minirl eval`, `minirl plot`) is `RunSpec.from_info`: the
settings it was started with, never the presets of today.

    spec = resolve_run("ppo", "CartPole-v1", seed=3, overrides={"learning_rate": "1e-3"})
    spec.config            # PPOConfig: the preset for CartPole-v1, then the overrides (read with each field's type)
    spec.total_steps       # the preset's budget (150,000) unless given
    spec.eval_every, spec.eval_episodes    # the task's evaluation protocol (10,000 steps, 10 episodes)
    spec.threshold         # 475.0: the env's reward_threshold (or minirl.algos.presets.THRESHOLDS)
    spec.info()            # what config.json holds

| step | source |
|---|---|
| the algorithm exists, and the env offers what it needs (a twin, Box actions) | `minirl.algos.registry.ALGOS` |
| the config: the tuned preset for (algo, env), else generic defaults, then the overrides | `minirl.algos.presets` |
| the budget, the evaluation protocol, the threshold | `minirl.algos.presets` (`default_total_steps`, `eval_settings`, `reward_threshold`) |
| seed, budget and evaluation numbers are integers in range, stop_return finite | here, one line each |
| an env evaluated (`eval_every` > 0) has a time limit, so evaluation episodes end | here (`--eval-every 0` otherwise) |

Errors are one line naming the value and what is accepted: `RunError` for the run's numbers,
`ConfigError` for the algorithm, the env and the hyperparameters (both are ValueErrors).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from .. import checks
from ..algos import presets
from ..algos.registry import ALGOS, ConfigError, check_algo, config_class

__all__ = ["RunSpec", "RunError", "resolve_run", "check_pair", "finite_or_none", "whole", "CONFIG_FIELDS"]

# the fields of config.json every run folder has (type each must have)
CONFIG_FIELDS = {"algo": str, "env_id": str, "seed": int, "total_steps": int, "config": dict}


class RunError(ValueError):
    """Bad run arguments; the message is one line saying which and what to do."""


@dataclass(frozen=True)
class RunSpec:
    """Everything that decides what a run does, resolved and checked (see the module doc)."""

    algo: str
    env_id: str
    seed: int
    config: object                 # the algorithm's config dataclass
    total_steps: int
    eval_every: int                # env steps between evaluations (0: none)
    eval_episodes: int
    stop_return: float | None = None
    used_preset: bool = True

    @property
    def threshold(self) -> float | None:
        """The return that counts as solved (`minirl.algos.presets.reward_threshold`)."""
        return presets.reward_threshold(self.env_id)

    def info(self) -> dict:
        """config.json: the run's settings, every hyperparameter, the minirl version, and `environment`:
        the software and machine it runs on (`minirl.about.environment`: commit in a clone, Python,
        NumPy, Gymnasium, platform, BLAS), since float32 results differ between them."""
        from .. import __version__
        from ..about import environment
        return {"algo": self.algo, "env_id": self.env_id, "seed": self.seed, "total_steps": self.total_steps,
                "stop_return": self.stop_return, "eval_every": self.eval_every,
                "eval_episodes": self.eval_episodes, "used_preset": self.used_preset,
                "config": self.config.to_dict(), "minirl_version": __version__, "environment": environment()}

    def identity(self) -> dict:
        """The settings two runs must share to be the same run (a trial folder must match them)."""
        return {"algo": self.algo, "env_id": self.env_id, "seed": self.seed, "config": self.config.to_dict(),
                "eval_every": self.eval_every, "eval_episodes": self.eval_episodes}

    @classmethod
    def from_info(cls, info: dict) -> "RunSpec":
        """The spec of a run as its config.json recorded it (ValueError, one line, if the config is invalid)."""
        algo = check_algo(info["algo"])
        saved = dict(info["config"])
        if algo in ("ppo", "reinforce"):
            saved.setdefault("dtype", "float64")       # runs saved before the `dtype` field computed in float64
        config = config_class(algo).from_dict(saved)
        # runs saved before the evaluation protocol have no eval_every: they never evaluate
        return cls(algo, info["env_id"], int(info["seed"]), config, int(info["total_steps"]),
                   int(info.get("eval_every") or 0), int(info.get("eval_episodes") or 0),
                   info.get("stop_return"), bool(info.get("used_preset", True)))

    def replace(self, **changes) -> "RunSpec":
        import dataclasses
        return dataclasses.replace(self, **changes)


def whole(flag: str, value, minimum: int) -> int:
    """`value` as an int >= `minimum` (0 or 1); RunError naming the flag otherwise."""
    try:
        return checks.nonnegative_int("", flag, value) if minimum == 0 else checks.positive_int("", flag, value)
    except ValueError:
        raise RunError(f"{flag} must be an integer >= {minimum}, got {value!r}") from None


def finite_or_none(flag: str, value) -> float | None:
    """None, or `value` as a finite float (RunError, one line, otherwise)."""
    if value is None:
        return None
    try:
        return checks.number("", flag, value)
    except ValueError:
        raise RunError(f"{flag} must be a finite number, got {value!r}") from None


def check_pair(algo: str, env_id: str) -> None:
    """The algorithm exists, the env id is registered, and the env offers what the algorithm needs
    (a differentiable twin, continuous actions); ConfigError (one line) otherwise."""
    import gymnasium as gym

    from .. import envs
    from ..rollout import resolve_env_id

    check_algo(algo)
    try:
        gym.spec(resolve_env_id(env_id))
    except gym.error.Error as exc:
        raise ConfigError(f"unknown env {env_id!r} ({exc})") from None
    needs = ALGOS[algo]
    if needs.needs_twin and env_id not in envs.TWINS:
        raise ConfigError(f"{algo} needs a differentiable twin of its env, and {env_id!r} has none; "
                          f"envs with a twin: {sorted(envs.TWINS)}")
    if needs.needs_box:
        space = _action_space(env_id)
        if not isinstance(space, gym.spaces.Box):
            raise ConfigError(f"{algo} needs continuous (Box) actions, and {env_id!r} has {space}")


def _check_time_limit(env_id: str) -> None:
    """An evaluation episode must end: the env needs a time limit (RunError, one line, naming the way out)."""
    import gymnasium as gym

    from ..rollout import resolve_env_id
    try:
        limit = gym.spec(resolve_env_id(env_id)).max_episode_steps
    except gym.error.Error:
        return                                    # an unknown id: check_pair and the agent report it
    if limit is None and _spaces_supported(env_id):    # else the agent names the space, the first problem
        raise RunError(f"{env_id} has no time limit (its registration sets no max_episode_steps), so an evaluation "
                       "episode could run for ever: pass --eval-every 0 to train without evaluations, or register "
                       "the env with max_episode_steps")


def _spaces_supported(env_id: str) -> bool:
    """Whether minirl can train on the env's spaces at all (`minirl.rollout.check_spaces`)."""
    import gymnasium as gym

    from ..rollout import check_spaces
    try:
        made = gym.make(env_id)
    except Exception:                             # noqa: BLE001 (the agent reports why it cannot be made)
        return False
    try:
        check_spaces(made.observation_space, made.action_space)
        return True
    except ValueError:
        return False
    finally:
        made.close()


@functools.lru_cache(maxsize=64)
def _action_space(env_id: str):
    """The action space of a registered env (made once per process: a comparison asks once per arm)."""
    import gymnasium as gym
    made = gym.make(env_id)
    try:
        return made.action_space
    finally:
        made.close()


def resolve_run(algo: str, env_id: str, seed: int = 0, *, overrides: dict | None = None,
                total_steps: int | None = None, eval_every: int | None = None, eval_episodes: int | None = None,
                stop_return: float | None = None, check_env: bool = True) -> RunSpec:
    """The complete, checked description of a new run (module doc). `check_env=False` skips
    `check_pair`, whose env lookups the caller has already made (a sweep checks each pair once)."""
    check_algo(algo)
    if check_env:
        check_pair(algo, env_id)
    seed = whole("--seed", seed, 0)
    config, used_preset = presets.make_config(algo, env_id, overrides)
    total_steps = whole("--total-steps", presets.default_total_steps(algo, env_id)
                         if total_steps is None else total_steps, 1)
    evaluation = presets.eval_settings(env_id)
    eval_every = whole("--eval-every", evaluation["every"] if eval_every is None else eval_every, 0)
    eval_episodes = whole("--eval-episodes", evaluation["episodes"] if eval_episodes is None else eval_episodes, 1)
    if eval_every > 0:
        _check_time_limit(env_id)
    return RunSpec(algo, env_id, seed, config, total_steps, eval_every, eval_episodes,
                   finite_or_none("--stop-return", stop_return), bool(used_preset))

