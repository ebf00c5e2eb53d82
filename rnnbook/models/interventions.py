"""Interventions: data passed to a model's forward, never a change to the model.

``model(inputs, intervention=Lesion(units=[3, 7], start_ms=300))`` silences units 3 and 7
from 300 ms on, in that one call. An intervention acts on what a unit *sends*: the rate seen
by the other units and by the readout. The intervened unit's own state keeps integrating its
inputs; ``Rollout.rates`` reports the rates as the network saw them.

- ``Lesion(units)``: rate held at 0 (causal necessity).
- ``Clamp(units, values)``: rate held at ``values`` (causal sufficiency).
- ``Perturb(units, values)``: ``values`` added to the units' input current, as an injected
  current (the state moves by ``alpha * values`` per step more than it would).
- ``Gain(gains)``: every unit's rate multiplied by ``gains [n_rec]``, which may require grad:
  the gradient at ``gains = 1`` is a unit's first-order importance (``analysis.saliency``).

Each acts over the time window ``[start_ms, stop_ms)`` of the trial, in the same time axis as
``Trials.times`` (step t is at ``t * dt`` ms); by default the whole trial. Several
interventions may be given as a list; they apply in order (a clamp after a lesion wins).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass

import torch

Units = Sequence[int] | torch.Tensor


@dataclass(frozen=True)
class _Windowed:
    units: Units
    _: KW_ONLY  # Lesion(units), Clamp(units, values), Perturb(units, values); windows by keyword
    start_ms: float
    stop_ms: float

    def __post_init__(self):
        if self.stop_ms <= self.start_ms:
            raise ValueError(
                f"{type(self).__name__}.stop_ms = {self.stop_ms!r} is not after "
                f"start_ms = {self.start_ms!r}: the window is [start_ms, stop_ms)"
            )

    def steps(self, n_steps: int, dt: float) -> torch.Tensor:
        """[T] bool: the steps inside the window."""
        times = torch.arange(n_steps, dtype=torch.float64) * dt
        return (times >= self.start_ms) & (times < self.stop_ms)

    def unit_index(self, n_rec: int) -> torch.Tensor:
        index = torch.as_tensor(self.units, dtype=torch.long).reshape(-1)
        if len(index) and (index.min() < -n_rec or index.max() >= n_rec):
            raise ValueError(
                f"{type(self).__name__}.units = {index.tolist()} is out of range: "
                f"allowed unit indices are 0 .. {n_rec - 1}"
            )
        return index % n_rec


@dataclass(frozen=True)
class Lesion(_Windowed):
    """Silence ``units``: their rate is 0 from ``start_ms`` to ``stop_ms``."""

    units: Units
    _: KW_ONLY
    start_ms: float = 0.0
    stop_ms: float = math.inf


@dataclass(frozen=True)
class _Valued(_Windowed):
    """Units with values (one value, or one per unit), over a window."""

    units: Units
    values: float | Sequence[float] | torch.Tensor = 0.0
    _: KW_ONLY
    start_ms: float = 0.0
    stop_ms: float = math.inf


@dataclass(frozen=True)
class Clamp(_Valued):
    """Hold the rate of ``units`` at ``values`` (one value, or one per unit)."""


@dataclass(frozen=True)
class Perturb(_Valued):
    """Add ``values`` (one value, or one per unit) to the input current of ``units``."""


@dataclass(frozen=True, eq=False)
class Gain:
    """Multiply every unit's rate by ``gains [n_rec]`` (may require grad) over the window."""

    gains: torch.Tensor
    start_ms: float = 0.0
    stop_ms: float = math.inf

    steps = _Windowed.steps


Intervention = Lesion | Clamp | Perturb | Gain


@dataclass
class RateEdits:
    """An intervention as tensors over the trial's steps (what the scans take).

    keep, value: [T, N], the rate a unit sends at step t is ``keep * f(x) + value`` (None: no
    edit of the rates); current: [T, N] added to the input current (None: none).
    """

    keep: torch.Tensor | None
    value: torch.Tensor | None
    current: torch.Tensor | None


def compile_interventions(
    interventions: Intervention | Sequence[Intervention] | None,
    n_steps: int,
    n_rec: int,
    dt: float,
    *,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str = "cpu",
) -> RateEdits:
    """The tensors of ``interventions`` for a trial of ``n_steps`` steps of ``dt`` ms."""
    if interventions is None:
        return RateEdits(None, None, None)
    if not isinstance(interventions, Sequence):
        interventions = [interventions]
    keep = value = current = None
    for item in interventions:
        if not isinstance(item, (Lesion, Clamp, Perturb, Gain)):
            raise TypeError(
                f"intervention {item!r} is not one of Lesion, Clamp, Perturb, Gain "
                "(rnnbook.models.interventions)"
            )
        window = item.steps(n_steps, dt).to(device)[:, None]  # [T, 1]
        if isinstance(item, Perturb):
            current = _zeros(n_steps, n_rec, dtype, device) if current is None else current
            units = item.unit_index(n_rec)
            add = _per_unit(item.values, len(units), dtype, device)
            current = current.index_add(1, units.to(device), window.to(dtype) * add)
            continue
        if keep is None:
            keep = torch.ones(n_steps, n_rec, dtype=dtype, device=device)
            value = _zeros(n_steps, n_rec, dtype, device)
        if isinstance(item, Gain):
            gains = item.gains.to(device=device, dtype=dtype).reshape(1, n_rec)
            factor = torch.where(window, gains, torch.ones_like(gains))
            keep, value = keep * factor, value * factor
            continue
        units = item.unit_index(n_rec).to(device)
        hit = torch.zeros(n_steps, n_rec, dtype=torch.bool, device=device)
        hit[:, units] = window
        keep = keep.masked_fill(hit, 0.0)
        new = torch.zeros(n_steps, n_rec, dtype=dtype, device=device)
        if isinstance(item, Clamp):
            new[:, units] = _per_unit(item.values, len(units), dtype, device).expand(n_steps, -1)
        value = torch.where(hit, new, value)
    return RateEdits(keep, value, current)


def _zeros(n_steps, n_rec, dtype, device) -> torch.Tensor:
    return torch.zeros(n_steps, n_rec, dtype=dtype, device=device)


def _per_unit(values, n_units: int, dtype, device) -> torch.Tensor:
    """[1, n_units] from a number or one value per unit."""
    values = torch.as_tensor(values, dtype=dtype, device=device).reshape(1, -1)
    if values.shape[1] not in (1, n_units):
        raise ValueError(
            f"values has {values.shape[1]} entries for {n_units} units: give one value or one "
            "per unit"
        )
    return values.expand(1, n_units)
