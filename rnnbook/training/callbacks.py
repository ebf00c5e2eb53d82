"""Training callbacks: curricula, early stopping, plateaus of the loss, the learning-rate
schedule, the best weights and the progress bar.

A callback implements any of ``on_train_begin(state)``, ``on_step_end(state)``,
``on_eval(state)`` and ``on_train_end(state)``. It may replace ``state.task``, scale the
learning rate (``state.lr_scale``), set the model's spike-noise level, set ``state.stop =
True`` or add ``state.history.events``; it never reaches into the loop.
"""

from __future__ import annotations

import math

import numpy as np
from tqdm import tqdm

from rnnbook.training.config import CurriculumConfig, TrainConfig

NOISE_CURRICULUM_START = 1e-3  # the first spike-noise level of seed 003's noise curriculum


class Curriculum:
    """Lower a task difficulty level whenever validation accuracy passes a threshold."""

    def __init__(self, config: CurriculumConfig):
        self.config = config
        self.levels = config.levels()
        self.index = 0
        self.done = False

    def on_train_begin(self, state):
        self.base_task = state.task
        self._set_level(state)

    def on_eval(self, state):
        if state.step % self.config.every or self.done:
            return
        if state.eval_accuracy > self.config.threshold:
            if self.index + 1 < len(self.levels):
                self.index += 1
                self._set_level(state)
            else:
                self.done = True

    def _set_level(self, state):
        level = self.levels[self.index]
        field = self.config.field
        current = getattr(self.base_task.config, field)
        value = (level,) if isinstance(current, tuple) else level
        state.task = self.base_task.with_config(**{field: value})
        state.history.events.append((state.step, f"{field} = {level:g}"))


class EarlyStopping:
    """Stop once validation accuracy reaches ``target`` (after any curriculum has finished)."""

    def __init__(self, target: float, curriculum: Curriculum | None = None):
        self.target = target
        self.curriculum = curriculum

    def on_eval(self, state):
        if self.curriculum is not None and not self.curriculum.done:
            return
        if state.eval_accuracy >= self.target:
            state.stop = True
            state.history.events.append(
                (state.step, f"stopped: accuracy {state.eval_accuracy:.3f}")
            )


def noise_levels(final: float, stages: int) -> list[float]:
    """Seed 003's noise-curriculum levels: ``stages`` levels geometric from 1e-3 to ``final``
    (``final`` alone for one stage)."""
    if stages == 1:
        return [float(final)]
    levels = np.geomspace(NOISE_CURRICULUM_START, final, stages).tolist()
    return levels[:-1] + [float(final)]


class NoiseCurriculum:
    """Train at rising spike-noise levels (``noise_levels``) up to the model's own, restored at
    the end whatever stage training reached. With ``by_patience`` a :class:`LossPlateau` moves
    to the next stage when its early-stopping patience runs out (seed 003's port); otherwise
    stage i covers steps ``(i n / S, (i + 1) n / S]`` of n steps. A new stage starts from the
    full learning rate (``state.lr_scale = 1``)."""

    def __init__(self, stages: int, *, by_patience: bool):
        self.stages, self.by_patience = stages, by_patience

    def on_train_begin(self, state):
        self.noise = state.model.noise
        self.final = self.noise.factor
        self.levels = noise_levels(self.final, self.stages)
        self.index = 0
        self._set_level(state)

    def advance(self, state) -> bool:
        """Move to the next stage; False when this is the last one."""
        if self.index + 1 >= len(self.levels):
            return False
        self.index += 1
        self._set_level(state)
        state.lr_scale = 1.0
        return True

    def on_step_end(self, state):
        if not self.by_patience and state.step >= (self.index + 1) * state.n_steps / self.stages:
            self.advance(state)

    def on_train_end(self, state):
        self.noise.factor = self.final

    def _set_level(self, state):
        self.noise.factor = self.levels[self.index]
        state.history.events.append((state.step, f"spike_noise_factor = {self.noise.factor:.4g}"))


