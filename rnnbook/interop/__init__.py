"""Other libraries' models and tasks, side by side with rnnbook's.

- :mod:`rnnbook.interop.psychrnn_task`: PsychRNN's ``PerceptualDiscrimination`` as an rnnbook
  task (numpy only; the same trials as PsychRNN's generator for the same seed).
- :mod:`rnnbook.interop.psychrnn`: train PsychRNN's ``Basic`` model (TensorFlow) from rnnbook's
  configs and read its trajectories as an rnnbook ``Evaluation``. TensorFlow is imported only
  when a function needs it.
- :mod:`rnnbook.interop.rollouts`: a PsychRNN network as an rnnbook ``RateRNN``, and any model
  run on given trials.
"""

from rnnbook.interop.psychrnn import PsychRNNRun, psychrnn_params, train_psychrnn
from rnnbook.interop.psychrnn_task import PsychRNNPerceptual, PsychRNNPerceptualConfig
from rnnbook.interop.rollouts import evaluate_trials, evaluation_of, to_rate_rnn

__all__ = [
    "PsychRNNPerceptual",
    "PsychRNNPerceptualConfig",
    "PsychRNNRun",
    "evaluate_trials",
    "evaluation_of",
    "psychrnn_params",
    "to_rate_rnn",
    "train_psychrnn",
]
