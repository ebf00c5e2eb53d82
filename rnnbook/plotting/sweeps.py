"""A sweep's table as a figure: one metric against one grid value, a line per other value."""

from __future__ import annotations

import numpy as np

from rnnbook.plotting.style import axes_or_new, colors_for


def plot_sweep(
    table,
    x: str,
    y: str = "eval_accuracy",
    *,
    hue: str | None = None,
    log_x: bool = True,
    chance: float | None = None,
    ax=None,
):
    """``y`` against ``x`` from a sweep table (``rnnbook.sweeps.sweep``); returns the Axes.

    Every finished run (status other than ``failed``) is a dot; the line joins the mean over
    the seeds (rows that share ``x`` and ``hue``); ``hue`` (a grid column) gives one line
    per value. A failed run is drawn as a cross on the x axis, so a reader sees where training
    failed instead of a gap. ``chance``: a dotted guide line.
    """
    for column in (x, y, *([hue] if hue else [])):
        if column not in table.columns:
            raise ValueError(f"plot_sweep: no column {column!r}: the table has {list(table)}")
    ax = axes_or_new(ax)
    groups = list(dict.fromkeys(table[hue])) if hue else [None]
    for group, color in zip(groups, colors_for([str(g) for g in groups]), strict=True):
        rows = table if group is None else table[table[hue] == group]
        ok = rows[rows["status"] != "failed"]
        label = None if group is None else f"{hue} = {group}"
        ax.scatter(ok[x], ok[y], s=14, color=color, alpha=0.55, linewidths=0)
        means = ok.groupby(x, sort=True)[y].mean()
        ax.plot(means.index, means.to_numpy(), "-o", color=color, ms=4, label=label)
        failed = rows[rows["status"] == "failed"]
        if len(failed):
            bottom = np.full(len(failed), ax.get_ylim()[0])
            ax.scatter(failed[x], bottom, marker="x", color=color, s=30, clip_on=False)
    if chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y.replace("_", " "))
    if hue:
        ax.legend()
    return ax
