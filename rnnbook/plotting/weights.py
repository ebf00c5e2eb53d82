"""Learning curves of groups of networks, and the recurrent weights of E/I networks: their signs,
magnitudes and singular values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from rnnbook.plotting.learning import moving_average
from rnnbook.plotting.style import axes_or_new, colors_for
from rnnbook.training.history import History

CURVES = ("eval_accuracy", "accuracy", "loss", "eval_loss")


def _curve(history: History, metric: str, smooth: int) -> tuple[np.ndarray, np.ndarray]:
    if metric.startswith("eval_"):
        return np.asarray(history.eval_step), np.asarray(getattr(history, metric), dtype=float)
    values = np.asarray(getattr(history, metric), dtype=float)
    return np.asarray(history.step), moving_average(values, smooth)


def plot_group_curves(
    groups: Mapping[str, Sequence[History]],
    *,
    metric: str = "eval_accuracy",
    smooth: int = 25,
    threshold: float | None = None,
    linestyle: str = "-",
    suffix: str = "",
    ax=None,
):
    """One learning curve per group of networks (e.g. one optimiser over seeds): the mean over
    the group's networks as a line and the range (min to max) as a band; returns the Axes.

    metric: ``eval_accuracy`` or ``eval_loss`` (held-out, at each evaluation), or ``accuracy``
    or ``loss`` (every training batch, smoothed by a trailing moving average of ``smooth``
    steps). ``threshold``: a dotted guide line (e.g. the 80 % criterion). Colours follow the
    group names (``colors_for``: a known regime such as GD or EG keeps its colour), so several
    calls on one Axes (e.g. one per network size, told apart by ``linestyle`` and the legend
    ``suffix``) colour the same group alike.
    """
    if metric not in CURVES:
        raise ValueError(f"plot_group_curves(metric={metric!r}): choose one of {CURVES}")
    ax = axes_or_new(ax)
    for (label, histories), color in zip(groups.items(), colors_for(groups), strict=True):
        curves = [_curve(h, metric, smooth) for h in histories]
        length = min(len(y) for _, y in curves)
        steps = curves[0][0][:length]
        values = np.array([y[:length] for _, y in curves])  # [networks, points]
        ax.fill_between(steps, values.min(0), values.max(0), color=color, alpha=0.2, lw=0)
        name = f"{label}{suffix} (n = {len(curves)})"
        ax.plot(steps, values.mean(0), color=color, ls=linestyle, label=name)
    if threshold is not None:
        ax.axhline(threshold, color="0.5", lw=0.8, ls=":", zorder=0)
    if metric.endswith("loss"):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel(metric.replace("eval_", "validation ").replace("_", " "))
    ax.legend()
    return ax


def _sorted_units(signs: torch.Tensor) -> np.ndarray:
    """Unit order with the excitatory units first (stable within each population)."""
    return np.argsort(-np.asarray(signs), kind="stable")


def plot_weight_signs(weight: torch.Tensor, signs: torch.Tensor, *, ax=None):
    """The recurrent weights W[i, j] (to i from j) with units sorted E then I, on a symmetric
    colour scale (red excitatory, blue inhibitory; the scale clipped at the 99th percentile of
    |W|); returns the Axes. A Dale network shows all-red E columns and all-blue I columns."""
    ax = axes_or_new(ax)
    order = _sorted_units(signs)
    w = np.asarray(weight.detach().cpu())[np.ix_(order, order)]
    limit = float(np.quantile(np.abs(w), 0.99)) or 1.0
    image = ax.imshow(w, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
    n_e = int((np.asarray(signs) > 0).sum())
    for edge in (n_e - 0.5,):
        ax.axvline(edge, color="0.2", lw=0.8)
        ax.axhline(edge, color="0.2", lw=0.8)
    ax.set_xlabel(f"from unit j (E: {n_e}, then I)")
    ax.set_ylabel("to unit i")
    ax.figure.colorbar(image, ax=ax, shrink=0.8, label="weight")
    return ax


def plot_weight_magnitudes(
    weights: Mapping[str, torch.Tensor], signs: torch.Tensor, *, bins: int = 40, ax=None
):
    """Histograms of log10 |W| of the excitatory and the inhibitory columns of each named
    recurrent weight matrix (solid: E, dashed: I); returns the Axes. Multiplicative updates (EG)
    spread magnitudes over decades; additive ones (GD) pile them up near zero."""
    ax = axes_or_new(ax)
    excitatory = np.asarray(signs) > 0
    logs = {k: np.log10(np.abs(np.asarray(w.detach().cpu())) + 1e-12) for k, w in weights.items()}
    low = min(float(np.quantile(v, 0.005)) for v in logs.values())
    high = max(float(v.max()) for v in logs.values())
    edges = np.linspace(low, high, bins + 1)
    for (label, values), color in zip(logs.items(), colors_for(logs), strict=True):
        for population, style in ((excitatory, "-"), (~excitatory, "--")):
            counts, _ = np.histogram(values[:, population], bins=edges, density=True)
            name = f"{label}, {'E' if style == '-' else 'I'}"
            ax.stairs(counts, edges, color=color, ls=style, label=name)
    ax.set_xlabel("log10 |weight|")
    ax.set_ylabel("density")
    ax.legend()
    return ax


def plot_singular_values(weights: Mapping[str, torch.Tensor], *, top: int = 40, ax=None):
    """The largest ``top`` singular values of each named weight matrix, in decreasing order;
    returns the Axes. σ1 is what the initialisation normalises (seed 000's "spectral radius");
    σ1 − σ2 is the spectral gap."""
    ax = axes_or_new(ax)
    for (label, weight), color in zip(weights.items(), colors_for(weights), strict=True):
        values = torch.linalg.svdvals(weight.detach().double().cpu()).numpy()[:top]
        ax.plot(np.arange(1, len(values) + 1), values, "o-", ms=3, color=color, label=label)
    ax.set_xlabel("rank k")
    ax.set_ylabel("singular value σk")
    ax.legend()
    return ax
