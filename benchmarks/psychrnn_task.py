"""PsychRNN's ``PerceptualDiscrimination`` at workload A's sizes, to train rnnbook on it.

The task is :class:`rnnbook.interop.PsychRNNPerceptual`: PsychRNN's own trials (for the same
seed, exactly those of PsychRNN's generator), made without PsychRNN and vectorised over time;
its targets are PsychRNN's (1.0 for the chosen side, 0.2 for the other, after the stimulus),
its mask ``[B, T, 2]`` is PsychRNN's, and its choice rule is PsychRNN's ``accuracy_function``.
"""

from __future__ import annotations

from rnnbook import interop

# PsychRNN at workload A's sizes: T = 2000 ms in steps of dt = 20 ms, i.e. 100 steps
DT, TAU, DURATION_MS = 20.0, 100.0, 2000.0


class PsychRNNPerceptual(interop.PsychRNNPerceptual):
    """PsychRNN's 2AFC task at workload A's sizes: inputs, targets and mask [B, 100, 2]."""

    def __init__(self, config: interop.PsychRNNPerceptualConfig | None = None):
        default = interop.PsychRNNPerceptualConfig(dt=DT, trial_ms=DURATION_MS)
        super().__init__(default if config is None else config)
