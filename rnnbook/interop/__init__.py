"""Other libraries' models and tasks, side by side with rnnbook's.

- :mod:`rnnbook.tasks.psychrnn_perceptual` (registered as ``"psychrnn_perceptual"``): PsychRNN's
  ``PerceptualDiscrimination`` as an rnnbook
  task (numpy only; the same trials as PsychRNN's generator for the same seed).
- :mod:`rnnbook.interop.psychrnn`: train PsychRNN's ``Basic`` model (TensorFlow) from rnnbook's
  configs and read its trajectories as an rnnbook ``Evaluation``. TensorFlow is imported only
  when a function needs it.
- :mod:`rnnbook.interop.rollouts`: a PsychRNN network as an rnnbook ``RateRNN``.
"""

from rnnbook.interop.psychrnn import PsychRNNRun, psychrnn_params, train_psychrnn
from rnnbook.interop.rollouts import to_rate_rnn
from rnnbook.tasks.psychrnn_perceptual import PsychRNNPerceptual, PsychRNNPerceptualConfig

__all__ = [
    "PsychRNNPerceptual",
    "PsychRNNPerceptualConfig",
    "PsychRNNRun",
    "psychrnn_params",
    "to_rate_rnn",
    "train_psychrnn",
]
