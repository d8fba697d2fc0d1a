"""Choose a backend for trials: local worker processes, or a Ray cluster on request (`--ray`)."""

from __future__ import annotations

__all__ = ["make_executor"]


def make_executor(jobs: int | None = None, ray: str | None = None, retries: int = 1):
    """The local executor, or a Ray one when `ray` is an address, "auto" or "local" (start one here)."""
    if ray is None:
        from .local import LocalExecutor
        return LocalExecutor(jobs, retries=retries)
    from .ray_backend import RayExecutor
    return RayExecutor(ray, retries=retries)
