"""Figures of the working-memory page (seed 003): the mixture-model fits against set size, the
fixed points of a delay by kind, and a cyclic colour map for target angles.

Colours keep one meaning on that page: each mixture model has its own (``FIT_COLORS``), the
networks are blue, humans black, the original's model grey; fixed points are black, told
apart by marker (``KIND_MARKERS``)."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import ListedColormap, hsv_to_rgb
from matplotlib.lines import Line2D

from rnnbook.plotting.style import axes_or_new

# A cyclic map for angles: the hue circle at 80 % saturation and value, so that no angle
# (yellow and cyan included) is drawn near-white on white.
ANGLE_CMAP = ListedColormap(
    hsv_to_rgb(np.stack([np.linspace(0, 1, 256, endpoint=False), *np.full((2, 256), 0.8)], -1)),
    name="angle",
)
FIT_COLORS = {"ZL": "#009E73", "GU": "#E69F00", "swap": "#D55E00"}  # one per mixture model
FIT_NAMES = {"ZL": "Zhang–Luck", "GU": "Gaussian–uniform", "swap": "swap model"}
KIND_MARKERS = {  # kind of fixed point -> (marker, face colour); edges black
    "stable": ("o", "k"),
    "marginal": ("D", "white"),
    "saddle": ("o", "white"),
    "source": ("s", "white"),
}
FIT_PANELS = (  # (y label, fits columns) per panel
    ("memory weight", ("ZL w", "GU w", "swap target")),
    ("SD of memory (rad)", ("ZL sd", "GU sd", "swap sd")),
    ("rate (β solid, γ dashed)", ("swap rate", "swap guess")),
)


def plot_mixture_fits(fits, set_sizes, *, fig=None):
    """The mixture fits against set size, on three panels and a legend (2 × 2, 6.6 in wide):
    the weight of the memory component, its SD and the swap model's swap rate β and guess rate
    γ. ``fits``: one row per network and set size, with columns ``set size`` and those of
    ``FIT_PANELS`` (each optionally with ``"<column> se"``, drawn as ± 1.96 SE). A line is the
    mean over networks, a dot each network, in the model's colour (``FIT_COLORS``). Draws on
    ``fig`` (default: a new figure); returns the Figure."""
    if fig is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(6.6, 5.0))
    axes = fig.subplots(2, 2).flat
    set_sizes = list(set_sizes)
    for ax, (ylabel, columns) in zip(axes, FIT_PANELS, strict=False):
        for k, column in enumerate(columns):
            color = FIT_COLORS[column.split()[0]]
            line, marker = ("--", "s") if column == "swap guess" else ("-", "o")
            mean = fits.groupby("set size")[column].mean()
            ax.plot(mean.index, mean.to_numpy(), line, color=color)
            se = fits[f"{column} se"] if f"{column} se" in fits else 0 * fits[column]
            shift = 1 + 0.03 * (k - 1)  # side by side on the log axis
            ax.errorbar(fits["set size"] * shift, fits[column], 1.96 * se, fmt=marker,
                        color=color, ms=3, alpha=0.7)  # fmt: skip
        ax.set(xscale="log", xlabel="set size (items)", ylabel=ylabel)
        ax.set(xlim=(0.8, 1.25 * max(set_sizes)))
        ax.set_xticks(set_sizes, set_sizes, minor=False)
        ax.set_xticks([], minor=True)
    axes[0].set_ylim(0, 1.05)
    axes[2].set_ylim(0, 1.05)
    handles = [
        Line2D([], [], color=c, marker="o", label=FIT_NAMES[m]) for m, c in FIT_COLORS.items()
    ]
    handles.append(Line2D([], [], color=FIT_COLORS["swap"], ls="--", marker="s",
                          label="swap model: guess rate γ"))  # fmt: skip
    axes[3].legend(handles=handles, loc="center", title="mixture model")
    axes[3].axis("off")
    return fig


def scatter_fixed_points(points, kinds, *, ax=None):
    """Fixed points ``points`` [P, 2] (e.g. projected on two principal components) in black,
    one marker per kind of ``kinds`` [P] (``FixedPoints.kinds``; ``KIND_MARKERS``: stable a
    filled circle, marginal an open diamond, saddle an open circle, source an open square),
    each kind present labelled once; returns the Axes."""
    ax = axes_or_new(ax)
    points, kinds = np.asarray(points, dtype=float), np.asarray(kinds)
    for kind, (marker, face) in KIND_MARKERS.items():
        shown = points[kinds == kind]
        if len(shown):
            ax.scatter(shown[:, 0], shown[:, 1], s=45, marker=marker, facecolors=face,
                       edgecolors="k", linewidths=1.2, zorder=4,
                       label=f"{kind} fixed point")  # fmt: skip
    return ax
