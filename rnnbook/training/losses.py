"""Masked losses (registry ``LOSSES``). Only the steps (and channels) the task's mask weights
count.

Each entry is a :class:`Loss`: the function, the kind of targets it needs (a key of
``rnnbook.tasks.base.TARGET_KINDS``), which ``train()`` checks against the task's declared
``target_kind`` (``cross_entropy`` and ``modcog`` need class indices, ``mse`` regression
values), the ``TrainConfig`` fields it takes as keyword options (``label_smoothing``) and the
``Trials.periods`` it reads (``modcog``: the decision period). The training step and the
evaluation call one helper, :func:`loss_of`.

Seed 003's per-item errors (``l2``, ``sqrtl2``, ``rad``, ``exp``; spec ``seed003.md`` §3.4)
read the outputs as one (cos, sin) pair per item slot, average each over its masked steps and
count only the slots the mask weights (the present items of ``tasks.DelayedEstimation``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch.nn import functional as F

from rnnbook.training.soft_targets import masked_soft_cross_entropy


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


def slot_means(outputs, targets, mask):
    """Seed 003's view of a (cos, sin) report per item slot: ``(reports, wanted, present,
    weights)``. outputs, targets: [B, T, 2M], slot k in channels (2k, 2k + 1); mask: [B, T]
    or [B, T, 2M] (a slot is weighted by its cos channel's mask). ``wanted`` [B, M, 2]: the
    targets averaged over each slot's weighted steps; ``present`` [B, M] bool: slots with
    weight; ``weights`` [B, T, M, 1] the steps' weights normalised to sum 1 per slot, for
    averaging ``reports`` [B, T, M, 2] (the outputs as pairs) over time."""
    if outputs.shape[-1] % 2:
        raise ValueError(
            f"the (cos, sin) losses read pairs of outputs: n_out = {outputs.shape[-1]} is odd; "
            "want 2 per item slot (choose another TrainConfig.loss for this task)"
        )
    batch, n_steps, n_out = outputs.shape
    if mask.dim() == 2:
        mask = mask[..., None].expand(batch, n_steps, n_out)
    weight = mask[..., 0::2]  # [B, T, M]
    total = weight.sum(1, keepdim=True)  # [B, 1, M]
    weights = (weight / total.clamp_min(1e-12))[..., None]  # [B, T, M, 1]
    reports = outputs.reshape(batch, n_steps, -1, 2)
    wanted = (targets.reshape(batch, n_steps, -1, 2) * weights).sum(1)  # [B, M, 2]
    return reports, wanted, total[:, 0] > 0, weights


def item_mean(errors: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Seed 003's training error: per trial the mean of ``errors`` [B, M] over its present
    slots (``present`` [B, M] bool), then the mean over the trials with any."""
    errors = torch.where(present, errors, 0.0)
    count = present.sum(1)
    per_trial = errors.sum(1) / count.clamp_min(1)
    return per_trial.sum() / (count > 0).sum().clamp_min(1)


def l2_error(outputs, targets, mask) -> torch.Tensor:
    """``l2``: ``|y_k - mean_t P_k(t)|^2`` per present slot k, averaged as :func:`item_mean`.
    outputs, targets: [B, T, 2M]; mask: [B, T] or [B, T, 2M] (the decode steps of present
    slots). The mean over t is over each slot's masked steps."""
    reports, wanted, present, weights = slot_means(outputs, targets, mask)
    mean = (reports * weights).sum(1)  # [B, M, 2]
    return item_mean(((wanted - mean) ** 2).sum(-1), present)


def sqrtl2_error(outputs, targets, mask) -> torch.Tensor:
    """``sqrtl2``: ``10 sqrt(|y_k - mean_t P_k(t)|)`` per present slot (as ``l2``; the norm
    has 1e-12 added under its square so the gradient stays finite at 0)."""
    reports, wanted, present, weights = slot_means(outputs, targets, mask)
    squared = ((wanted - (reports * weights).sum(1)) ** 2).sum(-1)
    return item_mean(10.0 * (squared + 1e-12) ** 0.25, present)


def angle_gaps(outputs, targets, mask):
    """``(delta, present)``: seed 003's ``delta_k = arccos(y_k . mean_t[P_k(t) / |P_k(t)|])``
    [B, M] (radians; each step's pair normalised, the mean not renormalised; the cosine clipped
    to +-(1 - 1e-7) so the gradient stays finite) and the present slots [B, M]."""
    reports, wanted, present, weights = slot_means(outputs, targets, mask)
    unit = F.normalize(reports, dim=-1, eps=1e-12)
    cosine = (wanted * (unit * weights).sum(1)).sum(-1)  # [B, M]
    return torch.arccos(cosine.clamp(-1 + 1e-7, 1 - 1e-7)), present


def rad_error(outputs, targets, mask) -> torch.Tensor:
    """``rad``: the angle gap delta_k (:func:`angle_gaps`) per present slot, in radians."""
    delta, present = angle_gaps(outputs, targets, mask)
    return item_mean(delta, present)


def exp_error(outputs, targets, mask) -> torch.Tensor:
    """``exp``: ``-10 exp(-3 delta_k / pi)`` per present slot (:func:`angle_gaps`): -10 at a
    perfect report."""
    delta, present = angle_gaps(outputs, targets, mask)
    return item_mean(-10.0 * torch.exp(-3.0 * delta / math.pi), present)


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
    "soft_cross_entropy": Loss(masked_soft_cross_entropy, targets="values"),  # seed 004's NLL
    "modcog": Loss(
        modcog_loss, targets="classes", options=("label_smoothing",), periods=("decision",)
    ),
    # seed 003's error_def: one (cos, sin) report per item slot, averaged over present items
    "l2": Loss(l2_error, targets="values"),
    "sqrtl2": Loss(sqrtl2_error, targets="values"),
    "rad": Loss(rad_error, targets="values"),
    "exp": Loss(exp_error, targets="values"),
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
