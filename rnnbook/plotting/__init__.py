"""Figures: functions that take ``ax=None`` and return the Axes, and the book's one style."""

from rnnbook.plotting.accuracy import plot_accuracy_by_condition
from rnnbook.plotting.learning import moving_average, plot_learning_curves
from rnnbook.plotting.psychometric import plot_psychometric
from rnnbook.plotting.style import REGIME_COLORS, STYLE_PATH, color_for, colors_for, use_style
from rnnbook.plotting.trajectories import plot_trajectories

__all__ = [
    "REGIME_COLORS",
    "STYLE_PATH",
    "color_for",
    "colors_for",
    "moving_average",
    "plot_accuracy_by_condition",
    "plot_learning_curves",
    "plot_psychometric",
    "plot_trajectories",
    "use_style",
]
