"""Legends say what a line and its band are; `minirl.plotting.watch` turns an agent into a GIF beside a figure."""

from __future__ import annotations

import numpy as np
import pytest

from minirl.plotting.curves import band_label, plot_band


def test_band_label_names_the_statistic_the_seeds_and_the_band():
    assert band_label("PPO", "iqm", 5) == "PPO: IQM over 5 seeds, 95% bootstrap band"
    assert band_label("RLOO", "mean", 3, confidence=0.9) == "RLOO: mean over 3 seeds, 90% bootstrap band"
    assert band_label("PPO", "iqm", 1) == "PPO: 1 seed (no band)"


def test_plot_band_uses_the_label_and_draws_a_band():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    runs = [(np.arange(10), np.arange(10) + s) for s in range(4)]
    plot_band(ax, runs, "x", statistic="mean")
    assert ax.get_lines()[0].get_label() == "x: mean over 4 seeds, 95% bootstrap band"
    assert len(ax.collections) == 1
    plt.close(fig)


def test_record_episode_gif_and_html(tmp_path):
    pytest.importorskip("pygame", reason="rendering needs the render extra (pygame-ce)")
    import matplotlib.pyplot as plt

    from minirl.algos.presets import preset
    from minirl.algos.reinforce import Reinforce
    from minirl.plotting.watch import gif_beside_figure, record_episode, save_gif

    agent = Reinforce("CartPole-v1", preset("reinforce", "CartPole-v1"), seed=0)
    try:
        frames, episode_return, length = record_episode(agent, "CartPole-v1", seed=0, max_frames=20, every=2)
    finally:
        agent.close()
    assert 1 <= len(frames) <= 10 and frames[0].ndim == 3 and frames[0].shape[2] == 3
    assert length >= 1 and episode_return == pytest.approx(length)       # CartPole pays 1 per step
    gif = save_gif(frames, str(tmp_path / "a.gif"), fps=10)
    assert open(gif, "rb").read(6) in (b"GIF87a", b"GIF89a")
    fig, _ = plt.subplots()
    html = gif_beside_figure(fig, gif, caption="one episode")
    plt.close(fig)
    assert html.count("<img") == 2 and "image/gif" in html and "image/png" in html and "one episode" in html


def test_record_episode_refuses_bad_arguments():
    from minirl.plotting.watch import record_episode

    with pytest.raises(ValueError, match="every and max_frames must be >= 1"):
        record_episode(object(), "CartPole-v1", every=0)
