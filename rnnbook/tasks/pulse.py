"""Integration and memory of a single pulse (System A of the memory-dynamics study).

One input channel is silent except for a pulse of amplitude ``strength`` that starts at a
random ``onset`` and lasts a random ``duration``. The network must report the integrated
pulse, ``target_per_ms * duration`` (the source's threshold rule: 0.007 per ms), and hold
that value until the end of the trial. The loss counts only from ``cost_onset_ms`` on, so the
network is free in how it gets there, but it must keep the value through a delay of 0.25 to
2.5 s after the pulse. A fraction ``catch_fraction`` of trials have no pulse (duration 0,
target 0).

Fresh trials or a fixed set: with ``train_set_size = 0`` every ``sample`` call draws new
trials. With ``train_set_size = n > 0`` (the source trains on 500 trials made once, for 50
epochs), ``sample`` draws its batch from a fixed set of ``n`` trials, made once per generator
seed: the set comes from a generator seeded from ``generator.initial_seed()`` (each network's
``trials`` stream has its own seed, so each network has its own set, as each source network
makes its own), and each batch is ``batch_size`` distinct trials of the set picked with
``generator`` itself (with repeats only when ``batch_size > n``). ``held_out()`` is the same
task with fresh trials, so validation measures trials the network never trained on.

Timing is in ms, with an explicit ``dt``. The pulse enters each step in proportion to the
part of that step it covers, so the integral of the input over time is ``strength *
duration`` at any ``dt``, also for durations that are not whole steps. Step ``t`` covers
``[t dt, (t + 1) dt)``; the mask is 1 on the steps with ``t dt >= cost_onset_ms``.

Periods tile every trial, and a step partly covered by the pulse belongs to the pulse: a
step is ``response`` when it starts at or after ``cost_onset_ms``; otherwise ``pulse`` when
the pulse covers any part of it (its input is > 0); otherwise ``baseline`` when it starts
before the pulse onset, ``delay`` when it starts at or after it. A catch trial has an empty
pulse period (its onset still splits baseline from delay).

Reference: the source study's System A (``../shared/seeds/002``), after the fixed-recurrence
("reservoir") networks of Sussillo & Abbott (2009).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.tasks.base import MAX_STEPS, Duration, Task, TaskConfig, Trials
from rnnbook.validation import (
    check_duration,
    check_integer,
    check_number,
    check_positive,
    check_range,
    duration_bounds,
)

MAX_TRAIN_SET = 100_000  # the most trials a fixed training set may hold
SET_STREAM = 500  # fixed sets come from (generator seed, SET_STREAM): not the picks' stream


@dataclass(frozen=True)
class PulseIntegrationConfig(TaskConfig):
    dt: float = 1.0  # simulation time step (ms)
    trial_ms: float = 7000.0  # length of every trial (ms)
    onset_ms: Duration = (2000.0, 4000.0)  # pulse onset: a time, or a (low, high) range (ms)
    duration_ms: Duration = (50.0, 250.0)  # pulse duration: a number, or a (low, high) range (ms)
    strength: float = 2.0  # pulse amplitude
    cost_onset_ms: float = 4500.0  # the loss counts from this time to the end of the trial
    target_per_ms: float = 0.007  # target per ms of pulse duration (the threshold rule)
    catch_fraction: float = 0.1  # fraction of trials without a pulse (target 0)
    train_set_size: int = 0  # 0: fresh trials each sample; n > 0: a fixed set of n (docstring)

    def __post_init__(self):
        super().__post_init__()
        for name in ("onset_ms", "duration_ms"):
            check_duration(self, name)
        for name in ("trial_ms", "strength", "target_per_ms"):
            check_positive(self, name)
        check_range(self, "catch_fraction", 0.0, 1.0, closed="left")
        check_integer(self, "train_set_size", minimum=0)
        if self.train_set_size > MAX_TRAIN_SET:
            raise ValueError(
                f"PulseIntegrationConfig.train_set_size = {self.train_set_size!r} is out of "
                f"range: allowed 0 .. {MAX_TRAIN_SET}"
            )
        self._check_timing()

    def _check_timing(self) -> None:
        """The response period (judged) follows the latest pulse and has >= 1 step at dt."""
        cls = type(self).__name__
        cost, trial, dt = check_number(self, "cost_onset_ms"), self.trial_ms, self.dt
        trial_name = f"{cls}.trial_ms = {trial!r}"
        if not 0 < cost < trial:
            raise ValueError(
                f"{cls}.cost_onset_ms = {cost!r} is out of range: allowed (0, {trial_name})"
            )
        latest_end = duration_bounds(self.onset_ms)[1] + duration_bounds(self.duration_ms)[1]
        if latest_end > cost:
            raise ValueError(
                f"{cls}.cost_onset_ms = {cost!r} is out of range: the latest pulse ({cls}.onset_ms "
                f"= {self.onset_ms!r} plus {cls}.duration_ms = {self.duration_ms!r}) ends at "
                f"{latest_end} ms; allowed [{latest_end}, {trial_name})"
            )
        if trial / dt > MAX_STEPS:
            raise ValueError(
                f"{trial_name} at {cls}.dt = {dt!r} spans {trial / dt:.4g} steps: allowed at most "
                f"{MAX_STEPS} steps (is a duration, or dt, in s instead of ms?)"
            )
        last = (round(trial / dt) - 1) * dt  # the start of the trial's last step (ms)
        if not last >= cost:
            raise ValueError(
                f"{cls}.cost_onset_ms = {cost!r} leaves no step in the judged response period at "
                f"{cls}.dt = {dt!r} and {trial_name}: the last step starts at {last:g} ms; the "
                f"response period must have >= 1 step: want cost_onset_ms <= {last:g} ms, or a "
                "smaller dt"
            )


def _uniform(value: Duration, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    if not isinstance(value, tuple):
        return torch.full((batch_size,), float(value))
    low, high = value
    return low + (high - low) * torch.rand(batch_size, generator=generator)


class PulseIntegration(Task):
    """Integrate a pulse and hold its integral: inputs ``[B, T, 1]``, targets ``[B, T, 1]``.

    Targets are ``target_per_ms * duration`` in the response period (from ``cost_onset_ms``
    to the end) and 0 before; mask ``[B, T]`` is 1 exactly on the response period. Periods
    ``baseline``, ``pulse``, ``delay``, ``response`` tile each trial (partly covered steps:
    see the module docstring). Conditions (each ``[B]``, in ms): ``onset``, ``duration`` (0
    on catch trials).
    """

    config_class = PulseIntegrationConfig
    name = "pulse_integration"
    periods_tile_trial = True
    target_kind = "values"  # [B, T, 1] the integrated pulse

    n_in = 1  # input channels
    n_out = 1  # output channels

    @property
    def n_steps(self) -> int:
        """Steps per trial: ``trial_ms / dt``, rounded."""
        return round(self.config.trial_ms / self.dt)

    def __init__(self, config: PulseIntegrationConfig | None = None):
        super().__init__(config)
        self._train_sets: dict[int, Trials] = {}  # generator seed -> its fixed set of trials

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        """``batch_size`` trials: fresh ones, or from the fixed set (``train_set_size``)."""
        n = self.config.train_set_size
        if n == 0:
            return self.fresh(batch_size, generator=generator)
        trials = self.train_set(generator.initial_seed())
        if batch_size <= n:
            picks = torch.randperm(n, generator=generator)[:batch_size]
        else:
            picks = torch.randint(n, (batch_size,), generator=generator)
        return trials.select(picks)

    def train_set(self, seed: int) -> Trials:
        """The fixed set of ``train_set_size`` trials made from ``seed`` (made once)."""
        if seed not in self._train_sets:
            child = np.random.SeedSequence([seed, SET_STREAM]).generate_state(1, dtype=np.uint64)
            made = torch.Generator().manual_seed(int(child[0] >> 1))
            self._train_sets[seed] = self.fresh(self.config.train_set_size, generator=made)
        return self._train_sets[seed]

    def held_out(self) -> PulseIntegration:
        """Fresh trials (never from the fixed training set)."""
        if self.config.train_set_size == 0:
            return self
        return self.with_config(train_set_size=0)

    def fresh(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        """``batch_size`` new trials drawn with ``generator``."""
        cfg = self.config
        onset = _uniform(cfg.onset_ms, batch_size, generator)
        duration = _uniform(cfg.duration_ms, batch_size, generator)
        catch = torch.rand(batch_size, generator=generator) < cfg.catch_fraction
        return self.trials_at(duration.masked_fill(catch, 0.0), onset_ms=onset)

    def trials_at(self, duration_ms, *, onset_ms=None) -> Trials:
        """Trials with the given pulse durations (ms, one trial each, [B]) and onsets (ms:
        a number or [B]; default: the middle of the onset range, 3000 ms for the source)."""
        duration = torch.as_tensor(duration_ms, dtype=torch.float32).reshape(-1)  # [B]
        if onset_ms is None:
            onset_ms = self._middle_onset()
        onset = torch.as_tensor(onset_ms, dtype=torch.float32).expand_as(duration)  # [B]
        if (duration < 0).any() or (onset < 0).any():
            raise ValueError("trials_at: durations and onsets must be >= 0 ms")
        pulse = self._coverage(onset, duration)  # [B, T] fraction of each step in the pulse
        periods = self._periods(onset, pulse)
        response = periods["response"].float()  # [B, T]
        level = self.config.target_per_ms * duration  # [B]
        return Trials(
            inputs=(self.config.strength * pulse)[..., None],
            targets=(level[:, None] * response)[..., None],
            mask=response,
            conditions={"onset": onset.clone(), "duration": duration},
            dt=self.dt,
            periods=periods,
        )

    def times(self) -> torch.Tensor:
        """[T] the start of each step in ms."""
        return torch.arange(self.n_steps, dtype=torch.float64) * self.dt

    def _coverage(self, onset: torch.Tensor, duration: torch.Tensor) -> torch.Tensor:
        """[B, T] the part of each step ``[t dt, (t + 1) dt)`` in ``[onset, onset + duration)``."""
        start = self.times()[None, :]  # [1, T]
        first = torch.maximum(start, onset.double()[:, None])
        last = torch.minimum(start + self.dt, (onset + duration).double()[:, None])
        return ((last - first).clamp_min(0.0) / self.dt).float()

    def _periods(self, onset: torch.Tensor, pulse: torch.Tensor) -> dict[str, torch.Tensor]:
        """Boolean [B, T] periods from onsets [B] (ms) and pulse coverage [B, T], in order of
        precedence: response, pulse (any coverage), baseline (before the onset), delay."""
        start = self.times()[None, :]  # [1, T]
        response = (start >= self.config.cost_onset_ms).expand_as(pulse).clone()
        covered = (pulse > 0) & ~response
        before = (start < onset.double()[:, None]) & ~covered & ~response
        after = ~(before | covered | response)
        return {"baseline": before, "pulse": covered, "delay": after, "response": response}

    def _middle_onset(self) -> float:
        value = self.config.onset_ms
        return 0.5 * (value[0] + value[1]) if isinstance(value, tuple) else float(value)
