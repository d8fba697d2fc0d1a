"""minirl: reinforcement learning from scratch in NumPy.

Black-box rewards (score-function methods: REINFORCE, PPO) and differentiable rewards (pathwise
gradients through a model) on the same tasks, with the same policy code, side by side.

Importing minirl registers its Gymnasium ids under the `minirl/` namespace (see `minirl.envs`).
"""

__version__ = "0.2.0"

from .threads import set_thread_env  # noqa: E402

set_thread_env()          # one BLAS thread, if NumPy is not loaded yet (see minirl.threads)

from . import envs  # noqa: E402,F401  (registration happens on import)
