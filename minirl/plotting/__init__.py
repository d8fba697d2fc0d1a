"""Figures from data: every function takes plain arrays/dataclasses and returns a matplotlib Figure.

Only this package (and the commands) import matplotlib; it always uses the non-interactive Agg backend
unless a backend was already chosen (e.g. inside Jupyter).
"""

from .curves import plot_band, learning_curves_figure, save_figure  # noqa: F401
