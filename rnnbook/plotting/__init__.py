"""Figures: functions that take ``ax=None`` and return the Axes, and the book's one style."""

from rnnbook.plotting.accuracy import plot_accuracy_by_condition
from rnnbook.plotting.fixed_points import plot_fixed_points
from rnnbook.plotting.integration import (
    duration_colors,
    plot_against_precision,
    plot_explained_variance,
    plot_pc_trajectories,
    plot_precision_by_duration,
    plot_pulse_trials,
    plot_seed_histories,
)
from rnnbook.plotting.learning import moving_average, plot_learning_curves
from rnnbook.plotting.low_rank import (
    plot_by_model,
    plot_eval_curves,
    plot_flow_field,
    plot_spectra,
    plot_stay_coefficients,
    plot_stay_probabilities,
    plot_summary_table,
)
from rnnbook.plotting.perturbation import (
    plot_lesion_comparison,
    plot_lesion_cost,
    plot_lesion_robustness,
    plot_saliency,
    plot_targeted_vs_random,
)
from rnnbook.plotting.psychometric import plot_psychometric
from rnnbook.plotting.style import REGIME_COLORS, STYLE_PATH, color_for, colors_for, use_style
from rnnbook.plotting.sweeps import plot_sweep, plot_variants
from rnnbook.plotting.trajectories import plot_trajectories
from rnnbook.plotting.weights import (
    plot_group_curves,
    plot_singular_values,
    plot_weight_magnitudes,
    plot_weight_signs,
)

__all__ = [
    "REGIME_COLORS",
    "STYLE_PATH",
    "color_for",
    "colors_for",
    "duration_colors",
    "moving_average",
    "plot_accuracy_by_condition",
    "plot_by_model",
    "plot_against_precision",
    "plot_eval_curves",
    "plot_explained_variance",
    "plot_fixed_points",
    "plot_flow_field",
    "plot_group_curves",
    "plot_learning_curves",
    "plot_lesion_comparison",
    "plot_lesion_cost",
    "plot_lesion_robustness",
    "plot_pc_trajectories",
    "plot_precision_by_duration",
    "plot_psychometric",
    "plot_pulse_trials",
    "plot_saliency",
    "plot_sweep",
    "plot_variants",
    "plot_seed_histories",
    "plot_singular_values",
    "plot_spectra",
    "plot_stay_coefficients",
    "plot_stay_probabilities",
    "plot_summary_table",
    "plot_targeted_vs_random",
    "plot_trajectories",
    "plot_weight_magnitudes",
    "plot_weight_signs",
    "use_style",
]
