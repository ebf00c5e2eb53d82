"""Clamping units at the rates of one choice: how far a few units can swing the choice.

The clamp values are the units' mean rates during a window (e.g. the stimulus) on the trials
of one sign of a condition (:func:`signed_mean_rates`: for a signed coherence, the trials whose
evidence points right, or left). :func:`clamp_swing` holds chosen units at one set of values,
then at the other, over that window, and measures the change in P(choice = 1): the *swing*,
1 when the clamped units alone decide the choice, 0 when they do not matter. It compares the
top ``k`` units of a ranking (e.g. ``Saliency.order``) with random sets of ``k`` units, drawn
from the ``units`` stream of ``seed``; trials and noise are those of ``evaluate`` with ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from rnnbook.analysis.choices import check_classification
from rnnbook.analysis.evaluation import Evaluation, model_device, run_trials, sample_trials
from rnnbook.analysis.perturbation import random_unit_sets
from rnnbook.analysis.results import Result
from rnnbook.models.interventions import Clamp
from rnnbook.seeding import Seeds
from rnnbook.tasks import Task, Trials

_SIGNS = ("positive", "negative")


def period_window(trials: Trials, name: str) -> tuple[float, float]:
    """``(start_ms, stop_ms)`` of period ``name`` of ``trials`` (from ``trials.periods``), which
    must lie at the same steps on every trial: a window for clamps and rate averages."""
    periods = getattr(trials, "periods", {})
    if name not in periods:
        raise ValueError(f"no period {name!r} in these trials: have {sorted(periods)}")
    mask = periods[name].cpu()  # [B, T]
    steps = mask[0].nonzero().squeeze(1)
    if len(steps) == 0 or not (mask == mask[:1]).all() or len(steps) != steps[-1] - steps[0] + 1:
        raise ValueError(
            f"period {name!r} is not one stretch at the same steps on every trial: a window "
            "needs fixed timing (give start_ms and stop_ms yourself)"
        )
    return float(steps[0]) * trials.dt, float(steps[-1] + 1) * trials.dt


@dataclass(frozen=True, eq=False)
class SignedRates(Result):
    """Each unit's mean rate in a window, on the trials of each sign of a condition.

    positive:  [N] on trials with ``key >= threshold`` (and > 0); for coherence: right.
    negative:  [N] on trials with ``key <= -threshold`` (and < 0); for coherence: left.
    key, threshold: the condition and the threshold on its absolute value.
    window_ms: (start_ms, stop_ms), the window ``[start_ms, stop_ms)`` averaged over.
    """

    positive: torch.Tensor
    negative: torch.Tensor
    key: str
    threshold: float
    window_ms: tuple[float, float]

    def clamp(self, units, sign: str) -> Clamp:
        """A ``Clamp`` holding ``units`` at their ``sign`` (``"positive"`` or ``"negative"``)
        rates over ``window_ms``."""
        if sign not in _SIGNS:
            raise ValueError(f"sign = {sign!r}: choose 'positive' or 'negative'")
        units = torch.as_tensor(units, dtype=torch.long).reshape(-1)
        values = getattr(self, sign)[units]
        return Clamp(units, values, start_ms=self.window_ms[0], stop_ms=self.window_ms[1])


def signed_mean_rates(
    evaluation: Evaluation,
    *,
    start_ms: float,
    stop_ms: float,
    key: str = "coherence",
    threshold: float = 0.0,
) -> SignedRates:
    """Mean rates of ``evaluation.rollout.rates [B, T, N]`` over the steps in
    ``[start_ms, stop_ms)``, on the trials whose ``conditions[key]`` is at least ``threshold``
    (positive) and at most ``-threshold`` (negative); float32 levels count as equal."""
    trials = evaluation.trials
    if key not in trials.conditions:
        raise ValueError(f"no condition {key!r} in these trials: have {sorted(trials.conditions)}")
    during = (trials.times >= start_ms) & (trials.times < stop_ms)  # [T]
    if not during.any():
        raise ValueError(f"no step lies in [{start_ms}, {stop_ms}) ms of these trials")
    rates = evaluation.rollout.rates[:, during]  # [B, W, N]
    values = trials.conditions[key].cpu()  # [B]
    bound = threshold - 1e-6 * max(1.0, abs(threshold))

    def mean_rates(selected: torch.Tensor) -> torch.Tensor:
        if not selected.any():
            raise ValueError(f"no trial has |{key}| >= {threshold} on one side")
        return rates[selected].mean((0, 1))  # [N]

    return SignedRates(
        positive=mean_rates((values >= bound) & (values > 0)),
        negative=mean_rates((values <= -bound) & (values < 0)),
        key=key,
        threshold=float(threshold),
        window_ms=(float(start_ms), float(stop_ms)),
    )


@dataclass(frozen=True, eq=False)
class ClampSwing(Result):
    """P(choice = 1) with units clamped at the positive or the negative rates of a
    :class:`SignedRates`, on the same trials and noise throughout.

    ks:                 [K] numbers of units clamped.
    intact:             P(choice = 1) without a clamp.
    targeted_positive, targeted_negative: [K] with the top k units of the ranking clamped.
    random_positive, random_negative:     [K, n_draws] with k random units clamped (the same
                                          random set for both signs).
    draws:              per k, [n_draws, k] the random units (from the ``units`` stream).
    """

    ks: torch.Tensor
    intact: float
    targeted_positive: torch.Tensor
    targeted_negative: torch.Tensor
    random_positive: torch.Tensor
    random_negative: torch.Tensor
    draws: list[torch.Tensor]

    @property
    def targeted(self) -> torch.Tensor:
        """[K] the swing of the top k units: P(1 | positive clamp) - P(1 | negative clamp)."""
        return self.targeted_positive - self.targeted_negative

    @property
    def random(self) -> torch.Tensor:
        """[K, n_draws] the swing of each random set of k units."""
        return self.random_positive - self.random_negative

    def summary(self) -> str:
        rows = [f"P(choice 1) without a clamp: {self.intact:.3f}"]
        for k, top, rnd in zip(self.ks.tolist(), self.targeted, self.random, strict=True):
            rows.append(
                f"k = {k:>3}: swing {top:.3f} (top k), {rnd.mean():.3f} ± "
                f"{rnd.std() if len(rnd) > 1 else 0.0:.3f} (random, {len(rnd)} draws)"
            )
        return "\n".join(rows)


@torch.no_grad()
def clamp_swing(
    model: torch.nn.Module,
    task: Task,
    order: Sequence[int] | torch.Tensor,
    ks: Sequence[int],
    values: SignedRates,
    *,
    n_draws: int = 20,
    n_trials: int = 1024,
    seed: int = 0,
) -> ClampSwing:
    """The swing of the choice when the first ``k`` units of ``order`` (units by decreasing
    importance), and ``n_draws`` random sets of ``k`` units, are clamped at ``values``'s
    positive, then negative rates over ``values.window_ms``; for each ``k`` in ``ks``."""
    check_classification(task)
    order, n_rec = torch.as_tensor(order, dtype=torch.long), model.config.n_rec
    if values.positive.shape != (n_rec,) or max(ks, default=0) > len(order):
        raise ValueError(f"values must be [{n_rec}] and every k <= len(order) = {len(order)}")
    trials = sample_trials(task, n_trials, seed=seed).to(model_device(model))
    generator = Seeds.from_seed(seed).generator("units")

    def p_choice(clamp=None) -> float:
        outputs = run_trials(model, trials, seed=seed, intervention=clamp).outputs
        return float((task.choices(outputs, trials) == 1).float().mean())

    def both(units) -> list[float]:  # [2]: positive, negative
        return [p_choice(values.clamp(units, sign)) for sign in _SIGNS]

    targeted = torch.tensor([both(order[:k]) for k in ks]).reshape(len(ks), 2)
    sets = [random_unit_sets(n_rec, k, n_draws, generator=generator) for k in ks]
    random = torch.tensor([[both(units) for units in draws] for draws in sets])
    random = random.reshape(len(ks), n_draws, 2)
    return ClampSwing(
        ks=torch.as_tensor(list(ks), dtype=torch.long),
        intact=p_choice(),
        targeted_positive=targeted[:, 0],
        targeted_negative=targeted[:, 1],
        random_positive=random[..., 0],
        random_negative=random[..., 1],
        draws=sets,
    )
