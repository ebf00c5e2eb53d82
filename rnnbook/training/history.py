"""``History``: what training records, saved as JSON next to the weights."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """Per-step loss, periodic evaluations and events of one training run.

    step, loss:          every training step (loss on that step's batch).
    grad_norm:           every training step: gradient norm before clipping.
    param_grad_norm:     every training step: each trained parameter's gradient norm before
                         clipping, by parameter name (empty for histories that predate it).
    accuracy:            every training step: the task's accuracy on that step's batch, before
                         the update (NaN for tasks without choices; empty for histories that
                         predate it).
    eval_step:           the steps at which the model was evaluated on held-out trials;
    eval_loss, eval_accuracy: the loss and accuracy there (accuracy NaN for regression).
    events:              (step, text) pairs, e.g. a curriculum lowering its coherence.
    wall_s:              wall time of the training in seconds (a stacked member: its share
                         of the stack's; NaN for histories that predate it).
    restored_step:       the evaluation step whose weights the model ended with, when training
                         restored its best weights (``TrainConfig.restore_best``); else None,
                         and the model is the last step's. ``final_loss`` and
                         ``final_accuracy`` read that evaluation.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    eval_accuracy: list[float] = field(default_factory=list)
    events: list[tuple[int, str]] = field(default_factory=list)
    param_grad_norm: dict[str, list[float]] = field(default_factory=dict)
    accuracy: list[float] = field(default_factory=list)
    wall_s: float = math.nan
    restored_step: int | None = None

    @property
    def n_steps(self) -> int:
        return len(self.step)

    def _final(self) -> int | None:
        """Index of the evaluation of the weights the model ended with (None: no evaluation)."""
        if not self.eval_step:
            return None
        if self.restored_step is None:
            return len(self.eval_step) - 1
        return max(i for i, step in enumerate(self.eval_step) if step == self.restored_step)

    @property
    def final_loss(self) -> float:
        """The validation loss of the weights the model ended with (NaN: never evaluated)."""
        index = self._final()
        return self.eval_loss[index] if index is not None else math.nan

    @property
    def final_accuracy(self) -> float:
        """The validation accuracy of the weights the model ended with (NaN: never evaluated)."""
        index = self._final()
        return self.eval_accuracy[index] if index is not None else math.nan

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        data = dict(data)
        data["events"] = [tuple(e) for e in data.get("events", [])]
        return cls(**data)
