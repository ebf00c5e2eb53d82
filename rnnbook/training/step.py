"""The one training step, used by ``train()`` (one network) and by many-networks training.

A *network* here is anything with

- ``forward(trials: list[Trials], generators: list[Generator]) -> list[Rollout]``: one rollout
  per member, each on its own trials with noise from its own generator;
- ``weights() -> list[Weights]``: each member's effective weights (differentiable), asked for
  only when a penalty reads them;
- ``params``: the trainable leaf tensors; ``names``: their parameter names;
- ``members(t)``: a tensor laid out as ``params`` (a parameter or its gradient) seen with the
  member axis first, ``[K, ...]`` (a single network: ``t[None]``).

One step (``training_step``): sample each member's trials, forward, loss and penalties
(``objective``; the step number, for the penalties' warm-up, is the member's count of recorded
steps plus one), the accuracy on the batch (``accuracy_of``), backward, each member's gradient
norm and clipping (``clip_grad_norms``); then the caller checks each member for divergence
(``check_divergence``) before the optimiser steps (so a member that diverges keeps the
parameters it had), steps the optimiser and records the step (``record_step``). An update from
a finite gradient cannot make a weight non-finite: an Adam step moves each weight by at most
about 3 lr, ``TrainConfig.lr`` is at most ``training.config.MAX_LR``, and sgd and eg keep
every weight within float32's range. Evaluation on held-out trials: ``evaluate_members``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from rnnbook.seeding import Seeds, device_generator
from rnnbook.tasks import Task
from rnnbook.training.config import TrainConfig
from rnnbook.training.history import History
from rnnbook.training.losses import loss_of

DIVERGENCE_FLOOR = 1e-3  # the smallest first-step loss that TrainConfig.divergence_factor scales


class DivergenceError(RuntimeError):
    """Training diverged: a non-finite loss, gradient or update, or a loss above
    ``TrainConfig.divergence_factor`` times the first step's; the model keeps the finite
    parameters it had before that step's update."""


@dataclass
class Member:
    """One network being trained: its task, config, generators, history and failure.

    Generators (from the seed plan, ``rnnbook.seeding``): ``trials`` and ``noise`` for
    training; ``validation`` for held-out trials and ``validation_noise`` for their noise (the
    same generator on the CPU, a device generator seeded from the stream elsewhere).
    """

    task: Task
    config: TrainConfig
    trials: torch.Generator
    noise: torch.Generator
    validation: torch.Generator
    validation_noise: torch.Generator
    history: History = field(default_factory=History)
    failure: str | None = None
    first_loss: float | None = None  # the loss of the first training step

    @classmethod
    def create(cls, task: Task, config: TrainConfig, seed: int, device) -> Member:
        seeds, device = Seeds.from_seed(seed), torch.device(device)
        validation = seeds.generator("validation")
        noise = validation if device.type == "cpu" else seeds.generator("validation")
        return cls(
            task=task,
            config=config,
            trials=seeds.generator("trials"),
            noise=seeds.generator("noise", device),
            validation=validation,
            validation_noise=device_generator(noise, device),
        )

    @property
    def active(self) -> bool:
        return self.failure is None


def objective(
    config: TrainConfig, task: Task, trials, rollout, weights=None, *, model=None, step=None
) -> torch.Tensor:
    """The loss of one network on one batch: the task loss plus every penalty (``weights``: the
    network's effective weights, ``model``: the member's model, each for the penalties that
    read them; ``step``: the training step 1, 2, ..., for their warm-up; None: full weight)."""
    loss = loss_of(config, trials, rollout.outputs)
    for penalty in config.penalties:
        loss = loss + penalty(trials, rollout, task, weights, model=model, step=step)
    return loss


def member_models(network, n_members: int) -> list:
    """Each member's model (``network.models`` of a stack, ``network.model`` of one network;
    None where the network has neither): what a penalty that reads the model is given."""
    models = getattr(network, "models", None)
    if models is None:
        models = [getattr(network, "model", None)] * n_members
    return list(models)


def accuracy_of(task: Task, outputs: torch.Tensor, trials) -> torch.Tensor | float:
    """The task's accuracy on a batch: ``task.accuracy(outputs, trials)`` where the task has it,
    else the fraction of trials whose ``task.choices`` equal ``task.correct_choices``; NaN for
    a task without choices. A tensor (no device sync) or a float."""
    accuracy = getattr(task, "accuracy", None)
    if accuracy is not None:
        return accuracy(outputs, trials)
    if not hasattr(task, "choices"):
        return math.nan
    correct = task.choices(outputs, trials) == task.correct_choices(trials)
    return correct.float().mean()


def _as_tensor(values: list, device) -> torch.Tensor:
    """[K] float32 from a list of floats and 0-d tensors."""
    if all(not isinstance(v, torch.Tensor) for v in values):
        return torch.tensor([float(v) for v in values])
    return torch.stack(
        [torch.as_tensor(v, dtype=torch.float32, device=device).reshape(()) for v in values]
    )


@dataclass
class StepResult:
    """losses [K]; grad_norms [K] before clipping; param_norms [K, P] each parameter's
    gradient norm before clipping (NaN for a member whose loss was not finite); accuracies [K]
    each member's accuracy on its batch (``accuracy_of``)."""

    losses: torch.Tensor
    grad_norms: torch.Tensor
    param_norms: torch.Tensor
    accuracies: torch.Tensor


