"""minirl: reinforcement learning from scratch in NumPy.

Black-box rewards (score-function methods: REINFORCE, PPO) and differentiable rewards (pathwise
gradients through a model) on the same tasks, with the same policy code, side by side.
"""

__version__ = "0.1.0"


def _register_envs() -> None:
    """Register minirl's Gymnasium environments under the `minirl/` namespace (if any exist yet)."""
    import importlib
    import importlib.util

    if importlib.util.find_spec(f"{__name__}.envs") is not None:
        importlib.import_module(f"{__name__}.envs")  # registration happens on import


_register_envs()
