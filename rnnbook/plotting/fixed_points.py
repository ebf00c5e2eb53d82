"""Fixed points in the plane of two principal components, with their unstable directions."""

from __future__ import annotations

import numpy as np

from rnnbook.analysis.fixed_points import FixedPoints
from rnnbook.plotting.style import axes_or_new


def plot_fixed_points(
    fixed_points: FixedPoints,
    pca,
    *,
    use: str | None = None,
    components: tuple[int, int] = (0, 1),
    trajectories=None,
    trajectory_color="0.75",
    n_directions: int = 1,
    direction_length: float | None = None,
    color: str = "k",
    slow_color: str = "0.55",
    direction_color: str = "#D55E00",
    legend: bool = True,
    ax=None,
):
    """Fixed points projected on two principal components; returns the Axes.

    Stable points are filled circles, unstable ones open circles; slow points (found with
    ``keep_slow``) are smaller grey diamonds, filled or open likewise. Through each unstable
    point a segment of ``direction_length`` (in activity units; default a fifth of the data's
    extent in the plane) runs along each of its first ``n_directions`` unstable eigenvectors.

    pca:          a ``rnnbook.analysis`` ``PCA`` or ``TrajectoryPCA`` (anything with
                  ``project`` and ``explained_variance_ratio``).
    use:          the space the PCA was fitted in, ``"rates"`` or ``"states"`` (default: the
                  PCA's ``use`` if it has one, else ``"rates"`` when the points have rates).
    trajectories: optional activity [B, T, N] or [T, N] in that space, drawn first as thin
                  lines (``trajectory_color``: one colour, or one per trajectory).
    """
    use = use or getattr(pca, "use", None) or ("states" if fixed_points.rates is None else "rates")
    if use not in ("states", "rates"):
        raise ValueError(f"use = {use!r}: choose 'states' or 'rates'")
    if use == "rates" and fixed_points.rates is None:
        raise ValueError("use='rates' needs the points' rates: the model had no `activation`")
    i, j = components
    k = len(pca.explained_variance_ratio)
    if not (0 <= i < k and 0 <= j < k) or i == j:
        raise ValueError(f"components = {components!r}: want two different indices in [0, {k})")
    ax = axes_or_new(ax)
    points = (fixed_points.rates if use == "rates" else fixed_points.x).numpy()  # [P, N]
    plane = pca.project(points)[:, [i, j]]  # [P, 2]
    extent = [plane]
    if trajectories is not None:
        extent.append(_draw_trajectories(ax, pca, trajectories, (i, j), trajectory_color))
    if direction_length is None:
        span = np.ptp(np.concatenate(extent), axis=0).max() if len(np.concatenate(extent)) else 0
        direction_length = 0.2 * span or 1.0
    _draw_directions(
        ax, pca, fixed_points, points, (i, j), use, n_directions, direction_length, direction_color
    )
    _draw_points(ax, fixed_points, plane, color, slow_color)
    ratio = pca.explained_variance_ratio
    ax.set_xlabel(f"PC{i + 1} ({100 * ratio[i]:.0f}% var)")
    ax.set_ylabel(f"PC{j + 1} ({100 * ratio[j]:.0f}% var)")
    if legend and len(fixed_points):
        ax.legend()
    return ax


def _draw_points(ax, fixed_points: FixedPoints, plane, color, slow_color) -> None:
    """Stable points filled, unstable open; slow points as smaller diamonds in ``slow_color``."""
    stable, fixed = fixed_points.is_stable.numpy(), fixed_points.is_fixed.numpy()
    for group, label, filled, marker, c in (
        (stable & fixed, "stable", True, "o", color),
        (~stable & fixed, "unstable", False, "o", color),
        (stable & ~fixed, "slow, stable", True, "D", slow_color),
        (~stable & ~fixed, "slow, unstable", False, "D", slow_color),
    ):
        if group.any():
            ax.scatter(
                *plane[group].T,
                s=36 if marker == "o" else 20,
                marker=marker,
                facecolor=c if filled else "white",
                edgecolor=c,
                lw=1.2,
                zorder=4,
                label=label,
            )


def _draw_trajectories(ax, pca, trajectories, components, color) -> np.ndarray:
    """Draw each trajectory [T, N] of ``trajectories`` [B, T, N]; return all points [B*T, 2]."""
    activity = np.asarray(
        trajectories.detach().cpu() if hasattr(trajectories, "detach") else trajectories
    )
    activity = activity[None] if activity.ndim == 2 else activity
    plane = pca.project(activity)[..., list(components)]  # [B, T, 2]
    colors = [color] * len(plane) if isinstance(color, str) else list(color)
    for line, c in zip(plane, colors, strict=True):
        ax.plot(line[:, 0], line[:, 1], color=c, lw=0.8, zorder=1)
    return plane.reshape(-1, 2)


def _draw_directions(ax, pca, fixed_points, points, components, use, n, length, color):
    """A segment of ``length`` through each unstable point along each unstable eigenvector."""
    if n < 1 or not len(fixed_points):
        return
    directions = fixed_points.unstable_directions(n, space=use).numpy()  # [P, n, N]
    for point, dirs, n_unstable in zip(
        points, directions, fixed_points.n_unstable.tolist(), strict=True
    ):
        for d in dirs[: min(n, n_unstable)]:
            ends = pca.project(np.stack([point - length / 2 * d, point + length / 2 * d]))
            ax.plot(*ends[:, list(components)].T, color=color, lw=1.5, zorder=3)
