"""Condition-averaged population trajectories in principal-component space."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from rnnbook.analysis.pca import TrajectoryPCA
from rnnbook.plotting.style import axes_or_new


def plot_trajectories(
    pca: TrajectoryPCA,
    *,
    components: tuple[int, int] = (0, 1),
    cmap: str = "coolwarm",
    colorbar: bool = True,
    ax=None,
):
    """One line per condition level in the plane of two components; returns the Axes.

    Lines are coloured by the level's signed value on a diverging colormap centred at 0; a
    circle marks each trajectory's first step; the colorbar is labelled with ``pca.key``.
    """
    i, j = components
    k = pca.projections.shape[-1]
    if not (0 <= i < k and 0 <= j < k) or i == j:
        raise ValueError(f"components = {components!r}: want two different indices in [0, {k})")
    ax = axes_or_new(ax)
    vmax = float(np.abs(pca.levels).max()) or 1.0
    norm = mpl.colors.Normalize(-vmax, vmax)
    colormap = mpl.colormaps[cmap]
    colors = colormap(norm(pca.levels))  # [C, 4]
    for trajectory, color in zip(pca.projections, colors, strict=True):  # [T, k] each
        ax.plot(trajectory[:, i], trajectory[:, j], color=color)
    start = pca.projections[:, 0]  # [C, k]
    ax.scatter(start[:, i], start[:, j], color=colors, s=16, edgecolor="0.2", lw=0.5, zorder=3)
    ratio = pca.explained_variance_ratio
    ax.set_xlabel(f"PC{i + 1} ({100 * ratio[i]:.0f}% var)")
    ax.set_ylabel(f"PC{j + 1} ({100 * ratio[j]:.0f}% var)")
    if colorbar:
        mappable = mpl.cm.ScalarMappable(norm=norm, cmap=colormap)
        ax.figure.colorbar(mappable, ax=ax, label=pca.key)
    return ax
