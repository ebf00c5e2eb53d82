"""Analyses: pure functions of trained models and their rollouts, returning dataclasses."""

from rnnbook.analysis.accuracy import ConditionAccuracy, accuracy_by_condition
from rnnbook.analysis.evaluation import Evaluation, evaluate
from rnnbook.analysis.pca import PCA, TrajectoryPCA, pca, trajectory_pca
from rnnbook.analysis.psychometric import Psychometric, fit_psychometric, psychometric

__all__ = [
    "PCA",
    "ConditionAccuracy",
    "Evaluation",
    "Psychometric",
    "TrajectoryPCA",
    "accuracy_by_condition",
    "evaluate",
    "fit_psychometric",
    "pca",
    "psychometric",
    "trajectory_pca",
]
