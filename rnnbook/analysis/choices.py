"""The network's choices: the log-probability of the correct one, and the readout's choice at
given states (e.g. fixed points).

A classification task reads a trial's choice from the logits averaged over the task's mask
(``task.choices``); the same average gives each choice a probability by a softmax.
"""

from __future__ import annotations

import torch

from rnnbook.analysis.evaluation import model_device, run_trials, sample_trials
from rnnbook.tasks import Task, Trials


def check_classification(task: Task) -> None:
    """Raise ValueError unless ``task`` has choices (``choices`` and ``correct_choices``)."""
    if not (hasattr(task, "choices") and hasattr(task, "correct_choices")):
        raise ValueError(
            f"{type(task).__name__} has no choices: this analysis needs a classification task "
            "(one with choices and correct_choices)"
        )


def correct_log_prob(outputs: torch.Tensor, trials: Trials, task: Task) -> torch.Tensor:
    """[B] log-probability of each trial's correct choice: the log-softmax of the logits
    ``outputs [B, T, n_out]`` averaged over ``trials.mask [B, T]`` (as ``task.choices``)."""
    weights = trials.mask[..., None].to(outputs)  # [B, T, 1]
    mean_logits = (outputs * weights).sum(1) / weights.sum(1).clamp_min(1)  # [B, n_out]
    log_p = torch.log_softmax(mean_logits, dim=1)
    correct = task.correct_choices(trials).to(outputs.device)
    return log_p.gather(1, correct[:, None]).squeeze(1)


@torch.no_grad()
def choice_log_prob(
    model: torch.nn.Module, task: Task, n_trials: int, *, seed: int, intervention=None
) -> float:
    """The mean log-probability of the correct choice over ``n_trials`` test trials of ``task``
    (the trials and noise of ``evaluate(model, task, n_trials, seed=seed)``), with an optional
    ``intervention``. At chance with two choices it is ``-log 2``; a perfect network gets 0."""
    check_classification(task)
    trials = sample_trials(task, n_trials, seed=seed).to(model_device(model))
    outputs = run_trials(model, trials, seed=seed, intervention=intervention).outputs
    return float(correct_log_prob(outputs, trials, task).mean())


@torch.no_grad()
def readout_choices(model: torch.nn.Module, points) -> torch.Tensor:
    """[P] the choice the readout makes at each state: ``argmax(W_out f(x) + b_out)``.

    points: states ``x [P, n_rec]`` (tensor or array), or a ``FixedPoints`` (its ``x``).
    """
    x = torch.as_tensor(getattr(points, "x", points))
    weight = model.readout.effective_weight()  # [n_out, n_rec]
    if x.ndim != 2 or x.shape[1] != weight.shape[1]:
        raise ValueError(f"readout_choices takes states [P, {weight.shape[1]}]; got {x.shape}")
    rates = model.activation(x.to(weight))  # [P, n_rec]
    return (rates @ weight.T + model.readout_bias).argmax(1).cpu()
