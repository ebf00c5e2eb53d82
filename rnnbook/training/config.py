"""``TrainConfig`` and ``CurriculumConfig``: everything that decides what training does."""

from __future__ import annotations

from dataclasses import dataclass

from rnnbook.training.losses import LOSSES
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.penalties import Penalty
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_nonnegative,
    check_positive,
    check_range,
)


@dataclass(frozen=True)
class CurriculumConfig:
    """Start easy, make the task harder whenever the network is good enough.

    Every ``every`` steps the network is evaluated at the current level of the task config
    field ``field``; when its accuracy exceeds ``threshold`` the level moves by ``-step``
    (from ``start`` towards ``end``). A tuple-valued field (e.g. ``coherences``) is set to
    the single level ``(level,)``.
    """

    field: str = "coherences"  # task config field the curriculum controls
    start: float = 1.0  # first (easiest) level
    end: float = 0.1  # last (hardest) level
    step: float = 0.1  # how much each advance lowers the level
    threshold: float = 0.8  # validation accuracy needed to advance
    every: int = 200  # evaluate every this many training steps

    def __post_init__(self):
        check_positive(self, "step")
        check_integer(self, "every", minimum=1)
        check_range(self, "threshold", 0.0, 1.0)
        if self.end > self.start:
            raise ValueError(
                f"CurriculumConfig.end = {self.end!r} is above start = {self.start!r}: "
                "the curriculum lowers the level from start to end"
            )

    def levels(self) -> list[float]:
        """The levels in order, from start down to end (rounded to 1e-9)."""
        n = int(round((self.start - self.end) / self.step + 1e-9))
        return [round(self.start - i * self.step, 9) for i in range(n + 1)]


@dataclass(frozen=True)
class TrainConfig:
    n_steps: int = 2000  # training steps (one batch each)
    batch_size: int = 64  # trials per step
    optimizer: str = "adam"  # a registered optimiser (training.optimizers.OPTIMIZERS)
    lr: float = 1e-3  # learning rate
    weight_decay: float = 0.0  # L2 weight decay (added to the gradient)
    grad_clip: float | None = 1.0  # max gradient norm (None: no clipping)
    loss: str = "cross_entropy"  # a registered loss (training.losses.LOSSES): cross_entropy | mse
    # terms added to the loss, each Penalty(name, weight, **options) (training.penalties)
    penalties: tuple[Penalty, ...] = ()
    eval_every: int = 100  # evaluate on held-out trials every this many steps
    eval_batch_size: int = 256  # held-out trials per evaluation
    target_accuracy: float | None = None  # stop early once validation accuracy reaches this
    curriculum: CurriculumConfig | None = None  # None: train on the task as given

    def __post_init__(self):
        for name in ("n_steps", "batch_size", "eval_every", "eval_batch_size"):
            check_integer(self, name, minimum=1)
        check_positive(self, "lr")
        check_nonnegative(self, "weight_decay")
        if self.grad_clip is not None:
            check_positive(self, "grad_clip")
        check_choice(self, "loss", LOSSES)
        check_choice(self, "optimizer", OPTIMIZERS)
        if isinstance(self.penalties, (Penalty, dict)):
            object.__setattr__(self, "penalties", (self.penalties,))
        if not isinstance(self.penalties, (tuple, list)):
            raise ValueError(
                f"TrainConfig.penalties = {self.penalties!r} is not allowed: want a list of "
                "Penalty(name, weight, **options)"
            )
        penalties = tuple(Penalty.from_value(p) for p in self.penalties)
        object.__setattr__(self, "penalties", penalties)
        if self.target_accuracy is not None:
            check_range(self, "target_accuracy", 0.0, 1.0)
        if isinstance(self.curriculum, dict):
            object.__setattr__(self, "curriculum", CurriculumConfig(**self.curriculum))
