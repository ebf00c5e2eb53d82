"""Models: the leaky rate RNN composed of registered parts (``models.parts.PARTS``, one module
per part), and the tiny GRU baseline (``models.gru``); ``MODELS`` by name (``RunSpec.model``)."""

from rnnbook.models.config import ModelConfig
from rnnbook.models.gru import TinyGRU
from rnnbook.models.interventions import Clamp, Gain, Intervention, Lesion, Perturb
from rnnbook.models.parts import PARTS
from rnnbook.models.rate_rnn import RateRNN, Rollout, Weights

MODELS = {"rate": RateRNN, "gru": TinyGRU}

__all__ = [
    "MODELS",
    "PARTS",
    "Clamp",
    "Gain",
    "Intervention",
    "Lesion",
    "ModelConfig",
    "Perturb",
    "RateRNN",
    "TinyGRU",
    "Rollout",
    "Weights",
]
