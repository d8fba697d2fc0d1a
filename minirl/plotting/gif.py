"""Animated GIFs from rendered frames (`minirl eval --gif`, `minirl.plotting.watch` in the notebooks)."""

from __future__ import annotations

import os
import sys

__all__ = ["save_gif"]


def save_gif(frames, path: str, fps: int = 30) -> str:
    """Write RGB frames (H, W, 3) as an animated GIF with matplotlib's PillowWriter."""
    import matplotlib
    if "matplotlib.pyplot" not in sys.modules:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    if not frames:
        raise ValueError("save_gif: no frames to write (did the environment render?)")
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    h, w = frames[0].shape[:2]
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes([0, 0, 1, 1])
    ax.axis("off")
    image = ax.imshow(frames[0])

    def draw(i):
        image.set_data(frames[i])
        return (image,)

    anim = FuncAnimation(fig, draw, frames=len(frames), interval=1000 / fps, blit=True)
    anim.save(path, writer=PillowWriter(fps=fps))
    plt.close(fig)
    return path
