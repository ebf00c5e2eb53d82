"""``TrainConfig`` and ``CurriculumConfig``: everything that decides what training does."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from rnnbook.training.losses import LOSSES
from rnnbook.training.optimizers import OPTIMIZERS
from rnnbook.training.penalties import Penalty
from rnnbook.validation import (
    check_choice,
    check_integer,
    check_nonnegative,
    check_number,
    check_positive,
    check_range,
    check_type,
    config_from_dict,
)

MAX_LEVELS = 10_000  # the most levels a curriculum may have
# the largest learning rate: an Adam step moves a weight by at most about 3 lr, so from finite
# weights and a finite gradient no update can overflow float32 (training stops before the
# update of a step whose loss or gradient is not finite: training.step.check_divergence)
MAX_LR = 1e6
LR_SCHEDULES = ("constant", "cosine")  # TrainConfig.lr_schedule (training.callbacks)


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
        if not (isinstance(self.field, str) and self.field.isidentifier()):
            raise ValueError(
                f"CurriculumConfig.field = {self.field!r} is not allowed: want the name of a "
                "task config field"
            )
        check_number(self, "start")
        check_number(self, "end")
        check_positive(self, "step")
        check_integer(self, "every", minimum=1)
        check_range(self, "threshold", 0.0, 1.0)
        if self.end > self.start:
            raise ValueError(
                f"CurriculumConfig.end = {self.end!r} is above CurriculumConfig.start = "
                f"{self.start!r}: the curriculum lowers the level from start to end: want "
                "end <= start"
            )
        n_levels = (self.start - self.end) / self.step + 1
        if not n_levels <= MAX_LEVELS:
            raise ValueError(
                f"CurriculumConfig.step = {self.step!r} from CurriculumConfig.start = "
                f"{self.start!r} to CurriculumConfig.end = {self.end!r} makes {n_levels:.4g} "
                f"levels: allowed at most {MAX_LEVELS}"
            )

    def levels(self) -> list[float]:
        """The levels in order, from start down to end (rounded to 1e-9)."""
        n = int(round((self.start - self.end) / self.step + 1e-9))
        return [round(self.start - i * self.step, 9) for i in range(n + 1)]


@dataclass(frozen=True)
class TrainConfig:
    n_steps: int = 2000  # training steps (one batch each)
    batch_size: int = 64  # trials per step
    optimizer: str = "adam"  # a registered optimiser (training.optimizers): adam | sgd | eg
    lr: float = 1e-3  # learning rate, in (0, MAX_LR] (eg: of the recurrent weights)
    weight_decay: float = 0.0  # L2 weight decay (added to the gradient; eg: wd |w| to g_mag)
    grad_clip: float | None = 1.0  # max gradient norm (None: no clipping)
    # optimiser options, each used only by the optimisers named (the others ignore it):
    momentum: float = 0.9  # sgd, and eg's other parameters: heavy-ball momentum in [0, 1)
    lr_other: float | None = None  # eg: learning rate of the non-recurrent parameters (None: lr)
    eg_momentum: float = 0.0  # eg: momentum of the recurrent weights' g_mag, in [0, 1)
    min_magnitude: float = 1e-6  # eg: the smallest |w| of a recurrent weight (0: no floor)
    loss: str = "cross_entropy"  # a registered loss (training.losses): cross_entropy | mse | modcog
    label_smoothing: float = 0.0  # cross_entropy, modcog: torch's label smoothing, in [0, 1]
    # record the accuracy of every training batch in History.accuracy (what seed 000's
    # learning-speed metrics read: steps_to_threshold, area_under_learning_curve)
    record_accuracy: bool = False
    # terms added to the loss, each Penalty(name, weight, **options) (training.penalties)
    penalties: tuple[Penalty, ...] = ()
    eval_every: int = 100  # evaluate on held-out trials every this many steps
    eval_batch_size: int = 256  # held-out trials per evaluation
    target_accuracy: float | None = None  # stop early once validation accuracy reaches this
    curriculum: CurriculumConfig | None = None  # None: train on the task as given
    # plateaus of the validation loss (checked at each evaluation; training.callbacks.LossPlateau)
    lr_plateau_factor: float | None = None  # lr *= factor, in (0, 1), on a plateau (None: never)
    lr_plateau_patience: int = 400  # steps without a better validation loss before lr drops
    early_stop_patience: int | None = None  # stop after this many steps without (None: never)
    # the learning-rate schedule: "constant", or "cosine" (training.callbacks.CosineAnnealing):
    # torch's CosineAnnealingLR stepped every eval_every steps (seed 004: once per epoch), lr_e =
    # lr_min + (lr - lr_min) (1 + cos(pi e / lr_t_max)) / 2 in interval e = step // eval_every
    lr_schedule: str = "constant"
    lr_min: float = 0.0  # cosine: the learning rate it anneals to (eta_min), in [0, lr]
    lr_t_max: int | None = None  # cosine: T_max in intervals (None: n_steps // eval_every)
    # end with the weights of the best validation loss (training.callbacks.BestWeights)
    restore_best: bool = False
    # seed 003's noise curriculum: this many stages of spike noise (ModelConfig.
    # spike_noise_factor), geometric from 1e-3 to the model's own; the next stage begins when
    # early_stop_patience runs out, or after n_steps / noise_stages steps without it (None: off)
    noise_stages: int | None = None
    # Training stops with DivergenceError, before that step's update (the model keeps the
    # parameters it had), when a step's training loss (with penalties) exceeds
    # divergence_factor * max(the first step's loss, 1e-3); None: only a non-finite loss or
    # gradient stops it. The default 1e4 leaves room to any ordinary training (losses fall, or
    # rise a little under a curriculum) and catches an explosion within a few steps.
    divergence_factor: float | None = 1e4

    def __post_init__(self):
        for name in ("n_steps", "batch_size", "eval_every", "eval_batch_size"):
            check_integer(self, name, minimum=1)
        check_range(self, "lr", 0.0, MAX_LR, closed="right")
        check_nonnegative(self, "weight_decay")
        check_type(self, "record_accuracy", bool)
        for name in ("momentum", "eg_momentum"):
            check_range(self, name, 0.0, 1.0, closed="left")
        if self.lr_other is not None:
            check_range(self, "lr_other", 0.0, MAX_LR, closed="right")
        check_nonnegative(self, "min_magnitude")
        check_range(self, "label_smoothing", 0.0, 1.0)
        if self.grad_clip is not None:
            check_positive(self, "grad_clip")
        check_choice(self, "loss", LOSSES)
        check_choice(self, "optimizer", OPTIMIZERS)
        object.__setattr__(self, "penalties", self._penalties())
        if self.target_accuracy is not None:
            check_range(self, "target_accuracy", 0.0, 1.0)
        object.__setattr__(self, "curriculum", self._curriculum())
        self._check_plateaus()
        self._check_schedule()
        if self.divergence_factor is not None:
            check_range(self, "divergence_factor", 1.0, math.inf, closed="neither")

    def _check_plateaus(self) -> None:
        if self.lr_plateau_factor is not None:
            check_range(self, "lr_plateau_factor", 0.0, 1.0, closed="neither")
            if self.optimizer == "eg":
                raise ValueError(
                    f"TrainConfig.lr_plateau_factor = {self.lr_plateau_factor!r} is not allowed "
                    "with TrainConfig.optimizer = 'eg' (a plateau scales each update, which is "
                    "a learning-rate change for adam and sgd only): want None, or adam or sgd"
                )
        check_integer(self, "lr_plateau_patience", minimum=1)
        if self.early_stop_patience is not None:
            check_integer(self, "early_stop_patience", minimum=1)
        if self.noise_stages is not None:
            check_integer(self, "noise_stages", minimum=1)
            if self.noise_stages > MAX_LEVELS:
                raise ValueError(
                    f"TrainConfig.noise_stages = {self.noise_stages!r} is out of range: allowed "
                    f"1 .. {MAX_LEVELS}, or None"
                )

    def _check_schedule(self) -> None:
        check_choice(self, "lr_schedule", LR_SCHEDULES)
        lr_min = check_number(self, "lr_min")
        if not 0 <= lr_min <= self.lr:
            raise ValueError(
                f"TrainConfig.lr_min = {lr_min!r} is out of range: allowed [0, TrainConfig.lr = "
                f"{self.lr!r}] (the cosine schedule anneals lr down to lr_min)"
            )
        if self.lr_t_max is not None:
            check_integer(self, "lr_t_max", minimum=1)
        check_type(self, "restore_best", bool)
        if self.lr_schedule == "constant":
            return
        if self.optimizer == "eg":
            raise ValueError(
                f"TrainConfig.lr_schedule = {self.lr_schedule!r} is not allowed with "
                "TrainConfig.optimizer = 'eg' (a schedule scales each update, which is a "
                "learning-rate change for adam and sgd only): want 'constant', or adam or sgd"
            )
        if self.lr_plateau_factor is not None:
            raise ValueError(
                f"TrainConfig.lr_schedule = {self.lr_schedule!r} is not allowed with "
                f"TrainConfig.lr_plateau_factor = {self.lr_plateau_factor!r} (both set the "
                "learning rate): want lr_schedule = 'constant' or lr_plateau_factor = None"
            )

    def _penalties(self) -> tuple[Penalty, ...]:
        given = self.penalties
        if isinstance(given, (Penalty, Mapping)):
            entries = (given,)
        elif isinstance(given, (tuple, list)):
            entries = given
        else:
            raise ValueError(
                f"TrainConfig.penalties = {given!r} is not allowed: want a list of "
                "Penalty(name, weight, **options)"
            )
        try:
            return tuple(Penalty.from_value(p) for p in entries)
        except ValueError as error:
            raise ValueError(f"TrainConfig.penalties = {given!r} is not allowed: {error}") from None

    def _curriculum(self) -> CurriculumConfig | None:
        given = self.curriculum
        if given is None or isinstance(given, CurriculumConfig):
            return given
        if not isinstance(given, Mapping):
            raise ValueError(
                f"TrainConfig.curriculum = {given!r} is not allowed: want None, a "
                "CurriculumConfig or a dict of its fields"
            )
        try:
            return config_from_dict(CurriculumConfig, given, where="TrainConfig.curriculum")
        except ValueError as error:
            message = str(error)
            if not message.startswith("TrainConfig.curriculum"):
                message = f"TrainConfig.curriculum = {given!r} is not allowed: {message}"
            raise ValueError(message) from None
