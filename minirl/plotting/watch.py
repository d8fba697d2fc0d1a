"""Watch a trained agent: one rendered episode as a GIF, shown beside a figure (for the notebooks).

    frames, ret = record_episode(agent, "CartPole-v1", seed=0)
    html = gif_beside_figure(fig, save_gif(frames, "runs/lesson03/cartpole.gif"), caption="...")
    IPython.display.display(IPython.display.HTML(html))

Rendering a classic-control task needs pygame-ce (the `render` extra, part of `dev`); without it
`record_episode` raises `RenderUnavailable` with the install command, and a notebook can say so and
carry on. The GIF is embedded in the HTML (base64), so the notebook shows it without a file server.
"""

from __future__ import annotations

import base64
import io
import os

import numpy as np

from ..evaluation import play_episodes
from .gif import save_gif

__all__ = ["RenderUnavailable", "record_episode", "save_gif", "gif_beside_figure"]


class RenderUnavailable(RuntimeError):
    """The environment cannot render here (pygame-ce missing): install the `render` extra."""


def record_episode(agent, env_id: str, seed: int = 0, max_frames: int = 300, every: int = 2):
    """Play one deterministic episode of `agent` on `env_id` and keep every `every`-th rendered frame.

    Returns (frames, episode_return, episode_length); frames is a list of (H, W, 3) uint8 arrays,
    at most max_frames / every of them (the episode itself runs to its end).
    """
    import gymnasium as gym

    if every < 1 or max_frames < 1:
        raise ValueError(f"record_episode: every and max_frames must be >= 1, got {every} and {max_frames}")
    # off-screen frames need no display: SDL's dummy video driver (unless one was chosen) keeps pygame
    # from looking for one and printing "XDG_RUNTIME_DIR is invalid" into the notebook
    previous = os.environ.get("SDL_VIDEODRIVER")
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    try:
        returns, lengths, frames = play_episodes(agent, env_id, 1, seed, deterministic=True, render="rgb_array",
                                            max_frames=max_frames)
    except gym.error.DependencyNotInstalled as exc:
        from ..about import install_hint
        raise RenderUnavailable(f"rendering {env_id} needs pygame-ce: {install_hint('render')} ({exc})") from None
    finally:
        if previous is None:
            os.environ.pop("SDL_VIDEODRIVER", None)
    return frames[::every], float(returns[0]), int(lengths[0])


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def gif_beside_figure(fig, gif_path: str, caption: str = "", gif_width: int = 300) -> str:
    """HTML with `fig` (a matplotlib Figure, as PNG) on the left and the GIF at `gif_path` on the right."""
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100, bbox_inches="tight")
    with open(gif_path, "rb") as f:
        gif = f.read()
    width_in = float(np.asarray(fig.get_size_inches())[0])
    return (f'<div style="display:flex; align-items:center; gap:12px; flex-wrap:wrap">'
            f'<img src="{_data_uri(png.getvalue(), "image/png")}" style="width:{int(width_in * 100)}px">'
            f'<figure style="margin:0"><img src="{_data_uri(gif, "image/gif")}" style="width:{gif_width}px">'
            f'<figcaption style="font-size:13px; max-width:{gif_width}px">{caption}</figcaption></figure></div>')
