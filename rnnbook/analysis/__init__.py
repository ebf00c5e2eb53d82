"""Analyses: pure functions of trained models and their rollouts, returning dataclasses."""

from rnnbook.analysis.accuracy import ConditionAccuracy, accuracy_by_condition
from rnnbook.analysis.evaluation import Evaluation, evaluate
from rnnbook.analysis.fixed_points import FixedPoints, find_fixed_points, sample_states
from rnnbook.analysis.geometry import ClassSeparation, class_separation
from rnnbook.analysis.pca import PCA, TrajectoryPCA, pca, trajectory_pca
from rnnbook.analysis.perturbation import (
    LesionComparison,
    LesionCurve,
    Saliency,
    lesion_comparison,
    lesion_robustness,
    saliency,
)
from rnnbook.analysis.psychometric import Psychometric, fit_psychometric, psychometric

__all__ = [
    "PCA",
    "ClassSeparation",
    "ConditionAccuracy",
    "Evaluation",
    "FixedPoints",
    "LesionComparison",
    "LesionCurve",
    "Psychometric",
    "Saliency",
    "TrajectoryPCA",
    "accuracy_by_condition",
    "class_separation",
    "evaluate",
    "find_fixed_points",
    "fit_psychometric",
    "lesion_comparison",
    "lesion_robustness",
    "pca",
    "psychometric",
    "saliency",
    "sample_states",
    "trajectory_pca",
]