class LossPlateau:
    """Plateaus of the validation loss, checked at each evaluation (a loss is better when it is
    below the best so far): ``lr_plateau_factor`` scales the learning rate after
    ``lr_plateau_patience`` steps without a better loss (and again after as many more), as
    ``torch.optim.lr_scheduler.ReduceLROnPlateau``; after ``early_stop_patience`` steps without
    one, the noise curriculum moves on (its best loss forgotten) or, at its last stage or
    without one, training stops."""

    def __init__(self, config: TrainConfig, curriculum: NoiseCurriculum | None = None):
        self.factor, self.lr = config.lr_plateau_factor, config.lr
        self.lr_patience = config.lr_plateau_patience
        self.stop_patience = config.early_stop_patience
        self.curriculum = curriculum

    def on_train_begin(self, state):
        self._forget(state.step)

    def _forget(self, step: int):
        self.best, self.best_step, self.lowered_step = math.inf, step, step

    def on_eval(self, state):
        step = state.step
        if state.eval_loss < self.best:
            self.best, self.best_step = state.eval_loss, step
            return
        waited = step - max(self.best_step, self.lowered_step)
        if self.factor is not None and waited >= self.lr_patience:
            state.lr_scale *= self.factor
            self.lowered_step = step
            state.history.events.append((step, f"lr = {self.lr * state.lr_scale:.3g}"))
        if self.stop_patience is None or step - self.best_step < self.stop_patience:
            return
        if self.curriculum is not None and self.curriculum.advance(state):
            self._forget(step)
        else:
            state.stop = True
            waited = step - self.best_step
            state.history.events.append((step, f"stopped: no better loss in {waited} steps"))


def cosine_lr(interval: int, lr: float, lr_min: float, t_max: int) -> float:
    """The learning rate of torch's ``CosineAnnealingLR`` in its closed form after ``interval``
    scheduler steps: ``lr_min + (lr - lr_min) (1 + cos(pi interval / t_max)) / 2`` (periodic
    past ``t_max``, as torch's)."""
    return lr_min + (lr - lr_min) * (1 + math.cos(math.pi * interval / t_max)) / 2


class CosineAnnealing:
    """``TrainConfig.lr_schedule = "cosine"``: the learning rate of torch's
    ``CosineAnnealingLR(T_max = lr_t_max, eta_min = lr_min)`` stepped once every ``eval_every``
    training steps, as seed 004 steps it once per epoch (its recipe's epoch is ``eval_every``
    steps): steps ``e * eval_every + 1 .. (e + 1) * eval_every`` take :func:`cosine_lr` of
    interval e, set as ``state.lr_scale = lr_e / lr`` after each step."""

    def __init__(self, config: TrainConfig):
        self.lr, self.lr_min, self.every = config.lr, config.lr_min, config.eval_every
        self.t_max = config.lr_t_max or max(1, config.n_steps // config.eval_every)

    def scale(self, step: int) -> float:
        """The factor on ``lr`` of the step after ``step`` (interval ``step // eval_every``)."""
        return cosine_lr(step // self.every, self.lr, self.lr_min, self.t_max) / self.lr

    def on_train_begin(self, state):
        state.lr_scale = self.scale(state.step)

    def on_step_end(self, state):
        state.lr_scale = self.scale(state.step)


class BestWeights:
    """``TrainConfig.restore_best``: keep a copy of the model's parameters and buffers at the
    best (lowest) validation loss of any evaluation after the first step, and load them back
    when training ends (an event names the step restored, ``History.restored_step`` holds it,
    so the history's final loss and accuracy are the restored weights'). The weights before
    training are no candidate (the original keeps the best of its epochs)."""

    def on_train_begin(self, state):
        self.best, self.best_step, self.weights = math.inf, None, None

    def on_eval(self, state):
        if state.eval_loss < self.best:
            self.best, self.best_step = state.eval_loss, state.step
            self.weights = {k: v.detach().clone() for k, v in state.model.state_dict().items()}

    def on_train_end(self, state):
        if self.weights is None:
            return
        state.model.load_state_dict(self.weights)
        state.history.restored_step = self.best_step
        state.history.events.append(
            (state.step, f"restored the weights of step {self.best_step} "
             f"(validation loss {self.best:.4g})")
        )  # fmt: skip


class ProgressBar:
    """A tqdm bar over training steps, showing the latest loss and validation accuracy."""

    def __init__(self, description: str = "training"):
        self.description = description

    def on_train_begin(self, state):
        self.bar = tqdm(total=state.n_steps, desc=self.description, mininterval=2.0, leave=False)

    def on_step_end(self, state):
        self.bar.update(1)

    def on_eval(self, state):
        accuracy = "" if math.isnan(state.eval_accuracy) else f"{state.eval_accuracy:.3f}"
        self.bar.set_postfix(loss=f"{state.history.loss[-1]:.4f}", acc=accuracy, refresh=False)

    def on_train_end(self, state):
        self.bar.close()
