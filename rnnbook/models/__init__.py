"""Models: the leaky rate RNN and its constraints (one module each); ``MODELS`` by name."""

from rnnbook.models.config import ModelConfig
from rnnbook.models.rate_rnn import RateRNN, Rollout

MODELS = {"rate": RateRNN}

__all__ = ["MODELS", "ModelConfig", "RateRNN", "Rollout"]
