"""Multi-item delayed estimation (visual working memory): remember up to M angles, report all.

A trial shows ``n`` items at once (the set size), each a full-circle angle theta in [-pi, pi)
placed in its own *slot* among ``n_slots`` (M) slots; the other slots are empty. After a delay
the network reports every shown item at once, each as ``(cos theta, sin theta)`` in its own
slot's two output channels, over the whole decode window. There is no cue: what is judged is
the report of every present slot (seed 003's ``RNNMemoryModel`` task).

Periods tile each trial: ``init`` (no input), ``stimulus`` (the items are shown), ``delay`` (no
input) and ``decode`` (the report, the only period the loss counts). Defaults: 20 / 500 / 1000
/ 500 ms at dt = 10 ms, 202 steps: stimulus on steps 2..51, decode on steps 152..201.

Input code per slot, times ``s = input_strength / n_slots`` during the stimulus, 0 otherwise
and 0 for an empty slot:

- ``"positive"`` (3 inputs a slot, 3M in all): ``[1 + c/sqrt2 + s'/sqrt6, 1 - c/sqrt2 +
  s'/sqrt6, 1 - 2 s'/sqrt6]`` with c = cos theta, s' = sin theta: an equilateral-simplex
  embedding of (c, s'), whose three components sum to 3 and are each at least
  ``1 - sqrt(2/3) > 0``; the deviation from ``[1, 1, 1]`` has unit norm;
- ``"cos_sin"`` (2 inputs a slot, 2M): ``[cos theta, sin theta]``.

The shown angle carries sensory noise: the input codes ``wrap(theta + angle_noise * N(0, 1))``;
the target is the true theta. Set sizes are split equally across a batch, in the order of
``set_sizes`` (leftover trials go to the first sizes: 512 trials over 10 sizes are 52, 52, 51,
...), and each trial's present slots are a random set of ``set_size`` slots.

Targets ``[B, T, 2M]``: slot k's ``(cos theta_k, sin theta_k)`` in channels ``(2k, 2k + 1)``
on the decode steps of a present slot, 0 elsewhere. Mask ``[B, T, 2M]``: 1 on the decode steps
in the channels of present slots, so the losses of seed 003 (``training.losses``: ``l2``,
``sqrtl2``, ``rad``, ``exp``) average over present items only. Conditions: ``angles`` [B, M]
(true angles, radians, every slot, absent ones too), ``presence`` [B, M] (bool), ``set_size``
[B] (long).

References: Zhang & Luck (2008, Nature 453:233); Bays, Catalao & Husain (2009, J Vis 9(10):7);
the source study ``derek1909/vwm_rnn`` (``../shared/seeds/003``, ``specs/seed003.md`` §3.1).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from rnnbook.tasks.base import Duration, TaskConfig, TimedTask, Trials, check_steps
from rnnbook.validation import (
    check_choice,
    check_duration,
    check_integer,
    check_positive,
    check_range,
    field_name,
)

ENCODINGS = {"positive": 3, "cos_sin": 2}  # inputs per slot
MAX_SLOTS = 1000  # the most item slots
MAX_ANGLE_NOISE = 100.0  # rad; past a few radians the sensed angle is uniform anyway


@dataclass(frozen=True)
class DelayedEstimationConfig(TaskConfig):
    dt: float = 10.0  # simulation time step (ms)
    init_ms: Duration = 20.0  # before the stimulus: no input (may be 0)
    stimulus_ms: Duration = 500.0  # the items are shown
    delay_ms: Duration = 1000.0  # memory period: no input (may be 0)
    decode_ms: Duration = 500.0  # report period: the only period the loss counts
    n_slots: int = 10  # item slots M (seed 003's max_item_num)
    set_sizes: tuple[int, ...] = tuple(range(1, 11))  # sizes in [1, n_slots], split across a batch
    encoding: str = "positive"  # input code per slot: positive (3 inputs) | cos_sin (2 inputs)
    input_strength: float = 120.0  # each present slot's code is scaled by input_strength / n_slots
    angle_noise: float = 0.01  # sensory noise: SD (rad) of the noise on each shown angle

    def __post_init__(self):
        super().__post_init__()
        for name in ("init_ms", "stimulus_ms", "delay_ms", "decode_ms"):
            check_duration(self, name)
        for name, minimum in (
            ("init_ms", 0),
            ("stimulus_ms", 1),
            ("delay_ms", 0),
            ("decode_ms", 1),
        ):
            check_steps(self, name, minimum=minimum)
        check_integer(self, "n_slots", minimum=1)
        if self.n_slots > MAX_SLOTS:
            raise ValueError(
                f"DelayedEstimationConfig.n_slots = {self.n_slots!r} is out of range: allowed "
                f"1 .. {MAX_SLOTS}"
            )
        self._check_set_sizes()
        check_choice(self, "encoding", ENCODINGS)
        check_positive(self, "input_strength")
        check_range(self, "angle_noise", 0.0, MAX_ANGLE_NOISE)

    def _check_set_sizes(self) -> None:
        value, name = self.set_sizes, field_name(self, "set_sizes")
        integers = isinstance(value, (tuple, list)) and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value
        )
        if not (integers and value):
            raise ValueError(
                f"{name} = {value!r} is not allowed: want a list of one or more integer set sizes"
            )
        if not all(1 <= v <= self.n_slots for v in value):
            raise ValueError(
                f"{name} = {value!r} is out of range for DelayedEstimationConfig.n_slots = "
                f"{self.n_slots!r}: want each set size in [1, n_slots]"
            )
        object.__setattr__(self, "set_sizes", tuple(int(v) for v in value))


def wrap(angle: torch.Tensor) -> torch.Tensor:
    """``angle`` (radians, any shape) wrapped to [-pi, pi)."""
    return torch.remainder(angle + math.pi, 2 * math.pi) - math.pi


def encode(angle: torch.Tensor, encoding: str) -> torch.Tensor:
    """The input code of ``angle`` [...] (radians): [..., 3] (``"positive"``: components sum to
    3, each >= 1 - sqrt(2/3)) or [..., 2] (``"cos_sin"``), before scaling and presence."""
    c, s = torch.cos(angle), torch.sin(angle)
    if encoding == "cos_sin":
        return torch.stack([c, s], dim=-1)
    a, b = c / math.sqrt(2.0), s / math.sqrt(6.0)
    return torch.stack([1 + a + b, 1 - a + b, 1 - 2 * b], dim=-1)


def split_set_sizes(batch_size: int, set_sizes: tuple[int, ...]) -> torch.Tensor:
    """[B] long: the set sizes split equally across a batch, in order; the first
    ``batch_size % len(set_sizes)`` sizes get one trial more."""
    n = len(set_sizes)
    counts = torch.full((n,), batch_size // n)
    counts[: batch_size % n] += 1
    return torch.repeat_interleave(torch.tensor(set_sizes), counts)


def present_slots(set_size: torch.Tensor, n_slots: int, generator: torch.Generator):
    """[B, M] bool: ``set_size[b]`` slots of trial b chosen at random (all sets equally likely)."""
    scores = torch.rand(set_size.shape[0], n_slots, generator=generator)  # [B, M]
    rank = scores.argsort(dim=1).argsort(dim=1)
    return rank < set_size[:, None]


class DelayedEstimation(TimedTask):
    """Report every shown item's angle at once, each in its own slot (see the module docstring).

    Inputs ``[B, T, 3M]`` (positive code) or ``[B, T, 2M]`` (cos, sin), slot k in channels
    ``[C k, C (k + 1))``; targets and mask ``[B, T, 2M]``; periods ``init``, ``stimulus``,
    ``delay``, ``decode``; conditions ``angles`` [B, M], ``presence`` [B, M], ``set_size`` [B].
    """

    config_class = DelayedEstimationConfig
    name = "delayed_estimation"
    periods = ("init", "stimulus", "delay", "decode")
    target_kind = "values"

    @property
    def n_in(self) -> int:
        return ENCODINGS[self.config.encoding] * self.config.n_slots

    @property
    def n_out(self) -> int:
        return 2 * self.config.n_slots

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        cfg = self.config
        masks = self.period_masks(self.durations(batch_size, generator=generator))
        set_size = split_set_sizes(batch_size, cfg.set_sizes)  # [B]
        presence = present_slots(set_size, cfg.n_slots, generator)  # [B, M]
        angles = (2 * torch.rand(presence.shape, generator=generator) - 1) * math.pi  # [B, M]
        noise = torch.randn(presence.shape, generator=generator)
        return self._trials(masks, angles, presence, wrap(angles + cfg.angle_noise * noise))

    def trials_for(self, angles, presence, *, generator: torch.Generator | None = None) -> Trials:
        """Trials that show exactly ``angles`` [B, M] (radians) in the slots ``presence`` [B, M]
        (bool or 0/1) holds: the set trials of seed 003's SNR, divisive-normalisation and
        fixed-point analyses. Any set size from 0 to M, whatever ``set_sizes`` says. With a
        ``generator`` the shown angles carry the sensory noise (``angle_noise``) drawn from
        it; without one they are shown exactly. Random durations, if any, are drawn from the
        generator (without one, from a generator seeded 0)."""
        cfg = self.config
        angles = torch.as_tensor(angles, dtype=torch.float32)
        shape = (angles.shape[0] if angles.ndim == 2 else -1, cfg.n_slots)
        if angles.ndim != 2 or angles.shape[1] != cfg.n_slots or not torch.isfinite(angles).all():
            raise ValueError(
                f"angles has shape {tuple(angles.shape)}: want finite angles [B, M = {cfg.n_slots}]"
            )
        presence = torch.as_tensor(presence)
        if tuple(presence.shape) != shape or not ((presence == 0) | (presence == 1)).all():
            raise ValueError(
                f"presence has shape {tuple(presence.shape)}: want 0/1 or bool [B, M] = {shape}"
            )
        draws = generator if generator is not None else torch.Generator().manual_seed(0)
        masks = self.period_masks(self.durations(shape[0], generator=draws))
        noise = torch.randn(angles.shape, generator=generator) if generator is not None else 0.0
        return self._trials(masks, angles, presence.bool(), wrap(angles + cfg.angle_noise * noise))

    def _trials(self, masks, angles, presence, sensed) -> Trials:
        cfg = self.config
        batch_size = angles.shape[0]
        scale = cfg.input_strength / cfg.n_slots
        code = encode(sensed, cfg.encoding) * (presence[..., None] * scale)  # [B, M, C]
        stimulus = masks["stimulus"][..., None]  # [B, T, 1]
        inputs = stimulus * code.reshape(batch_size, 1, -1)  # [B, T, C M]
        report = torch.stack([torch.cos(angles), torch.sin(angles)], dim=-1)  # [B, M, 2]
        judged = masks["decode"][..., None] & presence.repeat_interleave(2, dim=1)[:, None]
        targets = judged * report.reshape(batch_size, 1, -1)  # [B, T, 2M]
        return Trials(
            inputs=inputs.float(),
            targets=targets.float(),
            mask=judged.float(),
            conditions={"angles": angles, "presence": presence, "set_size": presence.sum(1)},
            dt=cfg.dt,
            periods=masks,
        )
