"""Two-alternative forced-choice perceptual discrimination (random-dots style).

Two evidence channels carry Gaussian noise; during the stimulus period the channel on the
correct side also carries a mean signal equal to the trial's coherence. After the stimulus
the network reports its choice (two output logits) in the decision period, the only period
in which the loss is counted.

Coherence scale: the unsigned coherence ``c`` in [0, 1] is the mean evidence added to the
correct channel; the difference between the two channels' means is ``c`` (neurogym's
``coh / 100``). The signed coherence in ``conditions["coherence"]`` is ``+c`` for choice 1
(right) and ``-c`` for choice 0 (left). Channel noise has standard deviation
``sigma_stim / sqrt(dt / 1 ms)`` per step, so a leaky integrator sees the same evidence
statistics at any ``dt`` (neurogym's convention).

References: Britten et al. (1992); Song, Yang & Wang (2016); PsychRNN's
``PerceptualDiscrimination`` (Ehrlich et al., 2021).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rnnbook.tasks.base import Duration, TaskConfig, TimedTask, Trials, check_steps
from rnnbook.validation import check_duration, check_levels, check_nonnegative, check_type


@dataclass(frozen=True)
class PerceptualDecisionConfig(TaskConfig):
    fixation_ms: Duration = 100.0  # before the stimulus: noise only (may be 0)
    stimulus_ms: Duration = 500.0  # evidence period (a number, or a (low, high) range in ms)
    decision_ms: Duration = 200.0  # response period: the only period the loss counts
    coherences: tuple[float, ...] = (0.0, 0.025, 0.05, 0.1, 0.2, 0.4)  # unsigned levels, in [0, 1]
    sigma_stim: float = 1.5  # evidence noise (std per step is sigma_stim / sqrt(dt / 1 ms))
    fixation_input: bool = False  # add neurogym's fixation cue (1 until the decision period)

    def __post_init__(self):
        super().__post_init__()
        for name in ("fixation_ms", "stimulus_ms", "decision_ms"):
            check_duration(self, name)
        # the stimulus and the judged decision period need >= 1 step at dt in every trial
        for name, minimum in (("fixation_ms", 0), ("stimulus_ms", 1), ("decision_ms", 1)):
            check_steps(self, name, minimum=minimum)
        check_levels(self, "coherences", 0.0, 1.0)
        check_nonnegative(self, "sigma_stim")
        check_type(self, "fixation_input", bool)


class PerceptualDecision(TimedTask):
    """2AFC perceptual discrimination: integrate two noisy evidence streams, report the larger.

    Inputs ``[B, T, 2]`` (left, right evidence), or ``[B, T, 3]`` with the fixation cue first.
    Targets ``[B, T]`` class indices (the correct choice, 0 = left, 1 = right); mask ``[B, T]``
    is 1 exactly on the decision period. Periods ``fixation``, ``stimulus``, ``decision``
    tile each trial. Conditions: ``coherence`` (signed, [B]) and ``choice`` (the correct
    choice, [B]).
    """

    config_class = PerceptualDecisionConfig
    name = "perceptual_decision"
    periods = ("fixation", "stimulus", "decision")
    n_classes = 2
    target_kind = "classes"

    @property
    def n_in(self) -> int:
        return 3 if self.config.fixation_input else 2

    @property
    def n_out(self) -> int:
        return 2

    def sample(self, batch_size: int, *, generator: torch.Generator) -> Trials:
        cfg = self.config
        levels = torch.tensor(cfg.coherences)
        level = levels[torch.randint(len(levels), (batch_size,), generator=generator)]
        choice = torch.randint(2, (batch_size,), generator=generator)
        masks = self.period_masks(self.durations(batch_size, generator=generator))
        n_steps = masks["fixation"].shape[1]

        evidence = torch.zeros(batch_size, n_steps, 2)  # [B, T, 2]
        signal = level[:, None] * masks["stimulus"]  # [B, T]
        evidence.scatter_add_(2, choice[:, None, None].expand(-1, n_steps, 1), signal[..., None])
        evidence += (
            cfg.sigma_stim / (cfg.dt**0.5) * torch.randn(evidence.shape, generator=generator)
        )
        inputs = evidence
        if cfg.fixation_input:
            fixating = (masks["fixation"] | masks["stimulus"]).float()[..., None]
            inputs = torch.cat([fixating, evidence], dim=2)

        targets = choice[:, None].expand(-1, n_steps).clone()  # [B, T]
        coherence = torch.where(choice == 1, level, -level)
        return Trials(
            inputs=inputs,
            targets=targets,
            mask=masks["decision"].float(),
            conditions={"coherence": coherence, "choice": choice},
            dt=cfg.dt,
            periods=masks,
        )

    def choices(self, outputs: torch.Tensor, trials: Trials) -> torch.Tensor:
        """The network's choice per trial, [B]: argmax of the logits averaged over the mask."""
        weights = trials.mask[..., None]  # [B, T, 1]
        mean_logits = (outputs * weights).sum(1) / weights.sum(1).clamp_min(1)  # [B, n_out]
        return mean_logits.argmax(dim=1)

    def correct_choices(self, trials: Trials) -> torch.Tensor:
        """[B] the correct choice of each trial."""
        return trials.conditions["choice"]

    def ideal_accuracy(self, coherence: float) -> float:
        """Accuracy of the ideal observer, who sums the evidence difference over the stimulus.

        With ``n`` stimulus steps and per-step channel noise ``s``, the summed difference has
        mean ``n c`` and standard deviation ``s sqrt(2 n)``: accuracy ``Phi(c sqrt(n / 2) / s)``.
        Needs a fixed stimulus duration.
        """
        cfg = self.config
        if isinstance(cfg.stimulus_ms, tuple):
            raise ValueError("ideal_accuracy needs a fixed stimulus_ms, not a range")
        n = round(cfg.stimulus_ms / cfg.dt)
        if cfg.sigma_stim == 0:
            return 1.0 if coherence > 0 else 0.5
        s = cfg.sigma_stim / math.sqrt(cfg.dt)
        return 0.5 * (1 + math.erf(coherence * math.sqrt(n / 2) / s / math.sqrt(2)))
