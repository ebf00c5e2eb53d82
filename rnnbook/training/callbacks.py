"""Training callbacks: curriculum, early stopping and the progress bar.

A callback implements any of ``on_train_begin(state)``, ``on_step_end(state)``,
``on_eval(state)`` and ``on_train_end(state)``. It may replace ``state.task``, set
``state.stop = True`` or add ``state.history.events``; it never reaches into the loop.
"""

from __future__ import annotations

import math

from tqdm import tqdm

from rnnbook.training.config import CurriculumConfig


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
