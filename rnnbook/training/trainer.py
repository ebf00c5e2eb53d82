"""``train(model, task, config, *, seed, callbacks) -> History``: the training loop.

The loop knows nothing about the model beyond ``model(inputs, generator=) -> Rollout`` and
nothing about the task beyond ``task.sample``. Curricula, early stopping and the progress bar
are callbacks (built from the config, plus any the caller passes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from rnnbook.runtime import threads_for, torch_threads, tune_for_training
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task
from rnnbook.training.callbacks import Curriculum, EarlyStopping, ProgressBar
from rnnbook.training.config import TrainConfig
from rnnbook.training.history import History
from rnnbook.training.losses import LOSSES, centroid_margin_penalty


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or gradient; the model keeps its last good state."""


@dataclass
class TrainState:
    """What callbacks see and may change (``task``, ``stop``)."""

    model: torch.nn.Module
    task: Task
    n_steps: int
    history: History = field(default_factory=History)
    step: int = 0
    eval_loss: float = math.nan
    eval_accuracy: float = math.nan
    stop: bool = False


def _callbacks(cfg: TrainConfig, extra, progress: bool) -> list:
    built = []
    curriculum = Curriculum(cfg.curriculum) if cfg.curriculum is not None else None
    if curriculum is not None:
        built.append(curriculum)
    if cfg.target_accuracy is not None:
        built.append(EarlyStopping(cfg.target_accuracy, curriculum))
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
    """Train ``model`` on ``task`` with Adam; returns the History. Same seed, same numbers.

    ``seed`` fans out into the generators of training trials, noise and evaluation trials.
    Raises DivergenceError (naming the step) on a non-finite loss or gradient, before the
    optimiser step, so the model keeps the parameters of the last good step. The model is
    also evaluated before the first step (``eval_step`` 0).

    Speed settings (``rnnbook.runtime``): the thread count is chosen by network size for the
    duration of the call; denormals are flushed to zero and glibc is kept from mmap'ing large
    tensors and from trimming its heap, all process-wide (a near-zero loss made steps 15x slower
    without the first; long sequences drift from 3 to 6 s per step without the second, and
    fault their memory back in at every step without the third).
    """
    tune_for_training()
    n_rec = getattr(getattr(model, "config", None), "n_rec", 0)
    with torch_threads(threads_for(n_rec)):
        return _train(model, task, config, seed, callbacks, progress)


def _train(model, task, config, seed, callbacks, progress) -> History:
    device = next(model.parameters()).device
    seeds = Seeds.from_seed(seed)
    task_gen, eval_gen = seeds.generator("task"), seeds.generator("eval")
    noise_gen = seeds.generator("noise", device)
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    names, params = [name for name, _ in named], [p for _, p in named]
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    callbacks = _callbacks(config, callbacks, progress)
    state = TrainState(model=model, task=task, n_steps=config.n_steps)
    _fire(callbacks, "on_train_begin", state)
    _evaluate(state, config, eval_gen, device)
    for step in range(1, config.n_steps + 1):
        state.step = step
        loss, grad_norm, norms = _step(
            model, state.task, config, optimizer, params, task_gen, noise_gen
        )
        _check_finite(loss, grad_norm, step)
        for name, norm in zip(names, norms.tolist(), strict=True):
            state.history.param_grad_norm.setdefault(name, []).append(norm)
        optimizer.step()
        state.history.step.append(step)
        state.history.loss.append(loss.item())
        state.history.grad_norm.append(grad_norm.item())
        _fire(callbacks, "on_step_end", state)
        if _is_eval_step(step, config):
            _evaluate(state, config, eval_gen, device)
            _fire(callbacks, "on_eval", state)
        if state.stop:
            break
    _fire(callbacks, "on_train_end", state)
    return state.history


def _step(model, task, config, optimizer, params, task_gen, noise_gen):
    """One forward/backward pass; returns (loss, grad norm before clipping, each parameter's
    gradient norm before clipping)."""
    trials = task.sample(config.batch_size, generator=task_gen).to(noise_gen.device)
    rollout = model(trials.inputs, generator=noise_gen)
    loss = LOSSES[config.loss](rollout.outputs, trials.targets, trials.mask)
    if config.contrastive_weight > 0:
        labels = task.correct_choices(trials)
        penalty = centroid_margin_penalty(rollout.rates[:, -1], labels, config.contrastive_margin)
        loss = loss + config.contrastive_weight * penalty
    optimizer.zero_grad(set_to_none=True)
    if not torch.isfinite(loss):
        return loss, torch.tensor(math.nan), torch.full((len(params),), math.nan)
    loss.backward()
    norms = torch.stack(torch._foreach_norm([_grad(p) for p in params]))
    max_norm = math.inf if config.grad_clip is None else config.grad_clip
    return loss.detach(), torch.nn.utils.clip_grad_norm_(params, max_norm), norms


def _grad(param: torch.Tensor) -> torch.Tensor:
    return param.grad if param.grad is not None else torch.zeros_like(param)


def _check_finite(loss: torch.Tensor, grad_norm: torch.Tensor, step: int) -> None:
    if not torch.isfinite(loss):
        raise DivergenceError(
            f"training diverged at step {step}: loss = {loss.item()}; "
            f"the model keeps the parameters from step {step - 1}"
        )
    if not torch.isfinite(grad_norm):
        raise DivergenceError(
            f"training diverged at step {step}: gradient norm = {grad_norm.item()}; "
            f"the model keeps the parameters from step {step - 1}"
        )


def _is_eval_step(step: int, config: TrainConfig) -> bool:
    every = [config.eval_every] + ([config.curriculum.every] if config.curriculum else [])
    return step == config.n_steps or any(step % k == 0 for k in every)


@torch.no_grad()
def _evaluate(state: TrainState, config: TrainConfig, generator, device) -> None:
    """Loss and accuracy on fresh held-out trials of the current task."""
    trials = state.task.sample(config.eval_batch_size, generator=generator).to(device)
    noise_gen = generator if device.type == "cpu" else None
    outputs = state.model(trials.inputs, generator=noise_gen).outputs
    state.eval_loss = LOSSES[config.loss](outputs, trials.targets, trials.mask).item()
    state.eval_accuracy = math.nan
    if hasattr(state.task, "choices"):
        correct = state.task.choices(outputs, trials) == state.task.correct_choices(trials)
        state.eval_accuracy = correct.float().mean().item()
    state.history.eval_step.append(state.step)
    state.history.eval_loss.append(state.eval_loss)
    state.history.eval_accuracy.append(state.eval_accuracy)
