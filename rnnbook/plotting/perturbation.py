"""Causal perturbations: unit saliency, what lesions cost, targeted against random interventions.

Each function draws the result of ``rnnbook.analysis.perturbation`` (or numbers computed the
same way) on the Axes it is given and returns it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rnnbook.analysis.arrays import as_numpy
from rnnbook.analysis.perturbation import LesionComparison, LesionCurve, Saliency
from rnnbook.plotting.style import PALETTE, axes_or_new, color_for

_OTHER = "0.6"  # grey of the units, or random draws, that are not the point of a figure
_GUIDE = {"color": "0.6", "lw": 0.8, "ls": ":", "zorder": 0}
_TARGETED = color_for("lesioned")


def plot_saliency(saliency: Saliency, k: int | None = None, *, ax=None):
    """Every unit's saliency score, sorted from the largest down, with the top ``k`` units
    highlighted; returns the Axes.

    Two bar containers: the top ``k`` units (labelled ``top k``, absent when ``k`` is None or
    0) and the others. The x axis is the rank (1 = most salient).
    """
    scores = as_numpy(saliency.scores)[as_numpy(saliency.order).astype(int)]  # [N], decreasing
    k = 0 if k is None else k
    if not 0 <= k <= len(scores):
        raise ValueError(f"k = {k!r} is out of range: allowed 0 .. {len(scores)}")
    ax = axes_or_new(ax)
    rank = np.arange(1, len(scores) + 1)
    ax.axhline(0.0, **_GUIDE)
    if k:
        ax.bar(rank[:k], scores[:k], width=0.8, color=_TARGETED, label=f"top {k}")
    ax.bar(rank[k:], scores[k:], width=0.8, color=_OTHER, label="other units" if k else None)
    ax.set_xlim(0, len(scores) + 1)
    ax.set_xlabel("unit rank")
    ax.set_ylabel(r"saliency $\partial \log p / \partial g$")
    if k:
        ax.legend()
    return ax


def plot_lesion_cost(saliency: Saliency, costs, k: int | None = None, *, ax=None):
    """Measured cost of lesioning each unit alone against its saliency, the first-order
    estimate of that cost; returns the Axes.

    costs: [N] the drop in the objective the saliency differentiates (mean log-probability of
    the correct choice) when unit i alone is lesioned, on the same trials. A dashed identity
    line marks a perfect first-order estimate; the top ``k`` units are highlighted.
    """
    scores, costs = as_numpy(saliency.scores), as_numpy(costs)
    if costs.shape != scores.shape:
        raise ValueError(f"costs has shape {costs.shape}; want one per unit, {scores.shape}")
    top = np.zeros(len(scores), dtype=bool)
    top[as_numpy(saliency.top(k or 0)).astype(int)] = True
    ax = axes_or_new(ax)
    ax.axhline(0.0, **_GUIDE)
    ax.axvline(0.0, **_GUIDE)
    span = [min(scores.min(), costs.min()), max(scores.max(), costs.max())]
    ax.plot(span, span, color="0.3", lw=0.8, ls="--", label="cost = saliency")
    ax.scatter(scores[~top], costs[~top], s=12, color=_OTHER, label="other units" if k else None)
    if k:
        ax.scatter(scores[top], costs[top], s=14, color=_TARGETED, label=f"top {k}", zorder=3)
    ax.set_xlabel("saliency (predicted cost)")
    ax.set_ylabel("measured cost of the lesion")
    ax.legend()
    return ax


def plot_targeted_vs_random(
    x,
    targeted,
    random,
    *,
    baseline: float | None = None,
    labels: tuple[str, str] = ("targeted", "random"),
    color: str | None = None,
    random_color: str = "0.35",
    xlabel: str = "number of units",
    ylabel: str | None = None,
    ax=None,
):
    """An effect of intervening on chosen units against the same intervention on random units,
    at several sizes; returns the Axes.

    x: [K] sizes (e.g. units lesioned); targeted: [K] the effect on the chosen units;
    random: [K, n_draws] (or K sequences) the effect on random draws of as many units, drawn
    as small dots with their mean ± standard deviation. ``baseline``: a dotted reference line
    (e.g. the intact network), labelled ``intact``. ``labels`` name the two series in the
    legend; ``color`` and ``random_color`` colour them. The x ticks are the sizes.
    """
    x, targeted = as_numpy(x), as_numpy(targeted)
    draws = [as_numpy(r).reshape(-1) for r in random]
    if not len(x) == len(targeted) == len(draws):
        raise ValueError(
            f"x, targeted and random have {len(x)}, {len(targeted)} and {len(draws)} entries: "
            "want one per size"
        )
    ax = axes_or_new(ax)
    if baseline is not None:
        ax.axhline(baseline, color="0.3", lw=0.8, ls=":", zorder=0, label="intact")
    for xi, d in zip(x, draws, strict=True):
        ax.scatter(np.full(len(d), xi), d, s=6, color=random_color, alpha=0.35, lw=0, zorder=1)
    mean = np.array([d.mean() for d in draws])
    sd = np.array([d.std(ddof=1) if len(d) > 1 else 0.0 for d in draws])
    ax.errorbar(x, mean, yerr=sd, fmt="-s", color=random_color, ms=3.5, capsize=2, label=labels[1])
    ax.plot(x, targeted, "-o", color=color or _TARGETED, label=labels[0], zorder=3)
    ax.set_xticks(x)
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    ax.legend()
    return ax


def plot_lesion_comparison(
    comparisons: Sequence[LesionComparison] | Mapping[object, LesionComparison],
    *,
    chance: float | None = 0.5,
    label: str = "targeted",
    color: str | None = None,
    random_color: str = "0.35",
    ax=None,
):
    """Accuracy after lesioning chosen units against as many random units, one comparison per
    number of units (``analysis.perturbation.lesion_comparison``); returns the Axes.

    The intact accuracy is a dotted line, chance a lighter one; random draws are dots with
    their mean ± standard deviation; ``label`` names the chosen units in the legend;
    ``color`` and ``random_color`` colour the chosen and the random lesions.
    """
    items = list(comparisons.values() if isinstance(comparisons, Mapping) else comparisons)
    if not items:
        raise ValueError("comparisons is empty: give at least one LesionComparison")
    items.sort(key=lambda c: len(c.units))
    ax = axes_or_new(ax)
    if chance is not None:
        ax.axhline(chance, **_GUIDE)
    return plot_targeted_vs_random(
        [len(c.units) for c in items],
        [c.targeted for c in items],
        [c.random for c in items],
        baseline=items[0].intact,
        labels=(label, "random"),
        color=color,
        random_color=random_color,
        xlabel="units lesioned",
        ylabel="accuracy",
        ax=ax,
    )


def plot_lesion_robustness(
    curve: LesionCurve,
    *,
    label: str | None = None,
    color: str | None = None,
    chance: float | None = None,
    ax=None,
):
    """Accuracy against the fraction of units lesioned at random
    (``analysis.perturbation.lesion_robustness``): the mean over draws with a ± one standard
    deviation band; returns the Axes. Call it once per network on the same Axes to compare
    networks; each takes ``color``, else the colour of its ``label`` (``color_for``).
    """
    fractions, mean, sd = (as_numpy(v) for v in (curve.fractions, curve.mean, curve.std))
    color = color or (color_for(label) if label else PALETTE[0])
    ax = axes_or_new(ax)
    if chance is not None:
        ax.axhline(chance, **_GUIDE)
    ax.fill_between(fractions, mean - sd, mean + sd, color=color, alpha=0.2, lw=0)
    ax.plot(fractions, mean, "-o", color=color, label=label)
    ax.set_xlabel("fraction of units lesioned")
    ax.set_ylabel("accuracy")
    if label:
        ax.legend()
    return ax
