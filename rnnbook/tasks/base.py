"""The task contract: ``Trials`` and the base class of tasks timed by named periods.

Every task samples a batch of trials with ``task.sample(batch_size, generator=g)`` and
returns :class:`Trials`. Tensors are batch-first: ``[B, T, channels]``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import ClassVar

import torch

from rnnbook.validation import check_field_names, check_positive, duration_bounds, field_name

Duration = float | tuple[float, float]

MAX_STEPS = 10**8  # the most steps a period or trial may span (more is a unit mistake)
TARGET_KINDS = {
    "classes": "[B, T] class indices (a classification task with n_classes)",
    "values": "[B, T, n_out] values (regression)",
}


@dataclass
class Trials:
    """A batch of trials.

    inputs:     [B, T, n_in]  network inputs.
    targets:    [B, T] class indices (classification) or [B, T, n_out] values (regression).
    mask:       [B, T] or [B, T, n_out] loss weights (0 where the output is not judged).
    conditions: per-trial tensors, each [B, ...] with the trial first (e.g. ``coherence`` [B];
                seed 003's ``angles`` [B, M]).
    dt:         the time step in ms.
    periods:    boolean [B, T] masks by period name (``fixation``, ``stimulus``, ``delay``,
                ``decision``, ...): ``periods["stimulus"][b, t]`` is True when step ``t`` of
                trial ``b`` is in its stimulus period. Periods never overlap; a task says in
                ``Task.periods_tile_trial`` whether they also cover every step of a trial up to
                its own end (steps past a trial's end, padding to the batch's ``T``, belong to
                no period and carry zero mask).

    Every task fills ``periods`` the same way, whatever its timing: tasks timed by named
    durations (:class:`TimedTask`) from their sampled durations; tasks that bring their own
    timing (a neurogym env's ``start_t`` / ``end_t`` per period, PsychRNN's rules) by
    comparing each step's time with those bounds; tasks that are sessions of discrete trials
    (reversal learning, two-stage: one time step is one trial) with one step per trial, e.g.
    ``{"trial": all True}``. Period helpers (durations, masks from durations) belong to
    :class:`TimedTask`, not to this contract.
    """

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    conditions: dict[str, torch.Tensor] = field(default_factory=dict)
    dt: float = 1.0
    periods: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return self.inputs.shape[0]

    @property
    def n_steps(self) -> int:
        return self.inputs.shape[1]

    @property
    def times(self) -> torch.Tensor:
        """[T] the time of each step in ms."""
        return torch.arange(self.n_steps) * self.dt

    def select(self, index) -> Trials:
        """The trials at ``index`` (indices, a slice or a bool mask [B]) with their conditions
        and periods, in that order."""
        if isinstance(index, int):
            raise ValueError(f"Trials.select: index = {index!r} is one trial; give a list of them")
        return dataclasses.replace(
            self,
            inputs=self.inputs[index],
            targets=self.targets[index],
            mask=self.mask[index],
            conditions={k: v[index] for k, v in self.conditions.items()},
            periods={k: v[index] for k, v in self.periods.items()},
        )

    def to(self, device: torch.device | str) -> Trials:
        """The same trials with every tensor (conditions and periods too) on ``device``."""
        return dataclasses.replace(
            self,
            inputs=self.inputs.to(device),
            targets=self.targets.to(device),
            mask=self.mask.to(device),
            conditions={k: v.to(device) for k, v in self.conditions.items()},
            periods={k: v.to(device) for k, v in self.periods.items()},
        )


@dataclass(frozen=True)
class TaskConfig:
    """Base of every task's config. ``dt`` is the simulation step in ms.

    A task's config refuses, naming the field, any value with which a trial could not be
    sampled or judged: every period the loss is judged on has at least one step at ``dt`` in
    every trial, and no period or trial spans more than ``MAX_STEPS`` steps.
    """

    dt: float = 20.0  # simulation time step (ms)

    def __post_init__(self):
        check_positive(self, "dt")


class Task:
    """A cognitive task: ``sample(batch_size, *, generator) -> Trials``.

    Subclasses set ``config_class`` and the sizes ``n_in`` / ``n_out``; classification tasks
    set ``n_classes`` and implement :meth:`choices` (the network's choice per trial) and
    :meth:`correct_choices` so that accuracy is defined; :meth:`accuracy` is the task's own
    accuracy measure (from those choices unless a task judges otherwise, e.g. per decision
    step). ``periods_tile_trial`` says whether the periods of its :class:`Trials` cover every
    step of each trial up to its end.
    ``target_kind`` declares what its ``Trials.targets`` hold (a key of ``TARGET_KINDS``):
    ``"classes"`` ([B, T] class indices) or ``"values"`` ([B, T, n_out]); each loss says which
    kind it needs (``training.losses.LOSSES``).
    """

    config_class: ClassVar[type[TaskConfig]] = TaskConfig
    name: ClassVar[str] = "task"
    periods_tile_trial: ClassVar[bool] = False  # every step up to a trial's end in one period
    target_kind: ClassVar[str] = "values"  # what Trials.targets hold: classes | values

    def __init__(self, config: TaskConfig | None = None):
        config = self.config_class() if config is None else config
        if not isinstance(config, self.config_class):
            raise TypeError(
                f"{type(self).__name__} takes a {self.config_class.__name__}, "
                f"got {type(config).__name__}"
            )
        self.config = config

    @property
    def dt(self) -> float:
        return self.config.dt

    @property
    def n_in(self) -> int:
        raise NotImplementedError

    @property
    def n_out(self) -> int:
        raise NotImplementedError

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        raise NotImplementedError

    def accuracy(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """The task's own accuracy of ``outputs`` [B, T, n_out] on ``trials``: a float tensor
        scalar on ``outputs``' device. By default the fraction of trials whose choice is correct,
        ``(choices == correct_choices).float().mean()``, for tasks with :meth:`choices`; NaN for
        tasks without. Tasks judged per step override it (neurogym and Mod-Cog tasks: the
        fraction of decision steps whose largest output is the target class)."""
        if not hasattr(self, "choices"):
            return torch.tensor(math.nan, device=outputs.device)
        choices = self.choices(outputs, trials)
        return (choices == self.correct_choices(trials).to(choices.device)).float().mean()

    def held_out(self) -> Task:
        """The task whose trials validate a network trained on this one: itself (fresh trials
        from another generator), unless the task draws from a fixed pool of trials, whose
        held-out part it then returns (neurogym and Mod-Cog tasks with ``pool_part="train"``)."""
        return self

    def with_config(self, **changes) -> Task:
        """The same task with some config fields changed (validated again); ValueError naming
        an unknown field."""
        where = f"{type(self).__name__}.with_config(**{changes!r})"
        check_field_names(type(self.config), changes, where=where)
        return type(self)(dataclasses.replace(self.config, **changes))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config})"


def duration_steps(ms: float, dt: float) -> float:
    """``ms`` in steps of ``dt``, rounded as :meth:`TimedTask.durations` rounds a duration
    (float32, half to even); NaN where float32 cannot resolve it."""
    return float(torch.round(torch.full((1,), float(ms)) / dt))


def check_steps(config: TaskConfig, field: str, *, minimum: int = 1, period: str = "") -> None:
    """Raise ValueError naming ``config.<field>`` and ``config.dt`` unless the duration in that
    field (ms: a number or a ``(low, high)`` range, already checked) spans at least ``minimum``
    steps of ``dt`` in every trial, rounded as :meth:`TimedTask.durations` rounds, and at most
    ``MAX_STEPS``. ``period``: the period's name in the message (default: the field's)."""
    value, dt = getattr(config, field), config.dt
    low, high = duration_bounds(value)
    name, dt_name = field_name(config, field), field_name(config, "dt")
    period = period or field.removesuffix("_ms")
    if high / dt > MAX_STEPS:
        raise ValueError(
            f"{name} = {value!r} at {dt_name} = {dt!r} spans {high / dt:.4g} steps: allowed at "
            f"most {MAX_STEPS} steps (is a duration in s, or dt in s, instead of ms?)"
        )
    steps = duration_steps(low, dt)
    if not steps >= minimum:
        raise ValueError(
            f"{name} = {value!r} gives {steps:g} steps of {dt_name} = {dt!r} in some trials: the "
            f"{period} period must have >= {minimum} step{'s' if minimum > 1 else ''} (durations "
            f"are rounded to whole steps, half to even): want more than "
            f"{(minimum - 0.5) * dt:g} ms, or a smaller dt"
        )


class TimedTask(Task):
    """A task whose trial is a sequence of named periods, each of a fixed or random duration.

    Subclasses list their periods in order in ``periods`` and read each one's duration from
    the config field of the same name plus ``_ms`` (e.g. ``stimulus_ms``): a number in ms, or
    a ``(low, high)`` range sampled uniformly per trial. Durations are rounded to whole steps.
    Trials in a batch share one length ``T`` (the longest); steps past a trial's end belong to
    no period and carry zero mask. The masks of :meth:`period_masks` tile each trial: they go
    into ``Trials.periods``.
    """

    periods: ClassVar[tuple[str, ...]] = ()
    periods_tile_trial = True

    def durations(self, batch_size: int, *, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """Each period's duration in steps, a LongTensor [B] per period."""
        out = {}
        for name in self.periods:
            spec = getattr(self.config, f"{name}_ms")
            if isinstance(spec, tuple):
                low, high = spec
                ms = low + (high - low) * torch.rand(batch_size, generator=generator)
            else:
                ms = torch.full((batch_size,), float(spec))
            out[name] = torch.round(ms / self.dt).long()
        return out

    def period_masks(self, durations: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Boolean [B, T] masks, one per period, from per-trial durations in steps."""
        ends = torch.stack([durations[p] for p in self.periods], dim=1).cumsum(dim=1)  # [B, P]
        n_steps = int(ends[:, -1].max())
        t = torch.arange(n_steps)[None, :]  # [1, T]
        starts = ends - torch.stack([durations[p] for p in self.periods], dim=1)
        return {
            p: (t >= starts[:, i, None]) & (t < ends[:, i, None])
            for i, p in enumerate(self.periods)
        }
