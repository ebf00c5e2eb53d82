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

    @property
    def n_steps(self) -> int:
        return len(self.step)

    @property
    def final_accuracy(self) -> float:
        return self.eval_accuracy[-1] if self.eval_accuracy else math.nan

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> History:
        data = dict(data)
        data["events"] = [tuple(e) for e in data.get("events", [])]
        return cls(**data)
