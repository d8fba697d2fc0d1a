"""The figure of `minirl sweep`: evaluation return against env steps, one line per setting.

One panel per environment of the sweep. Each setting is the IQM over its finished seeds of the
evaluation return (deterministic policy, K episodes; `minirl.evaluation`) with a 95%
percentile-bootstrap band (`minirl.plotting.curves.plot_band`); the curves are put on the steps of
the shortest run. A dotted line marks the threshold the report counts steps to.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

from .curves import plot_band

__all__ = ["sweep_figure"]


def sweep_figure(report, statistic: str = "iqm"):
    """Draw a `minirl.runs.sweep_report.SweepReport`; None if no setting has a finished trial
    with an evaluation."""
    envs = [e for e in dict.fromkeys(r["env_id"] for r in report.rows)
            if any(report.curves.get(r["setting"]) for r in report.rows if r["env_id"] == e)]
    if not envs:
        return None
    fig, axes = plt.subplots(1, len(envs), figsize=(7.5 * len(envs), 4.8), squeeze=False)
    for ax, env in zip(axes[0], envs):
        rows = [r for r in report.rows if r["env_id"] == env and report.curves.get(r["setting"])]
        for i, r in enumerate(rows):
            label = r["setting"] if len(report.rows) > 1 else r["setting"].split("/")[0]
            plot_band(ax, report.curves[r["setting"]], label, statistic=statistic, color=f"C{i % 10}")
        level = report.thresholds.get(env)
        if level is not None:
            ax.axhline(level, color="grey", linestyle=":", linewidth=1, label=f"threshold {level:g}")
        ax.set_title(env)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("evaluation return (deterministic, K episodes)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(f"{report.out}: {statistic.upper() if statistic == 'iqm' else statistic} over finished seeds, "
                 "95% bootstrap band")
    return fig
