"""Analyses: pure functions of trained models and their rollouts, returning dataclasses.

One idea per module: ``evaluation`` (running a model on test trials), ``choices``,
``psychometric``, ``accuracy``, ``precision`` (regression error), ``pca``, ``regimes``
(spontaneous and memory activity), ``weights`` (weight-vector geometry), ``geometry`` (class
separation), ``fixed_points``, ``perturbation`` (saliency and lesions), ``clamps``,
``statistics``, ``learning`` (summary numbers of a training run), ``credit`` (gradient
attribution through time), ``map_stability`` (fixed points as points of the Euler map, with
seed 000's labels); ``results`` saves and loads every result object.
"""

from rnnbook.analysis.accuracy import ConditionAccuracy, accuracy_by_condition
from rnnbook.analysis.choices import choice_log_prob, correct_log_prob, readout_choices
from rnnbook.analysis.circular import (
    SetSizeErrors,
    angle_errors,
    circular_kurtosis,
    circular_sd,
    circular_variance,
    decode_angle,
    errors_by_set_size,
    present_item_errors,
    slot_angles,
    von_mises_circular_variance,
    von_mises_resultant,
    von_mises_sd,
    wrap_angle,
)
from rnnbook.analysis.clamps import (
    ClampSwing,
    SignedRates,
    clamp_swing,
    period_window,
    signed_mean_rates,
)
from rnnbook.analysis.credit import (
    CreditMetrics,
    Gradients,
    collect_gradients,
    credit_metrics,
    gini,
    mean_credit,
)
from rnnbook.analysis.evaluation import (
    Evaluation,
    at_dt,
    evaluate,
    evaluate_on,
    evaluation_of,
    run_trials,
    sample_trials,
)
from rnnbook.analysis.fixed_point_result import FixedPoints
from rnnbook.analysis.fixed_points import find_fixed_points, sample_states
from rnnbook.analysis.geometry import ClassSeparation, class_separation
from rnnbook.analysis.learning import (
    area_under_learning_curve,
    effective_nonzero_fraction,
    spectral_gap,
    steps_to_threshold,
    time_to_plateau,
)
from rnnbook.analysis.map_stability import MapStability, classify_map_eigenvalues, map_stability
from rnnbook.analysis.mixtures import (
    GaussianUniformFit,
    SwapModelFit,
    ZhangLuckFit,
    fit_gaussian_uniform,
    fit_swap_model,
    fit_zhang_luck,
    reports_by_set_size,
)
from rnnbook.analysis.pca import (
    PCA,
    TrajectoryPCA,
    components_for_variance,
    pca,
    trajectory_pca,
    windowed_pca,
)
from rnnbook.analysis.perturbation import (
    LesionComparison,
    LesionCurve,
    Saliency,
    SaliencyCheck,
    lesion_comparison,
    lesion_robustness,
    random_unit_sets,
    saliency,
    saliency_vs_lesions,
    unit_lesion_costs,
)
from rnnbook.analysis.precision import (
    DurationPrecision,
    masked_mse_per_trial,
    precision_by_duration,
)
from rnnbook.analysis.psychometric import Psychometric, fit_psychometric, psychometric
from rnnbook.analysis.regimes import memory_pca, memory_rates, spontaneous_pca, spontaneous_rates
from rnnbook.analysis.results import Result
from rnnbook.analysis.reversals import ReversalAdaptation, adaptation_speed, reversal_intervals
from rnnbook.analysis.selectivity import (
    DivisiveNormalisation,
    MixedSelectivity,
    ReadoutSNR,
    divisive_normalisation,
    inverse_participation_ratio,
    mixed_selectivity,
    readout_snr,
)
from rnnbook.analysis.statistics import Correlation, correlation, roughness
from rnnbook.analysis.two_step import (
    StayProbabilities,
    StayRegression,
    stay_probabilities,
    stay_regression,
)
from rnnbook.analysis.weights import (
    Participation,
    input_weight,
    participation_ratio,
    readout_weight,
    signed_ratios_over_signs,
    weight_correlation,
)
from rnnbook.analysis.wm_bootstrap import BootstrapIntervals, bootstrap_fit

__all__ = [
    "mean_credit",
    "reversal_intervals",
    "adaptation_speed",
    "ReversalAdaptation",
    "stay_regression",
    "stay_probabilities",
    "StayRegression",
    "StayProbabilities",
    "inverse_participation_ratio",
    "mixed_selectivity",
    "MixedSelectivity",
    "divisive_normalisation",
    "DivisiveNormalisation",
    "readout_snr",
    "ReadoutSNR",
    "bootstrap_fit",
    "BootstrapIntervals",
    "reports_by_set_size",
    "fit_swap_model",
    "fit_gaussian_uniform",
    "fit_zhang_luck",
    "SwapModelFit",
    "GaussianUniformFit",
    "ZhangLuckFit",
    "von_mises_sd",
    "von_mises_circular_variance",
    "von_mises_resultant",
    "circular_sd",
    "circular_kurtosis",
    "circular_variance",
    "present_item_errors",
    "slot_angles",
    "decode_angle",
    "angle_errors",
    "wrap_angle",
    "errors_by_set_size",
    "SetSizeErrors",
    "map_stability",
    "gini",
    "credit_metrics",
    "collect_gradients",
    "classify_map_eigenvalues",
    "MapStability",
    "Gradients",
    "CreditMetrics",
    "PCA",
    "ClampSwing",
    "ClassSeparation",
    "ConditionAccuracy",
    "Correlation",
    "DurationPrecision",
    "Evaluation",
    "FixedPoints",
    "LesionComparison",
    "LesionCurve",
    "Participation",
    "Psychometric",
    "Result",
    "Saliency",
    "SaliencyCheck",
    "SignedRates",
    "TrajectoryPCA",
    "accuracy_by_condition",
    "area_under_learning_curve",
    "at_dt",
    "choice_log_prob",
    "clamp_swing",
    "class_separation",
    "components_for_variance",
    "correct_log_prob",
    "correlation",
    "effective_nonzero_fraction",
    "evaluate",
    "evaluate_on",
    "evaluation_of",
    "find_fixed_points",
    "fit_psychometric",
    "input_weight",
    "lesion_comparison",
    "lesion_robustness",
    "masked_mse_per_trial",
    "memory_pca",
    "memory_rates",
    "participation_ratio",
    "pca",
    "period_window",
    "precision_by_duration",
    "psychometric",
    "random_unit_sets",
    "readout_choices",
    "readout_weight",
    "roughness",
    "run_trials",
    "saliency",
    "saliency_vs_lesions",
    "sample_states",
    "sample_trials",
    "signed_mean_rates",
    "signed_ratios_over_signs",
    "spectral_gap",
    "spontaneous_pca",
    "spontaneous_rates",
    "steps_to_threshold",
    "time_to_plateau",
    "trajectory_pca",
    "unit_lesion_costs",
    "weight_correlation",
    "windowed_pca",
]
