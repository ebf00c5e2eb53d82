"""Figures of the integration & memory study: trials, precision, weight alignment, PCA,
training histories over seeds. Each takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib as mpl
import numpy as np

from rnnbook.analysis.pca import PCA
from rnnbook.analysis.precision import DurationPrecision
from rnnbook.analysis.statistics import Correlation
from rnnbook.plotting.learning import moving_average
from rnnbook.plotting.style import PALETTE, axes_or_new
from rnnbook.training.history import History

UNTRAINED, TRAINED = "#999999", PALETTE[0]


def duration_colors(n: int) -> list:
    """One colour per pulse duration, ordered like the durations (viridis, dark to light)."""
    return list(mpl.colormaps["viridis"](np.linspace(0.0, 0.75, n)))


def plot_pulse_trials(precision: DurationPrecision, *, ax=None):
    """Input (thin), target (dashed, where it is judged) and output (solid) of each trial."""
    ax = axes_or_new(ax)
    t = precision.times / 1000.0  # s
    colors = duration_colors(len(precision.durations))
    judged = precision.mask[0] > 0
    ax.axvspan(t[judged][0], t[-1], color="0.93", lw=0, zorder=0)
    for i, (duration, color) in enumerate(zip(precision.durations, colors, strict=True)):
        ax.plot(t, precision.inputs[i], color=color, lw=0.8, alpha=0.6)
        ax.plot(t[judged], precision.targets[i, judged], color=color, ls="--", lw=1.2)
        ax.plot(t, precision.outputs[i], color=color, label=f"{duration:.0f} ms")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("input, target, output")
    ax.legend(title="pulse", loc="upper left")
    return ax


def plot_precision_by_duration(
    before: np.ndarray, after: np.ndarray, durations: Sequence[float], *, ax=None
):
    """Precision (MSE, log scale) of each network before and after training, per duration.

    before, after: [S, D] one row per network. Dots are networks, bars their medians.
    """
    ax = axes_or_new(ax)
    rng = np.random.default_rng(0)  # jitter only
    for j in range(len(durations)):
        for offset, values, color, label in (
            (-0.17, before[:, j], UNTRAINED, "untrained"),
            (0.17, after[:, j], TRAINED, "trained"),
        ):
            x = j + offset + rng.uniform(-0.06, 0.06, len(values))
            ax.scatter(x, values, s=10, color=color, alpha=0.7, label=label if j == 0 else None)
            ax.hlines(np.median(values), j + offset - 0.13, j + offset + 0.13, color="k", lw=1.5)
    ax.set_yscale("log")
    ax.set_xticks(range(len(durations)), [f"{d:.0f}" for d in durations])
    ax.set_xlabel("pulse duration (ms)")
    ax.set_ylabel("MSE (lower is better)")
    ax.legend(loc="lower left")
    return ax


def plot_against_precision(
    precision: np.ndarray,
    values: np.ndarray,
    stats: Correlation,
    *,
    color: str,
    ylabel: str,
    ax=None,
):
    """One quantity per network against its precision (log x), with Pearson's r and
    Spearman's ρ (their p-values and intervals belong in the text, corrected as a family)."""
    ax = axes_or_new(ax)
    ax.scatter(precision, values, s=16, color=color, edgecolor="white", lw=0.4)
    ax.set_xscale("log")
    ax.set_xlabel("precision (mean MSE)")
    ax.set_ylabel(ylabel)
    ax.text(0.03, 0.97, f"r = {stats.r:.2f}\nρ = {stats.rho:.2f}", transform=ax.transAxes, va="top")
    return ax


def plot_explained_variance(
    pcas: Mapping[str, PCA], *, n: int = 20, colors: Sequence[str] | None = None, ax=None
):
    """Cumulative fraction of variance explained by the first ``n`` components of each PCA
    (``colors``: one per PCA; default the palette's)."""
    ax = axes_or_new(ax)
    for (name, fitted), color in zip(pcas.items(), colors or PALETTE, strict=False):
        ratio = np.cumsum(fitted.explained_variance_ratio[:n])
        ax.plot(np.arange(1, len(ratio) + 1), ratio, "o-", ms=3, color=color, label=name)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("principal components")
    ax.set_ylabel("cumulative variance explained")
    ax.legend(loc="lower right")
    return ax


def plot_pc_trajectories(
    fitted: PCA,
    rates: np.ndarray,
    durations: Sequence[float],
    *,
    times: np.ndarray,
    window_ms: tuple[float, float],
    ax=None,
):
    """Trials ``rates`` [D, T, N] projected on the first two components of ``fitted``: thin
    before ``window_ms``, thick inside it; a dot marks the end of the window."""
    ax = axes_or_new(ax)
    z = fitted.project(rates)  # [D, T, k]
    inside = (times >= window_ms[0]) & (times < window_ms[1])
    colors = duration_colors(len(durations))
    for i, (duration, color) in enumerate(zip(durations, colors, strict=True)):
        ax.plot(z[i, :, 0], z[i, :, 1], color=color, lw=0.6, alpha=0.6)
        ax.plot(z[i, inside, 0], z[i, inside, 1], color=color, lw=2, label=f"{duration:.0f} ms")
        last = np.flatnonzero(inside)[-1]
        ax.scatter(z[i, last, 0], z[i, last, 1], color=color, s=18, edgecolor="k", zorder=3)
    ratio = fitted.explained_variance_ratio
    ax.set_xlabel(f"PC1 ({100 * ratio[0]:.0f}% var)")
    ax.set_ylabel(f"PC2 ({100 * ratio[1]:.0f}% var)")
    ax.legend(title="pulse")
    return ax


def plot_seed_histories(
    histories: Sequence[History],
    *,
    key: str = "loss",
    smooth: int | None = None,
    label: str | None = None,
    ax=None,
):
    """A training history over networks: each network thin, the median bold (log scale).

    key: ``"loss"``, ``"grad_norm"``, or a parameter name of ``History.param_grad_norm``
    (e.g. ``"input.weight"``). ``smooth``: moving-average window (default 1/50 of the run).
    ``label``: legend label of the median (default: ``key``). Colours: the loss blue, input
    weights green, readout weights orange (as in the study's other figures).
    """
    ax = axes_or_new(ax)
    curves = np.array([_series(h, key) for h in histories])  # [S, steps]
    window = max(1, curves.shape[1] // 50) if smooth is None else smooth
    curves = np.array([moving_average(c, window) for c in curves])
    steps = np.arange(1, curves.shape[1] + 1)
    color = {"input": PALETTE[2], "readout": PALETTE[1]}.get(key.split(".")[0], PALETTE[0])
    for curve in curves:
        ax.plot(steps, curve, color=color, lw=0.5, alpha=0.25)
    ax.plot(steps, np.median(curves, axis=0), color=color, lw=1.8, label=label or key)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    return ax


def _series(history: History, key: str) -> list[float]:
    if key in ("loss", "grad_norm"):
        return getattr(history, key)
    if key not in history.param_grad_norm:
        raise ValueError(
            f"key = {key!r}: choose loss, grad_norm or {sorted(history.param_grad_norm)}"
        )
    return history.param_grad_norm[key]
