"""``train(model, task, config, *, seed, callbacks) -> History``: one network, one loop.

The loop knows nothing about the model beyond ``model(inputs, generator=) -> Rollout`` and
nothing about the task beyond ``task.sample``; each step is ``step.training_step``, the same
step many-networks training takes. Curricula, early stopping, the learning-rate schedule, the
restoring of the best weights and the progress bar are callbacks (built from the config, plus
any the caller passes).
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field

import torch

from rnnbook.runtime import threads_for, torch_threads, tune_for_training
from rnnbook.seeding import check_seed
from rnnbook.tasks import Task
from rnnbook.tasks.base import TARGET_KINDS
from rnnbook.training.callbacks import (
    BestWeights,
    CosineAnnealing,
    Curriculum,
    EarlyStopping,
    LossPlateau,
    NoiseCurriculum,
    ProgressBar,
)
from rnnbook.training.config import TrainConfig
from rnnbook.training.history import History
from rnnbook.training.losses import LOSSES, losses_for, missing_period
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.step import (
    Member,
    check_divergence,
    evaluate_members,
    is_eval_step,
    record_step,
    training_step,
)


@dataclass
class TrainState:
    """What callbacks see and may change (``task``, ``stop``, ``lr_scale``: each update is
    scaled by it, which is the learning rate times it for adam and sgd)."""

    model: torch.nn.Module
    task: Task
    n_steps: int
    history: History = field(default_factory=History)
    step: int = 0
    eval_loss: float = math.nan
    eval_accuracy: float = math.nan
    stop: bool = False
    lr_scale: float = 1.0


class SingleNetwork:
    """One model as the training step's network: its trainable parameters, one member."""

    def __init__(self, model: torch.nn.Module):
        self.model = model
        named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
        self.names, self.params = [n for n, _ in named], [p for _, p in named]

    def forward(self, trials, generators):
        return [self.model(trials[0].inputs, generator=generators[0])]

    def weights(self) -> list:
        """The model's effective weights (None for a model without ``effective_weights``: a
        penalty that reads them then names itself)."""
        effective = getattr(self.model, "effective_weights", None)
        return [effective() if effective is not None else None]

    @staticmethod
    def members(tensor: torch.Tensor) -> torch.Tensor:
        return tensor[None]


def _callbacks(cfg: TrainConfig, extra, progress: bool) -> list:
    built = []
    curriculum = Curriculum(cfg.curriculum) if cfg.curriculum is not None else None
    if curriculum is not None:
        built.append(curriculum)
    if cfg.target_accuracy is not None:
        built.append(EarlyStopping(cfg.target_accuracy, curriculum))
    noise = None
    if cfg.noise_stages is not None:
        noise = NoiseCurriculum(cfg.noise_stages, by_patience=cfg.early_stop_patience is not None)
        built.append(noise)
    if cfg.lr_plateau_factor is not None or cfg.early_stop_patience is not None:
        built.append(LossPlateau(cfg, noise))
    if cfg.lr_schedule == "cosine":  # after the noise curriculum, whose stages reset lr_scale
        built.append(CosineAnnealing(cfg))
    if cfg.restore_best:
        built.append(BestWeights())
    if progress:
        built.append(ProgressBar())
    return built + list(extra)


def _fire(callbacks, hook: str, state: TrainState) -> None:
    for callback in callbacks:
        method = getattr(callback, hook, None)
        if method is not None:
            method(state)


def train(
    model: torch.nn.Module,
    task: Task,
    config: TrainConfig,
    *,
    seed: int = 0,
    callbacks=(),
    progress: bool = True,
) -> History:
    """Train ``model`` on ``task`` with the config's optimiser; returns the History (with the
    call's wall time, ``History.wall_s``).

    ``seed`` fans out (``rnnbook.seeding``) into the generators of training trials, training
    noise and validation. Same seed, same numbers. Raises DivergenceError (naming the step) on
    a non-finite loss or gradient, or a loss above ``TrainConfig.divergence_factor`` times the
    first step's, before the optimiser step, so the model keeps the (finite) parameters of the
    last good step (no update from a finite gradient can overflow: ``TrainConfig.lr`` is at most
    ``MAX_LR``). The model is also evaluated before the first step (``eval_step`` 0).

    Raises ValueError, before training, naming the field when the model does not fit the task
    (``n_in``, ``n_out``, ``dt`` of ``model.config``, as ``ModelConfig.for_task`` checks them),
    when ``config.loss`` does not fit the task's targets (``Task.target_kind``), when the
    curriculum's field is no field of the task's config, or when ``seed`` is no seed.

    Speed settings (``rnnbook.runtime``): the thread count is chosen by network size for the
    duration of the call; denormals are flushed to zero and glibc is kept from mmap'ing large
    tensors and from trimming its heap, all process-wide (a near-zero loss made steps 15x slower
    without the first; long sequences drift from 3 to 6 s per step without the second, and
    fault their memory back in at every step without the third).
    """
    check_fits(model, task, config)
    check_seed(seed, "seed")
    tune_for_training()
    n_rec = getattr(getattr(model, "config", None), "n_rec", 0)
    start = time.perf_counter()
    with torch_threads(threads_for(n_rec)):
        history = _train(model, task, config, seed, callbacks, progress)
    history.wall_s = time.perf_counter() - start
    return history


