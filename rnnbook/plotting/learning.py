"""Learning curves: training loss per step, or held-out accuracy per evaluation."""

from __future__ import annotations

import numpy as np

from rnnbook.plotting.style import axes_or_new, colors_for
from rnnbook.training.history import History


def moving_average(values, window: int) -> np.ndarray:
    """Trailing moving average of ``values`` [S] over ``window`` steps, [S]; the first steps
    average the steps there are so far."""
    x = np.asarray(values, dtype=np.float64)
    window = max(1, min(int(window), len(x)))
    total = np.concatenate([[0.0], np.cumsum(x)])  # total[i] = sum of x[:i]
    end = np.arange(1, len(x) + 1)
    start = np.maximum(end - window, 0)
    return (total[end] - total[start]) / (end - start)


def plot_learning_curves(
    histories: dict[str, History] | History,
    *,
    metric: str = "loss",
    smooth: int | None = None,
    chance: float | None = None,
    ax=None,
):
    """One learning curve per named training run; returns the Axes.

    metric: ``"loss"``: the training loss of every step, smoothed by a trailing moving average
            of ``smooth`` steps (default: 1/50 of the run), on a log axis; ``"accuracy"``: the
            held-out accuracy at each evaluation (``eval_step``, ``eval_accuracy``).
    chance: accuracy at chance, drawn as a dotted guide line (metric ``"accuracy"`` only).
    History events (e.g. a curriculum step) are marked by open circles on the curve.
    """
    if metric not in ("loss", "accuracy"):
        raise ValueError(f"metric = {metric!r}: choose 'loss' or 'accuracy'")
    if isinstance(histories, History):
        histories = {"": histories}
    ax = axes_or_new(ax)
    for (name, history), color in zip(histories.items(), colors_for(histories), strict=True):
        steps, values = _curve(history, metric, smooth)
        ax.plot(steps, values, color=color, label=name or None)
        _mark_events(ax, history.events, steps, values, color)
    if metric == "loss":
        ax.set_yscale("log")
    elif chance is not None:
        ax.axhline(chance, color="0.6", lw=0.8, ls=":", zorder=0)
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss" if metric == "loss" else "accuracy")
    if any(histories):
        ax.legend()
    return ax


def _curve(history: History, metric: str, smooth: int | None):
    if metric == "accuracy":
        return np.asarray(history.eval_step), np.asarray(history.eval_accuracy, dtype=float)
    window = max(1, history.n_steps // 50) if smooth is None else smooth
    return np.asarray(history.step), moving_average(history.loss, window)


def _mark_events(ax, events, steps: np.ndarray, values: np.ndarray, color) -> None:
    if not events or len(steps) == 0:
        return
    at = np.array([step for step, _ in events], dtype=float)
    ax.scatter(at, np.interp(at, steps, values), s=18, facecolor="white", edgecolor=color, zorder=3)
