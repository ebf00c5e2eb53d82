"""PsychRNN's ``PerceptualDiscrimination`` task as an rnnbook :class:`~rnnbook.tasks.Task`.

The trials are PsychRNN 1.0.0's own, generated without PsychRNN or TensorFlow: two input
channels carry Gaussian noise of standard deviation ``sqrt(2 * 0.01 * sqrt(10) * sqrt(dt)) *
0.1`` per step; during the stimulus (onset uniform in ``[0, T/2)``, duration uniform in
``[T/8, 3T/8)``) both channels carry 1 and the correct one carries ``1 + coherence`` (a level
drawn from ``coherences``). The target is 0 until 20 ms after the stimulus ends, then 1.0 on
the correct channel and 0.2 on the other; the mask is 1 from the end of the stimulus on.

Periods follow PsychRNN's own comparisons of a step's time ``t = step * dt`` (ms) with the
stimulus' ``onset`` and ``end`` and tile every trial: ``fixation`` ``t <= onset``,
``stimulus`` ``onset < t < end``, ``delay`` ``end <= t <= end + 20`` (judged, target 0) and
``decision`` ``t > end + 20`` (judged, target on). The mask is ``delay | decision``.

PsychRNN draws these numbers from numpy's global generator, one trial after the other (the
trial's four parameters, then its noise step by step). :meth:`PsychRNNPerceptual.psychrnn_batch`
makes the same draws from its own ``RandomState`` (one call per trial for the noise, the
time axis vectorised), so ``psychrnn_batch(B, seed)`` equals PsychRNN's
``np.random.seed(seed); task.get_trial_batch()`` to the last bit, without touching the global
generator. ``sample(B, generator=g)`` draws that seed from the torch generator ``g``.

Reference: Ehrlich et al. (2021), PsychRNN, eNeuro 8(1); the task after Britten et al. (1992).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from rnnbook.tasks.base import MAX_STEPS, Task, TaskConfig, Trials
from rnnbook.validation import check_levels, check_positive

_STIM_NOISE = 0.1  # PsychRNN's params["stim_noise"]
_TARGET_HI, _TARGET_LO = 1.0, 0.2  # PsychRNN's one-hot target levels
_RESPONSE_DELAY_MS = 20.0  # the target starts this long after the stimulus ends


@dataclass(frozen=True)
class PsychRNNPerceptualConfig(TaskConfig):
    dt: float = 10.0  # simulation time step (ms); PsychRNN's examples use 10
    trial_ms: float = 2000.0  # trial length T (ms): ceil(T / dt) steps
    coherences: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7)  # PsychRNN's levels, drawn uniformly

    def __post_init__(self):
        super().__post_init__()
        check_positive(self, "trial_ms")
        check_levels(self, "coherences", 0.0)
        self._check_timing()

    def _check_timing(self) -> None:
        """Both judged periods, the delay (the 20 ms after the stimulus) and the decision (from
        then to the end), have >= 1 step at dt in every trial; at most MAX_STEPS steps."""
        cls, dt, trial = type(self).__name__, self.dt, self.trial_ms
        if dt > _RESPONSE_DELAY_MS:
            raise ValueError(
                f"{cls}.dt = {dt!r} is out of range: allowed (0, {_RESPONSE_DELAY_MS}]: the judged "
                f"delay period (the {_RESPONSE_DELAY_MS:g} ms after the stimulus) must have >= 1 "
                "step in every trial"
            )
        if trial / dt > MAX_STEPS:
            raise ValueError(
                f"{cls}.trial_ms = {trial!r} at {cls}.dt = {dt!r} spans {trial / dt:.4g} steps: "
                f"allowed at most {MAX_STEPS} steps (is a duration in s instead of ms?)"
            )
        last = (self.n_steps - 1) * dt  # the time of the last step (ms)
        latest = 7 * trial / 8 + _RESPONSE_DELAY_MS  # the latest stimulus end, plus the delay
        if not last > latest:
            raise ValueError(
                f"{cls}.trial_ms = {trial!r} at {cls}.dt = {dt!r} leaves no step in the judged "
                f"decision period of trials whose stimulus ends late (up to 7/8 of the trial): the "
                f"last step is at {last:g} ms; it must be after 7/8 trial_ms + "
                f"{_RESPONSE_DELAY_MS:g} ms = {latest:g} ms: want a longer trial or a smaller dt"
            )

    @property
    def n_steps(self) -> int:
        """Steps per trial, ``ceil(trial_ms / dt)`` (PsychRNN's ``N_steps``)."""
        return math.ceil(self.trial_ms / self.dt)


class PsychRNNPerceptual(Task):
    """PsychRNN's 2AFC task: inputs [B, T, 2], targets [B, T, 2] (MSE form), mask [B, T, 2].

    Conditions, each [B]: ``coherence`` (signed: ``+c`` when channel 1 is the correct one,
    ``-c`` for channel 0), ``choice`` (the correct channel, PsychRNN's ``direction``),
    ``onset_ms`` and ``stimulus_ms`` (the stimulus' onset and duration). A choice is the channel
    with the larger output averaged over the mask, PsychRNN's ``accuracy_function``. Periods
    ``fixation``, ``stimulus``, ``delay``, ``decision`` tile each trial (see the module).
    """

    config_class = PsychRNNPerceptualConfig
    name = "psychrnn_perceptual"
    n_classes = 2
    target_kind = "values"  # PsychRNN's one-hot levels, for a mean squared error
    periods_tile_trial = True

    n_in = 2  # input channels
    n_out = 2  # output channels

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
        return self.psychrnn_batch(batch_size, seed)

    def psychrnn_batch(self, batch_size: int, seed: int) -> Trials:
        """The batch PsychRNN's ``get_trial_batch()`` returns after ``np.random.seed(seed)``."""
        cfg = self.config
        rng = np.random.RandomState(seed)
        levels = np.array(cfg.coherences)
        scale = np.sqrt(2 * 0.01 * np.sqrt(10) * np.sqrt(cfg.dt) * _STIM_NOISE * _STIM_NOISE)
        params = np.empty((batch_size, 4))  # coherence, direction, onset, duration
        noise = np.empty((batch_size, cfg.n_steps, 2))
        for b in range(batch_size):  # PsychRNN's draw order: one trial after the other
            params[b] = (
                rng.choice(levels),
                rng.choice([0, 1]),
                rng.random_sample() * cfg.trial_ms / 2.0,
                rng.random_sample() * cfg.trial_ms / 4.0 + cfg.trial_ms / 8.0,
            )
            noise[b] = scale * rng.randn(cfg.n_steps, 2)
        return self._trials(params, noise)

    def _trials(self, params: np.ndarray, noise: np.ndarray) -> Trials:
        """Trials from per-trial parameters [B, 4] and input noise [B, T, 2]."""
        coherence, direction, onset, duration = params.T  # each [B]
        direction = direction.astype(np.int64)
        t = np.arange(self.config.n_steps)[None, :] * self.config.dt  # [1, T] in ms
        end = (onset + duration)[:, None]  # [B, 1]
        periods = {
            "fixation": t <= onset[:, None],  # [B, T] each
            "stimulus": (onset[:, None] < t) & (t < end),
            "delay": (end <= t) & (t <= end + _RESPONSE_DELAY_MS),
            "decision": t > end + _RESPONSE_DELAY_MS,
        }
        correct = direction[:, None, None] == np.arange(2)  # [B, 1, 2]
        signal = np.where(correct, 1 + coherence[:, None, None], 1)  # [B, 1, 2]
        inputs = noise + periods["stimulus"][..., None] * signal
        targets = periods["decision"][..., None] * np.where(correct, _TARGET_HI, _TARGET_LO)
        mask = np.repeat((t >= end)[..., None], 2, axis=2)  # [B, T, 2]
        signed = np.where(direction == 1, coherence, -coherence)
        return Trials(
            inputs=torch.as_tensor(inputs, dtype=torch.float32),
            targets=torch.as_tensor(targets, dtype=torch.float32),
            mask=torch.as_tensor(mask, dtype=torch.float32),
            conditions={
                "coherence": torch.as_tensor(signed, dtype=torch.float32),
                "choice": torch.as_tensor(direction),
                "onset_ms": torch.as_tensor(onset, dtype=torch.float32),
                "stimulus_ms": torch.as_tensor(duration, dtype=torch.float32),
            },
            dt=self.config.dt,
            periods={k: torch.as_tensor(v) for k, v in periods.items()},
        )

    def choices(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """[B] the channel whose masked output [B, T, 2] is larger on average (PsychRNN's rule)."""
        return (outputs * trials.mask).mean(dim=1).argmax(dim=1)

    def correct_choices(self, trials: Trials) -> torch.Tensor:
        """[B] the correct channel of each trial."""
        return trials.conditions["choice"]
