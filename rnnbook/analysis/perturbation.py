"""Causal analyses by intervention: which units matter for the choice, and what losing them costs.

- ``saliency``: each unit's first-order importance for the correct choice, the gradient of
  the choice's log-probability with respect to a gain on the unit's rate, at gain 1. Removing
  a unit is gain 0, so ``-score`` is the linear estimate of what a lesion costs (a Taylor
  expansion of the objective in the gains); large positive scores mark units the choice
  relies on.
- ``lesion_comparison``: the accuracy after lesioning given units against lesioning the same
  number of random units, over many random draws, on the same trials and noise.
- ``lesion_robustness``: accuracy against the fraction of units lesioned at random.

All of them use ``Gain`` and ``Lesion`` interventions passed to the model's forward; the model
is never changed. The tasks are classification tasks (``task.choices``,
``task.correct_choices``); the choice is read from the logits averaged over the task's mask.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnbook.analysis.evaluation import evaluate
from rnnbook.models.interventions import Gain, Lesion
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task


@dataclass
class Saliency:
    """scores: [N] d(mean log-probability of the correct choice)/d(gain of unit i) at gain 1;
    order: [N] unit indices by decreasing score."""

    scores: torch.Tensor
    order: torch.Tensor

    def top(self, k: int) -> torch.Tensor:
        """The ``k`` units the correct choice relies on most."""
        if not 0 <= k <= len(self.order):
            raise ValueError(f"k = {k!r} is out of range: allowed 0 .. {len(self.order)}")
        return self.order[:k]


def saliency(
    model: torch.nn.Module,
    task: Task,
    n_trials: int = 512,
    *,
    seed: int = 0,
    start_ms: float = 0.0,
    stop_ms: float = math.inf,
) -> Saliency:
    """Each unit's importance for the correct choice (module docstring), over ``n_trials``
    trials of ``task`` (trials and noise from ``seed``), for gains applied in the window
    ``[start_ms, stop_ms)``."""
    _check_classification(task)
    seeds = Seeds.from_seed(seed)
    device = next(model.parameters()).device
    trials = task.sample(n_trials, generator=seeds.generator("eval")).to(device)
    n_rec = model.config.n_rec
    gains = torch.ones(n_rec, device=device, requires_grad=True)
    outputs = model(
        trials.inputs,
        generator=seeds.generator("noise", device),
        intervention=Gain(gains, start_ms=start_ms, stop_ms=stop_ms),
    ).outputs
    weights = trials.mask[..., None]
    mean_logits = (outputs * weights).sum(1) / weights.sum(1).clamp_min(1)  # as task.choices
    log_p = torch.log_softmax(mean_logits, dim=1)
    objective = log_p.gather(1, task.correct_choices(trials)[:, None]).mean()
    (scores,) = torch.autograd.grad(objective, gains)
    scores = scores.detach().cpu()
    return Saliency(scores=scores, order=torch.argsort(scores, descending=True))


@dataclass
class LesionComparison:
    """Accuracy after lesioning chosen units vs as many random units, on the same trials.

    intact: accuracy without a lesion; targeted: after lesioning ``units``;
    random: [n_draws] after lesioning ``len(units)`` units drawn at random (each draw once).
    """

    units: torch.Tensor
    intact: float
    targeted: float
    random: torch.Tensor

    @property
    def difference(self) -> torch.Tensor:
        """[n_draws] random-draw accuracy minus targeted accuracy (> 0: the chosen units
        matter more than random ones)."""
        return self.random - self.targeted

    def summary(self) -> str:
        d = self.difference
        return (
            f"lesioning {len(self.units)} chosen units: accuracy {self.intact:.3f} -> "
            f"{self.targeted:.3f}; {len(self.units)} random units: {self.random.mean():.3f} "
            f"(sd {self.random.std():.3f} over {len(self.random)} draws); difference "
            f"{d.mean():.3f} +- {d.std():.3f}"
        )


def lesion_comparison(
    model: torch.nn.Module,
    task: Task,
    units: Sequence[int] | torch.Tensor,
    *,
    n_draws: int = 20,
    n_trials: int = 1024,
    seed: int = 0,
    candidates: Sequence[int] | torch.Tensor | None = None,
) -> LesionComparison:
    """Lesion ``units`` and, ``n_draws`` times, as many units drawn at random from
    ``candidates`` (default: all units); every accuracy is on the same trials and noise."""
    _check_classification(task)
    units = torch.as_tensor(units, dtype=torch.long)
    n_rec = model.config.n_rec
    pool = torch.arange(n_rec) if candidates is None else torch.as_tensor(candidates)
    if len(units) > len(pool):
        raise ValueError(f"cannot draw {len(units)} random units from {len(pool)} candidates")
    gen = Seeds.from_seed(seed).generator("init")  # the draws' own stream, apart from trials

    def accuracy(lesioned) -> float:
        extra = {} if lesioned is None else {"intervention": Lesion(lesioned)}
        return evaluate(model, task, n_trials, seed=seed, **extra).accuracy

    draws = [pool[torch.randperm(len(pool), generator=gen)[: len(units)]] for _ in range(n_draws)]
    return LesionComparison(
        units=units,
        intact=accuracy(None),
        targeted=accuracy(units),
        random=torch.tensor([accuracy(d) for d in draws]),
    )


@dataclass
class LesionCurve:
    """fractions: [F] fraction of units lesioned; accuracy: [F, n_draws] one random lesion
    set per draw (the same trials and noise throughout)."""

    fractions: torch.Tensor
    accuracy: torch.Tensor

    @property
    def mean(self) -> torch.Tensor:
        return self.accuracy.mean(1)

    @property
    def std(self) -> torch.Tensor:
        return self.accuracy.std(1) if self.accuracy.shape[1] > 1 else torch.zeros(len(self.mean))


def lesion_robustness(
    model: torch.nn.Module,
    task: Task,
    fractions: Sequence[float] = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5),
    *,
    n_draws: int = 10,
    n_trials: int = 512,
    seed: int = 0,
) -> LesionCurve:
    """Accuracy when ``round(fraction * n_rec)`` units, drawn at random, are lesioned."""
    _check_classification(task)
    for f in fractions:
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"fractions contains {f!r}: allowed are fractions in [0, 1]")
    n_rec = model.config.n_rec
    gen = Seeds.from_seed(seed).generator("init")
    rows = []
    for f in fractions:
        k = round(f * n_rec)
        if k == 0:  # nothing lesioned: every draw is the intact network
            rows.append([evaluate(model, task, n_trials, seed=seed).accuracy] * n_draws)
            continue
        draws = [torch.randperm(n_rec, generator=gen)[:k] for _ in range(n_draws)]
        rows.append(
            [
                evaluate(model, task, n_trials, seed=seed, intervention=Lesion(u)).accuracy
                for u in draws
            ]
        )
    return LesionCurve(torch.tensor(list(fractions)), torch.tensor(rows))


def _check_classification(task: Task) -> None:
    if not (hasattr(task, "choices") and hasattr(task, "correct_choices")):
        raise ValueError(
            f"{type(task).__name__} has no choices: lesion and saliency analyses need a "
            "classification task (one with choices and correct_choices)"
        )