def check_fits(model: torch.nn.Module, task: Task, config: TrainConfig) -> None:
    """Raise ValueError naming the field when ``model``, ``task`` and ``config`` cannot train
    together (see :func:`train`)."""
    if not isinstance(config, TrainConfig):
        raise ValueError(f"train(config=) = {config!r} is not allowed: want a TrainConfig")
    for_task = getattr(getattr(model, "config", None), "for_task", None)
    if callable(for_task):
        for_task(task)  # ValueError naming the field and both values
    check_config_fits(task, config)
    check_noise_stages(model, config)


def check_noise_stages(model: torch.nn.Module, config: TrainConfig) -> None:
    """Raise ValueError naming ``TrainConfig.noise_stages`` when it is set and the model has
    no spike-count noise to raise (``ModelConfig.spike_noise_factor > 0``)."""
    if config.noise_stages is None:
        return
    noise = getattr(model, "noise", None)
    if not getattr(noise, "spike", False) or not getattr(noise, "factor", 0) > 0:
        raise ValueError(
            f"TrainConfig.noise_stages = {config.noise_stages!r} is not allowed for this model: "
            "the noise curriculum raises spike-count noise, and the model has none: want a "
            "ModelConfig with noise = 'spike_*' and spike_noise_factor > 0, or noise_stages = None"
        )


def check_config_fits(task: Task, config: TrainConfig) -> None:
    """Raise ValueError naming the field when ``config`` cannot train on ``task``: its loss does
    not fit the task's targets or reads a period its trials lack (one trial is sampled, from a
    generator of its own, to see), or its curriculum's field is no field of the task's
    config."""
    kind = getattr(task, "target_kind", None)
    loss = LOSSES[config.loss]
    if kind in TARGET_KINDS and loss.targets != kind:
        raise ValueError(
            f"TrainConfig.loss = {config.loss!r} does not fit {type(task).__name__}, whose "
            f"targets are {TARGET_KINDS[kind]} ({loss.targets} needed): choose "
            f"one of {losses_for(kind)}"
        )
    if loss.periods:
        trials = task.sample(1, generator=torch.Generator().manual_seed(0))
        for period in loss.periods:
            if period not in trials.periods:
                raise ValueError(missing_period(config.loss, period, trials))
    curriculum = config.curriculum
    names = [f.name for f in dataclasses.fields(task.config)]
    if curriculum is not None and curriculum.field not in names:
        raise ValueError(
            f"CurriculumConfig.field = {curriculum.field!r} is no field of "
            f"{type(task.config).__name__}: choose one of {tuple(names)}"
        )


def _train(model, task, config, seed, callbacks, progress) -> History:
    device = next(model.parameters()).device
    network = SingleNetwork(model)
    member = Member.create(task, config, seed, device)
    optimizer = OPTIMIZERS[config.optimizer](
        [network.members(p) for p in network.params], network.names, [config]
    )
    callbacks = _callbacks(config, callbacks, progress)
    state = TrainState(model=model, task=task, n_steps=config.n_steps, history=member.history)
    _fire(callbacks, "on_train_begin", state)
    _evaluate(network, member, state, device)
    for step in range(1, config.n_steps + 1):
        state.step, member.task = step, state.task
        result = training_step(network, [member], device)
        loss, grad_norm = result.losses.item(), result.grad_norms.item()
        check_divergence(member, loss, grad_norm, step)  # raises before the update is applied
        scaled_step(optimizer, network, state.lr_scale)
        norms = result.param_norms[0].tolist()
        accuracy = result.accuracies.item() if config.record_accuracy else None
        record_step(state.history, step, loss, grad_norm, network.names, norms, accuracy)
        _fire(callbacks, "on_step_end", state)
        if is_eval_step(step, config):
            _evaluate(network, member, state, device)
            _fire(callbacks, "on_eval", state)
        if state.stop:
            break
    _fire(callbacks, "on_train_end", state)
    return state.history


def scaled_step(optimizer, network, scale: float) -> None:
    """The optimiser's step, with each parameter's update scaled by ``scale`` (``w <- w_old +
    scale (w_new - w_old)``): for adam and sgd the step at ``scale`` times the learning rate
    (except where a magnitude weight crosses zero and is reflected)."""
    before = [p.detach().clone() for p in network.params] if scale != 1.0 else None
    optimizer.step([network.members(p.grad) for p in network.params], [True])
    if before is not None:
        with torch.no_grad():
            for p, old in zip(network.params, before, strict=True):
                p.copy_(torch.lerp(old, p, scale))


def _evaluate(network, member: Member, state: TrainState, device) -> None:
    member.task = state.task
    evaluate_members(network, [member], device, state.step)
    state.eval_loss = member.history.eval_loss[-1]
    state.eval_accuracy = member.history.eval_accuracy[-1]
