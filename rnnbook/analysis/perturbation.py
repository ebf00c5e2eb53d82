"""Causal analyses by intervention: which units matter for the choice, and what losing them costs.

- ``saliency``: each unit's first-order importance for the correct choice, the gradient of
  the choice's log-probability with respect to a gain on the unit's rate, at gain 1. Removing
  a unit is gain 0, so ``-score`` is the linear estimate of what a lesion costs (a Taylor
  expansion of the objective in the gains); large positive scores mark units the choice
  relies on.
- ``unit_lesion_costs``: what lesioning each unit alone costs, measured; ``saliency_vs_lesions``
  compares the two.
- ``lesion_comparison``: the accuracy after lesioning given units against lesioning the same
  number of random units, over many random draws, on the same trials and noise.
- ``lesion_robustness``: accuracy against the fraction of units lesioned at random.

All of them use ``Gain`` and ``Lesion`` interventions passed to the model's forward; the model
is never changed. The tasks are classification tasks (``task.choices``,
``task.correct_choices``); the choice is read from the logits averaged over the task's mask.
Trials and noise come from the ``test_trials`` and ``test_noise`` streams of ``seed`` (as in
``evaluate``); random lesion sets from its ``lesions`` stream.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral

import torch

from rnnbook.analysis.choices import check_classification, correct_log_prob
from rnnbook.analysis.evaluation import evaluate_on, model_device, run_trials, sample_trials
from rnnbook.analysis.results import Result
from rnnbook.models.interventions import Gain, Lesion
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task


@dataclass(eq=False)
class Saliency(Result):
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
    check_classification(task)
    trials = sample_trials(task, n_trials, seed=seed).to(model_device(model))
    gains = torch.ones(model.config.n_rec, device=trials.inputs.device, requires_grad=True)
    window = Gain(gains, start_ms=start_ms, stop_ms=stop_ms)
    outputs = run_trials(model, trials, seed=seed, intervention=window).outputs
    objective = correct_log_prob(outputs, trials, task).mean()
    (scores,) = torch.autograd.grad(objective, gains)
    scores = scores.detach().cpu()
    return Saliency(scores=scores, order=torch.argsort(scores, descending=True))


@torch.no_grad()
def unit_lesion_costs(
    model: torch.nn.Module, task: Task, n_trials: int, *, seed: int
) -> torch.Tensor:
    """[n_rec] what lesioning each unit alone costs: ``choice_log_prob`` of the intact network
    minus that with ``Lesion([i])``, every unit on the same trials and noise (those of
    ``saliency`` with the same ``seed``, whose scores are its first-order estimate)."""
    check_classification(task)
    trials = sample_trials(task, n_trials, seed=seed).to(model_device(model))

    def log_prob(intervention=None) -> torch.Tensor:
        outputs = run_trials(model, trials, seed=seed, intervention=intervention).outputs
        return correct_log_prob(outputs, trials, task).mean()

    intact = log_prob()
    costs = [intact - log_prob(Lesion([i])) for i in range(model.config.n_rec)]
    return torch.stack(costs).cpu()


@dataclass(frozen=True, eq=False)
class SaliencyCheck(Result):
    """How well saliency scores predict measured single-unit lesion costs.

    k:               the size of the top set.
    correlation:     Pearson r of scores and costs over the units.
    top_k_share:     the top k units' share of the positive saliency.
    n_negative:      units with a negative score.
    top_k_cost:      the measured costs of the k most salient units, summed.
    top_k_predicted: their scores summed (the first-order prediction of ``top_k_cost``).
    overlap:         how many of the k costliest units are among the k most salient.
    """

    k: int
    correlation: float
    top_k_share: float
    n_negative: int
    top_k_cost: float
    top_k_predicted: float
    overlap: int


def saliency_vs_lesions(ranking: Saliency, costs: torch.Tensor, k: int) -> SaliencyCheck:
    """Compare ``ranking`` (:func:`saliency`) with ``costs [n_rec]`` (:func:`unit_lesion_costs`)
    on the ``k`` most salient units."""
    scores, costs = ranking.scores.double(), torch.as_tensor(costs).double()
    if costs.shape != scores.shape:
        raise ValueError(f"costs must be [{len(scores)}] like the scores; got {costs.shape}")
    top = ranking.top(k)
    costliest = costs.argsort(descending=True)[:k]
    return SaliencyCheck(
        k=k,
        correlation=float(torch.corrcoef(torch.stack([scores, costs]))[0, 1]),
        top_k_share=float(scores[top].sum() / scores.clamp_min(0).sum()),
        n_negative=int((scores < 0).sum()),
        top_k_cost=float(costs[top].sum()),
        top_k_predicted=float(scores[top].sum()),
        overlap=len(set(costliest.tolist()) & set(top.tolist())),
    )


@dataclass(eq=False)
class LesionComparison(Result):
    """Accuracy after lesioning chosen units vs as many random units, on the same trials.

    intact: accuracy without a lesion; targeted: after lesioning ``units``;
    random: [n_draws] after lesioning ``len(units)`` units drawn at random (each draw once);
    draws:  [n_draws, len(units)] the units of each random draw (None if not kept).
    """

    units: torch.Tensor
    intact: float
    targeted: float
    random: torch.Tensor
    draws: torch.Tensor | None = None

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
    check_classification(task)
    units = torch.as_tensor(units, dtype=torch.long)
    pool = model.config.n_rec if candidates is None else candidates
    gen = Seeds.from_seed(seed).generator("lesions")
    draws = random_unit_sets(pool, len(units), n_draws, generator=gen)  # [n_draws, k]
    trials = sample_trials(task, n_trials, seed=seed)

    def accuracy(lesioned) -> float:
        lesion = None if lesioned is None else Lesion(lesioned)
        return evaluate_on(model, task, trials, seed=seed, intervention=lesion).accuracy

    return LesionComparison(
        units=units,
        intact=accuracy(None),
        targeted=accuracy(units),
        random=torch.tensor([accuracy(d) for d in draws]),
        draws=draws,
    )


@dataclass(eq=False)
class LesionCurve(Result):
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
    check_classification(task)
    for f in fractions:
        if not 0.0 <= f <= 1.0:
            raise ValueError(f"fractions contains {f!r}: allowed are fractions in [0, 1]")
    n_rec = model.config.n_rec
    gen = Seeds.from_seed(seed).generator("lesions")
    trials = sample_trials(task, n_trials, seed=seed)

    def accuracy(lesion=None) -> float:
        return evaluate_on(model, task, trials, seed=seed, intervention=lesion).accuracy

    rows = []
    for f in fractions:
        k = round(f * n_rec)
        if k == 0:  # nothing lesioned: every draw is the intact network
            rows.append([accuracy()] * n_draws)
            continue
        draws = random_unit_sets(n_rec, k, n_draws, generator=gen)
        rows.append([accuracy(Lesion(units)) for units in draws])
    return LesionCurve(torch.tensor(list(fractions)), torch.tensor(rows))


def random_unit_sets(
    pool: int | Sequence[int] | torch.Tensor, k: int, n_draws: int, *, generator: torch.Generator
) -> torch.Tensor:
    """[n_draws, k] unit indices: each row ``k`` distinct units drawn at random from ``pool``
    (an int ``n``: units ``0 .. n - 1``; or the candidate indices), independently per row."""
    pool = (
        torch.arange(pool)
        if isinstance(pool, Integral)
        else torch.as_tensor(pool, dtype=torch.long)
    )
    if not 0 <= k <= len(pool):
        raise ValueError(f"cannot draw {k} random units from {len(pool)} candidates")
    rows = [pool[torch.randperm(len(pool), generator=generator)[:k]] for _ in range(n_draws)]
    return torch.stack(rows) if rows else pool.new_empty(0, k)
