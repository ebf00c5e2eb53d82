"""Masked losses (registry ``LOSSES``). Only the steps (and channels) the task's mask weights
count.

Each entry is a :class:`Loss`: the function, the kind of targets it needs (a key of
``rnnbook.tasks.base.TARGET_KINDS``), which ``train()`` checks against the task's declared
``target_kind`` (``cross_entropy`` and ``modcog`` need class indices, ``mse`` regression
values), the ``TrainConfig`` fields it takes as keyword options (``label_smoothing``) and the
``Trials.periods`` it reads (``modcog``: the decision period). The training step and the
evaluation call one helper, :func:`loss_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F


def masked_cross_entropy(
    outputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    *,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Mean cross-entropy over masked steps.

    outputs: [B, T, n_out] logits; targets: [B, T] class indices; mask: [B, T] weights.
    ``label_smoothing``: as ``torch.nn.functional.cross_entropy`` (the target mixes the one-hot
    class, weight 1 - eps, with the uniform distribution over the n_out classes, weight eps).
    """
    per_step = F.cross_entropy(
        outputs.transpose(1, 2), targets, reduction="none", label_smoothing=label_smoothing
    )  # [B, T]
    return (per_step * mask).sum() / mask.sum().clamp_min(1e-12)


def masked_mse(outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over masked entries.

    outputs, targets: [B, T, n_out]; mask: [B, T] (broadcast over channels) or [B, T, n_out].
    """
    if mask.dim() == outputs.dim() - 1:
        mask = mask[..., None].expand_as(outputs)
    return (mask * (outputs - targets) ** 2).sum() / mask.sum().clamp_min(1e-12)


def modcog_loss(
    outputs: torch.Tensor,
    targets: torch.Tensor,
    mask: torch.Tensor,
    *,
    decision: torch.Tensor,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Seed 000's combined Mod-Cog loss ``L_fix + L_dec`` (its ``ModCogLossCombined`` less the
    fixation-down term, which is the penalty ``fixation_down``).

    ``L_fix``: the mean squared error of the logits [B, T, n_out] against the one-hot class 0
    (fixate) on the steps outside the ``decision`` period [B, T] (bool), averaged over those
    steps and the n_out channels; ``L_dec``: the cross-entropy (with ``label_smoothing``) of
    the logits against ``targets`` [B, T] on the decision steps. Each step counts with its
    ``mask`` weight (a task judged this way weights its fixation steps too; padding past a
    trial's end has weight 0); a term without steps is 0.
    """
    weight = mask * decision  # [B, T]
    fixating = mask * ~decision
    fixate = torch.zeros_like(outputs)
    fixate[..., 0] = 1.0
    squared = ((outputs - fixate) ** 2).mean(-1)  # [B, T], the mean over channels
    loss_fix = (squared * fixating).sum() / fixating.sum().clamp_min(1e-12)
    loss_dec = masked_cross_entropy(outputs, targets, weight, label_smoothing=label_smoothing)
    return loss_fix + loss_dec


@dataclass(frozen=True)
class Loss:
    """A registered loss: ``function(outputs, targets, mask, **keywords) -> scalar``, the
    ``targets`` kind it needs (``"classes"``: [B, T] class indices; ``"values"``:
    [B, T, n_out]), the ``TrainConfig`` fields it takes as keywords (``options``) and the
    ``Trials.periods`` it takes as keywords of the same name (``periods``)."""

    function: Callable[..., torch.Tensor]
    targets: str
    options: tuple[str, ...] = ()
    periods: tuple[str, ...] = ()

    def __call__(self, outputs: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor, **kw):
        return self.function(outputs, targets, mask, **kw)


LOSSES = {
    "cross_entropy": Loss(masked_cross_entropy, targets="classes", options=("label_smoothing",)),
    "mse": Loss(masked_mse, targets="values"),
    "modcog": Loss(
        modcog_loss, targets="classes", options=("label_smoothing",), periods=("decision",)
    ),
}


def loss_of(config, trials, outputs: torch.Tensor) -> torch.Tensor:
    """The loss ``config.loss`` of ``outputs`` [B, T, n_out] on ``trials``, with the config's
    options and the periods the loss reads; ValueError naming ``TrainConfig.loss`` and the
    period when the trials lack one."""
    loss = LOSSES[config.loss]
    keywords = {name: getattr(config, name) for name in loss.options}
    for name in loss.periods:
        if name not in trials.periods:
            raise ValueError(missing_period(config.loss, name, trials))
        keywords[name] = trials.periods[name]
    return loss(outputs, trials.targets, trials.mask, **keywords)


def missing_period(loss: str, period: str, trials) -> str:
    """The error of a loss that reads a period the task's trials do not have."""
    return (
        f"TrainConfig.loss = {loss!r} is not allowed for this task: it needs the period "
        f"{period!r} in Trials.periods, which has {sorted(trials.periods)}; choose a loss that "
        f"fits the task"
    )


def losses_for(target_kind: str) -> tuple[str, ...]:
    """The names of the losses that fit targets of ``target_kind``."""
    return tuple(name for name, loss in LOSSES.items() if loss.targets == target_kind)
