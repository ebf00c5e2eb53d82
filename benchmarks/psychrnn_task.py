"""PsychRNN's ``PerceptualDiscrimination`` as an rnnbook Task, to train rnnbook on it.

It imports only ``psychrnn.tasks`` (numpy, no TensorFlow). PsychRNN draws trials from
numpy's global generator, so ``sample`` seeds it from the torch generator it is given.
Targets are PsychRNN's (1.0 for the chosen side, 0.2 for the other, after the stimulus);
the mask ``[B, T, 2]`` is PsychRNN's; accuracy is PsychRNN's own ``accuracy_function``.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnbook.tasks import Task, TaskConfig, Trials

# PsychRNN at workload A's sizes: T = 2000 ms in steps of dt = 20 ms, i.e. 100 steps
DT, TAU, DURATION_MS = 20.0, 100.0, 2000.0


class PsychRNNPerceptual(Task):
    """PsychRNN's 2AFC task: inputs [B, T, 2], targets [B, T, 2], mask [B, T, 2]."""

    name = "psychrnn_perceptual"
    n_classes = 2

    def __init__(self):
        super().__init__(TaskConfig(dt=DT))

    @property
    def n_in(self) -> int:
        return 2

    @property
    def n_out(self) -> int:
        return 2

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

        np.random.seed(int(torch.randint(2**31, (1,), generator=generator)))
        task = PerceptualDiscrimination(dt=DT, tau=TAU, T=DURATION_MS, N_batch=batch_size)
        inputs, targets, mask, params = task.get_trial_batch()
        direction = torch.tensor([p["direction"] for p in params])
        return Trials(
            inputs=torch.as_tensor(inputs, dtype=torch.float32),
            targets=torch.as_tensor(targets, dtype=torch.float32),
            mask=torch.as_tensor(mask, dtype=torch.float32),
            conditions={"choice": direction},
            dt=DT,
        )

    def choices(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """[B] PsychRNN's rule: the larger channel of the masked output's time average."""
        return (outputs * trials.mask).mean(dim=1).argmax(dim=1)

    def correct_choices(self, trials: Trials) -> torch.Tensor:
        return (trials.targets * trials.mask).mean(dim=1).argmax(dim=1)

    def accuracy(self, outputs: torch.Tensor, trials: Trials) -> float:
        """PsychRNN's own ``accuracy_function`` on ``outputs [B, T, 2]``."""
        from psychrnn.tasks.perceptual_discrimination import PerceptualDiscrimination

        task = PerceptualDiscrimination(dt=DT, tau=TAU, T=DURATION_MS, N_batch=len(outputs))
        return float(
            task.accuracy_function(trials.targets.numpy(), outputs.numpy(), trials.mask.numpy())
        )
