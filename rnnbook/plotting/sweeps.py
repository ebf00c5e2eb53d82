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


def plot_variants(
    table,
    variant: str,
    y: str,
    *,
    hue: str | None = None,
    order=None,
    chance: float | None = None,
    ax=None,
):
    """``y`` per named variant (a categorical column, e.g. an ablation), side by side per
    ``hue``; returns the Axes.

    Each finished run is a dot, the mean over them a short bar with the SD as an error bar. A
    finished run whose ``y`` is infinite (a criterion never reached) is an open triangle at the
    top, and a failed run (status ``failed``) a cross at the bottom: nothing is left out.
    ``order``: the variants from left to right (default: as they first appear).
    """
    for column in (variant, y, *([hue] if hue else [])):
        if column not in table.columns:
            raise ValueError(f"plot_variants: no column {column!r}: the table has {list(table)}")
    ax = axes_or_new(ax)
    names = list(order) if order is not None else list(dict.fromkeys(table[variant]))
    groups = list(dict.fromkeys(table[hue])) if hue else [None]
    width = 0.7 / len(groups)
    finite = table[np.isfinite(table[y].astype(float)) & (table["status"] != "failed")][y]
    top = float(finite.max()) if len(finite) else 1.0
    bottom = min(0.0, float(finite.min())) if len(finite) else 0.0
    for k, (group, color) in enumerate(
        zip(groups, colors_for([str(g) for g in groups]), strict=True)
    ):
        rows = table if group is None else table[table[hue] == group]
        for i, name in enumerate(names):
            x = i + (k - (len(groups) - 1) / 2) * width
            cell = rows[rows[variant] == name]
            ok = cell[cell["status"] != "failed"]
            values = ok[y].astype(float).to_numpy()
            seen = values[np.isfinite(values)]
            ax.scatter(np.full(len(seen), x), seen, s=14, color=color, alpha=0.6, linewidths=0)
            never = int((~np.isfinite(values)).sum())
            if never:
                ax.scatter([x] * never, [top * 1.08] * never, marker="^", facecolors="none",
                           edgecolors=color, s=30, clip_on=False)  # fmt: skip
            if len(seen):
                sd = seen.std(ddof=1) if len(seen) > 1 else 0.0
                ax.errorbar(x, seen.mean(), yerr=sd, fmt="_", color=color, ms=12, capsize=2,
                            label=None if group is None or i else f"{hue} = {group}")  # fmt: skip
            n_failed = int((cell["status"] == "failed").sum())
            if n_failed:
                ax.scatter([x] * n_failed, [bottom] * n_failed, marker="x", color=color, s=30,
                           clip_on=False)  # fmt: skip
    if chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.set_xticks(range(len(names)), [str(n) for n in names], rotation=30, ha="right")
    ax.set_ylabel(y.replace("_", " "))
    if hue:
        ax.legend()
    return ax
