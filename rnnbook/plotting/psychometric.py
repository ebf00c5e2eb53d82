"""Psychometric curves: choice fractions per stimulus level with the fitted logistic."""

from __future__ import annotations

import numpy as np

from rnnbook.analysis.psychometric import Psychometric
from rnnbook.plotting.style import axes_or_new, colors_for


def plot_psychometric(
    curves: Psychometric | dict[str, Psychometric],
    *,
    xlabel: str = "signed coherence",
    ax=None,
):
    """Plot one or several named psychometric fits; returns the Axes.

    Each curve is drawn as its data (fraction of choice 1 per level, binomial standard-error
    bars) and its fitted logistic on a dense grid; dotted guides mark P = 0.5 and stimulus 0.
    """
    if isinstance(curves, Psychometric):
        curves = {"": curves}
    ax = axes_or_new(ax)
    ax.axhline(0.5, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.axvline(0.0, color="0.6", lw=0.8, ls=":", zorder=0)
    grid = _grid([c.levels for c in curves.values()])
    for (name, curve), color in zip(curves.items(), colors_for(curves), strict=True):
        ax.errorbar(curve.levels, curve.p_choice, yerr=curve.p_choice_sem, fmt="o", color=color)
        ax.plot(grid, curve.predict(grid), color=color, label=name or None)
    ax.set_ylim(-0.03, 1.03)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("P(choose right)")
    if any(curves):
        ax.legend()
    return ax


def _grid(levels: list[np.ndarray], n: int = 301) -> np.ndarray:
    """[n] a dense grid spanning all levels, with 3% margins."""
    lo = min(float(x.min()) for x in levels)
    hi = max(float(x.max()) for x in levels)
    pad = 0.03 * (hi - lo)
    return np.linspace(lo - pad, hi + pad, n)
