"""Training: losses, configs, callbacks and the trainer."""

from rnnbook.training.callbacks import Curriculum, EarlyStopping, ProgressBar
from rnnbook.training.config import CurriculumConfig, TrainConfig
from rnnbook.training.history import History
from rnnbook.training.losses import LOSSES, masked_cross_entropy, masked_mse
from rnnbook.training.trainer import DivergenceError, TrainState, train

__all__ = [
    "LOSSES",
    "Curriculum",
    "CurriculumConfig",
    "DivergenceError",
    "EarlyStopping",
    "History",
    "ProgressBar",
    "TrainConfig",
    "TrainState",
    "masked_cross_entropy",
    "masked_mse",
    "train",
]
