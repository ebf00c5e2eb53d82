"""PsychRNN's networks as rnnbook models, and rnnbook models run on given trials.

``to_rate_rnn`` loads the weights of a trained PsychRNN ``Basic`` network into a
:class:`~rnnbook.models.RateRNN`: both integrate ``x_{t+1} = (1 - alpha) x_t + alpha (W_rec
relu(x_t) + W_in u_t + b_rec) + sqrt(2 alpha) sigma_rec xi_t`` and read ``W_out relu(x) + b_out``,
so rnnbook's analyses (noise switched off, lesions, fixed points) apply to PsychRNN's networks.
``evaluate_trials`` runs any rnnbook model on a given batch of trials, so that every network of
a comparison is tested on the same trials.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from rnnbook.analysis import Evaluation
from rnnbook.models import ModelConfig, RateRNN, Rollout
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task, Trials


def evaluation_of(task: Task, trials: Trials, rollout: Rollout) -> Evaluation:
    """An Evaluation of ``rollout`` on ``trials``, with the task's choices."""
    choices = task.choices(rollout.outputs, trials)
    return Evaluation(trials, rollout, choices, choices == task.correct_choices(trials))


def to_rate_rnn(
    weights: dict[str, np.ndarray], model_config: ModelConfig, *, sigma_rec: float | None = None
) -> tuple[RateRNN, torch.Tensor]:
    """A trained PsychRNN network as a :class:`~rnnbook.models.RateRNN`, and its trained
    initial state ``h0 [1, n_rec]``: ``model(inputs, h0)`` runs PsychRNN's equations.

    ``weights``: ``PsychRNNRun.weights``; ``model_config``: the config it was trained with.
    The model holds PsychRNN's effective weights (after its connectivity masks), so it
    reproduces PsychRNN's outputs to float32 rounding when noise is off.
    ``sigma_rec``: the recurrent noise of the returned model (default: the trained one's).
    """
    w = weights
    noise = model_config.sigma_rec if sigma_rec is None else sigma_rec
    model = RateRNN(dataclasses.replace(model_config, sigma_rec=noise))
    model.set_effective_weights(
        recurrent=w["W_rec"],  # [n_rec (post), n_rec (pre)], as PsychRNN's
        input=w["W_in"],  # [n_rec, n_in]
        readout=w["W_out"],  # [n_out, n_rec]
        bias=w["b_rec"],
        readout_bias=w["b_out"],
    )
    return model, torch.as_tensor(w["init_state"], dtype=torch.float32)


@torch.no_grad()
def evaluate_trials(
    model: torch.nn.Module,
    task: Task,
    trials: Trials,
    *,
    h0: torch.Tensor | None = None,
    seed: int = 0,
) -> Evaluation:
    """Run an rnnbook ``model`` on given ``trials`` (from ``h0``, noise drawn from ``seed``'s
    test-noise stream): the same test trials for every network, PsychRNN's included."""
    device = next(model.parameters()).device
    noise = Seeds.from_seed(seed).generator("test_noise", device)
    h0 = None if h0 is None else h0.to(device)
    rollout = model(trials.inputs.to(device), h0, generator=noise)
    rollout = Rollout(*(t.detach().cpu() for t in (rollout.outputs, rollout.states, rollout.rates)))
    return evaluation_of(task, trials, rollout)
