"""Condition-averaged population trajectories in principal-component space."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np

from rnnbook.analysis.pca import TrajectoryPCA
from rnnbook.plotting.style import axes_or_new

# Signed levels: dark purple (negative) through mid-grey (0) to dark orange (positive); no
# colour lighter than mid-grey, so that weak levels stay visible on white (relative
# luminance <= 0.3 everywhere).
SIGNED_CMAP = mpl.colors.LinearSegmentedColormap.from_list(
    "rnnbook_signed", ["#2d004b", "#7b5ca8", "#8c8c8c", "#d27a1e", "#7f3b08"]
)


def level_positions(levels) -> np.ndarray:
    """[C] colormap positions in [0, 1] of signed ``levels`` [C], by rank: 0.5 for 0; the
    k-th smallest nonzero |level| of m at 0.5 +- 0.5 k / m (+ for positive levels), so that
    weak levels are as distinct as strong ones however the levels are spaced."""
    levels = np.asarray(levels, dtype=float)
    magnitudes = np.unique(np.abs(levels[levels != 0]))
    if len(magnitudes) == 0:
        return np.full(len(levels), 0.5)
    rank = np.searchsorted(magnitudes, np.abs(levels)) + 1.0  # 1..m for nonzero levels
    return 0.5 + 0.5 * np.sign(levels) * rank / len(magnitudes)


def plot_trajectories(
    pca: TrajectoryPCA,
    *,
    components: tuple[int, int] = (0, 1),
    cmap=SIGNED_CMAP,
    colorbar: bool = True,
    ax=None,
):
    """One line per condition level in the plane of two components; returns the Axes.

    Lines are coloured by the level's signed rank on a diverging colormap centred at 0
    (:func:`level_positions`; default :data:`SIGNED_CMAP`: dark ends, grey at 0) and drawn
    strongest first, so that the weak levels lie on top; a circle marks each trajectory's
    first step; both axes have the same scale (PC units); the colorbar, labelled with
    ``pca.key``, names the levels.
    """
    i, j = components
    k = pca.projections.shape[-1]
    if not (0 <= i < k and 0 <= j < k) or i == j:
        raise ValueError(f"components = {components!r}: want two different indices in [0, {k})")
    ax = axes_or_new(ax)
    colormap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    positions = level_positions(pca.levels)  # [C]
    colors = colormap(positions)  # [C, 4]
    order = np.argsort(-np.abs(pca.levels), kind="stable")  # strongest first, weakest on top
    for c in order:
        trajectory = pca.projections[c]  # [T, k]
        ax.plot(trajectory[:, i], trajectory[:, j], color=colors[c])
    start = pca.projections[:, 0]  # [C, k]
    ax.scatter(start[:, i], start[:, j], color=colors, s=16, edgecolor="0.2", lw=0.5, zorder=3)
    ratio = pca.explained_variance_ratio
    ax.set_xlabel(f"PC{i + 1} ({100 * ratio[i]:.0f}% var)")
    ax.set_ylabel(f"PC{j + 1} ({100 * ratio[j]:.0f}% var)")
    ax.set_aspect("equal", adjustable="datalim")
    if colorbar:
        _level_colorbar(ax, colormap, pca.levels, positions, pca.key)
    return ax


def _level_colorbar(ax, colormap, levels, positions, label: str, max_ticks: int = 9) -> None:
    """A colorbar over [0, 1] with a tick at each level's position; with more than
    ``max_ticks`` levels, labels on the two ends, the level nearest 0 and every other level
    from it, none next to an end."""
    mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=colormap)
    bar = ax.figure.colorbar(mappable, ax=ax, label=label)
    n = len(levels)
    keep = list(range(n))
    if n > max_ticks:
        middle = int(np.argmin(np.abs(levels)))
        inner = {i for i in range(2, n - 2) if (i - middle) % 2 == 0}
        keep = sorted(inner | {0, middle, n - 1})
    labels = [f"{levels[i] + 0.0:g}" if i in keep else "" for i in range(n)]  # + 0.0: no "-0"
    bar.set_ticks(positions, labels=labels)
