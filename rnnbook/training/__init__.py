"""Training: losses, penalties and optimisers (registries), configs, callbacks, the one
training step and the trainer. Many networks at once: ``rnnbook.training.many``."""

from rnnbook.training.callbacks import (
    BestWeights,
    CosineAnnealing,
    Curriculum,
    EarlyStopping,
    LossPlateau,
    NoiseCurriculum,
    ProgressBar,
)
from rnnbook.training.config import CurriculumConfig, TrainConfig
from rnnbook.training.history import History
from rnnbook.training.losses import LOSSES, masked_cross_entropy, masked_mse
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.penalties import PENALTIES, Penalty
from rnnbook.training.step import DivergenceError
from rnnbook.training.trainer import TrainState, train

__all__ = [
    "LOSSES",
    "OPTIMIZERS",
    "PENALTIES",
    "BestWeights",
    "CosineAnnealing",
    "Curriculum",
    "CurriculumConfig",
    "DivergenceError",
    "EarlyStopping",
    "History",
    "LossPlateau",
    "NoiseCurriculum",
    "Penalty",
    "ProgressBar",
    "TrainConfig",
    "TrainState",
    "masked_cross_entropy",
    "masked_mse",
    "train",
]