def training_step(network, members: list[Member], device) -> StepResult:
    """Sample, forward, objective, backward and clip, for every member at once."""
    trials = [m.task.sample(m.config.batch_size, generator=m.trials).to(device) for m in members]
    rollouts = network.forward(trials, [m.noise for m in members])
    reads = any(p.needs_weights for m in members for p in m.config.penalties)
    weights = network.weights() if reads else [None] * len(members)
    models = member_models(network, len(members))
    losses = [
        objective(m.config, m.task, tr, ro, w, model=model, step=len(m.history.step) + 1)
        for m, tr, ro, w, model in zip(members, trials, rollouts, weights, models, strict=True)
    ]
    with torch.no_grad():  # only where asked for: a few small ops a step (7-20 % at n_rec 32)
        accuracies = [
            accuracy_of(m.task, ro.outputs, tr) if m.config.record_accuracy else math.nan
            for m, tr, ro in zip(members, trials, rollouts, strict=True)
        ]
    finite = [
        m.active and bool(torch.isfinite(loss)) for m, loss in zip(members, losses, strict=True)
    ]
    for p in network.params:
        p.grad = None
    if any(finite):
        sum(loss for loss, ok in zip(losses, finite, strict=True) if ok).backward()
    grads = [network.members(_grad(p)) for p in network.params]
    param_norms = torch.stack([g.flatten(1).norm(dim=1) for g in grads], 1)  # [K, P]
    max_norms = [math.inf if m.config.grad_clip is None else m.config.grad_clip for m in members]
    grad_norms = clip_grad_norms(grads, param_norms, torch.tensor(max_norms, device=device))
    nan = torch.tensor([0.0 if ok else math.nan for ok in finite], device=device)
    losses = torch.stack([loss.detach() for loss in losses]).reshape(-1)
    return StepResult(
        losses, grad_norms + nan, param_norms + nan[:, None], _as_tensor(accuracies, device)
    )


def _grad(param: torch.Tensor) -> torch.Tensor:
    if param.grad is None:
        param.grad = torch.zeros_like(param)
    return param.grad


@torch.no_grad()
def clip_grad_norms(grads, param_norms: torch.Tensor, max_norms: torch.Tensor) -> torch.Tensor:
    """Each member's total gradient norm [K] before clipping, from ``param_norms [K, P]``;
    scales each member's gradients (``grads``: [K, ...] views) as ``clip_grad_norm_`` would."""
    total = torch.linalg.vector_norm(param_norms, dim=1)  # [K]
    coef = (max_norms / (total + 1e-6)).clamp(max=1.0)
    if bool((coef < 1).any()):
        for g in grads:
            g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return total


def check_divergence(member: Member, loss: float, grad_norm: float, step: int) -> None:
    """Raise DivergenceError naming the step if this step's loss or gradient norm is not
    finite, or if its loss exceeds ``divergence_factor * max(first step's loss,
    DIVERGENCE_FLOOR)`` (``TrainConfig.divergence_factor``, unless None). Called before the
    optimiser applies the step, so the model keeps the parameters it had."""
    config = member.config
    for name, value in (("loss", loss), ("gradient norm", grad_norm)):
        if not math.isfinite(value):
            raise DivergenceError(
                f"training diverged at step {step}: {name} = {value}; the model keeps the "
                f"parameters from step {step - 1}; lower TrainConfig.lr = {config.lr!r}"
            )
    if member.first_loss is None:
        member.first_loss = loss
    factor = config.divergence_factor
    if factor is None:
        return
    reference = max(member.first_loss, DIVERGENCE_FLOOR)
    if loss > factor * reference:
        raise DivergenceError(
            f"training diverged at step {step}: loss = {loss:.4g} exceeds "
            f"TrainConfig.divergence_factor = {factor!r} times the first step's loss "
            f"(max({member.first_loss:.4g}, {DIVERGENCE_FLOOR:g}) = {reference:.4g}); the model "
            f"keeps the parameters from step {step - 1}; lower TrainConfig.lr = {config.lr!r}, or "
            "raise TrainConfig.divergence_factor (None: stop on non-finite values only)"
        )


def record_step(
    history: History, step: int, loss: float, grad_norm: float, names, norms, accuracy=None
) -> None:
    """Append one training step to ``history`` (its batch accuracy unless ``accuracy`` is None:
    ``TrainConfig.record_accuracy`` off)."""
    history.step.append(step)
    history.loss.append(loss)
    history.grad_norm.append(grad_norm)
    if accuracy is not None:
        history.accuracy.append(accuracy)
    for name, value in zip(names, norms, strict=True):
        history.param_grad_norm.setdefault(name, []).append(value)


@torch.no_grad()
def evaluate_members(network, members: list[Member], device, step: int) -> None:
    """Each active member's loss (without penalties) and accuracy (``accuracy_of``) on fresh
    held-out trials of its current task, appended to its history (accuracy NaN for tasks
    without choices)."""
    trials = [
        m.task.held_out().sample(m.config.eval_batch_size, generator=m.validation).to(device)
        for m in members
    ]
    rollouts = network.forward(trials, [m.validation_noise for m in members])
    for m, tr, ro in zip(members, trials, rollouts, strict=True):
        if not m.active:
            continue
        loss = loss_of(m.config, tr, ro.outputs).item()
        accuracy = float(accuracy_of(m.task, ro.outputs, tr))
        m.history.eval_step.append(step)
        m.history.eval_loss.append(loss)
        m.history.eval_accuracy.append(accuracy)


def is_eval_step(step: int, config: TrainConfig) -> bool:
    every = [config.eval_every] + ([config.curriculum.every] if config.curriculum else [])
    return step == config.n_steps or any(step % k == 0 for k in every)
