"""Accuracy against a condition's level (e.g. |coherence|), with binomial error bars."""

from __future__ import annotations

from rnnbook.analysis.accuracy import ConditionAccuracy
from rnnbook.plotting.style import axes_or_new, colors_for


def plot_accuracy_by_condition(
    accuracies: ConditionAccuracy | dict[str, ConditionAccuracy],
    *,
    chance: float | None = 0.5,
    ax=None,
):
    """Accuracy per level, one line with standard-error bars per named result; returns the Axes.

    chance: accuracy at chance, drawn as a dotted guide line (None for none).
    """
    if isinstance(accuracies, ConditionAccuracy):
        accuracies = {"": accuracies}
    ax = axes_or_new(ax)
    if chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    for (name, acc), color in zip(accuracies.items(), colors_for(accuracies), strict=True):
        ax.errorbar(
            acc.levels, acc.accuracy, yerr=acc.sem, fmt="-o", color=color, label=name or None
        )
    first = next(iter(accuracies.values()))
    ax.set_xlabel(f"|{first.key}|" if first.absolute else first.key)
    ax.set_ylabel("accuracy")
    ax.set_ylim(top=1.02)
    if any(accuracies):
        ax.legend()
    return ax
